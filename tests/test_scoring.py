"""Scoring rules: spec tables (information_acquisition.md sections 8.1-8.3), propriety, scaling, errors."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.mechanisms.scoring import (
    DecisionRule,
    LogarithmicRule,
    QuadraticRule,
    SavageRule,
    ScaledRule,
    SphericalRule,
    check_simplex,
    posteriors,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim import mechanisms

RULES = {
    "Q+": lambda: mechanisms.get("quadratic"),
    "QGR": lambda: mechanisms.get("quadratic", form="gneiting_raftery"),
    "Q01": lambda: mechanisms.get("quadratic", form="unit"),
    "LOG": lambda: mechanisms.get("logarithmic"),
    "SPH": lambda: mechanisms.get("spherical"),
}

# section 8.1: (report, 1-based outcome, Q+, QGR, Q01, LOG, SPH)
TABLE_81 = [
    ((0.3, 0.7), 2, 0.82, -0.18, 0.91, -0.3566749, 0.9191450),
    ((0.3, 0.7), 1, 0.02, -0.98, 0.51, -1.2039728, 0.3939193),
    ((0.2, 0.5, 0.3), 1, 0.02, -0.98, 0.51, -1.6094379, 0.3244428),
    ((0.2, 0.5, 0.3), 2, 0.62, -0.38, 0.81, -0.6931472, 0.8111071),
    ((0.2, 0.5, 0.3), 3, 0.22, -0.78, 0.61, -1.2039728, 0.4866643),
]


@pytest.mark.parametrize("row", TABLE_81, ids=[f"T{i + 1}" for i in range(5)])
def test_score_table(row):
    report, w, *vals = row
    for name, want in zip(["Q+", "QGR", "Q01", "LOG", "SPH"], vals):
        got = RULES[name]()(report, w - 1)
        assert got == pytest.approx(want, abs=1e-7), name


# section 8.2: (true q, misreport, rule, E truthful, E misreport, difference)
TABLE_82 = [
    ((0.3, 0.7), (0.5, 0.5), "Q+", 0.58, 0.50, 0.08),
    ((0.3, 0.7), (0.5, 0.5), "LOG", -0.6108643, -0.6931472, 0.0822829),
    ((0.3, 0.7), (0.5, 0.5), "SPH", 0.7615773, 0.7071068, 0.0544705),
    ((0.3, 0.7), (0.0, 1.0), "Q+", 0.58, 0.40, 0.18),
    ((0.3, 0.7), (0.0, 1.0), "SPH", 0.7615773, 0.70, 0.0615773),
    ((0.2, 0.5, 0.3), (1 / 3, 1 / 3, 1 / 3), "Q+", 0.38, 0.3333333, 0.0466667),
    ((0.2, 0.5, 0.3), (1 / 3, 1 / 3, 1 / 3), "LOG", -1.0296530, -1.0986123, 0.0689593),
    ((0.2, 0.5, 0.3), (1 / 3, 1 / 3, 1 / 3), "SPH", 0.6164414, 0.5773503, 0.0390911),
]


@pytest.mark.parametrize("row", TABLE_82, ids=["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"])
def test_propriety_table(row):
    q, p, name, truth, mis, diff = row
    rule = RULES[name]()
    assert rule.expected(q, q) == pytest.approx(truth, abs=1e-7)
    assert rule.expected(p, q) == pytest.approx(mis, abs=1e-7)
    assert rule.bregman(q, p) == pytest.approx(diff, abs=1e-7)
    assert rule.G(np.asarray(q)) == pytest.approx(truth, abs=1e-7)


def test_p5b_log_zero_report_is_minus_infinity_only_when_allowed():
    q, p = (0.3, 0.7), (0.0, 1.0)
    rule = mechanisms.get("logarithmic", allow_infinite=True)
    assert rule.expected(p, q) == -np.inf
    assert rule.bregman(q, p) == np.inf
    assert rule(p, 1) == 0.0
    with pytest.raises(ValueError, match="zero probability"):
        mechanisms.get("logarithmic")(p, 1)


def test_closed_form_losses():
    q, p = np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.1, 0.3])
    assert QuadraticRule().bregman(q, p) == pytest.approx(np.sum((q - p) ** 2))
    assert QuadraticRule(form="unit").bregman(q, p) == pytest.approx(np.sum((q - p) ** 2) / 2)
    assert LogarithmicRule().bregman(q, p) == pytest.approx(np.sum(q * np.log(q / p)))
    assert SphericalRule().bregman(q, p) == pytest.approx(np.linalg.norm(q) - q @ p / np.linalg.norm(p))


def test_effort_gain_table():
    post, probs = np.array([[0.8, 0.2], [0.2, 0.8]]), np.array([0.5, 0.5])
    want = {
        "Q+": 0.18,
        "Q01": 0.09,
        "LOG": np.log(2) - (-(0.8 * np.log(0.8) + 0.2 * np.log(0.2))),
        "SPH": np.sqrt(0.68) - np.sqrt(0.5),
    }
    assert want["LOG"] == pytest.approx(0.1927448, abs=1e-7)
    assert want["SPH"] == pytest.approx(0.1175143, abs=1e-7)
    for name, w in want.items():
        assert RULES[name]().effort_gain(post, probs) == pytest.approx(w, abs=1e-7), name
    dec = mechanisms.get("decision", utility=np.eye(2))
    assert dec.effort_gain(post, probs) == pytest.approx(0.30, abs=1e-12)
    # posteriors() of the binary symmetric signal with accuracy 0.8
    p2, w2 = posteriors([0.5, 0.5], [[0.8, 0.2], [0.2, 0.8]])
    np.testing.assert_allclose(p2, post)
    np.testing.assert_allclose(w2, probs)
    # log gain = mutual information
    assert LogarithmicRule().effort_gain(p2, w2) == pytest.approx(want["LOG"], abs=1e-12)


def test_binary_closed_forms():
    f = np.linspace(0, 1, 11)
    for y in (0, 1):
        rep = np.stack([1 - f, f], axis=-1)
        np.testing.assert_allclose(QuadraticRule()(rep, y), 1 - 2 * (f - y) ** 2, atol=1e-12)
        np.testing.assert_allclose(QuadraticRule(form="unit")(rep, y), 1 - (f - y) ** 2, atol=1e-12)
        np.testing.assert_allclose(QuadraticRule(form="gneiting_raftery")(rep, y), -2 * (f - y) ** 2, atol=1e-12)


def test_unit_quadratic_is_one_minus_properscoring_brier():
    ps = pytest.importorskip("properscoring")
    rng = np.random.default_rng(1)
    f = rng.uniform(size=50)
    y = rng.integers(0, 2, size=50)
    ours = QuadraticRule(form="unit")(np.stack([1 - f, f], -1), y)
    np.testing.assert_allclose(ours, 1 - ps.brier_score(y, f), atol=1e-12)
    ours_gr = QuadraticRule(form="gneiting_raftery")(np.stack([1 - f, f], -1), y)
    np.testing.assert_allclose(ours_gr, -2 * ps.brier_score(y, f), atol=1e-12)


def test_batched_broadcasting():
    rule = QuadraticRule()
    rng = np.random.default_rng(0)
    rep = rng.dirichlet(np.ones(4), size=(5, 3))
    w = rng.integers(0, 4, size=(5, 3))
    got = rule(rep, w)
    want = np.array([[2 * rep[i, j, w[i, j]] - rep[i, j] @ rep[i, j] for j in range(3)] for i in range(5)])
    np.testing.assert_allclose(got, want)
    # one report, many outcomes
    np.testing.assert_allclose(rule(rep[0, 0], np.arange(4)), rule.score_matrix(rep[0, 0]))


# --- Savage representation -------------------------------------------------------------------------
def _savage_twins():
    return {
        "Q+": (QuadraticRule(), SavageRule(lambda p: (p * p).sum(-1), lambda p: 2 * p)),
        "LOG": (LogarithmicRule(), SavageRule(lambda p: (p * np.log(p)).sum(-1), lambda p: np.log(p) + 1)),
        "SPH": (
            SphericalRule(),
            SavageRule(lambda p: np.linalg.norm(p, axis=-1), lambda p: p / np.linalg.norm(p, axis=-1, keepdims=True)),
        ),
    }


simplex3 = st.lists(st.floats(0.02, 1.0), min_size=3, max_size=3).map(lambda v: np.array(v) / np.sum(v))
simplex_m = (
    st.integers(2, 5)
    .flatmap(
        lambda m: st.tuples(
            st.lists(st.floats(0.01, 1.0), min_size=m, max_size=m),
            st.lists(st.floats(0.01, 1.0), min_size=m, max_size=m),
        )
    )
    .map(lambda t: (np.array(t[0]) / np.sum(t[0]), np.array(t[1]) / np.sum(t[1])))
)


@settings(max_examples=60, deadline=None)
@given(simplex_m)
def test_every_rule_strictly_proper_and_matches_savage(qp):
    q, p = qp
    dist = np.abs(q - p).sum()
    twins = _savage_twins()
    for name in ["Q+", "QGR", "Q01", "LOG", "SPH"]:
        rule = RULES[name]()
        loss = float(rule.bregman(q, p))
        assert loss == pytest.approx(float(rule.G(q) - rule.expected(p, q)), abs=1e-12)
        assert loss >= -1e-12
        if dist > 1e-3:
            assert loss > 0, name
        assert float(rule.bregman(q, q)) == pytest.approx(0.0, abs=1e-12)
        if name in twins:
            named, sav = twins[name]
            np.testing.assert_allclose(named.score_matrix(p), sav.score_matrix(p), atol=1e-10)
    # closed-form losses
    assert float(QuadraticRule().bregman(q, p)) == pytest.approx(float(((q - p) ** 2).sum()), abs=1e-12)
    assert float(LogarithmicRule().bregman(q, p)) == pytest.approx(float((q * np.log(q / p)).sum()), abs=1e-10)


@settings(max_examples=25, deadline=None)
@given(simplex3, st.integers(0, 2**31 - 1))
def test_truthful_beats_random_misreports(q, seed):
    rng = np.random.default_rng(seed)
    mis = rng.dirichlet(np.ones(3), size=200)
    for name in ["Q+", "QGR", "Q01", "LOG", "SPH"]:
        rule = RULES[name]()
        truth = rule.expected(q, q)
        vals = rule.expected(mis, np.broadcast_to(q, mis.shape))
        assert np.all(vals < truth + 1e-12), name
        gap = truth - vals
        far = np.abs(mis - q).sum(-1) > 1e-3
        assert np.all(gap[far] > 0)


@settings(max_examples=20, deadline=None)
@given(simplex3, st.floats(0.1, 10.0), st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_affine_transform_preserves_propriety(q, alpha, shift):
    for name in ["Q+", "LOG", "SPH"]:
        base = RULES[name]()
        rule = ScaledRule(base, alpha=alpha, shift=np.array(shift))
        chk = rule.check_propriety(q, np.random.default_rng(0), n_samples=300)
        assert chk.proper and chk.gain <= 1e-9
        p = np.array([0.6, 0.3, 0.1])
        assert float(rule.bregman(q, p)) == pytest.approx(alpha * float(base.bregman(q, p)), rel=1e-9, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(simplex3, st.floats(0.5, 20.0))
def test_scaled_rules_in_range_and_proper(q, bound):
    rng = np.random.default_rng(3)
    for rule in [
        QuadraticRule(),
        QuadraticRule(form="gneiting_raftery"),
        SphericalRule(),
        LogarithmicRule(eps=0.01),
        DecisionRule(np.eye(3)),
    ]:
        sc = rule.scaled(bound)
        reps = np.concatenate(
            [sc.sample_reports(rng, 300, 3), np.eye(3) if rule.allowed(np.eye(3)).all() else np.empty((0, 3))]
        )
        s = sc.score_matrix(reps)
        assert s.min() >= -1e-9 and s.max() <= bound + 1e-9
        if isinstance(rule, LogarithmicRule) and q.min() < 0.01:
            continue
        assert sc.check_propriety(q, rng, n_samples=300).proper


def test_scaled_specific_forms():
    p = np.array([0.3, 0.7])
    np.testing.assert_allclose(QuadraticRule().scaled(2.0)(p, 1), 2 * (0.82 + 1) / 2)
    np.testing.assert_allclose(SphericalRule().scaled(3.0)(p, 1), 3 * 0.9191450, atol=1e-6)
    np.testing.assert_allclose(QuadraticRule(form="unit").scaled(2.0)(p, 1), 2 * 0.91)
    eps = 0.05
    log = LogarithmicRule(eps=eps).scaled(1.0)
    np.testing.assert_allclose(log(p, 0), (np.log(0.3) - np.log(eps)) / -np.log(eps))
    with pytest.raises(ValueError, match="eps"):
        log([0.01, 0.99], 0)
    with pytest.raises(ValueError, match="bound the report set"):
        LogarithmicRule().scaled(1.0)


def test_decision_rule_proper_not_strict():
    u = np.eye(3)
    rule = mechanisms.get("decision", utility=u)
    assert "strictly_proper" not in rule.claims and "proper" in rule.claims
    q = np.array([0.2, 0.5, 0.3])
    flat = np.array([0.1, 0.8, 0.1])  # same decision region (d* = 1), a different report
    assert rule.expected(flat, q) == pytest.approx(rule.expected(q, q))
    assert rule.bregman(q, flat) == pytest.approx(0.0)
    chk = rule.check_propriety(q, np.random.default_rng(0))
    assert chk.proper and chk.gain == pytest.approx(0.0, abs=1e-12)
    # a report in another region strictly loses
    assert rule.expected([0.6, 0.2, 0.2], q) < rule.expected(q, q)
    # ties go to the lowest decision index
    assert rule.decision([0.5, 0.5, 0.0]) == 0
    # value of information equals the effort gain
    post, probs = np.array([[0.8, 0.2], [0.2, 0.8]]), np.array([0.5, 0.5])
    r2 = DecisionRule(np.eye(2))
    voi = np.sum(probs * (post @ np.eye(2).T).max(-1)) - 0.5
    assert r2.effort_gain(post, probs) == pytest.approx(voi)


@settings(max_examples=30, deadline=None)
@given(simplex3, simplex3)
def test_decision_rule_proper_on_random_problems(q, p):
    u = np.random.default_rng(int(q[0] * 1e6)).uniform(size=(4, 3))
    rule = DecisionRule(u)
    assert rule.expected(p, q) <= rule.expected(q, q) + 1e-12


def test_propriety_check_finds_improper_rule():
    # the linear rule S(p, w) = p_w (G = |p|^2 paired with the wrong "gradient" p) is improper:
    # the best report is the vertex of the most likely outcome
    linear = SavageRule(lambda p: (p * p).sum(-1), lambda p: p, strict=False)
    q = np.array([0.2, 0.5, 0.3])
    np.testing.assert_allclose(linear.score_matrix(q), q)
    chk = linear.check_propriety(q, np.random.default_rng(0))
    assert not chk.proper
    assert chk.gain == pytest.approx(0.5 - q @ q, abs=1e-9)
    np.testing.assert_allclose(chk.best_report, [0, 1, 0], atol=1e-9)


# --- bad input ---------------------------------------------------------------------------------------
def test_bad_reports_raise():
    rule = QuadraticRule()
    with pytest.raises(ValueError, match="report.*sum"):
        rule([0.3, 0.6], 0)
    with pytest.raises(ValueError, match="report.*negative"):
        rule([-0.1, 1.1], 0)
    with pytest.raises(ValueError, match="report.*finite"):
        rule([np.nan, 1.0], 0)
    with pytest.raises(ValueError, match="outcome"):
        rule([0.3, 0.7], 2)
    with pytest.raises(TypeError, match="outcome"):
        rule([0.3, 0.7], 0.5)
    with pytest.raises(ValueError, match="belief"):
        rule.expected([0.3, 0.7], [0.5, 0.6])
    with pytest.raises(ValueError, match="outcome probabilities"):
        QuadraticRule(m=3)([0.3, 0.7], 0)
    with pytest.raises(ValueError, match="form"):
        mechanisms.get("quadratic", form="brier")
    with pytest.raises(ValueError, match="eps"):
        LogarithmicRule(eps=0.0)
    with pytest.raises(ValueError, match="prior"):
        check_simplex([0.5, 0.4], "prior")
    with pytest.raises(ValueError, match="zero probability"):
        LogarithmicRule()([0.0, 1.0], 1)
    with pytest.raises(ValueError, match="unknown name"):
        mechanisms.get("brier")


def test_registered_names():
    names = mechanisms.available()
    for n in ["quadratic", "logarithmic", "spherical", "decision", "savage"]:
        assert n in names
    assert isinstance(mechanisms.get("logarithmic", eps=0.01), LogarithmicRule)
