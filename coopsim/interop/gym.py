"""Gymnasium single-agent views of any ``BatchedEnv``.

Gymnasium rewards are scalars, so the Gymnasium surface is a single-agent view: the ego agent
(index ``ego``, default 0) is controlled by the caller and every other agent follows an opponent
policy, by default the env's ``default_actions()`` (truthful reporting for direct mechanisms).
An opponent policy is a callable ``policy(env, obs) -> actions (B, N, ...)`` giving a full joint
action; the ego's entry is overwritten. Other agents' rewards are in ``info["rewards"]``; the
game's metrics are in ``info["metrics"]`` only when asked (``metrics="all"`` or a list of names;
the factories default to ``"none"``).

``SingleAgentVectorEnv`` is a native ``gymnasium.vector.VectorEnv`` over ``num_envs`` copies with
``AutoresetMode.NEXT_STEP``: the call after a copy's episode ends resets that copy, ignores its
action and returns reward 0 with both flags False.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from coopsim.core.env import BatchedEnv, metrics_option
from coopsim.core.validation import check_int

OpponentPolicy = Callable[[BatchedEnv, np.ndarray], np.ndarray]


def _default_policy(env: BatchedEnv, obs: np.ndarray) -> np.ndarray:
    return env.default_actions()


class _EgoDriver:
    """Shared logic of the single-agent views: joint-action assembly and ego extraction."""

    def __init__(self, batched: BatchedEnv, ego: int, opponents: OpponentPolicy | None, metrics: Any = "all") -> None:
        if not isinstance(batched, BatchedEnv):
            raise TypeError(f"batched: expected a BatchedEnv, got {type(batched).__name__}")
        self.metrics = metrics_option(metrics)
        self.batched = batched
        self.ego = check_int(ego, "ego", lo=0, hi=batched.n_agents - 1)
        self.opponents = opponents or _default_policy
        self.obs: Any = None  # the last observations (None before the first reset)

    def joint(self, ego_actions: np.ndarray) -> np.ndarray:
        actions = np.array(self.opponents(self.batched, self.obs), copy=True)
        space = self.batched.action_space(self.ego)
        if isinstance(space, gym.spaces.Discrete):
            actions = actions.astype(np.int64)
            actions[:, self.ego] = np.asarray(ego_actions, dtype=np.int64).reshape(-1)
        else:
            actions = actions.astype(np.float64)
            actions[:, self.ego] = np.asarray(ego_actions, dtype=np.float64).reshape(actions[:, self.ego].shape)
        return actions

    def step(self, ego_actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every copy with the ego's actions; info holds all agents' ``rewards`` and ``metrics``."""
        obs, rewards, terminated, truncated, info = self.batched.step(self.joint(np.asarray(ego_actions)))
        self.obs = obs
        out: dict[str, Any] = {"rewards": rewards.copy()}
        if "metrics" in info and self.metrics != ():
            chosen = self.metrics
            out["metrics"] = {
                k: np.asarray(v).copy() for k, v in info["metrics"].items() if chosen is None or k in chosen
            }
        return obs, rewards, terminated, truncated, out


class SingleAgentEnv(gym.Env):
    """Gymnasium ``Env``: one ego agent in one copy of a ``BatchedEnv``; scalar reward."""

    def __init__(
        self, batched: BatchedEnv, ego: int = 0, opponents: OpponentPolicy | None = None, metrics: Any = "all"
    ) -> None:
        if batched.batch_size != 1:
            raise ValueError(f"batched.batch_size: expected 1 for a single-agent Env, got {batched.batch_size}")
        self._driver = _EgoDriver(batched, ego, opponents, metrics)
        self.observation_space = batched.observation_space(ego)
        self.action_space = batched.action_space(ego)
        self.render_mode = getattr(batched, "render_mode", None)
        self.metadata = {
            "render_modes": list(batched.metadata.get("render_modes", [])),
            "name": batched.metadata.get("name", type(batched).__name__),
            "render_fps": batched.metadata.get("render_fps"),
        }

    @property
    def batched(self) -> BatchedEnv:
        return self._driver.batched

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, info = self.batched.reset(seed=seed, options=options)
        self._driver.obs = obs
        return obs[0, self._driver.ego], {}

    def step(self, action: Any):
        if not self.action_space.contains(np.asarray(action, dtype=self.action_space.dtype)):
            raise ValueError(f"action: expected an element of {self.action_space}, got {action!r}")
        obs, rewards, terminated, truncated, info = self._driver.step(action)
        e = self._driver.ego
        out_info = {"rewards": info["rewards"][0]}
        if "metrics" in info:
            out_info["metrics"] = {k: float(v[0]) for k, v in info["metrics"].items()}
        return obs[0, e], float(rewards[0, e]), bool(terminated[0, e]), bool(truncated[0, e]), out_info

    def render(self):
        return self.batched.render()

    def close(self) -> None:
        self.batched.close()


class SingleAgentVectorEnv(VectorEnv):
    """Native ``VectorEnv``: the ego agent in ``num_envs`` copies, stepped as one batched call."""

    def __init__(
        self, batched: BatchedEnv, ego: int = 0, opponents: OpponentPolicy | None = None, metrics: Any = "all"
    ) -> None:
        self._driver = _EgoDriver(batched, ego, opponents, metrics)
        self.num_envs = batched.batch_size
        self.single_observation_space = batched.observation_space(ego)
        self.single_action_space = batched.action_space(ego)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = getattr(batched, "render_mode", None)
        self.metadata = {
            "render_modes": list(batched.metadata.get("render_modes", [])),
            "autoreset_mode": AutoresetMode.NEXT_STEP,
            "render_fps": batched.metadata.get("render_fps"),
        }
        self._finished = np.zeros(self.num_envs, dtype=bool)

    @property
    def batched(self) -> BatchedEnv:
        return self._driver.batched

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, info = self.batched.reset(seed=seed, options=options)
        self._driver.obs = obs
        self._finished[:] = False
        return obs[:, self._driver.ego], {}

    def step(self, actions: Any):
        e, n = self._driver.ego, self.num_envs
        finished = self._finished.copy()
        if finished.all():
            obs, _ = self.batched.reset()
            self._driver.obs = obs
            self._finished[:] = False
            zeros = np.zeros(n, dtype=bool)
            return obs[:, e], np.zeros(n), zeros, zeros.copy(), {}
        if finished.any():  # restart the finished copies; their action this call is ignored
            self._driver.obs, _ = self.batched.reset(options={"reset_mask": finished})
        obs, rewards, terminated, truncated, out_info = self._driver.step(actions)
        if finished.any():  # the extra round of a restarted copy is wiped by resetting it again
            obs, _ = self.batched.reset(options={"reset_mask": finished})
            self._driver.obs = obs
        reward = np.where(finished, 0.0, rewards[:, e])
        term = np.where(finished, False, terminated[:, e])
        trunc = np.where(finished, False, truncated[:, e])
        self._finished = term | trunc
        return obs[:, e], reward, term, trunc, out_info

    def render(self):
        return self.batched.render()

    def close_extras(self, **kwargs: Any) -> None:
        self.batched.close()
