"""Online principal: regret R_T against T on log-log axes, fitted slope, IC violations.

For each instance, margin scale, horizon T and seed, run ``run_online`` (explore-then-commit with
T0 = ceil(kappa T^{2/3}) compliant exploration rounds, a robust commit LP on the estimated signal
tables, and a small strictly proper score mixed in), and record R_T (against the capped LP optimum
on the true instance), R_T / T, the committed mechanism's IC violation on the true instance and the
expected number of rounds in which a best-responding agent deviates. The slope of log R_T on
log T (fitted per seed on T >= 10^fit_from; mean and 95% interval over seeds) is a diagnostic;
the generic analysis predicts about 2/3 once the margin LP is feasible. Writes
results/online_regret.csv and results/online_regret.png.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from coopsim.mechanisms.information import instance_a, instance_b
from coopsim.mechanisms.online_principal import regret_benchmarks, run_online

HERE = Path(__file__).parent
INSTANCES = {"A": instance_a, "B": instance_b}


def main(spec_path: str | None = None) -> None:
    spec = tomllib.loads(Path(spec_path or HERE / "online_regret.toml").read_text())
    h = spec["horizons"]
    Ts = np.unique(np.round(np.logspace(h["start"], h["stop"], h["num"])).astype(np.int64))
    rows = []
    for name in spec["instances"]:
        model = INSTANCES[name]()
        opt = regret_benchmarks(model, spec["cap"])
        for ms in spec["margin_scales"]:
            for T in Ts:
                for seed in range(spec["seeds"]):
                    rng = np.random.default_rng([seed, int(T)])
                    r = run_online(
                        model,
                        int(T),
                        rng,
                        cap=spec["cap"],
                        kappa=spec["kappa"],
                        delta=spec["delta"],
                        rho=spec["rho"],
                        margin_scale=ms,
                        opt=opt,
                    )
                    rows.append(
                        dict(
                            instance=name,
                            margin_scale=ms,
                            T=int(T),
                            seed=seed,
                            T0=r.explore_rounds,
                            regret=r.regret,
                            regret_uncapped=r.regret_uncapped,
                            avg_regret=r.regret / T,
                            commit_value=r.commit_value,
                            opt=r.opt,
                            ic_violation=r.ic_violation,
                            deviation_rounds=r.deviation_rounds,
                            eps_bar=r.eps_bar,
                            feasible=r.feasible,
                        )
                    )
    df = pd.DataFrame(rows)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    df.to_csv(out / "online_regret.csv", index=False)
    slope_label = f"slope (T>=1e{spec['fit_from']:g})"
    print(
        f"{'inst':4} {'margin':>6} {slope_label:>18} {'95% CI':>16} "
        f"{'R_T/T at max T':>14} {'IC viol. rounds (max T)':>24}"
    )
    fits = []
    for (name, ms), d in df.groupby(["instance", "margin_scale"]):
        sl = []
        for _seed, g in d[d["T"] >= 10 ** spec["fit_from"]].groupby("seed"):
            y = np.log(np.maximum(g.regret.to_numpy(), 1e-12))
            sl.append(np.polyfit(np.log(g["T"].to_numpy()), y, 1)[0])
        sl = np.asarray(sl)
        half = 1.96 * sl.std(ddof=1) / np.sqrt(len(sl)) if len(sl) > 1 else np.nan
        last = d[d["T"] == d["T"].max()]
        fits.append(dict(instance=name, margin_scale=ms, slope=sl.mean(), lo=sl.mean() - half, hi=sl.mean() + half))
        print(
            f"{name:4} {ms:6.2f} {sl.mean():18.3f} [{sl.mean() - half:6.3f}, {sl.mean() + half:6.3f}] "
            f"{last.avg_regret.mean():14.5f} {last.deviation_rounds.mean():24.1f}"
        )
    pd.DataFrame(fits).to_csv(out / "online_regret_slopes.csv", index=False)
    _plot(df, spec, out / "online_regret.png")


def _plot(df: pd.DataFrame, spec: dict, path: Path) -> None:
    from coopsim import plotting

    names = df.instance.unique()
    plotting.use_style()
    fig, axes = plotting.subplots(2, len(names), figsize=(6 * len(names), 8), squeeze=False)
    for j, name in enumerate(names):
        d = df[df.instance == name]
        for ms, g in d.groupby("margin_scale"):
            m = g.groupby("T").regret.agg(["mean", "min", "max"])
            axes[0, j].loglog(m.index, m["mean"], "o-", label=f"margin x{ms:g}")
            axes[0, j].fill_between(m.index, np.maximum(m["min"], 1e-3), m["max"], alpha=0.2)
            v = g.groupby("T").deviation_rounds.mean()
            axes[1, j].semilogx(v.index, v / v.index, "o-", label=f"margin x{ms:g}")
        T = np.array(sorted(d["T"].unique()), dtype=float)
        ref = d[d["T"] == T[-1]].regret.mean() * (T / T[-1]) ** (2 / 3)
        axes[0, j].loglog(T, ref, "k:", label="slope 2/3 (reference)")
        axes[0, j].set_title(f"Instance {name}: regret R_T (cap B = {spec['cap']})")
        axes[0, j].set_xlabel("T")
        axes[1, j].set_title(f"Instance {name}: share of rounds with a deviating agent")
        axes[1, j].set_xlabel("T")
    plotting.legend_outside(fig)  # the same margins (and the reference slope) in every panel
    plotting.save(fig, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
