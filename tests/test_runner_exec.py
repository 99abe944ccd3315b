"""Executors, retries, the results store, kill-and-resume and concurrent runs (more faults in
test_runner_faults.py, the catalogue in test_runner_catalogue.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from coopsim import runner
from coopsim.runner import store

PY = sys.executable


def game_spec(name="g"):
    return {
        "experiment": {"name": name, "rounds": 30, "batch": 8, "record_every": 10, "seeds": 2},
        "env": {"name": "facility_location", "n_agents": 3},
        "mechanism": {"name": "uniform_phantom"},
        "agents": [{"learner": "hedge"}],
        "grid": {"mechanism.name": ["uniform_phantom", "average"]},
    }


def walk_spec(name="w", units=6, **fn):
    return {
        "experiment": {"name": name, "rounds": 40, "batch": 5, "record_every": 10, "seeds": units // 2},
        "function": {"name": "random_walk", **fn},
        "grid": {"function.drift": [0.0, 0.25]},
    }


def sorted_table(df: pd.DataFrame) -> pd.DataFrame:
    cols = sorted(df.columns)
    keys = [c for c in ("unit", "metric", "round", "agent") if c in cols]
    return df[cols].sort_values(keys).reset_index(drop=True)


def no_temp_files(out: Path) -> bool:
    names = [p.name for p in out.rglob("*")]
    return not any(n.startswith(".tmp-") or n.endswith(".tmp") for n in names)


# ----------------------------------------------------------------------------------------------
def test_serial_and_process_give_identical_tables(tmp_path):
    a = runner.run(game_spec(), executor="serial", out=tmp_path / "s", progress=False)
    b = runner.run(game_spec(), executor="process", workers=2, out=tmp_path / "p", progress=False)
    assert a.done == b.done == 4 and a.failed == b.failed == 0
    da, db = sorted_table(runner.load(tmp_path / "s")), sorted_table(runner.load(tmp_path / "p"))
    pd.testing.assert_frame_equal(da, db)
    # one file per unit, named by its key; rows = units x recorded rounds x metrics (x agents)
    keys = {u.key for u in runner.load_spec(game_spec()).units()}
    assert store.done_keys(tmp_path / "s") == keys
    assert set(da["unit"]) == keys
    assert set(da["mechanism.name"]) == {"uniform_phantom", "average"}
    assert sorted(da["round"].unique()) == [10, 20, 30]
    counts = da.groupby(["unit", "metric", "agent"]).size()
    assert (counts == 3).all()


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time under pytest -n
def test_ray_gives_identical_tables_and_survives_a_dying_worker(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    flaky_dir = tmp_path / "flaky"
    flaky_dir.mkdir()
    monkeypatch.setenv("COOPSIM_FLAKY_DIR", str(flaky_dir))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        r = runner.run(game_spec(), executor="ray", out=tmp_path / "r", progress=False)
        assert r.done == 4
        s = runner.run(game_spec(), executor="serial", out=tmp_path / "s", progress=False)
        assert s.done == 4
        pd.testing.assert_frame_equal(
            sorted_table(runner.load(tmp_path / "r")), sorted_table(runner.load(tmp_path / "s"))
        )
        # a worker that dies mid-unit (os._exit) is retried like a raising unit
        spec = {
            "experiment": {"name": "die", "rounds": 10, "seeds": 2},
            "function": {"name": "flaky", "mode": "exit", "failures": 1},
        }
        res = runner.run(spec, executor="ray", out=tmp_path / "die", retries=1, progress=False)
        assert res.done == 2 and res.failed == 0
        man = runner.read_manifest(tmp_path / "die")
        assert all(u["attempts"] == 2 for u in man["units"].values())
        res = runner.run(
            spec | {"experiment": {"name": "die2", "rounds": 11, "seeds": 1}},
            executor="ray",
            out=tmp_path / "die2",
            retries=0,
            progress=False,
        )
        assert res.failed == 1 and "Ray task failed" in next(iter(res.failures.values()))
    finally:
        ray.shutdown()


def test_retries_then_failure_and_the_sweep_goes_on(tmp_path, monkeypatch):
    flaky_dir = tmp_path / "flaky"
    flaky_dir.mkdir()
    monkeypatch.setenv("COOPSIM_FLAKY_DIR", str(flaky_dir))
    spec = {"experiment": {"name": "fl", "rounds": 10, "seeds": 3}, "function": {"name": "flaky", "failures": 2}}
    # two failures, two retries: every unit succeeds on its third attempt
    res = runner.run(spec, executor="serial", out=tmp_path / "a", retries=2, progress=False)
    assert (res.done, res.failed) == (3, 0)
    assert all(u["attempts"] == 3 for u in runner.read_manifest(tmp_path / "a")["units"].values())
    # a unit that always raises: retried, then recorded failed with its traceback; others finish
    spec = walk_spec("mixed", units=4)
    spec["grid"]["function.fail"] = [False, True]
    for ex in ("serial", "process"):
        res = runner.run(spec, executor=ex, workers=2, out=tmp_path / ex, retries=1, progress=False)
        assert (res.n_units, res.done, res.failed, res.exit_code) == (8, 4, 4, 1)
        man = runner.read_manifest(tmp_path / ex)
        failed = [u for u in man["units"].values() if u["status"] == "failed"]
        assert len(failed) == 4
        assert all(
            u["attempts"] == 2 and "failing on purpose" in u["error"] and "Traceback" in u["error"] for u in failed
        )
        assert all(u["config"]["function"]["fail"] for u in failed)
        assert len(store.done_keys(tmp_path / ex)) == 4


def test_process_pool_worker_death_is_retried(tmp_path, monkeypatch):
    flaky_dir = tmp_path / "flaky"
    flaky_dir.mkdir()
    monkeypatch.setenv("COOPSIM_FLAKY_DIR", str(flaky_dir))
    spec = {
        "experiment": {"name": "die", "rounds": 10, "seeds": 3},
        "function": {"name": "flaky", "mode": "exit", "failures": 1},
    }
    res = runner.run(spec, executor="process", workers=2, out=tmp_path / "o", retries=2, progress=False)
    assert (res.done, res.failed) == (3, 0)
    ref = runner.run(
        {**spec, "function": {"name": "random_walk"}}, executor="serial", out=tmp_path / "ref", progress=False
    )
    assert ref.done == 3
    # flaky computes the same walk as random_walk for the same stream... but a different key (config)
    assert len(runner.load(tmp_path / "o")) == len(runner.load(tmp_path / "ref"))


def test_resume_skips_written_units(tmp_path):
    out = tmp_path / "o"
    first = runner.run(walk_spec(units=4), executor="serial", out=out, progress=False)
    assert first.done == 4
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "units").iterdir()}
    # more seeds is another spec: refused unless mixing is allowed (then the table says which spec)
    with pytest.raises(runner.SpecDriftError, match="differing keys: experiment.seeds"):
        runner.run(walk_spec(units=6), executor="serial", out=out, resume=True, progress=False)
    again = runner.run(walk_spec(units=6), executor="serial", out=out, resume=True, progress=False, allow_mixed=True)
    assert (again.skipped, again.done, again.n_units) == (4, 2, 6)
    for p, t in mtimes.items():
        assert p.stat().st_mtime_ns == t
    assert len(store.done_keys(out)) == 6
    df = runner.load(out)
    assert df.groupby(["unit", "metric", "round"]).size().max() == 1
    assert df.groupby("spec_fingerprint")["unit"].nunique().sort_values().tolist() == [2, 4]
    man = runner.read_manifest(out)
    assert len(man["runs"]) == 2 and all(u["status"] == "done" for u in man["units"].values())
    assert man["coopsim_version"] and man["spec"]["function"]["name"] == "random_walk"


def test_atomic_write_and_stale_temp_cleanup(tmp_path):
    out = tmp_path / "o"
    (out / "units").mkdir(parents=True)
    dead = subprocess.run([PY, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    host = __import__("socket").gethostname()
    stale = out / "units" / f".tmp-{host}-{dead_pid}-abcd1234-deadbeef.parquet"
    stale.write_bytes(b"PAR1 half written")
    live = out / "units" / f".tmp-{host}-{os.getpid()}-abcd1234-cafebabe.parquet"
    live.write_bytes(b"PAR1 in flight")
    stale_manifest = out / f".manifest.json.{dead_pid}.ffff0000.tmp"
    stale_manifest.write_text("{")
    removed = store.clean_stale(out)
    assert stale in removed and stale_manifest in removed and live.exists()
    live.unlink()
    # temp files are never read as results
    runner.run(walk_spec(units=2), executor="serial", out=out, progress=False)
    (out / "units" / f".tmp-{host}-{os.getpid()}-abcd1234-x.parquet").write_bytes(b"junk")
    assert len(runner.load(out)) == 2 * 2 * 4  # units x metrics x recorded rounds


def test_load_unifies_parameter_columns(tmp_path):
    out = tmp_path / "o"
    runner.run(walk_spec(units=2), executor="serial", out=out, progress=False)
    spec = walk_spec(units=2)
    spec["function"]["scale"] = 2  # an extra parameter column only some units have
    runner.run(spec, executor="serial", out=out, progress=False, allow_mixed=True)
    df = runner.load(out)
    assert "function.scale" in df.columns
    assert df["function.scale"].isna().sum() == len(df) / 2
    assert set(df["metric"]) == {"mean", "abs_mean"}
    assert df["value"].dtype == np.float64 and df["round"].dtype == np.int64


def _cli(*args, env=None, **kw):
    return subprocess.Popen(
        [PY, "-m", "coopsim.cli", *args],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _write_spec(path: Path, units: int, sleep: float, name: str = "kill") -> Path:
    path.write_text(f"""
