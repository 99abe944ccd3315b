"""Separable position auctions (GSP, VCG, GFP, first/second price) and EOS/Varian equilibrium tools.

Reference values: spec position_auctions.md section 3.8 (T1, T2); formulas of sections 3.2-3.7.
"""

import numpy as np
import pytest
from coopsim.mechanisms import auction_solvers as S
from coopsim.mechanisms import auctions as A
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim import mechanisms as M

T1 = dict(v=[10.0, 4.0, 2.0], alpha=[200.0, 100.0])
T2 = dict(v=[10.0, 4.0, 2.0], alpha=[200.0, 199.0])


def run(name, v, alpha, bids=None, **kw):
    """Run with position CTRs alpha / alpha_1 and report totals in the spec's click units."""
    scale = alpha[0]
    res = M.get(name, **kw)(np.array([bids if bids is not None else v]), position=np.array(alpha) / scale)
    return res, scale


# ------------------------------------------------------------------------------------------
# worked examples T1 / T2
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "case, vcg_tot, vcg_pc, gsp_tot, welfare",
    [
        (T1, [600, 200, 0], [3.0, 2.0, 0.0], [800, 200, 0], 2400),
        (T2, [402, 398, 0], [2.01, 2.0, 0.0], [800, 398, 0], 2796),
    ],
)
def test_worked_examples_vcg_gsp(case, vcg_tot, vcg_pc, gsp_tot, welfare):
    v, alpha = case["v"], case["alpha"]
    r, sc = run("vcg", v, alpha)
    np.testing.assert_array_equal(r.assignment[0], [0, 1, -1])
    np.testing.assert_allclose(r.payment[0] * sc, vcg_tot, atol=1e-9)
    np.testing.assert_allclose(r.price[0], vcg_pc, atol=1e-12)
    assert r.revenue[0] * sc == pytest.approx(800)
    assert r.welfare(np.array([v]))[0] * sc == pytest.approx(welfare)
    g, _ = run("gsp", v, alpha)
    np.testing.assert_array_equal(g.assignment[0], [0, 1, -1])
    np.testing.assert_allclose(g.payment[0] * sc, gsp_tot, atol=1e-9)
    np.testing.assert_allclose(g.price[0], [4.0, 2.0, 0.0])
    assert g.revenue[0] * sc == pytest.approx(sum(gsp_tot))
    # slot payments helper and the total-revenue closed form sum_t t (a_t - a_{t+1}) v_(t+1)
    np.testing.assert_allclose(A.vcg_slot_payments(v, alpha), vcg_tot[:2])
    a = np.array(alpha + [0.0])
    assert sum((t + 1) * (a[t] - a[t + 1]) * v[t + 1] for t in range(2)) == pytest.approx(800)


@pytest.mark.parametrize(
    "case, eos, upper, upper_rev",
    [
        (T1, [10, 3, 2], [10, 7, 4], 1800),
        (T2, [10, 2.01, 2], [10, 4.03, 4], 1602),
    ],
)
def test_worked_examples_eos_varian(case, eos, upper, upper_rev):
    v, alpha = case["v"], case["alpha"]
    np.testing.assert_allclose(A.eos_bids(v, alpha), eos, atol=1e-12)
    np.testing.assert_allclose(A.varian_upper_bids(v, alpha), upper, atol=1e-12)
    g, sc = run("gsp", v, alpha, bids=A.eos_bids(v, alpha))
    assert g.revenue[0] * sc == pytest.approx(800)
    g, sc = run("gsp", v, alpha, bids=A.varian_upper_bids(v, alpha))
    assert g.revenue[0] * sc == pytest.approx(upper_rev)
    assert A.gsp_equilibrium_check(v, A.eos_bids(v, alpha), alpha, symmetric=True).ok
    assert A.gsp_equilibrium_check(v, A.eos_bids(v, alpha), alpha).ok
    assert A.gsp_equilibrium_check(v, A.varian_upper_bids(v, alpha), alpha, symmetric=True).ok


