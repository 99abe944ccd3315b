"""The results catalogue: one SQLite database (standard library ``sqlite3``, WAL mode) per folder.

``out/catalogue.sqlite`` holds, in tables updated inside transactions:

* ``meta``      format version, coopsim version, creation time;
* ``specs``     every spec fingerprint that wrote into the folder, with the spec and its flat form;
* ``runs``      one row per ``coopsim run`` (JSON record: host, pid, executor, counts, status);
* ``units``     one row per unit: status (``pending``/``running``/``done``/``failed``), config,
  spec fingerprint, attempts, timings, host, last error, the file holding its rows, and the
  *claim* (run id, host, pid, lease expiry) of the run computing it;
* ``files``     every results file: path (relative to the folder), rows, bytes, SHA-256, Arrow schema;
* ``attempts``  one row per attempt of a unit (status, error, seconds, host).

Concurrent runs into one folder *claim* units before computing them (a unit is computed once). A
claim is honoured while its owner lives: on the same host while its pid is alive, on another host
until its lease (renewed by a heartbeat) expires, so a killed run's units are picked up at once on
the same host and after :data:`LEASE` seconds elsewhere.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

CATALOGUE = "catalogue.sqlite"
MANIFEST = "manifest.json"
#: ``PRAGMA application_id`` of a coopsim catalogue ("coop"): another program's database is refused
APP_ID = 0x636F6F70
SCHEMA_VERSION = 1
#: seconds a claim from another host stays valid without a heartbeat
LEASE = 120.0
#: seconds SQLite waits for a lock held by another run before reporting "database is locked"
BUSY_TIMEOUT = 60.0
REPAIR_HINT = "coopsim repair {out}"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS specs (fingerprint TEXT PRIMARY KEY, spec TEXT NOT NULL, flat TEXT NOT NULL,
                                  created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, started REAL NOT NULL, status TEXT NOT NULL,
                                 info TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, rows INTEGER NOT NULL, bytes INTEGER NOT NULL,
                                  sha256 TEXT NOT NULL, schema BLOB, n_units INTEGER NOT NULL DEFAULT 1,
                                  created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (key TEXT PRIMARY KEY, status TEXT NOT NULL, config TEXT,
                                  spec_fingerprint TEXT, run_id TEXT, attempts INTEGER NOT NULL DEFAULT 0,
                                  seconds REAL, cpu_seconds REAL, host TEXT, pid INTEGER, finished TEXT,
                                  finished_ts REAL, rows INTEGER, file TEXT, error TEXT, note TEXT,
                                  claim_run TEXT, claim_host TEXT, claim_pid INTEGER, claim_expires REAL);
CREATE INDEX IF NOT EXISTS units_claim ON units (claim_run);
CREATE INDEX IF NOT EXISTS units_file ON units (file);
CREATE TABLE IF NOT EXISTS attempts (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL,
                                     run_id TEXT, attempt INTEGER, status TEXT NOT NULL, error TEXT,
                                     seconds REAL, host TEXT, pid INTEGER, finished TEXT);
"""


class CatalogueError(Exception):
    """The folder's catalogue (or legacy ``manifest.json``) is corrupt or not coopsim's (exit 2)."""

    def __init__(self, path: str | Path, problem: str, out: str | Path | None = None) -> None:
        self.path = Path(path)
        out = Path(out) if out is not None else self.path.parent
        super().__init__(f"{self.path}: {problem}; repair with: {REPAIR_HINT.format(out=out)}")


class SpecDriftError(ValueError):
    """Resuming into a folder written by a different spec (exit 2); names the differing keys."""


def now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ----------------------------------------------------------------------------------------------
# spec fingerprint
# ----------------------------------------------------------------------------------------------
def spec_flat(spec: Any) -> dict[str, Any]:
    """The spec as flat ``{dotted key: value}``: base config, grid and zip axes, replicate seeds.

    Execution options (``experiment.timeout``, executor, retries) are not part of it: they do not
    change any unit's numbers.
    """
    from coopsim.runner.spec import flatten_config

    flat = dict(flatten_config(spec.base))
    for path, values in spec.grid.items():
        flat[f"grid.{path}"] = json.dumps(values, sort_keys=True)
    for i, group in enumerate(spec.zips):
        for path, values in group.items():
            flat[f"zip[{i}].{path}"] = json.dumps(values, sort_keys=True)
    flat["experiment.seeds"] = json.dumps(list(spec.replicates))
    return flat


