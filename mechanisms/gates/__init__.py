"""Tier gates for the agent economy: weakest-link tiers over robustness dimensions, exposure
ceilings, certificate decay and stochastic audit schedules, and their properties.

- :mod:`~coopsim.mechanisms.gates.tiers`: tiers, ceilings, decay, audit hazards, the gate classes;
- :mod:`~coopsim.mechanisms.gates.properties`: monotonicity, safety and incentive properties of gates.

Everything public in :mod:`~coopsim.mechanisms.gates.tiers` is importable from here; the property
checks from :mod:`~coopsim.mechanisms.gates.properties`.
"""

from coopsim.mechanisms.gates import properties, tiers  # noqa: F401  (submodules as attributes)
from coopsim.mechanisms.gates.tiers import *  # noqa: F403

__all__ = list(tiers.__all__)
