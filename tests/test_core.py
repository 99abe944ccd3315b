"""Core contracts: generic deviation utilities, RepeatedGame, validation, registry, seeding."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim.core import BatchedEnv, MechanismGame, Outcome, Registry, RepeatedGame, derived_seed, seed_sequence
from coopsim.core.validation import as_array, check_bool, check_distribution, check_float, check_int


class MeanGame(MechanismGame):
    """Toy game: outcome is the mean report; utility 1 - |y - t_i| (non-strategyproof)."""

    def __init__(self, n: int = 3) -> None:
        self.n_agents = n

    def sample_types(self, rng, batch):
        return rng.random((batch, self.n_agents))

    def play(self, types, actions):
        actions = self.check_actions(actions)
        y = actions.mean(axis=1)
        return Outcome(1 - np.abs(y[:, None] - types), public=("location",), location=y)


def brute_deviation(game, types, actions, cand):
    B, N = actions.shape
    out = np.empty((B, N, len(cand)))
    for b in range(B):
        for i in range(N):
            for k, c in enumerate(cand):
                a = actions[b].copy()
                a[i] = c
                out[b, i, k] = game.play(types[b][None], a[None]).utility[0, i]
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_generic_deviation_utilities_match_brute_force(n, B, K, seed):
    rng = np.random.default_rng(seed)
    g = MeanGame(n)
    types, acts, cand = rng.random((B, n)), rng.random((B, n)), rng.random(K)
    U = g.deviation_utilities(types, acts, cand)
    assert U.shape == (B, n, K)
    np.testing.assert_allclose(U, brute_deviation(g, types, acts, cand), atol=1e-12)
    # per-agent candidates (N, K) broadcast the same way
    per_agent = np.broadcast_to(cand, (n, K))
    np.testing.assert_array_equal(g.deviation_utilities(types, acts, per_agent), U)


def test_deviation_at_played_action_equals_realised_utility():
    rng = np.random.default_rng(0)
    g = MeanGame(4)
    types, acts = rng.random((5, 4)), rng.random((5, 4))
    U = g.deviation_utilities(types, acts, acts[0])  # candidate k = agent k's action in copy 0
    real = g.play(types, acts).utility
    np.testing.assert_allclose(U[0, np.arange(4), np.arange(4)], real[0], atol=1e-15)


def test_bad_candidates_shape():
    g = MeanGame(2)
    with pytest.raises(ValueError, match="candidates"):
        g.deviation_utilities(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 1, 1, 1)))


def test_check_actions_errors_name_parameter():
    g = MeanGame(2)
    with pytest.raises(ValueError, match=r"reports: expected values <= 1.0"):
        g.check_actions([[0.5, 1.5]], "reports")
    with pytest.raises(ValueError, match="finite"):
        g.check_actions([[0.5, np.nan]])
    with pytest.raises(ValueError, match=r"expected shape \(B, 2\)"):
        g.check_actions([0.5, 0.5])


def test_repeated_game_episode_and_redraw():
    env = RepeatedGame(MeanGame(3), rounds=4, batch_size=5, redraw="round")
    obs, _ = env.reset(seed=1)
    assert obs.shape == (5, 3, 3) and obs.dtype == np.float32
    first_types = env.types.copy()
    for t in range(4):
        obs, r, term, trunc, info = env.step(env.default_actions())
        assert r.shape == (5, 3) and term.shape == (5, 3)
        assert trunc.all() == (t == 3)
        np.testing.assert_allclose(info["metrics"]["mean_utility"], r.mean(axis=1))
    assert not np.array_equal(first_types, env.types)
    with pytest.raises(RuntimeError):
        env.step(env.default_actions())


def test_repeated_game_reset_mask_only_touches_masked_copies():
    env = RepeatedGame(MeanGame(2), rounds=3, batch_size=4)
    env.reset(seed=3)
    env.step(env.default_actions())
    before = env.types.copy()
    mask = np.array([True, False, True, False])
    env.reset(options={"reset_mask": mask})
    assert np.array_equal(env.types[~mask], before[~mask])
    assert not np.array_equal(env.types[mask], before[mask])
    assert env.t.tolist() == [0, 1, 0, 1]


def test_repeated_game_grid_actions():
    env = RepeatedGame(MeanGame(2), rounds=2, batch_size=3, action_mode="grid", grid_size=11)
    env.reset(seed=0)
    idx = env.default_actions()
    assert idx.dtype.kind == "i" and idx.shape == (3, 2)
    np.testing.assert_allclose(env.grid[idx], env.types, atol=0.05 + 1e-12)
    with pytest.raises(ValueError, match="actions"):
        env.step(np.full((3, 2), 11))


class CountingGame(MeanGame):
    """MeanGame that counts validations of types and actions (and has an unchecked ``_play``)."""

    def __init__(self, n: int = 2) -> None:
        super().__init__(n)
        self.type_checks = self.action_checks = 0

    def check_types(self, types, name="types"):
        self.type_checks += 1
        return super().check_types(types, name)

    def check_actions(self, actions, name="actions"):
        self.action_checks += 1
        return super().check_actions(actions, name)

    def _play(self, types, actions):
        y = actions.mean(axis=1)
        return Outcome(1 - np.abs(y[:, None] - types), public=("location",), location=y)


def test_repeated_game_step_validates_the_actions_once_and_not_its_own_types():
    game = CountingGame(2)
    env = RepeatedGame(game, rounds=3, batch_size=4, metrics="none")
    env.reset(seed=0)
    game.type_checks = game.action_checks = 0  # construction plays once to size the public signal
    _, r, *_ = env.step(np.full((4, 2, 1), 0.5))
    assert (game.action_checks, game.type_checks) == (1, 0)
    np.testing.assert_allclose(r, 1 - np.abs(0.5 - env.types))
    with pytest.raises(ValueError, match=r"actions: expected batch size 4, got 1"):
        env.step(np.full((1, 2), 0.5))  # would broadcast against the (4, 2) types
    with pytest.raises(ValueError, match=r"actions: expected values <= 1.0"):
        env.step(np.full((4, 2), 1.5))


def test_repeated_game_same_seed_same_trajectory():
    def run(seed):
        env = RepeatedGame(MeanGame(3), rounds=5, batch_size=2, redraw="round")
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for _ in range(5):
            out.append(env.step(env.default_actions())[0])
        return np.stack(out)

    assert np.array_equal(run(7), run(7))
    assert not np.array_equal(run(7), run(8))


def test_validation_helpers():
    assert check_int(3, "k", lo=1) == 3
    with pytest.raises(TypeError, match="k: expected an integer"):
        check_int(2.5, "k")
    with pytest.raises(ValueError, match="eta: expected a number > 0"):
        check_float(0.0, "eta", lo=0.0, lo_open=True)
    with pytest.raises(ValueError, match="prior: expected probabilities summing to 1"):
        check_distribution([0.5, 0.6], "prior")
    with pytest.raises(TypeError, match="x: expected a numeric array"):
        as_array("abc", "x")


def test_registry_unknown_name_and_bad_params():
    reg = Registry("thing")

    @reg.register("a")
    class A:
        def __init__(self, k: int = 1):
            self.k = k

    assert reg.get("a", k=2).k == 2
    with pytest.raises(ValueError, match=r"unknown name 'b'; expected one of \['a'\]"):
        reg.get("b")
    with pytest.raises(TypeError, match="unknown parameter 'q' for thing 'a'"):
        reg.get("a", q=1)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a", lambda: None)


def test_seeding_is_order_independent():
    s1 = derived_seed(1, {"a": 1, "b": [1, 2]}).generate_state(4)
    s2 = derived_seed(1, {"b": [1, 2], "a": 1}).generate_state(4)
    assert np.array_equal(s1, s2)
    assert not np.array_equal(s1, derived_seed(2, {"a": 1, "b": [1, 2]}).generate_state(4))
    with pytest.raises(ValueError, match="seed"):
        seed_sequence(-1)


class CounterEnv(BatchedEnv):
    """Toy env: each copy counts the ego's actions; the ego terminates at 3. Obs = count."""

    metadata = {"render_modes": []}

    def __init__(self, batch_size):
        import gymnasium as gym

        self.batch_size, self.n_agents, self.horizon = batch_size, 2, 100
        self._obs, self._act = gym.spaces.Box(0, 100, (1,), np.float32), gym.spaces.Discrete(2)
        self.count = np.zeros(batch_size)

    def observation_space(self, agent):
        return self._obs

    def action_space(self, agent):
        return self._act

    def _o(self):
        return np.repeat(self.count[:, None, None], 2, axis=1).astype(np.float32)

    def reset(self, seed=None, options=None):
        mask = np.ones(self.batch_size, bool) if not options else options["reset_mask"]
        self.count[mask] = 0
        return self._o(), {}

    def step(self, actions):
        self.count += actions[:, 0]
        done = np.repeat((self.count >= 3)[:, None], 2, axis=1)
        return self._o(), np.repeat(self.count[:, None], 2, axis=1), done, np.zeros_like(done), {}

    def default_actions(self):
        return np.zeros((self.batch_size, 2), dtype=np.int64)


