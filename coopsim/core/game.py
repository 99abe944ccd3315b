"""The one-shot game contract: ``MechanismGame`` and its ``Outcome``.

A ``MechanismGame`` bundles private types, a mechanism and utilities, batched over ``B`` copies:

- ``sample_types(rng, B)`` -> types ``(B, N, *type_shape)``;
- ``play(types, actions)`` -> ``Outcome`` with ``utility (B, N)`` plus domain fields;
- ``deviation_utilities(types, actions, candidates)`` -> ``(B, N, K)``: agent i's utility had it
  alone played candidate k, the others' actions and all types held fixed;
- ``metrics(types, outcome)`` -> named ``(B,)`` arrays; ``optimum(types)`` -> named ``(B,)`` optima.

Actions have shape ``(B, N, *action_shape)``; ``action_shape`` is ``()`` for scalar reports/bids.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from coopsim.core.validation import ParameterError, as_array, check_int, check_rng, check_size


class Outcome:
    """Result of one batched play: ``utility`` ``(B, N)`` plus named domain fields.

    Fields are read as attributes (``outcome.location``) or through ``outcome.fields``.
    ``public`` names the fields every agent observes after the round (used for observations).
    """

    __slots__ = ("utility", "fields", "public")

    def __init__(self, utility: np.ndarray, public: tuple[str, ...] = (), **fields: Any) -> None:
        self.utility = np.asarray(utility, dtype=np.float64)
        self.fields: dict[str, Any] = fields
        self.public = tuple(public)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(f"Outcome has no field {name!r}; fields: {sorted(self.fields)}") from None

    def __repr__(self) -> str:
        return f"Outcome(utility{self.utility.shape}, fields={sorted(self.fields)})"


class MechanismGame(ABC):
    """Abstract one-shot mechanism game over ``B`` independent copies and ``n_agents`` agents."""

    #: number of agents N
    n_agents: int
    #: shape of one agent's action (``()`` for a scalar report or bid)
    action_shape: tuple[int, ...] = ()
    #: shape of one agent's type
    type_shape: tuple[int, ...] = ()
    #: inclusive bounds of the action space (per entry)
    action_low: float = 0.0
    action_high: float = 1.0
    #: inclusive bounds of the type space (per entry)
    type_low: float = 0.0
    type_high: float = 1.0
    #: bounds of the public signal entries (observation space of the repeated game)
    public_low: float = -np.inf
    public_high: float = np.inf
    #: bounds of utilities, used by learners to rescale rewards into [0, 1]
    utility_range: tuple[float, float] = (0.0, 1.0)

    # -- the contract -----------------------------------------------------------------------
    @abstractmethod
    def sample_types(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """Draw private types, shape ``(batch, N, *type_shape)``."""

    @abstractmethod
    def play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        """Run the mechanism on ``actions`` and score every agent under ``types``."""

    def metrics(self, types: np.ndarray, outcome: Outcome) -> dict[str, np.ndarray]:
        """Named per-copy metrics, each of shape ``(B,)``. Default: mean utility."""
        return {"mean_utility": outcome.utility.mean(axis=1)}

    def metrics_named(self, types: np.ndarray, outcome: Outcome, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The metrics in ``names`` only (the keys of :meth:`metrics` that are asked for).

        Default: all of :meth:`metrics`, then filtered. Games with costly metrics (approximation
        ratios, axiom verdicts) override it to compute only what is asked.
        """
        everything = self.metrics(types, outcome)
        return {k: everything[k] for k in names if k in everything}

    def optimum(self, types: np.ndarray) -> dict[str, np.ndarray]:
        """Optimal value of each objective for ``types`` (``(B,)`` arrays), where defined."""
        raise NotImplementedError(f"{type(self).__name__} defines no optimum")

    def truthful_actions(self, types: np.ndarray) -> np.ndarray:
        """The truthful (or default) action profile for ``types``; identity for direct mechanisms."""
        return np.asarray(types, dtype=np.float64)

    def public_signal(self, outcome: Outcome) -> np.ndarray:
        """Public feedback after a round, shape ``(B, P)``: the ``outcome.public`` fields stacked."""
        cols = [
            np.asarray(outcome.fields[name], dtype=np.float64).reshape(outcome.utility.shape[0], -1)
            for name in outcome.public
        ]
        if not cols:
            return np.zeros((outcome.utility.shape[0], 0))
        return np.concatenate(cols, axis=1)

    @property
    def public_size(self) -> int:
        """Length P of ``public_signal``; found by one play on truthful types when not declared."""
        rng = np.random.default_rng(0)
        types = self.sample_types(rng, 1)
        return int(self.public_signal(self.play(types, self.truthful_actions(types))).shape[1])

    def action_grid(self, k: int) -> np.ndarray:
        """``k`` evenly spaced candidate actions in the action range, shape ``(k, *action_shape)``."""
        if self.action_shape != ():
            raise NotImplementedError(f"{type(self).__name__}: no default grid for action shape {self.action_shape}")
        return np.linspace(self.action_low, self.action_high, k)

    # -- validation ---------------------------------------------------------------------------
    def _check_profile_array(self, value: Any, name: str, lo: float, hi: float, tail: tuple[int, ...]) -> np.ndarray:
        arr = as_array(value, name, lo=lo, hi=hi)
        want = (self.n_agents, *tail)
        if arr.ndim != len(want) + 1 or arr.shape[1:] != want:
            raise ParameterError(name, f"{name}: expected shape (B, {', '.join(map(str, want))}), got {arr.shape}")
        return arr

    def check_actions(self, actions: Any, name: str = "actions") -> np.ndarray:
        """Validate an action profile: shape ``(B, N, *action_shape)``, finite, within bounds."""
        return self._check_profile_array(actions, name, self.action_low, self.action_high, self.action_shape)

    def check_types(self, types: Any, name: str = "types") -> np.ndarray:
        """Validate a type profile: shape ``(B, N, *type_shape)``, finite, in the type support."""
        return self._check_profile_array(types, name, self.type_low, self.type_high, self.type_shape)

    def check_profile(self, types: Any, actions: Any, action_name: str = "actions") -> tuple[np.ndarray, np.ndarray]:
        """Validate types and actions together (each as above, and one batch size B for both)."""
        t = self.check_types(types)
        a = self.check_actions(actions, action_name)
        if t.shape[0] != a.shape[0]:
            raise ParameterError(
                action_name, f"{action_name}: expected batch size {t.shape[0]} (that of types), got {a.shape[0]}"
            )
        return t, a

    def check_sample_args(self, rng: Any, batch: Any, *, per_copy: int | None = None) -> int:
        """Check ``sample_types``' arguments: a Generator, an integer ``batch >= 1`` whose
        ``(batch, N, *type_shape)`` float64 draw fits the memory budget; returns ``batch``."""
        check_rng(rng)
        B = check_int(batch, "batch", lo=1)
        per = per_copy if per_copy is not None else self.n_agents * int(np.prod(self.type_shape, dtype=np.int64))
        check_size("batch", B, per, copies=2, what="the type draw")
        return B

    def check_play_size(self, batch: int, name: str = "batch") -> None:
        """Refuse (naming ``name``) a batch of ``batch`` copies whose ``play`` outcome would exceed
        the memory budget. Default: nothing (an outcome is a few arrays the size of the types);
        games with larger outcomes override it, and ``RepeatedGame`` calls it once at construction
        since its steps go to the unchecked :meth:`_play`."""
        return None

    def _play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        """``play`` on arrays already validated (games that validate in ``play`` override this with
        the unchecked body). Internal loops call it: the generic ``deviation_utilities``, and
        ``RepeatedGame.step``, which validates the actions and passes its own types, drawn by
        ``sample_types``, unchecked."""
        return self.play(types, actions)

    # -- generic counterfactuals ---------------------------------------------------------------
    def check_deviation_args(
        self, types: Any, actions: Any, candidates: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate ``deviation_utilities``' arguments: the profile (see :meth:`check_profile`),
        candidates in the action range, and the size of the ``B*N*K`` counterfactual rows."""
        t, a = self.check_profile(types, actions)
        cand = as_array(candidates, "candidates", lo=self.action_low, hi=self.action_high)
        cand = self._broadcast_candidates(cand, a.shape[0])
        B, N, K = cand.shape[:3]
        per = max(int(np.prod(self.action_shape, dtype=np.int64)), 1)
        check_size("candidates", B, N, K, N, per, copies=3, what="the B*N*K counterfactual profiles")
        return t, a, cand

    def deviation_utilities(self, types: np.ndarray, actions: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """``U[b, i, k]`` = utility of agent i in copy b had it alone played candidate k.

        ``candidates`` has shape ``(K, *action_shape)`` (shared), ``(N, K, *action_shape)``
        (per agent) or ``(B, N, K, *action_shape)``. Generic path: one vectorised ``play`` on the
        ``B*N*K`` profiles in which agent i's action is replaced by candidate k. Arguments are
        validated once here (:meth:`check_deviation_args`); the rows go to the unchecked ``_play``.
        """
        types, actions, cand = self.check_deviation_args(types, actions, candidates)
        B, N, K = cand.shape[:3]
        ev = self.action_shape
        # rows[b, i, k] is the full profile with agent i's action replaced by cand[b, i, k]
        rows = np.broadcast_to(actions[:, None, None], (B, N, K, N, *ev)).copy()
        idx = np.arange(N)
        rows[:, idx, :, idx] = np.moveaxis(cand, 1, 0)
        rep_types = np.broadcast_to(types[:, None, None], (B, N, K, *types.shape[1:]))
        out = self._play(rep_types.reshape(B * N * K, *types.shape[1:]), rows.reshape(B * N * K, N, *ev))
        util = out.utility.reshape(B, N, K, N)
        return util[:, idx, :, idx].transpose(1, 0, 2)

    def _broadcast_candidates(self, candidates: Any, batch: int) -> np.ndarray:
        cand = np.asarray(candidates, dtype=np.float64)
        ev = len(self.action_shape)
        N = self.n_agents
        if cand.ndim == 1 + ev:
            cand = cand[None, None]
        elif cand.ndim == 2 + ev:
            cand = cand[None]
        elif cand.ndim != 3 + ev:
            raise ParameterError(
                "candidates",
                f"candidates: expected shape (K, ...), (N, K, ...) or (B, N, K, ...) with action shape "
                f"{self.action_shape}, got {cand.shape}",
            )
        K = cand.shape[2]
        try:
            return np.broadcast_to(cand, (batch, N, K, *self.action_shape))
        except ValueError:
            raise ParameterError(
                "candidates", f"candidates: shape {cand.shape} does not broadcast to (B={batch}, N={N}, K, ...)"
            ) from None
