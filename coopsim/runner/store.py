"""The results store: Parquet unit files, verified against the SQLite catalogue, read as one dataset.

Layout of an output folder::

    out/
      catalogue.sqlite       units, attempts, runs, spec fingerprints, files (see catalogue.py)
      units/<key>.parquet    one file per finished unit, <key> = hash of its resolved config + replicate
      units/.tmp-*           in-flight writes (renamed into place with os.replace; stale ones cleaned)
      units/quarantine/      files that failed verification (moved aside, never read)
      parts/part-*.parquet   many units per file, written by ``coopsim compact``

Every unit file is complete or absent: it is written under a temporary name in the same folder and
renamed into place, which is atomic on POSIX file systems. Its row count, size and SHA-256 are
recorded in the catalogue when it is written; ``--resume`` and :func:`load` check them, so a
truncated, zeroed or replaced file is quarantined (and recomputed by ``--resume``) instead of
being trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import uuid
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from coopsim.runner import catalogue as catmod

UNITS_DIR = "units"
PARTS_DIR = "parts"
QUARANTINE_DIR = "quarantine"
MANIFEST = catmod.MANIFEST
TMP_PREFIX = ".tmp-"
MEASURE_COLUMNS = ("unit", "round", "metric", "value")
#: temp files from other hosts older than this are treated as stale (seconds)
STALE_FOREIGN_AGE = 6 * 3600
#: rows per compacted file written by :func:`compact`
PART_ROWS = 1_000_000
_THREADS = min(16, 2 * (os.cpu_count() or 1) + 2)


class LoadError(ValueError):
    """``load(..., strict=True)`` met a bad, missing or stray results file."""


now_iso = catmod.now_iso


def units_dir(out: str | Path) -> Path:
    return Path(out) / UNITS_DIR


def unit_path(out: str | Path, key: str) -> Path:
    return units_dir(out) / f"{key}.parquet"


def done_keys(out: str | Path) -> set[str]:
    """Keys of every unit whose loose file ``units/<key>.parquet`` exists (the files on disk, not the
    catalogue: a file is done for the catalogue only once recorded and verified)."""
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


def _info(rel: str, data: bytes | memoryview, table_schema: pa.Schema, rows: int) -> dict[str, Any]:
    return {
        "path": rel,
        "rows": int(rows),
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "schema": table_schema.remove_metadata().serialize().to_pybytes(),
    }


def _write_atomic(final: Path, data: pa.Buffer) -> None:
    """Write ``data`` to a temp file beside ``final`` and rename it into place."""
    tmp = final.parent / f"{TMP_PREFIX}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}-{final.name}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(memoryview(data))
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_unit(out: str | Path, key: str, params: Mapping[str, Any], frame: pd.DataFrame) -> dict[str, Any]:
    """Write one unit's table atomically (temp file in ``units/`` then ``os.replace``).

    Returns what the catalogue records: ``path`` (relative to ``out``), ``rows``, ``bytes``,
    ``sha256`` of the file's bytes and the Arrow ``schema`` (serialized).
    """
    d = units_dir(out)
    d.mkdir(parents=True, exist_ok=True)
    table = unit_table(key, params, frame)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    data = sink.getvalue()
    _write_atomic(unit_path(out, key), data)
    return _info(f"{UNITS_DIR}/{key}.parquet", data, table.schema, table.num_rows)


def inspect_file(out: str | Path, rel: str, key: str | None = None) -> dict[str, Any] | None:
    """Catalogue info of an existing results file, or ``None`` if it is missing, not a readable
    Parquet file, or (with ``key``) not the file of unit ``key`` (used to adopt files written
    before a crash, and to migrate legacy folders)."""
    try:
        data = (Path(out) / rel).read_bytes()
        meta = pq.ParquetFile(pa.BufferReader(data))
        schema = meta.schema_arrow
        if key is not None and (schema.metadata or {}).get(b"coopsim.unit") != key.encode():
            return None
        return _info(rel, data, schema, meta.metadata.num_rows)
    except (OSError, pa.ArrowException, ValueError):
        return None


def units_in(path: str | Path) -> list[str]:
    """Distinct unit keys stored in a results file (a compacted part holds many)."""
    return sorted(set(pq.read_table(path, columns=["unit"]).column("unit").to_pylist()))


def verify_file(out: str | Path, rel: str, expected: Mapping[str, Any]) -> str | None:
    """Why the file ``rel`` does not match its catalogue record (missing, size, SHA-256), or ``None``."""
    p = Path(out) / rel
    try:
        size = p.stat().st_size
        if size != expected["bytes"]:
            return f"size {size} bytes, catalogue says {expected['bytes']}"
        with open(p, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        return f"unreadable ({err.strerror or err})"
    if digest != expected["sha256"]:
        return "checksum mismatch"
    return None


def quarantine(out: str | Path, rel: str) -> Path | None:
    """Move a bad results file to ``units/quarantine/`` (never deleted); ``None`` if it could not be moved."""
    src = Path(out) / rel
    qd = units_dir(out) / QUARANTINE_DIR
    try:
        qd.mkdir(parents=True, exist_ok=True)
        dest = qd / f"{src.name}.{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:4]}"
        os.replace(src, dest)
        return dest
    except OSError:
        return None


_pid_alive = catmod.pid_alive


def clean_stale(out: str | Path) -> list[Path]:
    """Remove temp files left by dead writers (this host: pid gone; other hosts: older than 6 h)
    in ``units/`` and ``parts/``, and a legacy manifest's temp files."""
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
    host = socket.gethostname()
    for entry in (
        e for sub in (UNITS_DIR, PARTS_DIR) if (Path(out) / sub).is_dir() for e in os.scandir(Path(out) / sub)
    ):
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
# the catalogue as a manifest (read_manifest keeps working)
# ----------------------------------------------------------------------------------------------
def read_manifest(out: str | Path) -> dict[str, Any]:
    """The folder's records as a dict in the layout of the former ``manifest.json``: ``format``,
    ``coopsim_version``, ``spec``, ``runs`` (list), ``units`` (``{key: record}``). Read from the
    catalogue; a legacy folder's ``manifest.json`` as it is; an empty skeleton when neither exists."""
    cat = catmod.open_catalogue(out, create=False, read_only=True)
    if cat is not None:
        with cat:
            return cat.manifest()
    if (Path(out) / MANIFEST).exists():
        return catmod._read_legacy(Path(out)) or {}
    return {"format": 2, "coopsim_version": None, "spec": None, "runs": [], "units": {}}


