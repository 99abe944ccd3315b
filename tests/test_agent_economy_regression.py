"""Bit-for-bit regression of the agent economy against stored fixed-seed trajectories.

The reference arrays (``tests/data/agent_economy_regression.npz``) were recorded by
``tests/data/make_agent_economy_regression.py`` from the agent economy before its restructuring
(one class holding every array as an attribute). The same script records the current code here;
every observation, reward, flag, metric, ledger entry, tier, status, certification, contract state,
acceptance log, delegation graph and ``simulate`` series must be identical.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).resolve().parent / "data"


def _recorder():
    spec = importlib.util.spec_from_file_location("ae_regression", DATA / "make_agent_economy_regression.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def recorded():
    mod = _recorder()
    with np.load(mod.PATH) as f:
        expected = {k: f[k] for k in f.files}
    return expected, mod.record_all()


def test_same_keys(recorded):
    expected, actual = recorded
    assert sorted(actual) == sorted(expected)
    assert len(expected) > 300  # every configuration recorded many fields


@pytest.mark.parametrize(
    "prefix",
    [
        "default_mix",
        "unwind_entrants",
        "grandfather_poisson_reaudit",
        "delegation_t4",
        "capability_gate",
        "no_gate",
        "spawn_entrants_mix",
        "raise_thresholds",
        "reset_mask",
        "simulate_scripted",
        "simulate_invest",
        "simulate_entrants_gate",
    ],
)
def test_bit_for_bit(recorded, prefix):
    expected, actual = recorded
    keys = [k for k in expected if k.split("/")[0] == prefix]
    assert keys, prefix
    for k in keys:
        assert actual[k].dtype == expected[k].dtype, k
        np.testing.assert_array_equal(actual[k], expected[k], err_msg=k, strict=True)
