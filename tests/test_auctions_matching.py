"""AIGC position auctions: per-(ad, position) CTRs, <= K ads, additive / MNL / cascade click models.

References: spec position_auctions.md sections 4-6 and 8 (T4, T5); brute force over every ordered
<= K matching is the reference for every solver.
"""

import itertools

import numpy as np
import pytest
from coopsim.mechanisms import auction_solvers as S
from coopsim.mechanisms import auctions as A
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim import mechanisms as M


def rand_instance(rng, n, m, zero_frac=0.15):
    v = rng.random(n) * (rng.random(n) > zero_frac)
    c = rng.random((n, m)) * (rng.random((n, m)) > zero_frac) * 0.95
    q = rng.random((n, m))
    return v, c, q


# ------------------------------------------------------------------------------------------
# worked examples
# ------------------------------------------------------------------------------------------
def test_t4_additive():
    c = np.array([[0.5, 0.4], [0.3, 0.6], [0.4, 0.2]])
    r = M.get("aigc_vcg", click_model="additive", max_ads=2)(np.array([[3.0, 2.0, 1.0]]), c[None])
    np.testing.assert_array_equal(r.assignment[0], [0, 1, -1])
    assert r.welfare([[3, 2, 1]])[0] == pytest.approx(2.7)
    np.testing.assert_allclose(r.payment[0], [0.4, 0.2, 0.0], atol=1e-12)
    np.testing.assert_allclose(r.price[0], [0.8, 1 / 3, 0.0], atol=1e-12)
    assert r.revenue[0] == pytest.approx(0.6)
    # W*_{-1} = 1.6 and W*_{-2} = 1.7
    mech = M.get("aigc_vcg", click_model="additive", max_ads=2)
    assert mech.optimum([[0.0, 2.0, 1.0]], c[None])[0] == pytest.approx(1.6)
    assert mech.optimum([[3.0, 0.0, 1.0]], c[None])[0] == pytest.approx(1.7)


def test_t5_mnl():
    w = np.array([[1.0, 0.5], [0.5, 1.0], [1.0, 1.0]])
    mech = M.get("aigc_vcg", click_model="mnl", max_ads=2)
    r = mech(np.array([[4.0, 3.0, 1.0]]), weights=w[None])
    np.testing.assert_array_equal(r.assignment[0], [0, 1, -1])
    np.testing.assert_allclose(r.click_prob[0], [1 / 3, 1 / 3, 0.0], atol=1e-12)
    assert r.welfare([[4, 3, 1]])[0] == pytest.approx(7 / 3)
    np.testing.assert_allclose(r.payment[0], [0.5, 2 / 3, 0.0], atol=1e-12)
    np.testing.assert_allclose(r.price[0], [1.5, 2.0, 0.0], atol=1e-12)
    assert r.revenue[0] == pytest.approx(7 / 6)
    assert mech.optimum([[0.0, 3.0, 1.0]], weights=w[None])[0] == pytest.approx(1.5)
    assert mech.optimum([[4.0, 0.0, 1.0]], weights=w[None])[0] == pytest.approx(2.0)
    # the same through logit-calibrated CTRs p = w / (1 + w)
    r2 = mech(np.array([[4.0, 3.0, 1.0]]), (w / (1 + w))[None])
    np.testing.assert_allclose(r2.payment, r.payment, atol=1e-12)


@pytest.mark.parametrize("model, kw", [("additive", {}), ("mnl", {})])
def test_worked_examples_threshold_payments(model, kw):
    if model == "additive":
        c, v = np.array([[0.5, 0.4], [0.3, 0.6], [0.4, 0.2]]), np.array([3.0, 2.0, 1.0])
    else:
        w = np.array([[1.0, 0.5], [0.5, 1.0], [1.0, 1.0]])
        c, v = w / (1 + w), np.array([4.0, 3.0, 1.0])
    mech = M.get("aigc_vcg", click_model=model, max_ads=2)
    r = mech(v[None], c[None])
    alloc = mech.allocation_rule(c)
    for i in range(3):
        assert S.threshold_payment(alloc, v, i) == pytest.approx(r.payment[0, i], abs=1e-9)


