"""Gated vs capability-gated vs ungated economies: the figure of ``economy_counterfactual`` results.

Reads the results store of ``experiments/specs/economy_counterfactual.toml`` (weakest-link gate,
capability gate and no gate, with execution independent of robustness (robustness factor 0) and with
success probability times the true weakest-link robustness (1); 20 scripted agents, testbed
economics; the env's native ``simulate``). Draws the cumulative losses and welfare at the last step
(bars) and the realised loss rate over time, and prints the last step's table (means over the
economies of each unit, standard errors over seeds when the spec runs several).

    coopsim run experiments/specs/economy_counterfactual.toml --workers 2
    python experiments/agent_economy/counterfactual.py results/economy_counterfactual

Writes ``<folder>/counterfactual.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from coopsim import plotting, runner

GATES = ("weakest_link_gate", "capability_gate", "no_gate")
BY = ["env.robustness_factor", "env.gate"]


def main(folder: str = "results/economy_counterfactual") -> pd.DataFrame:
    df = runner.load(folder)
    w = plotting.final_values(df, BY)
    g = w.drop(columns="replicate").groupby(BY)
    mean, se = g.mean(), g.sem()
    print(mean.to_string(float_format=lambda v: f"{v:.4f}"))
    plotting.use_style()
    fig, axes = plotting.subplots(1, 3, figsize=(15, 4))
    for ax, col in zip(axes[:2], ("losses", "welfare")):
        for j, phi in enumerate(sorted(w["env.robustness_factor"].unique())):
            m = mean.loc[phi][col].reindex(GATES)
            e = se.loc[phi][col].reindex(GATES).fillna(0.0)
            ax.bar(np.arange(3) + 0.4 * j - 0.2, m, width=0.4, yerr=e, capsize=3, label=f"robustness factor {phi:g}")
        ax.set_xticks(range(3), [x.replace("_", " ") for x in GATES])
        ax.set_ylabel(col)
    plotting.legend_outside(axes[1])  # the same bars in the first two panels
    rate = df[df.metric == "loss_rate"].groupby([*BY, "round"])["value"].mean()
    for (phi, gate), d in rate.groupby(level=[0, 1]):
        axes[2].plot(
            d.index.get_level_values("round"), d.to_numpy(), "o-" if phi else "s--", label=f"{gate} (phi={phi:g})"
        )
    axes[2].set(xlabel="step", ylabel="realised loss rate (cumulative)")
    plotting.legend_outside(axes[2])
    fig.suptitle("Gated vs capability-gated vs ungated economies")
    path = plotting.save(fig, Path(folder) / "counterfactual.png")
    print(f"wrote {path}")
    return mean


if __name__ == "__main__":
    main(*sys.argv[1:])
