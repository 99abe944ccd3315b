"""Information acquisition: model validation, the optimal-mechanism LP, the IC checker (spec 5, 8.4, 12)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from coopsim.mechanisms.information import (
    InformationMechanism,
    InformationModel,
    agent_utilities,
    best_responses,
    build_lp,
    ic_report,
    ic_violation,
    instance_a,
    instance_b,
    lp_size,
    optimal_mechanism,
    principal_utility,
    random_model,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def _binary(acc=0.8):
    return np.array([[[0.5, 0.5], [0.5, 0.5]], [[acc, 1 - acc], [1 - acc, acc]]])


# --- model --------------------------------------------------------------------------------------------
def test_model_validation_names_the_table():
    q = _binary()
    with pytest.raises(ValueError, match="prior"):
        InformationModel([0.5, 0.6], [[0, 0.1]], q, np.eye(2))
    with pytest.raises(ValueError, match="prior.*full-support"):
        InformationModel([1.0, 0.0], [[0, 0.1]], q, np.eye(2))
    with pytest.raises(ValueError, match=r"costs\[0\]"):
        InformationModel([0.5, 0.5], [[0, -0.1]], q, np.eye(2))
    with pytest.raises(ValueError, match=r"costs\[0\].*finite"):
        InformationModel([0.5, 0.5], [[0, np.inf]], q, np.eye(2))
    bad = q.copy()
    bad[1, 0] = [0.7, 0.2]
    with pytest.raises(ValueError, match="signals.*sum to 1"):
        InformationModel([0.5, 0.5], [[0, 0.1]], bad, np.eye(2))
    with pytest.raises(ValueError, match="signals.*shape"):
        InformationModel([0.5, 0.5], [[0, 0.1, 0.2]], q, np.eye(2))
    with pytest.raises(ValueError, match="signals"):
        InformationModel([0.5, 0.5], [[0, 0.1]], -q, np.eye(2))
    with pytest.raises(ValueError, match="utility"):
        InformationModel([0.5, 0.5], [[0, 0.1]], q, np.eye(3))
    with pytest.raises(ValueError, match="utility"):
        InformationModel([0.5, 0.5], [[0, 0.1]], q, 2 * np.eye(2))
    with pytest.raises(TypeError, match="costs"):
        InformationModel([0.5, 0.5], np.array([0, 0.1]), q, np.eye(2))
    with pytest.raises(ValueError, match=r"signals\[1\]"):
        InformationModel.conditionally_independent([0.5, 0.5], [[0, 0.1]] * 2, [q, q[:, :, ::-1] * 2], np.eye(2))


def test_conditionally_independent_product():
    m = instance_b()
    assert m.signals.shape == (2, 2, 2, 2, 2)
    q = _binary()
    for a1, a2, t, s1, s2 in itertools.product(range(2), repeat=5):
        assert m.signals[a1, a2, t, s1, s2] == pytest.approx(q[a1, t, s1] * q[a2, t, s2])


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 3), st.integers(2, 3), st.booleans())
def test_values_and_decisions_match_brute_force(seed, n, T, product):
    m = random_model(
        np.random.default_rng(seed), n_agents=n, n_actions=2, n_signals=2, n_states=T, n_decisions=3, product=product
    )
    for a in itertools.product(*[range(k) for k in m.n_actions]):
        v = 0.0
        for s in itertools.product(*[range(k) for k in m.n_signals]):
            exp = [
                sum(m.prior[t] * m.signals[a + (t,) + s] * m.utility[d, t] for t in range(T))
                for d in range(m.n_decisions)
            ]
            best = max(exp)
            assert m.decision_table[a + s] == next(d for d in range(len(exp)) if exp[d] == best)
            v += best
        assert m.values[a] == pytest.approx(v, abs=1e-12)


def test_decision_ties_lowest_index():
    m = instance_a()
    # under L the posterior is the prior (1/2, 1/2): both decisions tie -> decision 0
    assert (m.decision_table[0] == 0).all()
    np.testing.assert_array_equal(m.decision_table[1], [0, 1])
    assert m.values.tolist() == pytest.approx([0.5, 0.8])


# --- LP: spec instances ---------------------------------------------------------------------------------
def test_instance_a():
    m = instance_a()
    r = optimal_mechanism(m)
    assert r.value == pytest.approx(8 / 15, abs=1e-7)
    np.testing.assert_allclose(r.recommendation, [0, 1], atol=1e-9)
    np.testing.assert_allclose(r.payments[0, 1], [[1 / 3, 0], [0, 1 / 3]], atol=1e-7)  # the unique bet
    assert r.ic <= 1e-7 and r.attained
    assert principal_utility(m, r) == pytest.approx(8 / 15, abs=1e-7)
    np.testing.assert_allclose(agent_utilities(m, r), [0.8 / 3 - 0.1], atol=1e-7)


@pytest.mark.parametrize("c", [0.0, 0.05, 0.1, 0.11, 0.1125, 0.115, 0.12, 0.3])
def test_instance_a_cost_variant(c):
    r = optimal_mechanism(instance_a(c))
    assert r.value == pytest.approx(max(0.5, 0.8 - 8 * c / 3), abs=1e-7)
    assert r.ic <= 1e-7
    if c == 0.12:
        np.testing.assert_allclose(r.recommendation, [1, 0], atol=1e-9)
        assert np.abs(r.payments).max() == pytest.approx(0.0, abs=1e-9)


def test_threshold_cost_found_by_lp():
    # bisection on c using only the LP: the largest cost at which effort is recommended is 9/80
    lo, hi = 0.0, 0.5
    for _ in range(40):
        mid = (lo + hi) / 2
        r = optimal_mechanism(instance_a(mid), verify=False)
        lo, hi = (mid, hi) if r.recommendation[1] > 0.5 and r.value > 0.5 + 1e-12 else (lo, mid)
    assert lo == pytest.approx(9 / 80, abs=1e-7)


def test_instance_b():
    m = instance_b()
    r = optimal_mechanism(m)
    assert r.value == pytest.approx(8 / 15, abs=1e-7)
    phi = r.recommendation
    assert phi[1, 0] + phi[0, 1] == pytest.approx(1.0, abs=1e-7)
    assert r.ic <= 1e-7 and r.attained
    # hiring both: force phi = (H, H)
    lp = build_lp(m)
    from scipy.optimize import linprog

    bounds = lp.bounds.copy()
    bounds[:4] = 0.0
    bounds[3] = 1.0
    res = linprog(lp.c, lp.A_ub, lp.b_ub, lp.A_eq, lp.b_eq, bounds=bounds, method="highs")
    assert -res.fun == pytest.approx(4 / 15, abs=1e-7)


def test_lp_sizes():
    for m in [
        instance_a(),
        instance_b(),
        random_model(np.random.default_rng(1), n_agents=3, n_actions=3, n_signals=2, n_states=3, product=False),
    ]:
        lp = build_lp(m)
        assert (lp.n_variables, lp.n_constraints) == lp_size(m.n_actions, m.n_signals, m.n_states)
        lpc = build_lp(m, cap=1.0)
        assert (lpc.n_variables, lpc.n_constraints) == lp_size(m.n_actions, m.n_signals, m.n_states, capped=True)
    assert lp_size((2,), (2,), 2) == (2 * (1 + 4) + 8, 4 * 5 + 1)


# --- the verifier ---------------------------------------------------------------------------------------
def test_tampering_breaks_ic():
    for m in [instance_a(), instance_b()]:
        r = optimal_mechanism(m)
        assert ic_violation(m, r) <= 1e-7
        pay = r.payments.copy()
        idx = np.unravel_index(np.argmax(pay), pay.shape)
        pay[idx] *= 0.5
        bad = InformationMechanism(r.recommendation, pay)
        rep = ic_report(m, bad)
        assert rep.violation > 1e-3
        assert rep.witness[0] == idx[0]


def _joint_only_mechanism():
    """Instance A with c = 0.15 and gamma(r=0, th=0) = gamma(r=1, th=1) = 1, gamma(r=0, th=1) = 0.5."""
    m = instance_a(0.15)
    pay = np.zeros(m.payments_shape())
    pay[0, 1, 0, 0] = 1.0  # [agent, a, theta, s]
    pay[0, 1, 1, 1] = 1.0
    pay[0, 1, 1, 0] = 0.5
    return m, InformationMechanism(np.array([0.0, 1.0]), pay)


def test_joint_deviation_witness():
    m, mech = _joint_only_mechanism()
    rep = ic_report(m, mech)
    assert rep.obedience <= 1e-12  # shirking with truthful reports does not pay
    assert rep.truthfulness <= 1e-12  # lying after working does not pay
    assert rep.violation == pytest.approx(0.05, abs=1e-12)  # shirk and always report 0
    assert rep.witness == (0, 1, 0, (0, 0))
    assert ic_violation(m, mech, method="decomposed") == pytest.approx(0.05, abs=1e-12)


def test_pooled_versus_per_profile():
    m = instance_b()
    phi = np.array([[0, 0], [0.5, 0.5]])  # agent 1 always H; agent 2 H half the time
    pay = np.zeros(m.payments_shape())
    bet = np.eye(2)  # [theta, own signal]
    pay[0, 1, 0] = (2 / 3) * bet[:, :, None]  # agent 1 paid only in profile (H, L): [theta, s1, s2]
    pay[1, 1, 1] = (1 / 3) * bet[:, None, :]  # agent 2 paid in (H, H)
    mech = InformationMechanism(phi, pay)
    assert ic_violation(m, mech) <= 1e-12
    rep = ic_report(m, mech, mode="per_profile")
    assert rep.violation == pytest.approx(0.1, abs=1e-12)
    assert rep.witness[0] == 0 and rep.witness[1] == (1, 1) and rep.witness[2] == 0


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10**6), st.integers(1, 2), st.booleans(), st.sampled_from([None, 0.5, 2.0]))
def test_random_instances_lp_mechanisms_pass_verifier(seed, n, product, cap):
    rng = np.random.default_rng(seed)
    m = random_model(rng, n_agents=n, n_actions=2, n_signals=3 if n == 1 else 2, n_states=2, product=product)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = optimal_mechanism(m, cap=cap)
    assert r.status in ("optimal", "epsilon_optimal")  # uncapped supremum: an attained epsilon-optimum
    assert (r.payments >= 0).all()
    if cap is not None:
        assert r.payments.max() <= cap + 1e-7
        assert r.attained
    if r.attained:
        assert ic_violation(m, r, method="enumerate") <= 1e-7
        assert ic_violation(m, r, method="decomposed") <= 1e-7
        assert principal_utility(m, r) == pytest.approx(r.value, abs=1e-7)
    # enumerated and decomposed checkers agree on a random (usually non-IC) mechanism
    phi = rng.dirichlet(np.ones(m.n_profiles)).reshape(m.n_actions)
    pay = rng.uniform(0, 1, m.payments_shape())
    mech = InformationMechanism(phi, pay)
    assert ic_violation(m, mech, method="enumerate") == pytest.approx(ic_violation(m, mech, method="decomposed"))
    # restricted classes never beat the full LP; single agent: deterministic is optimal
    det = optimal_mechanism(m, cap=cap, restriction="deterministic")
    assert det.value <= r.value + 1e-7
    if n == 1:
        assert det.value == pytest.approx(r.value, abs=1e-7)


def test_best_response_strategies_follow_witness():
    m, mech = _joint_only_mechanism()
    br = best_responses(m, mech)
    assert br["effort"][0][1] == 0 and tuple(br["report"][0][1]) == (0, 0)
    assert br["gain"][0][1] == pytest.approx(0.05)
    u_dev = agent_utilities(m, mech, br)
    u_obey = agent_utilities(m, mech)
    assert u_dev[0] - u_obey[0] == pytest.approx(0.05)


# --- virtual payments, caps, eps, IR, restrictions -------------------------------------------------------
def monitoring_instance(c_work=0.1, c_mon=0.05):
    """Agent 0 works (binary signal, accuracy 0.8); agent 1's costly action M reveals whether agent 0 shirked."""
    q1 = _binary()  # [a0, theta, s0]
    mon = np.zeros((2, 2, 2))  # [a0, a1, s1]
    mon[:, 0] = 0.5
    mon[1, 1] = [1.0, 0.0]  # H monitored: "clear"
    mon[0, 1] = [0.0, 1.0]  # L monitored: "shirk detected"
    q = np.einsum("ats,abk->abtsk", q1, mon)
    return InformationModel([0.5, 0.5], [[0, c_work], [0, c_mon]], q, np.eye(2))


