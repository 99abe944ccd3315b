"""Learning agents choose effort and reports (Hedge over plans of ``EffortReportGame``): the table of
``info_learners_effort`` results.

Reads the results store of ``experiments/specs/info_learners_effort.toml`` (unit function
``info_effort_learning``). Compared mechanisms: the LP optimum (agents are left exactly
indifferent: obedience is weakly optimal, so learners need not select it), the epsilon-strict LP
with a small strictly proper score mixed into hired agents' payments, and a scaled quadratic rule.
Printed per instance, mechanism and agent at the last round: the mass of the average policy on the
obedient (and, for a hired agent, truthful) plans, its minimum over copies, the share of copies
above the threshold, and the mechanism's expected value for the principal.

    coopsim run experiments/specs/info_learners_effort.toml --workers 2
    python experiments/information_acquisition/learners_effort.py results/info_learners_effort
"""

from __future__ import annotations

import sys

import pandas as pd

from coopsim import plotting, runner


def main(folder: str = "results/info_learners_effort") -> pd.DataFrame:
    w = plotting.final_values(runner.load(folder), ["function.instance", "function.mechanism"])
    rows = []
    for i in sorted(int(c.rsplit("_", 1)[1]) for c in w.columns if c.startswith("mass_agent_")):
        part = w[["function.instance", "function.mechanism", "mechanism_value"]].copy()
        part["agent"] = i
        for k in ("mass", "min_mass", "share_learned"):
            part[k] = w[f"{k}_agent_{i}"]
        rows.append(part)
    out = pd.concat(rows).dropna(subset=["mass"])  # instance A has one agent
    out = out.sort_values(["function.instance", "function.mechanism", "agent"])
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return out


if __name__ == "__main__":
    main(*sys.argv[1:])
