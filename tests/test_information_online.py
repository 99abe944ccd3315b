"""The explore-then-commit online principal (spec section 6; nothing tagged [U] is asserted)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from coopsim.mechanisms.information import ic_violation, instance_a, instance_b, optimal_mechanism, random_model
from coopsim.mechanisms.online_principal import ExploreThenCommit, run_online, sample_rounds


def test_sample_rounds_frequencies():
    m = random_model(np.random.default_rng(2), n_agents=2, n_actions=2, n_signals=2, n_states=3, product=False)
    rng = np.random.default_rng(0)
    prof = np.full(200_000, 3)
    th, s = sample_rounds(m, prof, rng)
    freq = np.zeros((m.n_states, m.n_signal_profiles))
    np.add.at(freq, (th, s), 1)
    np.testing.assert_allclose(freq / len(prof), m.joint_flat[3], atol=4e-3)


def test_estimate_and_radius():
    m = instance_a()
    p = ExploreThenCommit(m, horizon=1000, delta=0.05)
    assert p.explore_rounds == math.ceil(1000 ** (2 / 3))
    assert p.radius() == math.inf
    # profile 1, state 0: 3 x s=0, 1 x s=1; everything else once per cell
    p.observe([1, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0])
    p.observe([0, 0, 0, 0, 1, 1], [0, 1, 0, 1, 0, 1], [0, 0, 1, 1, 1, 1])
    q = p.estimate()
    np.testing.assert_allclose(q[1, 0], [0.75, 0.25])
    np.testing.assert_allclose(q[0, 1], [0.5, 0.5])
    want = math.sqrt(2 * (2 * math.log(2) + math.log(2 * 2 * 2 / 0.05)) / 2)
    assert p.radius() == pytest.approx(want)


def test_uncommitted_unvisited_is_uniform():
    p = ExploreThenCommit(instance_b(), horizon=10)
    np.testing.assert_allclose(p.estimate(), 0.25)


def test_regret_against_true_capped_optimum_and_determinism():
    m = instance_a()
    r1 = run_online(m, 10_000, np.random.default_rng(7), cap=1.0, margin_scale=0.1)
    r2 = run_online(m, 10_000, np.random.default_rng(7), cap=1.0, margin_scale=0.1)
    assert r1.regret == r2.regret and r1.commit_value == r2.commit_value
    np.testing.assert_array_equal(r1.mechanism.payments, r2.mechanism.payments)
    assert r1.opt == pytest.approx(optimal_mechanism(m, cap=1.0).value)
    total = r1.explore_value + (r1.horizon - r1.explore_rounds) * r1.commit_value
    assert r1.regret == pytest.approx(r1.horizon * r1.opt - total)
    assert r1.regret_uncapped >= r1.regret - 1e-9


def test_average_regret_decreases():
    m = instance_a()
    avg = []
    for T in [10**4, 10**6, 10**8]:
        rs = [run_online(m, T, np.random.default_rng(s), cap=1.0, margin_scale=0.1) for s in range(3)]
        avg.append(np.mean([r.regret for r in rs]) / T)
    assert avg[0] > avg[1] > avg[2]
    assert avg[2] < 0.5 * avg[0]


def test_committed_mechanism_with_full_margin_is_ic_on_truth():
    # margin_scale = 1: obedience is robust with probability >= 1 - delta (checked on a few seeds)
    m = instance_b()
    for s in range(3):
        r = run_online(m, 10**6, np.random.default_rng(s), cap=1.0)
        assert r.ic_violation <= 1e-6 and r.deviation_rounds == 0
        assert r.mechanism.payments.min() >= 0 and r.mechanism.payments.max() <= 1.0 + 1e-9


def test_safe_fallback_when_margin_infeasible():
    m = instance_a()
    r = run_online(m, 1000, np.random.default_rng(0), cap=1.0, margin_mode="uniform")
    assert not r.feasible and r.mechanism.status == "safe"
    assert ic_violation(m, r.mechanism) <= 0
    assert r.commit_value == pytest.approx(0.5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="cap"):
        ExploreThenCommit(instance_a(), 100, cap=0)
    with pytest.raises(ValueError, match="margin_mode"):
        ExploreThenCommit(instance_a(), 100, margin_mode="huge")
    with pytest.raises(ValueError, match="explore_mode"):
        ExploreThenCommit(instance_a(), 100, explore_mode="incentivized")
    with pytest.raises(TypeError, match="template"):
        ExploreThenCommit("A", 100)


def test_mix_proper_score_makes_truth_strict():
    from coopsim.mechanisms.information import ic_report, mix_proper_score, principal_utility

    m = instance_a(0.05)
    r = optimal_mechanism(m, eps=0.02)
    assert ic_report(m, r).truthfulness == pytest.approx(0.0, abs=1e-12)  # lies are only weakly worse
    mm = mix_proper_score(m, r, rho=0.05, bound=1.0)
    rep = ic_report(m, mm)
    assert rep.violation <= 1e-9
    assert rep.obedience < -0.01
    # every misreport after working now strictly loses: check the best non-identity map
    from coopsim.mechanisms.information_ic import deviation_table

    E, P = deviation_table(m, mm, 0)
    truthful = E[1, 1, 0, 0] + E[1, 1, 1, 1]
    for rmap in [(0, 0), (1, 1), (1, 0)]:
        assert E[1, 1, 0, rmap[0]] + E[1, 1, 1, rmap[1]] < truthful - 1e-4
    assert 0 <= mm.payments.min() and mm.payments.max() <= 1.0
    assert principal_utility(m, mm) < r.value  # strictness costs the principal something


def test_regret_benchmarks_are_the_capped_and_uncapped_lp_values():
    from coopsim.mechanisms.information import instance_a, optimal_mechanism
    from coopsim.mechanisms.online_principal import regret_benchmarks

    model = instance_a()
    capped, uncapped = regret_benchmarks(model, cap=1.0)
    assert capped == pytest.approx(optimal_mechanism(model, cap=1.0, verify=False).value, abs=1e-12)
    assert uncapped >= capped - 1e-9  # a cap only removes mechanisms
