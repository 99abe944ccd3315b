"""Every shipped experiment spec validates (``coopsim run --check``), documents its commands, and is
listed in ``experiments/README.md``; a few reproduction specs run in reduced form with known targets.

Experiments have one form: a spec plus, where a figure needs it, a script that reads the results
store. No script outside ``experiments/specs`` has a TOML file of its own or edits ``sys.path``, and
every figure script reads ``coopsim.runner.load``; two of them run here on reduced results."""

from __future__ import annotations

import copy
import importlib.util
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from coopsim import runner
from coopsim.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "experiments" / "specs").glob("*.toml"))


def read(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def test_specs_found():
    assert len(SPECS) >= 20


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_validates_and_documents_its_commands(path):
    spec = runner.load_spec(path)  # validates names, builds each game and probes it for two rounds
    assert spec.units()
    head = path.read_text().split("[experiment]")[0]
    assert f"coopsim run experiments/specs/{path.name}" in head
    assert re.search(r"coopsim plot |python -c |python experiments/\S+\.py", head), "no command that draws its figure"
    assert spec.name == path.stem


def test_cli_check_lists_units(capsys):
    assert cli_main(["run", str(ROOT / "experiments/specs/info_online_regret.toml"), "--check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("info_online_regret: 72 units")


#: scripts that are not experiments: training and shipping the learned auctions' weights
TOOLS = {"design/train_regretnet.py", "design/finalize_regretnet.py", "design/export_weights.py"}
SCRIPTS = sorted(p for p in (ROOT / "experiments").rglob("*.py") if "__pycache__" not in p.parts)


def test_experiments_have_one_form():
    assert len(SCRIPTS) >= 15
    own_toml = [p.relative_to(ROOT) for p in (ROOT / "experiments").rglob("*.toml") if p.parent.name != "specs"]
    assert own_toml == [], f"config files outside experiments/specs: {own_toml}"
    for path in SCRIPTS:
        rel = path.relative_to(ROOT / "experiments").as_posix()
        text = path.read_text(encoding="utf-8")
        assert "sys.path" not in text, f"{rel} edits sys.path"
        assert "tomllib" not in text, f"{rel} reads a config file of its own"
        if rel not in TOOLS:
            reads = re.search(r"runner\.load\(|from coopsim\.runner import [^\n]*\bload\b", text)
            assert reads, f"{rel} does not read the results store (coopsim.runner.load)"
            spec_names = re.findall(r"experiments/specs/(\w+)\.toml", text)
            assert spec_names, f"{rel} names no spec"
            missing = [s for s in spec_names if not (ROOT / "experiments" / "specs" / f"{s}.toml").exists()]
            assert not missing, f"{rel} names specs that do not exist: {missing}"


def script(rel: str):
    """Import ``experiments/<rel>`` as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(f"experiment_{Path(rel).stem}", ROOT / "experiments" / rel)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cost_of_effort_script_reads_the_store(tmp_path):
    run_reduced("info_cost_of_effort", tmp_path, grid={"function.instance": ["A"], "function.cost": [0.0, 0.01, 0.1]})
    df = script("information_acquisition/cost_of_effort.py").main(str(tmp_path / "info_cost_of_effort"))
    lp = df[(df.scheme == "lp") & (df.cost > 0)].set_index("cost")
    np.testing.assert_allclose(lp.payment / lp.index, 8 / 3, rtol=1e-6)  # the LP pays Lambda c / (Lambda - 1)
    quad = df[(df.scheme == "quadratic") & (df["mode"] == "simplex")].set_index("cost")
    assert quad.loc[0.01, "effort"] and not quad.loc[0.1, "effort"]
    assert (tmp_path / "info_cost_of_effort" / "cost_of_effort.png").stat().st_size > 10_000


def test_aigc_script_reads_the_store(tmp_path):
    run_reduced("auction_aigc", tmp_path, {"experiment.batch": 20}, grid={"function.K": [1, 4]})
    w = script("position_auctions/aigc_comparison.py").main(str(tmp_path / "auction_aigc"))
    assert len(w) == 8 and set(w["model"]) == {"additive", "mnl", "cascade-stop", "cascade-continuation"}
    assert (w["efficiency_vcg"] == 1.0).all() and (w["efficiency_gsp"] <= 1.0 + 1e-12).all()
    assert (w["welfare_vcg_se"] > 0).all()


def test_readme_lists_every_spec():
    text = (ROOT / "experiments" / "README.md").read_text()
    missing = [p.name for p in SPECS if p.name not in text]
    assert not missing, f"experiments/README.md does not list {missing}"


def run_reduced(name: str, tmp_path: Path, overrides: dict | None = None, grid: dict | None = None):
    raw = read(ROOT / "experiments" / "specs" / f"{name}.toml")
    raw = runner.spec.apply_overrides(raw, overrides or {})  # what `coopsim run --set` does
    if grid is not None:
        raw = copy.deepcopy(raw)
        raw["grid"] = grid
    res = runner.run(raw, executor="serial", out=tmp_path / name, progress=False)
    assert res.ok, res.failures
    df = runner.load(tmp_path / name)
    return df[df["round"] == df.groupby("unit")["round"].transform("max")]


def test_rps_average_policy_near_uniform(tmp_path):
    last = run_reduced(
        "learning_matrix_rps",
        tmp_path,
        {"experiment.rounds": 2000, "experiment.batch": 4, "experiment.record_every": 500},
    )
    ex = last[last.metric == "exploitability_avg"].set_index("agents.0.learner")["value"]
    assert set(ex.index) == {"hedge", "regret_matching", "rm_plus"}
    assert (ex < 0.05).all(), ex  # NashConv/2 of the average policy: 0 exactly at (1/3, 1/3, 1/3)


def test_economy_incentive_ordering(tmp_path):
    last = run_reduced(
        "economy_incentive",
        tmp_path,
        {"experiment.rounds": 200, "experiment.batch": 8, "experiment.record_every": 100},
        grid={"function.t1_share": [0.40, 1.0]},
    )
    gap = last[last.metric == "gap_operating"].set_index("function.t1_share")["value"]
    # Assumption 2 (default market): robustness investors out-earn capability investors; demand
    # concentrated on T1 removes the advantage
    assert gap[0.40] > 0.5
    assert gap[1.0] < gap[0.40] - 0.5


def test_cost_of_effort_slopes(tmp_path):
    last = run_reduced("info_cost_of_effort", tmp_path, grid={"function.instance": ["A"], "function.cost": [0.01, 0.1]})
    w = last.pivot_table(index="function.cost", columns="metric", values="value")
    # Instance A: payment per unit of cost 8/3 (LP) and 28/3 (quadratic rule over the full simplex)
    np.testing.assert_allclose(w["payment_lp"] / w.index, 8 / 3, rtol=1e-6)
    np.testing.assert_allclose(w["payment_quadratic_simplex"] / w.index, 28 / 3, rtol=1e-6)
    assert (w["effort_lp"] == 1).all() and w.loc[0.1, "effort_quadratic_simplex"] == 0