def test_vector_view_autoresets_copies_that_end_at_different_times():
    from coopsim.interop import SingleAgentVectorEnv

    venv = SingleAgentVectorEnv(CounterEnv(2))
    venv.reset(seed=0)
    steps = [np.array([1, 0]), np.array([1, 1]), np.array([1, 1]), np.array([1, 1]), np.array([1, 1])]
    got = [venv.step(a) for a in steps]
    # copy 0 reaches 3 on the third call, copy 1 (0 + 1 + 1 + 1) on the fourth
    assert [bool(g[2][0]) for g in got] == [False, False, True, False, False]
    assert [bool(g[2][1]) for g in got] == [False, False, False, True, False]
    # NEXT_STEP: the call after copy 0 ended resets it (obs 0, reward 0, action ignored), copy 1 plays on
    obs, reward, term, trunc, _ = got[3]
    assert obs[0, 0] == 0 and reward[0] == 0 and not term[0]
    assert obs[1, 0] == 3 and reward[1] == 3 and term[1]  # copy 1 is not disturbed by copy 0's restart
    assert got[4][0][0, 0] == 1 and got[4][1][0] == 1  # copy 0 counts again from 0
    assert got[4][0][1, 0] == 0 and got[4][1][1] == 0  # copy 1's restart call


def test_every_registered_mechanism_claims_known_properties():
    from coopsim.mechanisms.base import KNOWN_CLAIMS

    from coopsim import mechanisms

    for name in mechanisms.available():
        claims = getattr(mechanisms.registry.factory(name), "claims", None)
        if isinstance(claims, frozenset):  # instance-dependent claims are checked per family
            assert claims <= KNOWN_CLAIMS, (name, claims - KNOWN_CLAIMS)


