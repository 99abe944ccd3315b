"""Gymnasium registration of every coopsim environment (run on ``import coopsim``).

Each id ``coopsim/<Name>-v0`` gets an ``entry_point`` (single-agent ``Env``) and a
``vector_entry_point`` (native ``VectorEnv``); the env module is imported only when made.
Registering twice is a no-op; a conflicting spec under the same id raises.
"""

from __future__ import annotations

import gymnasium as gym

ENVIRONMENTS = {
    "FacilityLocation-v0": "coopsim.envs.facility_location",
    "PositionAuction-v0": "coopsim.envs.position_auction",
    "InformationAcquisition-v0": "coopsim.envs.information_acquisition",
    "AgentEconomy-v0": "coopsim.envs.agent_economy",
    # one id for every normal-form game: gym.make("coopsim/MatrixGame-v0", game="chicken") or payoffs=...
    "MatrixGame-v0": "coopsim.envs.matrix_games",
}


def register_envs() -> None:
    """Register ``coopsim/<Name>-v0`` for every environment module."""
    for name, module in ENVIRONMENTS.items():
        env_id = f"coopsim/{name}"
        entry, vector_entry = f"{module}:gym_env", f"{module}:gym_vector_env"
        existing = gym.registry.get(env_id)
        if existing is not None:
            if existing.entry_point == entry and existing.vector_entry_point == vector_entry:
                continue
            raise ValueError(f"{env_id}: already registered with a different spec ({existing.entry_point})")
        gym.register(id=env_id, entry_point=entry, vector_entry_point=vector_entry)
