"""Piecewise Uniform budget aggregation (Caragiannis, Christodoulou, Protopapas, AAAI 2022)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from coopsim.mechanisms import get
from coopsim.mechanisms.facility.budget import IndependentMarkets, PiecewiseUniform, distance_to_mean, l1_disutility
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim.report.budget import budget_checks


def _grid(g: int) -> np.ndarray:
    return np.array([(a / g, b / g, (g - a - b) / g) for a in range(g + 1) for b in range(g + 1 - a)])


def test_registered_and_phantom_functions():
    assert isinstance(get("piecewise_uniform"), PiecewiseUniform)
    pu = PiecewiseUniform()
    t = np.linspace(0, 1, 201)
    for n in (1, 2, 3, 4, 7):
        f = pu.phantom_values(t, n)  # (T, n+1)
        assert (np.diff(f, axis=0) >= -1e-15).all()  # each f_k non-decreasing in t
        assert (np.diff(f, axis=1) <= 1e-15).all()  # f_0 >= f_1 >= ... >= f_n
        np.testing.assert_allclose(f[0], 0.0)
        np.testing.assert_allclose(f[-1], (n - np.arange(n + 1)) / n)  # uniform phantoms at t = 1
        assert np.abs(np.diff(f, axis=0)).max() <= 4.0 / 200 + 1e-12  # continuous (Lipschitz 4)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(2, 3), st.integers(0, 2**32 - 1))
def test_proportional_on_single_minded_profiles(n, m, seed):
    fav = np.random.default_rng(seed).integers(0, m, size=(16, n))
    votes = np.eye(m)[fav]
    np.testing.assert_allclose(PiecewiseUniform()(votes), votes.mean(axis=1), atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(0, 2**32 - 1), st.floats(0.1, 3.0))
def test_sums_to_one_and_equals_up_for_two(n, seed, conc):
    rng = np.random.default_rng(seed)
    votes = rng.dirichlet(np.full(3, conc), size=(32, n))
    np.testing.assert_allclose(PiecewiseUniform()(votes).sum(axis=1), 1.0, atol=1e-9)
    x = rng.random((32, n))
    two = PiecewiseUniform()(np.stack([x, 1 - x], axis=-1))
    np.testing.assert_allclose(two[:, 0], get("uniform_phantom")(x), atol=1e-9)


def test_incentive_compatible_brute_force_small_grid():
    # every profile of 2 voters on the 1/6 grid, every misreport on the grid: nobody gains
    pts = _grid(6)
    pu = PiecewiseUniform()
    V = pts[np.array(list(itertools.product(range(len(pts)), repeat=2)))]  # (P, 2, 3)
    base = l1_disutility(V, pu(V))[:, 0]  # voter 0's true disutility
    dev = np.repeat(V[:, None], len(pts), axis=1).copy()
    dev[:, :, 0] = pts[None]
    A = pu(dev.reshape(-1, 2, 3)).reshape(len(V), len(pts), 3)
    gain = base[:, None] - np.abs(A - V[:, None, 0]).sum(-1)
    assert gain.max() <= 1e-9


def test_existing_budget_audit_passes():
    out = budget_checks(PiecewiseUniform(), n=4, m=3, M=64, K=12, seed=1)
    assert out["incentive"]["holds"] and out["incentive"]["max_gain"] <= 1e-9
    assert out["proportionality"]["holds"] and out["sum_to_one"]["holds"]
    assert out["uniform_phantom_m2"]["holds"]


def test_distance_to_mean_beats_independent_markets():
    # Caragiannis et al.'s quality measure: worst-case l1 distance to the mean proposal (exhaustive
    # grids: 1/6 for two voters, 1/12 for three, where Independent Markets reaches 2/3)
    worst = {}
    for n, g in ((2, 6), (3, 12)):
        pts = _grid(g)
        V = pts[np.array(list(itertools.combinations_with_replacement(range(len(pts)), n)))]
        worst[n] = (
            float(distance_to_mean(V, PiecewiseUniform()(V)).max()),
            float(distance_to_mean(V, IndependentMarkets()(V)).max()),
        )
    assert worst[2][0] == pytest.approx(2 / 3) and worst[2][1] == pytest.approx(2 / 3)
    assert worst[3][0] == pytest.approx(5 / 9) and worst[3][1] == pytest.approx(2 / 3)
    assert all(pu >= 0.5 - 1e-12 for pu, _ in worst.values())  # no truthful mechanism beats 1/2


def test_bad_input():
    with pytest.raises(ValueError, match="m <= 3"):
        PiecewiseUniform()(np.full((2, 4), 0.25))
    with pytest.raises(ValueError, match="votes"):
        PiecewiseUniform()(np.array([[0.5, 0.6, -0.1]]))


def test_worst_case_distance_to_mean_is_the_moving_phantom_bound_where_independent_markets_exceeds_it():
    # Caragiannis, Christodoulou & Protopapas: no moving-phantom mechanism is better than (1 - 1/m) = 2/3
    # for m = 3, Piecewise Uniform is (virtually) 2/3, Independent Markets is at least 0.6862. Family:
    # k single-minded voters on alternative 3 and n - k voters at one interior point q (1/30 grid).
    g = 30
    Q = _grid(g)
    worst_pu, worst_im = {}, {}
    for n in range(2, 11):
        for k in range(1, n):
            V = np.empty((len(Q), n, 3))
            V[:, :k] = [0.0, 0.0, 1.0]
            V[:, k:] = Q[:, None]
            worst_pu[n] = max(worst_pu.get(n, 0.0), float(distance_to_mean(V, PiecewiseUniform()(V)).max()))
            worst_im[n] = max(worst_im.get(n, 0.0), float(distance_to_mean(V, IndependentMarkets()(V)).max()))
    assert max(worst_pu.values()) == pytest.approx(2 / 3, abs=1e-9)  # reached at n = 2, never exceeded
    assert worst_im[7] == pytest.approx(24 / 35, abs=1e-9)  # k = 4, q = (3/10, 3/10, 2/5): above 2/3
    assert all(worst_im[n] >= worst_pu[n] - 1e-12 for n in (5, 7, 8, 9, 10))