# ------------------------------------------------------------------------------------------
# solvers against brute force
# ------------------------------------------------------------------------------------------
def test_solvers_match_brute_force_on_random_instances():
    rng = np.random.default_rng(0)
    for _ in range(300):
        n, m = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        K = int(rng.integers(0, m + 1))
        v, c, q = rand_instance(rng, n, m)
        w = c / (1 - c)
        e, val = S.max_weight_matching(v[:, None] * c, K)
        assert len(e) <= K
        assert val == pytest.approx(S.brute_force("additive", v, c, K)[1], abs=1e-9)
        e, val = S.mnl_optimum(v, w, K)
        assert val == pytest.approx(S.brute_force("mnl", v, c, K, weights=w)[1], abs=1e-9)
        assert val == pytest.approx(S.allocation_welfare("mnl", v, e, c, weights=w), abs=1e-12)
        assert (v[e[:, 0]] >= val - 1e-12).all()  # every included ad has v_i >= W*
        e, val = S.cascade_stop_dp(v, c, K)
        assert val == pytest.approx(S.brute_force("cascade", v, c, K)[1], abs=1e-9)
        assert val == pytest.approx(S.allocation_welfare("cascade", v, e, c), abs=1e-12)
        assert (np.diff(v[e[:, 0]]) <= 0).all()  # rendered in decreasing value
        e, val = S.cascade_edge_dp(v, c, q, K)
        assert val == pytest.approx(S.brute_force("cascade", v, c, K, cont=q)[1], abs=1e-9)
        assert val == pytest.approx(S.allocation_welfare("cascade", v, e, c, cont=q), abs=1e-12)
        e, val = S.cascade_fixed_dp(v, c, q, K)
        assert val == pytest.approx(S.brute_force("cascade", v, c, K, cont=q, order="fixed")[1], abs=1e-9)
        p1, q1 = rng.random(n), rng.random(n)
        ads, val = S.km_dp(v, p1, q1, K)
        ref = S.brute_force("cascade", v, np.repeat(p1[:, None], m, 1), K, cont=np.repeat(q1[:, None], m, 1))[1]
        assert val == pytest.approx(ref, abs=1e-9)


def test_dummy_row_construction_uses_at_most_k_edges():
    rng = np.random.default_rng(1)
    for K in range(0, 5):
        W = rng.random((6, 5))
        e, val = S.max_weight_matching(W, K)
        assert len(e) == min(K, 5)
        assert len(set(e[:, 0])) == len(e) and len(set(e[:, 1])) == len(e)


def test_kappa_order_is_optimal_for_a_fixed_edge_set():
    rng = np.random.default_rng(2)
    for _ in range(100):
        n, m = 4, 4
        v, c, q = rand_instance(rng, n, m, zero_frac=0.0)
        edges = np.array(list(zip(rng.permutation(n)[:3], rng.permutation(m)[:3])))
        a = v[edges[:, 0]] * c[edges[:, 0], edges[:, 1]]
        kappa = a / (1 - q[edges[:, 0], edges[:, 1]])
        best = S.allocation_welfare("cascade", v, edges[np.argsort(-kappa)], c, cont=q)
        for perm in itertools.permutations(range(3)):
            assert S.allocation_welfare("cascade", v, edges[list(perm)], c, cont=q) <= best + 1e-12


def test_cascade_variant_a_is_variant_b_with_q_one_minus_p():
    rng = np.random.default_rng(3)
    for _ in range(50):
        v, c, _ = rand_instance(rng, 4, 3)
        assert S.cascade_stop_dp(v, c, 2)[1] == pytest.approx(S.cascade_edge_dp(v, c, 1 - c, 2)[1], abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.integers(0, 4), st.integers(0, 2**31 - 1))
def test_property_mnl_and_cascade_vs_brute(n, m, K, seed):
    K = min(K, m)
    rng = np.random.default_rng(seed)
    v, c, q = rand_instance(rng, n, m)
    w = c / (1 - c)
    assert S.mnl_optimum(v, w, K)[1] == pytest.approx(S.brute_force("mnl", v, c, K, weights=w)[1], abs=1e-9)
    assert S.cascade_edge_dp(v, c, q, K)[1] == pytest.approx(S.brute_force("cascade", v, c, K, cont=q)[1], abs=1e-9)


def test_empty_and_degenerate_instances():
    for solver in (
        lambda v, c: S.max_weight_matching(v[:, None] * c, 2),
        lambda v, c: S.mnl_optimum(v, c, 2),
        lambda v, c: S.cascade_stop_dp(v, c, 2),
        lambda v, c: S.cascade_edge_dp(v, c, 1 - c, 2),
    ):
        e, val = solver(np.zeros(3), np.full((3, 2), 0.5))
        assert len(e) == 0 and val == 0.0
        e, val = solver(np.ones(3), np.zeros((3, 2)))
        assert len(e) == 0 and val == 0.0
    mech = M.get("aigc_vcg", click_model="mnl", max_ads=0)
    r = mech(np.array([[0.5, 0.7]]), np.full((1, 2, 2), 0.3))
    assert (r.assignment == -1).all() and (r.payment == 0).all()
    r = M.get("aigc_vcg", click_model="cascade")(np.array([[0.5]]), np.full((1, 1, 3), 0.3))  # n = 1
    assert r.click_prob[0, 0] == pytest.approx(0.3) and r.payment[0, 0] == 0.0


