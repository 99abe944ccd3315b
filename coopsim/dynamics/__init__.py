"""Learning dynamics: repeated play of any ``MechanismGame`` by vectorised learners.

- :func:`play_dynamics` — T rounds over B copies with a learner population (one learner, or a
  mapping from agent groups to learners), full-information or bandit feedback; the metrics
  (regret/CCE/CE gaps, exploitability, distances to a reference profile, the game's metrics,
  policy snapshots, history) are recorders chosen with ``metrics=``; returns a
  :class:`DynamicsResult`.
- :func:`run` — an alias of :func:`play_dynamics` (its name before it was renamed, kept working).
- :func:`best_response_dynamics` — exact (continuous) Gauss-Seidel or simultaneous best-response
  dynamics on scalar actions, for equilibrium targets such as the average rule -> Uniform Phantom.
"""

from coopsim.dynamics.best_response import BestResponseResult, best_response_dynamics, best_response_search
from coopsim.dynamics.loop import play_dynamics
from coopsim.dynamics.population import normalize_groups
from coopsim.dynamics.recorders import METRIC_NAMES, WindowMean
from coopsim.dynamics.result import DynamicsResult

#: alias of :func:`play_dynamics` (the old name; ``coopsim.runner.run_experiment`` runs experiment specs)
run = play_dynamics

__all__ = [
    "play_dynamics",
    "run",
    "METRIC_NAMES",
    "WindowMean",
    "DynamicsResult",
    "normalize_groups",
    "best_response_dynamics",
    "best_response_search",
    "BestResponseResult",
]
