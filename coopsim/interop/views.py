"""Module-level factories shared by every env module.

An env module defines ``make_batched_env(batch_size=1, max_cycles=..., render_mode=None, **kw)``
and gets all of its public views from one call::

    env, raw_env, parallel_env, gym_env, gym_vector_env = env_views(make_batched_env, "name_v0")

For a one-shot ``MechanismGame``, ``repeated_game_factory(GameClass)`` builds that
``make_batched_env`` (a ``RepeatedGame`` of ``GameClass(**kw)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coopsim.core.env import BatchedEnv, RepeatedGame
from coopsim.interop.gym import SingleAgentEnv, SingleAgentVectorEnv
from coopsim.interop.pettingzoo import pettingzoo_factories


def repeated_game_factory(
    game_cls: Callable[..., Any], default_max_cycles: int = 25, default_redraw: str = "episode", name: str | None = None
) -> Callable[..., RepeatedGame]:
    """``make_batched_env`` for a one-shot game: ``RepeatedGame(game_cls(**kwargs), ...)``.

    ``name`` is the env's ``metadata["name"]`` (e.g. ``facility_location_v0``)."""

    def make_batched_env(
        batch_size: int = 1,
        max_cycles: int = default_max_cycles,
        render_mode: str | None = None,
        action_mode: str = "continuous",
        grid_size: int = 101,
        redraw: str = default_redraw,
        **kwargs: Any,
    ) -> RepeatedGame:
        return RepeatedGame(
            game_cls(**kwargs),
            rounds=max_cycles,
            batch_size=batch_size,
            action_mode=action_mode,
            grid_size=grid_size,
            redraw=redraw,
            render_mode=render_mode,
            name=name,
        )

    make_batched_env.__doc__ = (
        f"``RepeatedGame`` of ``{game_cls.__name__}(**kwargs)`` over ``batch_size`` copies "
        f"(types redrawn every {'round' if default_redraw == 'round' else 'episode'} "
        "by default)."
    )
    return make_batched_env


def env_views(make_batched: Callable[..., BatchedEnv], name: str, default_max_cycles: int = 25):
    """``(env, raw_env, parallel_env, gym_env, gym_vector_env)`` over ``make_batched``.

    The PettingZoo factories take ``max_cycles``, ``render_mode`` and the env's keyword
    arguments; ``gym_env(ego=0, opponents=None, **kw)`` and ``gym_vector_env(num_envs=1, ego=0,
    opponents=None, **kw)`` are the Gymnasium single-agent views (see ``coopsim.interop.gym``).
    """
    env, raw_env, parallel_env = pettingzoo_factories(make_batched, name=name, default_max_cycles=default_max_cycles)

    def gym_env(ego: int = 0, opponents: Any = None, **kwargs: Any) -> SingleAgentEnv:
        return SingleAgentEnv(make_batched(batch_size=1, **kwargs), ego=ego, opponents=opponents)

    def gym_vector_env(num_envs: int = 1, ego: int = 0, opponents: Any = None, **kwargs: Any) -> SingleAgentVectorEnv:
        return SingleAgentVectorEnv(make_batched(batch_size=num_envs, **kwargs), ego=ego, opponents=opponents)

    gym_env.__doc__ = (
        f"Gymnasium single-agent view of {name}: agent ``ego`` is controlled, the others follow ``opponents``."
    )
    gym_vector_env.__doc__ = f"Native Gymnasium ``VectorEnv`` of {name}'s single-agent view over ``num_envs`` copies."
    return env, raw_env, parallel_env, gym_env, gym_vector_env