def test_virtual_payments_detected_and_cap_monotone():
    m = monitoring_instance()
    with pytest.warns(RuntimeWarning, match="virtual payments"):
        r = optimal_mechanism(m, attain=False)  # the raw LP solution (the default returns an attained one)
    assert not r.attained and r.virtual_mass > 1e-6
    assert r.value == pytest.approx(0.7, abs=1e-7)  # pays exactly the cost through perfect monitoring
    assert ic_violation(m, r) > 1e-3  # the recovered mechanism is not IC
    vals = []
    for B in [0.5, 1, 2, 5, 20, 100]:
        rc = optimal_mechanism(m, cap=B)
        assert rc.attained and rc.ic <= 1e-7 and rc.payments.max() <= B + 1e-7
        vals.append(rc.value)
    assert all(b >= a - 1e-9 for a, b in zip(vals, vals[1:]))
    assert vals[-1] <= 0.7 + 1e-9 and vals[-1] > 8 / 15 + 0.1  # approaches the supremum, beats no-monitoring


def test_eps_strict():
    m = instance_b()
    base = optimal_mechanism(m).value
    prev = -np.inf
    for eps in [0.05, 0.01, 0.001, 1e-5]:
        r = optimal_mechanism(m, eps=eps)
        assert r.value <= base + 1e-9 and r.value >= prev - 1e-9
        prev = r.value
        rep = ic_report(m, r)
        assert rep.obedience <= -eps + 1e-9  # every pure shirk loses at least eps
    assert prev == pytest.approx(base, abs=1e-4)
    # instance A closed form: 0.8 - 8 (c + eps) / 3
    assert optimal_mechanism(instance_a(), eps=0.01).value == pytest.approx(0.8 - 8 * 0.11 / 3, abs=1e-7)