def fingerprint(flat: Mapping[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the flat spec as canonical JSON."""
    text = json.dumps(dict(flat), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def diff_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Keys whose value differs, or that only one of the two flat specs has, sorted."""
    return sorted(k for k in set(old) | set(new) if old.get(k, "<absent>") != new.get(k, "<absent>"))


# ----------------------------------------------------------------------------------------------
# opening
# ----------------------------------------------------------------------------------------------
def catalogue_path(out: str | Path) -> Path:
    return Path(out) / CATALOGUE


def _check_header(path: Path, out: Path) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except PermissionError:
        raise
    if head != b"SQLite format 3\x00":
        what = "empty file" if not head else "not an SQLite database"
        raise CatalogueError(path, f"corrupt results catalogue ({what})", out)


@dataclass
class Claim:
    """Who holds a unit: run id, host, pid and lease expiry (``time.time()`` seconds)."""

    run: str | None
    host: str | None
    pid: int | None
    expires: float | None

    def live(self, now: float, host: str) -> bool:
        if self.run is None:
            return False
        if self.host == host and self.pid is not None:
            return pid_alive(int(self.pid))
        return (self.expires or 0.0) > now


class Catalogue:
    """An open catalogue. Use :func:`open_catalogue`; close with :meth:`close` (or ``with``)."""

    def __init__(self, out: str | Path, con: sqlite3.Connection, read_only: bool = False) -> None:
        self.out = Path(out)
        self.path = catalogue_path(out)
        self.con = con
        self.read_only = read_only
        self.host = socket.gethostname()

    # -- plumbing -----------------------------------------------------------------------------
    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.con.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: waits for other writers up to the busy timeout)."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield self.con
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- specs and runs ---------------------------------------------------------------------------
    def fingerprints(self) -> list[tuple[str, dict[str, Any]]]:
        """Every spec fingerprint recorded in the folder with its flat spec, oldest first."""
        rows = self.con.execute("SELECT fingerprint, flat FROM specs ORDER BY created, rowid").fetchall()
        return [(fp, json.loads(flat)) for fp, flat in rows]

    def check_spec(self, fp: str, flat: Mapping[str, Any], raw: Any, allow_mixed: bool = False) -> None:
        """Record spec ``fp``; raise :class:`SpecDriftError` if the folder holds another spec's units
        and ``allow_mixed`` is false."""
        known = self.fingerprints()
        if known and fp not in {k for k, _ in known} and not allow_mixed:
            last_fp, last = known[-1]
            keys = diff_keys(last, flat)
            shown = ", ".join(keys[:12]) + (f" (+{len(keys) - 12} more)" if len(keys) > 12 else "")
            raise SpecDriftError(
                f"out: {self.out} holds results of another spec (fingerprint {last_fp}, this spec {fp}); "
                f"differing keys: {shown}. Use --out NEW_FOLDER for a new run folder, or --allow-mixed to "
                "add these units beside the old ones (the table then carries a spec_fingerprint column)"
            )
        with self.write() as con:
            con.execute(
                "INSERT OR IGNORE INTO specs VALUES (?, ?, ?, ?)",
                (fp, json.dumps(raw, sort_keys=True, default=str), json.dumps(dict(flat), sort_keys=True), now_iso()),
            )

    def put_run(self, run_id: str, info: Mapping[str, Any]) -> None:
        with self.write() as con:
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET status=excluded.status, "
                "info=excluded.info",
                (run_id, float(info.get("started_ts", time.time())), info.get("status", "running"), _dumps(info)),
            )

    # -- claims ---------------------------------------------------------------------------------
    def claim(
        self,
        run_id: str,
        units: Sequence[Any],
        fp: str | None,
        *,
        resume: bool,
        since: float,
        lease: float = LEASE,
    ) -> tuple[list[Any], list[Any], list[Any]]:
        """Claim ``units`` (objects with ``key`` and ``config``) for ``run_id`` in one transaction.

        Returns ``(claimed, done, busy)``: units this run now holds; units already done (with
        ``resume``; without it, only those finished by a concurrent run after ``since``); units
        held by another live run.
        """
        now, pid = time.time(), os.getpid()
        claimed, done, busy = [], [], []
        with self.write() as con:
            rows = _select_in(
                con,
                "SELECT key, status, finished_ts, claim_run, claim_host, claim_pid, claim_expires FROM units",
                [u.key for u in units],
            )
            state = {r[0]: r for r in rows}
            new, upd = [], []
            for u in units:
                r = state.get(u.key)
                if r is None:
                    new.append((u.key, "running", _dumps(u.config), fp, run_id, self.host, pid, now + lease))
                    claimed.append(u)
                    continue
                _, status, fin_ts, *cl = r
                if status == "done" and (resume or (fin_ts or 0.0) >= since):
                    done.append(u)
                elif cl[0] != run_id and Claim(*cl).live(now, self.host):
                    busy.append(u)
                else:
                    upd.append((_dumps(u.config), fp, run_id, self.host, pid, now + lease, u.key))
                    claimed.append(u)
            con.executemany(
                "INSERT INTO units (key, status, config, spec_fingerprint, claim_run, claim_host, claim_pid, "
                "claim_expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                new,
            )
            con.executemany(
                "UPDATE units SET status = CASE WHEN status = 'done' THEN status ELSE 'running' END, config = ?, "
                "spec_fingerprint = COALESCE(spec_fingerprint, ?), claim_run = ?, claim_host = ?, claim_pid = ?, "
                "claim_expires = ? WHERE key = ?",
                upd,
            )
        return claimed, done, busy

    def heartbeat(self, run_id: str, lease: float = LEASE) -> None:
        """Extend the lease of every claim ``run_id`` holds."""
        with self.write() as con:
            con.execute("UPDATE units SET claim_expires = ? WHERE claim_run = ?", (time.time() + lease, run_id))

    def release(self, run_id: str) -> None:
        """Drop the claims ``run_id`` still holds (units it did not finish go back to ``pending``)."""
        with self.write() as con:
            con.execute(
                "UPDATE units SET status = CASE WHEN status = 'running' THEN 'pending' ELSE status END, "
                "claim_run = NULL, claim_host = NULL, claim_pid = NULL, claim_expires = NULL WHERE claim_run = ?",
                (run_id,),
            )

    # -- outcomes -------------------------------------------------------------------------------
    def record(self, records: Sequence[Mapping[str, Any]]) -> None:
        """Store finished units in one transaction.

        Each record: ``key, status, run_id, attempts, seconds, cpu_seconds, host, pid, error,
        history`` (errors of earlier attempts) and, when done, ``file`` with ``rows, bytes, sha256,
        schema``. The unit's claim is released; a ``failed`` record never replaces a ``done`` unit.
        """
        now_s, now_t = now_iso(), time.time()
        files, units, attempts = [], [], []
        for r in records:
            if r["status"] == "done":
                files.append(
                    (r["file"], r["rows"], r["bytes"], r["sha256"], r.get("schema"), r.get("n_units", 1), now_s)
                )
            units.append(
                (
                    r["status"], r["run_id"], r["attempts"], r.get("seconds"), r.get("cpu_seconds"), r.get("host"),
                    r.get("pid"), now_s, now_t, r.get("rows"), r.get("file"), r.get("error"), r.get("note"),
                    r["key"], r["status"],
                )
            )  # fmt: skip
            history = list(r.get("history") or [])
            for i, err in enumerate(history, start=1):
                attempts.append((r["key"], r["run_id"], i, "failed", err, None, r.get("host"), None, now_s))
            attempts.append(
                (r["key"], r["run_id"], r["attempts"], r["status"], r.get("error"), r.get("seconds"), r.get("host"),
                 r.get("pid"), now_s)
            )  # fmt: skip
        with self.write() as con:
            con.executemany(
                "INSERT OR IGNORE INTO units (key, status, config) VALUES (?, 'pending', ?)",
                [(r["key"], _dumps(r["config"]) if r.get("config") is not None else None) for r in records],
            )
            con.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", files)
            con.executemany(
                "UPDATE units SET status = ?, run_id = ?, attempts = ?, seconds = ?, cpu_seconds = ?, host = ?, "
                "pid = ?, finished = ?, finished_ts = ?, rows = ?, file = COALESCE(?, file), error = ?, note = ?, "
                "claim_run = NULL, claim_host = NULL, claim_pid = NULL, claim_expires = NULL "
                "WHERE key = ? AND NOT (status = 'done' AND ? = 'failed')",
                units,
            )
            con.executemany(
                "INSERT INTO attempts (key, run_id, attempt, status, error, seconds, host, pid, finished) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                attempts,
            )

    def mark_pending(self, keys: Iterable[str], note: str) -> None:
        """Units whose results file went bad: back to ``pending`` (rerun by ``--resume``)."""
        with self.write() as con:
            con.executemany(
                "UPDATE units SET status = 'pending', file = NULL, rows = NULL, note = ? WHERE key = ?",
                [(note, k) for k in keys],
            )

    def move_units(self, keys: Sequence[str], old: Sequence[str], info: Mapping[str, Any]) -> None:
        """Point units ``keys`` (now in the compacted file ``info``) away from their loose files
        ``old``, in one transaction; a unit rewritten meanwhile (another file) is left alone. The
        loose files' records stay, marked superseded (``n_units = 0``), until the files are deleted."""
        with self.write() as con:
            con.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (info["path"], info["rows"], info["bytes"], info["sha256"], info["schema"], len(keys), now_iso()),
            )
            con.executemany(
                "UPDATE units SET file = ? WHERE key = ? AND file = ?",
                [(info["path"], k, o) for k, o in zip(keys, old, strict=True)],
            )
            con.executemany(
                "UPDATE files SET n_units = 0 WHERE path = ? AND NOT EXISTS (SELECT 1 FROM units WHERE file = ?)",
                [(o, o) for o in old],
            )

    def superseded(self) -> list[str]:
        """Loose files a compaction superseded (record kept with ``n_units = 0``, no unit pointing at it)."""
        rows = self.con.execute(
            "SELECT path FROM files WHERE n_units = 0 AND NOT EXISTS (SELECT 1 FROM units WHERE units.file = files.path)"
        )
        return sorted(p for (p,) in rows)

    def orphan_parts(self) -> list[str]:
        """Compacted parts no unit points at any more (one query: a part another run records meanwhile
        comes with its units, so it is never among them)."""
        rows = self.con.execute(
            "SELECT path FROM files WHERE path LIKE 'parts/%' "
            "AND NOT EXISTS (SELECT 1 FROM units WHERE units.file = files.path)"
        )
        return sorted(p for (p,) in rows)

    def drop_files(self, paths: Iterable[str]) -> None:
        with self.write() as con:
            con.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])

    # -- reading --------------------------------------------------------------------------------
    def done_units(self, keys: Sequence[str] | None = None) -> dict[str, tuple[str, str | None]]:
        """``{key: (file, spec fingerprint)}`` of every done unit (of those among ``keys`` when given)."""
        sql = "SELECT key, file, spec_fingerprint, status FROM units"
        rows = self.con.execute(sql) if keys is None else _select_in(self.con, sql, list(keys))
        return {k: (f, fp) for k, f, fp, st in rows if st == "done"}

    def count_loose(self) -> int:
        """Done units whose rows are in their own file under ``units/`` (not compacted)."""
        return self.con.execute("SELECT count(*) FROM units WHERE status = 'done' AND file LIKE 'units/%'").fetchone()[
            0
        ]

    def files(self, paths: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
        """``{path: {rows, bytes, sha256, schema, n_units}}`` of every catalogued results file (of
        those among ``paths`` when given)."""
        sql = "SELECT path, rows, bytes, sha256, schema, n_units FROM files"
        rows = self.con.execute(sql) if paths is None else _select_in(self.con, sql, list(paths), column="path")
        return {p: {"rows": r, "bytes": b, "sha256": s, "schema": sc, "n_units": n} for p, r, b, s, sc, n in rows}

    def manifest(self) -> dict[str, Any]:
        """The catalogue in the layout of the former ``manifest.json`` (see ``docs/results.md``)."""
        meta = dict(self.con.execute("SELECT key, value FROM meta"))
        specs = self.con.execute("SELECT spec FROM specs ORDER BY created, rowid").fetchall()
        runs = [json.loads(i) for (i,) in self.con.execute("SELECT info FROM runs ORDER BY started, rowid")]
        units: dict[str, dict[str, Any]] = {}
        cols = ("status", "config", "spec_fingerprint", "run_id", "attempts", "seconds", "cpu_seconds", "host",
                "pid", "finished", "rows", "file", "error", "note")  # fmt: skip
        for row in self.con.execute(f"SELECT key, {', '.join(cols)} FROM units"):
            rec = {c: v for c, v in zip(cols, row[1:], strict=True) if v is not None}
            if "config" in rec:
                rec["config"] = json.loads(rec["config"])
            units[row[0]] = rec
        return {
            "format": 2,
            "coopsim_version": meta.get("coopsim_version"),
            "spec": json.loads(specs[-1][0]) if specs else None,
            "runs": runs,
            "units": units,
        }


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)


