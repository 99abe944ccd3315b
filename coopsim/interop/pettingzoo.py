"""PettingZoo views of any ``BatchedEnv`` (one copy): a native ``ParallelEnv`` and AEC via
``pettingzoo.utils.conversions.parallel_to_aec``.

Simultaneous-move semantics: under AEC, actions are buffered until the last live agent of the
cycle has acted (``parallel_to_aec`` does this), so no observation reveals an earlier mover's
action of the current round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec, parallel_to_aec_wrapper

from coopsim.core.env import BatchedEnv


def _blank_action(space: gym.Space) -> np.ndarray:
    if isinstance(space, gym.spaces.Discrete):
        return np.asarray(space.start, dtype=np.int64)
    if isinstance(space, gym.spaces.Box):
        return np.zeros(space.shape, dtype=np.float64).clip(space.low, space.high)
    raise TypeError(f"action space: unsupported type {type(space).__name__}")


def _scalar_info(info: dict[str, Any], agent: int) -> dict[str, Any]:
    """Copy 0's entries of a batched info dict as Python scalars (metrics nested one level)."""
    out: dict[str, Any] = {}
    for key, value in info.items():
        if isinstance(value, dict):
            out[key] = _scalar_info(value, agent)
            continue
        arr = np.asarray(value)
        if arr.ndim >= 2 and arr.shape[1] > agent:  # (B, N, ...) per-agent entry
            arr = arr[0, agent]
        elif arr.ndim >= 1:  # (B, ...) per-copy entry
            arr = arr[0]
        out[key] = arr.item() if arr.ndim == 0 else arr.copy()
    return out


class BatchedParallelEnv(ParallelEnv):
    """PettingZoo ``ParallelEnv`` over a ``BatchedEnv`` with ``batch_size == 1``.

    Agents are ``agent_0 .. agent_{N-1}``; an agent whose ``terminated`` or ``truncated`` flag is set
    leaves ``agents`` after that step and never returns. Dead agents' slots are filled with a blank
    action when the underlying env is stepped.
    """

    def __init__(self, batched: BatchedEnv, name: str | None = None) -> None:
        if batched.batch_size != 1:
            raise ValueError(f"batched.batch_size: expected 1 for a PettingZoo view, got {batched.batch_size}")
        self.batched = batched
        self.metadata = {
            "render_modes": list(batched.metadata.get("render_modes", [])),
            "name": name or batched.metadata.get("name", type(batched).__name__),
            "is_parallelizable": True,
            "render_fps": batched.metadata.get("render_fps"),
        }
        self.render_mode = getattr(batched, "render_mode", None)
        self.possible_agents = list(batched.agent_names)
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self._obs_spaces = {a: batched.observation_space(i) for a, i in self._index.items()}
        self._act_spaces = {a: batched.action_space(i) for a, i in self._index.items()}
        self._blank = {a: _blank_action(s) for a, s in self._act_spaces.items()}
        state_space = getattr(batched, "state_space", None)
        if state_space is not None:
            self.state_space = state_space

    def observation_space(self, agent: str) -> gym.Space:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> gym.Space:
        return self._act_spaces[agent]

    def _obs_dict(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        return {
            a: obs[0, self._index[a]].astype(self._obs_spaces[a].dtype, copy=True)
            if isinstance(self._obs_spaces[a], gym.spaces.Box)
            else obs[0, self._index[a]]
            for a in self.agents
        }

    def reset(self, seed: int | None = None, options: dict | None = None):
        obs, info = self.batched.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return self._obs_dict(obs), {a: _scalar_info(info, self._index[a]) for a in self.agents}

    def step(self, actions: dict[str, Any]):
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"actions: expected an entry for every live agent, missing {missing}")
        joint = np.stack(
            [np.asarray(actions[a]) if a in self.agents else self._blank[a] for a in self.possible_agents]
        )[None]
        obs, rewards, terminated, truncated, info = self.batched.step(joint)
        live = self.agents
        obs_d = self._obs_dict(obs)
        rew_d = {a: float(rewards[0, self._index[a]]) for a in live}
        term_d = {a: bool(terminated[0, self._index[a]]) for a in live}
        trunc_d = {a: bool(truncated[0, self._index[a]]) for a in live}
        info_d = {a: _scalar_info(info, self._index[a]) for a in live}
        self.agents = [a for a in live if not (term_d[a] or trunc_d[a])]
        return obs_d, rew_d, term_d, trunc_d, info_d

    def state(self) -> np.ndarray:
        return np.asarray(self.batched.state())[0]

    def render(self):
        return self.batched.render()

    def close(self) -> None:
        self.batched.close()


def pettingzoo_factories(
    make_batched: Callable[..., BatchedEnv], name: str, default_max_cycles: int = 25
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., BatchedParallelEnv]]:
    """Build the module-level ``env``, ``raw_env`` and ``parallel_env`` factories of an env module.

    Each accepts ``max_cycles`` (rounds per episode), ``render_mode`` and the env's own keyword
    arguments, which are passed to ``make_batched(batch_size=1, max_cycles=..., render_mode=..., **kw)``.
    """

    def parallel_env(max_cycles: int = default_max_cycles, render_mode: str | None = None, **kwargs: Any):
        batched = make_batched(batch_size=1, max_cycles=max_cycles, render_mode=render_mode, **kwargs)
        return BatchedParallelEnv(batched, name=name)

    def raw_env(**kwargs: Any):
        return parallel_to_aec_wrapper(parallel_env(**kwargs))

    def env(**kwargs: Any):
        return parallel_to_aec(parallel_env(**kwargs))

    parallel_env.__doc__ = f"PettingZoo ParallelEnv of {name} (one copy)."
    raw_env.__doc__ = f"Unwrapped PettingZoo AEC env of {name}."
    env.__doc__ = f"PettingZoo AEC env of {name} (order-enforcing)."
    return env, raw_env, parallel_env
