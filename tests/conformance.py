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
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, render_test, seed_test
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


# -- every checker, every env (tests/test_env_conformance.py) ------------------------------------
def _nan_paths(value: Any, path: str = "info") -> list[str]:
    """Paths of NaN entries in a (nested) info dict."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nan_paths(v, f"{path}[{k!r}]")]
    arr = np.asarray(value)
    if arr.dtype.kind in "fc" and np.isnan(arr).any():
        return [path]
    return []


def infos_without_nan(module: ModuleType, cycles: int, seed: int = 0, **kw: Any) -> int:
    """Random play for ``cycles`` parallel steps across episode ends; no info entry is NaN (PettingZoo's
    seed tests compare infos with ``==``). Returns the number of steps checked."""
    env = module.parallel_env(**kw)
    _, infos = env.reset(seed=seed)
    steps = 0
    for k in range(cycles):
        if not env.agents:
            _, infos = env.reset(seed=seed + k)
        else:
            acts = {}
            for a in env.agents:
                env.action_space(a).seed(seed + k)
                acts[a] = env.action_space(a).sample()
            infos = env.step(acts)[-1]
            steps += 1
        bad = _nan_paths(infos)
        assert not bad, f"NaN in {bad[:3]} at step {k}"
    return steps


def metadata_checks(module: ModuleType, **kw: Any) -> None:
    """Own ``name`` (not the generic ``repeated_game``), ``render_fps`` > 0 and ``ansi`` + ``rgb_array``
    declared alike by the batched env and its PettingZoo and Gymnasium views."""
    batched = module.make_batched_env(**kw)
    name = batched.metadata["name"]
    assert name.endswith("_v0") and name != "repeated_game", name
    views = [module.parallel_env(**kw), module.env(**kw), module.gym_env(**kw), module.gym_vector_env(**kw)]
    for meta in [batched.metadata, *(v.metadata for v in views)]:
        assert meta["render_fps"] > 0
        assert set(meta["render_modes"]) >= {"ansi", "rgb_array"}, meta["render_modes"]
    assert views[0].metadata["name"] == views[2].metadata["name"] == name


def render_checks(module: ModuleType, **kw: Any) -> None:
    """PettingZoo's ``render_test`` (AEC) plus, on the parallel view, the frame contract: ``uint8 (H, W, 3)``,
    one fixed size for every frame, not blank."""

    def make(view: Any) -> Any:
        # render_test builds an env with render_mode="human" only to read its metadata; coopsim
        # envs render headless (no window), so that one is built without a render mode
        return lambda render_mode=None: view(render_mode=None if render_mode == "human" else render_mode, **kw)

    render_test(make(module.env))  # AEC only (it iterates agents); the parallel view is checked below
    env = module.parallel_env(render_mode="rgb_array", **kw)
    env.reset(seed=0)
    frames = [env.render()]
    env.step({a: env.action_space(a).sample() for a in env.agents})
    frames.append(env.render())
    for f in frames:
        assert f.dtype == np.uint8 and f.ndim == 3 and f.shape == frames[0].shape and f.shape[2] == 3
        assert f.min() < 128 < f.max()  # something is drawn on the white canvas


def gym_render_checks(env_id: str, **kw: Any) -> None:
    """``check_env`` on the registered env with the render checks on: every declared render mode is
    made through the spec and rendered; any Gymnasium warning fails."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=UserWarning)
        env = gym.make(env_id, disable_env_checker=True, **kw).unwrapped
        check_env(env)


def every_checker(module: ModuleType, env_id: str, cycles: int = 50, **kw: Any) -> None:
    """The issue's list on one env: PettingZoo ``api_test``, ``seed_test``, ``parallel_api_test``,
    ``parallel_seed_test``, ``render_test``; Gymnasium ``check_env`` (single-agent view, render checks
    on); with ``cycles`` >= 50 cycles, no NaN in any info (metrics on), own metadata."""
    assert cycles >= 50
    api_test(module.env(**kw), num_cycles=cycles)
    seed_test(lambda: module.env(**kw), num_cycles=cycles)
    parallel_api_test(module.parallel_env(**kw), num_cycles=cycles)
    parallel_seed_test(lambda: module.parallel_env(**kw), num_cycles=cycles)
    render_checks(module, **kw)
    gym_render_checks(env_id, **kw)
    metadata_checks(module, **kw)
    # the views leave the game's metrics out by default; with all of them in info, the seed tests
    # (which compare infos with ==) still pass and no entry is NaN
    seed_test(lambda: module.env(metrics="all", **kw), num_cycles=cycles)
    parallel_seed_test(lambda: module.parallel_env(metrics="all", **kw), num_cycles=cycles)
    assert infos_without_nan(module, cycles, metrics="all", **kw) >= cycles // 2