def test_truthful_nash_verdicts():
    assert A.gsp_equilibrium_check(T1["v"], T1["v"], T1["alpha"]).ok
    chk = A.gsp_equilibrium_check(T2["v"], T2["v"], T2["alpha"])
    assert not chk.ok
    # witness: bidder 0 moves down to slot 2 (index 1): 8 * 199 - 6 * 200 = 392
    assert (chk.bidder, chk.target) == (0, 1)
    assert chk.gain == pytest.approx(1592 - 1200)
    # the witness is a real deviation: bidding 3 (in (2, 4)) earns 1592 in GSP
    g, sc = run("gsp", T2["v"], T2["alpha"], bids=[3.0, 4.0, 2.0])
    assert g.utility(np.array([T2["v"]]))[0, 0] * sc == pytest.approx(1592)


# ------------------------------------------------------------------------------------------
# random instances
# ------------------------------------------------------------------------------------------
def random_separable(rng, B, n, m, distinct_alpha=True):
    v = rng.random((B, n))
    alpha = np.sort(rng.random((B, m)), axis=1)[:, ::-1]
    if distinct_alpha:
        alpha = alpha + np.arange(m)[::-1] * 1e-3
        alpha = alpha / alpha.max(axis=1, keepdims=True)
    return v, alpha


def test_vcg_matches_generic_matching_vcg_with_quality_and_reserve():
    rng = np.random.default_rng(1)
    for reserve in (0.0, 0.3):
        for n, m in [(1, 1), (2, 3), (4, 2), (5, 4), (3, 3)]:
            B = 25
            v, alpha = random_separable(rng, B, n, m)
            q = rng.uniform(0.2, 1.0, (B, n))
            sep = M.get("vcg", reserve=reserve)(v, quality=q, position=alpha)
            ctr = q[:, :, None] * alpha[:, None, :]
            gen = M.get("aigc_vcg", click_model="additive", reserve=reserve)(v, ctr)
            np.testing.assert_allclose(sep.click_prob, gen.click_prob, atol=1e-12)
            np.testing.assert_allclose(sep.payment, gen.payment, atol=1e-10)


def test_vcg_closed_form_recursion_and_total_agree():
    rng = np.random.default_rng(2)
    v, alpha = random_separable(rng, 200, 6, 4)
    r = M.get("vcg")(v, position=alpha)
    vs = -np.sort(-v, axis=1)
    a = np.concatenate([alpha, np.zeros((200, 1))], axis=1)
    total = sum((t + 1) * (a[:, t] - a[:, t + 1]) * vs[:, t + 1] for t in range(4))
    np.testing.assert_allclose(r.revenue, total, atol=1e-12)
    # recursion p(s) = (a_s - a_{s+1}) v_(s+1) + p(s+1)
    p = np.zeros((200, 5))
    for s in range(3, -1, -1):
        p[:, s] = (a[:, s] - a[:, s + 1]) * vs[:, s + 1] + p[:, s + 1]
    np.testing.assert_allclose(np.sort(r.payment, axis=1)[:, ::-1][:, :4], p[:, :4], atol=1e-12)
    np.testing.assert_allclose(A.vcg_slot_payments(v, alpha), p[:, :4], atol=1e-12)


def test_quality_scores_rank_by_score_and_divide_price():
    # bidder 1 has the lower bid but the higher score
    b = np.array([[2.0, 1.5, 1.0]])
    q = np.array([0.3, 0.6, 0.5])
    pos = np.array([1.0, 0.5])
    g = M.get("gsp")(b, quality=q, position=pos)
    np.testing.assert_array_equal(g.assignment[0], [1, 0, -1])  # scores 0.6, 0.9, 0.5
    np.testing.assert_allclose(g.price[0], [0.5 / 0.3, 0.6 / 0.6, 0.0])
    np.testing.assert_allclose(g.click_prob[0], [0.3 * 0.5, 0.6, 0.0])
    gb = M.get("gsp", rank_by="bid")(b, quality=q, position=pos)
    np.testing.assert_array_equal(gb.assignment[0], [0, 1, -1])
    np.testing.assert_allclose(gb.price[0], [1.5, 1.0, 0.0])
    v = M.get("vcg")(b, quality=q, position=pos)
    # p_V(1) = (1 - .5) * 0.6 + 0.5 * 0.5 = 0.55 -> per click 0.55 / 0.6; p_V(2) = 0.5 * 0.5 = 0.25
    np.testing.assert_allclose(v.payment[0], [0.25, 0.55, 0.0])
    np.testing.assert_allclose(v.price[0], [0.25 / 0.15, 0.55 / 0.6, 0.0])


