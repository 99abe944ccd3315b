"""Shared helpers of the agent-economy experiments: the reference testbed config, a run loop that
records per-step metrics, and result writing (CSV + Parquet)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from coopsim.envs.agent_economy import AgentEconomy

#: reference synthetic testbed [C] of the reference code ``rb125/cgae``: balance 0.5, lambda 0.005, audit 0.002/dim,
#: upkeep 0.0003, 12 contracts per step (11 posted), same-step settlement
TESTBED = dict(initial_balance=0.5, decay_rate=0.005, audit_cost=0.002, upkeep=0.0003, contracts_per_step=12)


def run(
    env: AgentEconomy,
    steps: int,
    seed: int,
    policy: Callable[[AgentEconomy, int], np.ndarray] | None = None,
    record: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """Reset with ``seed`` and step ``steps`` times; ``policy(env, t)`` gives (B, N) macros (default:
    the scripted archetypes). Returns the recorded metrics, each ``(steps, B)``."""
    env.reset(seed=seed)
    rec: dict[str, list] = {k: [] for k in record}
    for t in range(steps):
        a = env.default_actions() if policy is None else policy(env, t)
        _, _, _, _, info = env.step(a)
        for k in record:
            rec[k].append(np.asarray(info["metrics"][k]).copy())
    return {k: np.stack(v) for k, v in rec.items()}


def write(df: pd.DataFrame, out: Path, name: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / f"{name}.csv", index=False)
    try:
        df.to_parquet(out / f"{name}.parquet", index=False)
    except Exception:  # pragma: no cover - pyarrow missing
        pass


def ci95(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Half-width of a normal 95% confidence interval of the mean."""
    x = np.asarray(x, dtype=float)
    return 1.96 * x.std(axis=axis, ddof=1) / np.sqrt(x.shape[axis])


def summary(x: np.ndarray) -> dict[str, Any]:
    return {
        "mean": float(np.mean(x)),
        "ci95": float(ci95(x)) if np.size(x) > 1 else 0.0,
        "frac_positive": float(np.mean(np.asarray(x) > 0)),
    }