def test_eps_infeasible_reported():
    # two equally cheap actions with identical signal laws: no margin can separate them
    q = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]])
    m = InformationModel([0.5, 0.5], [[0.0, 0.0]], q, np.eye(2))
    r = optimal_mechanism(m, eps=0.01)
    assert r.status == "infeasible" and np.isnan(r.value)


def test_ir_rows_added_without_zero_cost_action():
    # one agent with a single costly action (an informative signal): IC alone would pay nothing
    q = _binary()[1:]
    m = InformationModel([0.5, 0.5], [[0.1]], q, np.eye(2))
    r = optimal_mechanism(m)
    assert r.value == pytest.approx(0.8 - 0.1, abs=1e-7)
    assert agent_utilities(m, r)[0] == pytest.approx(0.0, abs=1e-7)
    r_no = optimal_mechanism(m, require_ir=False)
    assert r_no.value == pytest.approx(0.8, abs=1e-7)
    assert agent_utilities(m, r_no)[0] == pytest.approx(-0.1, abs=1e-7)
    assert build_lp(m).n_constraints == lp_size(m.n_actions, m.n_signals, m.n_states)[1] + 1
    # with a zero-cost action IR is implied and no rows are added
    m0 = instance_a()
    assert build_lp(m0).n_constraints == lp_size(m0.n_actions, m0.n_signals, m0.n_states)[1]


