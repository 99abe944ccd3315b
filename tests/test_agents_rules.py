"""Exact update rules of every coopsim.agents learner on hand-computed examples (spec §4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coopsim.agents as ag


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def one_round(L, a, U=None, r=None, context=None):
    a = np.asarray(a, dtype=np.int64)
    if r is None:
        r = np.take_along_axis(U, a[..., None], -1)[..., 0]
    L.update(a, r, full=U if L.feedback == "full" else None, context=context)


# ---------------------------------------------------------------- Hedge
def test_hedge_step_sizes_follow_spec():
    h = ag.Hedge([2, 5], batch=1)
    np.testing.assert_allclose(h.step_size(1)[0, :, 0], np.sqrt(8 * np.log([2, 5]) / 1))
    np.testing.assert_allclose(h.step_size(9)[0, :, 0], np.sqrt(8 * np.log([2, 5]) / 9))
    h = ag.Hedge(10, batch=1, n_agents=1, horizon=400)
    np.testing.assert_allclose(h.step_size(7), np.sqrt(8 * np.log(10) / 400))
    h = ag.Hedge(10, batch=1, n_agents=1, eta=0.3)
    np.testing.assert_allclose(h.step_size(7), 0.3)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), T=st.integers(1, 8), lo=st.floats(-3, 3), width=st.floats(0.5, 4))
def test_property_hedge_policy_equals_brute_force_weights(seed, T, lo, width):
    """p_{T+1} = softmax(eta_{T+1} * sum_t (U_t - lo) / Delta), anytime step sizes, masked K_i."""
    rng = np.random.default_rng(seed)
    k_i = [3, 1, 4]
    h = ag.Hedge(k_i, batch=2, utility_range=(lo, lo + width))
    S = np.zeros((2, 3, 4))
    for _ in range(T):
        a = h.act(rng)
        U = lo + width * rng.random((2, 3, 4))
        one_round(h, a, U)
        S += (U - lo) / width
    eta = np.sqrt(8 * np.log(np.array(k_i, float)) / (T + 1))[None, :, None]
    logits = np.where(h.mask, eta * S, -np.inf)
    expect = softmax(logits)
    np.testing.assert_allclose(h.policy, expect, rtol=1e-10, atol=1e-14)
    assert (h.policy[:, 1, 1:] == 0).all() and (h.policy[:, 1, 0] == 1).all()


def test_hedge_ignores_padded_entries_of_full():
    h = ag.Hedge([2, 3], batch=1, eta=1.0)
    U = np.array([[[0.2, 0.9, np.nan], [0.1, 0.2, 0.3]]])
    one_round(h, [[0, 0]], U, r=np.array([[0.2, 0.1]]))
    np.testing.assert_allclose(h.policy[0, 0, :2], softmax(np.array([0.2, 0.9])))
    assert h.policy[0, 0, 2] == 0


# ---------------------------------------------------------------- EXP3 / EXP3-IX
def test_exp3_one_step_by_hand():
    L = ag.Exp3(3, batch=1, n_agents=1, gamma=0.3)
    np.testing.assert_allclose(L.policy, 1 / 3)
    one_round(L, [[2]], r=np.array([[1.0]]))
    # log w[2] += gamma * (x / p) / K = 0.3 * 3 / 3
    w = np.exp([0.0, 0.0, 0.3])
    np.testing.assert_allclose(L.policy[0, 0], 0.7 * w / w.sum() + 0.1)


def test_exp3_auto_gamma():
    L = ag.Exp3(4, batch=1, n_agents=1, horizon=1000)
    np.testing.assert_allclose(L.exploration(), min(1, np.sqrt(4 * np.log(4) / ((np.e - 1) * 1000))))


def test_exp3_ix_one_step_by_hand():
    L = ag.Exp3IX(3, batch=1, n_agents=1, eta=0.5, gamma=0.1, utility_range=(-1, 1))
    one_round(L, [[1]], r=np.array([[-0.2]]))  # rescaled reward 0.4, loss 0.6
    Lt = np.array([0.0, 0.6 / (1 / 3 + 0.1), 0.0])
    np.testing.assert_allclose(L.L[0, 0], Lt)
    np.testing.assert_allclose(L.policy[0, 0], softmax(-0.5 * Lt))


def test_exp3_ix_auto_parameters():
    L = ag.Exp3IX([5, 2], batch=1, horizon=100)
    eta = np.sqrt(2 * np.log([5, 2]) / (np.array([5, 2]) * 100))
    np.testing.assert_allclose(L.step_size()[0, :, 0], eta)
    np.testing.assert_allclose(L.implicit_exploration()[0, :, 0], eta / 2)


# ---------------------------------------------------------------- regret matching family
def test_regret_matching_by_hand():
    L = ag.RegretMatching(3, batch=1, n_agents=1)
    U = np.array([[[0.2, 0.8, 0.5]]])
    one_round(L, [[0]], U)
    R = U[0, 0] - U[0, 0].mean()  # p_1 uniform
    np.testing.assert_allclose(L.R[0, 0], R)
    np.testing.assert_allclose(L.policy[0, 0], np.maximum(R, 0) / np.maximum(R, 0).sum())
    # sampled baseline subtracts u(a_t)
    L = ag.RegretMatching(3, batch=1, n_agents=1, baseline="sampled")
    one_round(L, [[0]], U)
    np.testing.assert_allclose(L.R[0, 0], U[0, 0] - 0.2)


def test_regret_matching_uniform_when_no_positive_regret():
    L = ag.RegretMatching([2, 3], batch=1)
    U = np.array([[[0.5, 0.5, 0.0], [0.3, 0.3, 0.3]]])
    one_round(L, [[0, 1]], U)
    np.testing.assert_allclose(L.policy[0, 0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(L.policy[0, 1], [1 / 3] * 3)


def test_rm_plus_clips_and_averages_linearly():
    L = ag.RegretMatchingPlus(2, batch=1, n_agents=1)
    p1 = L.policy.copy()
    one_round(L, [[0]], np.array([[[1.0, 0.0]]]))  # Q = max(0, [0.5, -0.5]) = [0.5, 0]
    np.testing.assert_allclose(L.Q[0, 0], [0.5, 0.0])
    p2 = L.policy.copy()
    np.testing.assert_allclose(p2[0, 0], [1.0, 0.0])
    one_round(L, [[0]], np.array([[[0.0, 1.0]]]))  # Q = max(0, [0.5 - 0, 0 + 1]) = [0.5, 1]
    np.testing.assert_allclose(L.Q[0, 0], [0.5, 1.0])
    np.testing.assert_allclose(L.average_policy, (1 * p1 + 2 * p2) / 3)


def test_conditional_rm_by_hand():
    L = ag.ConditionalRegretMatching(3, batch=1, n_agents=1)
    np.testing.assert_allclose(L.policy, 1 / 3)  # first round uniform
    U = np.array([[[0.2, 0.8, 0.5]]])
    one_round(L, [[0]], U)
    # D(0, .) = [0, 0.6, 0.3] / t, mu = 2 (K - 1) = 4
    np.testing.assert_allclose(L.D[0, 0, 0], [0.0, 0.6, 0.3])
    np.testing.assert_allclose(L.policy[0, 0], [1 - 0.225, 0.15, 0.075])
    one_round(L, [[1]], np.array([[[1.0, 0.0, 0.0]]]))
    # D(1, .) = [1, 0, 0] / 2; last action 1 -> switch to 0 w.p. 0.5 / 4
    np.testing.assert_allclose(L.policy[0, 0], [0.125, 0.875, 0.0])


def test_conditional_rm_warns_above_k64():
    with pytest.warns(UserWarning, match="K = 65"):
        ag.ConditionalRegretMatching(65, batch=1, n_agents=1)


# ---------------------------------------------------------------- fictitious play
def test_fictitious_play_best_responds_to_average():
    rng = np.random.default_rng(0)
    L = ag.FictitiousPlay(3, batch=4, n_agents=1)
    one_round(L, L.act(rng), np.tile([[[1.0, 0.0, 0.0]]], (4, 1, 1)))
    one_round(L, L.act(rng), np.tile([[[0.0, 0.0, 0.6]]], (4, 1, 1)))
    np.testing.assert_allclose(L.U_bar[0, 0], [0.5, 0.0, 0.3])
    assert (L.act(rng) == 0).all()
    one_round(L, L.act(rng), np.tile([[[0.0, 0.0, 0.9]]], (4, 1, 1)))  # Ubar = [1/3, 0, 0.5]
    assert (L.act(rng) == 2).all()
    np.testing.assert_allclose(L.policy[0, 0], [0, 0, 1])


def test_smooth_fictitious_play_is_logit_of_average():
    L = ag.SmoothFictitiousPlay(3, batch=1, n_agents=1, temperature=0.1, utility_range=(0, 2))
    one_round(L, [[0]], np.array([[[2.0, 0.0, 1.0]]]))
    np.testing.assert_allclose(L.policy[0, 0], softmax(np.array([1.0, 0.0, 0.5]) / 0.1))
    # tracking belief step
    L = ag.FictitiousPlay(2, batch=1, n_agents=1, step=0.5)
    one_round(L, [[0]], np.array([[[1.0, 0.0]]]))
    one_round(L, [[0]], np.array([[[0.0, 1.0]]]))
    np.testing.assert_allclose(L.U_bar[0, 0], [0.25, 0.5])


# ---------------------------------------------------------------- best response
def coordination_U(a):
    """2 agents, 3 actions, utility 1 if both pick the same action (+0.1 bonus for action 2)."""
    other = a[:, ::-1]
    U = (np.arange(3)[None, None, :] == other[..., None]).astype(float)
    U[..., 2] += 0.1 * (U[..., 2] > 0)
    return U


def test_best_response_round_robin_sequence():
    rng = np.random.default_rng(0)
    L = ag.BestResponse(3, batch=1, n_agents=2, mode="sequential", order="round_robin", init=0)
    a = L.act(rng)
    np.testing.assert_array_equal(a, [[0, 0]])  # already a pure NE: no strict improvement
    one_round(L, a, coordination_U(a))
    assert L.converged[0] and L.converged_at[0] == 0
    L = ag.BestResponse(3, batch=1, n_agents=2, mode="sequential", order="round_robin", init="truthful")
    a = L.act(rng, {"truthful": np.array([[0, 2]])})
    one_round(L, a, coordination_U(a))  # agent 0 revises: best reply to 2 is 2
    np.testing.assert_array_equal(L.act(rng), [[2, 2]])
    a = L.act(rng)
    one_round(L, a, coordination_U(a))
    assert L.converged[0]


def test_best_response_simultaneous_can_cycle():
    rng = np.random.default_rng(0)
    L = ag.BestResponse(3, batch=1, n_agents=2, mode="simultaneous", init="truthful")
    a = L.act(rng, {"truthful": np.array([[0, 1]])})
    for t in range(4):
        one_round(L, a, coordination_U(a))
        a = L.act(rng)
        np.testing.assert_array_equal(a, [[1, 0]] if t % 2 == 0 else [[0, 1]])
    assert not L.converged[0] and L.converged_at[0] == -1


def test_best_response_needs_strict_improvement():
    rng = np.random.default_rng(0)
    L = ag.BestResponse(3, batch=64, n_agents=1, mode="simultaneous", init=1)
    a = L.act(rng)
    one_round(L, a, np.tile([[[0.5, 0.5, 0.5 + 1e-13]]], (64, 1, 1)))
    assert (L.act(rng) == 1).all()  # gain 1e-13 < tol
    one_round(L, a, np.tile([[[0.7, 0.5, 0.7]]], (64, 1, 1)))
    b = L.act(rng)
    assert set(np.unique(b)) == {0, 2}  # random tie-breaking between the two best replies


# ---------------------------------------------------------------- stochastic bandits
def test_epsilon_greedy_policy_and_means():
    L = ag.EpsilonGreedy([3, 2], batch=1, epsilon=0.3)
    one_round(L, [[1, 0]], r=np.array([[0.5, 0.2]]))
    one_round(L, [[1, 1]], r=np.array([[0.9, 0.0]]))
    np.testing.assert_allclose(L.values[0, 0], [0, 0.7, 0])
    np.testing.assert_allclose(L.counts[0, 0], [0, 2, 0])
    np.testing.assert_allclose(L.policy[0, 0], [0.1, 0.8, 0.1])
    np.testing.assert_allclose(L.policy[0, 1], [0.85, 0.15, 0.0])
    L = ag.EpsilonGreedy(4, batch=1, n_agents=1, schedule="decay", c=1.0, d=0.5)
    np.testing.assert_allclose(L.current_epsilon(), 1.0)
    L.t = 99
    np.testing.assert_allclose(L.current_epsilon(), 4 / (0.25 * 100))
    L = ag.EpsilonGreedy(4, batch=1, n_agents=1, schedule="exp", beta=0.01)
    np.testing.assert_allclose(L.current_epsilon(), np.exp(-0.01))


def test_epsilon_greedy_exponential_average():
    L = ag.EpsilonGreedy(2, batch=1, n_agents=1, step=0.5)
    one_round(L, [[0]], r=np.array([[1.0]]))
    one_round(L, [[0]], r=np.array([[0.0]]))
    np.testing.assert_allclose(L.values[0, 0, 0], 0.25)


def test_ucb1_pulls_every_arm_once_then_uses_index():
    rng = np.random.default_rng(0)
    L = ag.UCB1(4, batch=50, n_agents=1)
    seen = []
    for t in range(4):
        a = L.act(rng)
        seen.append(a[:, 0])
        one_round(L, a, r=0.1 * a.astype(float))
    seen = np.stack(seen, 1)
    assert (np.sort(seen, 1) == np.arange(4)).all()
    assert len({tuple(s) for s in seen}) > 1  # random order across copies
    idx = L.index()
    np.testing.assert_allclose(idx[0, 0], 0.1 * np.arange(4) + np.sqrt(2 * np.log(4) / 1))
    assert (L.act(rng) == 3).all()


# ---------------------------------------------------------------- Q-learning
def test_q_learning_stateless_update():
    rng = np.random.default_rng(0)
    L = ag.QLearning(3, batch=1, n_agents=1, alpha=0.5, schedule="constant", epsilon=0.0)
    one_round(L, [[1]], r=np.array([[0.8]]))
    np.testing.assert_allclose(L.Q[0, 0, 0], [0, 0.4, 0])
    assert (L.act(rng) == 1).all()
    L = ag.QLearning(3, batch=1, n_agents=1, alpha=0.5, discount=0.5, q_init=0.2)
    one_round(L, [[1]], r=np.array([[0.8]]))  # s' = s = 0: 0.2 + 0.5 (0.8 + 0.5 * 0.2 - 0.2)
    np.testing.assert_allclose(L.Q[0, 0, 0], [0.2, 0.55, 0.2])


def test_q_learning_with_states_and_next_state():
    rng = np.random.default_rng(0)
    L = ag.QLearning(
        2,
        batch=1,
        n_agents=2,
        n_states=3,
        alpha=0.5,
        discount=0.9,
        schedule="constant",
        epsilon=0.0,
        utility_range=(0, 2),
    )
    L.Q[0, 0, 2] = [0.0, 1.0]
    L.Q[0, 1, 0] = [0.4, 0.2]
    s = {"state": np.array([[1, 1]])}
    a = L.act(rng, s)
    one_round(L, a, r=np.array([[1.0, 2.0]]), context={"next_state": np.array([[2, 0]])})
    q0 = 0.5 * (0.5 + 0.9 * 1.0)
    q1 = 0.5 * (1.0 + 0.9 * 0.4)
    np.testing.assert_allclose(L.Q[0, 0, 1, a[0, 0]], q0)
    np.testing.assert_allclose(L.Q[0, 1, 1, a[0, 1]], q1)
    # deferred: without next_state the update completes at the next act with its state
    L2 = ag.QLearning(
        2,
        batch=1,
        n_agents=2,
        n_states=3,
        alpha=0.5,
        discount=0.9,
        schedule="constant",
        epsilon=0.0,
        utility_range=(0, 2),
    )
    L2.Q[0, 0, 2] = [0.0, 1.0]
    L2.Q[0, 1, 0] = [0.4, 0.2]
    a2 = L2.act(np.random.default_rng(0), s)
    one_round(L2, a2, r=np.array([[1.0, 2.0]]))
    L2.act(rng, {"state": np.array([[2, 0]])})
    np.testing.assert_allclose(L2.Q, L.Q)


def test_q_learning_exploration_schedule():
    L = ag.QLearning(4, batch=1, n_agents=1, beta=0.1)
    np.testing.assert_allclose(L.current_epsilon(), np.exp(-0.1))
    np.testing.assert_allclose(L.policy[0, 0], np.exp(-0.1) / 4 + (1 - np.exp(-0.1)) / 4)


# ---------------------------------------------------------------- policy gradient
def test_softmax_pg_bandit_step_by_hand():
    L = ag.SoftmaxPolicyGradient(3, batch=1, n_agents=1, lr=0.1, baseline_lr=0.01)
    one_round(L, [[2]], r=np.array([[1.0]]))
    pi = np.full(3, 1 / 3)
    np.testing.assert_allclose(L.theta[0, 0], 0.1 * 1.0 * (np.eye(3)[2] - pi))
    np.testing.assert_allclose(L.baseline, 0.01)


def test_softmax_pg_expected_and_entropy():
    L = ag.SoftmaxPolicyGradient(2, batch=1, n_agents=1, lr=1.0, update="expected", entropy=0.5)
    assert L.feedback == "full"
    L.theta[0, 0] = [np.log(3.0), 0.0]  # pi = [0.75, 0.25]
    U = np.array([[[0.0, 1.0]]])
    one_round(L, [[0]], U)
    pi = np.array([0.75, 0.25])
    g = pi * (U[0, 0] - pi @ U[0, 0])
    H = -(pi * np.log(pi)).sum()
    g += 0.5 * (-pi * (np.log(pi) + H))
    np.testing.assert_allclose(L.theta[0, 0], [np.log(3.0), 0.0] + g)


# ---------------------------------------------------------------- baselines
def test_baselines():
    rng = np.random.default_rng(0)
    t = ag.Truthful([3, 4], batch=2)
    np.testing.assert_array_equal(t.act(rng, {"truthful": np.array([[2, 3], [0, 1]])}), [[2, 3], [0, 1]])
    np.testing.assert_array_equal(t.policy[0, 1], [0, 0, 0, 1])
    with pytest.raises(ValueError, match="truthful"):
        t.act(rng)
    with pytest.raises(ValueError, match=r"context\['truthful'\]"):
        t.act(rng, {"truthful": np.array([[3, 3], [0, 1]])})  # 3 >= K_0
    c = ag.Constant(5, batch=2, n_agents=3, action=4)
    assert (c.act(rng) == 4).all() and (c.policy[..., 4] == 1).all()
    with pytest.raises(ValueError, match="action"):
        ag.Constant([5, 3], batch=1, action=3)
    u = ag.UniformRandom([2, 6], batch=1)
    np.testing.assert_allclose(u.policy[0, 0], [0.5, 0.5, 0, 0, 0, 0])


def test_q_learning_configurable_state_key():
    rng = np.random.default_rng(0)
    L = ag.QLearning(
        2, batch=1, n_agents=1, n_states=4, state_key="value_bin", schedule="constant", epsilon=0.0, alpha=1.0
    )
    a = L.act(rng, {"value_bin": np.array([[3]])})
    one_round(L, a, r=np.array([[0.7]]))
    np.testing.assert_allclose(L.Q[0, 0, 3, a[0, 0]], 0.7)
    assert (L.Q[0, 0, :3] == 0).all()
    with pytest.raises(ValueError, match="value_bin"):
        L.act(rng, {"state": np.array([[1]])})
