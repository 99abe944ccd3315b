"""``coopsim.runner.run``: expand a spec into units, claim them in the catalogue, execute them on an
executor and store each result (a verified Parquet file plus its catalogue record)."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coopsim.core.validation import ParameterTypeError, check_bool
from coopsim.runner import catalogue as catmod
from coopsim.runner import store
from coopsim.runner.executors import EXECUTORS, RUNNERS, Outcome, check_executor
from coopsim.runner.spec import Spec, SpecError, Unit, load_spec

#: finished units are recorded in one catalogue transaction per this many units (or per FLUSH_EVERY s)
FLUSH_UNITS = 64
FLUSH_EVERY = 0.5
#: units claimed per catalogue transaction (small: concurrent runs share the work unit by unit)
CLAIM_CHUNK = 16
#: a run compacts its loose unit files each time it has recorded this many (``compact=None``), and at
#: the end when at least this many are loose: reading one Parquet file costs about half a millisecond
#: whatever its size, so 10^4 loose files load in seconds, 10^4 compacted units in a fraction of one
COMPACT_AFTER = 1000


@dataclass
class RunResult:
    """Summary of one sweep. ``skipped`` counts units already done and units another live run
    was computing (``busy``, included in ``skipped``)."""

    out: Path
    n_units: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    busy: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)
    #: ``"path: reason"`` of each results file --resume did not trust (its units were recomputed)
    quarantined: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def exit_code(self) -> int:
        """0 when every unit finished, 1 when some failed (the CLI's exit code)."""
        return 0 if self.ok else 1


def _clean_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if not str(k).startswith("_")}


def _check_options(executor: str, retries: Any, workers: Any, address: Any, timeout: Any) -> float | None:
    if executor not in EXECUTORS:
        raise ValueError(f"executor: expected one of {list(EXECUTORS)}, got {executor!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries: expected an integer >= 0, got {retries!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: expected an integer >= 1, got {workers!r}")
    if address is not None and executor != "ray":
        raise ValueError(f"address: only used with executor 'ray', got executor {executor!r}")
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout):
            raise ValueError(f"timeout: expected a number of seconds > 0, got {timeout!r}")
        if timeout <= 0:
            raise ValueError(f"timeout: expected a number of seconds > 0, got {timeout!r}")
        return float(timeout)
    return None


def _check_done(out: Path, cat: catmod.Catalogue, units: Sequence[Unit]) -> list[str]:
    """Before a resume: verify the files of the spec's done units (a bad one is quarantined and
    its units go back to pending) and adopt unit files written by a killed run before it could
    record them (readable, and naming their unit). Returns ``"path: reason"`` for each file not
    trusted (quarantined unless missing)."""
    from concurrent.futures import ThreadPoolExecutor

    done, files = cat.done_units(), cat.files()
    wanted = {u.key for u in units}
    by_file: dict[str | None, list[str]] = {}  # None: done without a results file
    for key, (rel, _) in done.items():
        if key in wanted:
            by_file.setdefault(rel, []).append(key)
    rels = sorted(r for r in by_file if r)
    with ThreadPoolExecutor(max_workers=store._THREADS) as pool:
        reasons = list(pool.map(lambda r: store.verify_file(out, r, files[r]) if r in files else "no record", rels))
    bad = [r for r, why in zip(rels, reasons, strict=True) if why is not None]
    moved = [f"{r}: {why}" for r, why in zip(rels, reasons, strict=True) if why is not None]
    for r in bad:
        store.quarantine(out, r)
    cat.mark_pending([k for r in bad for k in by_file[r]], "results file failed verification; rerun by --resume")
    if None in by_file:
        cat.mark_pending(by_file[None], "done without a results file")
    adopted = []
    on_disk = store.done_keys(out)
    for u in units:
        if u.key in on_disk and u.key not in done:
            info = store.inspect_file(out, f"{store.UNITS_DIR}/{u.key}.parquet", key=u.key)
            if info is None:
                store.quarantine(out, f"{store.UNITS_DIR}/{u.key}.parquet")
                moved.append(f"{store.UNITS_DIR}/{u.key}.parquet: unreadable, or not this unit's file")
                continue
            adopted.append({"key": u.key, "status": "done", "run_id": None, "attempts": 1, "file": info["path"],
                            "config": u.config, "note": "results file found on disk by --resume", **info})  # fmt: skip
    if adopted:
        cat.record(adopted)
    return moved


