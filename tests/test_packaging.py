"""Packaging: every package listed, a light ``import coopsim``, the wheel works without the source tree."""

import importlib
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
#: installed package -> folder holding only data (no __init__.py): the example specs
DATA_PACKAGES = {"coopsim.examples": "experiments/specs"}


def test_every_package_is_listed_in_pyproject():
    listed = set(SETUPTOOLS["packages"])
    found = set(DATA_PACKAGES)
    for package, folder in SETUPTOOLS["package-dir"].items():
        assert (ROOT / folder).is_dir(), f"package-dir {package} -> {folder}: no such folder"
        if package in DATA_PACKAGES:
            assert folder == DATA_PACKAGES[package] and not (ROOT / folder / "__init__.py").exists()
            continue
        for module in (ROOT / folder).rglob("*.py"):  # every folder holding Python code, __init__ or not
            rel = module.parent.relative_to(ROOT / folder).parts
            if "__pycache__" not in rel:
                found.add(".".join([package, *rel]))
    assert found <= listed, f"missing from pyproject packages: {sorted(found - listed)}"
    assert listed <= found, f"listed but absent: {sorted(listed - found)}"


def test_metadata_license_changelog_citation():
    project = PYPROJECT["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert project["authors"] == [{"name": "coopsim developers"}]
    assert {"Homepage", "Source", "Changelog"} <= set(project["urls"]) and project["classifiers"]
    import coopsim

    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and f"## [{coopsim.__version__}] - " in changelog
    yaml = pytest.importorskip("yaml")
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    assert {"message", "title", "authors", "version", "license", "date-released"} <= set(cff)
    assert cff["version"] == coopsim.__version__ and cff["license"] == project["license"]
    for folder in ("coopsim", "envs", "mechanisms"):
        assert (ROOT / folder / "py.typed").exists()


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
    # ~0.15-0.3 s on an idle 2-core machine (gymnasium for the registration is most of it), up to ~2 s
    # on a loaded one; the module check above is the sharp guard, the bound catches gross regressions.
    assert min(float(r[0]) for r in runs) < 3.0


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


# ----------------------------------------------------------------------------------------------
# the wheel, installed without the source tree
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_wheel_installs_and_runs_without_the_source_tree(tmp_path):
    """Build the wheel, install it into a fresh venv, run ``coopsim`` from a folder outside the repo."""
    import zipfile

    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "-w", str(wheels), "--no-deps", "-q"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = wheels.glob("coopsim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("coopsim/py.typed", "coopsim/envs/py.typed", "coopsim/mechanisms/py.typed"):
        assert required in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    shipped = {n.removeprefix("coopsim/examples/") for n in names if n.startswith("coopsim/examples/")}
    assert shipped == {p.name for p in (ROOT / "experiments" / "specs").glob("*.toml")}
    assert not any(n.startswith(("envs/", "mechanisms/", "experiments/", "tests/")) for n in names)

    # A fresh venv whose dependencies come from this interpreter's site-packages through a .pth
    # file: .pth files inside that folder (the editable install's finder) are not processed, so
    # only the wheel provides coopsim.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    (site,) = (venv / "lib").glob("python3*/site-packages")
    deps = [p for p in map(Path, sys.path) if p.name == "site-packages" and p.is_dir()]
    (site / "deps.pth").write_text("\n".join(map(str, deps)) + "\n")
    py, exe = venv / "bin" / "python", venv / "bin" / "coopsim"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "-q", str(wheel)]
        if _pip_has_python_option()
        else [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--prefix", str(venv), str(wheel)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    work = tmp_path / "work"
    work.mkdir()

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=work, capture_output=True, text=True, timeout=600)

    where = run(str(py), "-c", "import coopsim, coopsim.envs, coopsim.mechanisms; print(coopsim.__file__)")
    assert where.returncode == 0, where.stderr
    assert where.stdout.strip().startswith(str(site)), f"coopsim imported from {where.stdout}"
    import coopsim

    assert run(str(exe), "--version").stdout.strip() == f"coopsim {coopsim.__version__}"
    res = run(str(exe), "run", "facility_compare", "--out", str(tmp_path / "x"), "--workers", "2")
    assert res.returncode == 0, res.stderr[-3000:]
    assert "36 done, 0 failed" in res.stdout
    assert len(list((tmp_path / "x" / "units").glob("*.parquet"))) == 36
    copied = run(str(exe), "examples", "specs")
    assert copied.returncode == 0 and (work / "specs" / "facility_compare.toml").exists()
    typed = run(
        str(py), "-c", "import importlib.resources as r; print(r.files('coopsim').joinpath('py.typed').is_file())"
    )
    assert typed.stdout.strip() == "True"


def _pip_has_python_option() -> bool:
    """``pip --python`` (pip >= 22.3) installs into another interpreter's environment."""
    out = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, timeout=60)
    major, minor = (int(x) for x in out.stdout.split()[1].split(".")[:2])
    return (major, minor) >= (22, 3)


def test_ci_runs_the_readme_test_command():
    """``.ci/run`` runs the README's test command verbatim, then ruff and the type checker."""
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    command = ci[ci.index("# --- the README's test command (keep the two in sync) ---") + 1]
    assert command in readme
    assert "pytest -q -n auto" in command and '".[test,ray,dev,docs]"' in command
    for line in ("ruff check .", "ruff format --check .", "python tools/typecheck.py"):
        assert line in ci
