"""The game's own metrics and the per-agent reward, window-averaged between record points."""

from __future__ import annotations

import numpy as np

from coopsim.dynamics.recorders.base import Recorder, RoundData, SeriesStore
from coopsim.dynamics.recorders.window import WindowMean

__all__ = ["GameMetrics", "Reward"]


class GameMetrics(Recorder):
    """``game.metrics(types, outcome)``: every round and window-averaged (``mode="round"``; a
    metric reported only in some rounds is averaged over those, NaN where absent from the whole
    window) or the last round's values at record points only (``mode="record"``, cheaper)."""

    name = "game"

    def __init__(self, game, mode: str) -> None:
        self.game, self.mode = game, mode
        self.per_round = mode == "round"
        self.window = WindowMean()

    def observe(self, rd: RoundData) -> None:
        for name, v in self.game.metrics(rd.types, rd.outcome).items():
            self.window.add(name, np.asarray(v, dtype=np.float64))

    def record(self, rd: RoundData, store: SeriesStore) -> None:
        if self.mode == "round":
            store.put_all(self.window.flush())
            return
        for name, v in self.game.metrics(rd.types, rd.outcome).items():
            store.put(name, np.asarray(v, dtype=np.float64))


class Reward(Recorder):
    """``reward`` ``(R, B, N)``: each agent's realised utility averaged over the window."""

    name = "reward"

    def __init__(self) -> None:
        self.window = WindowMean()

    def observe(self, rd: RoundData) -> None:
        self.window.add("reward", rd.r)

    def record(self, rd: RoundData, store: SeriesStore) -> None:
        store.put_all(self.window.flush())
