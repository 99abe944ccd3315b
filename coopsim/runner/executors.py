"""Executors: ``serial``, ``process`` (local process pool, the default) and ``ray``.

Each executor takes units and yields one :class:`Outcome` per unit, in completion order, with
retries handled the same way everywhere: a unit whose function raises, or whose worker dies
(a killed pool process, a crashed Ray worker or node), is resubmitted until it has been tried
``1 + retries`` times, then reported as failed with the last traceback. The numbers a unit
produces depend only on its config (its ``SeedSequence`` is derived from it), never on which
worker runs it or when.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import pandas as pd

from coopsim.runner.spec import Unit

EXECUTORS = ("serial", "process", "ray")


class ExecutorError(RuntimeError):
    """The executor could not start (Ray missing, no cluster at the address)."""


@dataclass
class Outcome:
    """What became of one unit: ``frame`` when done, ``error`` (a traceback) when failed."""

    unit: Unit
    ok: bool
    frame: pd.DataFrame | None
    error: str | None
    attempts: int
    seconds: float
    host: str
    pid: int
    cpu_seconds: float = 0.0


def work(config: dict[str, Any]) -> tuple[bool, Any, tuple[float, float], str, int]:
    """Run one unit in the current process; never raises (errors come back as a traceback).

    Returns ``(ok, frame or traceback, (wall seconds, CPU seconds), host, pid)``.
    """
    from coopsim.runner.units import execute

    t0, c0 = time.perf_counter(), time.process_time()
    try:
        frame = execute(config)
        ok, payload = True, frame
    except Exception:  # noqa: BLE001 - reported, retried, recorded
        ok, payload = False, traceback.format_exc()
    return ok, payload, (time.perf_counter() - t0, time.process_time() - c0), socket.gethostname(), os.getpid()


def _die_with_parent() -> None:
    """Pool initializer: on Linux, ask the kernel to kill this worker when the parent dies, so a
    killed sweep leaves no orphan workers behind."""
    try:
        import ctypes
        import signal

        if not sys.platform.startswith("linux"):
            return
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort, not available off Linux
        pass


class _Tracker:
    """Attempt counting shared by the executors."""

    def __init__(self, retries: int) -> None:
        self.retries = retries
        self.attempts: dict[str, int] = {}

    def start(self, unit: Unit) -> None:
        self.attempts[unit.key] = self.attempts.get(unit.key, 0) + 1

    def retry(self, unit: Unit) -> bool:
        return self.attempts[unit.key] <= self.retries


def run_serial(units: Sequence[Unit], retries: int = 0, **_: Any) -> Iterator[Outcome]:
    """Run the units one after another in this process."""
    tr = _Tracker(retries)
    for unit in units:
        while True:
            tr.start(unit)
            ok, payload, secs, host, pid = work(unit.config)
            if ok or not tr.retry(unit):
                yield Outcome(
                    unit,
                    ok,
                    payload if ok else None,
                    None if ok else payload,
                    tr.attempts[unit.key],
                    secs[0],
                    host,
                    pid,
                    secs[1],
                )
                break


def _pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing as mp

    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context(method), initializer=_die_with_parent)


def run_process(units: Sequence[Unit], retries: int = 0, workers: int | None = None, **_: Any) -> Iterator[Outcome]:
    """Run the units on a local ``ProcessPoolExecutor`` with ``workers`` processes (default: CPUs).

    If a worker process dies, the pool breaks and every unit in flight at that moment is charged
    one attempt and resubmitted on a fresh pool (we cannot tell which of them killed it).
    """
    workers = workers or os.cpu_count() or 1
    tr = _Tracker(retries)
    todo = deque(units)
    pool = _pool(workers)
    inflight: dict[Any, Unit] = {}
    # keep a bounded window in flight so a broken pool resubmits few units
    window = max(4 * workers, 8)
    try:
        while todo or inflight:
            while todo and len(inflight) < window:
                unit = todo.popleft()
                tr.start(unit)
                inflight[pool.submit(work, unit.config)] = unit
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                unit = inflight.pop(fut)
                try:
                    ok, payload, secs, host, pid = fut.result()
                except BrokenProcessPool:
                    broken = True
                    ok, payload, secs, host, pid = (
                        False,
                        "worker process died (BrokenProcessPool) while running this unit or a unit beside it",
                        (0.0, 0.0),
                        socket.gethostname(),
                        -1,
                    )
                if ok or not tr.retry(unit):
                    yield Outcome(
                        unit,
                        ok,
                        payload if ok else None,
                        None if ok else payload,
                        tr.attempts[unit.key],
                        secs[0],
                        host,
                        pid,
                        secs[1],
                    )
                else:
                    todo.appendleft(unit)
            if broken:
                for fut, unit in list(inflight.items()):
                    if tr.retry(unit):
                        todo.appendleft(unit)
                    else:
                        yield Outcome(
                            unit,
                            False,
                            None,
                            "worker process died (BrokenProcessPool)",
                            tr.attempts[unit.key],
                            0.0,
                            socket.gethostname(),
                            -1,
                        )
                inflight.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = _pool(workers)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_ray(
    units: Sequence[Unit], retries: int = 0, workers: int | None = None, address: str | None = None, **_: Any
) -> Iterator[Outcome]:
    """Run the units as Ray tasks (one task per unit, 1 CPU each).

    ``address``: ``"auto"`` or ``"HOST:PORT"`` joins a running cluster; ``None`` starts a local
    Ray instance with ``workers`` CPUs (default: all). A task whose worker dies raises a
    ``RayError`` on ``ray.get``; the unit is charged one attempt and resubmitted.
    """
    try:
        import ray
    except ImportError:
        raise ExecutorError("executor 'ray' needs Ray: pip install 'coopsim[ray]'") from None
    started = False
    if not ray.is_initialized():
        if address and address != "auto":
            _check_reachable(address)
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        except Exception as err:  # noqa: BLE001 - connection refused, no cluster at "auto", ...
            raise ExecutorError(
                f"address: could not start or join Ray ({address or 'local instance'}): {type(err).__name__}: {err}"
            ) from None
        started = True
    remote = ray.remote(max_retries=0, num_cpus=1)(work)
    tr = _Tracker(retries)
    pending: dict[Any, Unit] = {}
    todo = deque(units)
    window = max(64, 4 * int(ray.cluster_resources().get("CPU", 1)))
    try:
        while todo or pending:
            while todo and len(pending) < window:
                unit = todo.popleft()
                tr.start(unit)
                pending[remote.remote(unit.config)] = unit
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                unit = pending.pop(ref)
                try:
                    ok, payload, secs, host, pid = ray.get(ref)
                except ray.exceptions.RayError as err:
                    ok, payload, secs, host, pid = (
                        False,
                        f"Ray task failed: {type(err).__name__}: {err}",
                        (0.0, 0.0),
                        "",
                        -1,
                    )
                if ok or not tr.retry(unit):
                    yield Outcome(
                        unit,
                        ok,
                        payload if ok else None,
                        None if ok else payload,
                        tr.attempts[unit.key],
                        secs[0],
                        host,
                        pid,
                        secs[1],
                    )
                else:
                    todo.appendleft(unit)
    finally:
        for ref in pending:
            try:
                ray.cancel(ref, force=True)
            except Exception:  # noqa: BLE001
                pass
        if started:
            ray.shutdown()


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast (instead of Ray's minutes of retries) when ``HOST:PORT`` accepts no TCP connection."""
    hostport = address.split("://", 1)[-1]
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ExecutorError(f"address: expected 'auto' or HOST:PORT, got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise ExecutorError(f"address: no Ray cluster reachable at {address} ({err})") from None


RUNNERS = {"serial": run_serial, "process": run_process, "ray": run_ray}
