"""Distance of play to a reference profile (e.g. truthful reports or a known equilibrium).

Per round, window-averaged: ``report_distance`` = ``mean_i |x_i - ref_i|`` (mean over action
components), ``report_within_step`` = the share of agents within one grid step of the reference
(the step is the median spacing of the agent's grid), ``outcome_distance`` = ``|f(x) - f*|`` for
the game's scalar outcome field ``f`` (e.g. the facility ``location``) where ``f*`` is
``reference_outcome`` or the outcome of the reference profile. At record points, with types fixed
for the run: ``avg_outcome_distance`` = ``|mean_{s≤t} f(x_s) - f*|``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from coopsim.core.validation import ParameterError, as_array, check_choice
from coopsim.dynamics.recorders.base import Recorder, RoundData, SeriesStore
from coopsim.dynamics.recorders.window import WindowMean

__all__ = ["ReferenceDistance", "reference_resolver"]


def _broadcast(arr: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``arr`` broadcast to ``shape`` (float64), or an error naming ``name``."""
    try:
        return np.broadcast_to(arr, shape).astype(np.float64)
    except ValueError:
        raise ParameterError(
            name, f"{name}: expected an array broadcastable to {shape}, got shape {arr.shape}"
        ) from None


def reference_resolver(game, reference: Any, reference_outcome: Any, B: int, N: int) -> tuple[Callable, Callable]:
    """Validate ``reference`` / ``reference_outcome`` and return ``(actions(types), outcome(types))``:
    the reference profile ``(B, N, ...)`` or None, the target outcome ``(B,)`` or None."""
    ev = game.action_shape
    ref_fixed = None
    if reference is not None and not (isinstance(reference, str) or callable(reference)):
        ref_fixed = _broadcast(as_array(reference, "reference"), (B, N, *ev), "reference")
    elif isinstance(reference, str):
        check_choice(reference, "reference", ("truthful",))
    out_fixed = None
    if reference_outcome is not None and not callable(reference_outcome):
        out_fixed = _broadcast(as_array(reference_outcome, "reference_outcome"), (B,), "reference_outcome")

    def actions(ty: np.ndarray) -> np.ndarray | None:
        if reference is None:
            return None
        if ref_fixed is not None:
            return ref_fixed
        if isinstance(reference, str):
            return np.asarray(game.truthful_actions(ty), dtype=np.float64)
        out = np.asarray(reference(ty), dtype=np.float64)
        if out.shape != (B, N, *ev):
            raise ValueError(f"reference: the callable returned shape {out.shape}, expected {(B, N, *ev)}")
        return out

    def outcome(ty: np.ndarray) -> np.ndarray | None:
        if out_fixed is not None:
            return out_fixed
        if callable(reference_outcome):
            return np.broadcast_to(np.asarray(reference_outcome(ty), dtype=np.float64), (B,))
        return None

    return actions, outcome


class ReferenceDistance(Recorder):
    """``report_distance``, ``report_within_step``, ``outcome_distance`` (window means, ``(R, B)``)
    and ``avg_outcome_distance`` (``(R, B)``, types fixed for the run only)."""

    name = "reference"

    def __init__(self, game, resolver: tuple[Callable, Callable], step: np.ndarray, redraw: str, B: int) -> None:
        self.game = game
        self._actions_of, self._outcome_of = resolver
        self.step = step  # (N,)
        self.redraw = redraw
        self.window = WindowMean()
        self.cum_out = np.zeros(B)
        self.ref_actions: np.ndarray | None = None
        self.ref_out: np.ndarray | None = None
        self.ref_field_value: np.ndarray | None = None

    def new_types(self, types: np.ndarray) -> None:
        self.ref_actions = self._actions_of(types)
        self.ref_out = self._outcome_of(types)
        self.ref_field_value = None  # the reference profile's outcome, played lazily

    def observe(self, rd: RoundData) -> None:
        B, N = rd.r.shape
        f_val = None
        if rd.field is not None:
            f_val = rd.field_value()
            self.cum_out += f_val
        ref = self.ref_actions
        if ref is not None:
            diff = np.abs(rd.x - ref).reshape(B, N, -1).mean(axis=2)
            self.window.add("report_distance", diff.mean(axis=1))
            self.window.add("report_within_step", (diff <= self.step[None, :] * (1 + 1e-9) + 1e-12).mean(axis=1))
        if f_val is not None and (self.ref_out is not None or ref is not None):
            self.window.add("outcome_distance", np.abs(f_val - self._target(rd)))

    def _target(self, rd: RoundData) -> np.ndarray:
        if self.ref_out is not None:
            return self.ref_out
        if self.ref_field_value is None:
            played = self.game.play(rd.types, self.ref_actions)
            self.ref_field_value = np.asarray(played.fields[rd.field], dtype=np.float64)
        return self.ref_field_value

    def record(self, rd: RoundData, store: SeriesStore) -> None:
        store.put_all(self.window.flush())
        target = self.ref_out if self.ref_out is not None else self.ref_field_value
        if rd.field is not None and self.redraw == "episode" and target is not None:
            store.put("avg_outcome_distance", np.abs(self.cum_out / rd.t - target))
