"""Bit-for-bit regression: ``coopsim.dynamics`` runs and env steps against stored outputs.

``tests/data/dynamics_regression.npz`` holds, for fixed seeds, every series and result array of
several dynamics runs (facility location with Hedge and with EXP3 bandit feedback next to a
truthful group, first-price EXP3 self-play, GSP, regret matching and Hedge with expected feedback
on matrix games with exploitability, the effort-report game) and the obs / rewards / flags /
info metrics of every env's ``step`` at default settings. The file was written by
``tests/data/dynamics_make_regression.py`` before the dynamics loop was split into recorders.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from coopsim import dynamics

DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("dynamics_make_regression", DATA / "dynamics_make_regression.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


@pytest.fixture(scope="module")
def stored():
    with np.load(DATA / "dynamics_regression.npz") as d:
        return {k: d[k] for k in d.files}


def _subset(stored: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: v for k, v in stored.items() if k.startswith(prefix)}


@pytest.mark.parametrize("name", sorted(gen.dynamics_cases()))
def test_dynamics_run_matches_stored_outputs(stored, name):
    game, learners, kw = gen.dynamics_cases()[name]
    got = gen.result_arrays(dynamics.run(game, learners, **kw))
    want = _subset(stored, f"dyn/{name}/")
    assert sorted(got) == sorted(want)
    for key, value in want.items():
        np.testing.assert_array_equal(np.asarray(got[key]), value, err_msg=f"{name}: {key}")


@pytest.mark.parametrize("name", sorted(gen.env_cases()))
def test_env_steps_match_stored_outputs(stored, name):
    got = gen.env_arrays(gen.env_cases()[name](), steps=4)
    want = _subset(stored, f"env/{name}/")
    for key, value in want.items():
        assert key in got, f"{name}: {key} missing"
        if key.startswith("info/"):
            # info entries that were NaN may become a documented finite value; the rest must not move
            keep = ~np.isnan(value)
            np.testing.assert_array_equal(np.asarray(got[key])[keep], value[keep], err_msg=f"{name}: {key}")
        else:
            np.testing.assert_array_equal(np.asarray(got[key]), value, err_msg=f"{name}: {key}")
    assert not [k for k in got if not k.startswith("info/") and k not in want]
