"""Suite-wide test configuration: the ``slow`` marks of the everyday run.

``python -m pytest -q -n auto -m "not slow"`` is the everyday run (a few minutes on 2 cores); CI
runs everything. A test is slow when it marks itself (``@pytest.mark.slow``) or when its id is
listed in ``tests/slow_tests.txt`` — the tests measured at several seconds each with
``pytest -n 2 --durations=0`` on a 2-core machine. A listed ``file::function`` marks every
parametrisation of that function.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

_LISTED = Path(__file__).with_name("slow_tests.txt")


def _slow_ids() -> set[str]:
    lines = _LISTED.read_text().splitlines() if _LISTED.exists() else []
    return {line.split("#", 1)[0].strip() for line in lines} - {""}


@pytest.hookimpl(tryfirst=True)  # before -m "not slow" deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    slow = _slow_ids()
    for item in items:
        function_id = item.nodeid.split("[", 1)[0]
        if item.nodeid in slow or function_id in slow:
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """With ``COOPSIM_TEST_CPU_LOG=DIR``, append ``nodeid<TAB>cpu_s<TAB>wall_s`` per test to
    ``DIR/<pid>.tsv``: CPU seconds of the test process plus its waited-for children (setup, call and
    teardown), a load-independent measure for choosing the ``slow`` tests on a busy machine."""
    log_dir = os.environ.get("COOPSIM_TEST_CPU_LOG")
    if not log_dir:
        yield
        return
    cpu0, wall0 = _cpu_seconds(), time.perf_counter()
    yield
    cpu, wall = _cpu_seconds() - cpu0, time.perf_counter() - wall0
    with open(Path(log_dir) / f"{os.getpid()}.tsv", "a") as f:
        f.write(f"{item.nodeid}\t{cpu:.3f}\t{wall:.3f}\n")


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
