"""ALLW fairness axioms, feasible intervals, objectives and ratio bounds (spec §2, §4, §6, §11).

Oracles: the axioms' definitions over *all* subsets of agents (n <= 6), the O(n^2) contiguous-block
intervals of spec §4.3 in exact rational arithmetic, and dense grids for the objectives."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from coopsim.mechanisms import facility as F
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim import mechanisms

UP = mechanisms.get("uniform_phantom")
MED = mechanisms.get("median")
AVG = mechanisms.get("average")
MID = mechanisms.get("midpoint")
AXIOMS = ["IFS", "UFS", "PF", "proportionality"]

# (x, axioms violated by MED) — UP violates none on every row (spec §11)
WORKED = [
    ([0.3], []),
    ([0.2, 0.9], ["IFS", "UFS", "PF"]),
    ([0, 1], ["IFS", "UFS", "PF", "proportionality"]),
    ([0, 0, 1], ["IFS", "UFS", "PF", "proportionality"]),
    ([0.1, 0.5, 0.9], []),
    ([0, 0, 0, 1], ["IFS", "UFS", "PF", "proportionality"]),
    ([0, 0, 1, 1], ["IFS", "UFS", "PF", "proportionality"]),
    ([0.2, 0.4, 0.6, 0.8], []),
    ([0.6, 0.7, 0.8, 0.9], []),
    ([0, 0, 0, 1, 1], ["IFS", "UFS", "PF", "proportionality"]),
    ([0.5] * 6, []),
]


@pytest.mark.parametrize("x,med_violates", WORKED, ids=[str(w[0]) for w in WORKED])
def test_worked_example_verdicts(x, med_violates):
    for ax in AXIOMS + ["unanimity"]:
        assert F.satisfies(ax, x, UP(x)), ax
        assert bool(F.satisfies(ax, x, MED(x))) == (ax not in med_violates), ax
        assert F.satisfies(ax, x, AVG(x)), ax
    assert F.satisfies("IFS", x, 0.5 * (min(x) + max(x)))


def test_T1_n1_ufs_forces_x():
    assert F.feasible_interval("UFS", [0.3]) == (0.3, 0.3)
    assert not F.satisfies("UFS", [0.3], 0.31)


def test_T4_midpoint_and_T13_pair_bound():
    assert not F.satisfies("UFS", [0, 0, 1], MID([0, 0, 1]))
    c = F.check("UFS", [0, 0, 1], 0.5)
    assert not c.ok and c.bound == pytest.approx(1 / 3) and c.distance == 0.5
    np.testing.assert_array_equal(c.group, [True, True, False])
    lo, hi = F.feasible_interval("UFS", [0, 0, 0, 1, 1])
    # the pair at 1 needs |f - 1| <= 3/5 (f >= .4), the triple at 0 needs f <= 2/5: UFS forces f = .4
    assert hi == pytest.approx(0.4) and lo == pytest.approx(0.4)
    assert F.satisfies("PF", [0, 0, 0, 1, 1], 0.4) and not F.satisfies("PF", [0, 0, 0, 1, 1], 0.41)
    assert not F.satisfies("proportionality", [0, 0, 0, 1, 1], 0.0)


def test_T16_unanimity_and_T2_strong_proportionality_gap():
    assert F.feasible_interval("unanimity", [0.5] * 6) == (0.5, 0.5)
    assert F.satisfies("unanimity", [0.5] * 6, 0.5) and not F.satisfies("unanimity", [0.5] * 6, 0.6)
    assert F.satisfies("unanimity", [0.2, 0.9], 0.0)  # vacuous
    assert F.satisfies("proportionality", [0.2, 0.9], 0.0)  # vacuous off {0,1}^n
    assert UP([0.2, 0.9]) == 0.5 != AVG([0.2, 0.9])


# ------------------------------------------------------------------------------------------
# oracles
# ------------------------------------------------------------------------------------------
def _brute_force(axiom: str, x, dist, tol=1e-12) -> bool:
    """Definition over all non-empty subsets; ``dist[i]`` = (expected) distance of agent i."""
    n = len(x)
    if axiom == "IFS":
        return all(d <= 1 - 1 / n + tol for d in dist)
    ok = True
    for size in range(1, n + 1):
        for S in itertools.combinations(range(n), size):
            xs = [x[i] for i in S]
            r = max(xs) - min(xs)
            if axiom == "UFS" and r > 0:
                continue
            bound = 1 - size / n + (r if axiom == "PF" else 0)
            ok &= all(dist[i] <= bound + tol for i in S)
    return ok


def _blocks_interval(axiom: str, xf: list[Fraction]) -> tuple[Fraction, Fraction]:
    """Spec §4.3 intervals in exact arithmetic (O(n^2) contiguous blocks for PF)."""
    n, xs = len(xf), sorted(xf)
    lo, hi = Fraction(0), Fraction(1)
    if axiom == "IFS":
        lo, hi = max(lo, xs[-1] - 1 + Fraction(1, n)), min(hi, xs[0] + 1 - Fraction(1, n))
    elif axiom == "UFS":
        for v in set(xs):
            s = xs.count(v)
            lo, hi = max(lo, v - 1 + Fraction(s, n)), min(hi, v + 1 - Fraction(s, n))
    elif axiom == "PF":
        for i in range(n):
            for j in range(i, n):
                b = 1 - Fraction(j - i + 1, n) + xs[j] - xs[i]
                lo, hi = max(lo, xs[j] - b), min(hi, xs[i] + b)
    elif axiom == "proportionality":
        if all(v in (0, 1) for v in xs):
            lo = hi = Fraction(xs.count(1), n)
    else:
        if len(set(xs)) == 1:
            lo = hi = xs[0]
    return lo, hi


rational_profiles = st.integers(1, 8).flatmap(
    lambda d: st.lists(st.integers(0, d).map(lambda k, d=d: Fraction(k, d)), min_size=1, max_size=6)
)


@given(rational_profiles, st.integers(0, 24))
@settings(max_examples=250, deadline=None)
def test_satisfies_matches_definition_and_intervals(xf, k):
    x = np.array([float(v) for v in xf])
    y = k / 24
    dist = np.abs(y - x)
    for ax in ("IFS", "UFS", "PF", "proportionality", "unanimity"):
        lo_f, hi_f = _blocks_interval(ax, xf)
        lo, hi = F.feasible_interval(ax, x)
        assert lo == pytest.approx(float(lo_f), abs=1e-12) and hi == pytest.approx(float(hi_f), abs=1e-12)
        assert lo_f <= hi_f  # never empty
        inside = lo_f <= Fraction(k, 24) <= hi_f  # exact membership
        assert bool(F.satisfies(ax, x, y)) == inside, (ax, xf, y)
        if ax in ("IFS", "UFS", "PF"):
            assert _brute_force(ax, x, dist) == inside, (ax, xf, y)
        # UP is always feasible, AVG is feasible for everything but (possibly) nothing here
        assert lo - 1e-12 <= UP(x) <= hi + 1e-12
        assert lo - 1e-12 <= AVG(x) <= hi + 1e-12


def test_satisfies_against_intervals_on_random_batches():
    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 5, 8, 13):
        x = np.concatenate([rng.random((2000, n)), rng.integers(0, 4, size=(500, n)) / 3])
        y = rng.random(x.shape[0])
        for ax in ("IFS", "UFS", "PF", "proportionality", "unanimity"):
            lo, hi = F.feasible_interval(ax, x)
            assert (lo <= hi + 1e-15).all()
            far = (np.abs(y - lo) > 1e-9) & (np.abs(y - hi) > 1e-9)
            expect = (lo <= y) & (y <= hi)
            np.testing.assert_array_equal(F.satisfies(ax, x, y)[far], expect[far])
            assert F.satisfies(ax, x, UP(x)).all()
            assert F.satisfies(ax, x, lo).all() and F.satisfies(ax, x, hi).all()


@given(
    st.integers(1, 6).flatmap(lambda n: st.lists(st.integers(0, 4), min_size=n, max_size=n)),
    st.lists(st.integers(0, 8), min_size=1, max_size=3),
    st.lists(st.integers(1, 5), min_size=3, max_size=3),
)
@settings(max_examples=200, deadline=None)
def test_ex_ante_checks_match_definition(xs, ys, ws):
    x = np.array(xs) / 4
    support = np.array(ys) / 8
    p = np.array(ws[: len(ys)], dtype=float)
    p /= p.sum()
    dist = (p[None, :] * np.abs(support[None, :] - x[:, None])).sum(axis=1)
    for ax in ("IFS", "UFS", "PF"):
        assert bool(F.satisfies(ax, x, support, p)) == _brute_force(ax, x, dist), ax
    np.testing.assert_allclose(F.cost(support, x, p), dist, atol=1e-15)


def test_check_and_satisfies_agree():
    rng = np.random.default_rng(11)
    for n in (1, 2, 4, 7):
        x = np.concatenate([rng.random((1000, n)), rng.integers(0, 3, size=(1000, n)) / 2])
        y = np.concatenate([rng.random(1000), rng.integers(0, 2 * n + 1, 1000) / (2 * n)])
        sup = rng.random((2000, 3))
        p = rng.dirichlet(np.ones(3), size=2000)
        for ax in ("IFS", "UFS", "PF", "proportionality", "unanimity"):
            np.testing.assert_array_equal(F.check(ax, x, y).ok, F.satisfies(ax, x, y))
            np.testing.assert_array_equal(F.check(ax, x, sup, p).ok, F.satisfies(ax, x, sup, p))


def test_witness_groups_violate_their_bound():
    rng = np.random.default_rng(1)
    n = 6
    x = np.concatenate([rng.random((500, n)), rng.integers(0, 3, size=(500, n)) / 2])
    y = rng.random(1000)
    for ax in ("IFS", "UFS", "PF"):
        c = F.check(ax, x, y)
        bad = ~c.ok
        assert bad.any()
        for b in np.flatnonzero(bad)[:100]:
            S = np.flatnonzero(c.group[b])
            s, r = len(S), x[b, S].max() - x[b, S].min()
            if ax == "UFS":
                assert r == 0
            bound = {"IFS": 1 - 1 / n, "UFS": 1 - s / n, "PF": 1 - s / n + r}[ax]
            if ax == "IFS":
                assert s == 1
            assert c.bound[b] == pytest.approx(bound, abs=1e-12)
            assert c.distance[b] == pytest.approx(np.abs(y[b] - x[b, S]).max(), abs=1e-12)
            assert c.distance[b] > c.bound[b] and c.slack[b] == pytest.approx(bound - c.distance[b], abs=1e-12)


def test_implications_on_random_locations():
    rng = np.random.default_rng(2)
    for n in (1, 2, 3, 4, 6, 9):
        x = np.concatenate(
            [
                rng.random((3000, n)),
                rng.integers(0, 2, size=(1000, n)).astype(float),
                np.repeat(rng.random((200, 1)), n, axis=1),
                rng.integers(0, 3, size=(1000, n)) / 2,
            ]
        )
        y = np.concatenate([rng.random(x.shape[0] // 2), UP(x[x.shape[0] // 2 :])])
        ok = {ax: F.satisfies(ax, x, y) for ax in ("IFS", "UFS", "PF", "proportionality", "unanimity")}
        assert not (ok["PF"] & ~ok["UFS"]).any()
        assert not (ok["UFS"] & ~ok["IFS"]).any()
        assert not (ok["UFS"] & ~ok["proportionality"]).any()
        assert not (ok["UFS"] & ~ok["unanimity"]).any()
    # no converse: MID is IFS but not UFS on (0,0,1); UFS but not PF somewhere
    assert F.satisfies("IFS", [0, 0, 1], 0.5) and not F.satisfies("UFS", [0, 0, 1], 0.5)
    x = [0.0, 0.01, 1.0]  # no shared peaks: UFS = IFS, but the near-pair is a PF group
    assert F.satisfies("UFS", x, 0.5) and not F.satisfies("PF", x, 0.5)


def test_multiplicities_brute_force():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(200, 7)) / 3
    brute = (x[:, :, None] == x[:, None, :]).sum(axis=2)
    np.testing.assert_array_equal(F.multiplicities(x), brute)


def test_fair_mechanisms_and_mixture_inside_intervals():
    rng = np.random.default_rng(4)
    mix = mechanisms.get("avg_up")
    for n in (2, 3, 4, 7):
        x = rng.random((1000, n))
        for ax in ("UFS", "PF", "IFS"):
            assert F.satisfies(ax, x, AVG(x)).all() and F.satisfies(ax, x, mix(x)).all()
        if n >= 2:
            assert F.satisfies("IFS", x, MID(x)).all()


def test_lotteries_ex_ante():
    rng = np.random.default_rng(5)
    rd, lrm = mechanisms.get("random_dictator"), mechanisms.get("lrm")
    for n in (2, 3, 5):
        x = np.concatenate([rng.random((500, n)), rng.integers(0, 2, size=(200, n)).astype(float)])
        s, p = rd.distribution(x)
        for ax in ("IFS", "UFS", "PF", "proportionality", "unanimity"):
            assert F.satisfies(ax, x, s, p).all(), ax
        s, p = lrm.distribution(x)
        assert F.satisfies("IFS", x, s, p).all()
    s, p = lrm.distribution([0, 0, 1])
    c = F.check("UFS", [0, 0, 1], s, p)
    assert not c.ok and c.distance == pytest.approx(0.5) and c.bound == pytest.approx(1 / 3)
    # RD fails IFS ex post: the outcome x_n for the agent at 0 on (0, 1)
    assert not F.satisfies("IFS", [0, 1], 1.0)


# ------------------------------------------------------------------------------------------
# objectives
# ------------------------------------------------------------------------------------------
def test_objectives_and_optima_against_grid():
    rng = np.random.default_rng(6)
    grid = np.linspace(0, 1, 2001)
    for n in (1, 2, 3, 4, 7):
        x = np.round(rng.random((30, n)) * 1000) / 1000  # midpoints stay on the 1/2000 grid
        sw = F.social_welfare(x, F.optimal_location("social_welfare", x))
        tc = F.total_cost(x, F.optimal_location("total_cost", x))
        mc = F.max_cost(x, F.optimal_location("max_cost", x))
        np.testing.assert_allclose(sw, n - tc, atol=1e-12)
        d = np.abs(grid[None, None, :] - x[:, :, None])
        np.testing.assert_allclose(tc, d.sum(1).min(1), atol=1e-12)
        np.testing.assert_allclose(mc, d.max(1).min(1), atol=1e-12)
        np.testing.assert_allclose(mc, (x.max(1) - x.min(1)) / 2, atol=1e-15)
        np.testing.assert_allclose(F.optimal_value("total_cost", x), tc)
        np.testing.assert_allclose(F.optimal_value("social_welfare", x), sw)
        np.testing.assert_array_equal(F.optimal_location("total_cost", x), MED(x))
    x = np.array([0.1, 0.3, 0.8])
    assert F.total_cost(x, 0.5) == pytest.approx(0.4 + 0.2 + 0.3)
    assert F.max_cost(x, 0.5) == pytest.approx(0.4)
    np.testing.assert_allclose(F.utility(0.5, x), [0.6, 0.8, 0.7])
    np.testing.assert_allclose(F.cost(np.array([0.5, 0.0]), np.array([x, x])), [[0.4, 0.2, 0.3], [0.1, 0.3, 0.8]])


def test_lottery_objectives_are_expectations():
    x = np.array([0.0, 0.0, 1.0])
    s, p = mechanisms.get("lrm").distribution(x)
    # LRM: 0 w.p. 1/4 (MC 1), 1 w.p. 1/4 (MC 1), 1/2 w.p. 1/2 (MC 1/2)
    assert F.max_cost(x, s, p) == pytest.approx(0.75)
    assert F.total_cost(x, s, p) == pytest.approx(0.25 * 1 + 0.25 * 2 + 0.5 * 1.5)
    assert F.social_welfare(x, s, p) == pytest.approx(3 - F.total_cost(x, s, p))
    # LRM's MC ratio 3/2 on (0, 1)
    s, p = mechanisms.get("lrm").distribution([0.0, 1.0])
    assert F.max_cost([0.0, 1.0], s, p) / F.optimal_value("max_cost", [0.0, 1.0]) == pytest.approx(1.5)


# ------------------------------------------------------------------------------------------
# ratio bounds
# ------------------------------------------------------------------------------------------
def test_R_values():
    want = {
        2: 1,
        3: Fraction(6, 5),
        4: Fraction(6, 5),
        5: Fraction(20, 17),
        6: Fraction(6, 5),
        7: Fraction(35, 29),
        8: Fraction(6, 5),
        9: Fraction(6, 5),
        10: Fraction(35, 29),
        17: Fraction(204, 169),
    }
    for n, r in want.items():
        assert F.welfare_ratio_bound(n) == r
    assert abs(float(F.welfare_ratio_bound(1000)) - (1 + math.sqrt(2)) / 2) < 1e-5
    ifs = {
        2: 1,
        3: Fraction(6, 5),
        4: Fraction(6, 5),
        5: Fraction(20, 17),
        6: Fraction(15, 13),
        7: Fraction(42, 37),
        8: Fraction(28, 25),
    }
    for n, r in ifs.items():
        assert F.ifs_welfare_ratio_bound(n) == r
    with pytest.raises(ValueError, match="n"):
        F.welfare_ratio_bound(0)


@pytest.mark.parametrize("name", ["uniform_phantom", "average", "avg_up"])
def test_proportional_mechanisms_reach_R_on_the_01_family(name):
    mech = mechanisms.get(name)
    for n in range(2, 11):
        x = np.array([[0.0] * k + [1.0] * (n - k) for k in range(n + 1)])
        sw = F.social_welfare(x, mech(x))
        ratio = (F.optimal_value("social_welfare", x) / sw).max()
        assert ratio == pytest.approx(float(F.welfare_ratio_bound(n)), abs=1e-12)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
def test_bad_input():
    with pytest.raises(ValueError, match="axiom.*IFS.*UFS.*PF.*proportionality.*unanimity"):
        F.satisfies("EJR", [0.1, 0.2], 0.1)
    with pytest.raises(ValueError, match="axiom"):
        F.feasible_interval("ifs", [0.1, 0.2])
    with pytest.raises(ValueError, match="objective"):
        F.optimal_location("welfare", [0.1])
    with pytest.raises(ValueError, match="peaks"):
        F.satisfies("IFS", [0.1, 1.2], 0.1)
    with pytest.raises(ValueError, match="peaks"):
        F.satisfies("IFS", [np.nan, 0.2], 0.1)
    with pytest.raises(ValueError, match="peaks"):
        F.satisfies("IFS", np.zeros((2, 0)), np.zeros(2))
    with pytest.raises(ValueError, match="location"):
        F.satisfies("IFS", [[0.1, 0.2]] * 3, [0.1, 0.2])
    with pytest.raises(ValueError, match="location"):
        F.satisfies("IFS", [0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="location"):
        F.satisfies("IFS", [0.1, 0.2], 1.5)
    with pytest.raises(ValueError, match="probs"):
        F.satisfies("IFS", [0.1, 0.2], [0.1, 0.2], [0.5, 0.6])
    with pytest.raises(ValueError, match="probs"):
        F.satisfies("IFS", [0.1, 0.2], [0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="tol"):
        F.satisfies("IFS", [0.1, 0.2], 0.1, tol=-1.0)


def test_shapes():
    x = np.random.default_rng(7).random((5, 3))
    out = F.satisfies("PF", x, UP(x))
    assert out.shape == (5,) and out.dtype == bool
    out = F.satisfies("PF", x[0], UP(x[0]))
    assert out.shape == () and out.dtype == bool
    lo, hi = F.feasible_interval("PF", x)
    assert lo.shape == hi.shape == (5,)
    assert np.shape(F.feasible_interval("PF", x[0])[0]) == ()
    assert F.check("PF", x, UP(x)).group.shape == (5, 3)
