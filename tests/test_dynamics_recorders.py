"""Dynamics recorders and metrics on request: selection, equality with the default run, window
means, validation; ``metrics=`` of ``RepeatedGame`` and of the PettingZoo / Gymnasium views."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.envs import facility_location, information_acquisition
from coopsim.envs.facility_location import FacilityLocation
from coopsim.envs.matrix_games import make as make_matrix
from coopsim.envs.position_auction import PositionAuction
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim import agents, dynamics
from coopsim.core.env import RepeatedGame
from coopsim.dynamics import METRIC_NAMES, WindowMean, play_dynamics


def _exp3_first_price(**kw):
    game = PositionAuction(n_agents=2, mechanism="first_price", action="shading", reference_metrics=False)
    grid = np.round(np.linspace(0, 1, 11), 10)
    lrn = agents.Exp3(n_actions=11, utility_range=game.utility_range, gamma=0.2)
    return play_dynamics(
        game, lrn, rounds=60, batch=3, seed=5, grid=grid, feedback="bandit", redraw="round", record_every=20, **kw
    )


def _hedge_facility(**kw):
    game = FacilityLocation(n_agents=3, mechanism="uniform_phantom")
    return play_dynamics(game, agents.Hedge(7, horizon=40), rounds=40, batch=2, seed=1, grid=7, record_every=8, **kw)


@pytest.mark.parametrize("make", [_exp3_first_price, _hedge_facility])
def test_metrics_none_plays_the_same_game(make):
    """The metrics never touch the learners' draws: same policies and play with and without them."""
    full, lean = make(), make(metrics="none")
    assert lean.series == {} and lean.policy_snapshots is None and lean.history is None
    assert lean.config["metrics"] == []
    for name in ("policy", "average_policy", "empirical_policy", "types"):
        np.testing.assert_array_equal(getattr(lean, name), getattr(full, name))
    np.testing.assert_array_equal(lean.rounds, full.rounds)


def test_a_list_of_names_records_exactly_those_series_with_the_default_values():
    full = _hedge_facility(reference="truthful")
    part = _hedge_facility(reference="truthful", metrics=["regret", "reference"])
    assert part.config["metrics"] == ["regret", "reference"]
    want = {"regret", "regret_expected", "cce_gap", "cce_gap_expected"}
    want |= {"report_distance", "report_within_step", "outcome_distance", "avg_outcome_distance"}
    assert set(part.series) == want
    for name in want:
        np.testing.assert_array_equal(part[name], full[name])
    assert "swap_regret" in full and "reward" in full and "SW" in full


def test_default_set_is_todays_set():
    res = _hedge_facility()
    assert res.config["metrics"] == ["regret", "swap_regret", "game", "reward", "snapshots"]
    mg = play_dynamics(make_matrix("rock_paper_scissors"), agents.RegretMatching(3), rounds=5, seed=0)
    assert "exploitability" in mg.config["metrics"] and "exploitability_avg" in mg
    off = _hedge_facility(swap_regret=False, snapshots=False, game_metrics="none")
    assert off.config["metrics"] == ["regret", "reward"]


def test_flags_add_their_recorder_to_a_selection():
    res = _hedge_facility(metrics="none", keep_history=True, snapshots=True)
    assert res.config["metrics"] == ["snapshots", "history"]
    assert res.history["actions"].shape == (40, 2, 3) and res.policy_snapshots.shape == (5, 2, 3, 7)


def test_metric_names_are_validated():
    with pytest.raises(ValueError, match="unknown name 'regrets'.*'regret'"):
        _hedge_facility(metrics=["regrets"])
    with pytest.raises(ValueError, match="exploitability"):
        _hedge_facility(metrics=["exploitability"])
    with pytest.raises(ValueError, match="reference"):
        _hedge_facility(metrics=["reference"])
    with pytest.raises(TypeError, match="metrics"):
        _hedge_facility(metrics=3)
    with pytest.raises(TypeError, match="progress"):
        _hedge_facility(progress="yes")
    assert set(METRIC_NAMES) >= {"regret", "swap_regret", "game", "history"}


def test_run_is_an_alias_and_the_old_module_path_works():
    from coopsim.dynamics.runner import run as old_run

    assert dynamics.run is play_dynamics and old_run is play_dynamics


def test_progress_bar_is_quiet_without_a_terminal(capsys):
    res = _hedge_facility(progress=True, metrics="none")
    assert res.policy.shape == (2, 3, 7)
    assert capsys.readouterr().err == ""


