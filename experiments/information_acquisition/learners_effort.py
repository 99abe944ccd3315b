"""Learning agents choose effort and reports (EffortReportGame + Hedge, full information).

Each agent learns over plans (effort and reporting map for every recommendation). Compared
mechanisms: the LP optimum (agents are left exactly indifferent: obedience is weakly optimal,
so learners need not select it), the epsilon-strict LP with a small strictly proper score mixed
into hired agents' payments (obedience and truth strictly optimal), and a scaled quadratic rule
on the posterior implied by the report (strictly proper, effort paid generously). Reported: the
final policy's mass on the obedient-truthful behaviour at the recommended action for hired agents
(recommended costly effort) and on obedience for idle ones (their signal is uninformative), the principal's expected utility of the mechanism, and
the share of copies above ``threshold``. Writes results/learners_effort.csv.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from coopsim.envs.information_acquisition import EffortReportGame
from coopsim.mechanisms.information import (
    InformationMechanism,
    instance_a,
    instance_b,
    mix_proper_score,
    optimal_mechanism,
    principal_utility,
)

from coopsim import agents, dynamics
from coopsim.core.seeding import derived_seed

HERE = Path(__file__).parent


def main(spec_path: str | None = None) -> None:
    spec = tomllib.loads(Path(spec_path or HERE / "learners_effort.toml").read_text())
    rows = []
    for inst in spec["instances"]:
        model = instance_a(inst["cost"]) if inst["name"] == "A" else instance_b(inst["cost"])
        lp = optimal_mechanism(model)
        strict = mix_proper_score(model, optimal_mechanism(model, eps=spec["eps"]), spec["rho"])
        mechs = {
            "lp": (lp, lp.value),
            "lp_eps_mix": (strict, principal_utility(model, strict)),
            "scoring_quadratic": ("scoring", None),
        }
        for mname, (mech, value) in mechs.items():
            kw = {"bound": spec["scoring_bound"]} if mech == "scoring" else {}
            game = EffortReportGame(model, mech, **kw)
            if value is None:  # the scoring plug-in's tables as a mechanism
                pl = game.plugin
                value = principal_utility(
                    model,
                    InformationMechanism(
                        pl.phi.reshape(model.n_actions),
                        pl.payments.reshape(model.payments_shape()),
                        pl.decision.reshape(*model.n_actions, *model.n_signals),
                    ),
                )
            K = max(game.n_plans)
            res = dynamics.run(
                game,
                agents.Hedge(n_actions=K),
                rounds=spec["rounds"],
                batch=spec["batch"],
                seed=derived_seed(spec["seed"], [inst["name"], mname]),
                grid=K,
                redraw="round",
                game_metrics="record",
            )
            rec = np.unravel_index(int(np.argmax(game.plugin.phi)), model.n_actions)
            for i in range(model.n_agents):
                eff, rmap = game.plan_table(i)
                a_i = rec[i]
                hired = model.costs[i][a_i] > 0
                good = eff[:, a_i] == a_i
                if hired:  # an idle agent's signal is uninformative: only its obedience matters
                    good &= (rmap[:, a_i] == np.arange(rmap.shape[2])).all(1)
                mass = res.policy[:, i, : len(eff)][:, good].sum(1)
                rows.append(
                    dict(
                        instance=inst["name"],
                        mechanism=mname,
                        agent=i,
                        recommended=int(a_i),
                        hired=hired,
                        mass_obedient_truthful=float(mass.mean()),
                        min_mass=float(mass.min()),
                        share_copies_learned=float((mass >= spec["threshold"]).mean()),
                        mechanism_value=value,
                        obedience_last=float(res["obedience_rate"][-1].mean()) if "obedience_rate" in res else np.nan,
                    )
                )
                r = rows[-1]
                print(
                    f"{inst['name']:2} {mname:18} agent {i} rec {a_i} {'hired' if hired else 'idle '} "
                    f"mass on {'obey+truth' if hired else 'obey'} {r['mass_obedient_truthful']:.3f} "
                    f"(min {r['min_mass']:.3f}, "
                    f"copies >= {spec['threshold']}: {r['share_copies_learned']:.2f}); mechanism value {value:.4f}"
                )
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(out / "learners_effort.csv", index=False)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