# ----------------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------------
def _parquet_names(d: Path) -> list[str]:
    if not d.is_dir():
        return []
    return sorted(e.name for e in os.scandir(d) if e.name.endswith(".parquet") and not e.name.startswith("."))


def unit_files(path: str | Path) -> list[Path]:
    """Parquet files under a results folder (``units/`` and ``parts/``) or a plain folder, sorted."""
    p = Path(path)
    if p.is_file():
        return [p]
    if (p / UNITS_DIR).is_dir() or (p / PARTS_DIR).is_dir():
        return [p / sub / n for sub in (UNITS_DIR, PARTS_DIR) for n in _parquet_names(p / sub)]
    if not p.is_dir():
        raise FileNotFoundError(f"path: expected a results folder with {UNITS_DIR}/, got {str(p)!r}")
    return [p / n for n in _parquet_names(p)]


def _results_folder(p: Path) -> Path | None:
    """The results folder ``p`` belongs to (``p`` itself, or its parent when ``p`` is ``units/``)."""
    if (p / catmod.CATALOGUE).exists():
        return p
    if p.name == UNITS_DIR and (p.parent / catmod.CATALOGUE).exists():
        return p.parent
    return None


class _Selection:
    """The files :func:`load` reads, what it skipped and why, and the row filter superseded
    compacted rows need."""

    def __init__(self) -> None:
        self.files: list[Path] = []
        self.schemas: list[pa.Schema] | None = []
        self.skipped: list[tuple[str, str]] = []
        self.keep_units: list[str] | None = None
        self.fingerprints: dict[str, str] = {}


def _select_catalogued(out: Path, cat: catmod.Catalogue) -> _Selection:
    """Files holding the catalogue's done units, each verified (size and SHA-256); bad ones are
    quarantined, stray ones (in ``units/``/``parts/`` but not in the catalogue) skipped."""
    sel = _Selection()
    done, files = cat.done_units(), cat.files()
    by_file: dict[str, list[str]] = {}
    for key, (rel, fp) in done.items():
        by_file.setdefault(rel, []).append(key)
        if fp:
            sel.fingerprints[key] = fp
    rels = sorted(r for r in by_file if r)
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        reasons = list(pool.map(lambda r: verify_file(out, r, files[r]) if r in files else "no catalogue record", rels))
    blobs: set[bytes] = set()
    for rel, why in zip(rels, reasons, strict=True):
        if why is None:
            sel.files.append(out / rel)
            blobs.add(files[rel]["schema"])
            continue
        sel.skipped.append((rel, why))
        if why != "missing":
            quarantine(out, rel)
    if any(files[Path(f).relative_to(out).as_posix()]["n_units"] != len(by_file[Path(f).relative_to(out).as_posix()])
           for f in sel.files):  # fmt: skip
        sel.keep_units = sorted(k for f in sel.files for k in by_file[Path(f).relative_to(out).as_posix()])
    sel.schemas = [pa.ipc.read_schema(pa.py_buffer(b)) for b in blobs if b] if all(blobs) else None
    known = set(by_file) | set(files)  # catalogued parts no unit points at any more: removed by compact
    for sub in (UNITS_DIR, PARTS_DIR):
        for name in _parquet_names(out / sub):
            if f"{sub}/{name}" not in known:
                why = "not in the catalogue (stray" + (
                    ", or finished after the last catalogue update: run --resume adopts it)"
                    if sub == UNITS_DIR
                    else ")"
                )
                sel.skipped.append((f"{sub}/{name}", why))
    return sel