# ------------------------------------------------------------------------------------------
# VCG payments
# ------------------------------------------------------------------------------------------
MODELS = [
    dict(click_model="additive"),
    dict(click_model="mnl"),
    dict(click_model="cascade"),
    dict(click_model="cascade", cascade="continuation"),
    dict(click_model="cascade", order="fixed"),
]


def call_kw(params, q):
    return {"cont": q} if params.get("cascade") == "continuation" else {}


@pytest.mark.parametrize("params", MODELS, ids=lambda p: "-".join(str(x) for x in p.values()))
def test_vcg_payment_invariants_and_exact_threshold(params):
    rng = np.random.default_rng(4)
    for it in range(25):
        n, m = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        K = int(rng.integers(1, m + 1))
        v, c, q = rand_instance(rng, n, m)
        mech = M.get("aigc_vcg", max_ads=K, **params)
        r = mech(v[None], c[None], **({"cont": q[None]} if params.get("cascade") == "continuation" else {}))
        pay, pi = r.payment[0], r.click_prob[0]
        assert (pay >= -1e-12).all() and (pay <= v * pi + 1e-12).all()
        assert (pay[pi == 0] == 0).all() and (r.assignment[0][pi == 0] == -1).all()
        assert r.revenue[0] <= r.welfare(v[None])[0] + 1e-12
        # the allocation is welfare-optimal (brute force)
        bf = S.brute_force(
            params["click_model"],
            v,
            c,
            K,
            weights=c / (1 - c),
            cont=q if params.get("cascade") == "continuation" else None,
            order=params.get("order", "free"),
        )[1]
        assert r.welfare(v[None])[0] == pytest.approx(bf, abs=1e-9)
        alloc = mech.allocation_rule(c, **call_kw(params, q))
        for i in range(n):
            assert S.threshold_payment(alloc, v, i) == pytest.approx(pay[i], abs=1e-9)


@pytest.mark.parametrize("params", MODELS[:3], ids=lambda p: p["click_model"])
def test_vcg_payment_grid_threshold_within_1e3(params):
    rng = np.random.default_rng(5)
    for _ in range(3):
        v, c, q = rand_instance(rng, 3, 2, zero_frac=0.0)
        mech = M.get("aigc_vcg", max_ads=2, **params)
        r = mech(v[None], c[None])
        alloc = mech.allocation_rule(c)
        for i in range(3):
            assert S.threshold_payment(alloc, v, i, method="grid", grid=1000) == pytest.approx(
                r.payment[0, i], abs=1e-3
            )


@pytest.mark.parametrize("params", MODELS, ids=lambda p: "-".join(str(x) for x in p.values()))
def test_vcg_no_profitable_misreport(params):
    rng = np.random.default_rng(6)
    B, n, m = 6, 3, 3
    v = rng.random((B, n))
    c = rng.random((B, n, m)) * 0.9
    q = rng.random((B, n, m))
    mech = M.get("aigc_vcg", max_ads=2, **params)
    grid = np.concatenate([np.linspace(0, 1.2, 25), rng.random(8)])
    kw = {"ctr": c, **({"cont": q} if params.get("cascade") == "continuation" else {})}
    gains = A.unilateral_gains(mech, v, v, grid, **kw)
    assert gains.max() <= 1e-9


def test_reserve_in_matching_vcg_is_the_threshold_payment():
    rng = np.random.default_rng(7)
    for model in ("additive", "mnl", "cascade"):
        for _ in range(8):
            v, c, _ = rand_instance(rng, 4, 3, zero_frac=0.0)
            mech = M.get("aigc_vcg", click_model=model, max_ads=2, reserve=0.35)
            r = mech(v[None], c[None])
            assert (r.click_prob[0][v < 0.35] == 0).all()
            alloc = mech.allocation_rule(c)
            for i in range(4):
                assert S.threshold_payment(alloc, v, i) == pytest.approx(r.payment[0, i], abs=1e-9)
            assert (r.price[0][r.click_prob[0] > 0] >= 0.35 - 1e-12).all()


def test_separable_ctr_through_aigc_equals_separable_vcg():
    rng = np.random.default_rng(8)
    v = rng.random((20, 5))
    alpha = np.sort(rng.random((20, 3)), axis=1)[:, ::-1]
    qual = rng.uniform(0.3, 1, (20, 5))
    a = M.get("aigc_vcg", click_model="additive")(v, quality=qual, position=alpha)
    b = M.get("vcg")(v, quality=qual, position=alpha)
    np.testing.assert_allclose(a.payment, b.payment, atol=1e-12)
    np.testing.assert_allclose(a.click_prob, b.click_prob, atol=1e-12)
    # a non-separable CTR handed to "vcg" is solved as the additive matching model
    c = rng.random((20, 5, 3))
    np.testing.assert_allclose(M.get("vcg")(v, c).payment, M.get("aigc_vcg")(v, c).payment, atol=1e-12)


