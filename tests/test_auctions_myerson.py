"""Myerson: virtual values, ironing, reserves and revenue-optimal position auctions (spec section 7)."""

import numpy as np
import pytest
from coopsim.mechanisms import auction_solvers as S
from coopsim.mechanisms import myerson as my

from coopsim import mechanisms as M


class Bimodal:
    """An irregular distribution: equal mixture of U[0, 0.2] and U[0.8, 1] (needs ironing)."""

    support = (0.0, 1.0)

    def cdf(self, v):
        v = np.asarray(v, dtype=float)
        return np.clip(np.where(v < 0.2, v / 0.4, np.where(v < 0.8, 0.5, 0.5 + (v - 0.8) / 0.4)), 0, 1)

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        return np.where(u <= 0.5, 0.4 * u, 0.8 + 0.4 * (u - 0.5))


def test_closed_form_virtual_values_and_reserves():
    assert my.myerson_reserve(my.Uniform(0, 1)) == pytest.approx(0.5)
    assert my.myerson_reserve(my.Uniform(0, 3)) == pytest.approx(1.5)
    assert my.myerson_reserve(my.Exponential(2.0)) == pytest.approx(0.5)
    np.testing.assert_allclose(my.virtual_value(my.Uniform(0, 2), [0.5, 1, 2]), [-1, 0, 2])
    # the numeric ironing reproduces the closed forms of regular distributions
    for dist, vs in [(my.Uniform(0, 2), [0.3, 1.0, 1.7]), (my.Exponential(1.5), [0.2, 1.0, 2.0])]:
        num = my.ironed_virtual_value(dist, force_numeric=True)
        np.testing.assert_allclose(num(np.array(vs)), my.virtual_value(dist, vs), atol=2e-3)
        assert num.reserve == pytest.approx(my.myerson_reserve(dist), abs=2e-3)
    ln = my.LogNormal(0.0, 0.5)
    num = my.ironed_virtual_value(ln, force_numeric=True)
    np.testing.assert_allclose(num(np.array([0.8, 1.0, 1.5])), ln.virtual_value([0.8, 1.0, 1.5]), atol=5e-3)


def test_ironing_of_an_irregular_distribution():
    ph = my.ironed_virtual_value(Bimodal(), grid=4001)
    assert (np.diff(ph.phi) >= 0).all()  # phi_bar non-decreasing in v
    assert (ph.R_bar >= ph.R - 1e-12).all()  # majorant
    slopes = np.diff(ph.R_bar) / np.diff(ph.q)
    assert (np.diff(slopes) <= 1e-9).all()  # concave
    # the raw virtual value is not monotone here, the ironed one is constant on the ironed interval
    v = np.array([0.1, 0.15, 0.19])
    assert np.ptp(ph(v)) < 1e-9
    # equality outside ironing intervals (top of the support is not ironed)
    top = ph.q < 0.2
    np.testing.assert_allclose(ph.R_bar[top], ph.R[top], atol=1e-12)


def test_ironing_from_samples():
    rng = np.random.default_rng(0)
    ph = my.ironed_virtual_value(rng.random(20_000))
    assert ph.reserve == pytest.approx(0.5, abs=0.03)
    assert (np.diff(ph.phi) >= 0).all()
    with pytest.raises(ValueError, match="samples"):
        my.Empirical([0.5])


def test_two_bidder_revenue_5_over_12_and_second_price_1_over_3():
    rng = np.random.default_rng(1)
    v = rng.random((400_000, 2))
    r = M.get("myerson", distribution="uniform")(v)
    se = r.revenue.std() / np.sqrt(len(v))
    assert abs(r.revenue.mean() - 5 / 12) < 3 * se
    sp = M.get("second_price")(v).revenue
    assert abs(sp.mean() - 1 / 3) < 3 * sp.std() / np.sqrt(len(v))
    # revenue identity: E[revenue] = E[sum_i phi_i(v_i) pi_i]
    phi = 2 * v - 1
    vv = (phi * r.click_prob).sum(axis=1)
    assert abs(r.revenue.mean() - vv.mean()) < 3 * np.std(r.revenue - vv) / np.sqrt(len(v)) + 1e-4
    # three bidders: 17/32
    v3 = rng.random((300_000, 3))
    r3 = M.get("myerson", distribution={"kind": "uniform", "lo": 0.0, "hi": 1.0})(v3).revenue
    assert abs(r3.mean() - 17 / 32) < 3 * r3.std() / np.sqrt(len(v3))


def test_separable_myerson_is_vcg_with_reserve_for_iid_regular():
    rng = np.random.default_rng(2)
    v = rng.random((200, 5))
    alpha = np.sort(rng.random((200, 3)), axis=1)[:, ::-1]
    a = M.get("myerson", distribution=my.Uniform(0, 1))(v, position=alpha)
    b = M.get("vcg", reserve=0.5)(v, position=alpha)
    np.testing.assert_allclose(a.payment, b.payment, atol=1e-12)
    np.testing.assert_array_equal(a.assignment, b.assignment)


