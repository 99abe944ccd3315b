"""rgb_array frames, env metadata, the ratio sentinel and the matrix-game env views."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from coopsim.envs import agent_economy as ae
from coopsim.envs import facility_location as fl
from coopsim.envs import information_acquisition as ia
from coopsim.envs import matrix_games as mg
from coopsim.envs import position_auction as pa

import coopsim  # noqa: F401  (registers the coopsim/... ids)
from coopsim.core.env import RepeatedGame
from coopsim.interop.render import RENDER_FPS, render_rgb

MODULES = [fl, pa, ia, ae, mg]


def _played_frame(module, seed=0, **kw):
    env = module.parallel_env(render_mode="rgb_array", **kw)
    env.reset(seed=seed)
    for a in env.agents:
        env.action_space(a).seed(seed)
    env.step({a: env.action_space(a).sample() for a in env.agents})
    return env.render()


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_frames_are_fixed_size_uint8_and_reproducible(module):
    a, b = _played_frame(module), _played_frame(module)
    assert a.shape == (320, 480, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)  # same seed, same frame, bit for bit
    assert (a < 200).mean() > 0.01  # something is drawn on the white canvas


def test_metadata_names_and_fps():
    names = {m: m.make_batched_env().metadata["name"] for m in MODULES}
    assert names == {
        fl: "facility_location_v0",
        pa: "position_auction_v0",
        ia: "information_acquisition_v0",
        ae: "agent_economy_v0",
        mg: "matrix_game_v0",
    }
    for m in MODULES:
        assert m.gym_env().metadata["render_fps"] == m.parallel_env().metadata["render_fps"] == RENDER_FPS


def test_render_mode_is_validated():
    with pytest.raises(ValueError, match="render_mode: expected one of .*'rgb_array'.*got 'human'"):
        fl.parallel_env(render_mode="human")
    with pytest.raises(ValueError, match="render_mode"):
        ia.make_batched_env(render_mode="video")


def test_game_without_draw_offers_ansi_only():
    class NoDraw(fl.FacilityLocation):
        draw = None

    env = RepeatedGame(NoDraw(n_agents=2), rounds=3)
    assert env.metadata["render_modes"] == ["ansi"]
    with pytest.raises(ValueError, match="render_mode"):
        RepeatedGame(NoDraw(n_agents=2), render_mode="rgb_array")
    assert RepeatedGame.metadata["name"] == "repeated_game"  # the instance name does not leak to the class


def test_render_rgb_size_and_validation():
    frame = render_rgb(lambda ax: ax.plot([0, 1], [0, 1]), size=(4.0, 3.0), dpi=50)
    assert frame.shape == (150, 200, 3)
    with pytest.raises(ValueError, match="dpi"):
        render_rgb(lambda ax: None, dpi=5)


def test_facility_frame_draws_a_lottery_before_and_after_play():
    env = fl.parallel_env(render_mode="rgb_array", mechanism="random_dictator", n_agents=3)
    env.reset(seed=1)
    before = env.render()
    env.step({a: np.array([0.5], dtype=np.float32) for a in env.agents})
    after = env.render()
    assert before.shape == after.shape and not np.array_equal(before, after)


def test_information_frames_follow_the_phases():
    env = ia.parallel_env(render_mode="rgb_array", max_cycles=4)
    env.reset(seed=0)
    frames = [env.render()]
    for _ in range(2):
        env.step({a: 0 for a in env.agents})
        frames.append(env.render())
    assert all(f.shape == (320, 480, 3) for f in frames)
    assert not np.array_equal(frames[0], frames[1]) and not np.array_equal(frames[1], frames[2])


def test_agent_economy_drawing_checks_its_arrays():
    from coopsim.envs.agent_economy.render import render_agent_economy

    frame = render_agent_economy([0, 2], [0.5, -0.25], ["ACTIVE", "SUSPENDED"], ["a", "b"], title="t=3")
    assert frame.shape == (320, 480, 3)
    with pytest.raises(ValueError, match="balance: expected one entry per agent"):
        render_agent_economy([0, 1, 2], [0.5, 1.0])


def test_auction_ratios_never_nan():
    r = pa._ratio(np.array([0.0, 1.0, 2.0]), np.array([0.0, 0.0, 4.0]))
    assert r.tolist() == [1.0, np.inf, 0.5]


# -- matrix games as environments ------------------------------------------------------------------
def test_matrix_env_payoffs_through_gymnasium():
    env = gym.make("coopsim/MatrixGame-v0", game="chicken", max_cycles=3)
    obs, _ = env.reset(seed=0)
    assert obs.tolist() == [0.0, 0.0, 0.0]  # last joint action (none yet), clock
    # ego 0 plays chicken (1) against the default dare (0): P[0, C, D] = 2
    obs, reward, terminated, truncated, _ = env.step(1)
    assert reward == 2.0 and obs.tolist() == pytest.approx([1.0, 0.0, 1 / 3])
    env.step(0)
    *_, terminated, truncated, _ = env.step(0)
    assert truncated and not terminated


def test_matrix_env_unequal_action_counts_and_bad_actions():
    P = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    env = mg.parallel_env(payoffs=P, max_cycles=2)
    assert env.action_space("agent_0") == gym.spaces.Discrete(2)
    assert env.action_space("agent_1") == gym.spaces.Discrete(3)
    env.reset(seed=0)
    _, rewards, *_ = env.step({"agent_0": 1, "agent_1": 2})
    assert rewards == {"agent_0": P[0, 1, 2], "agent_1": P[1, 1, 2]}
    env.reset(seed=0)
    with pytest.raises(ValueError, match="agent 0's action in \\[0, 1\\], got 2"):
        env.step({"agent_0": 2, "agent_1": 0})
    with pytest.raises(TypeError, match="game: expected a MatrixGame"):
        mg.MatrixGameEnv("chicken")
    with pytest.raises(ValueError, match="game: expected one of"):
        mg.make_batched_env(game="chess")


def test_matrix_env_three_players_render_and_vectorise():
    P = np.random.default_rng(0).normal(size=(3, 2, 2, 2))
    frame = _played_frame(mg, payoffs=P)
    assert frame.shape == (320, 480, 3)
    venv = gym.make_vec("coopsim/MatrixGame-v0", num_envs=4, vectorization_mode="vector_entry_point", payoffs=P)
    obs, _ = venv.reset(seed=0)
    obs, reward, *_ = venv.step(np.array([0, 1, 1, 0]))
    assert obs.shape == (4, 4)
    np.testing.assert_array_equal(reward, [P[0, 0, 0, 0], P[0, 1, 0, 0], P[0, 1, 0, 0], P[0, 0, 0, 0]])
