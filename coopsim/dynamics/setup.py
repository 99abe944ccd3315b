"""Argument resolution of a dynamics run: the action grid, the types, the scalar outcome field."""

from __future__ import annotations

from typing import Any

import numpy as np

from coopsim.core.game import MechanismGame
from coopsim.core.validation import as_array, check_int, check_size

__all__ = ["resolve_grid", "scalar_outcome_field", "TruthfulIndex", "grid_step"]


def resolve_grid(game: MechanismGame, grid: Any) -> np.ndarray:
    """The candidate actions: ``game.action_grid(K)`` for an int (default ``game.default_grid_size``
    or 21), a ``(K, ...)`` array shared by all agents or an ``(N, K, ...)`` array per agent."""
    if grid is None:
        grid = getattr(game, "default_grid_size", 21)
    if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool):
        k = check_int(grid, "grid", lo=1)
        check_size("grid", k, game.n_agents, max(int(np.prod(game.action_shape, dtype=np.int64)), 1), copies=4)
        g = np.asarray(game.action_grid(k), dtype=np.float64)
    else:
        g = as_array(grid, "grid")
    ev = len(game.action_shape)
    if g.ndim == 1 + ev:
        K = g.shape[0]
    elif g.ndim == 2 + ev and g.shape[0] == game.n_agents:
        K = g.shape[1]
    else:
        raise ValueError(
            f"grid: expected an int K, a (K, ...) array or an (N={game.n_agents}, K, ...) array "
            f"for action shape {game.action_shape}, got shape {g.shape}"
        )
    if K < 1:
        raise ValueError("grid: expected at least one candidate action")
    return g


def scalar_outcome_field(outcome: Any, B: int, name: str | None) -> str | None:
    """The name of a scalar per-copy outcome field: ``name`` if given, else the first public field
    of shape ``(B,)`` (e.g. ``location``), else None."""
    fields = getattr(outcome, "fields", {})
    if name is not None:
        if name not in fields:
            raise ValueError(f"outcome_field: the game's outcome has no field {name!r}; fields: {sorted(fields)}")
        return name
    for f in tuple(getattr(outcome, "public", ())) + tuple(fields):
        v = fields.get(f)
        if v is not None and np.ndim(v) == 1 and np.shape(v)[0] == B and np.issubdtype(np.asarray(v).dtype, np.number):
            return f
    return None


def grid_step(grid_full: np.ndarray, action_shape: tuple) -> np.ndarray:
    """``(N,)`` the median spacing of each agent's grid (scalar actions; 0 otherwise)."""
    N, K = grid_full.shape[:2]
    if len(action_shape) == 0 and K > 1:
        return np.median(np.abs(np.diff(np.sort(grid_full, axis=1), axis=1)), axis=1)
    return np.zeros(N)


class TruthfulIndex:
    """Nearest grid index ``(B, N)`` of ``game.truthful_actions(types)``, computed on first use
    after the types change (Euclidean distance for vector actions; ties to the lower index)."""

    def __init__(self, game: MechanismGame, grid_full: np.ndarray, B: int) -> None:
        self.game, self.grid_full, self.B = game, grid_full, B
        self.types: Any = None
        self._value: np.ndarray | None = None

    def set_types(self, types: np.ndarray) -> None:
        self.types, self._value = types, None

    def __call__(self) -> np.ndarray:
        if self._value is None:
            B, ev = self.B, self.game.action_shape
            N, K = self.grid_full.shape[:2]
            x = np.asarray(self.game.truthful_actions(self.types), dtype=np.float64).reshape(B, N, *ev)
            d = x[:, :, None] - self.grid_full[None]  # (B, N, K, *ev)
            if len(ev):
                d = np.sqrt((d.reshape(B, N, K, -1) ** 2).sum(axis=-1))
            self._value = np.abs(d).argmin(axis=2).astype(np.int64)
        return self._value