[experiment]
name = "{name}"
rounds = 40
batch = 5
record_every = 10
seeds = {units // 2}

[function]
name = "random_walk"
sleep = {sleep}

[grid]
"function.drift" = [0.0, 0.5]
""")
    return path


@pytest.mark.parametrize("executor", ["process", "serial"])
def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path, executor):
    spec = _write_spec(tmp_path / "kill.toml", units=24, sleep=0.12)
    out = tmp_path / "killed"
    proc = _cli("run", str(spec), "--executor", executor, "--workers", "2", "--out", str(out), "--no-progress")
    deadline = time.time() + 60
    while time.time() < deadline and len(store.done_keys(out)) < 5:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the sweep and its pool workers
    proc.wait(timeout=30)
    n_before = len(store.done_keys(out))
    assert 5 <= n_before < 24, n_before
    resumed = _cli(
        "run", str(spec), "--executor", executor, "--workers", "2", "--out", str(out), "--resume", "--no-progress"
    )
    stdout, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert f"{24 - n_before} done, 0 failed, {n_before} skipped of 24 units" in stdout, stdout
    full = _cli("run", str(spec), "--executor", "serial", "--out", str(tmp_path / "full"), "--no-progress")
    assert full.wait(timeout=120) == 0
    a, b = runner.load(out), runner.load(tmp_path / "full")
    pd.testing.assert_frame_equal(sorted_table(a), sorted_table(b))
    assert a.groupby(["unit", "metric", "round"]).size().max() == 1
    assert len(store.done_keys(out)) == 24
    assert no_temp_files(out)
    man = runner.read_manifest(out)
    assert sum(u["status"] == "done" for u in man["units"].values()) == 24


def test_two_runs_into_one_folder_at_once(tmp_path):
    spec_a = _write_spec(tmp_path / "a.toml", units=16, sleep=0.03, name="same")
    out = tmp_path / "shared"
    pa_ = _cli("run", str(spec_a), "--executor", "serial", "--out", str(out), "--no-progress")
    pb_ = _cli("run", str(spec_a), "--executor", "serial", "--out", str(out), "--no-progress", "--resume")
    assert pa_.wait(timeout=120) == 0 and pb_.wait(timeout=120) == 0
    man = runner.read_manifest(out)
    assert len(man["runs"]) == 2
    assert len(man["units"]) == 16 and all(u["status"] == "done" for u in man["units"].values())
    # each unit was computed once: the two runs' done counts add up to 16
    assert sum(r["done"] for r in man["runs"]) == 16
    assert all(u["attempts"] == 1 for u in man["units"].values())
    df = runner.load(out)
    assert df["unit"].nunique() == 16 and df.groupby(["unit", "metric", "round"]).size().max() == 1
    assert no_temp_files(out)


def test_catalogue_updates_from_many_processes_are_all_kept(tmp_path):
    out = tmp_path / "m"
    code = (
        "import sys; from coopsim.runner import catalogue\n"
        "w = sys.argv[1]\n"
        "with catalogue.open_catalogue(sys.argv[2]) as cat:\n"
        "    for i in range(25):\n"
        "        cat.record([{'key': f'{w}-{i}', 'status': 'failed', 'run_id': w, 'attempts': 1, 'error': 'x'}])\n"
    )
    procs = [subprocess.Popen([PY, "-c", code, str(w), str(out)]) for w in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    man = runner.read_manifest(out)
    assert len(man["units"]) == 100 and all(u["status"] == "failed" for u in man["units"].values())


def test_load_handles_a_parameter_with_mixed_types(tmp_path):
    out = tmp_path / "o"
    spec = walk_spec(units=2)
    spec["grid"] = {"function.drift": [0.0, 1]}  # float in one unit, int in the other: promoted
    runner.run(spec, executor="serial", out=out, progress=False)
    df = runner.load(out)
    assert df["function.drift"].dtype == np.float64
    # a string in one unit and a number in another: still loads (object column)
    # (files written outside a run, in a folder without a catalogue: every readable file is read)
    from coopsim.runner import store as st

    frame = pd.DataFrame({"round": [1], "metric": ["m"], "value": [1.0]})
    plain = tmp_path / "plain"
    st.write_unit(plain, "aaaa", {"p": "x"}, frame)
    st.write_unit(plain, "bbbb", {"p": 3}, frame)
    df = runner.load(plain)
    assert set(df.loc[df["unit"].isin(["aaaa", "bbbb"]), "p"]) == {"x", 3}
