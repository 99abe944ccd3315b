"""Proper scoring rules (quadratic, logarithmic, spherical, decision and Savage rules) with their
convex expected-score function ``G`` and propriety checks (Gneiting & Raftery, JASA 2007).

Everything public in :mod:`~coopsim.mechanisms.scoring.rules` is importable from here.
"""

from coopsim.mechanisms.scoring import rules
from coopsim.mechanisms.scoring.rules import *  # noqa: F403

__all__ = list(rules.__all__)
