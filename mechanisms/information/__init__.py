"""Information acquisition: the model, the optimal IC mechanism (LP), the IC checker, the online principal.

A principal hires agents who exert costly effort to learn about a state and report their signals;
it commits to effort recommendations, a decision rule and non-negative payments (Cacciamani,
Castiglioni & Gatti, *Online Information Acquisition: Hiring Multiple Agents*, arXiv:2307.06210).
This module gathers the public API; the pieces live in

- ``model``: :class:`InformationModel`, :class:`InformationMechanism`, built-in instances;
- ``lp``: :func:`optimal_mechanism` (HiGHS LP), restricted classes;
- ``ic``: :func:`ic_violation` / :func:`ic_report` (enumerated joint deviations);
- ``online_principal``: the explore-then-commit principal and its regret;
- ``plugins``: the registered mechanisms the two-phase environment runs (``information_lp``,
  ``information_scoring``, ``information_decision``).
"""

from coopsim.mechanisms.information.ic import ICReport, best_responses, ic_report, ic_violation
from coopsim.mechanisms.information.lp import (
    LinearProgram,
    best_deterministic,
    build_lp,
    lp_size,
    optimal_mechanism,
    uncorrelated_mechanism,
)
from coopsim.mechanisms.information.model import (
    InformationMechanism,
    InformationModel,
    agent_utilities,
    instance_a,
    instance_b,
    principal_utility,
    random_model,
)
from coopsim.mechanisms.information.online_principal import (
    ExploreThenCommit,
    OnlineResult,
    mix_proper_score,
    run_online,
    sample_rounds,
)
from coopsim.mechanisms.information.plugins import (
    DecisionPlugin,
    MechanismPlugin,
    OptimalPlugin,
    ScoringPlugin,
    TablePlugin,
    decision_plugin,
    lp_plugin,
    scoring_plugin,
)

__all__ = [
    "InformationModel",
    "InformationMechanism",
    "instance_a",
    "instance_b",
    "random_model",
    "principal_utility",
    "agent_utilities",
    "optimal_mechanism",
    "build_lp",
    "lp_size",
    "LinearProgram",
    "best_deterministic",
    "uncorrelated_mechanism",
    "ic_violation",
    "ic_report",
    "ICReport",
    "best_responses",
    "ExploreThenCommit",
    "OnlineResult",
    "run_online",
    "sample_rounds",
    "mix_proper_score",
    "MechanismPlugin",
    "TablePlugin",
    "OptimalPlugin",
    "ScoringPlugin",
    "DecisionPlugin",
    "lp_plugin",
    "scoring_plugin",
    "decision_plugin",
]
