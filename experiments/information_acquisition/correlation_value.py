"""Value of correlating recommendations (the optimal LP against restricted mechanism classes): table
and figure of ``info_correlation_value`` and ``info_correlation_random`` results.

Reads the results store of ``experiments/specs/info_correlation_value.toml`` (the monitoring
instance: agent 0 works, agent 1's costly action reveals whether agent 0 shirked; the correlated
optimum, the best deterministic profile and the best uncorrelated mechanism as the payment cap B
grows; cap 0 = uncapped, whose LP value is virtual) and, when given, of
``info_correlation_random.toml`` (random 2-agent instances with correlated signals: the gaps
full - deterministic and full - uncorrelated, which are never negative).

    coopsim run experiments/specs/info_correlation_value.toml --workers 2
    coopsim run experiments/specs/info_correlation_random.toml --workers 2
    python experiments/information_acquisition/correlation_value.py results/info_correlation_value results/info_correlation_random

Writes ``<folder>/correlation_value.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from coopsim import plotting, runner

CLASSES = ["full", "deterministic", "uncorrelated", "phi_last", "full_attained"]


def figure(d: pd.DataFrame, path: Path) -> None:
    fin = d[d["function.cap"] > 0]
    sup = d[d["function.cap"] == 0]
    plotting.use_style()
    fig, ax = plotting.subplots(figsize=(6.5, 4.5))
    ax.semilogx(fin["function.cap"], fin.full, "o-", label="correlated LP optimum")
    ax.semilogx(fin["function.cap"], fin.uncorrelated, "s--", label="uncorrelated (product grid)")
    ax.semilogx(fin["function.cap"], fin.deterministic, "^:", label="best deterministic profile")
    if len(sup):
        v = float(sup.full.iloc[0])
        ax.axhline(v, color="k", lw=0.8, ls="--", label=f"uncapped LP value {v:.3f} (virtual, not attained)")
    ax.set(xlabel="payment cap B", ylabel="principal's expected utility")
    ax.set_title("Monitoring instance: value of correlated recommendations")
    plotting.legend_outside(ax)
    plotting.save(fig, path)


def random_gaps(folder: str) -> None:
    dr = plotting.final_values(runner.load(folder))
    cols = ["full", "deterministic", "uncorrelated", "gap_deterministic", "gap_uncorrelated"]
    print(f"\nrandom 2-agent instances ({len(dr)}):")
    print(dr[cols].describe().loc[["mean", "min", "max"]].to_string(float_format=lambda v: f"{v:.4f}"))
    print(
        f"instances with full > deterministic + 1e-6: {(dr.gap_deterministic > 1e-6).sum()}/{len(dr)}; "
        f"full > uncorrelated + 1e-6: {(dr.gap_uncorrelated > 1e-6).sum()}/{len(dr)}"
    )


def main(folder: str = "results/info_correlation_value", random_folder: str | None = None) -> pd.DataFrame:
    d = plotting.final_values(runner.load(folder), ["function.instance", "function.cap"]).sort_values("function.cap")
    print(d[["function.instance", "function.cap", *CLASSES]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    path = Path(folder) / "correlation_value.png"
    figure(d[d["function.instance"] == "monitoring"], path)
    print(f"wrote {path}")
    if random_folder:
        random_gaps(random_folder)
    return d


if __name__ == "__main__":
    main(*sys.argv[1:])