def test_uncorrelated_restriction():
    m = instance_b()
    full = optimal_mechanism(m)
    unc = optimal_mechanism(m, restriction="uncorrelated", grid=2)
    own = optimal_mechanism(m, restriction="uncorrelated", grid=2, uncorrelated_payments="own_rec")
    assert unc.value <= full.value + 1e-9 and own.value <= full.value + 1e-9
    assert unc.ic <= 1e-7 and own.ic <= 1e-7
    # profile-free payments: gamma_i does not depend on the recommended profile where it is recommended
    assert unc.value == pytest.approx(8 / 15, abs=1e-7)  # recommend (H, L) deterministically


def test_likelihood_ratio_bound():
    rng = np.random.default_rng(5)
    hits = 0
    for _ in range(25):
        T, S = rng.integers(2, 4), rng.integers(2, 4)
        prior = rng.dirichlet(np.full(T, 3.0))
        high = rng.dirichlet(np.full(S, 0.3), size=T)
        q = np.stack([np.full((T, S), 1.0 / S), high])
        c = rng.uniform(0.005, 0.05)
        m = InformationModel(prior, [[0.0, c]], q, np.eye(T))
        r = optimal_mechanism(m)
        if r.recommendation[1] < 0.5:
            continue
        hits += 1
        joint = prior[:, None] * high  # [theta, k]
        pk = joint.sum(0)
        post = joint / pk
        lam = np.sum(pk * (post / prior[:, None]).max(0))
        pay = float(np.sum(m.joint[1] * r.payments[0, 1]))
        assert pay >= lam * c / (lam - 1) - 1e-7
    assert hits >= 5
    m = instance_a()
    r = optimal_mechanism(m)
    assert float(np.sum(m.joint[1] * r.payments[0, 1])) == pytest.approx(1.6 * 0.1 / 0.6, abs=1e-9)


