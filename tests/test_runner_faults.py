"""Fault suite: dying workers, timeouts, killed drivers and workers, read-only folders, a full disk,
concurrent runs. Each case ends with a table equal to an uninterrupted serial run, or a clear exit
2/3 with nothing lost."""

from __future__ import annotations

import multiprocessing
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coopsim import runner
from coopsim.runner.units import random_walk, register_function

PY = sys.executable


@register_function("_fault", params=("mode", "drift", "sleep"))
def _fault(
    params: Mapping[str, Any], seed_sequence: np.random.SeedSequence, rounds: int, batch: int, record_every: int
) -> dict[str, np.ndarray]:
    """Test unit: ``mode`` ok (a random walk), exit (``os._exit``), sigkill (kills its own process),
    oom (allocates past an ``RLIMIT_AS`` limit set in the worker), hang (sleeps for an hour)."""
    mode = params.get("mode", "ok")
    if mode == "exit":
        os._exit(3)
    elif mode == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "oom":
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, hard))
        try:
            np.ones(2 * 1024**3 // 8 + 1)  # past the limit: MemoryError
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    elif mode == "hang":
        time.sleep(3600)
    if params.get("sleep"):
        time.sleep(float(params["sleep"]))
    return random_walk({"drift": params.get("drift", 0.0)}, seed_sequence, rounds, batch, record_every)


def fault_spec(modes, seeds=3, name="f", **fn):
    return {
        "experiment": {"name": name, "rounds": 20, "batch": 4, "record_every": 10, "seeds": seeds},
        "function": {"name": "_fault", **fn},
        "grid": {"function.mode": list(modes)},
    }


def table(df: pd.DataFrame) -> pd.DataFrame:
    cols = sorted(df.columns)
    return df[cols].sort_values(["unit", "metric", "round"]).reset_index(drop=True)


def reference(tmp_path, spec, name="ref") -> pd.DataFrame:
    res = runner.run(spec, executor="serial", out=tmp_path / name, progress=False)
    assert res.ok
    return table(runner.load(tmp_path / name))


def attempts(out) -> dict[str, int]:
    return {k: u["attempts"] for k, u in runner.read_manifest(out)["units"].items()}


# ----------------------------------------------------------------------------------------------
# dying workers
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["exit", "sigkill", "oom"])
def test_a_dying_unit_is_charged_alone(tmp_path, mode):
    spec = fault_spec(["ok", mode], seeds=6)
    res = runner.run(spec, executor="process", workers=2, out=tmp_path / "o", retries=2, progress=False)
    assert (res.n_units, res.done, res.failed) == (12, 6, 6)
    want = {"exit": "exited with code 3", "sigkill": "killed by signal SIGKILL", "oom": "MemoryError"}[mode]
    assert all(want in err for err in res.failures.values()), res.failures
    # only the dying units were charged (three attempts each); the healthy ones ran once
    man = runner.read_manifest(tmp_path / "o")
    for u in man["units"].values():
        assert u["attempts"] == (3 if u["config"]["function"]["mode"] == mode else 1)
    ok_only = reference(tmp_path, fault_spec(["ok"], seeds=6))
    pd.testing.assert_frame_equal(table(runner.load(tmp_path / "o")), ok_only)


def test_many_dead_workers_with_no_retries(tmp_path):
    # the reported failure: with --retries 0 healthy units were recorded failed beside a dying one
    spec = fault_spec(["ok", "exit", "ok2"], seeds=4)
    spec["grid"]["function.mode"] = ["ok", "exit", "sigkill"]
    res = runner.run(spec, executor="process", workers=2, out=tmp_path / "o", progress=False)
    assert (res.done, res.failed) == (4, 8)
    assert set(attempts(tmp_path / "o").values()) == {1}


def test_workers_killed_from_outside_at_random_are_retried(tmp_path):
    spec = fault_spec(["ok"], seeds=16, sleep=0.15)
    stop = threading.Event()
    killed: list[int] = []

    def killer():
        rng = random.Random(7)
        while not stop.is_set() and len(killed) < 3:
            time.sleep(rng.uniform(0.2, 0.5))
            kids = [p for p in multiprocessing.active_children() if p.name == "coopsim-worker"]
            if kids:
                victim = rng.choice(kids)
                with __import__("contextlib").suppress(ProcessLookupError):
                    os.kill(victim.pid, signal.SIGKILL)
                    killed.append(victim.pid)

    t = threading.Thread(target=killer)
    t.start()
    try:
        res = runner.run(spec, executor="process", workers=2, out=tmp_path / "o", retries=3, progress=False)
    finally:
        stop.set()
        t.join()
    assert killed and (res.done, res.failed) == (16, 0)
    assert sum(attempts(tmp_path / "o").values()) <= 16 + len(killed)
    pd.testing.assert_frame_equal(table(runner.load(tmp_path / "o")), reference(tmp_path, spec))


