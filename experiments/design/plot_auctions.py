"""Figures for the auction-design experiments: training curves and learned vs optimal allocations.

    coopsim run experiments/specs/design_myerson_net.toml
    coopsim run experiments/specs/design_rochet_net.toml
    coopsim run experiments/specs/design_regret_net.toml
    python experiments/design/plot_auctions.py --results results --out experiments/design/figures

Writes into ``--out``:

- ``training_curves.png``: revenue per logged training step of MyersonNet (per n, dashed: Myerson's
  optimum), RochetNet (dashed: Manelli–Vincent) and RegretNet (revenue and minibatch regret; the long
  run's curves from ``--history`` when that file exists), read from the results store;
- ``myerson_allocation.png``: the shipped MyersonNet (2 bidders) — who wins on a grid of value pairs,
  with Myerson's boundaries (reserve 1/2, highest value wins) overlaid, and bidder 1's interim
  allocation ``P(win | v_1)`` against Myerson's ``v_1 1[v_1 >= 1/2]``;
- ``rochet_regions.png``: the shipped RochetNet menu — the option chosen on a grid of value pairs
  (coloured by the expected number of items bought) with the Manelli–Vincent regions overlaid.

Missing results folders are skipped (the allocation plots only need the shipped weights).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from coopsim.mechanisms import get  # noqa: E402

from coopsim import plotting
from coopsim.design.units import manelli_vincent_revenue, myerson_optimal_revenue  # noqa: E402
from coopsim.runner import load  # noqa: E402


def _wide(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    df = load(path)
    keys = [c for c in df.columns if c.startswith("function.") and c != "function.hidden"] + ["replicate", "round"]
    keys = [k for k in keys if k in df.columns]
    return df.pivot_table(index=keys, columns="metric", values="value").reset_index()


def training_curves(results: Path, history: Path, out: Path) -> None:
    plotting.use_style()
    fig, axes = plotting.subplots(1, 4, figsize=(17, 3.8))
    my = _wide(results / "design_myerson_net")
    if my is not None:
        for n, g in my.groupby("function.n_bidders"):
            line = axes[0].plot(g["round"], g["revenue"], label=f"n = {n} (held out {g['test_revenue'].iloc[0]:.4f})")
            axes[0].axhline(myerson_optimal_revenue(int(n)), ls="--", color=line[0].get_color(), lw=1)
    axes[0].set(title="MyersonNet: revenue (dashed: Myerson)", xlabel="training step", ylabel="revenue")
    rc = _wide(results / "design_rochet_net")
    if rc is not None:
        for r, g in rc.groupby("replicate"):
            axes[1].plot(g["round"], g["revenue"], label=f"seed {r} (grid {g['test_revenue'].iloc[0]:.4f})")
    axes[1].axhline(manelli_vincent_revenue(), ls="--", color="k", lw=1, label="Manelli–Vincent 0.5492")
    axes[1].set(title="RochetNet, 2 items: revenue", xlabel="training step", ylim=(0.3, 0.6))
    curves = []
    rn = _wide(results / "design_regret_net")
    if rn is not None:
        curves.append(("spec run", rn["round"].to_numpy(), rn["revenue"].to_numpy(), rn["regret"].to_numpy()))
    if history.exists():
        h = np.load(history, allow_pickle=False)
        curves.append(("long run (shipped)", h["step"], h["revenue"], h["regret"]))
    for name, step, rev, rgt in curves:
        axes[2].plot(step, rev, label=name)
        axes[3].semilogy(step, rgt, label=name)
    axes[2].axhline(0.878, ls="--", color="k", lw=1, label="paper 0.878")
    axes[2].axhline(2 / 3, ls=":", color="gray", lw=1, label="VCG 2/3")
    axes[2].set(title="RegretNet 2x2: revenue", xlabel="training step", ylim=(0.5, 1.0))
    axes[3].axhline(1e-3, ls="--", color="k", lw=1, label="1e-3")
    axes[3].set(title="RegretNet 2x2: minibatch regret per bidder", xlabel="training step")
    for ax in axes:
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            plotting.legend_outside(ax)
    plotting.save(fig, out / "training_curves.png")


def myerson_allocation(out: Path, k: int = 400) -> None:
    mech = get("myerson_net")
    g = (np.arange(k) + 0.5) / k
    v = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    res = mech(v)
    winner = np.where(res.assignment[:, 0] == 0, 1, np.where(res.assignment[:, 1] == 0, 2, 0))  # 0: no sale
    plotting.use_style()
    fig, axes = plotting.subplots(1, 2, figsize=(10, 4.3))
    axes[0].imshow(winner.reshape(k, k).T, origin="lower", extent=(0, 1, 0, 1), cmap="Pastel1", vmin=0, vmax=8)
    kw = dict(color="k", lw=1.2, ls="--")
    axes[0].plot([0.5, 0.5], [0, 0.5], **kw)
    axes[0].plot([0, 0.5], [0.5, 0.5], **kw)
    axes[0].plot([0.5, 1], [0.5, 1], **kw, label="Myerson: reserve 1/2, highest wins")
    for (x, y), text in (((0.2, 0.2), "no sale"), ((0.75, 0.3), "bidder 1"), ((0.3, 0.75), "bidder 2")):
        axes[0].text(x, y, text, ha="center")
    axes[0].set(title="MyersonNet (2 bidders): winner", xlabel="$v_1$", ylabel="$v_2$")
    plotting.legend_outside(axes[0])
    interim = (res.assignment[:, 0] == 0).reshape(k, k).mean(axis=1)
    axes[1].plot(g, interim, label="MyersonNet  P(bidder 1 wins | $v_1$)")
    axes[1].plot(g, np.where(g >= 0.5, g, 0.0), "k--", label="Myerson  $v_1 1[v_1 >= 1/2]$")
    axes[1].set(title="interim allocation of bidder 1", xlabel="$v_1$")
    plotting.legend_outside(axes[1])
    axes[1].grid(alpha=0.3)
    plotting.save(fig, out / "myerson_allocation.png")


def rochet_regions(out: Path, k: int = 400) -> None:
    mech = get("rochet_net")
    g = (np.arange(k) + 0.5) / k
    v = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 1, 2)
    res = mech(v)
    items = res.allocation[:, 0, :].sum(axis=1).reshape(k, k)
    plotting.use_style()
    fig, ax = plotting.subplots(figsize=(5.4, 4.6))
    im = ax.imshow(items.T, origin="lower", extent=(0, 1, 0, 1), cmap="viridis", vmin=0, vmax=2)
    fig.colorbar(im, ax=ax, label="expected items bought  $x_1 + x_2$")
    p = (4 - np.sqrt(2)) / 3
    a = p - 2 / 3
    kw = dict(color="w", lw=1.4, ls="--")
    ax.plot([2 / 3, 2 / 3], [0, a], **kw)
    ax.plot([2 / 3, 1], [a, a], **kw)
    ax.plot([0, a], [2 / 3, 2 / 3], **kw)
    ax.plot([a, a], [2 / 3, 1], **kw)
    ax.plot([a, 2 / 3], [2 / 3, a], **kw, label="Manelli–Vincent regions")
    ax.text(0.25, 0.25, "nothing", color="w", ha="center")
    ax.text(0.65, 0.65, "bundle at $(4-\\sqrt{2})/3$", color="k", ha="center", fontsize=8)
    ax.text(0.84, 0.08, "item 1\nat 2/3", color="w", ha="center", fontsize=8)
    ax.text(0.08, 0.84, "item 2\nat 2/3", color="w", ha="center", fontsize=8)
    rev = res.revenue.mean()
    ax.set(
        title=f"RochetNet menu: revenue {rev:.4f}\n(Manelli–Vincent optimum {manelli_vincent_revenue():.4f})",
        xlabel="$v_1$",
        ylabel="$v_2$",
    )
    plotting.legend_outside(ax)
    plotting.save(fig, out / "rochet_regions.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default="results", help="folder holding the design_* result folders")
    ap.add_argument("--history", default="experiments/design/results/regretnet_2x2.npz.history.npz")
    ap.add_argument("--out", default="experiments/design/figures")
    args = ap.parse_args()
    out = Path(args.out)
    os.makedirs(out, exist_ok=True)
    training_curves(Path(args.results), Path(args.history), out)
    myerson_allocation(out)
    rochet_regions(out)
    print(f"figures written to {out}")


if __name__ == "__main__":
    main()
