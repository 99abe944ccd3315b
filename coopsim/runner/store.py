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
import pyarrow.parquet as pq

from coopsim.core.validation import ParameterTypeError, check_bool, check_int
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


def _writer_dead(host: str, pid_s: str, path: str) -> bool:
    """Whether the process named by ``host``/``pid`` in a file's name is gone (this host: its pid
    is not alive; another host, or no pid: the file is older than :data:`STALE_FOREIGN_AGE`)."""
    if host == socket.gethostname() and pid_s.isdigit():
        return not _pid_alive(int(pid_s))
    try:
        return time.time() - os.stat(path).st_mtime > STALE_FOREIGN_AGE
    except FileNotFoundError:
        return False


def _compaction_part(name: str) -> tuple[str, str] | None:
    """``(host, pid)`` of the compaction that wrote ``parts/<name>`` (``part_<time>_<host>-<pid>-<rand>.parquet``;
    ``("", "")`` for the older ``part_<time>_<rand>.parquet``), or ``None`` for another name."""
    if not (name.startswith("part_") and name.endswith(".parquet")):
        return None
    rest = name[len("part_") : -len(".parquet")].partition("_")[2]
    bits = rest.rsplit("-", 2)
    return (bits[0], bits[1]) if len(bits) == 3 else ("", "")


def clean_stale(out: str | Path, cat: catmod.Catalogue | None = None) -> list[Path]:
    """Remove temp files left by dead writers (this host: pid gone; other hosts: older than 6 h)
    in ``units/`` and ``parts/``, and a legacy manifest's temp files. With the folder's catalogue
    ``cat``, also the parts a killed compaction wrote but never recorded (every unit they hold is
    still read from its own file)."""
    removed: list[Path] = []
    if cat is not None and (Path(out) / PARTS_DIR).is_dir():
        known = {p for (p,) in cat.con.execute(f"SELECT path FROM files WHERE path LIKE '{PARTS_DIR}/%'")}
        for name in _parquet_names(Path(out) / PARTS_DIR):
            writer = _compaction_part(name)
            path = Path(out) / PARTS_DIR / name
            if f"{PARTS_DIR}/{name}" not in known and writer is not None and _writer_dead(*writer, str(path)):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    # manifest temp files: .manifest.json.<pid>.<rand>.tmp (always written on this host's lock)
    if Path(out).is_dir():
        for entry in os.scandir(out):
            if entry.name.startswith(f".{MANIFEST}.") and entry.name.endswith(".tmp"):
                pid_s = entry.name[len(MANIFEST) + 2 :].split(".")[0]
                if pid_s.isdigit() and not _pid_alive(int(pid_s)):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed.append(Path(entry.path))
    for entry in (
        e for sub in (UNITS_DIR, PARTS_DIR) if (Path(out) / sub).is_dir() for e in os.scandir(Path(out) / sub)
    ):
        if not entry.name.startswith(TMP_PREFIX):
            continue
        # name: .tmp-<host>-<pid>-<rand8>-<key>.parquet (the host may contain dashes)
        parts = entry.name[len(TMP_PREFIX) :].split("-")
        pid_s = parts[-3] if len(parts) >= 4 else ""
        if _writer_dead("-".join(parts[:-3]), pid_s, entry.path):
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
    """The files :func:`load` reads (with the catalogue record each is checked against), what it
    skipped and why, and the row filter superseded compacted rows need."""

    def __init__(self) -> None:
        self.files: list[Path] = []
        #: catalogue record (``bytes``, ``sha256``, ...) of each file, ``None`` in a plain folder
        self.records: list[Mapping[str, Any] | None] = []
        self.schemas: list[pa.Schema] | None = []
        self.skipped: list[tuple[str, str]] = []
        self.keep_units: list[str] | None = None
        self.fingerprints: dict[str, str] = {}
        self.out: Path | None = None


