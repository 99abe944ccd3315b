"""Gate mechanisms: spec vectors, validation, monotonicity, decay, audits, chains and the propositions."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.mechanisms import gate_properties as P
from coopsim.mechanisms import gates as G
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from coopsim import mechanisms

SPEC_VECTORS = [
    ((0.92, 0.88, 0.31), 0.9, 1),
    ((0.85, 0.80, 0.75), 0.9, 4),
    ((0.70, 0.25, 0.65), 0.60, 0),
    ((0.35, 0.40, 0.30), 0.9, 1),
    ((0.60, 0.55, 0.50), 0.9, 2),
    ((0.95, 0.95, 0.90), 0.9, 5),
    ((0.9, 0.9, 0.9), 0.3, 0),
    ((0.0, 0.0, 0.0), 0.9, 0),
]

scores = st.floats(0.0, 1.0, allow_nan=False)
rob = arrays(np.float64, (7, 3), elements=scores)


@pytest.mark.parametrize("r, ih, tier", SPEC_VECTORS)
def test_spec_vectors(r, ih, tier):
    assert int(G.weakest_link_tier(r, ih)) == tier
    assert int(mechanisms.get("weakest_link_gate")(np.array(r), ih)) == tier


def test_spec_vectors_batched_and_defaults():
    r = np.array([v[0] for v in SPEC_VECTORS])
    ih = np.array([v[1] for v in SPEC_VECTORS])
    assert G.weakest_link_tier(r, ih).tolist() == [v[2] for v in SPEC_VECTORS]
    assert G.weakest_link_tier(r[None], ih[None]).shape == (1, 8)
    assert G.DEFAULT_CEILINGS.tolist() == [0, 0.01, 0.1, 1, 10, 100]


def test_exact_threshold_qualifies_and_just_below_does_not():
    th = G.DEFAULT_THRESHOLDS
    for k in range(1, 6):
        assert int(G.weakest_link_tier(th[:, k])) == k
        below = th[:, k].copy()
        below[1] = np.nextafter(below[1], 0)
        assert int(G.weakest_link_tier(below)) == k - 1
    assert int(G.weakest_link_tier([0.9, 0.9, 0.9], 0.5)) == 5  # IH* == theta passes
    assert int(G.weakest_link_tier([0.9, 0.9, 0.9], np.nextafter(0.5, 0))) == 0


def test_basis_points_mode():
    # 0.29999 rounds to 3000 bp -> qualifies for T1 only in basis-point mode
    assert int(G.weakest_link_tier([0.299996, 0.5, 0.5])) == 0
    assert int(G.weakest_link_tier([0.299996, 0.5, 0.5], basis_points=True)) == 1


@pytest.mark.parametrize(
    "table, msg",
    [
        ([0.0, 0.3, 0.3, 0.65, 0.8, 0.9], "strictly increasing"),
        ([0.1, 0.3, 0.5, 0.65, 0.8, 0.9], "first threshold"),
        ([0.0, 0.5, 0.3, 0.65, 0.8, 0.9], "strictly increasing"),
        ([0.0, 0.3, 0.5, 0.65, 0.8, 1.2], "<= 1"),
    ],
)
def test_bad_thresholds_rejected(table, msg):
    with pytest.raises(ValueError, match=msg):
        G.validate_thresholds(table)
    with pytest.raises(ValueError, match="thresholds"):
        mechanisms.get("weakest_link_gate", thresholds=table)


def test_bad_threshold_names_dimension():
    t = G.DEFAULT_THRESHOLDS.copy()
    t[1, 2] = 0.2
    with pytest.raises(ValueError, match=r"thresholds\[ER\]"):
        G.validate_thresholds(t)


def test_ceilings_may_be_unbounded_from_some_tier_on():
    np.testing.assert_array_equal(
        G.validate_ceilings([0, 1, 2, np.inf, np.inf, np.inf]), [0, 1, 2, np.inf, np.inf, np.inf]
    )
    assert np.isinf(G.validate_ceilings([0] + [np.inf] * 5)[1:]).all()  # ungated counterfactual


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: G.weakest_link_tier([1.2, 0.5, 0.5]), "robustness"),
        (lambda: G.weakest_link_tier([-0.1, 0.5, 0.5]), "robustness"),
        (lambda: G.weakest_link_tier([np.nan, 0.5, 0.5]), "robustness"),
        (lambda: G.weakest_link_tier([0.5, 0.5, 0.5], ih=1.5), "ih"),
        (lambda: G.weakest_link_tier([0.5, 0.5]), "robustness"),
        (lambda: G.validate_ceilings([0, 0.1, 0.01, 1, 10, 100]), "ceilings"),
        (lambda: G.validate_ceilings([1, 2, 3, 4, 5, 6]), "ceilings"),
        (lambda: G.validate_ceilings([0, 1, np.inf, 5, 10, 100]), "ceilings"),
        (lambda: G.validate_ceilings([0, 1, 2, 2, 10, 100]), "ceilings"),
        (lambda: G.validate_ceilings([0, -np.inf, 1, 2, 3, 4]), "ceilings"),
        (lambda: G.validate_rates([0, -0.1, 0.1, 0.2, 0.3, 0.4]), "rates"),
        (lambda: G.audit_probability(1, 3, hazard="weibull"), "hazard"),
        (lambda: G.audit_probability(1, -3), "elapsed"),
        (lambda: G.decay_factor(1, -0.1), "decay_rate"),
        (lambda: mechanisms.get("weakest_link_gate", ih_rule="ignore"), "ih_rule"),
        (lambda: mechanisms.get("weakest_link_gate", decay_rate=-1.0), "decay_rate"),
        (lambda: mechanisms.get("capability_gate")(capability=[1.5]), "capability"),
    ],
)
def test_bad_input_names_parameter(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


@settings(max_examples=60, deadline=None)
@given(rob, arrays(np.float64, (7, 3), elements=st.floats(0.0, 0.5)), arrays(np.float64, (7,), elements=scores))
def test_gate_monotone_in_each_dimension(r, bump, ih):
    r2 = np.minimum(1.0, r + bump)
    assert P.check_monotone(r, r2, ih=ih)
    for d in range(3):
        r3 = r.copy()
        r3[:, d] = r2[:, d]
        assert np.all(G.weakest_link_tier(r3, ih) >= G.weakest_link_tier(r, ih))


@settings(max_examples=60, deadline=None)
@given(rob)
def test_gate_equals_brute_force_min(r):
    th = G.DEFAULT_THRESHOLDS
    brute = [min(max(k for k in range(6) if x[d] >= th[d, k]) for d in range(3)) for x in r]
    assert G.weakest_link_tier(r).tolist() == brute


@settings(max_examples=40, deadline=None)
@given(rob, arrays(np.float64, (7,), elements=scores), arrays(np.float64, (7,), elements=scores))
def test_t2a_capability_never_enters(r, c1, c2):
    gate = mechanisms.get("weakest_link_gate")
    assert P.check_t2a(gate, r, np.full(7, 0.9), c1, c2)
    cap = mechanisms.get("capability_gate")
    # the counterfactual reads capability and ignores robustness
    assert np.array_equal(cap(r, None, c1), cap(np.zeros_like(r), None, c1))


@settings(max_examples=60, deadline=None)
@given(rob, st.integers(0, 2), st.floats(0.0, 0.6), arrays(np.int64, (5,), elements=st.integers(0, 5)))
def test_t2b_profit_monotone_nonbinding_invariant(r, dim, amount, others):
    assert P.check_t2b(r, dim, amount, others=others)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 4),
    arrays(np.int64, (6,), elements=st.integers(0, 5)),
    arrays(np.float64, (5,), elements=st.floats(0.01, 5.0)),
    arrays(np.float64, (5,), elements=st.floats(0.0, 3.0)),
)
def test_t2c_crossing_gain(j, others, demand, reward):
    chk = P.check_t2c(j, others, demand, reward)
    assert chk, chk.detail
    # shares at tiers <= j unchanged: the gain is exactly the new tier's share
    gain, formula = P.profit_gain_at_crossing(j, others, demand, reward)
    assert gain == pytest.approx(demand[j] * reward[j] / ((others >= j + 1).sum() + 1))


def test_t2c_binding_crossing_in_the_gate():
    # binding AS crosses theta^3 while CC, ER already qualify -> tier 2 -> 3
    r = np.array([0.70, 0.70, 0.59])
    assert int(G.weakest_link_tier(r)) == 2
    r[2] = 0.60
    assert int(G.weakest_link_tier(r)) == 3
    # uniform share: hand computed, tiers [3, 1, 2], D = 1, E[r] = (1,2,3,4,5)
    pi = G.uniform_share_profit([3, 1, 2], np.ones(5), np.arange(1.0, 6.0))
    assert pi.tolist() == pytest.approx([1 / 3 + 2 / 2 + 3, 1 / 3, 1 / 3 + 1])


def test_uniform_share_hand_case():
    pi = G.uniform_share_profit([[0, 5, 5, 1]], [4, 1, 1, 1, 1], [1, 1, 1, 1, 2])
    # tier1: 3 agents share 4; tiers 2..4: 2 agents share 1 each; tier 5: 2 agents share 2
    assert pi[0].tolist() == pytest.approx([0, 4 / 3 + 1.5 + 1, 4 / 3 + 1.5 + 1, 4 / 3])


# ---------------------------------------------------------------- decay (T1c)
def test_decay_ih_example_drops_at_59():
    g = mechanisms.get("weakest_link_gate", decay_rate=0.01)
    dt = np.arange(0, 120)
    tiers = g.effective_tier(np.tile([0.99, 0.99, 0.99], (len(dt), 1)), np.full(len(dt), 0.9), dt)
    first_t0 = int(np.argmax(tiers == 0))
    assert first_t0 == 59
    assert G.time_to_threshold(0.9, 0.5, 0.01) == pytest.approx(np.log(1.8) / 0.01)
    assert G.time_to_threshold(0.9, 0.5, 0.005) == pytest.approx(117.5573, abs=1e-3)


def test_decay_exactly_on_threshold_loses_tier_at_first_step():
    g = mechanisms.get("weakest_link_gate", decay_rate=0.01)
    r = G.DEFAULT_THRESHOLDS[:, 3]
    assert g.effective_tier(r, 0.9, 0).item() == 3
    assert g.effective_tier(r, 0.9, 1).item() == 2


@settings(max_examples=60, deadline=None)
@given(rob, arrays(np.float64, (7,), elements=scores), st.floats(0.001, 0.1), st.booleans())
def test_t1c_decay_monotone_and_t0_after_bound(r, ih, lam, decay_ih):
    chk = P.check_t1c(r, ih, lam, horizon=300, decay_ih=decay_ih)
    assert chk, chk.detail["monotone"]
    chk2 = P.check_t1c(r, None, lam, horizon=300)
    assert chk2


def test_t1c_bound_is_tight():
    r = np.array([0.8, 0.9, 0.9])
    lam = 0.01
    t_star = float(G.tier_loss_time(r, None, decay_rate=lam))
    assert t_star == pytest.approx(np.log(0.8 / 0.3) / lam)
    g = mechanisms.get("weakest_link_gate", decay_rate=lam)
    assert g.effective_tier(r, None, np.floor(t_star)).item() >= 1
    assert g.effective_tier(r, None, np.floor(t_star) + 1).item() == 0


# ---------------------------------------------------------------- audits
def test_audit_probability_formula():
    mu = G.DEFAULT_AUDIT_RATES
    k = np.arange(6)
    assert np.allclose(G.audit_probability(k, 7.0), 1 - np.exp(-mu * 7))
    assert np.allclose(G.audit_probability(k, 7.0, hazard="poisson"), 1 - np.exp(-mu))
    assert np.all(G.audit_probability(0, np.arange(1000)) == 0)


@pytest.mark.parametrize("hazard", ["elapsed", "poisson"])
def test_monte_carlo_mean_time_to_first_audit(hazard):
    rng = np.random.default_rng(7)
    n = 40000 if hazard == "elapsed" else 8000
    for k in range(1, 6):
        formula = float(G.expected_time_to_audit(k, hazard=hazard))
        first = np.full(n, -1)
        alive = np.ones(n, dtype=bool)
        step = 0
        while alive.any():
            step += 1
            hit = alive & G.sample_audits(rng, np.full(n, k), np.full(n, step), hazard=hazard)
            first[hit] = step
            alive &= ~hit
        mc = first.mean()
        assert abs(mc - formula) / formula < 0.05, (k, mc, formula)


def test_elapsed_shorter_than_poisson_and_decreasing_with_tier():
    e = G.expected_time_to_audit(np.arange(1, 6))
    p = G.expected_time_to_audit(np.arange(1, 6), hazard="poisson")
    assert np.all(e < p)
    assert np.all(np.diff(e) < 0) and np.all(np.diff(p) < 0)
    assert np.isinf(G.expected_time_to_audit(0))
    # about sqrt(pi / (2 mu)) under the elapsed hazard
    assert e[0] == pytest.approx(np.sqrt(np.pi / (2 * 0.005)), rel=0.01)


# ---------------------------------------------------------------- chains
@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (4, 5, 3), elements=scores), arrays(np.float64, (4, 5), elements=scores))
def test_chain_tier_is_min_over_members_and_dimensions(r, ih):
    assert P.check_collusion_resistance(r)
    assert P.check_collusion_resistance(r, ih=ih)
    tiers = G.weakest_link_tier(r)
    assert np.array_equal(G.chain_tier(tiers), tiers.min(-1))
    assert np.array_equal(G.chain_tier_from_robustness(r), G.dimension_tiers(r).min(axis=(-1, -2)))


def test_chain_complementary_strengths_do_not_help_and_empty_is_t0():
    a = [0.95, 0.95, 0.30]  # strong CC/ER, weak AS
    b = [0.30, 0.95, 0.95]  # strong AS, weak CC
    assert int(G.chain_tier_from_robustness([a, b])) == 1
    assert int(G.chain_tier(np.zeros((0,), dtype=int))) == 0


def test_threshold_schedule_only_rises():
    s = G.ThresholdSchedule()
    assert s.floor() == 0.25
    up = G.DEFAULT_THRESHOLDS.copy()
    up[2, 1] = 0.3
    s.update(10, up)
    assert s.floor() == 0.3 and s.floor(5) == 0.25
    down = up.copy()
    down[0, 3] = 0.6
    with pytest.raises(ValueError, match=r"thresholds\[CC\].*only rise"):
        s.update(20, down)


# ---------------------------------------------------------------- safety (T3)
@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (3, 6), elements=st.floats(0.0, 5.0)), arrays(np.float64, (3, 6), elements=scores))
def test_t3a(w, rb):
    assert P.check_t3a(w, rb)
    assert P.check_t3a(np.zeros(4), np.full(4, 0.2))
    assert float(G.aggregate_safety(np.zeros(4), np.full(4, 0.2))) == 1.0


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (8, 3), elements=scores), arrays(np.float64, (8,), elements=st.floats(0.0, 3.0)))
def test_t3b_floor(r, w):
    tier = G.weakest_link_tier(r)
    assert P.check_t3b(w, r.min(-1), tier)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (5,), elements=st.floats(0.01, 3.0)),
    arrays(np.float64, (5,), elements=scores),
    st.floats(0.01, 3.0),
    scores,
)
def test_t3c_entrant_sign(w, rb, we, rbe):
    chk = P.check_t3c(w, rb, we, rbe)
    assert chk, chk.detail


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (10, 3), elements=scores), st.floats(0.0, 0.1))
def test_t3d_floor_rises_with_schedule(r, bump):
    s = G.ThresholdSchedule()
    new = G.DEFAULT_THRESHOLDS.copy()
    new[:, 1:] = np.minimum(new[:, 1:] + bump, np.linspace(0.91, 1.0, 5))
    new = np.maximum.accumulate(new, axis=1)
    try:
        s.update(1, new)
    except ValueError:
        return
    floors = []
    for t in (0, 1):
        th = s.at(t)
        tier = G.weakest_link_tier(r, None, th)  # re-certification under the schedule
        assert P.check_t3d(r.min(-1), tier, th)
        floors.append(r.min(-1)[tier >= 1].min(initial=1.0))
    assert s.floor(1) >= s.floor(0)


def test_monotonic_safety_counterexample():
    b, a = P.monotonic_safety_counterexample()
    assert (b, a) == (pytest.approx(0.9), pytest.approx(0.6))
    b, a = P.monotonic_safety_counterexample(default_table=True)
    assert b == pytest.approx(0.9) and a == pytest.approx(1 - 0.107 / 1.01) and a == pytest.approx(0.8940594, abs=1e-7)
    assert a < b


# ---------------------------------------------------------------- T1a/T1b checkers on constructed cases
def test_t1_checkers_detect_violations():
    assert P.check_t1a([0.005, 0.1], [1, 2], [1, 2])
    assert not P.check_t1a([0.02], [1], [1])
    assert not P.check_t1a([0.005], [1], [2])
    assert P.check_t1b([[0.0, 1.0]], [[0, 3]])
    assert not P.check_t1b([[0.5]], [[2]])


def test_detail_and_gap_report():
    d = G.gate_detail([0.92, 0.88, 0.31])
    assert d["dimension_tiers"].tolist() == [5, 4, 1] and int(d["binding"]) == 2
    assert float(d["gap"]) == pytest.approx(0.45 - 0.31)
    assert np.isnan(G.gate_detail([0.95, 0.95, 0.95])["gap"])
    assert G.gap_report([0.6, 0.7, 0.5], 3).tolist() == pytest.approx([0.05, 0.0, 0.1])


def test_arch_hash_stable():
    h = G.arch_hash({"b": 1, "a": [1, 2]})
    assert h == G.arch_hash({"a": [1, 2], "b": 1}) and len(h) == 16
    int(h, 16)


def test_registered_counterfactuals():
    r = np.full((2, 4, 3), 0.1)
    assert np.all(mechanisms.get("no_gate")(r) == 5)
    assert np.all(np.isinf(mechanisms.get("no_gate").ceilings[1:]))
    cap = mechanisms.get("capability_gate")
    assert cap(None, None, [0.29, 0.3, 0.95]).tolist() == [0, 1, 5]


def test_audit_functions_take_rate_tables_of_any_length():
    # a gate with K = 3 tiers passes its own 4-entry rate table (used to be checked against the default 6)
    rates = [0.0, 0.1, 0.2, 0.3]
    gate = G.WeakestLinkGate(thresholds=[0.0, 0.3, 0.6, 0.9], ceilings=[0, 1, 2, 3], audit_rates=rates)
    assert np.allclose(gate.audit_probability([1, 3], [2.0, 2.0]), 1 - np.exp(-np.array([0.1, 0.3]) * 2.0))
    e = G.expected_time_to_audit([[0, 1], [2, 3]], rates=rates, hazard="poisson")
    assert np.isinf(e[0, 0]) and np.allclose(e.ravel()[1:], 1 / -np.expm1(-np.array(rates[1:])))
    with pytest.raises(ValueError, match="tier"):
        G.expected_time_to_audit(4, rates=rates)