def _select_plain(files: Sequence[Path]) -> _Selection:
    """Files of a folder without a catalogue: every readable Parquet file (unreadable ones skipped)."""
    sel = _Selection()

    def schema(f: Path) -> pa.Schema | str:
        try:
            return pq.read_schema(f)
        except (OSError, pa.ArrowException) as err:
            return f"unreadable ({type(err).__name__}: {err})"

    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        for f, s in zip(files, pool.map(schema, files), strict=True):
            if isinstance(s, str):
                sel.skipped.append((str(f), s))
            else:
                sel.files.append(f)
                sel.schemas.append(s.remove_metadata())
    return sel


def _expression(filters: Any) -> pc.Expression | None:
    if filters is None or isinstance(filters, pc.Expression):
        return filters
    try:
        return pq.filters_to_expression(filters)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"filters: expected a pyarrow.compute.Expression or a list of (column, op, value) tuples, "
            f"got {filters!r} ({err})"
        ) from None


def _read_dataset(sel: _Selection, columns: list[str] | None, expr: pc.Expression | None) -> pa.Table:
    """All selected files as one ``pyarrow.dataset`` (schemas unified: int -> float, missing -> null),
    with column projection and the filter pushed down to the Parquet reader."""
    schema = pa.unify_schemas(sel.schemas, promote_options="permissive") if sel.schemas else None
    if schema is None:
        schema = ds.dataset([str(f) for f in sel.files], format="parquet").schema.remove_metadata()
    if columns is not None:
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise ValueError(f"columns: expected names among {schema.names}, got unknown {missing}")
    if sel.keep_units is not None:
        keep = pc.field("unit").isin(pa.array(sel.keep_units, pa.string()))
        expr = keep if expr is None else expr & keep
    dataset = ds.dataset([str(f) for f in sel.files], schema=schema, format="parquet")
    table = dataset.to_table(columns=columns, filter=expr)
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table


_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


def _load_per_file(sel: _Selection, columns: list[str] | None, expr: pc.Expression | None) -> pd.DataFrame:
    """Fallback when a parameter column has different types across units (a string in one, a
    number in another): read file by file and let pandas build object columns."""
    frames = []
    for f in sel.files:
        t = pq.read_table(f, columns=columns, filters=expr)
        if sel.keep_units is not None:
            t = t.filter(pc.field("unit").isin(pa.array(sel.keep_units, pa.string())))
        fr = t.to_pandas()
        for c in fr.columns:
            if isinstance(fr[c].dtype, pd.CategoricalDtype):
                fr[c] = fr[c].astype(object)
        frames.append(fr)
    return pd.concat(frames, ignore_index=True)