def _select_catalogued(out: Path, cat: catmod.Catalogue) -> _Selection:
    """Files holding the catalogue's done units, with the record each is verified against when it is
    read (:func:`_read_files`); stray files (in ``units/``/``parts/`` but not in the catalogue)
    are skipped. Files the catalogue keeps only to delete them (loose files superseded by a
    compaction, ``n_units = 0``) and the output of an interrupted compaction are neither read nor
    reported: every unit they hold is read from the file the catalogue points it at."""
    sel = _Selection()
    sel.out = out
    cat.con.execute("BEGIN")  # one snapshot of both tables (a compaction may commit in between)
    try:
        done, files = cat.done_units(), cat.files()
    finally:
        cat.con.execute("COMMIT")
    by_file: dict[str, list[str]] = {}
    for key, (rel, fp) in done.items():
        by_file.setdefault(rel, []).append(key)
        if fp:
            sel.fingerprints[key] = fp
    blobs: set[bytes] = set()
    partial = False
    for rel in sorted(r for r in by_file if r):
        rec = files.get(rel)
        if rec is None:
            sel.skipped.append((rel, "no catalogue record"))
            continue
        sel.files.append(out / rel)
        sel.records.append(rec)
        blobs.add(rec["schema"])
        partial = partial or rec["n_units"] != len(by_file[rel])
    if partial:
        sel.keep_units = sorted(k for f in sel.files for k in by_file[f.relative_to(out).as_posix()])
    sel.schemas = [pa.ipc.read_schema(pa.py_buffer(b)) for b in blobs if b] if all(blobs) else None
    known = set(by_file) | set(files)  # catalogued files no unit points at any more: removed by compact
    for sub in (UNITS_DIR, PARTS_DIR):
        for name in _parquet_names(out / sub):
            if f"{sub}/{name}" in known or (sub == PARTS_DIR and _compaction_part(name)):
                continue
            why = "not in the catalogue (stray" + (
                ", or finished after the last catalogue update: run --resume adopts it)" if sub == UNITS_DIR else ")"
            )
            sel.skipped.append((f"{sub}/{name}", why))
    return sel


def _select_plain(files: Sequence[Path]) -> _Selection:
    """Files of a folder without a catalogue: every Parquet file (unreadable ones are skipped when read)."""
    sel = _Selection()
    sel.files = list(files)
    sel.records = [None] * len(sel.files)
    sel.schemas = None
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


def _filter_columns(filters: Any) -> set[str] | None:
    """Columns a ``[(column, op, value), ...]`` filter (or a list of such lists) reads; ``None``
    for an expression (all columns are read)."""
    if filters is None:
        return set()
    if isinstance(filters, pc.Expression):
        return None
    terms = [t for group in filters for t in group] if filters and isinstance(filters[0], list) else list(filters)
    return {str(t[0]) for t in terms}


#: threads reading files in :func:`load` (one per core: parsing small files is CPU-bound; more measured slower)
_READ_THREADS = max(2, os.cpu_count() or 1)
#: files at least this large are read with Arrow's own threads and row-group pruning (compacted parts)
_BIG_FILE = 1 << 20


_MISSING = object()


def _constant_type(value: Any) -> pa.DataType | None:
    """The Arrow type :func:`_constant` gives ``value`` (``None`` for values it stores otherwise)."""
    if value is None:
        return pa.null()
    if isinstance(value, str):
        return pa.dictionary(pa.int32(), pa.string())
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    return None


class _Piece:
    """One file as read: the columns parsed from it, and its constant columns (the unit key and the
    unit's parameters, one value for every row) taken from the file's metadata instead of parsed:
    parsing a column of a small file costs more than the whole column's content."""

    def __init__(self, table: pa.Table, consts: dict[str, Any], types: dict[str, pa.DataType],
                 names: list[str], all_names: list[str], rows: int) -> None:  # fmt: skip
        self.table, self.consts, self.types = table, consts, types
        self.names, self.all_names, self.rows = names, all_names, rows

    def full(self) -> pa.Table:
        """The file's table with its constant columns materialised (what parsing them would give)."""
        if not self.consts:
            return self.table
        cols = {
            n: self.table.column(n)
            if n not in self.consts
            else _constant(self.consts[n], self.rows).cast(self.types[n])
            for n in self.names
        }
        return pa.table(cols) if cols else self.table


