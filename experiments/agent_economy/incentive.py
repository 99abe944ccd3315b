"""Robustness investment against capability-only investment (spec T2d), and where the incentive fails.

Population: ``m`` robustness investors (archetype ``adaptive``: invest in the weakest true
dimension, re-audited after each investment) and ``n - m`` capability-only investors
(``capability_investor``), both starting from (0.55, 0.50, 0.45, IH* 0.80) with capability 0.7.
For the first ``k`` steps every agent invests ``invest_amount`` per step (cost amount (1 + 2 x) of
the invested attribute); afterwards both bid with the same rule (max EV (1 + 0.1
T_min) within 70% of the ceiling) and request a re-audit when at T0 or suspended. Testbed
economics of the reference code, 12 contracts per step, ``elapsed`` audit hazard, same-step settlement.

Earnings (final balance minus initial balance, averaged per type; "net" includes the investment
spend, "operating" adds it back) are compared across B independent economies (seeds).
Sweeps:
  * demand concentration: T1 weight c in {0.40 (Assumption 2, default weights), 0.6, 0.8, 0.95, 1.0},
    the rest spread over T2..T5 in the default proportions (c = 1: no demand above T1);
  * supply saturation: m robustness investors out of n = 16 in {2, 4, 8, 12, 14}, with the
    default market (D_3..D_5 fixed while N_3 grows).

Writes incentive.csv/.parquet and incentive.png to --out (default results/agent_economy/incentive).
Prints the ordering check: the robustness investors' operating gap is positive in every seed under
Assumption 2 and falls (to <= 0 at c = 1) under demand concentration.

    python experiments/agent_economy/incentive.py [--out DIR] [--seeds 16] [--steps 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from coopsim import plotting

sys.path.insert(0, str(Path(__file__).parent))
from common import TESTBED, summary, write  # noqa: E402
from coopsim.envs.agent_economy import AgentEconomy  # noqa: E402
from coopsim.envs.agent_economy_archetypes import M  # noqa: E402
from coopsim.envs.agent_economy_market import DEFAULT_TIER_WEIGHTS  # noqa: E402

OVERRIDES = {"adaptive": {"capability": 0.7}, "capability_investor": {"capability": 0.7}}
CONFIG = {**TESTBED, "initial_balance": 5.0, "invest_amount": 0.1}


def weights(c: float) -> np.ndarray:
    rest = DEFAULT_TIER_WEIGHTS[1:] / DEFAULT_TIER_WEIGHTS[1:].sum()
    return np.concatenate([[c], (1 - c) * rest])


def one(m: int, n: int, c: float, seeds: int, steps: int, k: int, seed: int) -> dict:
    arch = ["adaptive"] * m + ["capability_investor"] * (n - m)
    env = AgentEconomy(
        n_agents=n,
        batch_size=seeds,
        archetypes=arch,
        archetype_overrides=OVERRIDES,
        tier_weights=weights(c),
        horizon=steps,
        **CONFIG,
    )
    is_r = np.array([a == "adaptive" for a in arch])
    env.reset(seed=seed)
    for t in range(steps):
        a = np.full((seeds, n), M["bid_tier_ev"])
        if t < k:
            a[:] = np.where(is_r, M["invest_weakest"], M["invest_capability"])
        a = np.where(env.needs_reaudit(), M["request_upgrade"], a)
        env.step(a)
    net = env.balance - CONFIG["initial_balance"]
    op = net + env.invested
    gap_net = net[:, is_r].mean(1) - net[:, ~is_r].mean(1)
    gap_op = op[:, is_r].mean(1) - op[:, ~is_r].mean(1)
    tier_r = env.tier[:, is_r].mean()
    tier_c = env.tier[:, ~is_r].mean()
    return {
        "gap_net": gap_net,
        "gap_operating": gap_op,
        "tier_robust": tier_r,
        "tier_capability": tier_c,
        "net_robust": net[:, is_r].mean(),
        "net_capability": net[:, ~is_r].mean(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/agent_economy/incentive")
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--invest-steps", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    t0 = time.time()
    rows = []
    for c in (0.40, 0.6, 0.8, 0.95, 1.0):
        r = one(4, 8, c, args.seeds, args.steps, args.invest_steps, args.seed)
        for metric in ("gap_net", "gap_operating"):
            rows.append(
                {
                    "sweep": "demand_concentration",
                    "x": c,
                    "metric": metric,
                    **summary(r[metric]),
                    "tier_robust": r["tier_robust"],
                    "tier_capability": r["tier_capability"],
                }
            )
    for m in (2, 4, 8, 12, 14):
        r = one(m, 16, 0.40, args.seeds, args.steps, args.invest_steps, args.seed)
        for metric in ("gap_net", "gap_operating"):
            rows.append(
                {
                    "sweep": "supply_saturation",
                    "x": m,
                    "metric": metric,
                    **summary(r[metric]),
                    "tier_robust": r["tier_robust"],
                    "tier_capability": r["tier_capability"],
                }
            )
    df = pd.DataFrame(rows)
    out = Path(args.out)
    write(df, out, "incentive")
    plotting.use_style()
    fig, axes = plotting.subplots(1, 2, figsize=(11, 4))
    for ax, sweep, xl in zip(
        axes,
        ("demand_concentration", "supply_saturation"),
        ("T1 share of demand D_1 / sum D", "robustness investors m of n = 16"),
    ):
        for metric, style in (("gap_operating", "o-"), ("gap_net", "s--")):
            d = df[(df.sweep == sweep) & (df.metric == metric)]
            ax.errorbar(d.x, d["mean"], yerr=d["ci95"], fmt=style, capsize=3, label=metric.replace("_", " "))
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel(xl)
        ax.set_ylabel("earnings: robustness - capability investors")
    plotting.legend_outside(fig)  # the same series in both panels
    axes[0].set_title("demand concentration")
    axes[1].set_title("supply saturation")
    fig.suptitle(f"Robustness vs capability investment ({args.seeds} economies per point, {args.steps} steps)")
    plotting.save(fig, out / "incentive.png")
    dc = df[(df.sweep == "demand_concentration") & (df.metric == "gap_operating")].set_index("x")
    ss = df[(df.sweep == "supply_saturation") & (df.metric == "gap_operating")].set_index("x")
    print(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"check Assumption 2 (c=0.40): operating gap > 0 in {dc.loc[0.40, 'frac_positive']:.0%} of seeds")
    print(
        f"check concentration (c=1.0): operating gap mean {dc.loc[1.0, 'mean']:+.4f} "
        f"(> 0 in {dc.loc[1.0, 'frac_positive']:.0%} of seeds)"
    )
    print(
        f"check saturation: operating gap per robustness investor m=2 {ss.loc[2, 'mean']:+.4f} -> m=14 {ss.loc[14, 'mean']:+.4f}"
    )
    print(f"wrote {out}/incentive.csv, incentive.png in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
