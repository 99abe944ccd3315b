"""The import layering (tools/check_layers.py): the project passes, and the checker catches what it should."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("check_layers", ROOT / "tools" / "check_layers.py")
check_layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_layers)


def test_project_layers_are_ok():
    out = subprocess.run(
        [sys.executable, "tools/check_layers.py"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().splitlines()[-1] == "layers: ok"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in {"coopsim/__init__.py": "", "envs/__init__.py": "", "mechanisms/__init__.py": "", **files}.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


def test_checker_reports_each_kind_of_violation(tmp_path):
    root = _tree(
        tmp_path,
        {
            "mechanisms/auctions/__init__.py": "from coopsim.mechanisms.facility import rules\n",
            "mechanisms/facility/__init__.py": "",
            "mechanisms/facility/rules.py": "from coopsim.mechanisms import learned\n",
            "mechanisms/learned.py": "",
            "mechanisms/scoring/__init__.py": "",
            "mechanisms/information/__init__.py": "from coopsim.mechanisms.scoring import rules\n",
            "coopsim/dynamics/__init__.py": "def f():\n    from coopsim import runner\n",
            "coopsim/runner/__init__.py": "",
            "coopsim/report/__init__.py": "from ..cli import main\n",
            "coopsim/cli.py": "",
            "coopsim/interop/__init__.py": "from coopsim.envs import registered_envs\nimport coopsim.envs.toy\n",
            "envs/toy.py": "import torch\nfrom coopsim.envs import other\n",
            "envs/other.py": "from coopsim.envs import _checks\n",
            "envs/_checks.py": "",
        },
    )
    bad = check_layers.violations(root)
    text = "\n".join(bad)
    assert "coopsim.mechanisms.auctions -> coopsim.mechanisms.facility" in text  # another family
    assert "coopsim.mechanisms.facility.rules -> coopsim.mechanisms.learned" in text
    assert "coopsim.mechanisms.information -> coopsim.mechanisms.scoring" not in text  # information uses scoring
    assert "coopsim.dynamics -> coopsim.runner" in text  # inside a function, through `from coopsim import`
    assert "coopsim.report -> coopsim.cli" in text  # relative import
    assert "coopsim.interop -> coopsim.envs.toy" in text
    assert "coopsim.interop -> coopsim.envs  " not in text  # the registry is allowed
    assert "coopsim.envs.toy -> torch at import time" in text
    assert "coopsim.envs.toy -> coopsim.envs.other" in text
    assert "coopsim.envs.other -> coopsim.envs._checks" not in text  # the shared env helpers
    # the two above count twice: `from p import m` imports p and p.m (facility and facility.rules;
    # coopsim.mechanisms itself and learned)
    assert len(bad) == 9, text


def test_rules_include_the_shared_base_rules():
    ours = set(check_layers.rules(ROOT))
    assert set(check_layers.BASE_RULES) <= ours
    for importer, forbidden, why in ours:
        assert importer and forbidden and why
