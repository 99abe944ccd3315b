"""Metric recorders of the learning dynamics, one class per metric family, chosen by ``metrics=``.

=================  ========================================================  ==========================
name               series / result fields                                    cost
=================  ========================================================  ==========================
``regret``         ``regret``, ``regret_expected``, ``cce_gap``, ...          U every round, (B, N, K)
``swap_regret``    ``swap_regret``, ``ce_gap``                                U every round, (B, N, K, K)
``exploitability`` ``exploitability``, ``exploitability_avg``                 record points only
``reference``      ``report_distance``, ``report_within_step``, ...           every round
``game``           the game's own ``metrics`` (welfare, ratios, ...)         every round or record
``reward``         ``reward``                                                every round, (B, N)
``snapshots``      ``policy_snapshots``                                      record points only
``history``        ``history`` (actions, rewards, outcome per round)          every round, (T, B, N)
=================  ========================================================  ==========================
"""

from __future__ import annotations

from coopsim.dynamics.recorders.base import Recorder, RoundData, SeriesStore
from coopsim.dynamics.recorders.exploitability import Exploitability, exploitability_applies
from coopsim.dynamics.recorders.game import GameMetrics, Reward
from coopsim.dynamics.recorders.policy import History, Snapshots
from coopsim.dynamics.recorders.reference import ReferenceDistance, reference_resolver
from coopsim.dynamics.recorders.regret import ExternalRegret, SwapRegret
from coopsim.dynamics.recorders.window import WindowMean

#: the names ``metrics=`` accepts, in the order recorders run
METRIC_NAMES = ("regret", "swap_regret", "exploitability", "reference", "game", "reward", "snapshots", "history")

__all__ = [
    "METRIC_NAMES",
    "Recorder",
    "RoundData",
    "SeriesStore",
    "WindowMean",
    "ExternalRegret",
    "SwapRegret",
    "Exploitability",
    "exploitability_applies",
    "ReferenceDistance",
    "reference_resolver",
    "GameMetrics",
    "Reward",
    "Snapshots",
    "History",
]
