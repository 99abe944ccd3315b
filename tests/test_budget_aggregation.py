"""Moving-phantom budget aggregation (spec §9): worked examples W1, W5-W8, normalization, m = 2
reduction to Uniform Phantom, proportionality, the median-with-phantoms definition, incentive
compatibility under l1 disutility by random deviations, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.mechanisms import budget as BA
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim import mechanisms

IM = mechanisms.get("independent_markets")
WM = mechanisms.get("welfare_maximizing_phantoms")
UP = mechanisms.get("uniform_phantom")


def test_W1_uniform_phantoms_m2():
    votes = np.array([[1, 0]] * 3 + [[0, 1]] * 2, dtype=float)
    merged = np.sort(np.concatenate([votes[:, 0], UP.phantom_positions(5)]))
    np.testing.assert_allclose(merged, [0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1], atol=1e-15)
    assert merged[5] == pytest.approx(0.6) and UP(votes[:, 0]) == pytest.approx(0.6)
    np.testing.assert_allclose(IM(votes), [0.6, 0.4], atol=1e-12)


@pytest.mark.parametrize(
    "votes,t_star,out,mean",
    [
        ([(1, 0, 0), (0, 1, 0)], 1 / 2, (1 / 2, 1 / 2, 0), None),
        ([(1, 0, 0), (1, 0, 0), (0, 0.5, 0.5)], 1 / 4, (1 / 2, 1 / 4, 1 / 4), (2 / 3, 1 / 6, 1 / 6)),
        ([(0.6, 0.4, 0), (0.2, 0.2, 0.6)], 1 / 3, (1 / 3, 1 / 3, 1 / 3), (2 / 5, 3 / 10, 3 / 10)),
        ([(0.2, 0.8), (0.9, 0.1)], None, (1 / 2, 1 / 2), None),
    ],
    ids=["W5", "W6", "W7", "W8"],
)
def test_worked_examples_independent_markets(votes, t_star, out, mean):
    alloc, t = IM.solve(votes)
    np.testing.assert_allclose(alloc, out, atol=1e-12)
    assert alloc.sum() == pytest.approx(1.0, abs=1e-12)
    if t_star is not None:
        assert t == pytest.approx(t_star, abs=1e-12)
    if mean is not None:
        np.testing.assert_allclose(np.mean(votes, axis=0), mean, atol=1e-15)


def test_W6_phantoms_at_t_star():
    n = 3
    np.testing.assert_allclose(IM.phantom_values(np.array([0.25]), n)[0], [3 / 4, 1 / 2, 1 / 4, 0])


def test_W8_equals_uniform_phantom():
    votes = np.array([(0.2, 0.8), (0.9, 0.1)])
    a = IM(votes)
    assert a[0] == pytest.approx(UP(votes[:, 0]), abs=1e-12)
    assert a[1] == pytest.approx(1 - UP(votes[:, 0]), abs=1e-12)


def _votes(rng, B, n, m, sparse=False):
    v = rng.dirichlet(np.ones(m), size=(B, n))
    if sparse:  # rational, with zeros and ties
        raw = rng.integers(0, 3, size=(B, n, m)).astype(float)
        raw[raw.sum(-1) == 0, 0] = 1.0
        v = raw / raw.sum(-1, keepdims=True)
    return v


@pytest.mark.parametrize("mech", [IM, WM], ids=["IM", "WM"])
def test_outputs_on_simplex_and_batched_equals_rows(mech):
    rng = np.random.default_rng(0)
    for n, m in [(1, 2), (2, 3), (3, 2), (5, 4), (8, 6)]:
        for sparse in (False, True):
            v = _votes(rng, 200, n, m, sparse)
            a = mech(v)
            assert a.shape == (200, m)
            np.testing.assert_allclose(a.sum(-1), 1.0, atol=1e-12)
            assert (a >= 0).all() and (a <= 1).all()
            for b in range(0, 200, 37):
                np.testing.assert_allclose(mech(v[b]), a[b], atol=1e-12)


@pytest.mark.parametrize("mech", [IM, WM], ids=["IM", "WM"])
def test_each_coordinate_is_the_median_with_phantoms_at_t_star(mech):
    rng = np.random.default_rng(1)
    n, m = 4, 3
    v = _votes(rng, 100, n, m, sparse=True)
    a, t = mech.solve(v)
    f = mech.phantom_values(t, n)  # (B, n+1)
    assert (np.diff(f, axis=1) <= 0).all()  # f_0 >= ... >= f_n
    for j in range(m):
        merged = np.sort(np.concatenate([v[:, :, j], f], axis=1), axis=1)
        np.testing.assert_allclose(a[:, j], merged[:, n], atol=1e-12)


@given(st.integers(1, 9).flatmap(lambda n: st.lists(st.integers(0, 12), min_size=n, max_size=n)))
@settings(max_examples=200, deadline=None)
def test_m2_independent_markets_equals_uniform_phantom(ks):
    x = np.array(ks) / 12
    votes = np.stack([x, 1 - x], axis=1)
    a = IM(votes)
    assert a[0] == pytest.approx(float(UP(x)), abs=1e-12)
    assert a.sum() == pytest.approx(1.0, abs=1e-12)


def test_m2_independent_markets_equals_up_random_batch():
    x = np.random.default_rng(2).random((5000, 7))
    a = IM(np.stack([x, 1 - x], axis=2))
    np.testing.assert_allclose(a[:, 0], UP(x), atol=1e-12)


def test_independent_markets_proportional_on_single_minded_profiles():
    rng = np.random.default_rng(3)
    for n, m in [(1, 2), (2, 3), (5, 3), (7, 4), (10, 5)]:
        fav = rng.integers(0, m, size=(300, n))
        v = np.eye(m)[fav]
        counts = np.stack([(fav == j).sum(1) for j in range(m)], axis=1) / n
        np.testing.assert_allclose(IM(v), counts, atol=1e-12)


def test_welfare_maximizing_is_not_proportional():
    v = np.array([(1, 0, 0), (1, 0, 0), (0, 1, 0)], dtype=float)
    np.testing.assert_allclose(IM(v), [2 / 3, 1 / 3, 0], atol=1e-12)
    np.testing.assert_allclose(WM(v), [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(WM([(1, 0, 0), (0, 1, 0)]), [0.5, 0.5, 0], atol=1e-12)
    assert "proportional" in IM.claims and "proportional" not in WM.claims


@pytest.mark.parametrize("mech", [IM, WM], ids=["IM", "WM"])
def test_incentive_compatible_against_random_deviations(mech):
    rng = np.random.default_rng(4)
    for n, m in [(2, 3), (3, 3), (4, 4)]:
        B = 3000
        v = _votes(rng, B, n, m, sparse=bool(n % 2))
        truthful = BA.l1_disutility(v, mech(v))[:, 0]
        dev = v.copy()
        dev[:, 0] = _votes(rng, B, 1, m)[:, 0]
        lie = np.abs(mech(dev) - v[:, 0]).sum(-1)
        assert (lie >= truthful - 1e-9).all()


def test_ccp_distance_to_mean():
    # m = 2: ||UP - mean||_1 = 2 |UP - AVG|; its maximum 1/2 at n = 2, x = (0, 1/2)
    v = np.array([(0.0, 1.0), (0.5, 0.5)])
    assert BA.distance_to_mean(v, IM(v)) == pytest.approx(0.5)
    x = np.random.default_rng(5).random((100, 3))
    v = np.stack([x, 1 - x], axis=2)
    np.testing.assert_allclose(BA.distance_to_mean(v, IM(v)), 2 * np.abs(UP(x) - x.mean(1)), atol=1e-12)
    # W6: mean (2/3, 1/6, 1/6), IM (1/2, 1/4, 1/4)
    v6 = [(1, 0, 0), (1, 0, 0), (0, 0.5, 0.5)]
    assert BA.distance_to_mean(v6, IM(v6)) == pytest.approx(1 / 3)
    np.testing.assert_allclose(BA.l1_disutility(v6, IM(v6)), [1, 1, 1], atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="votes.*sum to 1"):
        IM([(0.5, 0.4), (0.5, 0.5)])
    with pytest.raises(ValueError, match="votes"):
        IM([(1.5, -0.5), (0.5, 0.5)])
    with pytest.raises(ValueError, match="votes"):
        IM([(np.nan, 1.0)])
    with pytest.raises(ValueError, match="m >= 2"):
        IM([(1.0,), (1.0,)])
    with pytest.raises(ValueError, match="votes"):
        IM([0.5, 0.5])
    with pytest.raises(ValueError, match="n >= 1"):
        IM(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="votes"):
        IM("abc")
    with pytest.raises(ValueError, match="iterations"):
        mechanisms.get("independent_markets", iterations=0)
    with pytest.raises(ValueError, match="allocation"):
        BA.l1_disutility([(0.5, 0.5)], [0.2, 0.3, 0.5])
    # a batched allocation whose size happens to fit B * m but whose shape does not (was reshaped silently)
    with pytest.raises(ValueError, match="allocation"):
        BA.l1_disutility(np.full((2, 3, 2), 0.5), np.full((1, 4), 0.25))
    with pytest.raises(ValueError, match="allocation"):
        BA.distance_to_mean(np.full((2, 3, 2), 0.5), np.full((1, 4), 0.25))
