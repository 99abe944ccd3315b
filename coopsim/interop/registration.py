"""Gymnasium registration of every registered coopsim environment (run on ``import coopsim``).

Each environment of :mod:`coopsim.envs`'s registry with a Gymnasium id gets ``coopsim/<id>`` with an
``entry_point`` (single-agent ``Env``) and a ``vector_entry_point`` (native ``VectorEnv``); the env
module is imported only when made. Registering twice is a no-op; a conflicting spec under the same
id raises.
"""

from __future__ import annotations

import gymnasium as gym


def gym_environments() -> dict[str, str]:
    """Gymnasium id (without ``coopsim/``) -> module, for every registered env that has an id."""
    from coopsim.envs import registered_envs

    return {e.gym_id: e.module for e in registered_envs() if e.gym_id}


#: Gymnasium id -> module of the built-in environments (a snapshot; :func:`gym_environments` is live)
ENVIRONMENTS = gym_environments()


def register_envs() -> None:
    """Register ``coopsim/<Name>-v0`` for every registered environment with a Gymnasium id."""
    for name, module in gym_environments().items():
        env_id = f"coopsim/{name}"
        entry, vector_entry = f"{module}:gym_env", f"{module}:gym_vector_env"
        existing = gym.registry.get(env_id)
        if existing is not None:
            if existing.entry_point == entry and existing.vector_entry_point == vector_entry:
                continue
            raise ValueError(f"{env_id}: already registered with a different spec ({existing.entry_point})")
        gym.register(id=env_id, entry_point=entry, vector_entry_point=vector_entry)
