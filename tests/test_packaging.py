"""Packaging: every package listed, a light ``import coopsim``, the wheel works without the source tree."""

import importlib
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"coopsim": "coopsim", "envs": "coopsim.envs", "mechanisms": "coopsim.mechanisms"}


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for folder, package in FOLDERS.items():
        assert config["package-dir"][package] == folder
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join([package, *rel]))
    assert found <= listed, f"missing from pyproject packages: {sorted(found - listed)}"
    assert listed <= found, f"listed but absent: {sorted(listed - found)}"


# ----------------------------------------------------------------------------------------------
# import coopsim: light, lazy sub-packages, Gymnasium ids registered
# ----------------------------------------------------------------------------------------------
def _python(code: str, cwd: Path = ROOT) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_coopsim_is_light_and_fast():
    code = (
        "import sys, time; t = time.perf_counter(); import coopsim; dt = time.perf_counter() - t; "
        "print(dt, *sorted(m for m in ('torch', 'ray', 'pandas', 'pyarrow', 'matplotlib') if m in sys.modules))"
    )
    runs = [_python(code).split() for _ in range(3)]
    assert all(len(r) == 1 for r in runs), f"import coopsim pulled in heavy modules: {runs}"
    # ~0.15-0.3 s on an idle 2-core machine (gymnasium for the registration is most of it); the bound
    # leaves room for a loaded CI box while catching an accidental torch/ray import (seconds).
    assert min(float(r[0]) for r in runs) < 1.5


def test_subpackages_reachable_after_import_coopsim():
    code = (
        "import sys, coopsim; "
        "assert coopsim.mechanisms.get('uniform_phantom') is not None; "
        "assert callable(coopsim.runner.load) and callable(coopsim.dynamics.run); "
        "assert coopsim.envs.facility_location and coopsim.agents.registry and coopsim.analysis.incentive_audit; "
        "assert 'torch' not in sys.modules and 'ray' not in sys.modules; "
        "print(sorted(set(coopsim.SUBMODULES) - set(dir(coopsim))))"
    )
    assert _python(code).strip() == "[]"


def test_lazy_attributes_and_unknown_names():
    import coopsim

    for name in coopsim.SUBMODULES:
        if importlib.util.find_spec(f"coopsim.{name}") is not None:
            assert getattr(coopsim, name) is importlib.import_module(f"coopsim.{name}")
    assert {"runner", "mechanisms", "envs", "agents", "analysis", "dynamics", "__version__"} <= set(dir(coopsim))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        coopsim.nope  # noqa: B018


def test_gymnasium_ids_after_import_coopsim_and_by_module_prefix():
    import gymnasium

    code = (
        "import gymnasium, coopsim; env = gymnasium.make('coopsim/FacilityLocation-v0'); "
        "obs, info = env.reset(seed=0); print(env.observation_space.contains(obs))"
    )
    assert _python(code).strip() == "True"
    # without importing coopsim first: Gymnasium's "module:id" form imports the package
    code = "import gymnasium; env = gymnasium.make('coopsim:coopsim/PositionAuction-v0'); print(env.spec.id)"
    assert _python(code).strip() == "coopsim/PositionAuction-v0"
    assert gymnasium.__version__ >= "1"
