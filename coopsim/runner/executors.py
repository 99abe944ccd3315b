"""Executors: ``serial``, ``process`` (local process pool, the default) and ``ray``.

Each executor takes units (any iterable: the engine passes a lazy one that claims units in the
catalogue as they are started) and yields one :class:`Outcome` per unit, in completion order, with
retries handled the same way everywhere: a unit whose function raises, or whose worker dies
(a killed worker process, a crashed Ray worker or node) or that runs past the timeout, is resubmitted until it has been tried
``1 + retries`` times, then reported as failed with the last traceback. The numbers a unit
produces depend only on its config (its ``SeedSequence`` is derived from it), never on which
worker runs it or when.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from coopsim.runner.spec import Unit

EXECUTORS = ("serial", "process", "ray")


class ExecutorError(RuntimeError):
    """The executor could not start (Ray missing, no cluster at the address)."""


@dataclass
class Outcome:
    """What became of one unit: ``frame`` when done, ``error`` (a traceback) when failed;
    ``history`` holds the errors of earlier attempts that were retried."""

    unit: Unit
    ok: bool
    frame: pd.DataFrame | None
    error: str | None
    attempts: int
    seconds: float
    host: str
    pid: int
    cpu_seconds: float = 0.0
    history: list[str] = field(default_factory=list)


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
    """Attempt counting shared by the executors (and the errors of attempts that will be retried)."""

    def __init__(self, retries: int) -> None:
        self.retries = retries
        self.attempts: dict[str, int] = {}
        self.errors: dict[str, list[str]] = {}

    def start(self, unit: Unit) -> None:
        self.attempts[unit.key] = self.attempts.get(unit.key, 0) + 1

    def retry(self, unit: Unit, error: str | None = None) -> bool:
        """Whether a failed attempt of ``unit`` is retried (its error is kept in the history)."""
        again = self.attempts[unit.key] <= self.retries
        if again:
            self.errors.setdefault(unit.key, []).append(error or "")
        return again

    def outcome(self, unit: Unit, ok: bool, payload: Any, secs: tuple[float, float], host: str, pid: int) -> Outcome:
        return Outcome(
            unit,
            ok,
            payload if ok else None,
            None if ok else payload,
            self.attempts[unit.key],
            secs[0],
            host,
            pid,
            secs[1],
            self.errors.pop(unit.key, []),
        )


def _next(todo: deque[Unit], source: Iterator[Unit]) -> Unit | None:
    """The next unit to start: retries first, then the (possibly lazy, claiming) source."""
    return todo.popleft() if todo else next(source, None)


def run_serial(
    units: Iterable[Unit],
    retries: int = 0,
    timeout: float | None = None,
    tick: Callable[[], None] | None = None,
    **_: Any,
) -> Iterator[Outcome]:
    """Run the units one after another in this process.

    A unit that kills its process kills the run (``--resume`` recovers it). With ``timeout``, each
    unit runs instead in one child process at a time (see :func:`run_process`), which can be stopped.
    """
    if timeout is not None:
        yield from run_process(units, retries=retries, workers=1, timeout=timeout, tick=tick)
        return
    tr = _Tracker(retries)
    todo: deque[Unit] = deque()
    source = iter(units)
    while (unit := _next(todo, source)) is not None:
        tr.start(unit)
        ok, payload, secs, host, pid = work(unit.config)
        if tick is not None:
            tick()
        if ok or not tr.retry(unit, payload):
            yield tr.outcome(unit, ok, payload, secs, host, pid)
        else:
            todo.appendleft(unit)


def _context():
    import multiprocessing as mp

    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def _worker_main(conn: Any, other: Any) -> None:
    """Worker process: receive a unit config, send back :func:`work`'s result; ``None`` stops it."""
    other.close()  # the driver's end, inherited through fork
    _die_with_parent()
    while True:
        try:
            config = conn.recv()
        except (EOFError, OSError):
            return
        if config is None:
            return
        conn.send(work(config))


