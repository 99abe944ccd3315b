"""Vectorised learners vs scalar per-agent reference implementations on random instances
(hypothesis), including per-agent action counts (masks) and rescaled utility ranges."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import coopsim.agents as ag

B, N = 2, 3


def instance(seed, T):
    rng = np.random.default_rng(seed)
    k_i = rng.integers(1, 6, size=N)
    K = int(k_i.max())
    lo, hi = float(rng.uniform(-2, 0)), float(rng.uniform(0.5, 3))
    U = lo + (hi - lo) * rng.random((T, B, N, K))
    acts = np.floor(rng.random((T, B, N)) * k_i).astype(np.int64)
    return k_i, K, lo, hi, U, acts


def scalar_softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def feed(L, U, acts):
    for t in range(len(U)):
        r = np.take_along_axis(U[t], acts[t][..., None], -1)[..., 0]
        L.update(acts[t], r, full=U[t] if L.feedback == "full" else None)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), T=st.integers(1, 12))
def test_exp3_ix_matches_scalar_reference(seed, T):
    k_i, K, lo, hi, U, acts = instance(seed, T)
    L = ag.Exp3IX(list(k_i), batch=B, utility_range=(lo, hi), horizon=50)
    feed(L, U, acts)
    for b in range(B):
        for i in range(N):
            k = k_i[i]
            eta = np.sqrt(2 * np.log(k) / (k * 50))
            Lt = np.zeros(k)
            for t in range(T):
                p = scalar_softmax(-eta * Lt)
                a = acts[t, b, i]
                loss = 1 - (U[t, b, i, a] - lo) / (hi - lo)
                Lt[a] += loss / (p[a] + eta / 2)
            np.testing.assert_allclose(L.policy[b, i, :k], scalar_softmax(-eta * Lt), rtol=1e-9, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), T=st.integers(1, 12))
def test_exp3_matches_scalar_reference(seed, T):
    k_i, K, lo, hi, U, acts = instance(seed, T)
    L = ag.Exp3(list(k_i), batch=B, utility_range=(lo, hi), gamma=0.2)
    feed(L, U, acts)
    for b in range(B):
        for i in range(N):
            k = k_i[i]
            lw = np.zeros(k)
            for t in range(T):
                p = 0.8 * scalar_softmax(lw) + 0.2 / k
                a = acts[t, b, i]
                lw[a] += 0.2 * ((U[t, b, i, a] - lo) / (hi - lo)) / p[a] / k
            np.testing.assert_allclose(L.policy[b, i, :k], 0.8 * scalar_softmax(lw) + 0.2 / k, rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), T=st.integers(1, 12), plus=st.booleans())
def test_regret_matching_matches_scalar_reference(seed, T, plus):
    k_i, K, lo, hi, U, acts = instance(seed, T)
    L = (ag.RegretMatchingPlus if plus else ag.RegretMatching)(list(k_i), batch=B, utility_range=(lo, hi))
    feed(L, U, acts)
    for b in range(B):
        for i in range(N):
            k = k_i[i]
            R = np.zeros(k)
            avg, wsum = np.zeros(k), 0.0
            for t in range(T):
                pos = np.maximum(R, 0)
                p = pos / pos.sum() if pos.sum() > 0 else np.full(k, 1 / k)
                w = t + 1 if plus else 1
                avg += w * p
                wsum += w
                u = (U[t, b, i, :k] - lo) / (hi - lo)
                R = R + u - p @ u
                if plus:
                    R = np.maximum(R, 0)
            pos = np.maximum(R, 0)
            p = pos / pos.sum() if pos.sum() > 0 else np.full(k, 1 / k)
            np.testing.assert_allclose(L.policy[b, i, :k], p, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(L.average_policy[b, i, :k], avg / wsum, rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), T=st.integers(1, 12))
def test_conditional_rm_matches_scalar_reference(seed, T):
    k_i, K, lo, hi, U, acts = instance(seed, T)
    L = ag.ConditionalRegretMatching(list(k_i), batch=B, utility_range=(lo, hi))
    feed(L, U, acts)
    for b in range(B):
        for i in range(N):
            k = k_i[i]
            D = np.zeros((k, k))
            for t in range(T):
                u = (U[t, b, i, :k] - lo) / (hi - lo)
                j = acts[t, b, i]
                D[j] += u - u[j]
            D /= T
            mu = max(2 * (k - 1), 1)
            j = acts[-1, b, i]
            p = np.maximum(D[j], 0) / mu
            p[j] = 0
            p[j] = 1 - p.sum()
            np.testing.assert_allclose(L.policy[b, i, :k], p, rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), T=st.integers(1, 12))
def test_softmax_pg_and_eps_greedy_match_scalar_reference(seed, T):
    k_i, K, lo, hi, U, acts = instance(seed, T)
    pg = ag.SoftmaxPolicyGradient(list(k_i), batch=B, utility_range=(lo, hi), lr=0.3, baseline_lr=0.1)
    eg = ag.EpsilonGreedy(list(k_i), batch=B, utility_range=(lo, hi))
    feed(pg, U, acts)
    feed(eg, U, acts)
    for b in range(B):
        for i in range(N):
            k = k_i[i]
            th, base = np.zeros(k), 0.0
            sums, cnt = np.zeros(k), np.zeros(k)
            for t in range(T):
                a = acts[t, b, i]
                r = (U[t, b, i, a] - lo) / (hi - lo)
                pi = scalar_softmax(th)
                th = th + 0.3 * (r - base) * (np.eye(k)[a] - pi)
                base += 0.1 * (r - base)
                sums[a] += r
                cnt[a] += 1
            np.testing.assert_allclose(pg.policy[b, i, :k], scalar_softmax(th), rtol=1e-9)
            np.testing.assert_allclose(
                eg.values[b, i, :k], np.where(cnt > 0, sums / np.maximum(cnt, 1), 0), rtol=1e-9, atol=1e-12
            )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_regret_matching_regret_bound_on_random_sequences(seed):
    """max_k R_T(k) <= Delta sqrt(K T) for RM and RM+ (expected-baseline regret, Delta = 1)."""
    rng = np.random.default_rng(seed)
    K, T = 4, 300
    U = rng.random((T, 1, 1, K)) ** rng.uniform(0.2, 5)
    for cls in (ag.RegretMatching, ag.RegretMatchingPlus):
        L = cls(K, batch=1, n_agents=1)
        gained = 0.0
        for t in range(T):
            gained += float(L.policy[0, 0] @ U[t, 0, 0])
            L.update(np.zeros((1, 1), dtype=np.int64), U[t, :, :, 0], full=U[t])
        regret = U[:, 0, 0].sum(0).max() - gained
        assert regret <= np.sqrt(K * T) + 1e-9
