"""No-regret bidders on a shading grid: the table and figure of ``auction_shading`` results.

Reads the results store of ``experiments/specs/auction_shading.toml`` (Hedge, full information) or
``auction_shading_bandit.toml`` (EXP3, bandit feedback); the unit function ``auction_shading``
computes everything. Targets (Feng, Guruganesh, Liaw, Mehta and Sethi, AAAI 2021): first price
s -> (n-1)/n with revenue (n-1)/(n+1); second price and VCG s -> 1. Printed per configuration: the
tail-averaged factor, modal factor, revenue and largest policy probability, mean +- standard error
over all copies of all seeds, the targets, the symmetric pure equilibria of the grid game
(``grid_equilibria``) and the share of copies whose mode is one of them.

    coopsim run experiments/specs/auction_shading.toml --workers 2
    python experiments/position_auctions/first_price_learning.py results/auction_shading

Writes ``<folder>/revenue.png`` (revenue against rounds, one line per configuration).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from coopsim import plotting, runner
from coopsim.runner.functions.auctions import grid_equilibria, shading_grid

CONFIG = ["function.mechanism", "function.n_agents", "function.n_slots", "function.learner", "function.learner_params"]
GRID = ["function.grid_step", "function.grid_points"]
STATS = ("factor", "mode", "revenue_tail", "policy_max")


def table(df: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: means over seeds and the standard error of that mean."""
    by = [c for c in CONFIG + GRID if c in df.columns]
    last = plotting.final_values(df[df.metric != "revenue"], by)
    rows = []
    for key, g in last.groupby(by, dropna=False, sort=True):
        row = dict(zip([c.removeprefix("function.") for c in by], key))
        for s in STATS:  # each seed's mean over its copies; se of the mean over seeds
            row[s] = g[s].mean()
            row[f"{s}_se"] = float(np.sqrt((g[f"{s}_se"] ** 2).sum()) / len(g))
        for s in ("factor_target", "revenue_target", "in_grid_ne", "in_grid_ne_explore"):
            if s in g:
                row[s] = g[s].mean()
        if row["mechanism"] == "first_price":
            grid = shading_grid(row.get("grid_step"), row.get("grid_points"))
            row["grid_ne"] = " ".join(f"{x:.3f}" for x in grid_equilibria(grid, int(row["n_agents"])))
        rows.append(row)
    return pd.DataFrame(rows)


def figure(df: pd.DataFrame, path: Path) -> None:
    curves = df[df.metric == "revenue"]
    plotting.use_style()
    fig, ax = plotting.subplots(figsize=(7, 4))
    for (mech, n, lrn), g in curves.groupby(["function.mechanism", "function.n_agents", "function.learner"]):
        m = g.groupby("round")["value"].mean()
        ax.plot(m.index, m.to_numpy(), label=f"{mech} n={n} {lrn}")
    ax.set_xlabel("round")
    ax.set_ylabel("revenue (window average)")
    plotting.legend_outside(ax)
    plotting.save(fig, path)


def main(folder: str = "results/auction_shading") -> pd.DataFrame:
    df = runner.load(folder)
    out = table(df)
    print(out.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    figure(df, Path(folder) / "revenue.png")
    print(f"wrote {Path(folder) / 'revenue.png'}")
    return out


if __name__ == "__main__":
    main(*sys.argv[1:])
