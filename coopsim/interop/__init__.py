"""Adapters from coopsim's batched contracts to PettingZoo and Gymnasium."""
from coopsim.interop.gym import SingleAgentEnv, SingleAgentVectorEnv
from coopsim.interop.pettingzoo import BatchedParallelEnv, pettingzoo_factories
from coopsim.interop.registration import ENVIRONMENTS, register_envs

__all__ = ["BatchedParallelEnv", "ENVIRONMENTS", "SingleAgentEnv", "SingleAgentVectorEnv",
           "pettingzoo_factories", "register_envs"]