def test_bad_arguments():
    m = instance_a()
    with pytest.raises(ValueError, match="restriction"):
        optimal_mechanism(m, restriction="greedy")
    with pytest.raises(ValueError, match="cap"):
        optimal_mechanism(m, cap=-1)
    with pytest.raises(TypeError, match="model"):
        optimal_mechanism("A")
    with pytest.raises(ValueError, match="payments"):
        ic_violation(m, InformationMechanism(np.array([0.0, 1.0]), np.zeros((1, 2, 2))))
    with pytest.raises(ValueError, match="recommendation"):
        ic_violation(m, InformationMechanism(np.array([0.3, 0.3]), np.zeros(m.payments_shape())))
    with pytest.raises(ValueError, match="mode"):
        ic_violation(m, optimal_mechanism(m), mode="strict")


@pytest.mark.parametrize("k", [0.0, 0.01, 0.05, 0.1])
def test_payment_margin_closed_form(k):
    # instance A: the bet gamma must satisfy 0.3 gamma >= 0.1 + k gamma (z = gamma, the largest payment)
    r = optimal_mechanism(instance_a(), payment_margin=k)
    assert r.value == pytest.approx(max(0.5, 0.8 - 0.08 / (0.3 - k)), abs=1e-7)
    # uniform margin: 0.3 gamma >= 0.1 + k; recommending L needs c(H) = 0.1 >= k
    ru = optimal_mechanism(instance_a(), margin=k)
    assert ru.value == pytest.approx(max(0.5, 0.8 - 0.8 * (0.1 + k) / 0.3), abs=1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_per_profile_and_own_report_restrictions(seed):
    m = random_model(
        np.random.default_rng(seed), n_agents=2, n_actions=2, n_signals=2, n_states=2, product=bool(seed % 2)
    )
    full = optimal_mechanism(m, cap=1.0)
    pp = optimal_mechanism(m, cap=1.0, ic_mode="per_profile")
    own = optimal_mechanism(m, cap=1.0, payment_scope="own_report")
    assert pp.value <= full.value + 1e-9 and own.value <= full.value + 1e-9
    assert ic_violation(m, pp, mode="per_profile") <= 1e-7 and pp.ic <= 1e-7
    assert own.ic <= 1e-7
    # own-report payments do not depend on the other agent's report
    np.testing.assert_allclose(
        own.payments[0], np.broadcast_to(own.payments[0][..., :1], own.payments[0].shape), atol=1e-9
    )
    np.testing.assert_allclose(
        own.payments[1], np.broadcast_to(own.payments[1][..., :1, :], own.payments[1].shape), atol=1e-9
    )
    lp = build_lp(m, ic_mode="per_profile")
    assert (lp.n_variables, lp.n_constraints) == lp_size(m.n_actions, m.n_signals, m.n_states, ic_mode="per_profile")


def test_per_profile_loses_the_value_of_pooling():
    # monitoring works only through pooling: per-profile IC falls back to the bet (8/15)
    m = monitoring_instance()
    pooled = optimal_mechanism(m, cap=1.0)
    pp = optimal_mechanism(m, cap=1.0, ic_mode="per_profile")
    assert pooled.value > 0.68
    assert pp.value == pytest.approx(8 / 15, abs=1e-7)
    assert ic_violation(m, pooled, mode="per_profile") > 1e-3  # pooled-IC, not per-profile IC
    m = instance_b()
    assert optimal_mechanism(m, ic_mode="per_profile").value == pytest.approx(8 / 15, abs=1e-7)
    with pytest.raises(ValueError, match="ic_mode"):
        optimal_mechanism(m, ic_mode="strict")
    with pytest.raises(ValueError, match="payment_scope"):
        optimal_mechanism(m, payment_scope="mine")


def _naive_lp_value(m, cap):
    """Independent dense LP with every reporting map written out (Python loops; tiny instances only)."""
    from scipy.optimize import linprog

    n, T = m.n_agents, m.n_states
    A, S = m.n_actions, m.n_signals
    profiles = list(itertools.product(*[range(k) for k in A]))
    sigs = list(itertools.product(*[range(k) for k in S]))
    nA, nS = len(profiles), len(sigs)
    yidx = lambda i, a, t, s: nA + ((i * nA + profiles.index(a)) * T + t) * nS + sigs.index(s)  # noqa: E731
    nvar = nA + n * nA * T * nS
    c = np.zeros(nvar)
    for k, a in enumerate(profiles):
        c[k] = -m.values[a]
        for i in range(n):
            for t in range(T):
                for s in sigs:
                    c[yidx(i, a, t, s)] = m.prior[t] * m.signals[a + (t,) + s]
    rows = []
    for i in range(n):
        for ai in range(A[i]):
            for bi in range(A[i]):
                for phi_map in itertools.product(range(S[i]), repeat=S[i]):
                    row = np.zeros(nvar)  # deviation value - obedient value <= 0
                    for k, a in enumerate(profiles):
                        if a[i] != ai:
                            continue
                        b = a[:i] + (bi,) + a[i + 1 :]
                        row[k] += m.costs[i][ai] - m.costs[i][bi]
                        for t in range(T):
                            for s in sigs:
                                row[yidx(i, a, t, s)] -= m.prior[t] * m.signals[a + (t,) + s]
                                r = s[:i] + (phi_map[s[i]],) + s[i + 1 :]
                                row[yidx(i, a, t, r)] += m.prior[t] * m.signals[b + (t,) + s]
                    rows.append(row)
    for i in range(n):
        for k, a in enumerate(profiles):
            for t in range(T):
                for s in sigs:
                    row = np.zeros(nvar)
                    row[yidx(i, a, t, s)] = 1.0
                    row[k] = -cap
                    rows.append(row)
    A_eq = np.zeros((1, nvar))
    A_eq[0, :nA] = 1
    res = linprog(
        c,
        A_ub=np.array(rows),
        b_ub=np.zeros(len(rows)),
        A_eq=A_eq,
        b_eq=[1.0],
        bounds=[(0, None)] * nvar,
        method="highs",
    )
    assert res.status == 0
    return -res.fun


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10**6), st.booleans(), st.sampled_from([0.5, 1.0, 3.0]))
def test_lp_matches_naive_dense_formulation(seed, product, cap):
    rng = np.random.default_rng(seed)
    m = random_model(rng, n_agents=2, n_actions=2, n_signals=2, n_states=2, product=product, max_cost=0.15)
    assert optimal_mechanism(m, cap=cap, verify=False).value == pytest.approx(_naive_lp_value(m, cap), abs=1e-7)
    m1 = random_model(rng, n_agents=1, n_actions=3, n_signals=3, n_states=3, max_cost=0.15)
    assert optimal_mechanism(m1, cap=cap, verify=False).value == pytest.approx(_naive_lp_value(m1, cap), abs=1e-7)


def test_lp_matches_naive_three_agents():
    m = random_model(
        np.random.default_rng(12), n_agents=3, n_actions=2, n_signals=2, n_states=2, product=False, max_cost=0.1
    )
    assert optimal_mechanism(m, cap=2.0, verify=False).value == pytest.approx(_naive_lp_value(m, 2.0), abs=1e-7)