class _Worker:
    """One worker process and its pipe; it runs one unit at a time, so a death is attributed exactly."""

    def __init__(self, ctx: Any) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(target=_worker_main, args=(child, self.conn), name="coopsim-worker")
        self.proc.start()
        child.close()
        self.unit: Unit | None = None
        self.started = 0.0

    def start(self, unit: Unit) -> bool:
        """Send ``unit``; ``False`` when the (idle) worker is already dead."""
        try:
            self.conn.send(unit.config)
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
            return False
        self.unit, self.started = unit, time.monotonic()
        return True

    def result(self) -> tuple[Any, str | None]:
        """``(work() result, None)`` if the worker answered, else ``(None, why it died)``."""
        try:
            if self.conn.poll():
                return self.conn.recv(), None
        except (EOFError, OSError):
            pass
        self.proc.join(timeout=5)
        code = self.proc.exitcode
        if code is not None and code < 0:
            try:
                sig = signal.Signals(-code).name
            except ValueError:
                sig = str(-code)
            why = f"killed by signal {sig}" + (" (out of memory?)" if sig == "SIGKILL" else "")
        else:
            why = f"exited with code {code}"
        return None, f"worker process died while running this unit ({why})"

    def stop(self, kill: bool = False) -> None:
        if kill:
            with contextlib.suppress(OSError):
                self.proc.kill()
        else:
            with contextlib.suppress(OSError):
                self.conn.send(None)
        self.proc.join(timeout=None if kill else 5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def run_process(
    units: Iterable[Unit],
    retries: int = 0,
    workers: int | None = None,
    timeout: float | None = None,
    tick: Callable[[], None] | None = None,
    **_: Any,
) -> Iterator[Outcome]:
    """Run the units on ``workers`` local worker processes (default: CPUs), one unit per worker.

    Each worker is a forked process with its own pipe, so when one dies (``os._exit``, a signal,
    the OOM killer) exactly the unit it was running is charged an attempt; the other workers go
    on and a fresh worker replaces it. A unit running longer than ``timeout`` seconds is stopped
    (its worker killed) and fails with ``timeout``. A worker whose unit failed is replaced too,
    so a unit that corrupts its process (a resource limit, global state) cannot affect the next.
    ``tick`` is called at least once a second (the driver's heartbeat).
    """
    from multiprocessing.connection import wait as mp_wait

    n = workers or os.cpu_count() or 1
    ctx = _context()
    tr = _Tracker(retries)
    todo: deque[Unit] = deque()
    source = iter(units)
    idle: list[_Worker] = []
    busy: dict[Any, _Worker] = {}
    try:
        while True:
            while len(busy) < n and (unit := _next(todo, source)) is not None:
                w = idle.pop() if idle else _Worker(ctx)
                while not w.start(unit):
                    w.stop(kill=True)
                    w = _Worker(ctx)
                tr.start(unit)
                busy[w.conn] = w
            if not busy:
                break
            wait_s = 1.0
            if timeout is not None:
                first = min(w.started for w in busy.values())
                wait_s = max(0.01, min(wait_s, first + timeout - time.monotonic()))
            ready = set(mp_wait([*busy, *(w.proc.sentinel for w in busy.values())], timeout=wait_s))
            if tick is not None:
                tick()
            now = time.monotonic()
            for conn, w in list(busy.items()):
                if conn in ready or w.proc.sentinel in ready:
                    res, died = w.result()
                elif timeout is not None and now - w.started > timeout:
                    w.stop(kill=True)
                    res, died = None, f"timeout: the unit ran longer than {timeout:g} s and was stopped"
                else:
                    continue
                del busy[conn]
                unit = w.unit
                assert unit is not None  # a busy worker holds its unit
                if died is not None:
                    ok, payload, secs, host, pid = False, died, (now - w.started, 0.0), socket.gethostname(), w.proc.pid
                    w.stop(kill=True)
                else:
                    ok, payload, secs, host, pid = res
                    if ok:
                        idle.append(w)
                    else:
                        w.stop()
                if ok or not tr.retry(unit, payload):
                    yield tr.outcome(unit, ok, payload, secs, host, pid)
                else:
                    todo.appendleft(unit)
    finally:
        for w in [*busy.values(), *idle]:
            w.stop(kill=bool(busy))


def check_executor(executor: str, address: str | None = None) -> None:
    """Fail before anything starts (catalogue, progress bar) when ``executor`` cannot run here:
    ``ray`` without Ray installed, or a ``HOST:PORT`` address that accepts no connection."""
    if executor != "ray":
        return
    try:
        import ray  # noqa: F401
    except ImportError:
        raise ExecutorError("executor 'ray' needs Ray: pip install 'coopsim[ray]'") from None
    if address and address != "auto":
        _check_reachable(address)


@contextlib.contextmanager
def _loopback_node_ip() -> Iterator[None]:
    """Make Ray resolve "127.0.0.1" as this node's address while a local instance starts.

    ``ray.init(_node_ip_address="127.0.0.1")`` alone is not enough: ``ray.init`` passes the address
    through ``services.resolve_ip_for_localhost``, which replaces a loopback address by the
    machine's routable one whenever ``ray_constants.ENABLE_RAY_CLUSTER`` is true (always on Linux),
    and the GCS server, raylet, workers and agents then listen on all interfaces. With the flag
    false (Ray's own setting on macOS and Windows) every one of them binds 127.0.0.1. The flag is
    read only by ``services.get_node_ip_address``; it is restored once the instance is up.
    """
    try:
        from ray._private import ray_constants
    except ImportError:  # another Ray layout: its own defaults apply
        yield
        return
    old = getattr(ray_constants, "ENABLE_RAY_CLUSTER", None)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = old


def _ray_init(ray: Any, workers: int | None, address: str | None) -> None:
    """Join the cluster at ``address`` or start a local instance bound to 127.0.0.1, no dashboard."""
    if address and address != "auto":
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            with _loopback_node_ip():
                ray.init(
                    num_cpus=workers,
                    include_dashboard=False,
                    log_to_driver=False,
                    _node_ip_address="127.0.0.1",
                )
    except Exception as err:  # noqa: BLE001 - connection refused, no cluster at "auto", ...
        raise ExecutorError(
            f"address: could not start or join Ray ({address or 'local instance'}): {type(err).__name__}: {err}"
        ) from None


def run_ray(
    units: Iterable[Unit],
    retries: int = 0,
    workers: int | None = None,
    address: str | None = None,
    timeout: float | None = None,
    tick: Callable[[], None] | None = None,
    **_: Any,
) -> Iterator[Outcome]:
    """Run the units as Ray tasks (one task per unit, 1 CPU each).

    ``address``: ``"auto"`` or ``"HOST:PORT"`` joins a running cluster; ``None`` starts a local
    Ray instance with ``workers`` CPUs (default: all), bound to 127.0.0.1 without a dashboard. A
    task whose worker dies raises a ``RayError`` on ``ray.get``; the unit is charged one attempt
    and resubmitted. With ``timeout``, at most as many tasks as the cluster has CPUs are in flight
    (so a task starts when it is submitted) and a task older than ``timeout`` seconds is cancelled
    (``ray.cancel(force=True)`` kills its worker) and fails with ``timeout``.
    """
    try:
        import ray
    except ImportError:
        raise ExecutorError("executor 'ray' needs Ray: pip install 'coopsim[ray]'") from None
    started = False
    if not ray.is_initialized():
        _ray_init(ray, workers, address)
        started = True
    remote = ray.remote(max_retries=0, num_cpus=1)(work)
    tr = _Tracker(retries)
    pending: dict[Any, tuple[Unit, float]] = {}
    todo: deque[Unit] = deque()
    source = iter(units)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    window = cpus if timeout is not None else max(64, 4 * cpus)
    try:
        while True:
            while len(pending) < window and (unit := _next(todo, source)) is not None:
                tr.start(unit)
                pending[remote.remote(unit.config)] = (unit, time.monotonic())
            if not pending:
                break
            ready = ray.wait(list(pending), num_returns=1, timeout=1.0)[0]
            if tick is not None:
                tick()
            finished: list[tuple[Any, tuple]] = []
            for ref in ready:
                try:
                    finished.append((ref, ray.get(ref)))
                except ray.exceptions.RayError as err:
                    finished.append((ref, (False, f"Ray task failed: {type(err).__name__}: {err}", (0.0, 0.0), "", -1)))
            if timeout is not None:
                now = time.monotonic()
                for ref, (unit, t0) in list(pending.items()):
                    if ref not in ready and now - t0 > timeout:
                        with contextlib.suppress(Exception):
                            ray.cancel(ref, force=True)
                        msg = f"timeout: the unit ran longer than {timeout:g} s and was stopped"
                        finished.append((ref, (False, msg, (now - t0, 0.0), "", -1)))
            for ref, (ok, payload, secs, host, pid) in finished:
                unit, _t0 = pending.pop(ref)
                if ok or not tr.retry(unit, payload):
                    yield tr.outcome(unit, ok, payload, secs, host, pid)
                else:
                    todo.appendleft(unit)
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
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