def load(
    path: str | Path,
    columns: Iterable[str] | None = None,
    filters: Any = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Read a results folder into a tidy pandas DataFrame.

    One row per unit x recorded round x metric: ``unit`` (config hash), ``round``, ``metric``,
    ``value``, any id columns the unit produced (e.g. ``agent``), then the unit's parameters as
    dotted columns (``experiment.rounds``, ``env.n_agents``, ``mechanism.name``, ``agents.0.learner``,
    ``replicate``, ...). ``columns`` projects and ``filters`` (a ``pyarrow.compute`` expression or
    ``[(column, op, value), ...]``, ANDed) selects rows; both are pushed down to the Parquet reader.

    In a folder with a catalogue, only the files of done units are read, each checked against the
    size and SHA-256 recorded when it was written; a bad file is moved to ``units/quarantine/`` and
    skipped, as are stray files. Skipped files are listed in ``df.attrs["skipped"]`` as ``(path,
    reason)`` pairs, with a warning; ``strict=True`` raises :class:`LoadError` instead. A folder
    holding units of several specs (``--allow-mixed``) gets a ``spec_fingerprint`` column.
    """
    p = Path(path)
    cols = list(columns) if columns is not None else None
    expr = _expression(filters)
    out = _results_folder(p) if p.is_dir() else None
    cat = catmod.open_catalogue(out, create=False, read_only=True) if out is not None else None
    if cat is not None:
        with cat:
            sel = _select_catalogued(out, cat)
    else:
        sel = _select_plain(unit_files(p))
    if sel.skipped:
        shown = "; ".join(f"{f}: {why}" for f, why in sel.skipped[:5])
        more = f" (+{len(sel.skipped) - 5} more)" if len(sel.skipped) > 5 else ""
        msg = f"load: skipped {len(sel.skipped)} results file(s) under {str(p)!r}: {shown}{more}"
        if strict:
            raise LoadError(msg)
        warnings.warn(msg, stacklevel=2)
    if not sel.files:
        df = pd.DataFrame(
            {
                "unit": pd.Series([], dtype=object),
                "round": pd.Series([], dtype=np.int64),
                "metric": pd.Series([], dtype=object),
                "value": pd.Series([], dtype=np.float64),
            }
        )
        df = df[cols] if cols is not None and set(cols) <= set(df.columns) else df
    else:
        try:
            df = _read_dataset(sel, cols, expr).to_pandas()
        except _ARROW_ERRORS:
            df = _load_per_file(sel, cols, expr)
        for c in df.columns:  # (fallback path) dictionary-encoded strings come back as categoricals
            if isinstance(df[c].dtype, pd.CategoricalDtype):
                df[c] = df[c].astype(df[c].cat.categories.dtype)
    if len(set(sel.fingerprints.values())) > 1 and "unit" in df.columns:
        df["spec_fingerprint"] = df["unit"].map(sel.fingerprints)
    df.attrs["skipped"] = sel.skipped
    return df


# ----------------------------------------------------------------------------------------------
# compaction
# ----------------------------------------------------------------------------------------------
def _chunks(keys: Sequence[str], rows: Mapping[str, int], limit: int) -> list[list[str]]:
    out: list[list[str]] = [[]]
    n = 0
    for k in keys:
        if out[-1] and n + rows[k] > limit:
            out.append([])
            n = 0
        out[-1].append(k)
        n += rows[k]
    return [c for c in out if c]


def compact(out: str | Path, rows_per_file: int = PART_ROWS) -> dict[str, int]:
    """Merge the loose unit files of ``out`` into ``parts/part_*.parquet`` files of about
    ``rows_per_file`` rows (units of one Arrow schema per file, in key order).

    Each part is written atomically and recorded in the catalogue, in one transaction that points
    its units at it, before the loose files are deleted: a crash at any point leaves every unit
    readable and ``--resume`` still skips them. Bad loose files are quarantined and their units
    set back to pending. Returns counts: ``units`` merged, ``parts`` written, ``quarantined``,
    ``removed`` (orphaned parts deleted).
    """
    out = Path(out)
    cat = catmod.open_catalogue(out, create=False)
    if cat is None:
        raise FileNotFoundError(f"out: expected a results folder with {catmod.CATALOGUE}, got {str(out)!r}")
    stats = {"units": 0, "parts": 0, "quarantined": 0, "removed": 0}
    with cat:
        files = cat.files()
        loose = {k: rel for k, (rel, _) in cat.done_units().items() if rel and rel.startswith(UNITS_DIR + "/")}
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            reasons = dict(zip(loose, pool.map(lambda r: verify_file(out, r, files[r]), loose.values()), strict=True))
        bad = [k for k, why in reasons.items() if why is not None]
        for k in bad:
            quarantine(out, loose[k])
        cat.mark_pending(bad, "results file failed verification during compact")
        stats["quarantined"] = len(bad)
        groups: dict[bytes, list[str]] = {}
        for k in sorted(set(loose) - set(bad)):
            groups.setdefault(files[loose[k]]["schema"] or b"", []).append(k)
        (out / PARTS_DIR).mkdir(exist_ok=True)
        for keys in groups.values():
            for chunk in _chunks(keys, {k: files[loose[k]]["rows"] for k in keys}, rows_per_file):
                with ThreadPoolExecutor(max_workers=_THREADS) as pool:
                    tables = list(
                        pool.map(lambda k: pq.read_table(out / loose[k]).replace_schema_metadata(None), chunk)
                    )
                table = pa.concat_tables(tables, promote_options="permissive")
                sink = pa.BufferOutputStream()
                pq.write_table(table, sink, compression="zstd", row_group_size=1 << 17)
                rel = f"{PARTS_DIR}/part_{time.strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:8]}.parquet"
                data = sink.getvalue()
                _write_atomic(out / rel, data)
                info = _info(rel, data, table.schema, table.num_rows)
                cat.move_units(chunk, [loose[k] for k in chunk], info)
                for k in chunk:
                    with contextlib.suppress(FileNotFoundError):
                        (out / loose[k]).unlink()
                stats["units"] += len(chunk)
                stats["parts"] += 1
        referenced = {rel for rel, _ in cat.done_units().values()}
        orphans = [r for r in cat.files() if r.startswith(PARTS_DIR + "/") and r not in referenced]
        for r in orphans:
            with contextlib.suppress(FileNotFoundError):
                (out / r).unlink()
        cat.drop_files(orphans)
        stats["removed"] = len(orphans)
    return stats
