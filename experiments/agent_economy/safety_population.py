"""Aggregate safety S against population size, with and without low-robustness entrants (Baxi:
Monotonic Safety): the figure of ``economy_safety_population`` results.

Reads the results store of ``experiments/specs/economy_safety_population.toml`` (economies start
with 5 agents and admit entrants at rate 0.15 per step into up to 45 free slots, drawn from the
archetype mix or from a low-robustness profile; the env's native ``simulate``). Draws S in both weight
modes ("active": exposure-weighted over active agents; "potential": ceilings of active agents)
against the mean number of registered agents at each record point, and prints the documented
two-agent counterexample to Monotonic Safety. Monotonic Safety is *not* asserted: the low-entrant
arm shows S falling as the population grows.

    coopsim run experiments/specs/economy_safety_population.toml --workers 2
    python experiments/agent_economy/safety_population.py results/economy_safety_population

Writes ``<folder>/safety_population.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from coopsim.mechanisms.gates.properties import monotonic_safety_counterexample

from coopsim import plotting, runner


def main(folder: str = "results/economy_safety_population") -> pd.DataFrame:
    df = runner.load(folder)
    w = df.groupby(["env.entrant_profile", "round", "metric"])["value"].mean().unstack("metric").reset_index()
    plotting.use_style()
    fig, axes = plotting.subplots(1, 2, figsize=(11, 4))
    for ax, col in zip(axes, ("safety_active", "safety_potential")):
        for profile, d in w.groupby("env.entrant_profile"):
            ax.plot(d["population"], d[col], "o-", ms=3, label=f"entrants: {profile}")
        ax.set(xlabel="registered agents (mean over economies)", ylabel=col.replace("_", " "), ylim=(0, 1.02))
    plotting.legend_outside(fig)  # the same groups in both panels
    b1, a1 = monotonic_safety_counterexample()
    b2, a2 = monotonic_safety_counterexample(default_table=True)
    fig.suptitle(f"S vs population (counterexample: {b1:.1f} -> {a1:.1f}; default table {b2:.1f} -> {a2:.7f})")
    path = plotting.save(fig, Path(folder) / "safety_population.png")
    cols = ["population", "safety_active", "safety_potential"]
    for r in (w["round"].min(), w["round"].max()):
        print(
            f"at step {r}:\n",
            w[w["round"] == r].set_index("env.entrant_profile")[cols].to_string(float_format=lambda v: f"{v:.4f}"),
        )
    print(f"counterexample: {b1:.4f} -> {a1:.4f}; default table {b2:.4f} -> {a2:.7f}")
    print(f"wrote {path}")
    return w


if __name__ == "__main__":
    main(*sys.argv[1:])