def _select_in(
    con: sqlite3.Connection, sql: str, keys: Sequence[str], chunk: int = 500, column: str = "key"
) -> list[tuple]:
    out: list[tuple] = []
    for i in range(0, len(keys), chunk):
        part = keys[i : i + chunk]
        out += con.execute(f"{sql} WHERE {column} IN ({','.join('?' * len(part))})", part).fetchall()
    return out


def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    if read_only:
        uri = f"file:{path}?mode=ro"
        try:
            con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None)
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return con
        except sqlite3.OperationalError:  # a WAL database in a folder we cannot write: read as immutable
            return sqlite3.connect(f"file:{path}?immutable=1", uri=True, isolation_level=None)
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
    con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process crash, fast commits
    return con


def _create(out: Path, path: Path) -> None:
    """Create the catalogue under a temporary name and link it into place, so that no reader ever
    sees a half-made database; when a concurrent run won the race, its catalogue is kept."""
    from coopsim import __version__

    tmp = out / f".{CATALOGUE}.{socket.gethostname()}-{os.getpid()}.tmp"
    try:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("BEGIN")
            for stmt in filter(str.strip, _SCHEMA.split(";")):
                con.execute(stmt)
            con.execute(f"PRAGMA application_id = {APP_ID}")
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("format", str(SCHEMA_VERSION)), ("coopsim_version", __version__), ("created", now_iso())],
            )
            con.execute("COMMIT")
        finally:
            con.close()
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{tmp}{suffix}")