# ------------------------------------------------------------------------------------------
# click models
# ------------------------------------------------------------------------------------------
def test_click_model_invariants():
    rng = np.random.default_rng(9)
    for _ in range(200):
        n, m = 5, 4
        c = rng.random((n, m)) * 0.95
        w = c / (1 - c)
        q = rng.random((n, m))
        k = int(rng.integers(1, 5))
        edges = np.array(list(zip(rng.permutation(n)[:k], rng.permutation(m)[:k])))
        mnl = S.edge_click_probs("mnl", edges, c, w)
        assert mnl.sum() < 1
        np.testing.assert_allclose(mnl, S.edge_click_probs("mnl", edges[::-1], c, w)[::-1])  # order-free
        casc = S.edge_click_probs("cascade", edges, c)
        assert casc.sum() <= 1 + 1e-12
        # adding an ad never raises another's CTR; cascade (b): earlier ads unchanged
        extra = np.array(
            [[i, j] for i in range(n) for j in range(m) if i not in edges[:, 0] and j not in edges[:, 1]][:1]
        )
        if len(extra):
            more = np.vstack([edges, extra])
            assert (S.edge_click_probs("mnl", more, c, w)[:k] <= mnl + 1e-15).all()
            mid = np.vstack([edges[:1], extra, edges[1:]])
            cb = S.edge_click_probs("cascade", mid, c, q)
            base = S.edge_click_probs("cascade", edges, c, q)
            assert cb[0] == base[0] and (cb[2:] <= base[1:] + 1e-15).all()
    # logit calibration: an ad shown alone has CTR p
    p = rng.random((3, 2)) * 0.9
    r = M.get("aigc_vcg", click_model="mnl", max_ads=1)(np.array([[1.0, 0.0, 0.0]]), p[None])
    assert r.click_prob[0, 0] == pytest.approx(p[0].max())


def test_sampled_clicks_have_the_right_marginals():
    rng = np.random.default_rng(10)
    v = np.tile(rng.random(4), (60_000, 1))
    c = np.tile(rng.random((1, 4, 3)) * 0.8, (60_000, 1, 1))
    q = np.tile(rng.random((1, 4, 3)), (60_000, 1, 1))
    for params in MODELS[:4]:
        mech = M.get("aigc_vcg", max_ads=3, **params)
        r = mech(v[:1], c[:1], **({"cont": q[:1]} if params.get("cascade") == "continuation" else {}))
        big = A.AuctionResult(
            **{
                f: np.repeat(getattr(r, f), 60_000, axis=0) if isinstance(getattr(r, f), np.ndarray) else getattr(r, f)
                for f in r.__dataclass_fields__
            }
        )
        clicks = big.sample_clicks(np.random.default_rng(0))
        np.testing.assert_allclose(clicks.mean(0), r.click_prob[0], atol=0.01)
        exclusive = params["click_model"] == "mnl" or (
            params["click_model"] == "cascade" and params.get("cascade", "stop") == "stop"
        )
        if exclusive:
            assert clicks.sum(axis=1).max() <= 1


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
def test_bad_input_matching():
    mech = M.get("aigc_vcg", click_model="mnl", max_ads=2)
    c = np.full((1, 3, 2), 0.3)
    with pytest.raises(ValueError, match="bids"):
        mech(np.array([[0.1, np.nan, 0.2]]), c)
    with pytest.raises(ValueError, match="bids"):
        mech(np.array([[0.1, -1.0, 0.2]]), c)
    with pytest.raises(ValueError, match="ctr"):
        mech(np.array([[0.1, 0.3, 0.2]]), c * 4)
    with pytest.raises(ValueError, match="ctr"):
        mech(np.array([[0.1, 0.3]]), c)
    with pytest.raises(ValueError, match="ctr"):
        mech(np.array([[0.1, 0.3, 0.2]]), np.ones((1, 3, 2)))  # p = 1 under logit calibration
    with pytest.raises(ValueError, match="max_ads"):
        M.get("aigc_vcg", max_ads=3)(np.array([[0.1, 0.3, 0.2]]), c)
    with pytest.raises(ValueError, match="click_model"):
        M.get("aigc_vcg", click_model="probit")
    with pytest.raises(ValueError, match="cont"):
        M.get("aigc_vcg", click_model="cascade", cascade="continuation")(np.array([[0.1, 0.3, 0.2]]), c)
    with pytest.raises(ValueError, match="cont"):
        M.get("aigc_vcg", click_model="cascade", cascade="continuation")(
            np.array([[0.1, 0.3, 0.2]]), c, cont=np.full((1, 3, 2), 1.5)
        )
    with pytest.raises(ValueError, match="weights"):
        mech(np.array([[0.1, 0.3, 0.2]]), c, weights=np.ones((1, 2, 2)))
