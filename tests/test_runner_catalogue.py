"""The results catalogue (SQLite), verified unit files, load/compact, spec drift and legacy folders."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pytest

from coopsim import runner
from coopsim.cli import main as cli_main
from coopsim.runner import catalogue, store

PY = sys.executable


def walk_spec(name="w", seeds=3, rounds=40, **fn):
    return {
        "experiment": {"name": name, "rounds": rounds, "batch": 5, "record_every": 10, "seeds": seeds},
        "function": {"name": "random_walk", **fn},
        "grid": {"function.drift": [0.0, 0.25]},
    }


def table(df: pd.DataFrame) -> pd.DataFrame:
    cols = sorted(c for c in df.columns if c != "spec_fingerprint")
    return df[cols].sort_values(["unit", "metric", "round"]).reset_index(drop=True)


def serial(tmp_path, spec, name="ref") -> pd.DataFrame:
    res = runner.run(spec, executor="serial", out=tmp_path / name, progress=False)
    assert res.ok
    return table(runner.load(tmp_path / name))


def run_cli(*args) -> tuple[int, str]:
    """``coopsim ARGS`` in a subprocess: (exit code, stderr)."""
    p = subprocess.run([PY, "-m", "coopsim.cli", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stderr


# ----------------------------------------------------------------------------------------------
def test_catalogue_tables_and_records(tmp_path):
    out = tmp_path / "o"
    res = runner.run(walk_spec(), executor="serial", out=out, retries=1, progress=False)
    assert (res.done, res.failed) == (6, 0)
    con = sqlite3.connect(out / catalogue.CATALOGUE)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA application_id").fetchone()[0] == catalogue.APP_ID
    assert con.execute("SELECT count(*) FROM units WHERE status = 'done'").fetchone()[0] == 6
    assert con.execute("SELECT count(*) FROM units WHERE claim_run IS NOT NULL").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM attempts").fetchone()[0] == 6
    rows = con.execute("SELECT path, rows, bytes, sha256 FROM files").fetchall()
    assert len(rows) == 6
    for path, n, size, sha in rows:
        data = (out / path).read_bytes()
        assert len(data) == size and n == 8  # 2 metrics x 4 recorded rounds
        assert __import__("hashlib").sha256(data).hexdigest() == sha
    (fp,) = con.execute("SELECT fingerprint FROM specs").fetchone()
    assert fp == catalogue.fingerprint(catalogue.spec_flat(runner.load_spec(walk_spec())))
    man = runner.read_manifest(out)
    assert man["runs"][-1]["status"] == "finished" and man["runs"][-1]["done"] == 6
    assert {u["status"] for u in man["units"].values()} == {"done"}
    # the export is the same dict as JSON
    path = runner.export_manifest(out)
    assert json.loads(path.read_text())["units"].keys() == man["units"].keys()


def test_failed_attempts_are_recorded_one_row_each(tmp_path, monkeypatch):
    monkeypatch.setenv("COOPSIM_FLAKY_DIR", str(tmp_path))
    spec = {"experiment": {"name": "fl", "rounds": 10, "seeds": 2}, "function": {"name": "flaky", "failures": 2}}
    res = runner.run(spec, executor="serial", out=tmp_path / "o", retries=2, progress=False)
    assert (res.done, res.failed) == (2, 0)
    con = sqlite3.connect(tmp_path / "o" / catalogue.CATALOGUE)
    rows = con.execute("SELECT key, attempt, status, error FROM attempts ORDER BY key, attempt").fetchall()
    assert [(a, s) for _, a, s, _ in rows] == [(1, "failed"), (2, "failed"), (3, "done")] * 2
    assert all("failing attempt" in e for _, _, s, e in rows if s == "failed")


@pytest.mark.parametrize("damage", ["truncate", "zero", "garbage", "delete"])
def test_bad_unit_file_is_quarantined_and_recomputed(tmp_path, damage):
    out = tmp_path / "o"
    runner.run(walk_spec(), executor="serial", out=out, progress=False)
    victim = sorted((out / "units").glob("*.parquet"))[2]
    data = victim.read_bytes()
    if damage == "truncate":
        victim.write_bytes(data[: len(data) // 2])
    elif damage == "zero":
        victim.write_bytes(b"\0" * len(data))
    elif damage == "garbage":
        victim.write_bytes(os.urandom(len(data)))
    else:
        victim.unlink()
    # load skips it (warning + attrs), never fails the whole folder; strict raises
    with pytest.warns(UserWarning, match="skipped 1 results file"):
        df = runner.load(out)
    assert df["unit"].nunique() == 5 and len(df.attrs["skipped"]) == 1
    assert victim.name in df.attrs["skipped"][0][0]
    if damage != "delete":
        assert not victim.exists() and len(list((out / "units" / "quarantine").iterdir())) == 1
    with pytest.raises(runner.LoadError, match="skipped 1 results file"):
        runner.load(out, strict=True)
    # resume recomputes exactly that unit; the table equals an uninterrupted serial run
    res = runner.run(walk_spec(), executor="serial", out=out, resume=True, progress=False)
    assert (res.done, res.skipped) == (1, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(table(runner.load(out)), serial(tmp_path, walk_spec()))


def test_resume_verifies_files_before_trusting_them(tmp_path):
    out = tmp_path / "o"
    runner.run(walk_spec(), executor="serial", out=out, progress=False)
    victim = sorted((out / "units").glob("*.parquet"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[:-10])  # the catalogue still says done
    res = runner.run(walk_spec(), executor="serial", out=out, resume=True, progress=False)
    assert (res.done, res.skipped) == (1, 5)
    assert res.quarantined == [f"units/{victim.name}: size {len(data) - 10} bytes, catalogue says {len(data)}"]
    pd.testing.assert_frame_equal(table(runner.load(out)), serial(tmp_path, walk_spec()))


def test_stray_files_are_not_loaded_and_orphans_are_adopted(tmp_path):
    out = tmp_path / "o"
    runner.run(walk_spec(), executor="serial", out=out, progress=False)
    frame = pd.DataFrame({"round": [1], "metric": ["m"], "value": [1.0]})
    store.write_unit(out, "strayunit", {"p": 1}, frame)  # not in the catalogue
    (out / "units" / "notes.parquet").write_bytes(b"not parquet")
    with pytest.warns(UserWarning, match="skipped 2"):
        df = runner.load(out)
    assert df["unit"].nunique() == 6 and "strayunit" not in set(df["unit"])
    # a file written by a killed run before its catalogue record: adopted by --resume, not recomputed
    key = sorted(u.key for u in runner.load_spec(walk_spec(seeds=4)).units())[0]
    spec4 = walk_spec(seeds=4)
    one = [u for u in runner.load_spec(spec4).units() if u.key == key][0]
    from coopsim.runner.units import execute

    if not (out / "units" / f"{key}.parquet").exists():
        store.write_unit(out, key, one.params(), execute(one.config))
    res = runner.run(spec4, executor="serial", out=out, resume=True, progress=False, allow_mixed=True)
    assert res.done + res.skipped == 8


def test_load_columns_and_filters_are_pushed_down(tmp_path):
    out = tmp_path / "o"
    runner.run(walk_spec(), executor="serial", out=out, progress=False)
    full = runner.load(out)
    sub = runner.load(out, columns=["unit", "round", "value"], filters=[("metric", "=", "mean"), ("round", ">", 10)])
    assert list(sub.columns) == ["unit", "round", "value"]
    exp = full[(full["metric"] == "mean") & (full["round"] > 10)]
    assert len(sub) == len(exp) == 6 * 3
    assert sorted(sub["value"]) == sorted(exp["value"])
    expr = pc.field("function.drift") == 0.25
    assert set(runner.load(out, filters=expr)["function.drift"]) == {0.25}
    with pytest.raises(ValueError, match="columns: expected names among"):
        runner.load(out, columns=["nope"])
    with pytest.raises(TypeError, match="filters:"):
        runner.load(out, filters="metric == mean")


def test_compact_keeps_resume_and_load(tmp_path):
    out = tmp_path / "o"
    runner.run(walk_spec(seeds=5), executor="process", workers=2, out=out, progress=False)
    before = table(runner.load(out))
    st = runner.compact(out, rows_per_file=30)  # 8 rows per unit: 3 units per part
    assert st["units"] == 10 and st["parts"] == 4
    assert list((out / "units").glob("*.parquet")) == []
    assert len(list((out / "parts").glob("*.parquet"))) == 4
    pd.testing.assert_frame_equal(table(runner.load(out)), before)
    res = runner.run(walk_spec(seeds=5), executor="serial", out=out, resume=True, progress=False)
    assert (res.done, res.skipped) == (0, 10)
    # recomputing units that live in a part: the part's old rows are not read twice
    res = runner.run(walk_spec(seeds=5), executor="serial", out=out, progress=False)
    assert res.done == 10
    pd.testing.assert_frame_equal(table(runner.load(out)), before)
    st = runner.compact(out)
    assert st["units"] == 10 and st["removed"] == 4  # old parts no unit points at are deleted
    pd.testing.assert_frame_equal(table(runner.load(out)), before)
    # a damaged part: its units are skipped by load and recomputed by --resume
    part = next((out / "parts").glob("*.parquet"))
    part.write_bytes(part.read_bytes()[:100])
    with pytest.warns(UserWarning):
        assert runner.load(out).empty
    res = runner.run(walk_spec(seeds=5), executor="serial", out=out, resume=True, progress=False)
    assert res.done == 10
    pd.testing.assert_frame_equal(table(runner.load(out)), before)


def test_run_compacts_when_asked_and_resume_still_skips(tmp_path, monkeypatch):
    from coopsim.runner import engine

    out = tmp_path / "o"
    monkeypatch.setattr(engine, "COMPACT_AFTER", 4)  # the automatic threshold (1000) scaled down
    res = runner.run(walk_spec(), executor="serial", out=out, progress=False)
    assert res.done == 6 and not list((out / "units").glob("*.parquet"))
    assert len(list((out / "parts").glob("*.parquet"))) == 1
    runner.run(walk_spec(), executor="serial", out=tmp_path / "loose", progress=False, compact=False)
    assert len(list((tmp_path / "loose" / "units").glob("*.parquet"))) == 6
    res = runner.run(walk_spec(), executor="serial", out=out, resume=True, progress=False)
    assert (res.done, res.skipped) == (0, 6)
    pd.testing.assert_frame_equal(table(runner.load(out)), table(runner.load(tmp_path / "loose")))


def test_spec_drift_is_refused_with_the_differing_keys(tmp_path, capsys):
    out = tmp_path / "o"
    runner.run(walk_spec(rounds=50), executor="serial", out=out, progress=False)
    with pytest.raises(runner.SpecDriftError, match=r"differing keys: experiment\.rounds\b"):
        runner.run(walk_spec(rounds=40), executor="serial", out=out, resume=True, progress=False)
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(
        '[experiment]\nname = "w"\nrounds = 50\nbatch = 5\nrecord_every = 10\nseeds = 3\n'
        '[function]\nname = "random_walk"\n[grid]\n"function.drift" = [0.0, 0.25]\n'
    )
    code = cli_main(["run", str(spec_file), "--out", str(out), "--resume", "--set", "experiment.rounds=40"])
    err = capsys.readouterr().err
    assert code == 2 and "experiment.rounds" in err and "--allow-mixed" in err and "Traceback" not in err
    # the same spec resumes fine; --allow-mixed adds the units and a spec_fingerprint column
    assert cli_main(["run", str(spec_file), "--out", str(out), "--resume", "--no-progress"]) == 0
    code = cli_main(["run", str(spec_file), "--out", str(out), "--resume", "--no-progress", "--allow-mixed",
                     "--set", "experiment.rounds=40"])  # fmt: skip
    assert code == 0
    df = runner.load(out)
    assert df.groupby("spec_fingerprint")["experiment.rounds"].unique().map(tuple).sort_values().tolist() == [
        (40,),
        (50,),
    ]


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"SQLite format 3\x00" + b"\xff" * 4000, "foreign"])
def test_corrupt_or_foreign_catalogue_is_exit_2_then_repair(tmp_path, content, capsys):
    out = tmp_path / "o"
    runner.run(walk_spec(), executor="serial", out=out, progress=False)
    path = out / catalogue.CATALOGUE
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    if content == "foreign":
        path.unlink()
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (x)")
        con.commit()
        con.close()
    else:
        path.write_bytes(content)
    with pytest.raises(runner.CatalogueError, match="coopsim repair"):
        runner.run(walk_spec(), executor="serial", out=out, resume=True, progress=False)
    code = cli_main(["run", "-", "--out", str(out)])  # a spec error comes first: 2 as well
    assert code == 2
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(json_to_toml(walk_spec()))
    assert cli_main(["run", str(spec_file), "--out", str(out), "--resume", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and f"coopsim repair {out}" in err and "Traceback" not in err
    assert cli_main(["repair", str(out)]) == 0
    assert list(out.glob("catalogue.sqlite.corrupt-*"))  # set aside, not deleted
    res = runner.run(walk_spec(), executor="serial", out=out, resume=True, progress=False)
    assert (res.done, res.skipped) == (0, 6)
    pd.testing.assert_frame_equal(table(runner.load(out)), serial(tmp_path, walk_spec()))


def json_to_toml(spec: dict) -> str:
    lines = []
    for section in ("experiment", "function"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in spec[section].items()]
    lines.append("[grid]")
    lines += [f'"{k}" = {json.dumps(v)}' for k, v in spec["grid"].items()]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("content", ["{}", "[]", "garbage", "", '{"units": {}, "runs": ['])
def test_malformed_legacy_manifest_is_exit_2_not_a_traceback(tmp_path, content):
    out = tmp_path / "o"
    out.mkdir()
    (out / "manifest.json").write_text(content)
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(json_to_toml(walk_spec()))
    code, err = run_cli("run", str(spec_file), "--out", str(out), "--resume", "--no-progress")
    assert code == 2, err
    assert "manifest.json" in err and f"coopsim repair {out}" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (out / catalogue.CATALOGUE).exists()  # nothing created on a refused folder
    assert cli_main(["repair", str(out)]) == 0
    assert cli_main(["run", str(spec_file), "--out", str(out), "--resume", "--no-progress"]) == 0


def test_legacy_manifest_folder_is_migrated(tmp_path):
    out = tmp_path / "o"
    runner.run(walk_spec(), executor="serial", out=out, progress=False)
    man = runner.read_manifest(out)
    legacy = {"format": 1, "coopsim_version": "0.1.0", "spec": man["spec"], "runs": man["runs"], "units": {}}
    for k, u in man["units"].items():
        legacy["units"][k] = {kk: v for kk, v in u.items() if kk in ("status", "config", "attempts", "seconds")}
    for f in out.glob("catalogue.sqlite*"):
        f.unlink()
    (out / "manifest.json").write_text(json.dumps(legacy))
    victim = sorted((out / "units").glob("*.parquet"))[0]
    victim.write_bytes(b"PAR1")  # a bad file in a legacy folder: not trusted
    assert runner.read_manifest(out)["format"] == 1  # reading does not migrate
    res = runner.run(walk_spec(), executor="serial", out=out, resume=True, progress=False)
    assert (res.done, res.skipped) == (1, 5)
    man2 = runner.read_manifest(out)
    assert man2["format"] == 2 and len(man2["runs"]) == 2
    pd.testing.assert_frame_equal(table(runner.load(out)), serial(tmp_path, walk_spec()))


def test_dead_runs_claims_expire(tmp_path):
    out = tmp_path / "o"
    spec = runner.load_spec(walk_spec())
    units = spec.units()
    dead = subprocess.run([PY, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with catalogue.open_catalogue(out) as cat:
        flat = catalogue.spec_flat(spec)
        cat.check_spec(catalogue.fingerprint(flat), flat, {})
        cat.claim("dead-run", units[:3], None, resume=True, since=0.0)
        # as if claimed by a process that has died (same host) and by a live one on another host
        cat.con.execute("UPDATE units SET claim_pid = ? WHERE claim_run = 'dead-run'", (int(dead.stdout),))
        cat.claim("other-host", units[3:5], None, resume=True, since=0.0)
        cat.con.execute("UPDATE units SET claim_host = 'elsewhere' WHERE claim_run = 'other-host'")
        claimed, done, busy = cat.claim("me", units, None, resume=True, since=0.0)
        assert [u.key for u in busy] == [u.key for u in units[3:5]]
        assert len(claimed) == 4 and not done
        # the other host's lease runs out: its units can be taken
        cat.con.execute("UPDATE units SET claim_expires = 0 WHERE claim_run = 'other-host'")
        claimed, _, busy = cat.claim("me", units[3:5], None, resume=True, since=0.0)
        assert len(claimed) == 2 and not busy


def test_experiment_name_and_timeout_keys(tmp_path):
    long = {**walk_spec(), "experiment": {**walk_spec()["experiment"], "name": "x" * 300}}
    with pytest.raises(runner.SpecError, match=r"experiment\.name: .*at most 200 bytes.*got 300 bytes"):
        runner.load_spec(long)
    for bad in ("a/b", "..", ""):
        with pytest.raises(runner.SpecError, match=r"experiment\.name"):
            runner.load_spec({**walk_spec(), "experiment": {**walk_spec()["experiment"], "name": bad}})
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(json_to_toml(walk_spec()))
    code, err = run_cli("run", str(spec_file), "--check", "--set", f'experiment.name="{"n" * 300}"')
    assert code == 2 and "experiment.name" in err and "Traceback" not in err
    sp = runner.load_spec({**walk_spec(), "experiment": {**walk_spec()["experiment"], "timeout": 2.5}})
    assert sp.timeout == 2.5
    # the timeout is an execution option: same unit keys as without it
    assert [u.key for u in sp.units()] == [u.key for u in runner.load_spec(walk_spec()).units()]
    for bad in (0, -1, "10", True, float("inf")):
        with pytest.raises(runner.SpecError, match=r"experiment\.timeout"):
            runner.load_spec({**walk_spec(), "experiment": {**walk_spec()["experiment"], "timeout": bad}})


def test_exit_codes_debug_and_internal_errors(tmp_path, monkeypatch, capsys):
    out = tmp_path / "o"
    runner.run(walk_spec(), executor="serial", out=out, progress=False)
    (out / catalogue.CATALOGUE).write_bytes(b"junk")
    spec_file = tmp_path / "s.toml"
    spec_file.write_text(json_to_toml(walk_spec()))
    args = ["run", str(spec_file), "--out", str(out), "--resume", "--no-progress"]
    assert cli_main(args) == 2
    with pytest.raises(runner.CatalogueError):  # --debug, anywhere: the traceback instead of one line
        cli_main([*args, "--debug"])
    capsys.readouterr()

    def boom(*a, **k):
        raise RuntimeError("a bug")

    monkeypatch.setattr(runner, "run", boom)
    assert cli_main(["run", str(spec_file), "--out", str(tmp_path / "x")]) == 4
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: a bug" in err and "--debug" in err and len(err.splitlines()) == 1
    assert cli_main(["compact", str(tmp_path / "missing")]) == 2
    assert cli_main(["export-manifest", str(tmp_path / "missing")]) == 2
