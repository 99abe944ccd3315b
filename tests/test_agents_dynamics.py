"""Learner behaviour on small games (learning spec §8.4, §9 L1-L4), with a payoff-matrix loop
written here (no environment): regret bounds, RPS self-play, Shapley's game, chicken."""

from __future__ import annotations

import numpy as np
import pytest

import coopsim.agents as ag

RPS = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
SHAPLEY_A = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
SHAPLEY_B = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
CHICKEN_A = np.array([[0.0, 7.0], [2.0, 6.0]])  # actions (D, C); row player's payoffs
CHICKEN_B = CHICKEN_A.T.copy()


def deviation_utilities(A, Bm, a):
    """U[b, 0, k] = A[k, a_1], U[b, 1, k] = Bm[a_0, k] for a two-player bimatrix game."""
    return np.stack([A[:, a[:, 1]].T, Bm[a[:, 0], :]], axis=1)


def play(L, A, Bm, T, batch, seed, every=None, on_round=None):
    rng = np.random.default_rng(seed)
    L.bind(batch, 2)
    snapshots = []
    for t in range(T):
        a = L.act(rng)
        U = deviation_utilities(A, Bm, a)
        r = np.take_along_axis(U, a[..., None], -1)[..., 0]
        L.update(a, r, full=U if L.feedback == "full" else None)
        if on_round is not None:
            on_round(a)
        if every and (t + 1) % every == 0:
            snapshots.append(L.average_policy.copy())
    return snapshots


def nash_conv(A, Bm, sigma):
    """NashConv of a mixed profile sigma (B, 2, K): sum_i max_k u_i(k, s_-i) - u_i(s)."""
    s0, s1 = sigma[:, 0], sigma[:, 1]
    v0 = np.einsum("bi,ij,bj->b", s0, A, s1)
    v1 = np.einsum("bi,ij,bj->b", s0, Bm, s1)
    return (s1 @ A.T).max(-1) - v0 + (s0 @ Bm).max(-1) - v1


# ---------------------------------------------------------------- L1: Hedge regret bound
def test_hedge_regret_bound_against_adversarial_losses():
    K, T = 10, 10_000
    fixed = ag.Hedge(K, batch=2, n_agents=1, horizon=T)
    anytime = ag.Hedge(K, batch=2, n_agents=1)
    rng = np.random.default_rng(0)
    for L, bound in ((fixed, ag.hedge_regret_bound(T, K)), (anytime, ag.hedge_regret_bound(T, K, anytime=True))):
        cum_u = np.zeros((2, K))
        cum_exp = np.zeros(2)
        for t in range(T):
            p = L.policy[:, 0]
            U = np.ones((2, 1, K))
            U[0, 0, t % K] = 0.0  # copy 0: round-robin loss sequence
            U[1, 0, np.argmax(p[1])] = 0.0  # copy 1: adaptive adversary hits the likeliest action
            a = L.act(rng)
            L.update(a, np.take_along_axis(U, a[..., None], -1)[..., 0], full=U)
            cum_u += U[:, 0]
            cum_exp += (p * U[:, 0]).sum(-1)
        regret = cum_u.max(-1) - cum_exp
        assert (regret <= bound).all(), (regret, bound)
        assert (regret > 0).all()
    assert ag.hedge_regret_bound(T, K) == pytest.approx(107.3, abs=0.05)


def test_exp3_ix_regret_on_stochastic_bandit_is_sublinear():
    """EXP3-IX (bandit feedback) vs the best arm: expected regret far below Neu's bound."""
    K, T, B = 5, 3_000, 16
    means = np.array([0.3, 0.4, 0.5, 0.6, 0.8])
    L = ag.Exp3IX(K, batch=B, n_agents=1, horizon=T)
    rng, env = np.random.default_rng(1), np.random.default_rng(2)
    got = 0.0
    for _ in range(T):
        a = L.act(rng)
        r = (env.random((B, 1)) < means[a]).astype(float)
        got += (L.policy[:, 0] * means).sum(-1).mean()
        L.update(a, r)
    regret = T * means.max() - got
    bound = 2 * np.sqrt(2 * K * T * np.log(K))
    assert 0 < regret < 0.5 * bound


# ---------------------------------------------------------------- L2: RPS self-play
@pytest.mark.parametrize("cls", [ag.Hedge, ag.RegretMatching, ag.RegretMatchingPlus])
def test_rps_self_play_average_is_uniform(cls):
    L = cls(3, utility_range=(-1.0, 1.0))
    snaps = play(L, RPS, -RPS, 10_000, batch=2, seed=0, every=100)
    avg = L.average_policy
    assert np.abs(avg - 1 / 3).max() <= 0.02
    nc = np.array([nash_conv(RPS, -RPS, s) for s in snaps])  # (checkpoints, B)
    assert (nc[-1] <= 0.08).all()
    assert nc[-1].mean() < nc[0].mean()  # falls from t = 100 to t = 10^4 (sampling noise in between)
    assert nc[-10:].mean() < nc[:10].mean()


def test_rps_smooth_fictitious_play_reaches_uniform_qre():
    L = ag.SmoothFictitiousPlay(3, utility_range=(-1.0, 1.0), temperature=0.05)
    play(L, RPS, -RPS, 4_000, batch=2, seed=0)
    assert np.abs(L.average_policy - 1 / 3).max() <= 0.03