def test_truthful_context_is_given_to_learners_that_read_it():
    game = FacilityLocation(n_agents=2, mechanism="median")
    peaks = np.array([[0.1, 0.62]])
    res = play_dynamics(game, agents.Truthful(11), rounds=3, grid=11, types=peaks, metrics="none")
    np.testing.assert_array_equal(res.empirical_policy.argmax(-1), [[1, 6]])


# -- window means -------------------------------------------------------------------------------
def test_window_mean_averages_each_name_over_the_rounds_it_was_reported():
    w = WindowMean()
    w.add("a", np.array([1.0, 2.0]))
    w.add("a", np.array([3.0, 6.0]))
    w.add("b", 5.0)
    w.add_max("m", np.array([1.0, 4.0]))
    w.add_max("m", np.array([2.0, 3.0]))
    out = w.flush()
    np.testing.assert_array_equal(out["a"], [2.0, 4.0])
    assert out["b"] == 5.0
    np.testing.assert_array_equal(out["m"], [2.0, 4.0])
    assert not w and w.flush() == {}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(-1e6, 1e6), min_size=3, max_size=3), min_size=1, max_size=12))
def test_window_mean_equals_the_arithmetic_mean(rows):
    w = WindowMean()
    buf = np.zeros(3)
    for r in rows:
        buf[:] = r  # a reused buffer must not alias the window's sum
        w.add("x", buf)
    np.testing.assert_allclose(w.flush()["x"], np.mean(rows, axis=0), rtol=1e-12, atol=1e-6)


# -- metrics on request in the envs ---------------------------------------------------------------
def _steps(env, n=3, seed=0):
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(n):
        o, r, te, tr, info = env.step(rng.random((env.batch_size, env.n_agents, 1)))
        out += [o, r, te, tr]
    return out, info


def test_repeated_game_metrics_option():
    game = FacilityLocation(n_agents=3)
    ref, info_all = _steps(RepeatedGame(game, rounds=5, batch_size=4))
    got, info_none = _steps(RepeatedGame(game, rounds=5, batch_size=4, metrics="none"))
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)
    assert info_none == {} and {"SW", "TC_ratio", "IFS"} <= set(info_all["metrics"])
    _, info_two = _steps(RepeatedGame(game, rounds=5, batch_size=4, metrics=["SW", "IFS"]))
    assert list(info_two["metrics"]) == ["SW", "IFS"]
    np.testing.assert_array_equal(info_two["metrics"]["SW"], info_all["metrics"]["SW"])
    with pytest.raises(ValueError, match="unknown names \\['welfare'\\]"):
        _steps(RepeatedGame(game, rounds=5, batch_size=4, metrics=["welfare"]))
    with pytest.raises(ValueError, match="metrics"):
        RepeatedGame(game, metrics="some")
    with pytest.raises(TypeError, match="metrics"):
        RepeatedGame(game, metrics=3)


def test_views_default_to_no_metrics_and_give_them_when_asked():
    lean, full = facility_location.parallel_env(n_agents=2), facility_location.parallel_env(n_agents=2, metrics="all")
    o1, i1 = lean.reset(seed=3)
    o2, i2 = full.reset(seed=3)
    act = {a: np.array([0.3], dtype=np.float32) for a in lean.possible_agents}
    s1, s2 = lean.step(act), full.step(act)
    for a in lean.possible_agents:
        np.testing.assert_array_equal(s1[0][a], s2[0][a])
        assert s1[1][a] == s2[1][a]
        assert s1[4][a] == {} and "SW" in s2[4][a]["metrics"]
    g = facility_location.gym_env(n_agents=2, metrics=["SW"])
    g.reset(seed=0)
    assert list(g.step(np.array([0.5], dtype=np.float32))[4]["metrics"]) == ["SW"]


def test_native_env_views_filter_the_metrics():
    """The information-acquisition env always computes its metrics; the view drops or filters them."""
    lean = information_acquisition.parallel_env()
    some = information_acquisition.parallel_env(metrics=["payments"])
    for env in (lean, some):
        env.reset(seed=0)
    acts = {a: 0 for a in lean.possible_agents}
    lean.step(acts)
    some.step(acts)
    infos_lean = lean.step(acts)[4]
    infos_some = some.step(acts)[4]
    a = lean.possible_agents[0]
    assert "metrics" not in infos_lean[a]
    assert list(infos_some[a]["metrics"]) == ["payments"]
