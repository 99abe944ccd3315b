"""PettingZoo views of any ``BatchedEnv`` (one copy): a native ``ParallelEnv`` and AEC via
``pettingzoo.utils.conversions.parallel_to_aec``.

Simultaneous-move semantics: under AEC, actions are buffered until the last live agent of the
cycle has acted (``parallel_to_aec`` does this), so no observation reveals an earlier mover's
action of the current round.

The views are built for per-step speed (a MARL library steps one copy at a time): the game's
metrics are not computed unless asked (``metrics="none"`` by default; ``"all"`` or a list of
names puts them in every agent's ``info["metrics"]``), the action profile is validated once (by
the game), and observations, rewards and flags are converted with one array operation each.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec, parallel_to_aec_wrapper

from coopsim.core.env import BatchedEnv, metrics_option


def make_view_env(make_batched: Callable[..., BatchedEnv], metrics: Any, **kwargs: Any) -> BatchedEnv:
    """``make_batched(**kwargs)`` with ``metrics=`` passed on when ``make_batched`` declares it
    (``RepeatedGame`` factories); envs that always compute their metrics get them filtered by the
    view instead (see :func:`filter_metrics`)."""
    metrics_option(metrics)  # validate early, with the parameter's name
    params = inspect.signature(make_batched).parameters
    if "metrics" in params and params["metrics"].kind is not inspect.Parameter.VAR_KEYWORD:
        kwargs["metrics"] = metrics
    return make_batched(**kwargs)


def filter_metrics(info: dict[str, Any], chosen: tuple[str, ...] | None) -> dict[str, Any]:
    """``info`` without ``"metrics"`` (``chosen == ()``), with only the ``chosen`` names, or as is (None)."""
    if chosen is None or "metrics" not in info:
        return info
    out = {k: v for k, v in info.items() if k != "metrics"}
    if chosen:
        out["metrics"] = {k: v for k, v in info["metrics"].items() if k in chosen}
    return out


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
    action when the underlying env is stepped. ``metrics``: which of the env's ``info["metrics"]``
    reach the agents' infos (``"all"``, ``"none"`` or a list of names; the factories also pass it
    to the env so that unasked metrics are not computed).
    """

    def __init__(self, batched: BatchedEnv, name: str | None = None, metrics: Any = "all") -> None:
        if batched.batch_size != 1:
            raise ValueError(f"batched.batch_size: expected 1 for a PettingZoo view, got {batched.batch_size}")
        self.batched = batched
        self._metrics = metrics_option(metrics)
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
        # one dtype conversion for all observations when every space is a Box of one dtype
        dtypes = {s.dtype for s in self._obs_spaces.values() if isinstance(s, gym.spaces.Box)}
        boxes = all(isinstance(s, gym.spaces.Box) for s in self._obs_spaces.values())
        self._obs_dtype = dtypes.pop() if boxes and len(dtypes) == 1 else None
        state_space = getattr(batched, "state_space", None)
        if state_space is not None:
            self.state_space = state_space

    def observation_space(self, agent: str) -> gym.Space:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> gym.Space:
        return self._act_spaces[agent]

    def _obs_dict(self, obs: np.ndarray) -> dict[str, np.ndarray]:
        if self._obs_dtype is not None:
            rows = np.array(obs[0], dtype=self._obs_dtype)  # one copy; each agent gets its row
            return {a: rows[self._index[a]] for a in self.agents}
        return {
            a: obs[0, self._index[a]].astype(self._obs_spaces[a].dtype, copy=True)
            if isinstance(self._obs_spaces[a], gym.spaces.Box)
            else obs[0, self._index[a]]
            for a in self.agents
        }

    def _info_dict(self, info: dict[str, Any], agents: list[str]) -> dict[str, dict[str, Any]]:
        info = filter_metrics(info, self._metrics)
        if not info:
            return {a: {} for a in agents}
        return {a: _scalar_info(info, self._index[a]) for a in agents}

    def reset(self, seed: int | None = None, options: dict | None = None):
        obs, info = self.batched.reset(seed=seed, options=options)
        self.agents = list(self.possible_agents)
        return self._obs_dict(obs), self._info_dict(info, self.agents)

    def step(self, actions: dict[str, Any]):
        live = self.agents
        try:
            if len(live) == len(self.possible_agents):  # everyone alive: the common case
                joint = np.array([[actions[a] for a in live]])
            else:
                joint = np.array([[actions[a] if a in live else self._blank[a] for a in self.possible_agents]])
        except KeyError:
            missing = [a for a in live if a not in actions]
            raise ValueError(f"actions: expected an entry for every live agent, missing {missing}") from None
        obs, rewards, terminated, truncated, info = self.batched.step(joint)
        rew, term, trunc = rewards[0].tolist(), terminated[0].tolist(), truncated[0].tolist()
        info_d = self._info_dict(info, live)
        if len(live) == len(self.possible_agents) and self._obs_dtype is not None:
            # everyone alive (live == possible_agents, in order): zip the rows, no index lookups
            rows = np.array(obs[0], dtype=self._obs_dtype)
            obs_d = dict(zip(live, rows))
            rew_d = dict(zip(live, map(float, rew)))
            term_d = dict(zip(live, map(bool, term)))
            trunc_d = dict(zip(live, map(bool, trunc)))
        else:
            obs_d = self._obs_dict(obs)
            idx = self._index
            rew_d = {a: float(rew[idx[a]]) for a in live}
            term_d = {a: bool(term[idx[a]]) for a in live}
            trunc_d = {a: bool(trunc[idx[a]]) for a in live}
        if any(term_d.values()) or any(trunc_d.values()):
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

    Each accepts ``max_cycles`` (rounds per episode), ``render_mode``, ``metrics`` (default
    ``"none"``: no game metrics in the infos, the fast path; ``"all"`` or a list of names) and the
    env's own keyword arguments, which are passed to
    ``make_batched(batch_size=1, max_cycles=..., render_mode=..., **kw)``.
    """

    def parallel_env(
        max_cycles: int = default_max_cycles, render_mode: str | None = None, metrics: Any = "none", **kwargs: Any
    ):
        batched = make_view_env(
            make_batched, metrics, batch_size=1, max_cycles=max_cycles, render_mode=render_mode, **kwargs
        )
        return BatchedParallelEnv(batched, name=name, metrics=metrics)

    def raw_env(**kwargs: Any):
        return parallel_to_aec_wrapper(parallel_env(**kwargs))

    def env(**kwargs: Any):
        return parallel_to_aec(parallel_env(**kwargs))

    parallel_env.__doc__ = f"PettingZoo ParallelEnv of {name} (one copy)."
    raw_env.__doc__ = f"Unwrapped PettingZoo AEC env of {name}."
    env.__doc__ = f"PettingZoo AEC env of {name} (order-enforcing)."
    return env, raw_env, parallel_env
