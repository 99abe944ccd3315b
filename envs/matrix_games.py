"""Normal-form (matrix) games: the learners' test bench.

**What it models.** An N-player normal-form game given by a payoff tensor ``P`` of shape
``(N, A_1, ..., A_N)``: ``P[i, a_1, ..., a_N]`` is player i's payoff when player j plays action
``a_j``. Wrapped as a :class:`coopsim.core.MechanismGame` so that every learner, the dynamics
runner and the regret/exploitability analyses treat it like any mechanism game.

**Agents.** ``N`` players, ``agent_0 ... agent_{N-1}``.

**Types.** Trivial: every agent's type is ``0.0`` (``type_shape = ()``); ``sample_types`` draws no
random numbers.

**Actions.** Action indices ``0 .. A_i - 1`` carried as floats (``action_shape = ()``), so the
grid of a matrix game is ``arange(A)``. Non-integer or out-of-range indices are rejected.

**Observations / public signal.** The action profile of the round (``outcome.actions``, public).

**Rewards.** ``utility[b, i] = P[i, a_b]``; ``utility_range`` is ``(min P, max P)``.

**Deviation utilities.** Closed form by tensor slicing, O(B N K):
``U[b, i, k] = P[i, a_{b,1}, ..., k, ..., a_{b,N}]`` (flat index of the profile minus
``a_{b,i}·stride_i`` plus ``k·stride_i``); tested against the generic path.
``expected_deviation_utilities(mixed)`` contracts ``P[i]`` with the other players' mixed strategies.

**Built-ins.** :func:`rock_paper_scissors`, :func:`shapley`, :func:`chicken`,
:func:`prisoners_dilemma`, :func:`matching_pennies`.

**Arguments.** ``payoffs`` (array ``(N, A_1, ..., A_N)``, finite), ``name`` (str),
``action_names`` (optional list of per-player name lists).

**References.** L. S. Shapley, "Some topics in two-person games", Advances in Game Theory (1964)
(Shapley's game); R. J. Aumann, "Subjectivity and correlation in randomized strategies",
J. Math. Econ. 1 (1974) (chicken, correlated equilibrium); S. Hart and A. Mas-Colell,
"A simple adaptive procedure leading to correlated equilibrium", Econometrica 68 (2000).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from coopsim.analysis.equilibrium import action_values
from coopsim.core.env import RepeatedGame
from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.spaces import BoundedBox
from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_action_indices,
    check_float,
    check_int,
    check_size,
)
from coopsim.interop.render import label_agents
from coopsim.interop.views import env_views

__all__ = [
    "MatrixGame",
    "rock_paper_scissors",
    "shapley",
    "chicken",
    "prisoners_dilemma",
    "matching_pennies",
    "BUILTIN_GAMES",
    "make",
    "make_game",
    "MatrixGameEnv",
    "make_batched_env",
    "env",
    "raw_env",
    "parallel_env",
    "gym_env",
    "gym_vector_env",
]


class MatrixGame(MechanismGame):
    """An N-player normal-form game from a payoff tensor ``(N, A_1, ..., A_N)``.

    ``play(types, actions)`` returns ``utility[b, i] = P[i, a_b]``; ``deviation_utilities`` is the
    closed form ``U[b, i, k] = P[i, k, a_{b,-i}]`` (agent i's axis set to k).
    """

    type_shape = ()
    action_shape = ()
    type_low = 0.0
    type_high = 0.0

    def __init__(self, payoffs: Any, name: str = "matrix_game", action_names: list[list[str]] | None = None) -> None:
        P = as_array(payoffs, "payoffs")
        if P.ndim < 2:
            raise ValueError(f"payoffs: expected a tensor of shape (N, A_1, ..., A_N), got shape {P.shape}")
        N = P.shape[0]
        if P.ndim != N + 1:
            raise ValueError(
                f"payoffs: expected a tensor of shape (N, A_1, ..., A_N) with N + 1 = {N + 1} axes "
                f"for N = {N} players, got shape {P.shape}"
            )
        if N < 1 or any(a < 1 for a in P.shape[1:]):
            raise ValueError(f"payoffs: expected at least one player and one action each, got shape {P.shape}")
        self._payoffs = P.copy()
        self._payoffs.setflags(write=False)
        if not isinstance(name, str):
            raise ParameterTypeError("name", f"name: expected a string, got {name!r}")
        self.name = name
        self.n_agents = N
        self.n_actions: tuple[int, ...] = tuple(int(a) for a in P.shape[1:])
        self.action_low = 0.0
        self.action_high = float(max(self.n_actions) - 1)
        # the public signal is the action profile (observation bounds of the repeated game)
        self.public_low, self.public_high = 0.0, self.action_high
        lo, hi = float(P.min()), float(P.max())
        self.utility_range = (lo, hi if hi > lo else lo + 1.0)
        self.default_grid_size = max(self.n_actions)
        self._strides = np.array(
            [int(np.prod(self.n_actions[i + 1 :], dtype=np.int64)) for i in range(N)], dtype=np.int64
        )
        self._flat = P.reshape(N, -1)
        self._hi = np.array(self.n_actions, dtype=np.int64) - 1
        self._agent_col = np.arange(N)[None, :, None]
        if action_names is not None:
            if (
                not isinstance(action_names, (list, tuple))
                or len(action_names) != N
                or any(
                    not isinstance(a, (list, tuple)) or len(a) != n or not all(isinstance(x, str) for x in a)
                    for a, n in zip(action_names, self.n_actions)
                )
            ):
                raise ParameterError(
                    "action_names",
                    f"action_names: expected {N} lists of lengths {self.n_actions}, got {action_names!r}",
                )
        self.action_names = action_names

    # -- basic properties ---------------------------------------------------------------------
    @property
    def payoff_tensor(self) -> np.ndarray:
        """The payoff tensor ``P`` of shape ``(N, A_1, ..., A_N)`` (read-only)."""
        return self._payoffs

    def __repr__(self) -> str:
        return f"MatrixGame(name={self.name!r}, n_actions={self.n_actions})"

    # -- MechanismGame contract --------------------------------------------------------------
    def sample_types(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """Trivial types: zeros of shape ``(batch, N)``; consumes no random numbers."""
        return np.zeros((self.check_sample_args(rng, batch), self.n_agents))

    def truthful_actions(self, types: np.ndarray) -> np.ndarray:
        """No truthful action exists in a normal-form game: action 0 for everyone (a default)."""
        return np.zeros(np.asarray(types).shape[:2])

    def action_grid(self, k: int) -> np.ndarray:
        """Action indices as the grid: ``arange(k)`` when every player has ``k`` actions; when the
        action counts differ and ``k = max A_i``, a per-agent ``(N, k)`` grid whose row i lists
        ``0 .. A_i - 1`` padded by repeating ``A_i - 1`` (mask the padding in the learners)."""
        k = check_int(k, "k", lo=1)
        if all(a == k for a in self.n_actions):
            return np.arange(k, dtype=np.float64)
        if k == max(self.n_actions):
            return np.minimum(np.arange(k)[None, :], np.array(self.n_actions)[:, None] - 1).astype(np.float64)
        raise ValueError(
            f"k: expected {max(self.n_actions)} (the largest action count) for a game with action "
            f"counts {self.n_actions}, got {k}"
        )

    def action_mask(self) -> np.ndarray:
        """Boolean ``(N, max A)`` mask of valid actions (all True when action counts are equal)."""
        return np.arange(max(self.n_actions))[None, :] < np.array(self.n_actions)[:, None]

    def _int_check(self, arr: Any, hi: np.ndarray | np.integer, name: str, agent_axis: int | None) -> np.ndarray:
        """Integer indices in ``[0, hi]`` (``hi`` broadcast against ``arr``); ValueError otherwise."""
        a = np.asarray(arr)
        if a.dtype.kind not in "iuf":
            raise ParameterTypeError(name, f"{name}: expected integer action indices, got dtype {a.dtype}")
        if a.dtype.kind in "iu":
            idx = a.astype(np.int64, copy=False)
        else:
            try:
                a = a.astype(np.float64, copy=False)
            except (TypeError, ValueError):
                raise TypeError(f"{name}: expected numeric action indices, got {type(arr).__name__}") from None
            with np.errstate(invalid="ignore"):
                idx = a.astype(np.int64)
            if not np.array_equal(idx, a):
                as_array(a, name)  # NaN / inf get the shared message
                bad = a[idx != a].flat[0]
                raise ValueError(f"{name}: expected integer action indices, got {bad}")
        bad = (idx < 0) | (idx > hi)
        if bad.any():
            j = tuple(int(x) for x in np.argwhere(bad)[0])
            who = f" for agent {j[agent_axis]}" if agent_axis is not None else ""
            limit = np.broadcast_to(hi, idx.shape)[j]
            raise ValueError(f"{name}: expected indices in [0, {int(limit)}]{who}, got {idx[j]} at index {j}")
        return idx

    def _indices(self, actions: Any, name: str = "actions", types: Any = None) -> np.ndarray:
        arr = np.asarray(actions)
        if arr.ndim < 2 or arr.shape[-1] != self.n_agents:
            raise ParameterError(name, f"{name}: expected shape (B, {self.n_agents}), got {arr.shape}")
        idx = self._int_check(arr, self._hi, name, arr.ndim - 1)
        if types is not None:  # trivial types: zeros of the actions' shape
            t = as_array(types, "types", lo=0.0, hi=0.0)
            if t.shape != arr.shape:
                raise ParameterError("types", f"types: expected shape {arr.shape} (as actions), got {t.shape}")
        return idx

    def play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        """``utility[b, i] = P[i, a_b]`` for the index profile ``a_b``; ``outcome.actions`` is public."""
        idx = self._indices(actions, types=types)
        flat = idx @ self._strides  # (...,)
        util = self._flat[:, flat]  # (N, ...)
        return Outcome(np.moveaxis(util, 0, -1), public=("actions",), actions=idx.astype(np.float64))

    def deviation_utilities(self, types: np.ndarray, actions: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Closed form ``U[b, i, k] = P[i, a_{b,1}, .., cand[i, k], .., a_{b,N}]``, shape ``(B, N, K)``.

        ``candidates`` is ``(K,)`` (every entry must be valid for every agent), ``(N, K)`` or
        ``(B, N, K)`` action indices."""
        idx = self._indices(actions, types=types)
        if idx.ndim != 2:
            raise ParameterError("actions", f"actions: expected shape (B, {self.n_agents}), got {idx.shape}")
        B, N = idx.shape
        cand = np.asarray(candidates)
        if cand.ndim == 1:
            cidx = self._int_check(cand, np.int64(min(self.n_actions) - 1), "candidates", None)[None, None, :]
        elif cand.ndim == 2 and cand.shape[0] == N:
            cidx = self._int_check(cand, self._hi[:, None], "candidates", 0)[None]
        elif cand.ndim == 3 and cand.shape[:2] in ((B, N), (1, N)):
            cidx = self._int_check(cand, self._hi[None, :, None], "candidates", 1)
        else:
            raise ValueError(f"candidates: expected shape (K,), ({N}, K) or ({B}, {N}, K), got {cand.shape}")
        base = (idx @ self._strides)[:, None] - idx * self._strides  # (B, N)
        flat = base[:, :, None] + cidx * self._strides[None, :, None]
        return self._flat[self._agent_col, flat]

    def expected_deviation_utilities(self, mixed: Any) -> np.ndarray:
        """``U[..., i, k] = Σ_{a_-i} P[i, k, a_-i] Π_{j≠i} σ_j(a_j)`` for a mixed profile ``mixed`` of
        shape ``(..., N, max A)`` (padding entries must be 0); padded outputs are 0."""
        try:
            vals = action_values(self._payoffs, mixed)
        except (ValueError, TypeError) as err:  # the shared checker names its argument "policy"
            if not str(err).startswith("policy"):
                raise
            msg = "mixed" + str(err).removeprefix("policy")
            raise (ParameterTypeError if isinstance(err, TypeError) else ParameterError)("mixed", msg) from None
        K = max(self.n_actions)
        out = np.zeros((*vals[0].shape[:-1], self.n_agents, K))
        for i, v in enumerate(vals):
            out[..., i, : v.shape[-1]] = v
        return out

    def metrics(self, types: np.ndarray, outcome: Outcome) -> dict[str, np.ndarray]:
        """``welfare`` = Σ_i u_i and ``mean_utility`` = welfare / N, per copy."""
        w = outcome.utility.sum(axis=1)
        return {"welfare": w, "mean_utility": w / self.n_agents}

    def draw(self, ax: Any, types: np.ndarray, actions: np.ndarray | None, outcome: Outcome | None) -> None:
        """Copy 0 on ``ax`` (the env's ``rgb_array`` frame). Two players: the payoff bimatrix
        ``(P[0, a], P[1, a])`` per cell with the joint action framed in red. Otherwise one bar per
        player: the action played, its payoff written above."""
        played = None if actions is None else np.asarray(actions[0], dtype=np.int64)
        if self.n_agents == 2:
            _draw_bimatrix(ax, self._payoffs, played, self.action_names)
        else:
            x = np.arange(self.n_agents)
            acts = np.zeros(self.n_agents) if played is None else played
            ax.bar(x, acts + 0.05, color="C0", width=0.6)
            if outcome is not None:
                for i in x:
                    ax.annotate(f"{outcome.utility[0, i]:.3g}", (i, acts[i] + 0.05), ha="center", va="bottom")
            label_agents(ax, self.n_agents)
            ax.set_ylabel("action index (payoff above)")
            ax.set_ylim(0, max(self.n_actions))
        ax.set_title(self.name, loc="left", fontsize=9)


def _draw_bimatrix(ax: Any, P: np.ndarray, played: np.ndarray | None, names: list[list[str]] | None) -> None:
    """Cells ``(row payoff, column payoff)``; row player 0, column player 1; the played cell framed."""
    from matplotlib.patches import Rectangle

    A0, A1 = P.shape[1:]
    ax.imshow(P[0], cmap="Blues", alpha=0.35, aspect="auto")
    for r in range(A0):
        for c in range(A1):
            ax.text(c, r, f"{P[0, r, c]:.3g}, {P[1, r, c]:.3g}", ha="center", va="center", fontsize=9)
    if played is not None:
        ax.add_patch(Rectangle((played[1] - 0.5, played[0] - 0.5), 1, 1, fill=False, ec="C3", lw=3))
    rows = names[0] if names else [str(a) for a in range(A0)]
    cols = names[1] if names else [str(a) for a in range(A1)]
    ax.set_xticks(np.arange(A1), cols)
    ax.set_yticks(np.arange(A0), rows)
    ax.set_xlabel("agent 1")
    ax.set_ylabel("agent 0")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()


# -- built-in games --------------------------------------------------------------------------
def _bimatrix(A: Any, B: Any) -> np.ndarray:
    return np.stack([np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)])