def test_check_bool_accepts_only_booleans():
    assert check_bool(True, "flag") is True and check_bool(np.bool_(False), "flag") is False
    for bad in ("false", 0, 1.0, None):
        with pytest.raises(TypeError, match="flag: expected True or False"):
            check_bool(bad, "flag")


def test_check_action_indices_shapes_dtypes_and_per_agent_ranges():
    from coopsim.core.validation import check_action_indices

    out = check_action_indices(np.array([[0, 2], [1, 0]]), 2, 2, [2, 3])
    assert out.dtype == np.int64 and out.tolist() == [[0, 2], [1, 0]]
    assert check_action_indices(np.array([[[1.0], [2.0]]]), 1, 2, 3).tolist() == [[1, 2]]  # (B, N, 1) floats
    with pytest.raises(ValueError, match=r"actions: expected agent 0's action in \[0, 1\], got 2"):
        check_action_indices([[2, 0]], 1, 2, [2, 3])
    with pytest.raises(ValueError, match=r"moves: expected integer action indices of shape \(1, 2\)"):
        check_action_indices([[0, 0, 0]], 1, 2, 3, name="moves")
    with pytest.raises(TypeError, match="actions: expected integer action indices"):
        check_action_indices([[0.5, 1.0]], 1, 2, 3)
