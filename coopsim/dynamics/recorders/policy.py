"""Average-policy snapshots at record points and the per-round history of play."""

from __future__ import annotations

from typing import Any

import numpy as np

from coopsim.dynamics.recorders.base import Recorder, RoundData, SeriesStore

__all__ = ["Snapshots", "History"]


class Snapshots(Recorder):
    """``policy_snapshots`` ``(R, B, N, K)``: every learner's ``average_policy`` at record points."""

    name = "snapshots"
    per_round = False

    def __init__(self) -> None:
        self.snaps: list[np.ndarray] = []

    def record(self, rd: RoundData, store: SeriesStore) -> None:
        self.snaps.append(rd.population.gather("average_policy"))

    def finish(self, result: dict[str, Any]) -> None:
        result["policy_snapshots"] = np.stack(self.snaps) if self.snaps else None


class History(Recorder):
    """``history``: ``actions (T, B, N)``, ``rewards (T, B, N)`` and, when the game has a scalar
    outcome field, ``outcome (T, B)``."""

    name = "history"

    def __init__(self, rounds: int, B: int, N: int) -> None:
        self.actions = np.zeros((rounds, B, N), dtype=np.int64)
        self.rewards = np.zeros((rounds, B, N))
        self.outcome: np.ndarray | None = None
        self.rounds, self.B = rounds, B

    def observe(self, rd: RoundData) -> None:
        self.actions[rd.t - 1] = rd.actions
        self.rewards[rd.t - 1] = rd.r
        if rd.field is not None:
            if self.outcome is None:
                self.outcome = np.zeros((self.rounds, self.B))
            self.outcome[rd.t - 1] = rd.field_value()

    def finish(self, result: dict[str, Any]) -> None:
        history = {"actions": self.actions, "rewards": self.rewards}
        if self.outcome is not None:
            history["outcome"] = self.outcome
        result["history"] = history