def _validate(con: sqlite3.Connection, path: Path, out: Path) -> None:
    try:
        app = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        check = con.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.OperationalError:
        raise
    except sqlite3.DatabaseError as err:
        raise CatalogueError(path, f"corrupt results catalogue ({err})", out) from None
    if app != APP_ID:
        raise CatalogueError(path, f"not a coopsim results catalogue (application_id {app:#x})", out)
    if version > SCHEMA_VERSION:
        raise CatalogueError(path, f"catalogue format {version} is newer than this coopsim ({SCHEMA_VERSION})", out)
    if check != "ok":
        raise CatalogueError(path, f"corrupt results catalogue (quick_check: {check})", out)
    missing = {"meta", "specs", "runs", "files", "units", "attempts"} - tables
    if missing:
        raise CatalogueError(path, f"incomplete results catalogue (missing tables {sorted(missing)})", out)


@overload
def open_catalogue(out: str | Path, *, create: Literal[True] = ..., read_only: bool = ...) -> Catalogue: ...
@overload
def open_catalogue(out: str | Path, *, create: bool, read_only: bool = ...) -> Catalogue | None: ...
def open_catalogue(out: str | Path, *, create: bool = True, read_only: bool = False) -> Catalogue | None:
    """Open (or create, migrating a legacy ``manifest.json``) the catalogue of folder ``out``.

    Returns ``None`` when there is none and ``create`` is false. Raises :class:`CatalogueError`
    for a corrupt or foreign database or an unreadable legacy manifest, and ``OSError`` /
    ``sqlite3.OperationalError`` when the folder cannot be written (permissions, disk full, locked).
    """
    out = Path(out)
    path = catalogue_path(out)
    exists = path.exists()
    if not exists and not create:
        return None
    if exists:
        _check_header(path, out)
        try:
            con = _connect(path, read_only)
        except sqlite3.OperationalError:
            raise  # locked, read-only, cannot open: the environment, not the file
        except sqlite3.DatabaseError as err:
            raise CatalogueError(path, f"corrupt results catalogue ({err})", out) from None
        _validate(con, path, out)
        return Catalogue(out, con, read_only)
    legacy = _read_legacy(out)  # before creating anything: a bad manifest leaves the folder as it was
    out.mkdir(parents=True, exist_ok=True)
    _create(out, path)
    cat = Catalogue(out, _connect(path, False))
    _validate(cat.con, path, out)
    if legacy is not None:
        _migrate(cat, legacy)
    return cat