def _constants(pf: pq.ParquetFile, schema: pa.Schema, wanted: set[str] | None) -> dict[str, Any]:
    """Columns of a unit file that hold one value, the one its ``coopsim.params`` metadata records
    (``unit``: ``coopsim.unit``), checked against the type and the min/max statistics of the column."""
    md = schema.metadata or {}
    raw, key = md.get(b"coopsim.params"), md.get(b"coopsim.unit")
    meta = pf.metadata
    if raw is None or key is None or meta.num_row_groups != 1 or meta.num_columns != len(schema):
        return {}
    params = {**json.loads(raw), "unit": key.decode()}
    rg = meta.row_group(0)
    consts: dict[str, Any] = {}
    for j, field in enumerate(schema):
        if field.name not in params or (wanted is not None and field.name not in wanted):
            continue
        value = params[field.name]
        if _constant_type(value) != field.type:
            continue
        if value is not None:
            st = rg.column(j).statistics
            if st is None or not st.has_min_max or st.null_count != 0 or st.min != value or st.max != value:
                continue
        consts[field.name] = value
    return consts


def _read_one(
    path: Path, rec: Mapping[str, Any] | None, wanted: set[str] | None, expr: pc.Expression | None
) -> _Piece | str:
    """One results file: read its bytes once, check them against the catalogue record (size,
    SHA-256), parse them. Returns the :class:`_Piece` (the ``wanted`` columns it has; all when
    ``None``) or why the file is not used."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return "missing"
    except OSError as err:
        return f"unreadable ({err.strerror or err})"
    if rec is not None:
        if len(data) != rec["bytes"]:
            return f"size {len(data)} bytes, catalogue says {rec['bytes']}"
        if hashlib.sha256(data).hexdigest() != rec["sha256"]:
            return "checksum mismatch"
    try:
        pf = pq.ParquetFile(pa.BufferReader(data))
        schema = pf.schema_arrow
        names = [c for c in schema.names if wanted is None or c in wanted]
        if len(data) >= _BIG_FILE:
            table = pq.read_table(pa.BufferReader(data), columns=names, filters=expr) if expr is not None else None
            table = table if table is not None else pf.read(columns=names)
            return _Piece(table.replace_schema_metadata(None), {}, {}, names, schema.names, table.num_rows)
        consts = _constants(pf, schema, wanted)
        # a small file on one thread (Arrow's pool costs more than the decoding); the files run in parallel
        table = pf.read(columns=[c for c in names if c not in consts], use_threads=False)
        table = table.replace_schema_metadata(None)
        types = {n: schema.field(n).type for n in consts}
        return _Piece(table, consts, types, names, schema.names, pf.metadata.num_rows)
    except (OSError, pa.ArrowException, ValueError) as err:
        return f"unreadable ({type(err).__name__}: {err})"


def _repeat(values: list[Any], rows: np.ndarray, type_: pa.DataType) -> pa.Array:
    """One column of ``rows[i]`` copies of ``values[i]`` (``_MISSING``: null) of type ``type_``."""
    missing = np.array([v is _MISSING for v in values], dtype=bool)
    mask = np.repeat(missing, rows) if missing.any() else None
    if pa.types.is_null(type_):
        return pa.nulls(int(rows.sum()))
    if pa.types.is_dictionary(type_):
        uniq: dict[Any, int] = {}
        codes = np.array([0 if v is _MISSING else uniq.setdefault(v, len(uniq)) for v in values], dtype=np.int32)
        return pa.DictionaryArray.from_arrays(
            pa.array(np.repeat(codes, rows), mask=mask), pa.array(list(uniq), pa.string())
        )
    dtype = {pa.bool_(): bool, pa.int64(): np.int64, pa.float64(): np.float64}[type_]
    filled = np.array([0 if v is _MISSING else v for v in values], dtype=dtype)
    return pa.array(np.repeat(filled, rows), mask=mask)


def _assemble(pieces: list[_Piece]) -> list[pa.Table]:
    """Tables for :func:`_combine` to unify: each compacted part's (or other file's without constant
    columns) as parsed, then the unit files' as one table (:func:`_assemble_units`)."""
    units = [p for p in pieces if p.consts]
    return [p.table for p in pieces if not p.consts] + (_assemble_units(units) if units else [])


