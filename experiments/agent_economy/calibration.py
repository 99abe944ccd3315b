"""Calibration curves over the decay rate and the audit rates, for both audit hazards.

Reference-testbed economies (5 scripted archetypes x 4 copies each = 20 agents, 250 steps,
seeds batched) swept over lambda in {0, 0.0025, 0.005, 0.01, 0.02, 0.04} (audit rates at their
defaults) and over an audit-rate multiplier s in {0.25, 0.5, 1, 2, 4} (mu_k -> s mu_k, lambda =
0.005), each under the "elapsed" and "poisson" hazards. Measures welfare (surplus - realised
losses - fees), realised loss rate (truly failed / settled contracts), audits per agent-step,
mean tier, decay drops, blocked attempts and undetected gaming.

Writes calibration.csv/.parquet and calibration.png.

    python experiments/agent_economy/calibration.py [--out DIR] [--seeds 8] [--steps 300]
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
from common import TESTBED, write  # noqa: E402
from coopsim.envs.agent_economy import AgentEconomy  # noqa: E402
from coopsim.mechanisms.gates import DEFAULT_AUDIT_RATES  # noqa: E402


def measure(seeds: int, steps: int, **kw) -> dict:
    cfg = {**TESTBED, **kw}
    env = AgentEconomy(n_agents=20, batch_size=seeds, horizon=steps, **cfg)
    env.reset(seed=3)
    tiers = []
    for _ in range(steps):
        _, _, _, _, info = env.step(env.default_actions())
        tiers.append(info["metrics"]["mean_tier"])
    c = env.cum
    settled = c["settled_by_tier"].sum(1)
    return {
        "welfare": float(c["welfare"].mean()),
        "loss_rate": float((c["failed_by_tier"].sum(1) / np.maximum(settled, 1)).mean()),
        "audits_per_agent_step": float(c["audits"].mean() / (20 * steps)),
        "mean_tier": float(np.mean(tiers)),
        "decay_drops": float(c["decay_drops"].mean()),
        "blocked": float(c["blocked"].sum(1).mean()),
        "undetected_gaming": float(c["undetected_gaming"].mean()),
        "insolvencies": float(c["insolvencies"].mean()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="results/agent_economy/calibration")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=250)
    args = ap.parse_args()
    t0 = time.time()
    rows = []
    for hazard in ("elapsed", "poisson"):
        for lam in (0.0, 0.0025, 0.005, 0.01, 0.02, 0.04):
            rows.append(
                {
                    "sweep": "decay_rate",
                    "x": lam,
                    "hazard": hazard,
                    **measure(args.seeds, args.steps, decay_rate=lam, audit_hazard=hazard),
                }
            )
        for s in (0.25, 0.5, 1.0, 2.0, 4.0):
            rows.append(
                {
                    "sweep": "audit_scale",
                    "x": s,
                    "hazard": hazard,
                    **measure(args.seeds, args.steps, audit_rates=DEFAULT_AUDIT_RATES * s, audit_hazard=hazard),
                }
            )
    df = pd.DataFrame(rows)
    out = Path(args.out)
    write(df, out, "calibration")
    metrics = ("welfare", "loss_rate", "audits_per_agent_step", "mean_tier")
    plotting.use_style()
    fig, axes = plotting.subplots(2, 4, figsize=(16, 7))
    for r, sweep in enumerate(("decay_rate", "audit_scale")):
        for c, metric in enumerate(metrics):
            ax = axes[r, c]
            for hazard, d in df[df.sweep == sweep].groupby("hazard"):
                ax.plot(d.x, d[metric], "o-", label=hazard)
            ax.set_xlabel("lambda" if sweep == "decay_rate" else "audit-rate multiplier")
            ax.set_ylabel(metric.replace("_", " "))
            if sweep == "audit_scale":
                ax.set_xscale("log")
    plotting.legend_outside(fig, title="hazard")  # the same groups in every panel
    fig.suptitle(f"Calibration over decay and audit rates ({args.seeds} economies x 20 agents, {args.steps} steps)")
    plotting.save(fig, out / "calibration.png")
    print(df.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {out} in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
