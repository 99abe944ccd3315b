"""Old home of the dynamics loop; kept so that ``from coopsim.dynamics.runner import run`` works.

``run`` is :func:`coopsim.dynamics.play_dynamics` under its old name.
"""

from coopsim.dynamics.loop import play_dynamics
from coopsim.dynamics.population import normalize_groups

run = play_dynamics

__all__ = ["run", "play_dynamics", "normalize_groups"]
