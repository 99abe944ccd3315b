"""Compare Uniform Phantom, median, average and midpoint for n = 2..10 (the newcomer's experiment):
the table and four-panel figure of ``facility_compare`` results.

Reads the results store of ``experiments/specs/facility_compare.toml`` (unit function
``facility_card``: per mechanism and n, the incentive audit's largest gain from a misreport, the
axiom satisfaction rates on random profiles and the worst-case SW, TC and MC ratios, with the
published closed forms of Aziz, Lam, Lee and Walsh, arXiv:2111.01566, in ``spec_SW``, ``spec_TC``,
``spec_MC``). Draws the audit gain and each measured ratio (markers) on its closed form (dashed).

    coopsim run experiments/specs/facility_compare.toml
    python experiments/facility/compare_mechanisms.py results/facility_compare

Writes ``<folder>/figure.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from coopsim import plotting, runner


def figure(table: pd.DataFrame, path: Path) -> None:
    plotting.use_style()
    fig, axes = plotting.subplots(1, 4, figsize=(17, 3.8))
    for k, (name, part) in enumerate(table.groupby("mechanism")):
        marker = {"marker": plotting.MARKERS[k], "mfc": "none", "ms": 8.0 - 1.2 * k}
        axes[0].plot(part["n"], part["audit_gain"], label=name, **marker)
        for ax, obj in zip(axes[1:], ("SW", "TC", "MC")):
            # measured: markers; closed form: the dashed line through them
            (line,) = ax.plot(part["n"], part[f"ratio_{obj}"], ls="none", label=name, **marker)
            ax.plot(part["n"], part[f"spec_{obj}"], color=line.get_color(), **plotting.REFERENCE_STYLE)
    axes[0].set(title="largest gain from a misreport", xlabel="n", ylabel="utility gain")
    for ax, obj in zip(axes[1:], ("SW", "TC", "MC")):
        ax.set(title=f"worst-case {obj} ratio (dashed: closed form)", xlabel="n", ylabel="ratio (>= 1)")
    plotting.legend_outside(axes[-1], title="mechanism")
    plotting.save(fig, path)


def main(folder: str = "results/facility_compare") -> pd.DataFrame:
    w = plotting.final_values(runner.load(folder), ["function.mechanism", "function.n_agents"])
    w = w.rename(columns={"function.mechanism": "mechanism", "function.n_agents": "n"}).sort_values(["mechanism", "n"])
    cols = ["mechanism", "n", "audit_gain", *(f"{p}_{o}" for o in ("SW", "TC", "MC") for p in ("ratio", "spec"))]
    print(w[cols].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    path = Path(folder) / "figure.png"
    figure(w, path)
    print(f"wrote {path}")
    return w


if __name__ == "__main__":
    main(*sys.argv[1:])
