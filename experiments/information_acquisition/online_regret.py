"""Online principal: regret R_T against T on log-log axes, fitted slope, deviations; the table and
figure of ``info_online_regret`` results.

Reads the results store of ``experiments/specs/info_online_regret.toml`` (unit function
``info_online_regret``: explore-then-commit with T0 = ceil(kappa T^{2/3}) compliant exploration
rounds, a robust commit LP on the estimated signal tables and a small strictly proper score mixed in;
one recorded "round" T per unit). The slope of log R_T on log T is fitted per seed on
T >= 10^fit_from (default 5; mean and 95% interval over seeds): a diagnostic, about 2/3 once the
margin LP is feasible.

    coopsim run experiments/specs/info_online_regret.toml --workers 2
    python experiments/information_acquisition/online_regret.py results/info_online_regret [fit_from]

Writes ``<folder>/online_regret.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from coopsim import plotting, runner

BY = ["function.instance", "function.margin_scale", "function.horizon"]


def slopes(w: pd.DataFrame, fit_from: float) -> pd.DataFrame:
    rows = []
    for (name, ms), d in w.groupby(BY[:2]):
        fit = d[d["function.horizon"] >= 10**fit_from]
        sl = np.array(
            [
                np.polyfit(np.log(g["function.horizon"]), np.log(np.maximum(g.regret, 1e-12)), 1)[0]
                for _, g in fit.groupby("replicate")
                if g["function.horizon"].nunique() > 1
            ]
        )
        half = 1.96 * sl.std(ddof=1) / np.sqrt(len(sl)) if len(sl) > 1 else np.nan
        last = d[d["function.horizon"] == d["function.horizon"].max()]
        rows.append(
            {
                "instance": name,
                "margin_scale": ms,
                "slope": sl.mean() if len(sl) else np.nan,
                "lo": sl.mean() - half if len(sl) else np.nan,
                "hi": sl.mean() + half if len(sl) else np.nan,
                "avg_regret_at_max_T": last.avg_regret.mean(),
                "deviation_rounds_at_max_T": last.deviation_rounds.mean(),
            }
        )
    return pd.DataFrame(rows)


def figure(w: pd.DataFrame, path: Path) -> None:
    names = w["function.instance"].unique()
    plotting.use_style()
    fig, axes = plotting.subplots(2, len(names), figsize=(6 * len(names), 8), squeeze=False)
    for j, name in enumerate(names):
        d = w[w["function.instance"] == name]
        for ms, g in d.groupby("function.margin_scale"):
            m = g.groupby("function.horizon").regret.agg(["mean", "min", "max"])
            axes[0, j].loglog(m.index, m["mean"], "o-", label=f"margin x{ms:g}")
            axes[0, j].fill_between(m.index, np.maximum(m["min"], 1e-3), m["max"], alpha=0.2)
            v = g.groupby("function.horizon").deviation_rounds.mean()
            axes[1, j].semilogx(v.index, v / v.index, "o-", label=f"margin x{ms:g}")
        T = np.array(sorted(d["function.horizon"].unique()), dtype=float)
        ref = d[d["function.horizon"] == T[-1]].regret.mean() * (T / T[-1]) ** (2 / 3)
        axes[0, j].loglog(T, ref, "k:", label="slope 2/3 (reference)")
        axes[0, j].set(title=f"Instance {name}: regret R_T", xlabel="T")
        axes[1, j].set(title=f"Instance {name}: share of rounds with a deviating agent", xlabel="T")
    plotting.legend_outside(fig)  # the same margins (and the reference slope) in every panel
    plotting.save(fig, path)


def main(folder: str = "results/info_online_regret", fit_from: float | str = 5.0) -> pd.DataFrame:
    w = plotting.final_values(runner.load(folder), BY)
    out = slopes(w, float(fit_from))
    print(out.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    path = Path(folder) / "online_regret.png"
    figure(w, path)
    print(f"wrote {path}")
    return out


if __name__ == "__main__":
    main(*sys.argv[1:])
