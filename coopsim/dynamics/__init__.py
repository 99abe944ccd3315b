"""Learning dynamics: repeated play of any ``MechanismGame`` by vectorised learners.

- :func:`run` — T rounds over B copies with a learner population (one learner, or a mapping from
  agent groups to learners), full-information or bandit feedback, per-round regret/CCE/CE gaps,
  distances to a reference profile and the game's metrics; returns a :class:`DynamicsResult`.
- :func:`best_response_dynamics` — exact (continuous) Gauss-Seidel or simultaneous best-response
  dynamics on scalar actions, for equilibrium targets such as the average rule -> Uniform Phantom.
"""

from coopsim.dynamics.best_response import BestResponseResult, best_response_dynamics, best_response_search
from coopsim.dynamics.result import DynamicsResult
from coopsim.dynamics.runner import normalize_groups, run

__all__ = [
    "run",
    "DynamicsResult",
    "normalize_groups",
    "best_response_dynamics",
    "best_response_search",
    "BestResponseResult",
]
