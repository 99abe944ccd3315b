"""The stateful contract: ``BatchedEnv``, and ``RepeatedGame`` which turns a ``MechanismGame`` into one.

``BatchedEnv`` steps ``B`` copies at once::

    obs, info = env.reset(seed)                       # obs (B, N, *obs_shape)
    obs, rewards, terminated, truncated, info = env.step(actions)
    # rewards (B, N); terminated, truncated (B, N) per-agent flags; info: dict of arrays

Flags are per agent (an agent of the agent economy can leave on insolvency while others play on);
``terminated.all(axis=1) | truncated.all(axis=1)`` is the per-copy episode end. The env never
resets by itself: the vector adapters in ``coopsim.interop`` implement Gymnasium's autoreset.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.seeding import SeedLike, seed_sequence
from coopsim.core.spaces import BoundedBox
from coopsim.core.validation import ParameterError, ParameterTypeError, as_array, check_choice, check_int, check_size


def metrics_option(value: Any, name: str = "metrics") -> tuple[str, ...] | None:
    """Parse a ``metrics=`` option: ``"all"`` -> None (every metric), ``"none"`` -> ``()``, a list
    of metric names -> a tuple of them (checked against the game when first computed)."""
    if isinstance(value, str):
        if value in ("all", "none"):
            return None if value == "all" else ()
        raise ValueError(f"{name}: expected 'all', 'none' or a list of metric names, got {value!r}")
    if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name}: expected 'all', 'none' or a list of metric names, got {value!r}")
    return tuple(value)


def _real(actions: Any, name: str = "actions") -> np.ndarray:
    """``actions`` as float64, refusing booleans, strings, objects and complex numbers by dtype
    (O(1): the values are checked by the game)."""
    try:
        arr = np.asarray(actions)
    except (TypeError, ValueError):  # ragged nested lists
        raise ParameterTypeError(name, f"{name}: expected a numeric array, got {type(actions).__name__}") from None
    if arr.dtype.kind not in "iuf":
        raise ParameterTypeError(name, f"{name}: expected real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


class BatchedEnv(ABC):
    """Abstract batched multi-agent environment over ``batch_size`` copies of ``n_agents`` agents."""

    metadata: dict[str, Any] = {"render_modes": [], "name": "batched_env"}
    n_agents: int
    batch_size: int
    #: rounds per episode (the PettingZoo ``max_cycles``)
    horizon: int

    @abstractmethod
    def observation_space(self, agent: int) -> gym.Space[Any]:
        """Gymnasium space of one agent's observation (the same object on every call)."""

    @abstractmethod
    def action_space(self, agent: int) -> gym.Space[Any]:
        """Gymnasium space of one agent's action (the same object on every call)."""

    @abstractmethod
    def reset(self, seed: SeedLike = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode in every copy; returns ``(obs (B, N, ...), info)``."""

    @abstractmethod
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Advance every copy by one round."""

    def default_actions(self) -> np.ndarray:
        """Actions of the default (truthful) policy for the current state, ``(B, N, ...)``."""
        raise NotImplementedError(f"{type(self).__name__} has no default policy")

    def state(self) -> np.ndarray:
        """Global state of every copy, ``(B, ...)`` (for centralised critics)."""
        raise NotImplementedError(f"{type(self).__name__} exposes no global state")

    def render(self) -> str | np.ndarray | None:
        """``ansi``: a string; ``rgb_array``: a ``uint8 (H, W, 3)`` frame; otherwise ``None``."""
        return None

    def close(self) -> None:
        return None

    @property
    def agent_names(self) -> list[str]:
        return [f"agent_{i}" for i in range(self.n_agents)]


class RepeatedGame(BatchedEnv):
    """A ``MechanismGame`` played for ``rounds`` rounds over ``batch_size`` copies.

    Observation of agent i (float32): its own type (flattened), then the public signal of the
    previous round (zeros before the first round), then the fraction of the episode elapsed.
    Actions are raw reports/bids (``action_mode="continuous"``, a ``Box``) or indices into a
    ``grid_size``-point grid (``action_mode="grid"``, a ``Discrete``). Types are drawn at reset and
    kept (``redraw="episode"``) or redrawn every round (``redraw="round"``). Reward = utility.

    ``reset(options={"reset_mask": mask})`` restarts only the copies where ``mask`` (``(B,)`` bool)
    is true; types are drawn for every copy and kept only where the mask is set, so a copy's
    stream never depends on which other copies were reset.

    Rewards are always computed; the game's metrics (welfare, approximation ratios, axiom
    verdicts, ...) only as asked by ``metrics``: ``"all"`` (default here: ``info["metrics"]``
    holds every ``game.metrics``), ``"none"`` (no ``"metrics"`` entry in ``info``: the fastest
    step) or a list of names (only those, through ``game.metrics_named``; an unknown name raises
    ``ValueError`` at the first step). The PettingZoo and Gymnasium views default to ``"none"``.

    ``name`` sets ``metadata["name"]`` (the env modules pass ``facility_location_v0``, ...).
    ``render_mode="rgb_array"`` draws the last round (types, actions, outcome of copy 0) with the
    game's ``draw(ax, types, actions, outcome)`` through ``coopsim.interop.render``; it is offered
    only by games that define ``draw``.
    """

    # render_fps: coopsim.interop.render.RENDER_FPS (not imported: interop imports this module)
    metadata = {"render_modes": ["ansi"], "name": "repeated_game", "is_parallelizable": True, "render_fps": 4}

    def __init__(
        self,
        game: MechanismGame,
        rounds: int = 1,
        batch_size: int = 1,
        action_mode: str = "continuous",
        grid_size: int = 101,
        redraw: str = "episode",
        render_mode: str | None = None,
        name: str | None = None,
        metrics: str | Sequence[str] = "all",
    ) -> None:
        if not isinstance(game, MechanismGame):
            raise TypeError(f"game: expected a MechanismGame, got {type(game).__name__}")
        self.game = game
        # the game's drawing of one round, draw(ax, types, actions, outcome), if it has one
        self._draw: Callable[..., None] | None = getattr(game, "draw", None)
        modes = ["ansi", "rgb_array"] if callable(self._draw) else ["ansi"]
        self.metadata = {**type(self).metadata, "render_modes": modes}
        if name is not None:
            if not isinstance(name, str):
                raise ParameterTypeError("name", f"name: expected a string or None, got {name!r}")
            self.metadata["name"] = name
        self.n_agents = game.n_agents
        self.horizon = check_int(rounds, "rounds", lo=1)
        self.batch_size = check_int(batch_size, "batch_size", lo=1)
        per_copy = self.n_agents * (int(np.prod(game.type_shape, dtype=np.int64)) + 2) + game.public_size
        check_size("batch_size", self.batch_size, per_copy, copies=4, what="the types, observations and flags")
        game.check_play_size(self.batch_size, "batch_size")  # steps call the unchecked _play
        self.action_mode = check_choice(action_mode, "action_mode", ("continuous", "grid"))
        self.redraw = check_choice(redraw, "redraw", ("episode", "round"))
        self.render_mode = check_choice(render_mode, "render_mode", (None, *modes))
        self.metrics = metrics_option(metrics)
        self._metrics_checked = not self.metrics  # "all" and "none" need no check
        self.grid: np.ndarray | None = None
        if action_mode == "grid":
            grid_size = check_int(grid_size, "grid_size", lo=1)
            check_size("grid_size", grid_size, max(int(np.prod(game.action_shape, dtype=np.int64)), 1), copies=2)
            self.grid = game.action_grid(grid_size)
        type_size = int(np.prod(game.type_shape, dtype=int))
        self._public_size = game.public_size
        low = np.concatenate([np.full(type_size, game.type_low), np.full(self._public_size, game.public_low), [0.0]])
        high = np.concatenate([np.full(type_size, game.type_high), np.full(self._public_size, game.public_high), [1.0]])
        self._obs_space = BoundedBox(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        if self.grid is not None:
            self._act_space: gym.Space[Any] = gym.spaces.Discrete(len(self.grid))
        else:
            self._act_space = BoundedBox(game.action_low, game.action_high, game.action_shape or (1,), np.float32)
        self._rng = np.random.default_rng(0)
        B = self.batch_size
        self.types: np.ndarray = np.zeros((B, self.n_agents, *game.type_shape))
        self._public = np.zeros((B, self._public_size))
        self.t = np.zeros(B, dtype=np.int64)
        self._obs_types: np.ndarray | None = None  # the types the observation template holds
        self._obs_base: np.ndarray = np.zeros(0, dtype=np.float32)
        self._t_max = 0
        self._all_agents = np.ones((B, self.n_agents), dtype=bool)
        self.last_outcome: Outcome | None = None
        self._last_round: tuple[np.ndarray, np.ndarray] | None = None  # (types, game actions)

    def observation_space(self, agent: int) -> gym.Space[Any]:
        return self._obs_space

    def action_space(self, agent: int) -> gym.Space[Any]:
        return self._act_space

    def _observe(self) -> np.ndarray:
        """``(B, N, T + P + 1)`` float32: own type, public signal, clock (written into one array).

        The own-type block is kept in a template rebuilt whenever ``self.types`` is rebound."""
        if self._obs_types is not self.types:
            B, N = self.batch_size, self.n_agents
            own = self.types.reshape(B, N, -1)
            self._obs_base = np.zeros((B, N, own.shape[2] + self._public_size + 1), dtype=np.float32)
            self._obs_base[:, :, : own.shape[2]] = own
            self._obs_types = self.types
        obs = self._obs_base.copy()
        T = obs.shape[2] - self._public_size - 1
        obs[:, :, T:-1] = self._public[:, None, :]
        obs[:, :, -1] = (self.t / self.horizon)[:, None]
        return obs

    def reset(self, seed: SeedLike = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        if seed is not None:
            # one child stream for the types, one for the game's own chance moves (sampled clicks)
            types_seq, game_seq = seed_sequence(seed).spawn(2)
            self._rng = np.random.default_rng(types_seq)
            if hasattr(self.game, "reseed"):
                self.game.reseed(np.random.default_rng(game_seq))
        if options is not None and not isinstance(options, Mapping):
            raise ParameterTypeError("options", f"options: expected a dict or None, got {type(options).__name__}")
        mask = np.ones(self.batch_size, dtype=bool)
        if options and options.get("reset_mask") is not None:
            mask = as_array(options["reset_mask"], "reset_mask", dtype=bool)
            if mask.shape != (self.batch_size,):
                raise ValueError(f"options['reset_mask']: expected shape ({self.batch_size},), got {mask.shape}")
        fresh = self.game.sample_types(self._rng, self.batch_size)
        self.types = np.where(mask.reshape(-1, *[1] * (fresh.ndim - 1)), fresh, self.types)
        self._public[mask] = 0.0
        self.t[mask] = 0
        self._t_max = int(self.t.max())  # rounds played by the furthest copy (a cheap end check)
        self.last_outcome = None
        self._last_round = None
        return self._observe(), {}

    def to_game_actions(self, actions: Any) -> np.ndarray:
        """Map env actions (grid indices or raw values) to the game's action profile."""
        B, N = self.batch_size, self.n_agents
        if self.grid is not None:
            idx = as_array(actions, "actions", dtype=np.int64, lo=0, hi=len(self.grid) - 1)
            if idx.shape != (B, N):
                raise ValueError(f"actions: expected grid indices of shape ({B}, {N}), got {idx.shape}")
            return np.asarray(self.grid[idx])
        arr = _real(actions)
        if arr.shape == (B, N, 1) and self.game.action_shape == ():
            arr = arr[..., 0]
        arr = self.game.check_actions(arr)
        if arr.shape[0] != B:
            raise ParameterError("actions", f"actions: expected batch size {B}, got {arr.shape[0]}")
        return arr

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._t_max >= self.horizon:
            raise RuntimeError("step() called on a finished episode; call reset() first")
        game_actions = self.to_game_actions(actions)
        # one validation per step, of the actions: the env's types come from game.sample_types
        # (valid by construction), so the game's unchecked _play runs on them
        outcome = self.game._play(self.types, game_actions)
        self.last_outcome = outcome
        self._last_round = (self.types, game_actions)  # kept for render(); round redraws rebind types
        self.t += 1
        self._t_max += 1
        self._public = self.game.public_signal(outcome)
        info = {} if self.metrics == () else {"metrics": self._game_metrics(outcome)}
        if self.redraw == "round":
            fresh = self.game.sample_types(self._rng, self.batch_size)
            live = (self.t < self.horizon).reshape(-1, *[1] * (fresh.ndim - 1))
            self.types = np.where(live, fresh, self.types)
        B, N = self.batch_size, self.n_agents
        truncated = (self.t >= self.horizon)[:, None] & self._all_agents  # (B, N)
        terminated = np.zeros((B, N), dtype=bool)
        return self._observe(), outcome.utility.copy(), terminated, truncated, info

    def _game_metrics(self, outcome: Any) -> dict[str, np.ndarray]:
        """``game.metrics`` (all) or ``game.metrics_named`` (the names asked for, checked once)."""
        if self.metrics is None:
            return self.game.metrics(self.types, outcome)
        if not self._metrics_checked:
            known = self.game.metrics(self.types, outcome)
            unknown = [m for m in self.metrics if m not in known]
            if unknown:
                raise ValueError(f"metrics: unknown names {unknown}; {type(self.game).__name__} has {sorted(known)}")
            self._metrics_checked = True
        return self.game.metrics_named(self.types, outcome, self.metrics)

    def default_actions(self) -> np.ndarray:
        truthful = self.game.truthful_actions(self.types)
        if self.grid is None:
            return truthful if self.game.action_shape else truthful[..., None]
        # nearest grid point (ties to the lower index) for scalar actions
        return np.asarray(np.abs(truthful[..., None] - self.grid).argmin(axis=-1))

    def state(self) -> np.ndarray:
        return self.types.reshape(self.batch_size, -1).astype(np.float32)

    def render(self) -> str | np.ndarray | None:
        """``ansi``: one line (round, public signal); ``rgb_array``: the game's drawing of the last
        round of copy 0 (its current types before the first round), ``uint8 (H, W, 3)``."""
        if self.render_mode == "ansi":
            return f"round {int(self.t[0])}/{self.horizon}; public {np.round(self._public[0], 4).tolist()}"
        if self.render_mode != "rgb_array" or self._draw is None:
            return None
        from coopsim.interop.render import render_rgb

        game_draw = self._draw

        types, actions = self._last_round if self._last_round is not None else (self.types, None)
        outcome = self.last_outcome if self._last_round is not None else None

        def draw(ax: Any) -> None:
            game_draw(ax, types, actions, outcome)
            ax.set_title(f"round {int(self.t[0])}/{self.horizon}", loc="right", fontsize=9)

        return render_rgb(draw)
