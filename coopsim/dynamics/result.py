"""The result of :func:`coopsim.dynamics.run`: per-round arrays and a tidy pandas view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coopsim.core.validation import check_bool

__all__ = ["DynamicsResult"]


@dataclass
class DynamicsResult:
    """Time series of one learning-dynamics run over ``B`` copies.

    Attributes
    ----------
    rounds : ``(R,)`` int
        The recorded rounds t (1-based: the value after t rounds have been played).
    series : dict name -> array
        Leading axis = recorded round. Copy-level series are ``(R, B)``; per-agent series are
        ``(R, B, N)`` (``regret``, ``regret_expected``, ``swap_regret``, ``reward``).
    grid : ``(K, ...)`` or ``(N, K, ...)``
        The candidate actions learners index into.
    policy, average_policy, empirical_policy : ``(B, N, K)``
        Last policy, each learner's ``average_policy`` and the empirical action frequencies at the end.
    policy_snapshots : ``(R, B, N, K)`` or None
        ``average_policy`` at every record point (kept when cheap or when asked for).
    history : dict or None
        Per-round arrays ``actions (T, B, N)``, ``rewards (T, B, N)`` and ``outcome (T, B)`` (when
        the game has a scalar outcome) with ``keep_history=True``.
    types : array
        The types of the last round.
    config : dict
        The arguments of the run (JSON-friendly).
    """

    rounds: np.ndarray
    series: dict[str, np.ndarray]
    grid: np.ndarray
    policy: np.ndarray
    average_policy: np.ndarray
    empirical_policy: np.ndarray
    types: np.ndarray
    config: dict[str, Any] = field(default_factory=dict)
    policy_snapshots: np.ndarray | None = None
    history: dict[str, np.ndarray] | None = None
    wall_time: float = 0.0

    # -- access -------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> np.ndarray:
        try:
            return self.series[name]
        except KeyError:
            raise KeyError(f"no series {name!r}; available: {sorted(self.series)}") from None

    def __contains__(self, name: str) -> bool:
        return name in self.series

    @property
    def names(self) -> list[str]:
        """Names of the recorded series."""
        return sorted(self.series)

    @property
    def batch(self) -> int:
        return int(self.policy.shape[0])

    @property
    def n_agents(self) -> int:
        return int(self.policy.shape[1])

    def mean(self, name: str) -> np.ndarray:
        """Mean over copies of a series: ``(R,)`` or ``(R, N)``."""
        return self[name].mean(axis=1)

    def stderr(self, name: str) -> np.ndarray:
        """Standard error over copies, ``std(ddof=1) / sqrt(B)`` (0 when B = 1)."""
        x = self[name]
        B = x.shape[1]
        if B < 2:
            return np.zeros(x.mean(axis=1).shape)
        return x.std(axis=1, ddof=1) / np.sqrt(B)

    def final(self, name: str) -> np.ndarray:
        """The series at the last recorded round, ``(B,)`` or ``(B, N)``."""
        return self[name][-1]

    # -- tidy export ----------------------------------------------------------------------------
    def to_frame(self, per_copy: bool = False):
        """Tidy ``pandas.DataFrame``.

        ``per_copy=False`` (default): one row per (round, metric, agent) with ``value`` = mean over
        the B copies, ``se`` = standard error ``std(ddof=1)/√B`` and ``n_copies``. ``per_copy=True``:
        one row per (round, metric, agent, copy) with the copy's ``value``. ``agent`` is ``-1`` for
        copy-level metrics (CCE gap, welfare, distances).
        """
        per_copy = check_bool(per_copy, "per_copy")
        import pandas as pd

        frames = []
        for name in sorted(self.series):
            x = np.asarray(self.series[name], dtype=np.float64)
            if x.ndim == 2:
                x = x[:, :, None]
                agents = np.array([-1])
            else:
                agents = np.arange(x.shape[2])
            B = x.shape[1]
            if per_copy:
                rr, cc, aa = np.meshgrid(self.rounds, np.arange(B), agents, indexing="ij")
                frames.append(
                    pd.DataFrame(
                        {
                            "round": rr.ravel(),
                            "metric": name,
                            "agent": aa.ravel(),
                            "copy": cc.ravel(),
                            "value": x.ravel(),
                        }
                    )
                )
            else:
                mean = x.mean(axis=1)
                se = x.std(axis=1, ddof=1) / np.sqrt(B) if B > 1 else np.zeros_like(mean)
                rr, aa = np.meshgrid(self.rounds, agents, indexing="ij")
                frames.append(
                    pd.DataFrame(
                        {
                            "round": rr.ravel(),
                            "metric": name,
                            "agent": aa.ravel(),
                            "value": mean.ravel(),
                            "se": se.ravel(),
                            "n_copies": B,
                        }
                    )
                )
        if not frames:
            cols = (
                ["round", "metric", "agent", "copy", "value"]
                if per_copy
                else ["round", "metric", "agent", "value", "se", "n_copies"]
            )
            return pd.DataFrame(columns=cols)
        df = pd.concat(frames, ignore_index=True)
        df["metric"] = df["metric"].astype("string")
        return df

    def __repr__(self) -> str:
        return (
            f"DynamicsResult(rounds={len(self.rounds)} recorded up to t={int(self.rounds[-1]) if len(self.rounds) else 0}, "
            f"batch={self.batch}, n_agents={self.n_agents}, K={self.policy.shape[2]}, series={self.names})"
        )
