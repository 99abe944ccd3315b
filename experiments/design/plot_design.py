"""Figures for the design experiments, read from the results store.

    coopsim run experiments/specs/design_scoring_shapes.toml
    coopsim run experiments/specs/design_phantoms.toml
    python experiments/design/plot_design.py results/design_scoring_shapes results/design_phantoms

Writes ``scoring_shapes.png`` (score S(f, w = 1) and expected score G(f) of the optimal bounded rule
against quadratic / spherical / logarithmic rules scaled to the same range, one column per prior)
into the first folder and ``phantom_positions.png`` (searched phantoms vs Uniform Phantom's k/n,
one panel per axiom) into the second, and prints the effort gains, the expected costs, and a report card per searched
rule (expected SC/MC and IFS/UFS/PF/proportionality/unanimity verdicts against Uniform Phantom and the
median).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd  # noqa: E402
from coopsim.mechanisms.facility import GeneralizedMedian, Median, UniformPhantom  # noqa: E402

from coopsim import plotting
from coopsim.design import format_report, phantom_report  # noqa: E402
from coopsim.runner import load  # noqa: E402

RULES = ("optimal", "quadratic", "spherical", "logarithmic")


def _wide(path: str) -> pd.DataFrame:
    df = load(path)
    keys = [c for c in df.columns if c.startswith("function.")] + ["round"]
    return df.pivot_table(index=keys, columns="metric", values="value").reset_index()


def plot_scoring(path: str) -> None:
    w = _wide(path)
    priors = sorted(w["function.prior"].unique())
    plotting.use_style()
    fig, axes = plotting.subplots(2, len(priors), figsize=(5 * len(priors), 7), squeeze=False)
    for j, mu in enumerate(priors):
        d = w[w["function.prior"] == mu].sort_values("round")
        for r in RULES:
            style = {"lw": 2.5, "color": "k"} if r == "optimal" else {"lw": 1.2}
            gain = d[f"gain_{r}"].iloc[0]
            axes[0, j].plot(d["report"], d[f"S1_{r}"], label=f"{r} (gain {gain:.3f})", **style)
            axes[1, j].plot(d["report"], d[f"G_{r}"], label=r, **style)
        axes[0, j].axvline(mu, color="grey", ls=":", lw=0.8)
        axes[1, j].axvline(mu, color="grey", ls=":", lw=0.8)
        axes[0, j].set(title=f"prior P(w=1) = {mu:g}", xlabel="report f = P(w = 1)", ylabel="score S(f, w = 1)")
        axes[1, j].set(xlabel="report f", ylabel="expected score G(f)")
        plotting.legend_outside(axes[0, j])
    out = Path(path) / "scoring_shapes.png"
    plotting.save(fig, out)
    print(f"wrote {out}")
    gains = w.groupby("function.prior")[[f"gain_{r}" for r in RULES]].first()
    print(gains.to_string(float_format=lambda v: f"{v:.4f}"))


def plot_phantoms(path: str) -> None:
    w = _wide(path)
    axioms = sorted(w["function.axiom"].unique())
    plotting.use_style()
    fig, axes = plotting.subplots(1, len(axioms), figsize=(5 * len(axioms), 4), squeeze=False)
    for j, ax_name in enumerate(axioms):
        ax = axes[0, j]
        d = w[w["function.axiom"] == ax_name]
        for n, g in d.groupby("function.n_agents"):
            g = g.sort_values("round")
            (line,) = ax.plot(g["round"] / n, g["phantom"], "o-", label=f"n = {n} searched")
            ax.plot(g["round"] / n, g["phantom_up"], "x--", color=line.get_color(), alpha=0.6, label=f"n = {n} UP")
        ax.set(title=f"axiom: {ax_name}", xlabel="phantom rank k / n", ylabel="phantom position")
        plotting.legend_outside(ax)
    out = Path(path) / "phantom_positions.png"
    plotting.save(fig, out)
    print(f"wrote {out}")
    cols = ["sc", "sc_up", "mc", "mc_up", "ifs"]
    print(w.groupby(["function.axiom", "function.n_agents"])[cols].first().to_string(float_format=lambda v: f"{v:.4f}"))
    # report card of each searched rule against Uniform Phantom and the median (axiom verdicts via satisfies)
    for (ax_name, n), g in w.groupby(["function.axiom", "function.n_agents"]):
        dist = ("beta", float(g["function.a"].iloc[0]), float(g["function.b"].iloc[0]))
        mechs = {
            "searched": GeneralizedMedian(g.sort_values("round")["phantom"].to_numpy()),
            "uniform_phantom": UniformPhantom(),
            "median": Median(),
        }
        print(f"\naxiom {ax_name}, n = {n}, peaks Beta{dist[1:]}:")
        print(format_report(phantom_report(int(n), dist, mechs, samples=20000)))


if __name__ == "__main__":
    args = sys.argv[1:] or ["results/design_scoring_shapes", "results/design_phantoms"]
    plot_scoring(args[0])
    if len(args) > 1:
        plot_phantoms(args[1])
