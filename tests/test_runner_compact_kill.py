"""Compaction killed at each of its steps loses nothing: load, --resume and the next compaction
handle every intermediate state; a run compacts as it goes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from coopsim import runner
from coopsim.runner import catalogue, engine, store

PY = sys.executable

SPEC = {
    "experiment": {"name": "k", "rounds": 40, "batch": 5, "record_every": 10, "seeds": 3},
    "function": {"name": "random_walk"},
    "grid": {"function.drift": [0.0, 0.25]},
}

#: kill the compaction (os._exit: no cleanup, no finally) at the n-th time it reaches ``step``
KILL = """
import os, sys
from coopsim.runner import store
step, nth = sys.argv[2], int(sys.argv[3])
seen = []
def die(name):
    if name == step:
        seen.append(name)
        if len(seen) == nth:
            os._exit(9)
store._step = die
store.compact(sys.argv[1], rows_per_file=30)  # 8 rows per unit: 3 units per part, 2 parts
sys.exit(3)  # never reached: the step was not hit
"""


def table(df: pd.DataFrame) -> pd.DataFrame:
    return df[sorted(df.columns)].sort_values(["unit", "metric", "round"]).reset_index(drop=True)


def strict_load(out: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no skipped-file warning: nothing is stray, nothing lost
        df = runner.load(out, strict=True)
    assert df.attrs["skipped"] == []
    return table(df)


def uncatalogued(out: Path) -> list[str]:
    with catalogue.open_catalogue(out, create=False, read_only=True) as cat:
        known = set(cat.files())
    return [
        f"{sub}/{p.name}"
        for sub in ("units", "parts")
        if (out / sub).is_dir()
        for p in (out / sub).glob("*.parquet")
        if f"{sub}/{p.name}" not in known
    ]


@pytest.fixture(scope="module")
def loose_folder(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    out = tmp_path_factory.mktemp("kill") / "loose"
    res = runner.run(SPEC, executor="serial", out=out, progress=False, compact=False)
    assert res.done == 6 and len(list((out / "units").glob("*.parquet"))) == 6
    return out, strict_load(out)


@pytest.mark.parametrize(
    ("step", "nth"),
    [
        ("verified", 1),  # files checked, nothing written
        ("part-written", 1),  # first part on disk, not in the catalogue
        ("catalogue-flipped", 1),  # first part recorded, its loose files still there; 3 units loose
        ("catalogue-flipped", 2),  # both parts recorded, no loose file deleted yet
        ("loose-deleted", 1),  # killed while deleting the superseded loose files
        ("loose-deleted", 5),
    ],
)
def test_compaction_killed_at_each_step_loses_nothing(tmp_path, loose_folder, step, nth):
    src, ref = loose_folder
    out = tmp_path / "o"
    shutil.copytree(src, out)
    p = subprocess.run([PY, "-c", KILL, str(out), step, str(nth)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 9, p.stderr
    # load: every unit exactly once, nothing reported skipped (leftovers are not strays)
    pd.testing.assert_frame_equal(strict_load(out), ref)
    # --resume trusts every unit, recomputes nothing and removes a dead compaction's unrecorded part
    res = runner.run(SPEC, executor="serial", out=out, resume=True, progress=False, compact=False)
    assert (res.done, res.skipped, res.quarantined) == (0, 6, [])
    assert uncatalogued(out) == []
    pd.testing.assert_frame_equal(strict_load(out), ref)
    # the next compaction finishes the job: no loose file, no superseded record left
    st = runner.compact(out)
    assert st["quarantined"] == 0
    assert list((out / "units").glob("*.parquet")) == []
    with catalogue.open_catalogue(out, create=False, read_only=True) as cat:
        assert cat.superseded() == [] and cat.count_loose() == 0
        assert all(rel.startswith("parts/") for rel in cat.files())
    assert uncatalogued(out) == []
    pd.testing.assert_frame_equal(strict_load(out), ref)


def test_unrecorded_part_of_a_live_compaction_is_kept(tmp_path, loose_folder):
    """A part not yet in the catalogue whose writer still runs is neither read nor removed."""
    src, ref = loose_folder
    out = tmp_path / "o"
    shutil.copytree(src, out)
    (out / "parts").mkdir()
    live = out / "parts" / f"part_20990101T000000_{store.socket.gethostname()}-{store.os.getpid()}-abcd1234.parquet"
    shutil.copy(next((out / "units").glob("*.parquet")), live)
    pd.testing.assert_frame_equal(strict_load(out), ref)
    with catalogue.open_catalogue(out, create=False) as cat:
        assert store.clean_stale(out, cat) == []
    assert live.exists()


def test_run_compacts_as_it_goes(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "FLUSH_UNITS", 1)
    monkeypatch.setattr(engine, "COMPACT_AFTER", 2)  # the threshold (1000) scaled down
    out = tmp_path / "o"
    res = runner.run(SPEC, executor="serial", out=out, progress=False)
    assert res.done == 6
    assert list((out / "units").glob("*.parquet")) == []
    assert len(list((out / "parts").glob("*.parquet"))) == 3  # one part per 2 recorded units
    ref = runner.run(SPEC, executor="serial", out=tmp_path / "ref", progress=False, compact=False)
    assert ref.done == 6
    pd.testing.assert_frame_equal(strict_load(out), strict_load(tmp_path / "ref"))
    res = runner.run(SPEC, executor="serial", out=out, resume=True, progress=False)
    assert (res.done, res.skipped) == (0, 6)


def test_a_large_run_leaves_no_loose_file(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "FLUSH_UNITS", 1)
    monkeypatch.setattr(engine, "COMPACT_AFTER", 4)  # 6 units: one part after 4, the other 2 at the end
    out = tmp_path / "o"
    assert runner.run(SPEC, executor="serial", out=out, progress=False).done == 6
    assert list((out / "units").glob("*.parquet")) == []
    assert len(list((out / "parts").glob("*.parquet"))) == 2
    assert strict_load(out)["unit"].nunique() == 6