def test_reserve_prices():
    b = np.array([[1.0, 0.6, 0.2]])
    pos = np.array([1.0, 0.5, 0.25])
    g = M.get("gsp", reserve=0.4)(b, position=pos)
    np.testing.assert_array_equal(g.assignment[0], [0, 1, -1])  # 0.2 < r is ineligible
    np.testing.assert_allclose(g.price[0], [0.6, 0.4, 0.0])
    v = M.get("vcg", reserve=0.4)(b, position=pos)
    # slot 1: (1-.5) max(.4,.6) + (.5-.25) max(.4,0) + .25 max(.4, 0) = 0.3 + 0.1 + 0.1 = 0.5
    # slot 2: (.5-.25) .4 + .25 .4 = 0.2
    np.testing.assert_allclose(v.payment[0], [0.5, 0.2, 0.0])
    # reserve = threshold payment of the welfare-max rule with eligibility b >= r
    mech = M.get("vcg", reserve=0.4)
    for i in (0, 1):
        alloc = lambda z: mech(z[None], position=pos).click_prob[0]  # noqa: E731
        assert S.threshold_payment(alloc, b[0], i) == pytest.approx(v.payment[0, i], abs=1e-9)


def test_vcg_payments_equal_threshold_integral():
    rng = np.random.default_rng(3)
    mech = M.get("vcg")
    for _ in range(30):
        n, m = rng.integers(1, 6), rng.integers(1, 4)
        v, alpha = random_separable(rng, 1, n, m)
        q = rng.uniform(0.2, 1, (1, n))
        r = mech(v, quality=q, position=alpha)
        alloc = lambda z: mech(z[None], quality=q, position=alpha).click_prob[0]  # noqa: E731
        for i in range(n):
            assert S.threshold_payment(alloc, v[0], i) == pytest.approx(r.payment[0, i], abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_gsp_truthful_revenue_at_least_vcg_and_ir(n, m, seed):
    rng = np.random.default_rng(seed)
    v, alpha = random_separable(rng, 8, n, m, distinct_alpha=False)
    q = rng.uniform(0.1, 1, (8, n))
    g = M.get("gsp")(v, quality=q, position=alpha)
    vc = M.get("vcg")(v, quality=q, position=alpha)
    assert (g.revenue >= vc.revenue - 1e-12).all()
    for r in (g, vc):
        assert (r.payment >= -1e-15).all()
        assert (r.payment <= v * r.click_prob + 1e-12).all()
        assert (r.payment[r.assignment < 0] == 0).all()
        assert (r.click_prob[r.assignment < 0] == 0).all()
    np.testing.assert_array_equal(g.assignment, vc.assignment)
    assert (vc.revenue <= vc.welfare(v) + 1e-12).all()


def test_separable_sorting_matches_lsa():
    rng = np.random.default_rng(4)
    for _ in range(100):
        n, m = rng.integers(1, 7), rng.integers(1, 6)
        K = rng.integers(0, m + 1)
        a, b = rng.random((1, n)), rng.random((1, m))
        pos = S.separable_matching(a, b, K)[0]
        val = sum(a[0, i] * b[0, j] for i, j in enumerate(pos) if j >= 0)
        _, ref = S.max_weight_matching(a[0][:, None] * b[0][None], K)
        assert val == pytest.approx(ref, abs=1e-12)
        assert (pos >= 0).sum() <= K


# ------------------------------------------------------------------------------------------
# EOS / Varian on random instances
# ------------------------------------------------------------------------------------------
def test_eos_bstar_reproduces_vcg_and_is_equilibrium():
    rng = np.random.default_rng(5)
    for n, m in [(2, 1), (3, 2), (5, 3), (6, 4), (3, 4)]:
        v, alpha = random_separable(rng, 300, n, m)
        bstar = A.eos_bids(v, alpha)
        g = M.get("gsp")(bstar, position=alpha)
        vc = M.get("vcg")(v, position=alpha)
        np.testing.assert_array_equal(g.assignment, vc.assignment)
        np.testing.assert_allclose(g.payment, vc.payment, atol=1e-12)
        assert A.gsp_equilibrium_check(v, bstar, alpha).ok.all()
        assert A.gsp_equilibrium_check(v, bstar, alpha, symmetric=True).ok.all()
        upper = A.varian_upper_bids(v, alpha)
        assert A.gsp_equilibrium_check(v, upper, alpha, symmetric=True, tie_break="value").ok.all()
        rev_u = M.get("gsp")(upper, position=alpha).revenue
        assert (rev_u >= vc.revenue - 1e-12).all()
        # B* ranks below value; the top bids its value; ranks below S+1 bid their values
        assert (bstar <= v + 1e-12).all()
        # convex combinations stay in the (convex) SNE set with revenue in [VCG, upper]
        for lam in (0.25, 0.5, 0.9):
            mix = lam * bstar + (1 - lam) * upper
            chk = A.gsp_equilibrium_check(v, mix, alpha, symmetric=True, tie_break="value")
            assert chk.ok.all()
            rev = M.get("gsp")(mix, position=alpha).revenue
            assert ((rev >= vc.revenue - 1e-12) & (rev <= rev_u + 1e-12)).all()


def test_random_sne_profiles_have_revenue_in_band():
    rng = np.random.default_rng(6)
    v, alpha = random_separable(rng, 4000, 4, 3)
    lo, hi = A.eos_bids(v, alpha), A.varian_upper_bids(v, alpha)
    bids = np.maximum(lo + rng.uniform(-0.3, 1.3, lo.shape) * (hi - lo), 0.0)
    chk = A.gsp_equilibrium_check(v, bids, alpha, symmetric=True)
    assert chk.ok.sum() > 50 and (~chk.ok).sum() > 50  # the check discriminates
    rev = M.get("gsp")(bids, position=alpha).revenue
    rv, ru = M.get("vcg")(v, position=alpha).revenue, M.get("gsp")(hi, position=alpha).revenue
    ok = chk.ok
    assert (rev[ok] >= rv[ok] - 1e-9).all() and (rev[ok] <= ru[ok] + 1e-9).all()


def test_eos_input_order_and_edge_ranks():
    v = np.array([2.0, 10.0, 1.0, 4.0, 0.5])
    b = A.eos_bids(v, [200.0, 100.0])
    np.testing.assert_allclose(b, [2.0, 10.0, 1.0, 3.0, 0.5])  # ranks below S+1 bid values
    u = A.varian_upper_bids(v, [200.0, 100.0])
    np.testing.assert_allclose(u, [4.0, 10.0, 1.0, 7.0, 0.5])
    # fewer bidders than slots
    # rank 2 bids p_V(1) / a_1 = (1 - 0.5) * 1 = 0.5; no loser below
    np.testing.assert_allclose(A.eos_bids([3.0, 1.0], [1.0, 0.5, 0.2]), [3.0, 0.5])
    np.testing.assert_allclose(A.varian_upper_bids([3.0, 1.0], [1.0, 0.5, 0.2]), [3.0, 1.5])


def test_first_price_bne_tools():
    np.testing.assert_allclose(A.first_price_bne_bid([0.0, 0.5, 1.0], 2), [0.0, 0.25, 0.5])
    np.testing.assert_allclose(A.first_price_bne_bid([0.6], 3), [0.4])
    assert A.first_price_bne_revenue(5) == pytest.approx(2 / 3)
    assert A.myerson_uniform_revenue(2) == pytest.approx(5 / 12)
    assert A.myerson_uniform_revenue(3) == pytest.approx(17 / 32)
    rng = np.random.default_rng(7)
    v = rng.random((400_000, 3))
    fp = M.get("first_price")(A.first_price_bne_bid(v, 3))
    se = fp.revenue.std() / np.sqrt(len(v))
    assert abs(fp.revenue.mean() - 0.5) < 3 * se + 1e-4


# ------------------------------------------------------------------------------------------
# incentives: VCG truthful, GSP and first price not
# ------------------------------------------------------------------------------------------
def test_vcg_no_profitable_unilateral_deviation():
    rng = np.random.default_rng(8)
    v, alpha = random_separable(rng, 60, 4, 3, distinct_alpha=False)
    q = rng.uniform(0.2, 1, (60, 4))
    grid = np.concatenate([np.linspace(0, 1.2, 61), rng.random(20)])
    for reserve in (0.0, 0.25):
        gains = A.unilateral_gains(M.get("vcg", reserve=reserve), v, v, grid, quality=q, position=alpha)
        assert gains.max() <= 1e-9
    gains = A.unilateral_gains(M.get("second_price"), v, v, grid)
    assert gains.max() <= 1e-9


def test_gsp_and_first_price_have_profitable_deviations():
    rng = np.random.default_rng(9)
    v, alpha = random_separable(rng, 60, 4, 3)
    grid = np.linspace(0, 1, 101)
    assert A.unilateral_gains(M.get("gsp"), v, v, grid, position=alpha).max() > 1e-3
    assert A.unilateral_gains(M.get("first_price"), v, v, grid).max() > 1e-3
    assert A.unilateral_gains(M.get("gfp"), v, v, grid, position=alpha).max() > 1e-3


# ------------------------------------------------------------------------------------------
# ties, billing, shapes, edge cases
# ------------------------------------------------------------------------------------------
def test_tie_breaking_modes():
    b = np.array([[0.5, 0.5, 0.2]])
    r = M.get("second_price")(b)
    np.testing.assert_array_equal(r.assignment[0], [0, -1, -1])
    np.testing.assert_allclose(r.payment[0], [0.5, 0, 0])
    s = M.get("first_price", tie_break="share")(b)
    np.testing.assert_allclose(s.click_prob[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(s.payment[0], [0.25, 0.25, 0.0])
    # share over two tied bidders and slots (1, .5): each gets the mean slot CTR
    g = M.get("gsp", tie_break="share")(np.array([[0.5, 0.9, 0.5, 0.1]]), position=[1.0, 0.6, 0.2])
    np.testing.assert_allclose(g.click_prob[0], [0.4, 1.0, 0.4, 0.0])
    # payments: slot 2 price 0.5 (tied), slot 3 price 0.1 -> mean (0.6*0.5 + 0.2*0.1)/2
    np.testing.assert_allclose(g.payment[0], [0.16, 0.5, 0.16, 0.0])
    rnd = M.get("first_price", tie_break="random", seed=3)
    wins = np.array([rnd(np.tile(b, (2000, 1))).assignment[:, :2].argmax(axis=1)]).ravel()
    assert 0.45 < wins.mean() < 0.55
    r1 = M.get("first_price", tie_break="random", seed=3)(np.tile(b, (50, 1))).assignment
    r2 = M.get("first_price", tie_break="random", seed=3)(np.tile(b, (50, 1))).assignment
    np.testing.assert_array_equal(r1, r2)


def test_share_tie_break_matches_random_average():
    rng = np.random.default_rng(10)
    bids = rng.integers(0, 4, (1, 6)) / 4.0
    pos = np.array([0.9, 0.5, 0.4, 0.1])
    for name in ("gsp", "vcg", "gfp"):
        sh = M.get(name, tie_break="share")(bids, quality=np.ones(6), position=pos)
        rd = M.get(name, tie_break="random", seed=1)(np.tile(bids, (40000, 1)), quality=np.ones(6), position=pos)
        np.testing.assert_allclose(rd.click_prob.mean(0), sh.click_prob[0], atol=0.01)
        np.testing.assert_allclose(rd.payment.mean(0), sh.payment[0], atol=0.01)


def test_billing_and_sampled_clicks():
    rng = np.random.default_rng(11)
    v, alpha = random_separable(rng, 1, 4, 3)
    bids = np.tile(v, (100_000, 1))
    for billing in ("per_click", "per_impression"):
        r = M.get("gsp", billing=billing)(bids, position=alpha[0])
        clicks = r.sample_clicks(np.random.default_rng(0))
        np.testing.assert_allclose(clicks.mean(0), r.click_prob[0], atol=0.01)
        np.testing.assert_allclose(r.realized_payment(clicks).mean(0), r.payment[0], atol=0.01)
    per_imp = M.get("gsp", billing="per_impression")(bids[:1], position=alpha[0])
    np.testing.assert_allclose(
        per_imp.realized_payment(np.zeros((1, 4))), np.where(per_imp.assignment >= 0, per_imp.payment, 0)
    )


def test_full_ctr_matrix_equals_factors_and_batch_equals_rows():
    rng = np.random.default_rng(12)
    v, alpha = random_separable(rng, 30, 5, 3)
    q = rng.uniform(0.2, 1, (30, 5))
    ctr = q[:, :, None] * alpha[:, None, :]
    for name in ("gsp", "vcg", "gfp"):
        a = M.get(name)(v, ctr)
        b = M.get(name)(v, quality=q, position=alpha)
        np.testing.assert_allclose(a.payment, b.payment, atol=1e-12)
        np.testing.assert_array_equal(a.assignment, b.assignment)
        for r in (0, 7):
            one = M.get(name)(v[r], quality=q[r], position=alpha[r])
            np.testing.assert_allclose(one.payment[0], b.payment[r])


def test_edge_cases():
    vcg = M.get("vcg")
    r = vcg(np.array([[0.7]]), position=[0.5])  # n = 1
    np.testing.assert_allclose([r.click_prob[0, 0], r.payment[0, 0]], [0.5, 0.0])
    r = vcg(np.array([[0.7, 0.2]]), position=np.zeros((0,)))  # m = 0
    assert (r.assignment == -1).all() and (r.payment == 0).all()
    r = M.get("gsp", max_slots=0)(np.array([[0.7, 0.2]]), position=[1.0])
    assert (r.assignment == -1).all()
    r = vcg(np.zeros((2, 3)), position=[1.0, 0.5])  # zero bids: nothing allocated
    assert (r.assignment == -1).all() and (r.revenue == 0).all()
    r = vcg(np.array([[0.9, 0.4]]), position=[1.0, 0.0])  # zero-CTR slot never used
    np.testing.assert_array_equal(r.assignment[0], [0, -1])
    r = M.get("gsp")(np.array([[0.3, 0.9]]), position=[0.2, 1.0])  # unsorted positions
    np.testing.assert_array_equal(r.assignment[0], [0, 1])
    np.testing.assert_allclose(r.payment[0], [0.0, 0.3])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda m: m(np.array([[0.5, -0.1]]), position=[1.0]), "bids"),
        (lambda m: m(np.array([[0.5, np.nan]]), position=[1.0]), "bids"),
        (lambda m: m(np.array([[0.5, 0.2]]), np.full((1, 2, 2), 1.2)), "ctr"),
        (lambda m: m(np.array([[0.5, 0.2]]), np.full((1, 3, 2), 0.2)), "ctr"),
        (lambda m: m(np.array([[0.5, 0.2]]), position=[1.5]), "position"),
        (lambda m: m(np.array([[0.5, 0.2]]), quality=[1.0], position=[1.0]), "quality"),
        (lambda m: m(np.array([[0.5, 0.2]])), "ctr"),
        (lambda m: m(np.zeros((2, 2, 2)), position=[1.0]), "bids"),
    ],
)
def test_bad_input_names_parameter(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(M.get("gsp"))


def test_bad_parameters():
    with pytest.raises(ValueError, match="reserve"):
        M.get("vcg", reserve=-1.0)
    with pytest.raises(ValueError, match="billing"):
        M.get("gsp", billing="per_view")
    with pytest.raises(ValueError, match="tie_break"):
        M.get("gsp", tie_break="coin")
    with pytest.raises(ValueError, match="max_slots"):
        M.get("gsp", max_slots=3)(np.array([[0.5, 0.2]]), np.full((1, 2, 2), 0.2))
    with pytest.raises(ValueError, match="unknown name"):
        M.get("gsp2")
    with pytest.raises(ValueError, match="alpha"):
        A.eos_bids([1.0, 0.5], [0.5, 1.0])
    with pytest.raises(ValueError, match="values"):
        A.eos_bids([1.0, -0.5], [1.0, 0.5])
