"""Runner benchmarks: executor speed-up, Ray per-unit overhead, results store write/load.

    python benchmarks/bench_runner.py            # full sizes (a few minutes on 2 cores)
    python benchmarks/bench_runner.py --quick    # small sizes, for a smoke check

1. 200 small units (facility game n = 3, Hedge, 200 rounds, B = 64, 21-point report grid) on
   ``serial`` and on ``process`` with 2 workers: wall time and speed-up (target >= 1.6x on 2 cores).
2. Ray per-unit overhead: trivial units (a 1-round random walk) on a local Ray instance with 2 CPUs;
   overhead per unit = wall time / units (the units do no work), next to the process pool's figure.
3. Results store: 10^4 units x 100 recorded rounds (2 metrics, so 2 x 10^6 rows) written through
   ``coopsim.runner.run`` (serial; the units are trivial; the run compacts the folder at its end) and
   read back with ``coopsim.runner.load``: seconds, bytes on disk, rows. ``bench_store.py`` times the
   store on its own (catalogue cost per unit, loose vs compacted loads, 10^3..10^5 units).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from coopsim import runner


def facility_spec(units: int) -> dict:
    return {
        "experiment": {
            "name": "bench",
            "seeds": units,
            "rounds": 200,
            "batch": 64,
            "record_every": 20,
            "action_grid": 21,
        },
        "env": {"name": "facility_location", "n_agents": 3},
        "mechanism": {"name": "average"},
        "agents": [{"learner": "hedge"}],
    }


def trivial_spec(units: int, rounds: int = 1) -> dict:
    return {
        "experiment": {"name": "trivial", "seeds": units, "rounds": rounds, "batch": 1, "record_every": 1},
        "function": {"name": "random_walk"},
    }


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed_run(spec, executor, out, **kw) -> float:
    sp = runner.load_spec(spec)
    t0 = time.perf_counter()
    res = runner.run(sp, executor=executor, out=out, progress=False, **kw)
    wall = time.perf_counter() - t0
    assert res.failed == 0, res.failures
    return wall


def cores_used(out: Path, wall: float) -> tuple[float, float]:
    """(units in flight, cores obtained): the units' wall seconds and CPU seconds summed, over the
    sweep's wall time. On idle cores both approach the number of workers; on a shared machine the
    second shows how much CPU the sweep really got."""
    units = list(runner.read_manifest(out)["units"].values())
    return (sum(u.get("seconds", 0.0) for u in units) / wall, sum(u.get("cpu_seconds", 0.0) for u in units) / wall)


def bench_executors(tmp: Path, n_fac: int) -> None:
    serial = timed_run(facility_spec(n_fac), "serial", tmp / "serial")
    process = timed_run(facility_spec(n_fac), "process", tmp / "process", workers=2)
    keys = ["unit", "metric", "round", "agent"]
    a = runner.load(tmp / "serial").sort_values(keys).reset_index(drop=True)
    b = runner.load(tmp / "process").sort_values(keys).reset_index(drop=True)
    fs, cs = cores_used(tmp / "serial", serial)
    fp, cp = cores_used(tmp / "process", process)
    print(f"\n[1] {n_fac} facility units (n=3, Hedge, T=200, B=64)")
    print(
        f"    serial           {serial:8.2f} s  ({1e3 * serial / n_fac:6.1f} ms/unit; in flight {fs:.2f}, "
        f"cores obtained {cs:.2f})"
    )
    print(
        f"    process, 2 wkrs  {process:8.2f} s  ({1e3 * process / n_fac:6.1f} ms/unit; in flight {fp:.2f}, "
        f"cores obtained {cp:.2f})"
    )
    print(
        f"    speed-up         {serial / process:8.2f} x   (target >= 1.6x; identical tables: {a.equals(b)}; "
        f"load average now {os.getloadavg()[0]:.1f})"
    )
    eff = (serial / process) / (cp / cs)
    print(
        f"    efficiency       {eff:8.2f}     (speed-up / (cores obtained by process / by serial)); estimate on "
        f"2 idle cores: {2 * eff:.2f} x"
    )


def bench_overhead(tmp: Path, n_ray: int, skip_ray: bool) -> None:
    print(f"\n[2] per-unit overhead, {n_ray} trivial units (1-round random walk)")
    s = timed_run(trivial_spec(n_ray), "serial", tmp / "t_serial")
    p = timed_run(trivial_spec(n_ray), "process", tmp / "t_process", workers=2)
    print(f"    serial           {1e3 * s / n_ray:8.2f} ms/unit (run + store + catalogue)")
    print(f"    process, 2 wkrs  {1e3 * p / n_ray:8.2f} ms/unit")
    if skip_ray:
        return
    try:
        import ray
    except ImportError:
        print("    ray              not installed")
        return
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    start = time.perf_counter() - t0
    timed_run(trivial_spec(20, rounds=2), "ray", tmp / "t_warm")  # start the workers
    r = timed_run(trivial_spec(n_ray), "ray", tmp / "t_ray")
    # latency: one unit at a time through a Ray task (submit, run, fetch) vs in-process
    from coopsim.runner.executors import work

    cfg = runner.load_spec(trivial_spec(1)).units()[0].config
    remote = ray.remote(max_retries=0, num_cpus=1)(work)
    ray.get(remote.remote(cfg))
    t0 = time.perf_counter()
    for _ in range(100):
        ray.get(remote.remote(cfg))
    lat = (time.perf_counter() - t0) / 100
    t0 = time.perf_counter()
    for _ in range(100):
        work(cfg)
    local = (time.perf_counter() - t0) / 100
    ray.shutdown()
    print(f"    ray, 2 cpus      {1e3 * r / n_ray:8.2f} ms/unit throughput (ray.init {start:.1f} s, not counted)")
    print(f"    ray minus serial {1e3 * (r - s) / n_ray:+8.2f} ms/unit")
    print(
        f"    ray task latency {1e3 * lat:8.2f} ms/unit one at a time vs {1e3 * local:.2f} ms in-process: "
        f"overhead {1e3 * (lat - local):.2f} ms/unit"
    )


def bench_store(tmp: Path, n_store: int) -> None:
    out = tmp / "store"
    w = timed_run(trivial_spec(n_store, rounds=100), "serial", out)
    t0 = time.perf_counter()
    df = runner.load(out)
    lt = time.perf_counter() - t0
    size = du(out / "units") + du(out / "parts")
    print(f"\n[3] store: {n_store} units x 100 recorded rounds x 2 metrics = {len(df):,} rows")
    print(f"    write (runner.run, serial)  {w:8.2f} s  ({1e3 * w / n_store:.2f} ms/unit, unit run included)")
    print(f"    load  (runner.load)         {lt:8.2f} s")
    print(
        f"    on disk: units/ + parts/ {size / 1e6:.1f} MB ({size / n_store / 1e3:.1f} kB/unit, "
        f"{size / len(df):.1f} B/row); catalogue.sqlite {(out / 'catalogue.sqlite').stat().st_size / 1e6:.1f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke check")
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--only", type=int, nargs="*", default=[1, 2, 3], help="sections to run (1 2 3)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_runner_"))
    print(f"cpus: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} (other processes share the cores)")
    try:
        if 1 in args.only:
            bench_executors(tmp, 40 if args.quick else 200)
        if 2 in args.only:
            bench_overhead(tmp, 100 if args.quick else 400, args.skip_ray)
        if 3 in args.only:
            bench_store(tmp, 1000 if args.quick else 10_000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
