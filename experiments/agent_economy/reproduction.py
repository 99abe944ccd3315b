"""Reference synthetic testbed of the CGAE reference code (``rb125/cgae``), reproduced statistically:
the figure of ``economy_reproduction`` results.

Reads the results store of ``experiments/specs/economy_reproduction.toml`` (one agent per archetype:
conservative, aggressive, balanced, adaptive, cheater; fcfs allocation; testbed economics; the
env's native ``simulate``). The reference uses Python's ``random``, so coopsim compares
distributions over economies, not single trajectories. Draws the tier distribution over time,
earnings by strategy at the last step (mean +- 1.96 standard errors over seeds) and blocked attempts
by type; prints the earnings ranking and the audit, demotion, decay-drop, insolvency and Gini figures.

    coopsim run experiments/specs/economy_reproduction.toml --workers 2
    python experiments/agent_economy/reproduction.py results/economy_reproduction

Writes ``<folder>/reproduction.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from coopsim import plotting, runner

FIVE = ("conservative", "aggressive", "balanced", "adaptive", "cheater")


def main(folder: str = "results/economy_reproduction") -> pd.Series:
    df = runner.load(folder)
    w = plotting.final_values(df)
    tiers = df[df.metric.str.fullmatch(r"tier_\d")].groupby(["round", "metric"])["value"].mean().unstack("metric")
    blocked = w[[c for c in w.columns if c.startswith("blocked_")]].mean()
    earn = w[[f"earnings_{a}" for a in FIVE]].rename(columns=lambda c: c.removeprefix("earnings_"))
    means, errs = earn.mean(), 1.96 * earn.sem().fillna(0.0)
    plotting.use_style()
    fig, axes = plotting.subplots(1, 3, figsize=(16, 4.2))
    axes[0].stackplot(
        tiers.index, *[tiers[c] for c in tiers.columns], labels=[c.replace("tier_", "T") for c in tiers.columns]
    )
    axes[0].set(xlabel="step", ylabel="agents (mean over economies)", title="tier distribution")
    plotting.legend_outside(axes[0])
    axes[1].bar(range(len(FIVE)), means, yerr=errs, capsize=4)
    axes[1].set_xticks(range(len(FIVE)), FIVE, rotation=20)
    axes[1].set(ylabel="earnings at the last step", title="earnings by strategy")
    axes[2].bar(range(len(blocked)), blocked.to_numpy())
    axes[2].set_xticks(
        range(len(blocked)), [c.removeprefix("blocked_") for c in blocked.index], rotation=30, ha="right"
    )
    axes[2].set_title(f"blocked attempts by type (undetected gaming {w['undetected_gaming'].mean():.1f})")
    path = plotting.save(fig, Path(folder) / "reproduction.png")
    print("earnings by strategy (mean, 95% CI over seeds):")
    for a in FIVE:
        print(f"  {a:>13}: {means[a]:+.4f} +- {errs[a]:.4f}")
    print("rank:", " > ".join(means.sort_values(ascending=False).index))
    print("blocked by type:", dict(zip(blocked.index, np.round(blocked.to_numpy(), 2))))
    for k in (
        "undetected_gaming",
        "gaming_exposed",
        "audits",
        "audit_demotions",
        "decay_drops",
        "insolvencies",
        "gini",
    ):
        print(f"{k}: {w[k].mean():.3f}")
    print(f"wrote {path}")
    return means


if __name__ == "__main__":
    main(*sys.argv[1:])
