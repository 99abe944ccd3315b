"""Robustness investment against capability-only investment, and where the incentive fails: the
figure of ``economy_incentive`` and ``economy_incentive_saturation`` results.

Reads the results stores of ``experiments/specs/economy_incentive.toml`` (demand concentration: the
T1 share of demand c in {0.40 (the default market), 0.6, 0.8, 0.95, 1.0}, 4 robustness and 4
capability-only investors) and ``economy_incentive_saturation.toml`` (supply saturation: m
robustness investors out of n = 16), unit function ``economy_incentive``. Draws the operating and net
earnings gaps (robustness minus capability investors) at the last step, mean +- standard error over
seeds when the specs run several, and prints the ordering checks: the operating gap is positive
under the default market and falls (to <= 0 at c = 1) under demand concentration.

    coopsim run experiments/specs/economy_incentive.toml --workers 2
    coopsim run experiments/specs/economy_incentive_saturation.toml --workers 2
    python experiments/agent_economy/incentive.py results/economy_incentive results/economy_incentive_saturation

Writes ``<first folder>/incentive.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from coopsim import plotting, runner

SWEEPS = (("function.t1_share", "T1 share of demand D_1 / sum D"), ("function.m", "robustness investors m of n = 16"))


def gaps(folder: str, col: str) -> pd.DataFrame:
    w = plotting.final_values(runner.load(folder), [col])
    g = w.groupby(col)[["gap_operating", "gap_net"]]
    return g.mean().join(g.sem().fillna(0.0).add_suffix("_se"))


def main(demand: str = "results/economy_incentive", supply: str = "results/economy_incentive_saturation") -> None:
    plotting.use_style()
    fig, axes = plotting.subplots(1, 2, figsize=(11, 4))
    tables = {}
    for ax, folder, (col, xlabel) in zip(axes, (demand, supply), SWEEPS):
        t = tables[col] = gaps(folder, col)
        for metric, style in (("gap_operating", "o-"), ("gap_net", "s--")):
            ax.errorbar(
                t.index, t[metric], yerr=t[f"{metric}_se"], fmt=style, capsize=3, label=metric.replace("_", " ")
            )
        ax.axhline(0, color="k", lw=0.8)
        ax.set(xlabel=xlabel, ylabel="earnings: robustness - capability investors")
        print(t.to_string(float_format=lambda v: f"{v:+.4f}"))
    axes[0].set_title("demand concentration")
    axes[1].set_title("supply saturation")
    plotting.legend_outside(fig)  # the same series in both panels
    path = plotting.save(fig, Path(demand) / "incentive.png")
    dc = tables["function.t1_share"]["gap_operating"]
    print(f"check the default market (c = {dc.index.min():.2f}): operating gap {dc.iloc[0]:+.4f}")
    print(f"check concentration (c = {dc.index.max():.2f}): operating gap {dc.iloc[-1]:+.4f}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