def test_heterogeneous_and_irregular_separable_payments_are_thresholds():
    rng = np.random.default_rng(3)
    dists = [my.Uniform(0, 1), my.Exponential(2.0), Bimodal(), my.Uniform(0.2, 1.4)]
    mech = M.get("myerson", distribution=dists)
    alpha = np.array([0.9, 0.5, 0.2])
    for _ in range(20):
        b = rng.random(4)
        r = mech(b[None], position=alpha)
        alloc = lambda z: mech(z[None], position=alpha).click_prob[0]  # noqa: E731
        for i in range(4):
            assert S.threshold_payment(alloc, b, i) == pytest.approx(r.payment[0, i], abs=1e-6)
        assert (r.payment[0] <= b * r.click_prob[0] + 1e-12).all()


def test_allocation_is_monotone_in_own_bid():
    rng = np.random.default_rng(4)
    for params in (dict(), dict(click_model="mnl", max_ads=2), dict(click_model="cascade", max_ads=2)):
        mech = M.get("myerson", distribution=Bimodal(), **params)
        c = rng.random((3, 2)) * 0.9
        b = rng.random(3)
        zs = np.linspace(0, 1, 41)
        for i in range(3):
            rows = np.tile(b, (41, 1))
            rows[:, i] = zs
            pi = mech(rows, np.broadcast_to(c, (41, 3, 2)))
            assert (np.diff(pi.click_prob[:, i]) >= -1e-12).all()


@pytest.mark.parametrize("model", ["additive", "mnl", "cascade"])
def test_matching_myerson_dsic_and_revenue(model):
    rng = np.random.default_rng(5)
    mech = M.get("myerson", distribution="uniform", click_model=model, max_ads=2)
    B, n, m = 4, 3, 2
    v = rng.random((B, n))
    c = rng.random((B, n, m)) * 0.9
    grid = np.concatenate([np.linspace(0, 1, 21), rng.random(5)])
    gains = M.auctions.unilateral_gains(mech, v, v, grid, ctr=c)
    assert gains.max() <= 1e-7
    r = mech(v, c)
    assert (r.click_prob[v <= 0.5] == 0).all()  # reserve phi^-1(0) = 1/2
    assert (r.payment <= v * r.click_prob + 1e-12).all()


def test_myerson_beats_vcg_on_average_in_mnl():
    rng = np.random.default_rng(6)
    B = 300
    v = rng.random((B, 3))
    c = rng.random((1, 3, 2)) * 0.8
    c = np.broadcast_to(c, (B, 3, 2))
    my_rev = M.get("myerson", distribution="uniform", click_model="mnl", max_ads=2)(v, c).revenue
    vcg_rev = M.get("aigc_vcg", click_model="mnl", max_ads=2)(v, c).revenue
    d = my_rev - vcg_rev
    assert d.mean() > 2 * d.std() / np.sqrt(B)


def test_bad_distributions():
    with pytest.raises(ValueError, match="distribution"):
        M.get("myerson", distribution={"kind": "pareto"})
    with pytest.raises(TypeError, match="distribution"):
        M.get("myerson", distribution=3.0)
    with pytest.raises(ValueError, match="hi"):
        my.Uniform(1.0, 0.5)
    with pytest.raises(ValueError, match="distribution"):
        M.get("myerson", distribution=[my.Uniform(), my.Uniform()])(np.ones((1, 3)) * 0.5)


def test_bad_cascade_or_outside_is_rejected_for_the_separable_default():
    # the separable path never reads them, but a typo should not be accepted silently
    with pytest.raises(ValueError, match="cascade"):
        M.get("myerson", cascade="stopp")
    with pytest.raises(ValueError, match="outside"):
        M.get("myerson", outside=0.0)


def test_myerson_reads_a_list_of_numbers_as_samples_and_a_list_of_distributions_per_bidder():
    rng = np.random.default_rng(0)
    samples = rng.random(4000)
    from_list = M.get("myerson", distribution=samples.tolist())
    from_array = M.get("myerson", distribution=samples)
    np.testing.assert_array_equal(from_list.reserve, from_array.reserve)
    assert from_list.reserve.shape == (1,) and from_list.reserve[0] == pytest.approx(
        0.5, abs=0.05
    )  # 0.521: sample noise
    per_bidder = M.get(
        "myerson", distribution=[{"kind": "uniform", "lo": 0.0, "hi": 1.0}, {"kind": "uniform", "lo": 0.0, "hi": 2.0}]
    )
    np.testing.assert_allclose(per_bidder.reserve, [0.5, 1.0], atol=1e-3)
