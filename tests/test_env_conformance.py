"""Every PettingZoo and Gymnasium checker on every registered env, at default settings, 50+ cycles.

Parametrised over ``coopsim.interop.registration.ENVIRONMENTS`` so an env registered later is
covered without editing this file. Only the episode length is set (``max_cycles``, the env's
default when that is already >= 50).
"""

from __future__ import annotations

import importlib
import inspect
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest
from coopsim.envs import multi_item_auction as mia

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


def _second_price_per_item(bids):
    """Each item to the highest bid (lowest index on ties) at the second-highest bid: ``(B, n, m)``."""
    win = bids.argmax(axis=1)
    alloc = np.zeros_like(bids)
    np.put_along_axis(alloc, win[:, None, :], 1.0, axis=1)
    second = np.sort(bids, axis=1)[:, -2, :]
    return SimpleNamespace(allocation=alloc, payment=(alloc * second[:, None, :]).sum(axis=2))


_second_price_per_item.n_bidders, _second_price_per_item.n_items = 2, 2


def test_multi_item_auction_every_checker():
    """The multi-item auction is registered with its default (the shipped RegretNet, checked by
    ``test_every_checker``); its views also pass every checker with a callable mechanism."""
    env_id = "coopsim-test/MultiItemAuction-v0"
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=mia.gym_env, vector_entry_point=mia.gym_vector_env)
    every_checker(mia, env_id, cycles=CYCLES, max_cycles=CYCLES, mechanism=_second_price_per_item)
