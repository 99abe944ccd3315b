"""Adapters from coopsim's batched contracts to PettingZoo and Gymnasium."""

from coopsim.interop.gym import SingleAgentEnv, SingleAgentVectorEnv
from coopsim.interop.pettingzoo import BatchedParallelEnv, pettingzoo_factories
from coopsim.interop.registration import ENVIRONMENTS, register_envs
from coopsim.interop.views import env_views, repeated_game_factory

__all__ = [
    "BatchedParallelEnv",
    "ENVIRONMENTS",
    "SingleAgentEnv",
    "SingleAgentVectorEnv",
    "env_views",
    "pettingzoo_factories",
    "register_envs",
    "repeated_game_factory",
]
