"""Aggregate safety S against population size, with and without low-robustness entrants (Baxi: Monotonic Safety).

Economies start with 5 agents (one per scripted archetype) and admit entrants at rate
``entrant_rate`` per step into up to 45 free slots, drawn either from the archetype mix or from a
low-robustness profile (R* ~ U[0.2, 0.45]^3). Records S in both weight modes ("active":
exposure-weighted over active agents at the step's peak exposure; "potential": ceilings of active
agents) against the number of registered agents, and the S of the documented two-agent
counterexample to Monotonic Safety (0.9 -> 0.6; default table 0.9 -> 0.8940594). Testbed economics,
``elapsed`` audit hazard. Monotonic Safety is *not* asserted: the low-entrant arm shows S falling
as the population grows.

Writes safety_population.csv/.parquet and safety_population.png.

    python experiments/agent_economy/safety_population.py [--out DIR] [--seeds 16] [--steps 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd  # noqa: E402

from coopsim import plotting

sys.path.insert(0, str(Path(__file__).parent))
from common import TESTBED, write  # noqa: E402
from coopsim.envs.agent_economy import EMPTY, AgentEconomy  # noqa: E402
from coopsim.mechanisms.gate_properties import monotonic_safety_counterexample  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/agent_economy/safety_population")
    ap.add_argument("--seeds", type=int, default=16)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--entrant-rate", type=float, default=0.15)
    args = ap.parse_args()
    t0 = time.time()
    rows = []
    for profile in ("mix", "low"):
        env = AgentEconomy(
            n_agents=50,
            n_initial=5,
            batch_size=args.seeds,
            entrant_rate=args.entrant_rate,
            entrant_profile=profile,
            horizon=args.steps,
            **TESTBED,
        )
        env.reset(seed=7)
        for t in range(args.steps):
            _, _, _, _, info = env.step(env.default_actions())
            m = info["metrics"]
            pop = (env.status != EMPTY).sum(axis=1)
            for b in range(args.seeds):
                rows.append(
                    {
                        "entrants": profile,
                        "t": t + 1,
                        "seed": b,
                        "population": int(pop[b]),
                        "safety_active": float(m["safety_active"][b]),
                        "safety_potential": float(m["safety_potential"][b]),
                        "mean_tier": float(m["mean_tier"][b]),
                    }
                )
    df = pd.DataFrame(rows)
    out = Path(args.out)
    write(df, out, "safety_population")
    plotting.use_style()
    fig, axes = plotting.subplots(1, 2, figsize=(11, 4))
    for ax, col in zip(axes, ("safety_active", "safety_potential")):
        for profile, d in df.groupby("entrants"):
            g = d.groupby("population")[col].agg(["mean", "count"])
            g = g[g["count"] >= 3]
            ax.plot(g.index, g["mean"], "o-", ms=3, label=f"entrants: {profile}")
        ax.set_xlabel("registered agents")
        ax.set_ylabel(col.replace("_", " "))
        ax.set_ylim(0, 1.02)
    plotting.legend_outside(fig)  # the same groups in both panels
    b1, a1 = monotonic_safety_counterexample()
    b2, a2 = monotonic_safety_counterexample(default_table=True)
    fig.suptitle(f"S vs population (counterexample: {b1:.1f} -> {a1:.1f}; default table {b2:.1f} -> {a2:.7f})")
    plotting.save(fig, out / "safety_population.png")
    end = df[df.t == args.steps].groupby("entrants")[["population", "safety_active", "safety_potential"]].mean()
    start = df[df.t == 10].groupby("entrants")[["population", "safety_active", "safety_potential"]].mean()
    print("at t=10:\n", start.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"at t={args.steps}:\n", end.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"counterexample: {b1:.4f} -> {a1:.4f}; default table {b2:.4f} -> {a2:.7f}")
    print(f"wrote {out} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
