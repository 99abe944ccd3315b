"""Optimal bounded scoring rules for effort (Li, Hartline, Shan, Wu EC 2022; Hartline et al. COLT 2023)."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.mechanisms import get
from coopsim.mechanisms.scoring import DecisionRule, QuadraticRule, posteriors
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim.design.scoring import (
    binary_optimal_gain,
    binary_optimal_rule,
    optimal_scoring_rule,
    scale_to_range,
    standard_rules,
)

SYM08 = np.array([[0.8, 0.2], [0.2, 0.8]])


def test_binary_accuracy_08_gain_is_03_vs_quadratic_009():
    res = optimal_scoring_rule([0.5, 0.5], SYM08, 0.0, 1.0)
    assert isinstance(res.rule, DecisionRule)
    assert res.gain == pytest.approx(0.3, abs=1e-9)
    post, probs = posteriors([0.5, 0.5], SYM08)
    quad = scale_to_range(QuadraticRule(), 0.0, 1.0, 2)
    assert float(quad.effort_gain(post, probs)) == pytest.approx(0.09, abs=1e-12)
    # V-shaped: full bet on state 1 above the prior, full bet on state 0 below it
    scores = res.rule.score_matrix(np.array([[0.3, 0.7], [0.7, 0.3]]))
    np.testing.assert_allclose(scores, [[0.0, 1.0], [1.0, 0.0]], atol=1e-9)


def test_optimal_rule_is_proper_and_bounded():
    res = optimal_scoring_rule([0.5, 0.5], SYM08, 0.0, 1.0)
    rng = np.random.default_rng(3)
    for q in ([0.5, 0.5], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9], [0.65, 0.35]):
        chk = res.rule.check_propriety(np.array(q), rng=rng)
        assert chk.proper, (q, chk.gain)
    lo, hi = res.rule.score_range()
    assert 0.0 <= lo and hi <= 1.0


def test_scores_stay_in_range_shifted():
    res = optimal_scoring_rule([0.3, 0.7], SYM08, -2.0, 3.0)
    p = np.random.default_rng(0).dirichlet([1, 1], size=500)
    s = res.rule.score_matrix(p)
    assert s.min() >= -2.0 - 1e-12 and s.max() <= 3.0 + 1e-12
    assert res.gain == pytest.approx(binary_optimal_gain([0.3, 0.7], SYM08, -2.0, 3.0), abs=1e-9)


@st.composite
def binary_instances(draw):
    f = draw(st.floats(0.02, 0.98))
    K = draw(st.integers(2, 5))
    raw = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=2 * K, max_size=2 * K))).reshape(2, K)
    lo = draw(st.floats(-3.0, 3.0))
    width = draw(st.floats(0.1, 5.0))
    return np.array([1 - f, f]), raw / raw.sum(axis=1, keepdims=True), lo, lo + width


@settings(max_examples=60, deadline=None)
@given(binary_instances())
def test_lp_matches_binary_closed_form(inst):
    mu, lik, lo, hi = inst
    lp = optimal_scoring_rule(mu, lik, lo, hi).gain
    closed = binary_optimal_gain(mu, lik, lo, hi)
    post, probs = posteriors(mu, lik)
    v_rule = float(binary_optimal_rule(mu, lo, hi).effort_gain(post, probs))
    assert lp == pytest.approx(closed, abs=1e-6)
    assert v_rule == pytest.approx(closed, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_three_plus_states_proper_and_beats_standard_rules(seed):
    rng = np.random.default_rng(seed)
    m = 3 + seed % 2
    K = 3 + seed % 3
    mu = rng.dirichlet(np.ones(m) * 3)
    lik = rng.dirichlet(np.ones(K) * 2, size=m)
    lo, hi = 0.0, 1.0
    res = optimal_scoring_rule(mu, lik, lo, hi)
    post, probs = posteriors(mu, lik)
    assert res.gain > 0
    for name, rule in standard_rules(m, lo, hi, log_eps=1e-3).items():
        assert post.min() >= 1e-3  # posteriors are allowed reports of the truncated log rule
        other = float(rule.effort_gain(post, probs))
        assert res.gain >= other - 1e-9, name
        assert res.gain > other + 1e-6, name  # strictly better on these instances
    for q in [mu, *post]:
        assert res.rule.check_propriety(q, rng=rng, n_samples=500).proper
    s = res.rule.score_matrix(rng.dirichlet(np.ones(m), size=200))
    assert s.min() >= lo - 1e-9 and s.max() <= hi + 1e-9


def test_uninformative_signal_gains_nothing():
    lik = np.array([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]])
    assert optimal_scoring_rule([0.2, 0.3, 0.5], lik).gain == pytest.approx(0.0, abs=1e-9)


def test_result_is_registered_family_rule():
    res = optimal_scoring_rule([0.5, 0.5], SYM08)
    again = get("decision", utility=res.menu)
    np.testing.assert_array_equal(again.score_matrix(np.array([0.3, 0.7])), res.rule.score_matrix(np.array([0.3, 0.7])))


def test_bad_input():
    with pytest.raises(ValueError, match="hi"):
        optimal_scoring_rule([0.5, 0.5], SYM08, 1.0, 1.0)
    with pytest.raises(ValueError, match="prior"):
        optimal_scoring_rule([0.5, 0.6], SYM08)
    with pytest.raises(ValueError, match="m = 2"):
        binary_optimal_gain([0.2, 0.3, 0.5], np.eye(3))


def test_unit_function_records_shapes_and_gains():
    from coopsim.runner.units import FUNCTIONS

    out = FUNCTIONS["design_scoring_shapes"]({"prior": 0.5, "accuracy": 0.8, "points": 11}, None, 1, 1, 1)
    assert out["round"].tolist() == list(range(11))
    assert out["gain_optimal"][0] == pytest.approx(0.3, abs=1e-9)
    assert out["gain_quadratic"][0] == pytest.approx(0.09, abs=1e-9)
    assert out["S1_optimal"][-1] == pytest.approx(1.0) and out["S1_optimal"][0] == pytest.approx(0.0)


def test_optimal_rule_plugs_into_the_information_env_mechanism():
    # the designed rule is an ordinary ScoringRule: the env's scoring plug-in pays bound * S(post(r), theta);
    # with effort cost 0.1 and gain 0.3 per unit of bound, effort is IC exactly from bound 1/3 on
    from coopsim.envs.information_acquisition import ic_violation
    from coopsim.mechanisms.information import ScoringPlugin, instance_a

    model = instance_a(cost=0.1, accuracy=0.8)
    rule = optimal_scoring_rule([0.5, 0.5], SYM08).rule
    ok = ScoringPlugin(model, rule=rule, bound=1 / 3 + 1e-6).as_mechanism()
    assert ic_violation(model, ok) <= 1e-7
    short = ScoringPlugin(model, rule=rule, bound=0.3).as_mechanism()
    assert ic_violation(model, short) == pytest.approx(0.1 - 0.3 * 0.3, abs=1e-9)
