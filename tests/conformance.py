"""Reusable conformance checks for coopsim env modules (PettingZoo, Gymnasium, determinism).

``check_all(module, **kwargs)`` runs every check on an env module exposing ``env``, ``raw_env``,
``parallel_env``, ``gym_env``, ``gym_vector_env`` and ``make_batched_env``.
"""

from __future__ import annotations

import warnings
from types import ModuleType
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test
from pettingzoo.utils.conversions import aec_to_parallel


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def multi_step_parallel_determinism(module: ModuleType, steps: int = 500, seed: int = 42, **kw: Any) -> None:
    """Two parallel envs, same seeds and actions, >= ``steps`` steps across episode boundaries."""
    envs = [module.parallel_env(**kw) for _ in range(2)]
    seeds = np.random.default_rng(seed)
    obs = [e.reset(seed=seed) for e in envs]
    assert _equal(obs[0], obs[1])
    act_rng = np.random.default_rng(seed + 1)
    episodes = 0
    for _ in range(steps):
        if not envs[0].agents:
            s = int(seeds.integers(1 << 31))
            obs = [e.reset(seed=s) for e in envs]
            assert _equal(obs[0], obs[1])
            episodes += 1
            continue
        space_seed = int(act_rng.integers(1 << 31))
        acts = {}
        for a in envs[0].agents:
            sp = envs[0].action_space(a)
            sp.seed(space_seed)
            acts[a] = sp.sample()
        outs = [e.step(acts) for e in envs]
        for x, y in zip(outs[0], outs[1]):
            assert _equal(x, y)
        assert envs[0].agents == envs[1].agents
    assert episodes >= 1, "the determinism test must cross an episode boundary (lower max_cycles)"


def different_seeds_differ(module: ModuleType, **kw: Any) -> None:
    a, b = module.parallel_env(**kw), module.parallel_env(**kw)
    oa, _ = a.reset(seed=1)
    ob, _ = b.reset(seed=2)
    assert not _equal(oa, ob)


def gym_checks(module: ModuleType, **kw: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        env = module.gym_env(**kw)
        check_env(env, skip_render_check=True)
    env = module.gym_env(**kw)
    env.reset(seed=3)
    _, r, term, trunc, _ = env.step(env.action_space.sample())
    assert isinstance(r, float) and isinstance(term, bool) and isinstance(trunc, bool)


def vector_checks(module: ModuleType, num_envs: int = 4, **kw: Any) -> None:
    """Shapes, NEXT_STEP autoreset and bitwise equality with the single env at num_envs=1."""
    venv = module.gym_vector_env(num_envs=num_envs, **kw)
    assert venv.num_envs == num_envs
    assert venv.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, info = venv.reset(seed=5)
    assert obs.shape == (num_envs, *venv.single_observation_space.shape)
    assert isinstance(info, dict)
    venv.action_space.seed(0)
    done_prev = np.zeros(num_envs, dtype=bool)
    for _ in range(60):
        obs, r, term, trunc, info = venv.step(venv.action_space.sample())
        assert r.shape == term.shape == trunc.shape == (num_envs,)
        assert term.dtype == bool and trunc.dtype == bool
        assert venv.observation_space.contains(obs)
        assert np.all(r[done_prev] == 0) and not np.any((term | trunc)[done_prev])
        done_prev = term | trunc
    single = module.gym_env(**kw)
    vec1 = module.gym_vector_env(num_envs=1, **kw)
    o1, _ = single.reset(seed=9)
    o2, _ = vec1.reset(seed=9)
    assert np.array_equal(o1, o2[0])
    single.action_space.seed(1)
    for _ in range(30):
        a = single.action_space.sample()
        s_out = single.step(a)
        v_out = vec1.step(np.asarray(a)[None])
        assert np.array_equal(s_out[0], v_out[0][0]) and s_out[1] == v_out[1][0]
        if s_out[2] or s_out[3]:
            o1, _ = single.reset()
            v_out = vec1.step(np.asarray(a)[None])  # NEXT_STEP: the reset call
            assert np.array_equal(o1, v_out[0][0])


def gym_make_checks(env_id: str, **kw: Any) -> None:
    env = gym.make(env_id, **kw)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    venv = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", **kw)
    obs, _ = venv.reset(seed=0)
    assert obs.shape[0] == 3


def check_all(module: ModuleType, env_id: str | None = None, **kw: Any) -> None:
    """Every conformance check of the interop spec on one env module."""
    api_test(module.env(**kw), num_cycles=200)
    parallel_api_test(module.parallel_env(**kw), num_cycles=200)
    seed_test(lambda: module.env(**kw), num_cycles=50)
    parallel_seed_test(lambda: module.parallel_env(**kw))
    multi_step_parallel_determinism(module, **kw)
    different_seeds_differ(module, **kw)
    # Parallel -> AEC -> Parallel round trip is accepted (is_parallelizable)
    aec_to_parallel(module.env(**kw)).reset(seed=0)
    gym_checks(module, **kw)
    vector_checks(module, **kw)
    if env_id is not None:
        gym_make_checks(env_id, **kw)