def rock_paper_scissors() -> MatrixGame:
    """Rock-paper-scissors: ``A = [[0,-1,1],[1,0,-1],[-1,1,0]]``, ``B = -A`` (zero-sum; unique NE uniform)."""
    A = np.array([[0, -1, 1], [1, 0, -1], [-1, 1, 0]], dtype=np.float64)
    return MatrixGame(_bimatrix(A, -A), name="rock_paper_scissors", action_names=[["rock", "paper", "scissors"]] * 2)


def shapley() -> MatrixGame:
    """Shapley's (1964) game ``A = [[0,1,0],[0,0,1],[1,0,0]]``, ``B = [[0,0,1],[1,0,0],[0,1,0]]``;
    fictitious play cycles; unique NE uniform."""
    A = [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
    B = [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    return MatrixGame(_bimatrix(A, B), name="shapley")


def chicken(
    dare_dare: float = 0.0, dare_chicken: float = 7.0, chicken_dare: float = 2.0, chicken_chicken: float = 6.0
) -> MatrixGame:
    """Chicken (Aumann 1974), actions (Dare, Chicken): ``(D,D) = (0,0)``, ``(D,C) = (7,2)``,
    ``(C,D) = (2,7)``, ``(C,C) = (6,6)`` by default."""
    A = [
        [check_float(dare_dare, "dare_dare"), check_float(dare_chicken, "dare_chicken")],
        [check_float(chicken_dare, "chicken_dare"), check_float(chicken_chicken, "chicken_chicken")],
    ]
    return MatrixGame(_bimatrix(A, np.transpose(A)), name="chicken", action_names=[["dare", "chicken"]] * 2)


def prisoners_dilemma(
    reward: float = 3.0, sucker: float = 0.0, temptation: float = 5.0, punishment: float = 1.0
) -> MatrixGame:
    """Prisoner's dilemma, actions (Cooperate, Defect): ``(C,C) = (R,R)``, ``(C,D) = (S,T)``,
    ``(D,C) = (T,S)``, ``(D,D) = (P,P)``; defaults ``T, R, P, S = 5, 3, 1, 0``."""
    A = [
        [check_float(reward, "reward"), check_float(sucker, "sucker")],
        [check_float(temptation, "temptation"), check_float(punishment, "punishment")],
    ]
    return MatrixGame(
        _bimatrix(A, np.transpose(A)), name="prisoners_dilemma", action_names=[["cooperate", "defect"]] * 2
    )


def matching_pennies() -> MatrixGame:
    """Matching pennies: ``A = [[1,-1],[-1,1]]``, ``B = -A`` (zero-sum; unique NE uniform)."""
    A = np.array([[1, -1], [-1, 1]], dtype=np.float64)
    return MatrixGame(_bimatrix(A, -A), name="matching_pennies", action_names=[["heads", "tails"]] * 2)


BUILTIN_GAMES = {
    "rock_paper_scissors": rock_paper_scissors,
    "shapley": shapley,
    "chicken": chicken,
    "prisoners_dilemma": prisoners_dilemma,
    "matching_pennies": matching_pennies,
}


def make(name: str, **kwargs: Any) -> MatrixGame:
    """Build a built-in matrix game by name (``ValueError`` listing the names if unknown)."""
    if not isinstance(name, str) or name not in BUILTIN_GAMES:
        raise ParameterError("name", f"name: expected one of {sorted(BUILTIN_GAMES)}, got {name!r}")
    return BUILTIN_GAMES[name](**kwargs)


def make_game(
    game: str = "rock_paper_scissors", payoffs: Any = None, game_params: dict | None = None, name: str | None = None
) -> MatrixGame:
    """The experiment runner's hook: a built-in game by name (``game``, with ``game_params``, e.g.
    chicken's payoffs) or a custom one from a ``payoffs`` tensor ``(N, A_1, ..., A_N)`` (``name``)."""
    if game_params is not None and not isinstance(game_params, dict):
        raise ParameterTypeError("game_params", f"game_params: expected a dict of payoffs, got {game_params!r}")
    if payoffs is not None:
        if game_params:
            raise ValueError(f"game_params: only for built-in games, not with a payoffs tensor; got {game_params!r}")
        return MatrixGame(payoffs, name=name or "matrix_game")
    if not isinstance(game, str) or game not in BUILTIN_GAMES:
        raise ParameterError("game", f"game: expected one of {sorted(BUILTIN_GAMES)}, got {game!r}")
    return make(game, **(game_params or {}))


# -- environment views ----------------------------------------------------------------------
NAME = "matrix_game_v0"


class MatrixGameEnv(RepeatedGame):
    """A :class:`MatrixGame` repeated for ``rounds`` rounds: agent i's action space is
    ``Discrete(A_i)``; its observation is ``[last joint action (N entries, zeros before the first
    round), fraction of the episode elapsed]`` (the trivial type is left out); reward ``P[i, a]``.
    The default (opponent) action is 0 for everyone."""

    game: MatrixGame  # checked in __init__

    def __init__(self, game: MatrixGame, rounds: int = 25, batch_size: int = 1, render_mode: str | None = None) -> None:
        if not isinstance(game, MatrixGame):
            raise ParameterTypeError("game", f"game: expected a MatrixGame, got {type(game).__name__}")
        batch_size = check_int(batch_size, "batch_size", lo=1)
        check_size(
            "batch_size", batch_size, game.n_agents, copies=16, what="the copies' types, actions and observations"
        )
        super().__init__(game, rounds=rounds, batch_size=batch_size, render_mode=render_mode, name=NAME)
        self._spaces = [gym.spaces.Discrete(a) for a in game.n_actions]
        box = self._obs_space  # [type, public, clock]; the type entry is always 0
        self._obs_space = BoundedBox(box.low[1:], box.high[1:], dtype=np.float32)

    def _observe(self) -> np.ndarray:
        return super()._observe()[:, :, 1:]

    def action_space(self, agent: int) -> gym.Space:
        return self._spaces[agent]

    def to_game_actions(self, actions: Any) -> np.ndarray:
        idx = check_action_indices(actions, self.batch_size, self.n_agents, self.game.n_actions)
        return idx.astype(np.float64)

    def default_actions(self) -> np.ndarray:
        return np.zeros((self.batch_size, self.n_agents), dtype=np.int64)


def make_batched_env(
    batch_size: int = 1,
    max_cycles: int = 25,
    render_mode: str | None = None,
    game: str = "rock_paper_scissors",
    payoffs: Any = None,
    game_params: dict | None = None,
    name: str | None = None,
) -> MatrixGameEnv:
    """``MatrixGameEnv`` of ``make_game(game, payoffs, game_params, name)`` over ``batch_size``
    copies, ``max_cycles`` rounds per episode (rock-paper-scissors by default)."""
    max_cycles = check_int(max_cycles, "max_cycles", lo=1)
    return MatrixGameEnv(
        make_game(game=game, payoffs=payoffs, game_params=game_params, name=name),
        rounds=max_cycles,
        batch_size=batch_size,
        render_mode=render_mode,
    )


env, raw_env, parallel_env, gym_env, gym_vector_env = env_views(make_batched_env, name=NAME)
