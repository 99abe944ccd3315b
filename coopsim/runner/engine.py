"""``coopsim.runner.run``: expand a spec into units, execute them, store results and the manifest."""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coopsim.runner import store
from coopsim.runner.executors import EXECUTORS, RUNNERS
from coopsim.runner.spec import Spec, SpecError, load_spec

#: seconds between manifest flushes during a sweep (results files are written immediately)
FLUSH_EVERY = 2.0


@dataclass
class RunResult:
    """Summary of one sweep."""

    out: Path
    n_units: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    @property
    def exit_code(self) -> int:
        """0 when every unit finished, 1 when some failed (the CLI's exit code)."""
        return 0 if self.ok else 1


def _clean_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if not str(k).startswith("_")}


def run(
    spec: str | Path | Mapping[str, Any] | Spec,
    executor: str = "process",
    out: str | Path | None = None,
    resume: bool = False,
    retries: int = 0,
    workers: int | None = None,
    address: str | None = None,
    progress: bool = True,
) -> RunResult:
    """Run every unit of ``spec`` on ``executor`` and store the results under ``out``.

    ``spec``: a TOML path, a dict or a loaded :class:`Spec`. ``executor``: ``"serial"``,
    ``"process"`` (default; ``workers`` processes) or ``"ray"`` (``address`` ``"auto"`` /
    ``"HOST:PORT"``, or a local instance). ``out`` defaults to ``results/<experiment.name>``.
    ``resume`` skips units whose results file already exists. A unit that raises is retried up
    to ``retries`` times, then recorded as failed with its traceback; the sweep goes on.
    Raises :class:`SpecError` for a malformed spec. Returns a :class:`RunResult`.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor: expected one of {list(EXECUTORS)}, got {executor!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries: expected an integer >= 0, got {retries!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers: expected an integer >= 1, got {workers!r}")
    if address is not None and executor != "ray":
        raise ValueError(f"address: only used with executor 'ray', got executor {executor!r}")
    sp = spec if isinstance(spec, Spec) else load_spec(spec)
    out = Path(out) if out is not None else Path("results") / sp.name
    out.mkdir(parents=True, exist_ok=True)
    store.clean_stale(out)

    units, seen = [], set()
    for u in sp.units():
        if u.key not in seen:
            seen.add(u.key)
            units.append(u)
    existing = store.done_keys(out) if resume else set()
    todo = [u for u in units if u.key not in existing]
    result = RunResult(out=out, n_units=len(units), skipped=len(units) - len(todo))

    run_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
    run_rec = {
        "run_id": run_id,
        "started": store.now_iso(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "executor": executor,
        "workers": workers,
        "address": address,
        "resume": resume,
        "retries": retries,
        "spec_source": sp.source,
        "n_units": len(units),
        "skipped": result.skipped,
        "status": "running",
        "python": sys.version.split()[0],
    }
    pending = {u.key: {"status": "pending", "config": u.config} for u in todo}
    if existing:  # files written by a killed run before its manifest flush: record them as done
        known = store.read_manifest(out).get("units", {})
        for u in units:
            if u.key in existing and known.get(u.key, {}).get("status") != "done":
                pending[u.key] = {
                    "status": "done",
                    "config": u.config,
                    "run_id": run_id,
                    "note": "results file found on disk by --resume",
                }
    store.update_manifest(out, units=pending, run=run_rec, spec=_clean_raw(sp.raw))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        tqdm.monitor_interval = 0  # no monitor thread: the process pool forks after the bar exists
        bar = tqdm(
            total=len(units), initial=result.skipped, desc=sp.name, unit="unit", dynamic_ncols=True, file=sys.stderr
        )
        bar.set_postfix(failed=0, skipped=result.skipped)
    t0 = time.perf_counter()
    buffer: dict[str, dict[str, Any]] = {}
    last_flush = time.monotonic()
    flush_every = FLUSH_EVERY
    try:
        for oc in RUNNERS[executor](todo, retries=retries, workers=workers, address=address):
            rec: dict[str, Any] = {
                "config": oc.unit.config,
                "attempts": oc.attempts,
                "seconds": round(oc.seconds, 6),
                "cpu_seconds": round(oc.cpu_seconds, 6),
                "host": oc.host,
                "pid": oc.pid,
                "finished": store.now_iso(),
                "run_id": run_id,
            }
            if oc.ok:
                store.write_unit(out, oc.unit.key, oc.unit.params(), oc.frame)
                rec.update(status="done", rows=len(oc.frame))
                result.done += 1
            else:
                rec.update(status="failed", error=oc.error)
                result.failed += 1
                result.failures[oc.unit.key] = oc.error or ""
            buffer[oc.unit.key] = rec
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=result.failed, skipped=result.skipped)
            if time.monotonic() - last_flush > flush_every:
                t_flush = time.monotonic()
                store.update_manifest(out, units=buffer)
                buffer, last_flush = {}, time.monotonic()
                # a large manifest takes a while to rewrite: keep that under ~10% of the sweep
                flush_every = max(FLUSH_EVERY, 10 * (last_flush - t_flush))
    finally:
        if bar is not None:
            bar.close()
        result.seconds = time.perf_counter() - t0
        run_rec.update(
            finished=store.now_iso(),
            seconds=round(result.seconds, 3),
            done=result.done,
            failed=result.failed,
            status="finished" if result.done + result.failed == len(todo) else "interrupted",
        )
        store.update_manifest(out, units=buffer, run=run_rec)
        store.clean_stale(out)
    return result


__all__ = ["RunResult", "SpecError", "run"]
