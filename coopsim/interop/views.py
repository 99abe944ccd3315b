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
from coopsim.interop.pettingzoo import make_view_env, pettingzoo_factories


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
        metrics: Any = "all",
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
            metrics=metrics,
        )

    make_batched_env.__doc__ = (
        f"``RepeatedGame`` of ``{game_cls.__name__}(**kwargs)`` over ``batch_size`` copies "
        f"(types redrawn every {'round' if default_redraw == 'round' else 'episode'} "
        "by default; ``metrics='all'``: every game metric in ``info['metrics']``)."
    )
    return make_batched_env


def env_views(make_batched: Callable[..., BatchedEnv], name: str, default_max_cycles: int = 25):
    """``(env, raw_env, parallel_env, gym_env, gym_vector_env)`` over ``make_batched``.

    The PettingZoo factories take ``max_cycles``, ``render_mode``, ``metrics`` and the env's
    keyword arguments; ``gym_env(ego=0, opponents=None, metrics="none", **kw)`` and
    ``gym_vector_env(num_envs=1, ego=0, opponents=None, metrics="none", **kw)`` are the Gymnasium
    single-agent views (see ``coopsim.interop.gym``). Every view defaults to ``metrics="none"``
    (rewards only, the fast path); ``"all"`` or a list of names adds the game's metrics to
    ``info["metrics"]``. The batched env itself (``make_batched``) keeps computing all of them.
    """
    env, raw_env, parallel_env = pettingzoo_factories(make_batched, name=name, default_max_cycles=default_max_cycles)

    def gym_env(ego: int = 0, opponents: Any = None, metrics: Any = "none", **kwargs: Any) -> SingleAgentEnv:
        batched = make_view_env(make_batched, metrics, batch_size=1, **kwargs)
        return SingleAgentEnv(batched, ego=ego, opponents=opponents, metrics=metrics)

    def gym_vector_env(
        num_envs: int = 1, ego: int = 0, opponents: Any = None, metrics: Any = "none", **kwargs: Any
    ) -> SingleAgentVectorEnv:
        batched = make_view_env(make_batched, metrics, batch_size=num_envs, **kwargs)
        return SingleAgentVectorEnv(batched, ego=ego, opponents=opponents, metrics=metrics)

    gym_env.__doc__ = (
        f"Gymnasium single-agent view of {name}: agent ``ego`` is controlled, the others follow ``opponents``."
    )
    gym_vector_env.__doc__ = f"Native Gymnasium ``VectorEnv`` of {name}'s single-agent view over ``num_envs`` copies."
    return env, raw_env, parallel_env, gym_env, gym_vector_env