# ----------------------------------------------------------------------------------------------
# timeouts
# ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("executor", ["process", "serial"])
def test_a_hanging_unit_times_out_and_is_retried(tmp_path, executor):
    spec = fault_spec(["ok", "hang"], seeds=2)
    t0 = time.monotonic()
    res = runner.run(spec, executor=executor, workers=2, out=tmp_path / "o", retries=1, timeout=1.0, progress=False)
    assert time.monotonic() - t0 < 30
    assert (res.done, res.failed) == (2, 2)
    assert all(err.startswith("timeout") for err in res.failures.values())
    man = runner.read_manifest(tmp_path / "o")
    hung = [u for u in man["units"].values() if u["status"] == "failed"]
    assert all(u["attempts"] == 2 and "timeout" in u["error"] for u in hung)
    pd.testing.assert_frame_equal(table(runner.load(tmp_path / "o")), reference(tmp_path, fault_spec(["ok"], 2)))


def test_timeout_from_the_spec_and_the_cli(tmp_path):
    spec = fault_spec(["hang"], seeds=1)
    spec["experiment"]["timeout"] = 0.5
    res = runner.run(spec, executor="process", workers=1, out=tmp_path / "o", progress=False)
    assert res.failed == 1 and "0.5 s" in next(iter(res.failures.values()))
    p = subprocess.run(
        [PY, "-m", "coopsim.cli", "run", "x.toml", "--timeout", "-1"], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 2 and "--timeout" in p.stderr


@pytest.mark.slow
@pytest.mark.xdist_group("ray")  # one local Ray cluster at a time under pytest -n
def test_ray_timeout(tmp_path):
    # Ray workers import coopsim afresh: only installed unit functions exist there (random_walk)
    ray = pytest.importorskip("ray")
    spec = {
        "experiment": {"name": "rt", "rounds": 20, "batch": 4, "record_every": 10, "seeds": 2},
        "function": {"name": "random_walk"},
        "grid": {"function.sleep": [0.0, 600.0]},
    }
    ref = {**spec, "grid": {"function.sleep": [0.0]}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
    try:
        # warm the workers first: on Ray the timeout counts from submission, worker start-up included
        assert runner.run(ref, executor="ray", out=tmp_path / "warm", progress=False).ok
        t0 = time.monotonic()
        res = runner.run(spec, executor="ray", out=tmp_path / "r", timeout=8.0, retries=1, progress=False)
        assert time.monotonic() - t0 < 90
        assert (res.done, res.failed) == (2, 2)
        assert all(e.startswith("timeout") for e in res.failures.values())
    finally:
        ray.shutdown()
    man = runner.read_manifest(tmp_path / "r")
    assert sorted(u["attempts"] for u in man["units"].values()) == [1, 1, 2, 2]
    pd.testing.assert_frame_equal(table(runner.load(tmp_path / "r")), reference(tmp_path, ref))


# ----------------------------------------------------------------------------------------------
# killed drivers, concurrent runs (subprocesses running `coopsim run`)
# ----------------------------------------------------------------------------------------------
def write_spec(path: Path, units: int, sleep: float, name: str = "kill") -> Path:
    path.write_text(
        f'[experiment]\nname = "{name}"\nrounds = 40\nbatch = 5\nrecord_every = 10\nseeds = {units // 2}\n'
        f'[function]\nname = "random_walk"\nsleep = {sleep}\n[grid]\n"function.drift" = [0.0, 0.5]\n'
    )
    return path


def cli(*args, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [PY, "-m", "coopsim.cli", *args],
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


@pytest.mark.slow
def test_driver_killed_at_random_points_then_resumed(tmp_path):
    spec = write_spec(tmp_path / "k.toml", units=20, sleep=0.05)
    out = tmp_path / "o"
    rng = random.Random(3)
    for executor in ("process", "serial", "process"):
        proc = cli("run", str(spec), "--executor", executor, "--workers", "2", "--out", str(out), "--resume",
                   "--no-progress")  # fmt: skip
        time.sleep(rng.uniform(0.8, 2.0))  # interpreter start, then somewhere in the sweep
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    final = cli("run", str(spec), "--executor", "process", "--workers", "2", "--out", str(out), "--resume",
                "--no-progress")  # fmt: skip
    stdout, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr
    ref = cli("run", str(spec), "--executor", "serial", "--out", str(tmp_path / "ref"), "--no-progress")
    assert ref.wait(timeout=120) == 0
    pd.testing.assert_frame_equal(table(runner.load(out)), table(runner.load(tmp_path / "ref")))
    man = runner.read_manifest(out)
    assert sum(u["status"] == "done" for u in man["units"].values()) == 20
    assert not any(n.name.startswith(".tmp-") for n in out.rglob("*"))


def test_three_concurrent_runs_compute_each_unit_once(tmp_path):
    spec = write_spec(tmp_path / "c.toml", units=18, sleep=0.05, name="same")
    out = tmp_path / "o"
    procs = [
        cli("run", str(spec), "--executor", ex, "--workers", "2", "--out", str(out), "--resume", "--no-progress")
        for ex in ("serial", "process", "serial")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    man = runner.read_manifest(out)
    assert sum(r["done"] for r in man["runs"]) == 18  # nobody computed a unit twice
    assert all(u["attempts"] == 1 and u["status"] == "done" for u in man["units"].values())
    ref = runner.run(str(spec), executor="serial", out=tmp_path / "ref", progress=False)
    assert ref.ok
    pd.testing.assert_frame_equal(table(runner.load(out)), table(runner.load(tmp_path / "ref")))


# ----------------------------------------------------------------------------------------------
# the environment fails: read-only folder, full disk
# ----------------------------------------------------------------------------------------------
#: run a command as root without the capabilities that bypass file permissions (we run as root here,
#: where chmod alone changes nothing)
NO_DAC = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]


def as_plain_user(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*NO_DAC, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs util-linux setpriv")
def test_read_only_folder_is_exit_3_and_loads(tmp_path):
    spec = write_spec(tmp_path / "s.toml", units=4, sleep=0.0, name="ro")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        for out in (ro, ro / "sub"):
            p = as_plain_user(PY, "-m", "coopsim.cli", "run", str(spec), "--out", str(out), "--no-progress")
            assert p.returncode == 3, p.stderr
            assert "environment error" in p.stderr and "Traceback" not in p.stderr
            assert len(p.stderr.strip().splitlines()) == 1
        # a finished folder that became read-only: resume is exit 3, loading still works
        ro.chmod(0o755)
        assert runner.run(str(spec), executor="serial", out=ro, progress=False).ok
        for f in [ro, *ro.rglob("*")]:
            f.chmod(0o555 if f.is_dir() else 0o444)
        p = as_plain_user(PY, "-m", "coopsim.cli", "run", str(spec), "--out", str(ro), "--resume", "--no-progress")
        assert p.returncode == 3 and "Traceback" not in p.stderr, p.stderr
        p = as_plain_user(PY, "-c", f"from coopsim import runner; print(len(runner.load({str(ro)!r})))")
        assert p.returncode == 0 and int(p.stdout) == 4 * 2 * 4, p.stderr
    finally:
        for f in [ro, *ro.rglob("*")]:
            f.chmod(0o755)
    # an output path below a regular file is the user's mistake: exit 2
    p = subprocess.run([PY, "-m", "coopsim.cli", "run", str(spec), "--out", str(spec / "x"), "--no-progress"],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert p.returncode == 2 and "--out: expected a results folder" in p.stderr and "lies below the file" in p.stderr


def _small_disk(limit: int):
    def pre() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def test_full_disk_is_exit_3_and_resume_recovers(tmp_path):
    spec = write_spec(tmp_path / "d.toml", units=40, sleep=0.0, name="disk")
    out = tmp_path / "o"
    p = subprocess.run([PY, "-m", "coopsim.cli", "run", str(spec), "--out", str(out), "--executor", "serial",
                        "--no-progress"], capture_output=True, text=True, timeout=120,
                       preexec_fn=_small_disk(96 * 1024))  # fmt: skip
    assert p.returncode == 3, p.stderr
    assert "environment error" in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    res = runner.run(str(spec), executor="serial", out=out, resume=True, progress=False)
    assert res.ok and res.done + res.skipped == 40
    ref = runner.run(str(spec), executor="serial", out=tmp_path / "ref", progress=False)
    assert ref.ok
    pd.testing.assert_frame_equal(table(runner.load(out)), table(runner.load(tmp_path / "ref")))
