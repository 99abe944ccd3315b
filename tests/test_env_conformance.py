"""Every PettingZoo and Gymnasium checker on every registered env, at default settings, 50+ cycles.

Parametrised over ``coopsim.interop.registration.ENVIRONMENTS`` so an env registered later is
covered without editing this file. Only the episode length is set (``max_cycles``, the env's
default when that is already >= 50).
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from coopsim.interop.registration import ENVIRONMENTS
from tests.conformance import every_checker

CYCLES = 50
#: envs whose checks take over ~20 s on 2 cores (marked slow; run with -m slow)
SLOW: set[str] = set()


def _episode(module) -> dict[str, int]:
    """``max_cycles`` >= CYCLES: the env's default when long enough (an even number of steps for
    two-phase envs is kept), else CYCLES."""
    default = inspect.signature(module.make_batched_env).parameters["max_cycles"].default
    return {} if default >= CYCLES else {"max_cycles": CYCLES}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in ENVIRONMENTS],
)
def test_every_checker(name: str) -> None:
    module = importlib.import_module(ENVIRONMENTS[name])
    every_checker(module, f"coopsim/{name}", cycles=CYCLES, **_episode(module))