# ----------------------------------------------------------------------------------------------
# legacy manifest.json
# ----------------------------------------------------------------------------------------------
def _read_legacy(out: Path) -> dict[str, Any] | None:
    p = out / MANIFEST
    if not p.exists():
        return None
    try:
        man = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CatalogueError(p, f"unreadable legacy manifest ({type(err).__name__}: {err})", out) from None
    if not isinstance(man, dict) or not isinstance(man.get("units"), dict) or not isinstance(man.get("runs"), list):
        raise CatalogueError(p, "malformed legacy manifest (expected an object with 'units' and 'runs')", out)
    return man


def _migrate(cat: Catalogue, man: Mapping[str, Any]) -> None:
    """Copy a legacy manifest's runs and unit records into the catalogue. Done units keep their
    status only when their file is present and readable (it is hashed and recorded here)."""
    from coopsim.runner import store

    units, files = [], []
    for key, rec in man["units"].items():
        if not isinstance(rec, dict):
            continue
        status = rec.get("status", "pending")
        info = store.inspect_file(cat.out, f"{store.UNITS_DIR}/{key}.parquet", key) if status == "done" else None
        if status == "done" and info is None:
            status = "pending"
        if info is not None:
            files.append((info["path"], info["rows"], info["bytes"], info["sha256"], info["schema"], 1, now_iso()))
        units.append(
            (key, status if status in ("done", "failed") else "pending", _dumps(rec.get("config")), rec.get("run_id"),
             int(rec.get("attempts") or 0), rec.get("seconds"), rec.get("cpu_seconds"), rec.get("host"),
             rec.get("pid"), rec.get("finished"), 0.0, rec.get("rows"), info["path"] if info else None,
             rec.get("error"), "migrated from manifest.json")
        )  # fmt: skip
    with cat.write() as con:
        con.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?)", files)
        con.executemany(
            "INSERT OR IGNORE INTO units (key, status, config, run_id, attempts, seconds, cpu_seconds, host, pid, "
            "finished, finished_ts, rows, file, error, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            units,
        )
        for i, run in enumerate(r for r in man["runs"] if isinstance(r, dict)):
            rid = str(run.get("run_id") or f"legacy-{i}")
            con.execute("INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?)", (rid, float(i), "migrated", _dumps(run)))
        if isinstance(man.get("spec"), dict):
            flat = _legacy_flat(man)
            if flat is not None:
                con.execute(
                    "INSERT OR IGNORE INTO specs VALUES (?, ?, ?, ?)",
                    (fingerprint(flat), _dumps(man["spec"]), _dumps(flat), now_iso()),
                )


