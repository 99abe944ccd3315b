"""Facility location on [0, 1]: the phantom/median family, its fairness axioms, and budget aggregation.

- :mod:`~coopsim.mechanisms.facility.rules`: generalized medians (Moulin 1980) — Uniform Phantom,
  median, k-th order statistics, constant — the average and midpoint rules, lotteries (random
  dictator, random rank, LRM), cost/welfare objectives and their optima;
- :mod:`~coopsim.mechanisms.facility.axioms`: IFS, UFS, proportional fairness, proportionality and
  unanimity (``satisfies``, ``check``, ``feasible_interval``);
- :mod:`~coopsim.mechanisms.facility.budget`: budget aggregation over m projects (Independent
  Markets, welfare-maximizing phantoms; Freeman, Pennock, Peters & Wortman Vaughan, EC 2019).

Everything public in those modules is importable from here.
"""

from coopsim.mechanisms.facility import axioms, budget, rules
from coopsim.mechanisms.facility.axioms import *  # noqa: F403
from coopsim.mechanisms.facility.budget import *  # noqa: F403
from coopsim.mechanisms.facility.rules import *  # noqa: F403

__all__ = sorted({*rules.__all__, *axioms.__all__, *budget.__all__})