# ---------------------------------------------------------------- L3: Shapley's game
def test_fictitious_play_does_not_converge_on_shapley_game():
    T, B = 10_000, 2
    counts = np.zeros((B, 2, 3))
    b_idx, i_idx = np.arange(B)[:, None], np.arange(2)[None, :]

    def count(a):
        counts[b_idx, i_idx, a] += 1

    play(ag.FictitiousPlay(3), SHAPLEY_A, SHAPLEY_B, T, B, seed=0, on_round=count)
    dev = np.abs(counts / T - 1 / 3).max(axis=(1, 2))
    assert (dev > 0.1).all(), dev


def test_fictitious_play_converges_in_rps():
    """Robinson (1951): FP empirical frequencies converge in two-player zero-sum games."""
    T, B = 4_000, 2
    counts = np.zeros((B, 2, 3))
    b_idx, i_idx = np.arange(B)[:, None], np.arange(2)[None, :]

    def count(a):
        counts[b_idx, i_idx, a] += 1

    play(ag.FictitiousPlay(3), RPS, -RPS, T, B, seed=0, on_round=count)
    assert np.abs(counts / T - 1 / 3).max() < 0.05


# ---------------------------------------------------------------- L4: chicken, correlated eq.
def ce_gap(A, Bm, P):
    """max_i sum_j max_k sum_{a_-i} P(j, a_-i) [u_i(k, a_-i) - u_i(j, a_-i)]^+ (spec §6.2)."""
    g0 = np.maximum(0, np.einsum("bjc,kc->bjk", P, A) - np.einsum("bjc,jc->bj", P, A)[..., None])
    g1 = np.maximum(0, np.einsum("brj,rk->bjk", P, Bm) - np.einsum("brj,rj->bj", P, Bm)[..., None])
    return np.maximum(g0.max(-1).sum(-1), g1.max(-1).sum(-1))


def test_ce_gap_formula_on_known_distributions():
    # Aumann's CE of chicken: 1/3 on (D,C), (C,D), (C,C) has gap 0; uniform play does not
    ce = np.array([[[0.0, 1 / 3], [1 / 3, 1 / 3]]])
    assert ce_gap(CHICKEN_A, CHICKEN_B, ce)[0] == pytest.approx(0.0, abs=1e-12)
    uni = np.full((1, 2, 2), 0.25)
    # row player, j = D -> k = C: 0.25 (2 - 0) + 0.25 (6 - 7) = 0.25; j = C -> D gains -0.25 -> 0
    assert ce_gap(CHICKEN_A, CHICKEN_B, uni)[0] == pytest.approx(0.25)


def test_conditional_regret_matching_reaches_ce_in_chicken():
    T, B = 20_000, 8
    joint = np.zeros((B, 2, 2))
    b_idx = np.arange(B)

    def count(a):
        joint[b_idx, a[:, 0], a[:, 1]] += 1

    L = ag.ConditionalRegretMatching(2, utility_range=(0.0, 7.0))
    play(L, CHICKEN_A, CHICKEN_B, T, B, seed=0, on_round=count)
    gap = ce_gap(CHICKEN_A, CHICKEN_B, joint / T)  # raw payoff units
    assert (gap <= 0.02).all(), gap


# ---------------------------------------------------------------- best response
def test_sequential_best_response_reaches_pure_ne_in_potential_game():
    """Random 3-player congestion-like potential game: u_i = phi(a) + h_i(a_-i); BR ends at a pure NE."""
    rng = np.random.default_rng(3)
    K, N, B = 4, 3, 32
    phi = rng.random((B,) + (K,) * N)
    b = np.arange(B)

    def dev(a):
        U = np.empty((B, N, K))
        for i in range(N):  # loop over the 3 agents of the test game, not in the learner
            idx = [b[:, None]] + [np.repeat(a[:, j : j + 1], K, 1) for j in range(N)]
            idx[1 + i] = np.arange(K)[None, :]
            U[:, i, :] = phi[tuple(idx)]
        return U

    for order in ("random", "round_robin"):
        L = ag.BestResponse(K, batch=B, n_agents=N, order=order)
        r = np.random.default_rng(0)
        for t in range(200):
            a = L.act(r)
            U = dev(a)
            L.update(a, np.take_along_axis(U, a[..., None], -1)[..., 0], full=U)
            if L.converged.all():
                break
        assert L.converged.all()
        a = L.act(r)
        U = dev(a)
        assert (U.max(-1) <= np.take_along_axis(U, a[..., None], -1)[..., 0] + 1e-12).all()


# ---------------------------------------------------------------- bandit learners, best arm
@pytest.mark.parametrize(
    "name,kw",
    [
        ("ucb1", {}),
        ("exp3_ix", {"horizon": 3000}),
        ("exp3", {"horizon": 3000}),
        ("epsilon_greedy", {}),
        ("softmax_pg", {"lr": 0.5}),
        ("q_learning", {"beta": 3e-3}),
    ],
)
def test_bandit_learner_finds_best_arm(name, kw):
    means = np.array([0.2, 0.5, 0.8, 0.4])
    B, T = 32, 3000
    L = ag.get(name, n_actions=4, batch=B, n_agents=1, **kw)
    rng, env = np.random.default_rng(0), np.random.default_rng(1)
    late = 0
    for t in range(T):
        a = L.act(rng)
        r = (env.random((B, 1)) < means[a]).astype(float)
        L.update(a, r)
        if t >= T - 500:
            late += (a == 2).mean()
    assert late / 500 > 0.75