def _legacy_flat(man: Mapping[str, Any]) -> dict[str, Any] | None:
    """The flat spec of a legacy manifest (its experiment name taken from a unit when the spec
    named none), or ``None`` when it no longer validates."""
    from coopsim.runner.spec import load_spec

    raw = json.loads(json.dumps(man["spec"]))
    names = {(r.get("config") or {}).get("experiment", {}).get("name") for r in man["units"].values()
             if isinstance(r, dict)}  # fmt: skip
    names.discard(None)
    if len(names) == 1:
        raw.setdefault("experiment", {}).setdefault("name", names.pop())
    try:
        return spec_flat(load_spec(raw, check_names=False, build=False))
    except Exception:  # noqa: BLE001 - an old spec this version rejects: no drift check for it
        return None


def export_manifest(out: str | Path, dest: str | Path | None = None) -> Path:
    """Write the catalogue as ``manifest.json`` (or ``dest``) atomically; returns the path."""
    cat = open_catalogue(out, create=False, read_only=True)
    if cat is None:
        raise FileNotFoundError(f"out: expected a results folder with {CATALOGUE}, got {str(out)!r}")
    with cat:
        man = cat.manifest()
    dest = Path(dest) if dest is not None else Path(out) / MANIFEST
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(man, sort_keys=True, default=str))
    os.replace(tmp, dest)
    return dest


