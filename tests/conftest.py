"""Suite-wide test configuration: the ``slow`` marks of the everyday run.

``python -m pytest -q -n auto -m "not slow"`` is the everyday run (a few minutes on 2 cores); CI
runs everything. A test is slow when it marks itself (``@pytest.mark.slow``) or when its id is
listed in ``tests/slow_tests.txt`` — the tests measured at several seconds each with
``pytest -n 2 --durations=0`` on a 2-core machine. A listed ``file::function`` marks every
parametrisation of that function.
"""

from __future__ import annotations

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
