"""Normal-form games and their equilibrium gaps (exact, against brute-force enumeration)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from coopsim.envs import matrix_games as mg
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim.analysis import ce_gap, exploitability, nash_conv
from coopsim.analysis.equilibrium import cce_gap
from coopsim.core.game import MechanismGame


# -- brute-force references -------------------------------------------------------------------
def brute_values(P, sig):
    """u_i(k, sigma_-i) by explicit enumeration over profiles."""
    N = P.shape[0]
    out = [np.zeros(P.shape[1 + i]) for i in range(N)]
    for prof in itertools.product(*[range(a) for a in P.shape[1:]]):
        for i in range(N):
            w = np.prod([sig[j][prof[j]] for j in range(N) if j != i])
            out[i][prof[i]] += w * P[(i, *prof)]
    return out


def brute_nash_conv(P, sig):
    vals = brute_values(P, sig)
    return sum(v.max() - v @ s for v, s in zip(vals, sig))


def brute_ce_gap(P, mu):
    N = P.shape[0]
    gaps = []
    for i in range(N):
        A = P.shape[1 + i]
        tot = 0.0
        for j in range(A):
            best = 0.0
            for k in range(A):
                g = 0.0
                for prof in itertools.product(*[range(a) for a in P.shape[1:]]):
                    if prof[i] != j:
                        continue
                    dev = list(prof)
                    dev[i] = k
                    g += mu[prof] * (P[(i, *dev)] - P[(i, *prof)])
                best = max(best, g)
            tot += best
        gaps.append(tot)
    return max(gaps)


@st.composite
def random_games(draw, max_players=3, max_actions=4):
    N = draw(st.integers(2, max_players))
    shape = tuple(draw(st.integers(1, max_actions)) for _ in range(N))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, *shape)), rng


# -- construction and play --------------------------------------------------------------------
def test_builtin_payoffs():
    rps = mg.rock_paper_scissors()
    assert rps.n_agents == 2 and rps.n_actions == (3, 3)
    # paper (1) beats rock (0)
    out = rps.play(np.zeros((1, 2)), np.array([[1.0, 0.0]]))
    np.testing.assert_array_equal(out.utility, [[1.0, -1.0]])
    sh = mg.shapley()
    np.testing.assert_array_equal(sh.payoff_tensor[0], [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(sh.payoff_tensor[1], [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    ch = mg.chicken()
    # (D,D)=(0,0), (D,C)=(7,2), (C,D)=(2,7), (C,C)=(6,6)
    prof = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    np.testing.assert_array_equal(ch.play(np.zeros((4, 2)), prof).utility, [[0, 0], [7, 2], [2, 7], [6, 6]])
    pd_ = mg.prisoners_dilemma()
    np.testing.assert_array_equal(pd_.play(np.zeros((4, 2)), prof).utility, [[3, 3], [0, 5], [5, 0], [1, 1]])
    mp = mg.matching_pennies()
    assert mp.utility_range == (-1.0, 1.0)
    assert set(mg.BUILTIN_GAMES) == {
        "rock_paper_scissors",
        "shapley",
        "chicken",
        "prisoners_dilemma",
        "matching_pennies",
    }
    assert mg.make("shapley").name == "shapley"
    with pytest.raises(ValueError, match="name"):
        mg.make("go")


def test_three_player_play_matches_tensor():
    rng = np.random.default_rng(0)
    P = rng.normal(size=(3, 2, 3, 4))
    g = mg.MatrixGame(P)
    a = np.array([[1, 2, 3], [0, 0, 0], [1, 1, 2]], dtype=float)
    u = g.play(np.zeros((3, 3)), a).utility
    for b in range(3):
        for i in range(3):
            assert u[b, i] == P[(i, *a[b].astype(int))]


def test_bad_input_rejected():
    with pytest.raises(ValueError, match="payoffs"):
        mg.MatrixGame(np.zeros((2, 3)))  # N=2 needs 3 axes
    with pytest.raises(ValueError, match="payoffs"):
        mg.MatrixGame(np.full((2, 2, 2), np.nan))
    g = mg.rock_paper_scissors()
    with pytest.raises(ValueError, match="actions"):
        g.play(np.zeros((1, 2)), np.array([[0.5, 1.0]]))  # non-integer
    with pytest.raises(ValueError, match="actions"):
        g.play(np.zeros((1, 2)), np.array([[3.0, 1.0]]))  # out of range
    with pytest.raises(ValueError, match="actions"):
        g.play(np.zeros((1, 3)), np.array([[0.0, 1.0, 2.0]]))
    with pytest.raises(ValueError, match="actions: expected finite"):
        g.play(np.zeros((1, 2)), np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="candidates"):
        g.deviation_utilities(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((3, 3)))  # (N, K) needs N = 2
    with pytest.raises(ValueError, match="candidates.*agent 1"):
        g.deviation_utilities(np.zeros((1, 2)), np.zeros((1, 2)), np.array([[0, 1, 2], [0, 1, 3]]))
    with pytest.raises(ValueError, match="candidates"):
        g.deviation_utilities(np.zeros((1, 2)), np.zeros((1, 2)), np.arange(4.0))
    with pytest.raises(ValueError, match="k"):
        mg.MatrixGame(np.zeros((2, 2, 3))).action_grid(2)
    with pytest.raises(ValueError, match="game_params"):
        mg.make_game(payoffs=np.zeros((2, 2, 2)), game_params={"reward": 4.0})  # would be ignored


@settings(max_examples=40, deadline=None)
@given(random_games())
def test_closed_form_deviation_utilities_match_generic(game_rng):
    P, rng = game_rng
    g = mg.MatrixGame(P)
    B = 5
    a = np.stack([rng.integers(0, n, B) for n in g.n_actions], axis=1).astype(float)
    grid = g.action_grid(max(g.n_actions))
    fast = g.deviation_utilities(np.zeros((B, g.n_agents)), a, grid)
    slow = MechanismGame.deviation_utilities(g, np.zeros((B, g.n_agents)), a, grid)
    assert np.max(np.abs(fast - slow)) <= 1e-12
    # U[b, i, a_bi] equals the realised utility
    real = g.play(np.zeros((B, g.n_agents)), a).utility
    idx = np.rint(a).astype(int)
    gathered = np.take_along_axis(fast, idx[:, :, None], axis=2)[..., 0]
    np.testing.assert_array_equal(gathered, real)


def test_unequal_action_counts_grid_and_mask():
    g = mg.MatrixGame(np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3))
    grid = g.action_grid(3)
    np.testing.assert_array_equal(grid, [[0, 1, 1], [0, 1, 2]])
    np.testing.assert_array_equal(g.action_mask(), [[True, True, False], [True, True, True]])


# -- exploitability / NashConv ------------------------------------------------------------------
def test_exploitability_known_values():
    rps = mg.rock_paper_scissors()
    assert exploitability(rps, np.full((2, 3), 1 / 3)) == pytest.approx(0.0, abs=1e-15)
    # P1 pure rock, P2 uniform: P1 gains 0, P2 gains 1 (paper) -> NashConv 1, exploitability 1/2
    pol = np.array([[1.0, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    assert nash_conv(rps, pol) == pytest.approx(1.0)
    assert exploitability(rps, pol) == pytest.approx(0.5)
    # chicken's symmetric mixed NE: Dare with probability 1/3
    ch = mg.chicken()
    assert exploitability(ch, np.array([[1 / 3, 2 / 3]] * 2)) == pytest.approx(0.0, abs=1e-12)
    # prisoner's dilemma: (D, D) is the NE, (C, C) is exploitable by 5 - 3 = 2 each
    pd_ = mg.prisoners_dilemma()
    assert nash_conv(pd_, np.array([[0.0, 1.0]] * 2)) == 0.0
    assert nash_conv(pd_, np.array([[1.0, 0.0]] * 2)) == pytest.approx(4.0)
    # batched over leading axes, and from a raw tensor, and as a list of per-player arrays
    pols = np.stack([np.full((2, 3), 1 / 3), pol])
    np.testing.assert_allclose(exploitability(rps, pols), [0.0, 0.5], atol=1e-15)
    assert exploitability(rps.payoff_tensor, [pol[0], pol[1]]) == pytest.approx(0.5)


@settings(max_examples=40, deadline=None)
@given(random_games())
def test_nash_conv_matches_brute_force(game_rng):
    P, rng = game_rng
    sig = [rng.dirichlet(np.ones(a)) for a in P.shape[1:]]
    assert nash_conv(P, sig) == pytest.approx(brute_nash_conv(P, sig), abs=1e-10)
    assert nash_conv(P, sig) >= 0
    g = mg.MatrixGame(P)
    pad = np.zeros((g.n_agents, max(g.n_actions)))
    for i, s in enumerate(sig):
        pad[i, : len(s)] = s
    ev = g.expected_deviation_utilities(pad)
    for i, v in enumerate(brute_values(P, sig)):
        np.testing.assert_allclose(ev[i, : len(v)], v, atol=1e-12)


def test_policy_validation():
    rps = mg.rock_paper_scissors()
    with pytest.raises(ValueError, match="sum to 1"):
        exploitability(rps, np.full((2, 3), 0.3))
    with pytest.raises(ValueError, match="policy"):
        exploitability(rps, np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="policy"):
        exploitability(rps, np.array([[1.5, -0.5, 0.0], [1 / 3] * 3]))
    with pytest.raises(TypeError, match="payoff"):
        exploitability(object(), np.full((2, 3), 1 / 3))
    g = mg.MatrixGame(np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="padding"):
        exploitability(g, np.array([[0.5, 0.25, 0.25], [1 / 3] * 3]))


# -- correlated equilibria ----------------------------------------------------------------------
def test_ce_gap_known_values():
    ch = mg.chicken()
    aumann = np.array([[0.0, 1 / 3], [1 / 3, 1 / 3]])  # Aumann's CE of chicken
    assert ce_gap(ch, aumann) == pytest.approx(0.0, abs=1e-12)
    assert cce_gap(ch, aumann) == pytest.approx(0.0, abs=1e-12)
    # (C, C) for sure: player 1 gains 7 - 6 = 1 by daring
    assert ce_gap(ch, np.array([[0.0, 0.0], [0.0, 1.0]])) == pytest.approx(1.0)
    # product of the mixed NE is a CE
    p = np.array([1 / 3, 2 / 3])
    assert ce_gap(ch, np.outer(p, p)) == pytest.approx(0.0, abs=1e-12)
    # batched
    np.testing.assert_allclose(ce_gap(ch, np.stack([aumann, np.array([[0, 0], [0, 1.0]])])), [0.0, 1.0], atol=1e-12)
    with pytest.raises(ValueError, match="joint"):
        ce_gap(ch, np.full((2, 2), 0.3))
    with pytest.raises(ValueError, match="joint"):
        ce_gap(ch, np.full((3, 2), 1 / 6))


@settings(max_examples=30, deadline=None)
@given(random_games(max_players=3, max_actions=3))
def test_ce_gap_matches_brute_force(game_rng):
    P, rng = game_rng
    mu = rng.dirichlet(np.ones(int(np.prod(P.shape[1:])))).reshape(P.shape[1:])
    assert ce_gap(P, mu) == pytest.approx(brute_ce_gap(P, mu), abs=1e-10)
    # CCE gap <= CE gap (every CE is a CCE), both >= 0
    assert 0 <= cce_gap(P, mu) <= ce_gap(P, mu) + 1e-12
    # product distributions: CCE gap <= NashConv-type gains
    sig = [rng.dirichlet(np.ones(a)) for a in P.shape[1:]]
    prod = sig[0]
    for s in sig[1:]:
        prod = np.multiply.outer(prod, s)
    gains = nash_conv(P, sig)
    assert cce_gap(P, prod) <= gains + 1e-12