def _assemble_units(pieces: list[_Piece]) -> list[pa.Table]:
    """Unit files as one table, constant columns built once for all rows, in the files' column
    order; or, when a constant column is parsed in some files or typed differently in others, as one
    full table per file."""
    ctypes: dict[str, pa.DataType | None] = {}
    parsed: set[str] = set()
    for p in pieces:
        parsed.update(p.table.column_names)
        for n, t in p.types.items():
            if ctypes.setdefault(n, t) != t:
                ctypes[n] = None
    try:
        if any(t is None for t in ctypes.values()) or parsed & set(ctypes):
            raise pa.ArrowTypeError("constant columns differ between files")
        read = pa.concat_tables([p.table for p in pieces], promote_options="permissive") if parsed else None
    except _ARROW_ERRORS:
        return [p.full() for p in pieces]
    order: dict[str, None] = {}
    for names in dict.fromkeys(tuple(p.names) for p in pieces):
        order.update(dict.fromkeys(names))
    rows = np.array([p.rows for p in pieces], dtype=np.int64)
    built = {n: _repeat([p.consts.get(n, _MISSING) for p in pieces], rows, t) for n, t in ctypes.items() if t}
    return [pa.table({n: built[n] if n in built else read.column(n) for n in order})]  # type: ignore[union-attr]


def _read_files(sel: _Selection, columns: list[str] | None, filters: Any, expr: pc.Expression | None) -> list[pa.Table]:
    """Read (and verify) every selected file in a thread pool; bad files go to ``sel.skipped``
    (quarantined when catalogued and present). Raises ``ValueError`` for unknown ``columns``."""
    if columns is not None and sel.schemas:
        names = pa.unify_schemas(sel.schemas, promote_options="permissive").names
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"columns: expected names among {names}, got unknown {missing}")
    fcols = _filter_columns(filters) if expr is not None else set()
    wanted = None if columns is None or fcols is None else set(columns) | fcols | {"unit"}
    with ThreadPoolExecutor(max_workers=_READ_THREADS) as pool:
        got = list(pool.map(lambda i: _read_one(sel.files[i], sel.records[i], wanted, expr), range(len(sel.files))))
    pieces: list[_Piece] = []
    kept: list[Path] = []
    for f, rec, t in zip(sel.files, sel.records, got, strict=True):
        if isinstance(t, str):
            shown = f.relative_to(sel.out).as_posix() if sel.out is not None else str(f)
            sel.skipped.append((shown, t))
            if rec is not None and t != "missing" and sel.out is not None:  # rec: a catalogued folder
                quarantine(sel.out, shown)
        else:
            pieces.append(t)
            kept.append(f)
    sel.files = kept
    if columns is not None and pieces:
        names = list(dict.fromkeys(n for names in dict.fromkeys(tuple(p.all_names) for p in pieces) for n in names))
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"columns: expected names among {names}, got unknown {missing}")
    return _assemble(pieces)


def _cast_dictionaries(table: pa.Table) -> pa.Table:
    """Dictionary-encoded columns as plain ones (one dictionary for all chunks first: a column of
    many small files has a chunk per file, and casting each on its own costs per chunk)."""
    if not any(pa.types.is_dictionary(f.type) for f in table.schema):
        return table
    table = table.unify_dictionaries()
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).combine_chunks().cast(field.type.value_type))
    return table


def _combine(
    sel: _Selection, tables: list[pa.Table], columns: list[str] | None, expr: pc.Expression | None
) -> pa.Table:
    """The files' tables as one (schemas unified: int -> float, missing -> null), filtered to
    ``expr`` and the units the catalogue points at them, projected to ``columns``."""
    distinct: list[pa.Schema] = []
    for t in tables:
        if not any(t.schema.equals(s) for s in distinct):
            distinct.append(t.schema)
    schema = pa.unify_schemas(distinct, promote_options="permissive")
    if columns is not None:
        missing = [c for c in columns if c not in schema.names]
        if missing:
            raise ValueError(f"columns: expected names among {schema.names}, got unknown {missing}")
    table = pa.concat_tables(tables, promote_options="permissive") if len(distinct) > 1 else pa.concat_tables(tables)
    if len(distinct) > 1:
        table = table.select(schema.names).cast(schema)
    if sel.keep_units is not None:
        keep = pc.field("unit").isin(pa.array(sel.keep_units, pa.string()))
        expr = keep if expr is None else expr & keep
    if expr is not None:
        table = table.filter(expr)
    if columns is not None:
        table = table.select(columns)
    return _cast_dictionaries(table)


