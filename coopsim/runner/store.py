"""The results store: a Parquet dataset (one file per finished unit) plus ``manifest.json``.

Layout of an output folder::

    out/
      manifest.json          coopsim version, spec, runs, and one record per unit (status, timings, host)
      .manifest.lock         fcntl lock serialising manifest updates between concurrent runs
      units/<key>.parquet    one file per finished unit, <key> = hash of its resolved config + replicate
      units/.tmp-*           in-flight writes (renamed into place with os.replace; stale ones cleaned)

Every unit file is complete or absent: it is written under a temporary name in the same folder
and renamed into place, which is atomic on POSIX file systems. A unit file is the source of
truth for "done": ``--resume`` skips every unit whose file exists, whatever the manifest says.
The manifest is merged (never overwritten) under an exclusive ``flock``, so two runs writing into
the same folder at once keep each other's records.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import socket
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

UNITS_DIR = "units"
MANIFEST = "manifest.json"
LOCK = ".manifest.lock"
TMP_PREFIX = ".tmp-"
MEASURE_COLUMNS = ("unit", "round", "metric", "value")
#: temp files from other hosts older than this are treated as stale (seconds)
STALE_FOREIGN_AGE = 6 * 3600


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def units_dir(out: str | Path) -> Path:
    return Path(out) / UNITS_DIR


def unit_path(out: str | Path, key: str) -> Path:
    return units_dir(out) / f"{key}.parquet"


def done_keys(out: str | Path) -> set[str]:
    """Keys of every unit whose results file exists."""
    d = units_dir(out)
    if not d.is_dir():
        return set()
    return {
        p.name[: -len(".parquet")] for p in os.scandir(d) if p.name.endswith(".parquet") and not p.name.startswith(".")
    }


def _constant(value: Any, n: int) -> pa.Array:
    """A length-``n`` column holding ``value`` (strings dictionary-encoded, numbers via NumPy)."""
    if value is None:
        return pa.nulls(n, pa.null())
    if isinstance(value, str):
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, dtype=np.int32)), pa.array([value], pa.string()))
    if isinstance(value, bool):
        return pa.array(np.full(n, value, dtype=bool))
    if isinstance(value, int):
        return pa.array(np.full(n, value, dtype=np.int64))
    if isinstance(value, float):
        return pa.array(np.full(n, value, dtype=np.float64))
    return pa.array([value] * n)


def unit_table(key: str, params: Mapping[str, Any], frame: pd.DataFrame) -> pa.Table:
    """The Arrow table stored for one unit: ``unit, round, metric, value, <id columns>, <params>``."""
    n = len(frame)
    extra = [c for c in frame.columns if c not in MEASURE_COLUMNS]
    metric = frame["metric"].to_numpy(dtype=object)
    names, codes = np.unique(metric.astype(str), return_inverse=True)
    cols: dict[str, pa.Array] = {
        "unit": _constant(key, n),
        "round": pa.array(frame["round"].to_numpy(dtype=np.int64)),
        "metric": pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32)), pa.array(names.tolist(), pa.string())
        ),
        "value": pa.array(frame["value"].to_numpy(dtype=np.float64)),
    }
    for c in extra:
        cols[str(c)] = pa.array(frame[c].to_numpy())
    for name in sorted(params):
        if name not in cols:
            cols[name] = _constant(params[name], n)
    table = pa.table(cols)
    return table.replace_schema_metadata(
        {b"coopsim.unit": key.encode(), b"coopsim.params": json.dumps(dict(params), sort_keys=True).encode()}
    )


def write_unit(out: str | Path, key: str, params: Mapping[str, Any], frame: pd.DataFrame) -> Path:
    """Write one unit's table atomically: temp file in ``units/`` then ``os.replace``."""
    d = units_dir(out)
    d.mkdir(parents=True, exist_ok=True)
    final = unit_path(out, key)
    tmp = d / f"{TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}-{key}.parquet"
    try:
        pq.write_table(unit_table(key, params, frame), tmp, compression="zstd")
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return final


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(out: str | Path) -> list[Path]:
    """Remove temp files left by dead writers (this host: pid gone; other hosts: older than 6 h)."""
    d = units_dir(out)
    removed: list[Path] = []
    # manifest temp files: .manifest.json.<pid>.<rand>.tmp (always written on this host's lock)
    if Path(out).is_dir():
        for entry in os.scandir(out):
            if entry.name.startswith(f".{MANIFEST}.") and entry.name.endswith(".tmp"):
                pid_s = entry.name[len(MANIFEST) + 2 :].split(".")[0]
                if pid_s.isdigit() and not _pid_alive(int(pid_s)):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
    if not d.is_dir():
        return removed
    host = socket.gethostname()
    for entry in os.scandir(d):
        if not entry.name.startswith(TMP_PREFIX):
            continue
        # name: .tmp-<host>-<pid>-<rand8>-<key>.parquet (the host may contain dashes)
        parts = entry.name[len(TMP_PREFIX) :].split("-")
        pid_s = parts[-3] if len(parts) >= 4 else ""
        h = "-".join(parts[:-3])
        stale = False
        if h == host and pid_s.isdigit():
            stale = not _pid_alive(int(pid_s))
        else:
            with contextlib.suppress(FileNotFoundError):
                stale = time.time() - entry.stat().st_mtime > STALE_FOREIGN_AGE
        if stale:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


