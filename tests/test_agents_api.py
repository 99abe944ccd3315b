"""coopsim.agents interface: validation errors, masks, registry, reproducibility, independence."""

from __future__ import annotations

import numpy as np
import pytest

import coopsim.agents as ag

PUBLIC = [
    "Hedge",
    "Exp3",
    "Exp3IX",
    "RegretMatching",
    "RegretMatchingPlus",
    "ConditionalRegretMatching",
    "FictitiousPlay",
    "BestResponse",
    "EpsilonGreedy",
    "UCB1",
    "QLearning",
    "SoftmaxPolicyGradient",
    "Truthful",
    "Constant",
    "UniformRandom",
]
NAMES = ag.registry.names()


def make(name, k, batch, n_agents=None):
    kw = {"horizon": 50} if name in ("hedge", "exp3", "exp3_ix") else {}
    if name == "q_learning":
        kw = {"beta": 0.05}
    return ag.get(name, n_actions=k, batch=batch, n_agents=n_agents, **kw)


def drive(L, T, seed, reward_fn, B, N):
    """Play T rounds against a fixed random utility table; returns the (T, B, N) actions."""
    rng = np.random.default_rng(seed)
    table_rng = np.random.default_rng(1234)
    out = []
    for t in range(T):
        ctx = {"truthful": np.zeros((B, N), dtype=np.int64), "state": np.zeros((B, N), dtype=np.int64)}
        a = L.act(rng, ctx)
        U = table_rng.random((B, N, L.K))
        U = reward_fn(t, U)
        r = np.take_along_axis(U, a[..., None], -1)[..., 0]
        L.update(a, r, full=U if L.feedback == "full" else None, context=ctx)
        out.append(a)
    return np.stack(out)


