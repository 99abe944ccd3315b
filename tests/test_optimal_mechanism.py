"""optimal_mechanism without a cap returns an attained incentive-compatible mechanism.

On the random models below (two agents, three efforts, correlated signal tables) the uncapped LP's
value is a supremum: the raw solution pays on never-recommended profiles and is not IC. The default
now returns a verified IC mechanism whose value is within a small epsilon of that supremum, and says
so (``status == "epsilon_optimal"``, ``info["supremum"]``, ``info["epsilon"]``).
"""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.envs.information_acquisition import ic_violation as env_ic_violation
from coopsim.mechanisms.information import (
    ic_violation,
    instance_a,
    instance_b,
    optimal_mechanism,
    principal_utility,
    random_model,
)

from coopsim.runner.functions import monitoring_instance

SUPREMUM_SEEDS = [0, 1, 2, 3, 5, 8]


def _model(seed: int):
    return random_model(np.random.default_rng(seed), n_agents=2, n_actions=3, n_signals=2, n_states=2, product=False)


@pytest.mark.parametrize("seed", SUPREMUM_SEEDS)
def test_uncapped_default_is_ic_on_supremum_instances(seed):
    m = _model(seed)
    with pytest.warns(RuntimeWarning, match="virtual payments"):
        raw = optimal_mechanism(m, attain=False)
    assert ic_violation(m, raw) > 1e-4  # what the default used to return: not a mechanism
    r = optimal_mechanism(m)
    assert r.attained
    assert ic_violation(m, r, method="enumerate") <= 1e-7
    assert ic_violation(m, r, method="decomposed") <= 1e-7
    assert principal_utility(m, r) == pytest.approx(r.value, abs=1e-7)
    assert r.status == "epsilon_optimal"
    assert r.info["supremum"] == pytest.approx(raw.value, abs=1e-12)
    assert 0 < r.info["epsilon"] <= 1e-4
    assert r.value == pytest.approx(raw.value - r.info["epsilon"], abs=1e-12)
    # at least as good as every capped solve on the ladder's smallest caps
    for B in (1.0, 10.0):
        assert r.value >= optimal_mechanism(m, cap=B).value - 1e-9


def test_monitoring_instance_epsilon_optimal():
    m = monitoring_instance()
    r = optimal_mechanism(m)
    assert r.status == "epsilon_optimal" and r.info["supremum"] == pytest.approx(0.7, abs=1e-9)
    assert 0.7 - 1e-4 <= r.value < 0.7
    assert ic_violation(m, r) <= 1e-7


@pytest.mark.parametrize("make", [instance_a, instance_b])
def test_attained_instances_unchanged(make):
    m = make()
    r = optimal_mechanism(m)
    assert r.status == "optimal" and r.attained and "epsilon" not in r.info
    assert r.value == pytest.approx(optimal_mechanism(m, attain=False).value, abs=1e-12)
    assert r.ic <= 1e-7


def test_attained_random_instances_reach_lp_value():
    for seed in (4, 6, 7, 9):
        m = _model(seed)
        raw = optimal_mechanism(m, attain=False)
        r = optimal_mechanism(m)
        assert r.status == "optimal" and r.value == pytest.approx(raw.value, abs=1e-8)
        assert ic_violation(m, r) <= 1e-7


def test_ic_violation_importable_from_env():
    assert env_ic_violation is ic_violation


def test_attain_flag_validated():
    with pytest.raises(TypeError, match="attain"):
        optimal_mechanism(instance_a(), attain="yes")
