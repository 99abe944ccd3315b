"""The documentation site: an API page for every public module, and ``mkdocs build --strict`` passes.

Public modules are enumerated through the import system (``pkgutil.walk_packages`` over
``coopsim``, ``coopsim.envs`` and ``coopsim.mechanisms``), independently of the page generator
``docs/gen_ref_pages.py``, so a module the generator missed fails here.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("coopsim", "coopsim.envs", "coopsim.mechanisms")


def importable_public_modules() -> set[str]:
    """Every module and package below ``PACKAGES`` whose dotted name has no part starting with ``_``."""
    names: set[str] = set(PACKAGES)
    for pkg_name in PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg_name}.", onerror=lambda name: None):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.add(info.name)
    return names


def generator():
    return runpy.run_path(str(ROOT / "docs" / "gen_ref_pages.py"), run_name="gen_ref_pages_under_test")


def test_generator_covers_every_public_module():
    listed = set(generator()["public_modules"]())
    found = importable_public_modules()
    assert found - listed == set(), f"public modules without an API page: {sorted(found - listed)}"
    assert {"coopsim.core.game", "coopsim.envs.facility_location", "coopsim.mechanisms.base"} <= listed
    assert not [n for n in listed if any(p.startswith("_") for p in n.split("."))]


def test_generator_maps_packages_to_index_pages():
    gen = generator()
    assert gen["is_package"]("coopsim.core") and gen["is_package"]("coopsim.envs")
    assert not gen["is_package"]("coopsim.core.game") and not gen["is_package"]("coopsim.envs.facility_location")


@pytest.mark.slow
def test_mkdocs_build_strict_has_a_page_per_module(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    pytest.importorskip("mkdocs_gen_files")
    mkdocs = shutil.which("mkdocs", path=os.path.dirname(sys.executable)) or shutil.which("mkdocs")
    assert mkdocs, "the docs extra is installed but the mkdocs command is missing"
    site = tmp_path / "site"
    env = dict(os.environ, DISABLE_MKDOCS_2_WARNING="true", NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [mkdocs, "build", "--strict", "-d", str(site)], cwd=ROOT, capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    gen = generator()
    missing = []
    for name in importable_public_modules():
        parts = name.split(".")
        page = site / "reference" / Path(*parts) / "index.html"
        if not page.exists():
            missing.append(name)
    assert not missing, f"no API page in the built site for {sorted(missing)}"
    card = (site / "envs" / "facility_location" / "index.html").read_text(encoding="utf-8")
    assert "What it models" in card and "<table>" in card  # the module's card, rendered as a table
    assert gen["SOURCES"]["coopsim.envs"] == ROOT / "envs"


def test_rst_card_tables_and_roles_become_markdown():
    conv = runpy.run_path(str(ROOT / "docs" / "griffe_rst_tables.py"), run_name="rst_tables_under_test")["convert"]
    card = "Title.\n\n========  ======\nAgents    ``n`` agents\n          more text\nRewards   ``|y - t|``\n========  ======\n"
    assert [line for line in conv(card).splitlines() if line.startswith("|")] == [
        "|  |  |",
        "|---|---|",
        "| Agents | ``n`` agents more text |",
        "| Rewards | ``|y - t|`` |",
    ]
    header = "====  ====\na     b\n====  ====\n1     2\n====  ====\n"
    assert conv(header).strip().splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |"]
    assert conv("see :func:`~coopsim.dynamics.run`, :class:`coopsim.core.Outcome`; e.g.::") == (
        "see `run`, `coopsim.core.Outcome`; e.g.:"
    )