# ----------------------------------------------------------------------------------------------
# repair
# ----------------------------------------------------------------------------------------------
def _set_aside(path: Path) -> Path | None:
    """Rename a bad catalogue (with its -wal/-shm) or manifest to ``<name>.corrupt-<time>``."""
    if not path.exists():
        return None
    dest = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
    os.replace(path, dest)
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{dest}{suffix}"))
    return dest


def repair(out: str | Path) -> dict[str, Any]:
    """Make folder ``out`` usable again (``coopsim repair DIR``).

    A healthy catalogue is kept and every done unit's file checked (a bad file is quarantined and
    its units set back to pending). A corrupt or foreign catalogue, or an unreadable legacy
    ``manifest.json``, is renamed to ``<name>.corrupt-<time>`` (never deleted) and a new catalogue is
    rebuilt from the results files: every readable unit file naming its unit is recorded as done,
    every compacted part with the units it holds; unreadable files are quarantined. The rebuilt
    catalogue has no spec fingerprint (the next run records its own) and no run history.
    Returns ``{"rebuilt": bool, "set_aside": [...], "units": n done, "quarantined": [...]}``.
    """
    from coopsim.runner import store

    out = Path(out)
    if not out.is_dir():
        raise FileNotFoundError(f"out: expected a results folder, got {str(out)!r}")
    report: dict[str, Any] = {"rebuilt": False, "set_aside": [], "units": 0, "quarantined": []}
    try:
        cat = open_catalogue(out, create=False)
    except CatalogueError as err:
        report["rebuilt"] = True
        for p in {err.path, catalogue_path(out)}:
            moved = _set_aside(p)
            if moved is not None:
                report["set_aside"].append(str(moved))
        cat = None
    if cat is not None:
        with cat:
            bad = _verify_all(out, cat)
            report["quarantined"] = bad
            report["units"] = len(cat.done_units())
        return report
    report["rebuilt"] = True
    if (out / MANIFEST).exists():
        try:
            _read_legacy(out)
        except CatalogueError:
            report["set_aside"].append(str(_set_aside(out / MANIFEST)))
    with open_catalogue(out) as cat:
        records = []
        for sub in (store.UNITS_DIR, store.PARTS_DIR):
            for name in store._parquet_names(out / sub):
                rel = f"{sub}/{name}"
                key = name[: -len(".parquet")] if sub == store.UNITS_DIR else None
                info = store.inspect_file(out, rel, key)
                if info is None:
                    store.quarantine(out, rel)
                    report["quarantined"].append(rel)
                    continue
                keys = [key] if key else store.units_in(out / rel)
                records += [
                    {**info, "key": k, "status": "done", "run_id": None, "attempts": 0, "file": rel,
                     "n_units": len(keys), "note": "rebuilt by coopsim repair"}
                    for k in keys
                ]  # fmt: skip
        cat.record(records)
        report["units"] = len(cat.done_units())
    return report


def _verify_all(out: Path, cat: Catalogue) -> list[str]:
    from coopsim.runner import store

    files = cat.files()
    by_file: dict[str, list[str]] = {}
    for key, (rel, _) in cat.done_units().items():
        by_file.setdefault(rel, []).append(key)
    bad = []
    for rel, keys in by_file.items():
        why = store.verify_file(out, rel, files[rel]) if rel in files else "no record"
        if why is not None:
            if why != "missing":
                store.quarantine(out, rel)
            cat.mark_pending(keys, f"results file failed verification ({why}) during repair")
            bad.append(rel)
    return bad
