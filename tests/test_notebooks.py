"""Every notebook under docs/notebooks/ executes without error (nbclient, one kernel per notebook).

Notebooks run in a scratch working directory so that anything they write stays out of the tree.
Each cell has a timeout (``COOPSIM_NOTEBOOK_TIMEOUT`` seconds, default 300).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "docs" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT = int(os.environ.get("COOPSIM_NOTEBOOK_TIMEOUT", "300"))


def test_runner_notebooks_exist():
    names = {p.name for p in NOTEBOOKS}
    assert {"results.ipynb", "custom_mechanism.ipynb"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors, errors
