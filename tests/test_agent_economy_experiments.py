"""The incentive experiment's ordering (spec T2d): robustness investors out-earn capability-only
investors under Assumption 2 in every seed, and the ordering reverses when all demand is at T1."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).resolve().parents[1] / "experiments" / "agent_economy" / "incentive.py"


def _load():
    import sys

    sys.path.insert(0, str(PATH.parent))
    spec = importlib.util.spec_from_file_location("ae_incentive", PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_incentive_ordering_and_reversal():
    inc = _load()
    a2 = inc.one(4, 8, 0.40, seeds=8, steps=200, k=12, seed=1)
    conc = inc.one(4, 8, 1.0, seeds=8, steps=200, k=12, seed=1)
    assert np.all(a2["gap_operating"] > 0) and a2["tier_robust"] > a2["tier_capability"]
    assert np.all(conc["gap_operating"] < 0)  # no demand above T1: the robustness premium is gone
    sat_lo = inc.one(2, 16, 0.40, seeds=8, steps=200, k=12, seed=1)["gap_operating"].mean()
    sat_hi = inc.one(14, 16, 0.40, seeds=8, steps=200, k=12, seed=1)["gap_operating"].mean()
    assert sat_hi < sat_lo  # supply saturation erodes the premium
