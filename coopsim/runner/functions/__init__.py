"""Registered unit functions of the shipped experiments (``[function] name = ...`` in a spec), one
module per domain: ``information``, ``auctions``, ``economy``, ``facility``, ``design``.

Each function follows the runner's protocol ``fn(params, seed_sequence, rounds, batch, record_every)
-> {metric: (R,) array, optional "round": (R,)}`` and wraps library code (envs, mechanisms,
dynamics); none imports from ``experiments/``. Functions that compute one number per unit (an LP,
a table entry) record a single "round" (0, or the horizon ``T`` for regret curves) and ignore
``rounds``/``batch`` unless documented. Randomness comes only from ``seed_sequence``.

Registered by importing this package (``coopsim.runner.units`` does; see ``docs/specs.md``);
``coopsim list functions`` prints the names and their declared parameters:

* ``info_cost_of_effort``   expected payment needed to induce effort, scaled scoring rules vs the LP;
* ``info_correlation_value`` value of correlated vs deterministic vs uncorrelated recommendations;
* ``info_online_regret``    regret R_T of the explore-then-commit principal at horizon T;
* ``info_belief_learning``  learners reporting a belief under a (proper or linear) scoring rule;
* ``info_effort_learning``  Hedge learners choosing effort and reports under LP / eps-LP / scoring plug-ins;
* ``aigc_comparison``       VCG under the true click model vs separable GSP, truthful bids;
* ``economy_incentive``     robustness vs capability-only investors (agent economy);
* ``facility_best_response`` exact best-response dynamics of a facility rule vs a reference rule.
* ``design_scoring_shapes``  optimal bounded scoring rule vs scaled quadratic/spherical/log (shapes, gains);
* ``design_phantoms``        phantom search vs Uniform Phantom (positions, expected costs, IFS verdict).
* ``design_myerson_net``, ``design_rochet_net``, ``design_regret_net``  learned auctions (training
  curves, held-out revenue and regret, audit), from ``coopsim.design.units``.
"""

from __future__ import annotations

# importing a domain module registers its unit functions in coopsim.runner.units.FUNCTIONS
from coopsim.runner.functions import auctions, design, economy, facility, information  # noqa: E402
from coopsim.runner.functions.information import (  # noqa: E402  (used by tests and notebooks)
    EFFORT_INSTANCES,
    effort_instance,
    effort_model,
    monitoring_instance,
    scoring_payment_per_cost,
)

__all__ = [
    "EFFORT_INSTANCES",
    "auctions",
    "design",
    "economy",
    "effort_instance",
    "effort_model",
    "facility",
    "information",
    "monitoring_instance",
    "scoring_payment_per_cost",
]
