"""The bad-input fuzz suite covers every family and holds at least 300 distinct cases.

Each ``tests/test_fuzz_<family>.py`` defines ``CASES`` (see ``tests/fuzzing.py``) and one
parametrised test over them. This test imports them all (``tests/`` is on ``sys.path``), checks
that the family modules are exactly the ones listed below, and counts the distinct case ids.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fuzzing import Case, case_ids

#: the families of the suite, one module each
FAMILIES = {
    "facility",
    "auctions",
    "analysis",
    "information",
    "gates_economy",
    "matrix",
    "agents",
    "dynamics",
    "runner_core",
}
MIN_CASES = 300

HERE = Path(__file__).resolve().parent


def _modules() -> dict[str, object]:
    paths = sorted(p for p in HERE.glob("test_fuzz_*.py") if p.stem != "test_fuzz_count")
    return {p.stem.removeprefix("test_fuzz_"): importlib.import_module(p.stem) for p in paths}


def test_every_family_has_a_fuzz_module() -> None:
    assert set(_modules()) == FAMILIES


def test_suite_holds_enough_distinct_cases() -> None:
    ids: set[str] = set()
    for family, module in _modules().items():
        cases = getattr(module, "CASES", None)
        assert isinstance(cases, list) and cases, f"{family}: no CASES"
        assert all(isinstance(c, Case) for c in cases), f"{family}: CASES holds something that is not a Case"
        assert callable(getattr(module, "test_bad_input_refused", None)), f"{family}: no test over its CASES"
        ids.update(case_ids(cases))  # also: no id repeats within a module
    assert len(ids) >= MIN_CASES, f"{len(ids)} distinct fuzz cases, expected at least {MIN_CASES}"