def test_public_names_exported():
    for name in PUBLIC:
        cls = getattr(ag, name)
        assert issubclass(cls, ag.Learner)
        assert cls.feedback in ("full", "bandit", "none")
    assert {
        "hedge",
        "exp3",
        "exp3_ix",
        "regret_matching",
        "rm_plus",
        "conditional_regret_matching",
        "fictitious_play",
        "smooth_fictitious_play",
        "best_response",
        "epsilon_greedy",
        "ucb1",
        "q_learning",
        "softmax_pg",
        "truthful",
        "constant",
        "uniform_random",
    } <= set(NAMES)
    assert isinstance(ag.get("exp3_ix", n_actions=3), ag.Exp3IX)
    with pytest.raises(ValueError, match="unknown name 'nope'"):
        ag.get("nope", n_actions=3)
    with pytest.raises(TypeError, match="unknown parameter 'learning_rate' for learner 'hedge'"):
        ag.get("hedge", n_actions=3, learning_rate=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_trajectory_bit_for_bit(name):
    B, N = 3, 2
    ident = lambda t, U: U  # noqa: E731
    a1 = drive(make(name, [4, 3], B), 30, 11, ident, B, N)
    L2 = make(name, [4, 3], B)
    a2 = drive(L2, 30, 11, ident, B, N)
    np.testing.assert_array_equal(a1, a2)
    L3 = make(name, [4, 3], B)
    drive(L3, 30, 11, ident, B, N)
    np.testing.assert_array_equal(L2.average_policy, L3.average_policy)  # bit-identical floats
    if name not in ("constant", "truthful"):
        a3 = drive(make(name, [4, 3], B), 30, 12, ident, B, N)
        assert not np.array_equal(a1, a3)


@pytest.mark.parametrize("name", NAMES)
def test_copy_trajectory_independent_of_other_copies(name):
    """Changing copy 1's rewards never changes copy 0's actions (fixed-shape draws, spec §2)."""
    B, N = 2, 2
    ident = lambda t, U: U  # noqa: E731

    def perturb(t, U):
        U = U.copy()
        U[1] = 1.0 - U[1]
        return U

    a = drive(make(name, 4, B, N), 40, 5, ident, B, N)
    b = drive(make(name, 4, B, N), 40, 5, perturb, B, N)
    np.testing.assert_array_equal(a[:, 0], b[:, 0])


def test_copies_are_statistically_independent():
    rng = np.random.default_rng(0)
    L = ag.Hedge(5, batch=2, n_agents=2)
    a = np.stack([L.act(rng) for _ in range(20_000)])  # uniform policy: P(equal) = 1/5
    np.testing.assert_allclose((a[:, 0, 0] == a[:, 1, 0]).mean(), 0.2, atol=0.015)
    np.testing.assert_allclose((a[:, 0, 0] == a[:, 0, 1]).mean(), 0.2, atol=0.015)
    np.testing.assert_allclose(np.corrcoef(a[:, 0, 0], a[:, 1, 1])[0, 1], 0.0, atol=0.03)


@pytest.mark.parametrize("name", NAMES)
def test_masked_actions_never_played_and_zero_probability(name):
    B, k_i = 64, [1, 3, 6]
    L = make(name, k_i, B)
    rng = np.random.default_rng(3)
    for t in range(25):
        ctx = {"truthful": np.zeros((B, 3), dtype=np.int64), "state": np.zeros((B, 3), dtype=np.int64)}
        a = L.act(rng, ctx)
        assert (a < np.array(k_i)).all() and (a >= 0).all()
        assert (a[:, 0] == 0).all()
        U = rng.random((B, 3, 6)) + 10.0 * ~L.mask  # padded entries look attractive
        r = np.take_along_axis(U, a[..., None], -1)[..., 0]
        L.update(a, r, full=U if L.feedback == "full" else None, context=ctx)
        pad = ~np.broadcast_to(L.mask, L.shape)
        assert (L.policy[pad] == 0).all() and (L.average_policy[pad] == 0).all()
        np.testing.assert_allclose(L.policy.sum(-1), 1.0)


# ---------------------------------------------------------------- bad input
def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="n_actions"):
        ag.Hedge(0)
    with pytest.raises(ValueError, match=r"n_actions\[1\]"):
        ag.Hedge([3, 0])
    with pytest.raises(TypeError, match="n_actions"):
        ag.Hedge(2.5)
    with pytest.raises(ValueError, match="eta"):
        ag.Hedge(3, eta=0.0)
    with pytest.raises(ValueError, match="eta"):
        ag.Hedge(3, eta=-1.0)
    with pytest.raises(ValueError, match="eta"):
        ag.Exp3IX(3, eta=0)
    with pytest.raises(ValueError, match="lr"):
        ag.SoftmaxPolicyGradient(3, lr=0)
    with pytest.raises(ValueError, match="alpha"):
        ag.QLearning(3, alpha=0)
    with pytest.raises(ValueError, match="discount"):
        ag.QLearning(3, discount=1.0)
    with pytest.raises(ValueError, match="gamma"):
        ag.Exp3(3, gamma=0.0)
    with pytest.raises(ValueError, match="utility_range"):
        ag.Hedge(3, utility_range=(1, 1))
    with pytest.raises(ValueError, match="temperature"):
        ag.FictitiousPlay(3, temperature=0)
    with pytest.raises(ValueError, match="mode"):
        ag.BestResponse(3, mode="gauss")
    with pytest.raises(ValueError, match="n_agents"):
        ag.Hedge([2, 3], n_agents=3)
    with pytest.raises(ValueError, match="horizon"):
        ag.Hedge(3, horizon=0)
    with pytest.raises(RuntimeError, match="bind"):
        ag.Hedge(3).act(np.random.default_rng(0))


def test_bad_update_inputs():
    L = ag.Hedge(3, batch=2, n_agents=2)
    a = np.zeros((2, 2), dtype=np.int64)
    U = np.zeros((2, 2, 3))
    r = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"rewards: expected shape \(2, 2\)"):
        L.update(a, np.zeros((2, 3)), full=U)
    with pytest.raises(ValueError, match="rewards: expected finite"):
        L.update(a, np.array([[0.0, np.nan], [0, 0]]), full=U)
    with pytest.raises(ValueError, match=r"full: expected shape \(2, 2, 3\)"):
        L.update(a, r, full=np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="full: expected finite"):
        L.update(a, r, full=np.where(np.arange(3) == 1, np.inf, U))
    with pytest.raises(ValueError, match="full: Hedge is a full-information learner"):
        L.update(a, r)
    with pytest.raises(ValueError, match=r"actions: expected indices in \[0, K_i\)"):
        L.update(np.array([[0, 3], [0, 0]]), r, full=U)
    with pytest.raises(ValueError, match="actions"):
        L.update(np.array([[0, -1], [0, 0]]), r, full=U)
    with pytest.raises(TypeError, match="actions: expected integer"):
        L.update(a.astype(float), r, full=U)
    with pytest.raises(ValueError, match=r"actions: expected shape"):
        L.update(np.zeros(2, dtype=np.int64), r, full=U)
    with pytest.raises(TypeError, match="rng"):
        L.act(0)
    with pytest.raises(TypeError, match="context"):
        L.act(np.random.default_rng(0), context=[1])
    assert L.t == 0  # nothing was applied
    bandit = ag.Exp3IX(3, batch=2, n_agents=2)
    with pytest.raises(ValueError, match="full: Exp3IX is a bandit learner"):
        bandit.update(a, r, full=U)
    with pytest.raises(ValueError, match="actions"):
        ag.Exp3IX([2, 3], batch=2).update(np.array([[2, 0], [0, 0]]), r)  # K_0 = 2
    q = ag.QLearning(3, batch=2, n_agents=2, n_states=4)
    with pytest.raises(ValueError, match=r"context\['state'\]"):
        q.act(np.random.default_rng(0), {"state": np.full((2, 2), 4)})
    with pytest.raises(ValueError, match="state"):
        q.act(np.random.default_rng(0))