class _Claims:
    """The units to run, claimed in the catalogue a few at a time as the executor asks for them.

    Units already done (or held by another live run) are counted and passed over; once the list is
    exhausted, units that were busy are tried once more (their run may have died meanwhile).
    """

    def __init__(self, cat, run_id, fp, units, resume, since, on_skip) -> None:
        self.cat, self.run_id, self.fp = cat, run_id, fp
        self.units, self.resume, self.since, self.on_skip = list(units), resume, since, on_skip
        self.busy: list[Unit] = []

    def __iter__(self) -> Iterator[Unit]:
        for retry_busy in (False, True):
            units, self.busy = (self.busy, []) if retry_busy else (self.units, [])
            for i in range(0, len(units), CLAIM_CHUNK):
                claimed, done, busy = self.cat.claim(
                    self.run_id, units[i : i + CLAIM_CHUNK], self.fp, resume=self.resume, since=self.since
                )
                self.busy += busy
                self.on_skip(len(done), 0)
                yield from claimed
        self.on_skip(0, len(self.busy))


class _Recorder:
    """Writes finished units' files at once and records them in the catalogue in batches; keeps the
    run's claims alive (heartbeat) while the executor works."""

    def __init__(self, out: Path, cat: catmod.Catalogue, run_id: str, compact_every: int | None = None) -> None:
        self.out, self.cat, self.run_id = out, cat, run_id
        self.buffer: list[dict[str, Any]] = []
        self.last_flush = self.last_beat = time.monotonic()
        #: keys recorded with a loose file since the last compaction (compacted every ``compact_every``)
        self.loose: list[str] = []
        self.compact_every = compact_every

    def add(self, oc: Outcome) -> None:
        rec: dict[str, Any] = {
            "key": oc.unit.key,
            "run_id": self.run_id,
            "attempts": oc.attempts,
            "seconds": round(oc.seconds, 6),
            "cpu_seconds": round(oc.cpu_seconds, 6),
            "host": oc.host,
            "pid": oc.pid,
            "history": oc.history,
        }
        if oc.ok:
            info = store.write_unit(self.out, oc.unit.key, oc.unit.params(), oc.frame)
            rec.update(status="done", file=info["path"], **info)
        else:
            rec.update(status="failed", error=oc.error)
        self.buffer.append(rec)
        if len(self.buffer) >= FLUSH_UNITS:
            self.flush()

    def tick(self) -> None:
        now = time.monotonic()
        if self.buffer and now - self.last_flush > FLUSH_EVERY:
            self.flush()
        if now - self.last_beat > catmod.LEASE / 4:
            self.cat.heartbeat(self.run_id)
            self.last_beat = now

    def flush(self) -> None:
        if self.buffer:
            self.cat.record(self.buffer)
            self.loose += [r["key"] for r in self.buffer if r["status"] == "done"]
        self.buffer, self.last_flush = [], time.monotonic()
        if self.compact_every is not None and len(self.loose) >= self.compact_every:
            # a folder read mid-sweep holds fewer than compact_every loose files (each costs a file read)
            store.compact(self.out, keys=self.loose)
            self.loose = []


def run_experiment(
    spec: str | Path | Mapping[str, Any] | Spec,
    executor: str = "process",
    out: str | Path | None = None,
    resume: bool = False,
    retries: int = 0,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
    timeout: float | None = None,
    allow_mixed: bool = False,
    compact: bool | None = None,
) -> RunResult:
    """Run every unit of ``spec`` on ``executor`` and store the results under ``out``.

    ``spec``: a TOML path, a dict or a loaded :class:`Spec`. ``executor``: ``"serial"``,
    ``"process"`` (default; ``workers`` processes) or ``"ray"`` (``address`` ``"auto"`` /
    ``"HOST:PORT"``, or a local instance). ``out`` defaults to ``results/<experiment.name>``.
    ``resume`` skips units whose results file is recorded and verified. A unit that raises, whose
    worker dies, or that runs past ``timeout`` seconds (default: the spec's ``experiment.timeout``)
    is retried up to ``retries`` times, then recorded as failed; the sweep goes on. Units another
    live run into the same folder has claimed are left to it. With ``compact=None`` (the default)
    the run merges its unit files into parts (:func:`~coopsim.runner.store.compact`) each time it
    has recorded :data:`COMPACT_AFTER` of them, and at the end when it computed at least that many
    units or that many are loose in the folder, so that a folder read during a large sweep holds
    few loose files and one left by it none;
    ``compact=True`` merges all loose files at the end, ``False`` never.

    Raises :class:`SpecError` for a malformed spec, :class:`~coopsim.runner.catalogue.SpecDriftError`
    when ``out`` holds another spec's units (unless ``allow_mixed``),
    :class:`~coopsim.runner.catalogue.CatalogueError` for a corrupt catalogue, ``OSError`` /
    ``sqlite3.OperationalError`` when the folder cannot be written. Returns a :class:`RunResult`.
    """
    timeout = _check_options(executor, retries, workers, address, timeout)
    for flag, value in (("resume", resume), ("progress", progress), ("allow_mixed", allow_mixed)):
        check_bool(value, flag)
    if compact is not None:
        check_bool(compact, "compact")
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise ParameterTypeError("out", f"out: expected a folder path or None, got {out!r}")
    check_executor(executor, address)
    sp = spec if isinstance(spec, Spec) else load_spec(spec)
    if timeout is None:
        timeout = getattr(sp, "timeout", None)
    out = Path(out) if out is not None else Path("results") / sp.name
    _make_out(out)
    units, seen = [], set()
    for u in sp.units():
        if u.key not in seen:
            seen.add(u.key)
            units.append(u)
    with catmod.open_catalogue(out) as cat:
        flat = catmod.spec_flat(sp)
        fp = catmod.fingerprint(flat)
        cat.check_spec(fp, flat, _clean_raw(sp.raw), allow_mixed=allow_mixed)
        store.clean_stale(out, cat)
        result = RunResult(out=out, n_units=len(units))
        if resume:
            result.quarantined = _check_done(out, cat, units)
        result = _execute(sp, out, cat, fp, units, result, executor, resume, retries, workers, address, progress,
                          timeout, COMPACT_AFTER if compact is None else None)  # fmt: skip
        loose = cat.count_loose()
    if compact or (compact is None and max(loose, result.done) >= COMPACT_AFTER):
        store.compact(out)
    return result


