"""Calibration curves over the decay rate and the audit rates, for both audit hazards: the figure of
``economy_calibration`` and ``economy_calibration_audit`` results.

Reads the results stores of ``experiments/specs/economy_calibration.toml`` (lambda in {0, 0.0025,
0.005, 0.01, 0.02, 0.04}, audit rates at their defaults) and ``economy_calibration_audit.toml``
(audit-rate multiplier s in {0.25, 0.5, 1, 2, 4}, lambda = 0.005), each under the "elapsed" and
"poisson" hazards (reference-testbed economies, 20 scripted agents; the env's native ``simulate``).
Draws welfare, realised loss rate, audits per agent-step and mean tier at the last round against the
swept value and prints every recorded metric.

    coopsim run experiments/specs/economy_calibration.toml --workers 2
    coopsim run experiments/specs/economy_calibration_audit.toml --workers 2
    python experiments/agent_economy/calibration.py results/economy_calibration results/economy_calibration_audit

Writes ``<first folder>/calibration.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from coopsim import plotting, runner

METRICS = ("welfare", "loss_rate", "audits_per_agent_step", "mean_tier")
SWEEPS = (("env.decay_rate", "lambda"), ("env.audit_scale", "audit-rate multiplier"))


def main(decay: str = "results/economy_calibration", audit: str = "results/economy_calibration_audit") -> None:
    plotting.use_style()
    fig, axes = plotting.subplots(2, 4, figsize=(16, 7))
    for r, (folder, (col, xlabel)) in enumerate(zip((decay, audit), SWEEPS)):
        w = plotting.final_values(runner.load(folder), ["env.audit_hazard", col]).sort_values(col)
        print(w.drop(columns="replicate").to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        for c, metric in enumerate(METRICS):
            ax = axes[r, c]
            for hazard, d in w.groupby("env.audit_hazard"):
                ax.plot(d[col], d[metric], "o-", label=hazard)
            ax.set(xlabel=xlabel, ylabel=metric.replace("_", " "))
            if col == "env.audit_scale":
                ax.set_xscale("log")
    plotting.legend_outside(fig, title="hazard")  # the same groups in every panel
    fig.suptitle("Calibration over decay and audit rates (values at the last step)")
    path = plotting.save(fig, Path(decay) / "calibration.png")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
