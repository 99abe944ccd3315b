"""coopsim: multi-agent mechanism-design simulation.

Batched one-shot games and stateful environments, mechanism plugins, vectorised learners,
incentive and fairness audits, and a sweep runner.

``import coopsim`` is light: it registers the Gymnasium ids ``coopsim/<Name>-v0`` and nothing
else. The sub-packages load on first attribute access (PEP 562), so ``coopsim.runner.load(...)``
and ``coopsim.mechanisms.get(...)`` work after a bare ``import coopsim`` without importing torch,
ray or pandas up front:

>>> import coopsim
>>> float(coopsim.mechanisms.get("uniform_phantom")([0.1, 0.5, 0.9]))
0.5
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

__version__ = "0.1.0"

#: sub-packages and modules reachable as ``coopsim.<name>`` (imported on first access)
SUBMODULES = (
    "agents",
    "analysis",
    "cli",
    "core",
    "design",
    "dynamics",
    "envs",
    "interop",
    "mechanisms",
    "plotting",
    "report",
    "runner",
)

if _TYPE_CHECKING:  # static checkers see the real modules; at run time they load lazily
    from coopsim import (  # noqa: F401
        agents,
        analysis,
        cli,
        core,
        dynamics,
        envs,
        interop,
        mechanisms,
        plotting,
        runner,
    )


def __getattr__(name: str) -> _Any:
    if name in SUBMODULES:
        try:
            return _importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":  # a real missing dependency inside the module
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({"SUBMODULES", "__version__", *SUBMODULES})


from coopsim.interop.registration import register_envs as _register_envs  # noqa: E402

_register_envs()
