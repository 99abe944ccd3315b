"""Domain games (one module per domain), imported as ``coopsim.envs``, found through one registry.

Built-in environments (name, module, Gymnasium id):

====================== ================================== ================================
``facility_location``  ``coopsim.envs.facility_location``  ``coopsim/FacilityLocation-v0``
``position_auction``   ``coopsim.envs.position_auction``   ``coopsim/PositionAuction-v0``
``information_acquisition`` ``coopsim.envs.information_acquisition`` ``coopsim/InformationAcquisition-v0``
``agent_economy``      ``coopsim.envs.agent_economy``      ``coopsim/AgentEconomy-v0``
``matrix_games``       ``coopsim.envs.matrix_games``       ``coopsim/MatrixGame-v0``
``multi_item_auction`` ``coopsim.envs.multi_item_auction`` ``coopsim/MultiItemAuction-v0``
====================== ================================== ================================

**The environment protocol.** An environment is a module registered here by name
(:func:`register_env`, or the entry-point group ``coopsim.envs`` whose value is the module path).
The module exposes some of:

- ``make_game(**params) -> MechanismGame`` — a one-shot game (audits, learners, ``play_dynamics``);
- ``make_batched_env(batch_size, max_cycles, render_mode, **params) -> BatchedEnv``;
- PettingZoo factories ``env``, ``raw_env``, ``parallel_env`` and Gymnasium views ``gym_env``,
  ``gym_vector_env`` (one line with :func:`coopsim.interop.views.env_views`);
- ``simulate(...)`` — a whole experiment run, for envs the runner drives end to end.

Registering a ``gym_id`` makes ``gymnasium.make("coopsim/<gym_id>")`` work on ``import coopsim``.
Modules are imported only when first used, so ``import coopsim.envs`` stays light.
"""

from __future__ import annotations

import importlib as _importlib
import importlib.util as _importlib_util
from dataclasses import dataclass
from importlib import metadata as _metadata
from types import ModuleType
from typing import Any as _Any

from coopsim.core.registry import resolve as _resolve

__all__ = ["EnvEntry", "env_entry", "env_module", "env_names", "register_env", "registered_envs"]


@dataclass(frozen=True)
class EnvEntry:
    """A registered environment: its ``name``, the ``module`` that implements the protocol and the
    Gymnasium id (without the ``coopsim/`` namespace), if any."""

    name: str
    module: str
    gym_id: str | None = None


_ENVS: dict[str, EnvEntry] = {}
_plugins_loaded = False


def register_env(name: str, module: str, gym_id: str | None = None, *, replace: bool = False) -> EnvEntry:
    """Register the environment module ``module`` under ``name`` (and Gymnasium id ``gym_id``).

    Registering the same entry twice is a no-op; a different entry under a taken name raises
    ``ValueError`` unless ``replace=True``.
    """
    for value, what in ((name, "name"), (module, "module")):
        if not isinstance(value, str) or not value:
            raise ValueError(f"{what}: expected a non-empty string, got {value!r}")
    if gym_id is not None and (not isinstance(gym_id, str) or not gym_id.endswith(tuple(f"-v{i}" for i in range(10)))):
        raise ValueError(f"gym_id: expected an id like 'MyEnv-v0', got {gym_id!r}")
    entry = EnvEntry(name, module, gym_id)
    old = _ENVS.get(name)
    if old is not None and old != entry and not replace:
        raise ValueError(f"environment {name!r} is already registered as {old} (pass replace=True to override)")
    _ENVS[name] = entry
    return entry


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in _metadata.entry_points(group="coopsim.envs"):
        if ep.name not in _ENVS:
            register_env(ep.name, ep.value)


def registered_envs() -> list[EnvEntry]:
    """Every registered environment (plugins included), sorted by name."""
    _load_plugins()
    return [_ENVS[k] for k in sorted(_ENVS)]


def env_names() -> list[str]:
    """Sorted names of the registered environments."""
    return [e.name for e in registered_envs()]


def env_entry(name: object) -> EnvEntry:
    """The entry ``name`` designates: a registered name (case-insensitive when unique) or a
    Gymnasium id with or without the ``coopsim/`` prefix (``"coopsim/FacilityLocation-v0"``).

    Raises ``ValueError`` with "did you mean" suggestions for an unknown name.
    """
    entries = registered_envs()
    if isinstance(name, str):
        by_gym = {e.gym_id: e for e in entries if e.gym_id}
        key = name.removeprefix("coopsim/")
        if key in by_gym:
            return by_gym[key]
    return _ENVS[_resolve(name, [e.name for e in entries], "environment")]


def env_module(name: object) -> ModuleType:
    """Import and return the module of environment ``name`` (see :func:`env_entry`)."""
    return _importlib.import_module(env_entry(name).module)


for _name, _gym in (
    ("facility_location", "FacilityLocation-v0"),
    ("position_auction", "PositionAuction-v0"),
    ("information_acquisition", "InformationAcquisition-v0"),
    ("agent_economy", "AgentEconomy-v0"),
    # one id for every normal-form game: gym.make("coopsim/MatrixGame-v0", game="chicken") or payoffs=...
    ("matrix_games", "MatrixGame-v0"),
    # default mechanism: the shipped 2 x 2 RegretNet (mechanisms/data/regretnet_2x2.npz)
    ("multi_item_auction", "MultiItemAuction-v0"),
):
    register_env(_name, f"{__name__}.{_name}", _gym)


def __getattr__(name: str) -> _Any:
    """``coopsim.envs.<module>`` on first access (PEP 562), so ``import coopsim.envs`` stays light."""
    if not name.startswith("_") and _importlib_util.find_spec(f"{__name__}.{name}") is not None:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
