"""The vectorised learner contract and the learner registry.

A :class:`Learner` holds the state of B independent copies x N agents x K actions in arrays of
shape (B, N, K) (float64). One object drives a whole group of agents; one ``act`` and one ``update``
call per round, no Python loop over B, N or K::

    learner = Hedge(n_actions=K, batch=B, n_agents=N, utility_range=(lo, hi))
    a = learner.act(rng, context=None)                   # (B, N) int64
    learner.update(a, rewards, full=U, context=None)     # rewards (B, N), U (B, N, K)
    learner.policy, learner.average_policy               # (B, N, K)

Conventions
-----------
- ``n_actions`` is an int K or a sequence of per-agent action counts K_i (then ``n_agents`` is its
  length). Arrays are padded to K = max K_i; ``mask`` (1, N, K) marks the valid entries
  k < K_i. Padded actions have probability exactly 0, are never sampled or chosen, their state never
  updates, and every step-size formula uses the agent's own K_i.
- ``utility_range = (lo, hi)``: utilities are rescaled u -> (u - lo) / (hi - lo) into [0, 1]
  before any step-size formula applies (values outside the range are not clipped; they simply map
  outside [0, 1]).
- ``feedback``: "full" learners need ``full`` (deviation utilities U[b, i, k]: agent i's utility
  had it played k, others fixed); "bandit" learners see only ``rewards`` and refuse ``full``
  (the runner never passes deviation utilities to a bandit learner); "none" (baselines)
  ignore both.
- ``context``: optional dict of (B, N) int arrays: ``"state"`` (observation index, Q-learning),
  ``"truthful"`` (grid index of the truthful action, :class:`~coopsim.agents.Truthful`).
- ``average_policy`` = (1/T) sum_t p_t over the policies actually played (RM+ uses linear weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from coopsim.core.registry import Registry
from coopsim.core.validation import (
    ParameterTypeError,
    as_array,
    check_float,
    check_int,
    check_shape,
    check_sizes,
)

__all__ = ["Learner", "registry", "get"]

#: Learner registry (snake_case names -> classes); third-party learners join through the
#: ``coopsim.learners`` entry-point group.
registry = Registry("learner", entry_point_group="coopsim.learners")


def get(name: str, **params: Any) -> Learner:
    """Build the learner registered as ``name`` (e.g. ``get("hedge", n_actions=21)``)."""
    return registry.get(name, **params)


def _parse_n_actions(n_actions: Any) -> int | tuple[int, ...]:
    if isinstance(n_actions, (int, np.integer)) and not isinstance(n_actions, bool):
        return check_int(n_actions, "n_actions", lo=1)
    if isinstance(n_actions, (Sequence, np.ndarray)) and not isinstance(n_actions, str):
        ks = tuple(check_int(k, f"n_actions[{i}]", lo=1) for i, k in enumerate(np.asarray(n_actions).tolist()))
        if not ks:
            raise ValueError("n_actions: expected a positive integer or a non-empty sequence of them, got []")
        return ks
    raise TypeError(f"n_actions: expected a positive integer or a sequence of per-agent counts, got {n_actions!r}")


def _finite_fast(arr: np.ndarray) -> bool:
    """True when every entry is finite (large arrays: one reduction, no temporary; falls back to
    an elementwise check when the sum is not finite, e.g. on overflow)."""
    if arr.size <= 4096:
        return bool(np.isfinite(arr).all())
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum()):
            return True
    return bool(np.isfinite(arr).all())


class Learner:
    """Base class: shape binding, masks, reward rescaling, validation and policy averaging.

    Subclasses implement ``_init_state()``, ``_compute_policy(context)`` (returns (B, N, K)),
    ``_update(actions, u, U, context)`` with ``u`` the rescaled rewards (B, N) and ``U`` the
    rescaled deviation utilities (B, N, K) or None; they may override ``_act`` (default: sample
    the policy by cumulative sums).
    """

    #: "full" or "bandit"; a class attribute that a learner with a feedback option sets per instance
    feedback: str = "full"
    registry_name: ClassVar[str | None] = None
    #: average_policy weight of round t: "uniform" (1) or "linear" (t).
    averaging: ClassVar[str] = "uniform"
    #: True when the policy depends on ``context`` (recomputed at every ``act``).
    uses_context: ClassVar[bool] = False
    #: (B, N, K) float64 tables the learner holds at once, for the size guard of :meth:`bind`
    _state_copies: ClassVar[float] = 4

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        self.n_actions = _parse_n_actions(n_actions)
        try:
            lo, hi = utility_range
        except (TypeError, ValueError):
            raise TypeError(f"utility_range: expected a pair (lo, hi), got {utility_range!r}") from None
        self._set_range(lo, hi)
        if n_agents is not None:
            n_agents = check_int(n_agents, "n_agents", lo=1)
        if isinstance(self.n_actions, tuple):
            if n_agents is not None and n_agents != len(self.n_actions):
                raise ValueError(f"n_agents: expected {len(self.n_actions)} (the length of n_actions), got {n_agents}")
            n_agents = len(self.n_actions)
        # Typed as int: learners read them only once bound (bind() sets both; _require_bound guards).
        self.n_agents: int = n_agents  # type: ignore[assignment]  # None until bound when not given
        self.batch: int = None  # type: ignore[assignment]  # None until bind()
        if batch is not None:
            self.bind(batch, n_agents if n_agents is not None else 1)

    def _set_range(self, lo: Any, hi: Any) -> None:
        lo = check_float(lo, "utility_range[0]")
        hi = check_float(hi, "utility_range[1]")
        if not hi > lo:
            raise ValueError(f"utility_range: expected lo < hi, got ({lo}, {hi})")
        self.utility_range = (lo, hi)
        self.lo, self.scale = lo, hi - lo
        self._identity_scale = lo == 0.0 and hi == 1.0

    def set_utility_range(self, lo: float, hi: float) -> Learner:
        """Declare the utility range [lo, hi] (e.g. from the game); resets a bound learner's state
        (learned state is on the rescaled [0, 1] scale). Returns ``self``."""
        self._set_range(lo, hi)
        if getattr(self, "batch", None) is not None:
            self.reset()
        return self

    # ------------------------------------------------------------------ shapes
    def bind(self, batch: int, n_agents: int | None = None) -> Learner:
        """(Re)allocate all state for ``batch`` copies of ``n_agents`` agents; returns ``self``."""
        batch = check_int(batch, "batch", lo=1)
        if n_agents is None:
            n_agents = self.n_agents
        if n_agents is None:
            raise ValueError("n_agents: expected a positive integer (not given here nor at construction)")
        n_agents = check_int(n_agents, "n_agents", lo=1)
        if isinstance(self.n_actions, tuple):
            if n_agents != len(self.n_actions):
                raise ValueError(f"n_agents: expected {len(self.n_actions)} (the length of n_actions), got {n_agents}")
            k_i = np.asarray(self.n_actions, dtype=np.int64)
        else:
            k_i = np.full(n_agents, self.n_actions, dtype=np.int64)
        self._check_state_size(batch, n_agents, int(k_i.max()))
        self.batch, self.n_agents = batch, n_agents
        self.K = int(k_i.max())
        self.k_i = k_i  # (N,)
        self.n_valid = k_i[None, :]  # (1, N)
        self.last_valid = self.n_valid - 1  # (1, N)
        self.mask = np.arange(self.K)[None, None, :] < k_i[None, :, None]  # (1, N, K)
        self._mask = None if bool(self.mask.all()) else self.mask
        self.reset()
        return self

    def _check_state_size(self, batch: int, n_agents: int, k: int) -> None:
        """The size guard of :meth:`bind`, before anything is allocated: a few ``(B, N, K)`` float64
        tables (state, policy average, policy, temporaries). Learners with larger state extend it."""
        check_sizes(
            {"batch": batch, "n_agents": n_agents, "n_actions": k},
            copies=self._state_copies,
            what="the learner's (batch, n_agents, n_actions) tables",
        )

    def reset(self) -> Learner:
        """Forget everything learned (same shape); returns ``self``."""
        self._require_bound()
        self.t = 0
        self._avg_sum = np.zeros(self.shape)
        self._avg_weight = 0.0
        self._p: np.ndarray | None = None
        self._last_context: dict | None = None
        self._init_state()
        return self

    @property
    def shape(self) -> tuple[int, int, int]:
        """(B, N, K) of the bound state."""
        self._require_bound()
        return (self.batch, self.n_agents, self.K)

    def _require_bound(self) -> None:
        if getattr(self, "batch", None) is None:
            raise RuntimeError(
                f"{type(self).__name__}: not bound to a shape; call bind(batch, n_agents) or pass batch= first"
            )

    # ------------------------------------------------------------------ hooks
    def _init_state(self) -> None:  # pragma: no cover - trivial default
        pass

    def _compute_policy(self, context: dict | None) -> np.ndarray:
        raise NotImplementedError

    def _update(self, actions: np.ndarray, u: np.ndarray, U: np.ndarray | None, context: dict | None) -> None:
        raise NotImplementedError

    def _act(self, rng: np.random.Generator, context: dict | None) -> np.ndarray:
        return self.sample(self._policy(context), rng)

    # ------------------------------------------------------------------ helpers
    def _policy(self, context: dict | None = None) -> np.ndarray:
        if self._p is None:
            self._p = self._compute_policy(context)
        return self._p

    def sample(self, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Cumulative-sum sample of ``p`` (B, N, K), clamped to each agent's last valid index."""
        from coopsim.agents.sampling import sample_categorical

        return sample_categorical(p, rng, self.last_valid)

    def uniform_policy(self) -> np.ndarray:
        """Uniform over each agent's valid actions, shape (B, N, K)."""
        p = np.broadcast_to(self.mask / self.k_i[None, :, None], self.shape)
        return np.array(p, dtype=np.float64)

    def rescale(self, x: np.ndarray) -> np.ndarray:
        """(x - lo) / (hi - lo): utilities into [0, 1] (a new array)."""
        if self._identity_scale:
            return x
        return (x - self.lo) / self.scale

    def _check_rng(self, rng: Any) -> np.random.Generator:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        return rng

    def _check_context(self, context: Any) -> dict | None:
        if context is not None and not isinstance(context, dict):
            raise TypeError(f"context: expected a dict of (B, N) arrays or None, got {type(context).__name__}")
        return context

    def context_index(self, context: dict | None, key: str, n: int | np.ndarray) -> np.ndarray:
        """``context[key]`` as a (B, N) int64 array with entries in [0, n) (``n`` may be (1, N))."""
        if context is None or key not in context:
            raise ValueError(f"context: {type(self).__name__} needs context[{key!r}], a (B, N) integer array")
        arr = np.asarray(context[key])
        name = f"context[{key!r}]"
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name}: expected integer indices, got dtype {arr.dtype}")
        check_shape(arr, name, (self.batch, self.n_agents))
        bad = (arr < 0) | (arr >= n)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            hi = n if np.ndim(n) == 0 else np.broadcast_to(n, arr.shape)[idx]
            raise ValueError(f"{name}: expected indices in [0, {int(hi)}), got {int(arr[idx])} at index {idx}")
        return arr.astype(np.int64, copy=False)

    def check_actions(self, actions: Any) -> np.ndarray:
        """Validate (B, N) integer actions with 0 <= a[b, i] < K_i."""
        arr = np.asarray(actions)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"actions: expected integer action indices, got dtype {arr.dtype}")
        check_shape(arr, "actions", (self.batch, self.n_agents))
        bad = (arr < 0) | (arr >= self.n_valid)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"actions: expected indices in [0, K_i) with K_i = {int(self.k_i[idx[1]])}, "
                f"got {int(arr[idx])} at index {idx}"
            )
        return arr.astype(np.int64, copy=False)

    @staticmethod
    def _real_array(value: Any, name: str, shape: str) -> np.ndarray:
        """``value`` as an array of real numbers (no conversion yet): booleans, strings, objects and
        complex numbers are refused by dtype, so ``["0.5"]`` or ``[True]`` never pass as numbers."""
        if isinstance(value, np.ndarray):
            arr = value
        else:
            try:
                arr = np.asarray(value)
            except (TypeError, ValueError):
                raise ParameterTypeError(
                    name, f"{name}: expected a numeric {shape} array, got {type(value).__name__}"
                ) from None
        if arr.dtype.kind not in "iuf":
            raise ParameterTypeError(name, f"{name}: expected a real numeric {shape} array, got dtype {arr.dtype}")
        return arr

    def _check_rewards(self, rewards: Any) -> np.ndarray:
        arr = self._real_array(rewards, "rewards", "(B, N)").astype(np.float64, copy=False)
        check_shape(arr, "rewards", (self.batch, self.n_agents))
        if not _finite_fast(arr):
            as_array(arr, "rewards")  # raises with the offending index
        return arr

    def _check_full(self, full: Any) -> np.ndarray:
        arr = self._real_array(full, "full", "(B, N, K)").astype(np.float64, copy=False)
        check_shape(arr, "full", self.shape)
        if self._mask is not None:  # padded entries are ignored (may hold anything, even NaN)
            arr = np.where(self._mask, arr, 0.0)
        if not _finite_fast(arr):
            as_array(arr, "full")
        return arr

    # ------------------------------------------------------------------ public API
    def act(self, rng: np.random.Generator, context: dict | None = None) -> np.ndarray:
        """Sample one action per (copy, agent): (B, N) int64 indices in [0, K_i)."""
        self._require_bound()
        self._check_rng(rng)
        context = self._check_context(context)
        if self.uses_context:
            self._p = None
            self._last_context = context
        return self._act(rng, context)

    def update(
        self,
        actions: Any,
        rewards: Any,
        full: Any | None = None,
        context: dict | None = None,
    ) -> None:
        """Learn from one round: played ``actions`` (B, N), realised ``rewards`` (B, N) and, for
        full-information learners, deviation utilities ``full`` (B, N, K)."""
        self._require_bound()
        a = self.check_actions(actions)
        r = self._check_rewards(rewards)
        context = self._check_context(context)
        U = None
        if self.feedback == "full":
            if full is None:
                raise ValueError(
                    f"full: {type(self).__name__} is a full-information learner and needs the deviation "
                    f"utilities, a (B, N, K) = {self.shape} array"
                )
            U = self.rescale(self._check_full(full))
        elif self.feedback == "bandit" and full is not None:
            raise ValueError(
                f"full: {type(self).__name__} is a bandit learner and must not receive deviation utilities "
                "(pass full=None)"
            )
        p = self._policy(self._last_context if self.uses_context else context)
        w = float(self.t + 1) if self.averaging == "linear" else 1.0
        if w == 1.0:
            self._avg_sum += p
        else:
            self._avg_sum += w * p
        self._avg_weight += w
        self._update(a, self.rescale(r), U, context)
        self.t += 1
        self._p = None

    @property
    def policy(self) -> np.ndarray:
        """Current mixed strategy p_t, shape (B, N, K) (read-only; padded entries 0)."""
        self._require_bound()
        p = self._policy(getattr(self, "_last_context", None))
        view = p.view()
        view.flags.writeable = False
        return view

    @property
    def average_policy(self) -> np.ndarray:
        """Time-average of the policies played, sum_t w_t p_t / sum_t w_t (w_t = 1, or t for
        linear averaging); the current policy before any update."""
        self._require_bound()
        if self._avg_weight == 0:
            return np.array(self.policy)
        return self._avg_sum / self._avg_weight

    def hyperparameters(self) -> dict[str, Any]:
        """Constructor hyperparameters (beyond shape and range), for records and reprs."""
        return dict(getattr(self, "_hyper", {}))

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        shape = f"batch={self.batch}, n_agents={self.n_agents}, " if self.batch is not None else ""
        return f"{type(self).__name__}(n_actions={self.n_actions!r}, {shape}utility_range={self.utility_range}{', ' if hp else ''}{hp})"


def check_auto_positive(value: Any, name: str) -> float | str:
    """``"auto"`` or a float > 0 (raises naming ``name``)."""
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"{name}: expected 'auto' or a number > 0, got {value!r}")
        return value
    return check_float(value, name, lo=0.0, lo_open=True)


def check_horizon(horizon: Any) -> int | None:
    """``None`` (anytime) or a number of rounds T >= 1."""
    return None if horizon is None else check_int(horizon, "horizon", lo=1)