#: the former name of :func:`run_experiment`, kept as an alias (``coopsim.runner.run``)
run = run_experiment


def _make_out(out: Path) -> None:
    """Create the output folder; ``ValueError`` naming ``out`` when it, or a folder above it, is a file."""
    for p in (out, *out.parents):
        if p.exists() and not p.is_dir():
            what = "is a file" if p == out else f"lies below the file {str(p)!r}"
            raise ValueError(f"out: expected a results folder, got {str(out)!r}, which {what}")
        if p.is_dir():
            break
    out.mkdir(parents=True, exist_ok=True)


def _execute(sp, out, cat, fp, units, result, executor, resume, retries, workers, address, progress, timeout,
             compact_every=None):  # fmt: skip
    """The sweep proper: claims -> executor -> files + catalogue records; the run record at both ends."""
    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    since = time.time()
    run_rec: dict[str, Any] = {
        "run_id": run_id,
        "started": store.now_iso(),
        "started_ts": since,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "executor": executor,
        "workers": workers,
        "address": address,
        "resume": resume,
        "retries": retries,
        "timeout": timeout,
        "spec_source": sp.source,
        "spec_fingerprint": fp,
        "n_units": len(units),
        "status": "running",
        "python": sys.version.split()[0],
    }
    cat.put_run(run_id, run_rec)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked after the bar exists
        # disable=None: no bar when stderr is not a terminal (no \r-lines in logs and pipes)
        bar = tqdm(total=len(units), desc=sp.name, unit="unit", dynamic_ncols=True, file=sys.stderr, disable=None)

    def on_skip(n_done: int, n_busy: int) -> None:
        result.skipped += n_done + n_busy
        result.busy += n_busy
        if bar is not None and n_done + n_busy:
            bar.update(n_done + n_busy)

    claims = _Claims(cat, run_id, fp, units, resume, since, on_skip)
    rec = _Recorder(out, cat, run_id, compact_every)
    t0 = time.perf_counter()
    try:
        for oc in RUNNERS[executor](claims, retries=retries, workers=workers, address=address, timeout=timeout,
                                    tick=rec.tick):  # fmt: skip
            rec.add(oc)
            if oc.ok:
                result.done += 1
            else:
                result.failed += 1
                result.failures[oc.unit.key] = oc.error or ""
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=result.failed, skipped=result.skipped)
    except BaseException:
        # disk full, interrupted, ...: record what can be recorded, then let the error through
        with contextlib.suppress(Exception):
            _finish(out, cat, rec, run_rec, result, len(units), t0, bar)
        raise
    _finish(out, cat, rec, run_rec, result, len(units), t0, bar)
    return result


def _finish(out, cat, rec, run_rec, result, n_units, t0, bar) -> None:
    """Flush the last records, release this run's claims and close its run record."""
    if bar is not None:
        bar.close()
    result.seconds = time.perf_counter() - t0
    finished = result.done + result.failed + result.skipped == n_units
    run_rec.update(
        finished=store.now_iso(),
        seconds=round(result.seconds, 3),
        done=result.done,
        failed=result.failed,
        skipped=result.skipped,
        busy=result.busy,
        status="finished" if finished else "interrupted",
    )
    rec.flush()
    cat.release(run_rec["run_id"])
    cat.put_run(run_rec["run_id"], run_rec)
    store.clean_stale(out)


__all__ = ["RunResult", "SpecError", "run", "run_experiment"]
