"""Generic analyses that work on any game: incentive audits, approximation ratios, regret,
equilibrium gaps. Domain-specific checks live beside their mechanisms."""

from coopsim.analysis.equilibrium import ce_gap, exploitability, nash_conv
from coopsim.analysis.incentive import IncentiveAudit, incentive_audit
from coopsim.analysis.ratios import WorstCase, approximation_ratio, worst_case_ratio

__all__ = [
    "IncentiveAudit",
    "incentive_audit",
    "WorstCase",
    "approximation_ratio",
    "worst_case_ratio",
    "ce_gap",
    "exploitability",
    "nash_conv",
]
