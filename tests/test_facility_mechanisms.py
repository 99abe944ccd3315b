"""Facility-location mechanisms: worked examples (spec §11), phantom constructions, UP's equivalent
forms in exact arithmetic, symmetry/anonymity/range properties, strategyproofness by brute force,
lotteries against Monte-Carlo sampling, claims, and bad input."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest
from coopsim.mechanisms import facility as F
from coopsim.mechanisms.base import KNOWN_CLAIMS
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim import mechanisms

FACILITY = [
    "generalized_median",
    "uniform_phantom",
    "median",
    "right_median",
    "order_statistic",
    "leftmost",
    "rightmost",
    "constant",
    "ifs_optimal_phantom",
    "average",
    "midpoint",
    "avg_up",
    "threshold",
    "random_dictator",
    "random_rank",
    "lrm",
]
PARAMS = {"generalized_median": {"phantoms": [0.0, 0.2, 0.7, 1.0]}, "order_statistic": {"k": 2}, "constant": {"c": 0.3}}

UP = mechanisms.get("uniform_phantom")
MED = mechanisms.get("median")
AVG = mechanisms.get("average")
MID = mechanisms.get("midpoint")

third = 1 / 3
# (id, x, merged, UP, MED, AVG)
WORKED = [
    ("T1", [0.3], [0, 0.3, 1], 0.3, 0.3, 0.3),
    ("T2", [0.2, 0.9], [0, 0.2, 0.5, 0.9, 1], 0.5, 0.2, 0.55),
    ("T3", [0, 1], [0, 0, 0.5, 1, 1], 0.5, 0, 0.5),
    ("T4", [0, 0, 1], [0, 0, 0, third, 2 / 3, 1, 1], third, 0, third),
    ("T6", [0.1, 0.5, 0.9], [0, 0.1, third, 0.5, 2 / 3, 0.9, 1], 0.5, 0.5, 0.5),
    ("T8", [0, 0, 0, 1], [0, 0, 0, 0, 0.25, 0.5, 0.75, 1, 1], 0.25, 0, 0.25),
    ("T9", [0, 0, 1, 1], [0, 0, 0, 0.25, 0.5, 0.75, 1, 1, 1], 0.5, 0, 0.5),
    ("T10", [0.2, 0.4, 0.6, 0.8], [0, 0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8, 1], 0.5, 0.4, 0.5),
    ("T11", [0.6, 0.7, 0.8, 0.9], [0, 0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1], 0.7, 0.7, 0.75),
    ("T13", [0, 0, 0, 1, 1], [0, 0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1, 1, 1], 0.4, 0, 0.4),
    ("T16", [0.5] * 6, [0, 1 / 6, third] + [0.5] * 7 + [2 / 3, 5 / 6, 1], 0.5, 0.5, 0.5),
]


# ------------------------------------------------------------------------------------------
# worked examples
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tid,x,merged,up,med,avg", WORKED, ids=[w[0] for w in WORKED])
def test_worked_examples(tid, x, merged, up, med, avg):
    n = len(x)
    got_merged = np.sort(np.concatenate([x, UP.phantom_positions(n)]))
    np.testing.assert_allclose(got_merged, merged, rtol=0, atol=1e-15)
    y = UP(x)
    assert y.shape == () and y == got_merged[n]  # the (n+1)-th entry, exactly
    assert y == pytest.approx(up, abs=1e-15)
    assert MED(x) == med
    assert AVG(x) == pytest.approx(avg, abs=1e-12)


@pytest.mark.parametrize(
    "n,phantoms",
    [
        (1, [0, 1]),
        (2, [0, 0.5, 1]),
        (3, [0, 1 / 3, 2 / 3, 1]),
        (4, [0, 0.25, 0.5, 0.75, 1]),
        (5, [0, 0.2, 0.4, 0.6, 0.8, 1]),
        (6, [0, 1 / 6, 1 / 3, 0.5, 2 / 3, 5 / 6, 1]),
    ],
)
def test_uniform_phantom_positions(n, phantoms):
    np.testing.assert_allclose(UP.phantom_positions(n), phantoms, rtol=0, atol=1e-16)
    np.testing.assert_array_equal(F.uniform_phantoms(n), np.arange(n + 1) / n)


def test_T17_threshold_rule():
    th = mechanisms.get("threshold")
    assert th([0.3]) == 0.0 and th([0.5]) == 1.0
    assert th([0.0]) == 0.0 and th([1.0]) == 1.0  # proportional on {0,1}
    assert not F.satisfies("unanimity", [0.3], th([0.3]))
    assert not F.satisfies("IFS", [0.3], th([0.3]))
    assert F.satisfies("proportionality", [[0.0], [1.0]], th([[0.0], [1.0]])).all()
    grid = np.linspace(0, 1, 101)
    assert F.strategyproof_gain(th, grid[:, None], grid).max() <= 1e-12
    with pytest.raises(ValueError, match="reports"):
        th([0.1, 0.2])


def test_T10_welfare_and_E1_average_witness():
    x = [0.2, 0.4, 0.6, 0.8]
    assert F.social_welfare(x, UP(x)) == pytest.approx(3.2, abs=1e-12)
    assert F.social_welfare(x, MED(x)) == pytest.approx(3.2, abs=1e-12)
    # E1: agent 2 reporting 1 moves AVG from 0.55 to 0.6, closer to its peak 0.9
    assert AVG([0.2, 1.0]) == pytest.approx(0.6)
    gain = F.strategyproof_gain(AVG, [0.2, 0.9], np.array([0.9, 1.0]))
    assert gain == pytest.approx(0.05, abs=1e-12)
    assert MID([0, 0, 1]) == 0.5


# ------------------------------------------------------------------------------------------
# phantom constructions
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", range(1, 11))
def test_order_statistics_from_phantoms(n):
    rng = np.random.default_rng(n)
    x = rng.random((64, n))
    x[:8] = rng.integers(0, 3, size=(8, n)) / 2  # ties
    xs = np.sort(x, axis=1)
    for k in range(1, n + 1):
        os_ = mechanisms.get("order_statistic", k=k)
        ph = os_.phantom_positions(n)
        assert (ph == 0).sum() == n + 1 - k and (ph == 1).sum() == k
        np.testing.assert_array_equal(os_(x), xs[:, k - 1])
        np.testing.assert_array_equal(mechanisms.get("generalized_median", phantoms=ph)(x), xs[:, k - 1])
    np.testing.assert_array_equal(mechanisms.get("leftmost")(x), xs[:, 0])
    np.testing.assert_array_equal(mechanisms.get("rightmost")(x), xs[:, -1])
    np.testing.assert_array_equal(MED(x), xs[:, (n + 1) // 2 - 1])  # left median x_(ceil(n/2))
    np.testing.assert_array_equal(mechanisms.get("right_median")(x), xs[:, n // 2])
    for name in ("leftmost", "rightmost", "median", "right_median", "ifs_optimal_phantom"):
        mech = mechanisms.get(name)
        np.testing.assert_array_equal(F.generalized_median(x, mech.phantom_positions(n)), mech(x))
    np.testing.assert_array_equal(mechanisms.get("constant", c=0.3)(x), np.full(64, 0.3))
    np.testing.assert_array_equal(F.generalized_median(x, np.full(n + 1, 0.3)), np.full(64, 0.3))


@pytest.mark.parametrize("n,zeros,ones", [(1, 1, 1), (2, 2, 1), (3, 2, 2), (4, 3, 2), (5, 3, 3), (6, 4, 3)])
def test_median_phantoms_spec(n, zeros, ones):
    ph = MED.phantom_positions(n)
    assert (ph == 0).sum() == zeros and (ph == 1).sum() == ones


def test_ifs_optimal_phantoms():
    mech = mechanisms.get("ifs_optimal_phantom")
    np.testing.assert_allclose(mech.phantom_positions(4), [0, 0.25, 0.75, 0.75, 1])
    np.testing.assert_allclose(mech.phantom_positions(5), [0, 0.2, 0.2, 0.8, 0.8, 1])
    np.testing.assert_allclose(mech.phantom_positions(1), [0, 1])


profiles = st.integers(1, 9).flatmap(lambda n: st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n))


@given(
    st.integers(1, 8).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(0, 1), min_size=n, max_size=n),
            st.lists(st.floats(0, 1), min_size=n + 1, max_size=n + 1),
        )
    )
)
def test_generalized_median_matches_sorting_the_concatenation(case):
    x, p = case
    n = len(x)
    brute = np.sort(np.concatenate([x, p]))[n]
    assert F.generalized_median(x, p) == brute
    gm = mechanisms.get("generalized_median", phantoms=p)
    assert gm(x) == brute
    # batched, with per-profile phantoms
    assert F.generalized_median(np.array([x, x]), np.array([p, sorted(p)]))[1] == brute


# ------------------------------------------------------------------------------------------
# UP: equivalent forms in exact arithmetic
# ------------------------------------------------------------------------------------------
def _up_forms(xf: list[Fraction]) -> dict[str, Fraction]:
    n = len(xf)
    merged = sorted(xf + [Fraction(k, n) for k in range(n + 1)])
    dec = sorted(xf, reverse=True)
    inc = sorted(xf)
    maxmin = max(min(Fraction(j, n), dec[j - 1]) for j in range(1, n + 1))
    minmax = min([Fraction(1)] + [max(1 - Fraction(k, n), inc[k - 1]) for k in range(1, n + 1)])
    # threshold: max{t : #{x_i >= t} >= n t}; the max is attained at a peak or at some k/n
    cands = set(xf) | {Fraction(k, n) for k in range(n + 1)}
    threshold = max(t for t in cands if sum(v >= t for v in xf) >= n * t)
    return {"median": merged[n], "maxmin": maxmin, "minmax": minmax, "threshold": threshold}


def _fixed_point(xf: list[Fraction], y: Fraction) -> bool:
    n = len(xf)
    return sum(v > y for v in xf) <= n * y <= sum(v >= y for v in xf)


rational_profiles = st.integers(1, 12).flatmap(
    lambda d: st.lists(st.integers(0, d).map(lambda k, d=d: Fraction(k, d)), min_size=1, max_size=9)
)


@given(rational_profiles)
@settings(max_examples=300)
def test_up_equivalent_forms_exact(xf):
    n = len(xf)
    forms = _up_forms(xf)
    assert len(set(forms.values())) == 1, forms
    y = forms["median"]
    # the float implementation selects the same element, exactly
    assert UP(np.array([float(v) for v in xf])) == float(y)
    # fixed point holds at y and nowhere else among the relevant candidates (and just beside y)
    assert _fixed_point(xf, y)
    eps = Fraction(1, 10**6)
    others = (set(xf) | {Fraction(k, n) for k in range(n + 1)} | {y - eps, y + eps}) - {y}
    assert not any(_fixed_point(xf, c) for c in others)


def test_up_on_01_profiles_all_n():
    for n in range(1, 11):
        for ones in range(n + 1):
            x = np.array([0.0] * (n - ones) + [1.0] * ones)
            assert UP(x) == ones / n
            assert UP(np.random.default_rng(n).permutation(x)) == ones / n


# ------------------------------------------------------------------------------------------
# UP: properties on random profiles
# ------------------------------------------------------------------------------------------
@given(profiles, st.randoms(use_true_random=False))
def test_up_anonymous_symmetric_range_respecting(x, rnd):
    x = np.array(x)
    y = UP(x)
    perm = x.copy()
    rnd.shuffle(perm)
    assert UP(perm) == y
    assert x.min() <= y <= x.max()
    assert UP(1.0 - x) == pytest.approx(1.0 - y, abs=1e-12)
    assert UP(np.full_like(x, x[0])) == x[0]


@given(st.one_of(profiles, rational_profiles.map(lambda xf: [float(v) for v in xf])))
def test_up_satisfies_every_axiom(x):
    x = np.array(x)
    y = UP(x)
    for axiom in ("IFS", "UFS", "PF", "proportionality", "unanimity"):
        assert F.satisfies(axiom, x, y), axiom
        lo, hi = F.feasible_interval(axiom, x)
        assert lo - 1e-12 <= y <= hi + 1e-12


@given(profiles, st.integers(0, 100), st.floats(0, 1))
def test_up_weakly_monotone(x, i, v):
    x = np.array(x)
    i %= len(x)
    hi = x.copy()
    hi[i] = max(x[i], v)
    assert UP(hi) >= UP(x)


def test_generalized_medians_are_1_lipschitz():
    # continuity: |f(x') - f(x)| <= max_i |x'_i - x_i| for every generalized median (AVG, MID too)
    rng = np.random.default_rng(12)
    for n in (1, 2, 5, 9):
        x = rng.random((2000, n))
        xp = np.clip(x + rng.normal(0, 0.05, x.shape), 0, 1)
        bound = np.abs(xp - x).max(axis=1) + 1e-15
        for name in ("uniform_phantom", "median", "ifs_optimal_phantom", "average", "midpoint"):
            mech = mechanisms.get(name)
            assert (np.abs(mech(xp) - mech(x)) <= bound).all(), name


def test_up_not_strictly_monotone():
    assert UP([0.1, 0.5, 0.9]) == UP([0.2, 0.5, 0.9]) == 0.5
    assert AVG([0.2, 0.5, 0.9]) > AVG([0.1, 0.5, 0.9])


def test_batched_matches_rows_and_shapes():
    rng = np.random.default_rng(0)
    x = rng.random((50, 7))
    for name in ("uniform_phantom", "median", "average", "midpoint", "leftmost", "avg_up", "ifs_optimal_phantom"):
        mech = mechanisms.get(name)
        yb = mech(x)
        assert yb.shape == (50,) and yb.dtype == np.float64
        rows = np.array([mech(r) for r in x])
        np.testing.assert_array_equal(yb, rows)
        assert np.ndim(mech(x[0])) == 0 and isinstance(float(mech(x[0])), float)
    assert UP(np.zeros((0, 3))).shape == (0,)


# ------------------------------------------------------------------------------------------
# strategyproofness (brute force on a grid; the generic audit is coopsim.analysis)
# ------------------------------------------------------------------------------------------
GRID = np.linspace(0, 1, 101)


@pytest.mark.parametrize(
    "name,params",
    [
        ("uniform_phantom", {}),
        ("median", {}),
        ("right_median", {}),
        ("leftmost", {}),
        ("rightmost", {}),
        ("order_statistic", {"k": 2}),
        ("constant", {"c": 0.3}),
        ("ifs_optimal_phantom", {}),
        ("random_dictator", {}),
        ("random_rank", {}),
        ("lrm", {}),
    ],
)
def test_strategyproof_mechanisms_have_no_gain(name, params):
    rng = np.random.default_rng(1)
    mech = mechanisms.get(name, **params)
    for n in (2, 3, 4, 5):
        x = np.concatenate([rng.random((40, n)), rng.integers(0, 5, size=(10, n)) / 4])
        assert F.strategyproof_gain(mech, x, GRID).max() <= 1e-12


def test_random_generalized_medians_are_strategyproof():
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 4, 6):
        for _ in range(4):
            gm = mechanisms.get("generalized_median", phantoms=rng.random(n + 1).tolist())
            x = rng.random((30, n))
            assert F.strategyproof_gain(gm, x, np.concatenate([GRID, rng.random(50)])).max() <= 1e-12


@pytest.mark.parametrize("name", ["average", "midpoint", "avg_up"])
def test_non_strategyproof_mechanisms_are_manipulable(name):
    mech = mechanisms.get(name)
    x = np.random.default_rng(3).random((20, 3))
    assert F.strategyproof_gain(mech, x, GRID).max() > 1e-3


def test_strategyproof_gain_brute_force_loop():
    rng = np.random.default_rng(4)
    x = rng.random((5, 3))
    grid = np.linspace(0, 1, 7)
    got = F.strategyproof_gain(AVG, x, grid)
    for b in range(5):
        best = -np.inf
        for i, g in itertools.product(range(3), grid):
            dev = x[b].copy()
            dev[i] = g
            best = max(best, abs(AVG(x[b]) - x[b, i]) - abs(AVG(dev) - x[b, i]))
        assert got[b] == pytest.approx(best, abs=1e-14)


# ------------------------------------------------------------------------------------------
# lotteries
# ------------------------------------------------------------------------------------------
LOTTERIES = ["random_dictator", "random_rank", "lrm"]


@pytest.mark.parametrize("name", LOTTERIES)
def test_lottery_distribution_and_monte_carlo(name):
    mech = mechanisms.get(name)
    assert mech.deterministic is False
    rng = np.random.default_rng(5)
    x = rng.random((30, 4))
    s, p = mech.distribution(x)
    assert s.shape == p.shape and s.shape[0] == 30
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-15)
    # Monte-Carlo: one profile repeated, frequencies within 5 sigma of the probabilities
    prof = np.array([0.1, 0.7, 0.3, 0.9])
    M = 200_000
    draws = mech.sample(np.broadcast_to(prof, (M, 4)), np.random.default_rng(6))
    s1, p1 = mech.distribution(prof)
    for v in np.unique(s1):
        q = p1[s1 == v].sum()
        freq = np.mean(draws == v)
        assert abs(freq - q) <= 5 * np.sqrt(q * (1 - q) / M)
    assert np.isin(draws, s1).all()
    assert draws.mean() == pytest.approx(mech.expected_location(prof), abs=5 * 0.4 / np.sqrt(M))
    # expected utilities match sampling
    eu = mech.expected_utilities(prof, prof)
    mc = (1 - np.abs(draws[:, None] - prof)).mean(axis=0)
    np.testing.assert_allclose(eu, mc, atol=5e-3)
    # reproducible with a seed, batched draw per profile
    a = mech.sample(x, np.random.default_rng(7))
    b = mech(x, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (30,)
    with pytest.raises(TypeError, match="rng"):
        mech(x)
    with pytest.raises(TypeError, match="rng"):
        mech.sample(x, 7)


def test_rd_and_rr_same_lottery_and_expectations():
    rng = np.random.default_rng(8)
    x = rng.random((40, 5))
    s_rd, p_rd = mechanisms.get("random_dictator").distribution(x)
    s_rr, p_rr = mechanisms.get("random_rank").distribution(x)
    np.testing.assert_array_equal(np.sort(s_rd, axis=1), np.sort(s_rr, axis=1))
    np.testing.assert_allclose(p_rd, p_rr)
    np.testing.assert_array_equal(s_rr, -np.sort(-x, axis=1))  # k-th highest
    np.testing.assert_allclose(mechanisms.get("random_dictator").expected_location(x), x.mean(axis=1))
    lrm = mechanisms.get("lrm")
    lo, hi = x.min(1), x.max(1)
    np.testing.assert_allclose(lrm.expected_location(x), 0.25 * lo + 0.25 * hi + 0.5 * (lo + hi) / 2)
    # LRM on (0,0,1): E[y] = 1/2 and the pair at 0 bears expected distance 1/2 > 1/3
    assert lrm.expected_location([0, 0, 1]) == pytest.approx(0.5)
    np.testing.assert_allclose(lrm.expected_costs([0, 0, 1], [0, 0, 1]), [0.5, 0.5, 0.5])


def test_deterministic_distribution_interface():
    x = np.array([[0.1, 0.4, 0.8], [0.0, 0.0, 1.0]])
    s, p = UP.distribution(x)
    assert s.shape == (2, 1) and (p == 1).all()
    np.testing.assert_array_equal(s[:, 0], UP(x))
    np.testing.assert_array_equal(UP.sample(x, np.random.default_rng(0)), UP(x))
    np.testing.assert_allclose(UP.expected_utilities(x, x), 1 - np.abs(UP(x)[:, None] - x))
    np.testing.assert_allclose(UP.expected_costs(x[0], x[0]), np.abs(UP(x[0]) - x[0]))


# ------------------------------------------------------------------------------------------
# claims
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FACILITY)
def test_claims_are_known_and_registered(name):
    mech = mechanisms.get(name, **PARAMS.get(name, {}))
    assert mech.claims <= KNOWN_CLAIMS
    assert ("deterministic" in mech.claims) == mech.deterministic
    assert isinstance(mech, F.FacilityMechanism)


_AXIOM_OF_CLAIM = {"IFS": "IFS", "UFS": "UFS", "PF": "PF", "proportional": "proportionality", "unanimous": "unanimity"}


@pytest.mark.parametrize("name", [n for n in FACILITY if n != "threshold"])
def test_claimed_axioms_hold_on_random_profiles(name):
    mech = mechanisms.get(name, **PARAMS.get(name, {}))
    rng = np.random.default_rng(9)
    for n in [3] if name == "generalized_median" else [1, 2, 3, 5, 8]:
        if name == "order_statistic" and n < 2:
            continue
        x = np.concatenate(
            [
                rng.random((200, n)),
                rng.integers(0, 2, size=(50, n)).astype(float),
                np.repeat(rng.random((10, 1)), n, axis=1),
                rng.integers(0, 4, size=(50, n)) / 3,
            ]
        )
        s, p = mech.distribution(x)
        for claim, axiom in _AXIOM_OF_CLAIM.items():
            if claim in mech.claims:
                assert F.satisfies(axiom, x, s, p).all(), (name, claim, n)
        if "range_respecting" in mech.claims:
            assert ((s >= x.min(1, keepdims=True)) & (s <= x.max(1, keepdims=True))).all()


def test_unclaimed_axioms_fail_somewhere():
    # spec §6.2: median, leftmost, midpoint and LRM fail what they do not claim
    prof = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    for name, axioms in [
        ("median", ["IFS", "UFS", "PF", "proportionality"]),
        ("leftmost", ["IFS", "UFS", "PF"]),
        ("midpoint", ["UFS", "PF", "proportionality"]),
        ("lrm", ["UFS", "PF", "proportionality"]),
    ]:
        mech = mechanisms.get(name)
        s, p = mech.distribution(prof)
        for ax in axioms:
            assert ax not in mech.claims
            assert not F.satisfies(ax, prof[:1], s[:1], p[:1]).all(), (name, ax)


def test_generalized_median_claims_derived_from_phantoms():
    up4 = mechanisms.get("generalized_median", phantoms=[0, 0.25, 0.5, 0.75, 1])
    assert {"IFS", "UFS", "PF", "proportional", "unanimous"} <= up4.claims
    ifs = mechanisms.get("generalized_median", phantoms=[0, 0.3, 0.6, 0.6, 1])
    assert "IFS" in ifs.claims and "UFS" not in ifs.claims and "unanimous" in ifs.claims
    lft = mechanisms.get("generalized_median", phantoms=[0, 0, 0, 0, 1])
    assert "IFS" not in lft.claims and "unanimous" in lft.claims
    off = mechanisms.get("generalized_median", phantoms=[0.1, 0.5, 1])
    assert "unanimous" not in off.claims and "strategyproof" in off.claims
    # IFS iff p_2 >= 1/n and p_n <= 1 - 1/n: necessity profiles (0^{n-1}, 1) and (0, 1^{n-1})
    rng = np.random.default_rng(10)
    for _ in range(200):
        n = int(rng.integers(2, 6))
        gm = mechanisms.get(
            "generalized_median", phantoms=np.sort(rng.integers(0, 2 * n + 1, n + 1) / (2 * n)).tolist()
        )
        x = np.concatenate([rng.random((100, n)), [[0.0] * (n - 1) + [1.0], [0.0] + [1.0] * (n - 1)]])
        assert F.satisfies("IFS", x, gm(x)).all() == ("IFS" in gm.claims)
        ones = np.concatenate([np.zeros((1, n)), np.ones((1, n))])
        assert F.satisfies("unanimity", ones, gm(ones)).all() == ("unanimous" in gm.claims)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [[0.2, 1.3], [-0.1, 0.5], [np.nan, 0.5], [np.inf, 0.2], np.zeros((2, 2, 2)), 0.5, []])
@pytest.mark.parametrize("name", ["uniform_phantom", "median", "average", "random_dictator"])
def test_bad_reports(bad, name):
    mech = mechanisms.get(name)
    with pytest.raises(ValueError, match="reports"):
        mech.distribution(bad)
    if mech.deterministic:
        with pytest.raises(ValueError, match="reports"):
            mech(bad)


def test_bad_reports_type_and_empty_agents():
    with pytest.raises(TypeError, match="reports"):
        UP(["a", "b"])
    with pytest.raises(ValueError, match="n >= 1"):
        UP(np.zeros((3, 0)))


def test_bad_phantoms_and_params():
    with pytest.raises(ValueError, match="phantoms"):
        mechanisms.get("generalized_median", phantoms=[0.5])
    with pytest.raises(ValueError, match="phantoms"):
        mechanisms.get("generalized_median", phantoms=[0, 0.5, 1], n_agents=3)
    with pytest.raises(ValueError, match="phantoms"):
        mechanisms.get("generalized_median", phantoms=[0, 1.5, 1])
    with pytest.raises(ValueError, match="phantoms"):
        mechanisms.get("generalized_median", phantoms=[0, np.nan, 1])
    gm = mechanisms.get("generalized_median", phantoms=[0, 0.5, 1])
    with pytest.raises(ValueError, match="phantoms"):
        gm([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="phantoms"):
        F.generalized_median([0.1, 0.2], [0.0, 1.0])
    with pytest.raises(TypeError, match="k"):
        mechanisms.get("order_statistic", k=1.5)
    with pytest.raises(ValueError, match="k"):
        mechanisms.get("order_statistic", k=0)
    with pytest.raises(ValueError, match="reports"):
        mechanisms.get("order_statistic", k=4)([0.1, 0.2])
    with pytest.raises(ValueError, match="c"):
        mechanisms.get("constant", c=1.5)
    with pytest.raises(TypeError):
        mechanisms.get("constant", d=0.5)
    with pytest.raises(ValueError, match="peaks"):
        UP.expected_costs([0.1, 0.2], [0.1, 0.2, 0.3])


def test_unknown_mechanism_name():
    with pytest.raises(ValueError, match="uniform_phantom"):
        mechanisms.get("uniform_phantomm")
