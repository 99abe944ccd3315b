"""Value of correlating recommendations (the optimal LP against restricted mechanism classes).

1. The "monitoring" instance: agent 0 works (binary signal, accuracy 0.8, cost 0.1); agent 1's
   costly action M (cost 0.05) reveals whether agent 0 shirked. Uncapped, the LP puts "virtual"
   payments on the never-recommended profile (H, M) (value 0.7, not attained); with a cap B the
   optimum recommends (H, M) with small probability and pays up to B there. Compare, as B grows,
   the correlated optimum, the best deterministic profile and the best uncorrelated mechanism
   (product recommendations on a grid, payments that do not depend on the recommended profile).
2. Instance B (two symmetric agents): all classes reach 8/15.
3. Random 2-agent instances with correlated signal tables: gaps full - deterministic and
   full - uncorrelated.
Writes results/correlation_value.csv, results/correlation_random.csv and results/correlation_value.png.
"""

from __future__ import annotations

import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from coopsim.mechanisms.information import InformationModel, instance_b, optimal_mechanism, random_model

from coopsim.runner.functions import monitoring_instance

HERE = Path(__file__).parent


def classes(model: InformationModel, cap: float | None, grid: int) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        full = optimal_mechanism(model, cap=cap, attain=False)  # the LP value itself (a supremum when virtual)
    det = optimal_mechanism(model, cap=cap, restriction="deterministic")
    unc = optimal_mechanism(model, cap=cap, restriction="uncorrelated", grid=grid)
    return {
        "full": full.value,
        "full_attained": full.attained,
        "full_ic": full.ic,
        "phi_monitor": float(full.recommendation.ravel()[-1]),
        "deterministic": det.value,
        "uncorrelated": unc.value,
        "uncorrelated_ic": unc.ic,
    }


def main(spec_path: str | None = None) -> None:
    spec = tomllib.loads(Path(spec_path or HERE / "correlation_value.toml").read_text())
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    mon = monitoring_instance()
    rows = []
    for cap in [None, *spec["caps"]]:
        r = classes(mon, cap, spec["grid"])
        rows.append(dict(instance="monitoring", cap=np.inf if cap is None else cap, **r))
    rb = classes(instance_b(), None, 4)
    rows.append(dict(instance="B", cap=np.inf, **rb))
    df = pd.DataFrame(rows)
    df.to_csv(out / "correlation_value.csv", index=False)
    print(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    rng = np.random.default_rng(spec["seed"])
    rand = []
    for k in range(spec["random_instances"]):
        m = random_model(rng, n_agents=2, n_actions=2, n_signals=2, n_states=2, product=False, max_cost=0.1)
        r = classes(m, spec["random_cap"], spec["random_grid"])
        rand.append(dict(instance=k, **r))
    dr = pd.DataFrame(rand)
    dr["gap_deterministic"] = dr.full - dr.deterministic
    dr["gap_uncorrelated"] = dr.full - dr.uncorrelated
    dr.to_csv(out / "correlation_random.csv", index=False)
    print(f"\nrandom 2-agent instances (cap {spec['random_cap']}, uncorrelated grid {spec['random_grid']}):")
    print(
        dr[["full", "deterministic", "uncorrelated", "gap_deterministic", "gap_uncorrelated"]]
        .describe()
        .loc[["mean", "min", "max"]]
        .to_string(float_format=lambda v: f"{v:.4f}")
    )
    print(
        f"instances with full > deterministic + 1e-6: {(dr.gap_deterministic > 1e-6).sum()}/{len(dr)}; "
        f"full > uncorrelated + 1e-6: {(dr.gap_uncorrelated > 1e-6).sum()}/{len(dr)}"
    )
    assert (dr.gap_deterministic >= -1e-7).all() and (dr.gap_uncorrelated >= -1e-7).all()
    _plot(df[df.instance == "monitoring"], out / "correlation_value.png")


def _plot(d: pd.DataFrame, path: Path) -> None:
    from coopsim import plotting

    fin = d[np.isfinite(d.cap)]
    sup = float(d[~np.isfinite(d.cap)].full.iloc[0])
    plotting.use_style()
    fig, ax = plotting.subplots(figsize=(6.5, 4.5))
    ax.semilogx(fin.cap, fin.full, "o-", label="correlated LP optimum")
    ax.semilogx(fin.cap, fin.uncorrelated, "s--", label="uncorrelated (product grid)")
    ax.semilogx(fin.cap, fin.deterministic, "^:", label="best deterministic profile")
    ax.axhline(sup, color="k", lw=0.8, ls="--", label=f"uncapped LP value {sup:.3f} (virtual, not attained)")
    ax.set_xlabel("payment cap B")
    ax.set_ylabel("principal's expected utility")
    ax.set_title("Monitoring instance: value of correlated recommendations")
    plotting.legend_outside(ax)
    plotting.save(fig, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