def test_rebind_resets_state():
    L = ag.Hedge(3, batch=2, n_agents=1)
    L.update(np.zeros((2, 1), dtype=np.int64), np.zeros((2, 1)), full=np.ones((2, 1, 3)))
    assert L.t == 1
    assert L.bind(5, 4) is L
    assert L.shape == (5, 4, 3) and L.t == 0 and (L.S == 0).all()


def test_utility_range_rescaling_is_equivalent():
    """Raw utilities in [lo, hi] with utility_range give the same play as pre-rescaled [0, 1]."""
    rng_u = np.random.default_rng(0)
    Us = rng_u.random((20, 4, 2, 5))
    for name in [
        "hedge",
        "exp3_ix",
        "regret_matching",
        "rm_plus",
        "softmax_pg",
        "epsilon_greedy",
        "ucb1",
        "conditional_regret_matching",
        "smooth_fictitious_play",
        "q_learning",
        "exp3",
    ]:
        A = make(name, 5, 4, 2)
        hp = A.hyperparameters()
        if name == "q_learning":
            hp["q_init"] = -3.0  # q_init is in raw units: raw lo maps to 0 on the [0, 1] scale
        B = ag.get(name, n_actions=5, batch=4, n_agents=2, utility_range=(-3.0, 5.0), **hp)
        ra, rb = np.random.default_rng(1), np.random.default_rng(1)
        for U in Us:
            a, b = A.act(ra), B.act(rb)
            np.testing.assert_array_equal(a, b, err_msg=name)
            for L, X in ((A, U), (B, -3.0 + 8.0 * U)):
                r = np.take_along_axis(X, a[..., None], -1)[..., 0]
                L.update(a, r, full=X if L.feedback == "full" else None)
        np.testing.assert_allclose(A.policy, B.policy, rtol=1e-9, atol=1e-12, err_msg=name)


def test_static_rules_no_global_random_no_per_row_choice_no_torch():
    """Spec §9 L17/L19: learners never use np.random.* global state, rng.choice, or torch."""
    import pathlib
    import subprocess
    import sys

    pkg = pathlib.Path(ag.__file__).parent
    for path in pkg.glob("*.py"):
        src = path.read_text()
        assert ".choice(" not in src, path
        for bad in ("np.random.rand", "np.random.seed", "np.random.normal", "np.random.uniform", "np.random.randint"):
            assert bad not in src, (path, bad)
        assert "import torch" not in src and "gymnasium" not in src and "coopsim.envs" not in src, path
    code = "import sys, coopsim.agents; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_set_utility_range_resets_and_rescales():
    L = ag.Exp3IX(3, batch=1, n_agents=1, eta=1.0, gamma=0.0)
    L.update(np.zeros((1, 1), dtype=np.int64), np.ones((1, 1)))
    assert L.set_utility_range(-1.0, 3.0) is L
    assert L.t == 0 and (L.L == 0).all() and L.utility_range == (-1.0, 3.0)
    L.update(np.zeros((1, 1), dtype=np.int64), np.array([[0.0]]))  # rescaled 0.25, loss 0.75
    np.testing.assert_allclose(L.L[0, 0], [0.75 / (1 / 3), 0, 0])
    with pytest.raises(ValueError, match="utility_range"):
        L.set_utility_range(2.0, 2.0)
