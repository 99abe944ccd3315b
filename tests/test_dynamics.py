"""coopsim.dynamics.run: plumbing, metrics against brute force, reproducibility, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from coopsim.envs import matrix_games as mg
from coopsim.envs.facility_location import FacilityLocation
from coopsim.mechanisms import get as get_mechanism

from coopsim import agents
from coopsim.analysis import ce_gap
from coopsim.dynamics import DynamicsResult, run


class Spy(agents.UniformRandom):
    """Uniform random play that records what the runner passes to update()."""

    def __init__(self, *a, feedback="bandit", **k):
        super().__init__(*a, **k)
        self.feedback = feedback
        self.calls = []

    def update(self, actions, rewards, full=None, context=None):
        self.calls.append((None if full is None else np.array(full), None if context is None else dict(context)))
        super().update(actions, rewards, full, context)


# -- regret bookkeeping against brute force -----------------------------------------------------
def test_regret_and_swap_regret_match_brute_force_on_a_matrix_game():
    g = mg.shapley()
    T, B = 200, 3
    res = run(g, agents.Hedge(3, horizon=T), rounds=T, batch=B, seed=1, keep_history=True, record_every=50)
    A = res.history["actions"]  # (T, B, 2)
    P = g.payoff_tensor
    for b in range(B):
        for i in range(2):
            cum = np.zeros(3)
            real = 0.0
            swap = np.zeros((3, 3))
            for t in range(T):
                a = A[t, b]
                for k in range(3):
                    prof = list(a)
                    prof[i] = k
                    cum[k] += P[(i, *prof)]
                    swap[a[i], k] += P[(i, *prof)] - P[(i, *a)]
                real += P[(i, *a)]
            assert res["regret"][-1, b, i] == pytest.approx((cum.max() - real) / T, abs=1e-12)
            assert res["swap_regret"][-1, b, i] == pytest.approx(swap.max(axis=1).sum() / T, abs=1e-12)
        # the online CE gap equals the exact CE gap of the empirical joint distribution of play
        joint = np.zeros((3, 3))
        np.add.at(joint, (A[:, b, 0], A[:, b, 1]), 1.0 / T)
        assert res["ce_gap"][-1, b] == pytest.approx(ce_gap(g, joint), abs=1e-12)
    np.testing.assert_array_equal(res.rounds, [50, 100, 150, 200])
    assert res["cce_gap"].shape == (4, B)
    np.testing.assert_allclose(res["cce_gap"], res["regret"].max(axis=2))
    # expected regret uses <p_t, U_t>: with a deterministic learner it equals the realised one
    np.testing.assert_allclose(res.empirical_policy.sum(axis=2), 1.0)


def test_expected_regret_equals_realised_for_pure_policies():
    g = mg.prisoners_dilemma()
    res = run(g, agents.Constant(2, action=1), rounds=30, batch=2, seed=0)
    np.testing.assert_allclose(res["regret"], res["regret_expected"], atol=1e-12)
    # always defecting is a dominant strategy: zero regret
    np.testing.assert_allclose(res["regret"], 0.0, atol=1e-12)


# -- feedback modes ----------------------------------------------------------------------------
def test_bandit_learners_never_receive_deviation_utilities_but_regret_is_reported():
    g = mg.rock_paper_scissors()
    spy_b = Spy(3, feedback="bandit")
    spy_f = Spy(3, feedback="full")
    res = run(g, {0: spy_b, 1: spy_f}, rounds=20, batch=4, seed=0)
    assert all(full is None for full, _ in spy_b.calls)
    assert all(full is not None and full.shape == (4, 1, 3) for full, _ in spy_f.calls)
    assert res["regret"].shape == (20, 4, 2) and np.all(res["swap_regret"] >= 0)
    assert np.all(res["regret"] <= res["swap_regret"] + 1e-12)  # external <= swap regret
    # feedback="bandit" withholds U from everyone
    spy_f2 = Spy(3, feedback="full")
    with pytest.raises(ValueError, match="full-information"):
        run(g, spy_f2, rounds=2, batch=1, seed=0, feedback="bandit")
    spy_b2 = Spy(3, feedback="bandit")
    run(g, spy_b2, rounds=5, batch=2, seed=0, feedback="bandit")
    assert all(full is None for full, _ in spy_b2.calls)
    res = run(g, agents.Exp3IX(3, horizon=50), rounds=50, batch=2, seed=0, feedback="bandit")
    assert "regret" in res and "regret_expected" in res


# -- mixed populations and contexts ---------------------------------------------------------------
def test_truthful_and_learning_agents_mix_on_the_facility_game():
    game = FacilityLocation(n_agents=3, mechanism="average")
    K = 11
    res = run(
        game,
        {(0,): agents.Truthful(K), (1, 2): agents.Hedge(K, horizon=40)},
        rounds=40,
        batch=5,
        seed=3,
        grid=K,
        reference="truthful",
        keep_history=True,
    )
    grid = np.linspace(0, 1, K)
    truth_idx = np.abs(res.types[:, :, None] - grid).argmin(axis=2)
    np.testing.assert_array_equal(res.history["actions"][:, :, 0], np.broadcast_to(truth_idx[:, 0], (40, 5)))
    assert res.config["groups"] == [[[0], "Truthful"], [[1, 2], "Hedge"]]
    # the scalar outcome field of the facility game is found automatically
    assert res.config["outcome_field"] == "location"
    for name in (
        "location",
        "SW",
        "report_distance",
        "report_within_step",
        "outcome_distance",
        "avg_outcome_distance",
        "reward",
    ):
        assert name in res, name
    # report distance recomputed from the history (window average over each round: record_every=1)
    x = grid[res.history["actions"]]
    np.testing.assert_allclose(res["report_distance"], np.abs(x - res.types).mean(axis=2), atol=1e-12)


def test_truthful_population_has_zero_distance_and_zero_regret_under_uniform_phantom():
    game = FacilityLocation(n_agents=4, mechanism="uniform_phantom")
    K = 101
    grid = np.linspace(0, 1, K)
    rng = np.random.default_rng(0)
    types = grid[rng.integers(0, K, (6, 4))]  # peaks on the grid: truthful play is exact
    res = run(game, agents.Truthful(K), rounds=10, batch=6, seed=0, grid=K, types=types, reference="truthful")
    np.testing.assert_allclose(res["report_distance"], 0.0, atol=1e-15)
    np.testing.assert_allclose(res["outcome_distance"], 0.0, atol=1e-15)
    np.testing.assert_array_equal(res["report_within_step"], 1.0)
    # strategy-proof: truthful reporting has zero external regret in every round
    assert np.all(res["regret"] <= 1e-12)


def test_reference_profile_and_reference_outcome():
    game = FacilityLocation(n_agents=3, mechanism="average")
    peaks = np.array([[0.1, 0.2, 0.9]])
    eq = np.array([[0.0, 0.0, 1.0]])  # equilibrium reports under AVG (facility spec §7)
    up = get_mechanism("uniform_phantom")
    res = run(game, agents.Constant(11, action=0), rounds=3, batch=1, seed=0, grid=11, types=peaks, reference=eq)
    # everyone reports 0 -> location 0; the equilibrium outcome is 1/3 = UP(peaks)
    np.testing.assert_allclose(res["outcome_distance"], 1 / 3, atol=1e-12)
    np.testing.assert_allclose(res["report_distance"], 1 / 3, atol=1e-12)
    res2 = run(
        game,
        agents.Constant(11, action=0),
        rounds=3,
        batch=1,
        seed=0,
        grid=11,
        types=peaks,
        reference_outcome=lambda t: up(t),
    )
    np.testing.assert_allclose(res2["outcome_distance"], 1 / 3, atol=1e-12)
    assert "report_distance" not in res2


# -- reproducibility ---------------------------------------------------------------------------
def _trajectory(seed, batch=6, types=None):
    game = FacilityLocation(n_agents=3, mechanism="average")
    return run(
        game,
        {(0, 1): agents.Exp3IX(21, horizon=100), (2,): agents.Hedge(21, horizon=100)},
        rounds=100,
        batch=batch,
        seed=seed,
        grid=21,
        keep_history=True,
        redraw="round",
        reference="truthful",
        types=types,
    )


def test_same_seed_same_trajectories_bit_for_bit():
    a, b = _trajectory(7), _trajectory(7)
    for key in a.history:
        np.testing.assert_array_equal(a.history[key], b.history[key])
    for key in a.series:
        np.testing.assert_array_equal(a.series[key], b.series[key])
    np.testing.assert_array_equal(a.average_policy, b.average_policy)
    c = _trajectory(8)
    assert not np.array_equal(a.history["actions"], c.history["actions"])


def test_a_copys_trajectory_does_not_depend_on_other_copies():
    """L14: change copy 1's types (hence its actions); copy 0's trajectory is unchanged."""
    game = FacilityLocation(n_agents=3, mechanism="average")
    types = np.random.default_rng(0).random((3, 3))
    other = types.copy()
    other[1:] = 1.0 - other[1:]

    def go(ty):
        return run(
            game, agents.Exp3IX(21, horizon=200), rounds=200, batch=3, seed=11, grid=21, types=ty, keep_history=True
        )

    r1, r2 = go(types), go(other)
    np.testing.assert_array_equal(r1.history["actions"][:, 0], r2.history["actions"][:, 0])
    assert not np.array_equal(r1.history["actions"][:, 1:], r2.history["actions"][:, 1:])


def test_copies_are_independent_streams():
    """Identical copies (same types, same learner) draw independent actions: agreement ~ 1/K."""
    g = mg.rock_paper_scissors()
    res = run(g, agents.UniformRandom(3), rounds=3000, batch=2, seed=5, keep_history=True)
    A = res.history["actions"]
    agree = np.mean(A[:, 0] == A[:, 1])
    assert abs(agree - 1 / 3) < 0.04  # independent uniform draws agree w.p. 1/3 (sd ~0.006)
    # and within a copy, the two agents are independent too
    assert abs(np.mean(A[:, 0, 0] == A[:, 0, 1]) - 1 / 3) < 0.04


# -- result object -----------------------------------------------------------------------------
def test_to_frame_is_tidy_with_mean_and_stderr():
    g = mg.chicken()
    res = run(g, agents.RegretMatching(2), rounds=40, batch=5, seed=0, record_every=10)
    assert isinstance(res, DynamicsResult)
    df = res.to_frame()
    assert list(df.columns) == ["round", "metric", "agent", "value", "se", "n_copies"]
    sel = df[(df.metric == "regret") & (df.agent == 1) & (df["round"] == 40)]
    assert sel["value"].item() == pytest.approx(res["regret"][-1, :, 1].mean())
    assert sel["se"].item() == pytest.approx(res["regret"][-1, :, 1].std(ddof=1) / np.sqrt(5))
    cg = df[(df.metric == "cce_gap")]
    assert set(cg.agent) == {-1} and list(cg["round"]) == [10, 20, 30, 40]
    long = res.to_frame(per_copy=True)
    assert list(long.columns) == ["round", "metric", "agent", "copy", "value"]
    n_rows = sum(v.size for v in res.series.values())
    assert len(long) == n_rows
    assert isinstance(long, pd.DataFrame)
    np.testing.assert_allclose(res.mean("welfare"), res["welfare"].mean(axis=1))
    assert res.policy_snapshots.shape == (4, 5, 2, 2)
    np.testing.assert_allclose(res.policy_snapshots[-1], res.average_policy)
    with pytest.raises(KeyError, match="available"):
        res["nope"]


def test_record_every_window_averages_game_metrics():
    g = mg.prisoners_dilemma()
    res = run(g, agents.UniformRandom(2), rounds=10, batch=3, seed=2, record_every=4, keep_history=True)
    np.testing.assert_array_equal(res.rounds, [4, 8, 10])
    w = res.history["rewards"].sum(axis=2)  # welfare per round (T, B)
    np.testing.assert_allclose(res["welfare"], np.stack([w[0:4].mean(0), w[4:8].mean(0), w[8:10].mean(0)]))


def test_a_metric_reported_in_some_rounds_only_is_averaged_over_those_rounds_and_kept():
    """Only rounds >= 5 report ``late_welfare``: the window [1, 4] has no value (NaN), the windows
    [5, 8] and [9, 10] average over their rounds; the series is kept, not dropped."""

    class Sometimes(type(mg.prisoners_dilemma())):
        calls = 0

        def metrics(self, types, outcome):
            out = super().metrics(types, outcome)
            Sometimes.calls += 1
            if Sometimes.calls >= 5:
                out["late_welfare"] = out["welfare"]
            return out

    g = mg.prisoners_dilemma()
    g.__class__ = Sometimes
    res = run(g, agents.UniformRandom(2), rounds=10, batch=3, seed=2, record_every=4, keep_history=True)
    w = res.history["rewards"].sum(axis=2)
    late = res["late_welfare"]
    assert np.isnan(late[0]).all()
    np.testing.assert_allclose(late[1:], np.stack([w[4:8].mean(0), w[8:10].mean(0)]))
    np.testing.assert_allclose(res["welfare"][0], w[0:4].mean(0))


# -- validation --------------------------------------------------------------------------------
def test_bad_input_is_rejected():
    g = mg.rock_paper_scissors()
    h = agents.Hedge(3)
    with pytest.raises(ValueError, match="rounds"):
        run(g, h, rounds=0)
    with pytest.raises(ValueError, match="batch"):
        run(g, h, rounds=1, batch=0)
    with pytest.raises(ValueError, match="feedback"):
        run(g, h, rounds=1, feedback="partial")
    with pytest.raises(ValueError, match="redraw"):
        run(g, h, rounds=1, redraw="never")
    with pytest.raises(TypeError, match="game"):
        run("rps", h, rounds=1)
    with pytest.raises(ValueError, match="no learner"):
        run(g, {0: h}, rounds=1)
    with pytest.raises(ValueError, match="two groups"):
        run(g, {(0, 1): h, (1,): agents.Hedge(3)}, rounds=1)
    with pytest.raises(ValueError, match="out of range"):
        run(g, {(0, 1, 2): h}, rounds=1)
    with pytest.raises(ValueError, match="K = 4"):
        run(g, agents.Hedge(4), rounds=1)
    with pytest.raises(ValueError, match="grid"):
        run(g, h, rounds=1, grid=np.zeros((3, 3, 3)))
    with pytest.raises(TypeError, match="not a learner"):
        run(g, object(), rounds=1)
    with pytest.raises(ValueError, match="reference"):
        run(FacilityLocation(n_agents=2), agents.Hedge(5), rounds=1, grid=5, reference="equilibrium")
    with pytest.raises(ValueError, match="types"):
        run(FacilityLocation(n_agents=2), agents.Hedge(5), rounds=1, grid=5, types=np.full((1, 2), 2.0))


# -- exact identities on random normal-form games -------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from coopsim.analysis.equilibrium import cce_gap  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(st.integers(2, 3), st.integers(2, 3), st.integers(0, 2**31 - 1))
def test_online_gaps_equal_exact_gaps_of_the_empirical_joint_play(n_players, n_actions, seed):
    """CCE gap (max external regret / T) and CE gap (max swap regret / T) of the run equal the
    exact gaps of the empirical joint distribution of play, on random games."""
    rng = np.random.default_rng(seed)
    g = mg.MatrixGame(rng.normal(size=(n_players, *([n_actions] * n_players))))
    T, B = 60, 2
    res = run(
        g,
        agents.Hedge(n_actions, horizon=T, utility_range=g.utility_range),
        rounds=T,
        batch=B,
        seed=seed,
        keep_history=True,
        record_every=T,
    )
    A = res.history["actions"]
    for b in range(B):
        joint = np.zeros((n_actions,) * n_players)
        np.add.at(joint, tuple(A[:, b, i] for i in range(n_players)), 1.0 / T)
        # the analysis clips each player's gain at 0 (the deviation k = own action is allowed)
        assert max(res["cce_gap"][-1, b], 0.0) == pytest.approx(cce_gap(g, joint), abs=1e-10)
        assert res["ce_gap"][-1, b] == pytest.approx(ce_gap(g, joint), abs=1e-10)


def test_unequal_action_sets_with_a_per_agent_grid_and_masks():
    P = np.random.default_rng(0).normal(size=(2, 2, 3))
    g = mg.MatrixGame(P)
    res = run(
        g,
        agents.Hedge((2, 3), horizon=200, utility_range=g.utility_range),
        rounds=200,
        batch=4,
        seed=0,
        grid=g.action_grid(3),
        keep_history=True,
    )
    assert res.history["actions"][:, :, 0].max() <= 1  # agent 0 has 2 actions: never the padding
    assert res.history["actions"][:, :, 1].max() == 2
    assert np.all(res.average_policy[:, 0, 2] == 0.0)
    assert res["exploitability_avg"].shape == (200, 4)


def test_redraw_round_with_callable_reference_and_record_metrics():
    game = FacilityLocation(n_agents=3, mechanism="median")
    calls = []

    def ref(types):
        calls.append(1)
        return types  # truthful reports as the reference

    res = run(
        game,
        agents.Hedge(11, horizon=20),
        rounds=20,
        batch=3,
        seed=1,
        grid=11,
        redraw="round",
        reference=ref,
        record_every=5,
        game_metrics="record",
        keep_history=True,
    )
    assert len(calls) == 20  # re-evaluated on every type draw
    assert "avg_outcome_distance" not in res  # time averages need fixed types
    assert res["SW"].shape == (4, 3) and res["outcome_distance"].shape == (4, 3)
    # "record": the game's metric at the record round itself (last iterate): location = outcome
    np.testing.assert_allclose(res["location"], res.history["outcome"][[4, 9, 14, 19]])


def test_exploitability_only_for_index_grids_and_nan_on_unmasked_padding():
    g = mg.rock_paper_scissors()
    res = run(g, agents.Hedge(3), rounds=5, batch=2, seed=0, grid=np.array([2.0, 1.0, 0.0]))
    assert "exploitability" not in res  # permuted grid: policies are not over actions
    g2 = mg.MatrixGame(np.random.default_rng(0).normal(size=(2, 2, 3)))
    res = run(g2, agents.Hedge(3, horizon=5), rounds=5, batch=2, seed=0, grid=g2.action_grid(3))
    assert np.isnan(res["exploitability"]).all()  # unmasked learner plays the padding


def test_context_fn_feeds_states_to_q_learning():
    """State = the opponent's last action (memory-1), as in the Calvano setup, through context_fn."""
    g = mg.prisoners_dilemma()
    seen = []

    def memory_one(types, t, last_actions, last_outcome):
        seen.append(None if last_actions is None else last_actions.copy())
        if last_actions is None:
            return {"state": np.zeros((3, 2), dtype=np.int64)}
        return {"state": last_actions[:, ::-1].copy()}  # each agent sees the other's action

    res = run(
        g,
        agents.QLearning(2, n_states=2, discount=0.9, utility_range=g.utility_range),
        rounds=50,
        batch=3,
        seed=0,
        keep_history=True,
        context_fn=memory_one,
    )
    assert seen[0] is None and len(seen) == 50
    for t in range(1, 50):
        np.testing.assert_array_equal(seen[t], res.history["actions"][t - 1])
    with pytest.raises(ValueError, match="context_fn"):
        run(
            g, agents.UniformRandom(2), rounds=2, batch=3, seed=0, context_fn=lambda **k: {"state": np.zeros((3, 2))}
        )  # floats, not indices
    with pytest.raises(TypeError, match="context_fn"):
        run(g, agents.UniformRandom(2), rounds=2, batch=3, seed=0, context_fn=lambda **k: [1, 2])