_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


def _combine_per_file(
    sel: _Selection, tables: list[pa.Table], columns: list[str] | None, expr: pc.Expression | None
) -> pd.DataFrame:
    """Fallback when a parameter column has different types across units (a string in one, a
    number in another): filter each file's table and let pandas build object columns."""
    frames = []
    for t in tables:
        e = expr
        if sel.keep_units is not None:
            keep = pc.field("unit").isin(pa.array(sel.keep_units, pa.string()))
            e = keep if e is None else e & keep
        if e is not None:
            t = t.filter(e)
        fr = t.to_pandas()
        for c in fr.columns:
            if isinstance(fr[c].dtype, pd.CategoricalDtype):
                fr[c] = fr[c].astype(object)
        frames.append(fr)
    df = pd.concat(frames, ignore_index=True)
    return df[columns] if columns is not None else df


def _load_args(path: Any, columns: Any, strict: Any) -> tuple[Path, list[str] | None, bool]:
    """``load``'s path, columns and flag, checked: a path, None or an iterable of column names, a bool."""
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterTypeError("path", f"path: expected a results folder or file path, got {path!r}")
    cols = None
    if columns is not None:
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Iterable):
            raise ParameterTypeError("columns", f"columns: expected a list of column names or None, got {columns!r}")
        cols = list(columns)
        bad = [c for c in cols if not isinstance(c, str)]
        if bad:
            raise ParameterTypeError("columns", f"columns: expected column names (strings), got {bad[0]!r}")
    return Path(path), cols, check_bool(strict, "strict")


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
    ``[(column, op, value), ...]``, ANDed) selects rows; only the columns needed are read, and a
    compacted part's row groups are pruned by the filter.

    In a folder with a catalogue, only the files of done units are read, each read once and its
    bytes checked against the size and SHA-256 recorded when it was written; a bad file is moved to ``units/quarantine/`` and
    skipped, as are stray files. Skipped files are listed in ``df.attrs["skipped"]`` as ``(path,
    reason)`` pairs, with a warning; ``strict=True`` raises :class:`LoadError` instead. A folder
    holding units of several specs (``--allow-mixed``) gets a ``spec_fingerprint`` column.
    """
    p, cols, strict = _load_args(path, columns, strict)
    expr = _expression(filters)
    out = _results_folder(p) if p.is_dir() else None
    cat = catmod.open_catalogue(out, create=False, read_only=True) if out is not None else None
    if out is not None and cat is not None:
        with cat:
            sel = _select_catalogued(out, cat)
    else:
        sel = _select_plain(unit_files(p))
    tables = _read_files(sel, cols, filters, expr) if sel.files else []
    if sel.skipped:
        shown = "; ".join(f"{f}: {why}" for f, why in sel.skipped[:5])
        more = f" (+{len(sel.skipped) - 5} more)" if len(sel.skipped) > 5 else ""
        msg = f"load: skipped {len(sel.skipped)} results file(s) under {str(p)!r}: {shown}{more}"
        if strict:
            raise LoadError(msg)
        warnings.warn(msg, stacklevel=2)
    if not tables:
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
            df = _combine(sel, tables, cols, expr).to_pandas()
        except _ARROW_ERRORS:
            df = _combine_per_file(sel, tables, cols, expr)
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


def _step(name: str) -> None:
    """A named point of :func:`compact` (tests make the process die here to check that a compaction
    killed at any point loses nothing)."""


def _drop_superseded(out: Path, cat: catmod.Catalogue) -> int:
    """Delete the loose files a compaction superseded (catalogue record with ``n_units = 0``, no
    unit pointing at it) when they still hold the recorded bytes, and drop their records.
    Returns how many files were deleted."""
    rels = cat.superseded()
    files = cat.files(rels)
    gone, n = [], 0
    for rel in rels:
        why = verify_file(out, rel, files[rel])
        if why is None:
            with contextlib.suppress(FileNotFoundError):
                (out / rel).unlink()
                n += 1
            _step("loose-deleted")
        if why in (None, "missing"):
            gone.append(rel)
    cat.drop_files(gone)
    return n


def compact(out: str | Path, rows_per_file: int = PART_ROWS, keys: Iterable[str] | None = None) -> dict[str, int]:
    """Merge the loose unit files of ``out`` (only those of units ``keys`` when given) into
    ``parts/part_*.parquet`` files of about ``rows_per_file`` rows (units of one Arrow schema per
    file, in key order).

    Safe to kill at any point: each part is written under a temporary name and renamed into place;
    then one catalogue transaction records it and points its units at it, keeping the loose
    files' records marked superseded; only then are the loose files deleted (and their records
    dropped). Until the transaction, the units are read from their loose files and the new part
    is ignored (and removed by the next run or compaction); after it, from the part, and the
    leftover loose files are ignored until the next compaction deletes them. Bad loose files are
    quarantined and their units set back to pending. Returns counts: ``units`` merged, ``parts``
    written, ``quarantined``, ``removed`` (orphaned parts deleted), ``deleted`` (loose files).
    """
    rows_per_file = check_int(rows_per_file, "rows_per_file", lo=1)
    out = Path(out)
    cat = catmod.open_catalogue(out, create=False)
    if cat is None:
        raise FileNotFoundError(f"out: expected a results folder with {catmod.CATALOGUE}, got {str(out)!r}")
    stats = {"units": 0, "parts": 0, "quarantined": 0, "removed": 0, "deleted": 0}
    wanted = set(keys) if keys is not None else None
    with cat:
        clean_stale(out, cat)
        loose = {
            k: rel
            for k, (rel, _) in cat.done_units(None if wanted is None else sorted(wanted)).items()
            if rel and rel.startswith(UNITS_DIR + "/")
        }
        # a run's compaction reads only its units' records: its cost does not grow with the folder
        files = cat.files(None if wanted is None else sorted(set(loose.values())))
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            reasons = dict(zip(loose, pool.map(lambda r: verify_file(out, r, files[r]), loose.values()), strict=True))
        bad = [k for k, why in reasons.items() if why is not None]
        for k in bad:
            quarantine(out, loose[k])
        cat.mark_pending(bad, "results file failed verification during compact")
        stats["quarantined"] = len(bad)
        _step("verified")
        groups: dict[bytes, list[str]] = {}
        for k in sorted(set(loose) - set(bad)):
            groups.setdefault(files[loose[k]]["schema"] or b"", []).append(k)
        (out / PARTS_DIR).mkdir(exist_ok=True)
        writer = f"{socket.gethostname()}-{os.getpid()}"
        for group in groups.values():
            for chunk in _chunks(group, {k: files[loose[k]]["rows"] for k in group}, rows_per_file):
                with ThreadPoolExecutor(max_workers=_THREADS) as pool:
                    tables = list(
                        pool.map(lambda k: pq.read_table(out / loose[k]).replace_schema_metadata(None), chunk)
                    )
                table = pa.concat_tables(tables, promote_options="permissive")
                sink = pa.BufferOutputStream()
                pq.write_table(table, sink, compression="zstd", row_group_size=1 << 17)
                rel = f"{PARTS_DIR}/part_{time.strftime('%Y%m%dT%H%M%S')}_{writer}-{uuid.uuid4().hex[:8]}.parquet"
                data = sink.getvalue()
                _write_atomic(out / rel, data)
                _step("part-written")
                cat.move_units(chunk, [loose[k] for k in chunk], _info(rel, data, table.schema, table.num_rows))
                _step("catalogue-flipped")
                stats["units"] += len(chunk)
                stats["parts"] += 1
        stats["deleted"] = _drop_superseded(out, cat)
        orphans = cat.orphan_parts()
        for r in orphans:
            with contextlib.suppress(FileNotFoundError):
                (out / r).unlink()
        cat.drop_files(orphans)
        stats["removed"] = len(orphans)
    return stats