# ----------------------------------------------------------------------------------------------
# manifest
# ----------------------------------------------------------------------------------------------
try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


@contextlib.contextmanager
def manifest_lock(out: str | Path):
    """Exclusive ``fcntl.flock`` on ``out/.manifest.lock`` (blocks until granted; ``msvcrt.locking``
    on Windows)."""
    Path(out).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(out) / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:  # pragma: no cover - Windows
            import msvcrt

            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    time.sleep(0.05)
        yield
    finally:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        else:  # pragma: no cover - Windows
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        os.close(fd)


def read_manifest(out: str | Path) -> dict[str, Any]:
    """The manifest as a dict (an empty skeleton when absent)."""
    p = Path(out) / MANIFEST
    if not p.exists():
        return {"format": 1, "coopsim_version": None, "spec": None, "runs": [], "units": {}}
    with p.open() as fh:
        return json.load(fh)


_RANK = {"pending": 0, "failed": 1, "done": 2}


def update_manifest(
    out: str | Path,
    *,
    units: Mapping[str, Mapping[str, Any]] | None = None,
    run: Mapping[str, Any] | None = None,
    spec: Any = None,
) -> dict[str, Any]:
    """Merge unit records, a run record and the spec into ``manifest.json`` under the lock.

    A unit's record is replaced unless that would downgrade its status (``done`` beats ``failed``
    beats ``pending``), so a concurrent run's success is never overwritten by a failure.
    The file is written to a temp name and ``os.replace``d, so readers never see half a manifest.
    """
    from coopsim import __version__

    with manifest_lock(out):
        man = read_manifest(out)
        man["coopsim_version"] = __version__
        if spec is not None:
            man["spec"] = spec
        for key, rec in (units or {}).items():
            old = man["units"].get(key)
            if old is None or _RANK.get(rec.get("status"), 0) >= _RANK.get(old.get("status"), 0):
                man["units"][key] = dict(rec)
        if run is not None:
            runs = [r for r in man["runs"] if r.get("run_id") != run.get("run_id")]
            runs.append(dict(run))
            man["runs"] = runs
        tmp = Path(out) / f".{MANIFEST}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        with tmp.open("w") as fh:
            fh.write(json.dumps(man, sort_keys=True, default=str))  # dumps + no indent: the C encoder
        os.replace(tmp, Path(out) / MANIFEST)
    return man


# ----------------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------------
def unit_files(path: str | Path) -> list[Path]:
    """Unit files under an output folder (or its ``units/`` folder), sorted by name."""
    p = Path(path)
    if p.is_file():
        return [p]
    d = p / UNITS_DIR if (p / UNITS_DIR).is_dir() else p
    if not d.is_dir():
        raise FileNotFoundError(f"path: expected a results folder with {UNITS_DIR}/, got {str(p)!r}")
    return sorted(Path(e.path) for e in os.scandir(d) if e.name.endswith(".parquet") and not e.name.startswith("."))


def _read_file(path: Path, columns: list[str] | None) -> pa.Table:
    return pq.ParquetFile(path).read(columns=columns)


def load_table(path: str | Path, columns: Iterable[str] | None = None) -> pa.Table:
    """All unit files as one Arrow table, in file-name (unit key) order.

    Files are read in a thread pool and concatenated with permissive schema promotion: a parameter
    column missing from some units is null there, int and float columns unify to float.
    Dictionary-encoded string columns are decoded to plain strings.
    """
    files = unit_files(path)
    cols = list(columns) if columns is not None else None
    if not files:
        return pa.table(
            {
                "unit": pa.array([], pa.string()),
                "round": pa.array([], pa.int64()),
                "metric": pa.array([], pa.string()),
                "value": pa.array([], pa.float64()),
            }
        )
    with ThreadPoolExecutor(max_workers=min(16, 2 * (os.cpu_count() or 1) + 2)) as pool:
        tables = list(pool.map(lambda f: _read_file(f, cols), files))
    tables = [t.replace_schema_metadata(None) for t in tables]
    table = pa.concat_tables(tables, promote_options="permissive")
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table


_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


def _load_per_file(path: str | Path, columns: Iterable[str] | None) -> pd.DataFrame:
    """Fallback when a parameter column has different types across units (a string in one, a
    number in another): read file by file and let pandas build object columns."""
    frames = []
    for f in unit_files(path):
        fr = pq.read_table(f, columns=list(columns) if columns is not None else None).to_pandas()
        for c in fr.columns:
            if isinstance(fr[c].dtype, pd.CategoricalDtype):
                fr[c] = fr[c].astype(object)
        frames.append(fr)
    return pd.concat(frames, ignore_index=True)


def load(path: str | Path, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read a results folder into a tidy pandas DataFrame.

    One row per unit x recorded round x metric: ``unit`` (config hash), ``round``, ``metric``,
    ``value``, any id columns the unit produced (e.g. ``agent``), then the unit's parameters as
    dotted columns (``experiment.rounds``, ``env.n_agents``, ``mechanism.name``,
    ``agents.0.learner``, ``replicate``, ...). Rows come unit by unit in key order, each unit's rows
    in the order its unit function produced them (game units: by metric, round, agent).
    """
    try:
        df = load_table(path, columns).to_pandas()
    except _ARROW_ERRORS:
        df = _load_per_file(path, columns)
    for c in df.columns:  # (fallback path) dictionary-encoded strings come back as categoricals
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(df[c].cat.categories.dtype)
    return df
