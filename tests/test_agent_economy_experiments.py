"""The incentive experiment's ordering (Baxi, Incentive-Compatible Robustness Investment): robustness
investors out-earn capability-only investors under the default market in every seed, the ordering
reverses when all demand is at T1, and supply saturation erodes the premium (unit function
``economy_incentive``, which ``experiments/specs/economy_incentive*.toml`` run)."""

from __future__ import annotations

import numpy as np
import pytest

from coopsim.runner.units import FUNCTIONS


def gap(m: int, n: int, c: float, seed: int) -> float:
    """Operating gap at the last of 200 steps, mean over 2 economies."""
    params = {"m": m, "n": n, "t1_share": c, "invest_steps": 12}
    return float(FUNCTIONS["economy_incentive"](params, np.random.SeedSequence(seed), 200, 2, 200)["gap_operating"][-1])


@pytest.mark.slow
def test_incentive_ordering_and_reversal():
    for seed in range(4):
        assert gap(4, 8, 0.40, seed) > 0  # the default market rewards robustness
        assert gap(4, 8, 1.0, seed) < 0  # no demand above T1: the robustness premium is gone
    assert gap(14, 16, 0.40, 1) < gap(2, 16, 0.40, 1)  # supply saturation erodes the premium
