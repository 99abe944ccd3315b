"""Results store at scale: catalogue cost per unit, load time (loose files, as a run leaves them,
compacted), baseline.

    python benchmarks/bench_store.py                      # 10^3, 10^4, 10^5 units (10-20 min on 2 cores)
    python benchmarks/bench_store.py --sizes 1000 10000   # smaller
    python benchmarks/bench_store.py --quick              # 10^3 only, a smoke check
    python benchmarks/bench_store.py --sizes 10000 --real-run   # also a real coopsim run of 10^4 units

Each unit holds 100 recorded rounds x 2 metrics (200 rows), as a trivial random-walk unit would.
For N units the script

1. writes N unit files with ``store.write_unit`` on 2 worker processes (the driver's per-unit file
   cost, reported but not the subject here);
2. catalogues them exactly as ``coopsim.runner.run`` does: claims in transactions of
   ``CLAIM_CHUNK`` units, outcome records in transactions of ``FLUSH_UNITS`` units; reports the
   catalogue's cost per unit (it should stay flat from 10^3 to 10^5: O(1) per unit);
3. loads the loose folder with ``coopsim.runner.load`` (a folder read mid-sweep by a run started
   with ``--no-compact``: every file read once, its size and SHA-256 checked, parsed);
4. for N <= ``--baseline-max`` (default 10^4), loads the loose files the way ``load`` did before the
   catalogue (one ``ParquetFile.read`` per file in a thread pool, then ``concat_tables``);
5. applies the compaction schedule of a run (``compact(keys=...)`` each ``COMPACT_AFTER`` recorded
   units, then the end-of-run rule) and loads the folder *as a run leaves it*; the ratio column
   compares that load with ``BASELINE_S``, the loose-folder load of 10^4 units before this change;
6. compacts everything into 10^6-row parts (``coopsim compact``) and loads again.

With ``--real-run``, sizes <= 10^4 are also run for real (``coopsim.runner.run``, random_walk
units of the same shape, process executor, 2 workers) and the folder it leaves is loaded.

Timings are wall seconds on whatever else the machine is doing: noisy on a shared 2-core box.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from coopsim import runner
from coopsim.runner import catalogue, store
from coopsim.runner.engine import CLAIM_CHUNK, COMPACT_AFTER, FLUSH_UNITS

ROUNDS = 100
#: load of a 10^4-unit folder as a run left it (loose files, verified dataset load) before this
#: change, measured on the quiet 2-core machine with ``--sizes 10000``
BASELINE_S = 7.3


def _write_range(args: tuple[str, int, int]) -> list[dict]:
    out, lo, hi = args
    rounds = np.arange(1, ROUNDS + 1)
    infos = []
    for i in range(lo, hi):
        rng = np.random.default_rng(i)
        frame = pd.DataFrame(
            {
                "round": np.tile(rounds, 2),
                "metric": np.repeat(["mean", "abs_mean"], ROUNDS),
                "value": rng.standard_normal(2 * ROUNDS),
            }
        )
        params = {"experiment.name": "bench", "experiment.rounds": ROUNDS, "function.name": "random_walk",
                  "replicate": i}  # fmt: skip
        info = store.write_unit(out, f"{i:020x}", params, frame)
        infos.append({**info, "key": f"{i:020x}"})
    return infos


def write_files(out: Path, n: int) -> tuple[float, list[dict]]:
    t0 = time.perf_counter()
    step = max(1, n // 20)
    jobs = [(str(out), lo, min(n, lo + step)) for lo in range(0, n, step)]
    with ProcessPoolExecutor(2) as pool:
        infos = [i for part in pool.map(_write_range, jobs) for i in part]
    return time.perf_counter() - t0, infos


def catalogue_units(out: Path, infos: list[dict]) -> float:
    """Claim and record every unit through the catalogue API the engine uses; returns seconds."""
    units = [SimpleNamespace(key=i["key"], config={"replicate": k}) for k, i in enumerate(infos)]
    t0 = time.perf_counter()
    with catalogue.open_catalogue(out) as cat:
        flat = {"bench": ROUNDS}
        cat.check_spec(catalogue.fingerprint(flat), flat, {})
        buffer = []
        for lo in range(0, len(units), CLAIM_CHUNK):
            claimed, _, _ = cat.claim("bench", units[lo : lo + CLAIM_CHUNK], None, resume=True, since=0.0)
            for u in claimed:
                info = infos[u.config["replicate"]]
                buffer.append({**info, "status": "done", "run_id": "bench", "attempts": 1, "file": info["path"]})
                if len(buffer) >= FLUSH_UNITS:
                    cat.record(buffer)
                    buffer = []
        cat.record(buffer)
    return time.perf_counter() - t0


def old_load(out: Path) -> pd.DataFrame:
    """``load`` as it was before the catalogue: every file read on its own, then concatenated."""
    files = store.unit_files(out)
    with ThreadPoolExecutor(max_workers=min(16, 2 * (os.cpu_count() or 1) + 2)) as pool:
        tables = list(pool.map(lambda f: pq.ParquetFile(f).read().replace_schema_metadata(None), files))
    table = pa.concat_tables(tables, promote_options="permissive")
    for i, field in enumerate(table.schema):
        if pa.types.is_dictionary(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(field.type.value_type))
    return table.to_pandas()


def run_compaction(out: Path, keys: list[str]) -> None:
    """The compaction a run (``compact=None``) does: the units it recorded, each ``COMPACT_AFTER``
    of them, then everything loose when the run computed (or the folder holds) at least that many."""
    for lo in range(0, len(keys) - COMPACT_AFTER + 1, COMPACT_AFTER):
        runner.compact(out, keys=keys[lo : lo + COMPACT_AFTER])
    with catalogue.open_catalogue(out, create=False, read_only=True) as cat:
        loose = cat.count_loose()
    if max(loose, len(keys)) >= COMPACT_AFTER:
        runner.compact(out)


def real_run(root: Path, n: int) -> dict:
    """``coopsim.runner.run`` of ``n`` random-walk units (100 recorded rounds x 2 metrics), then load."""
    out = root / f"run{n}"
    shutil.rmtree(out, ignore_errors=True)
    spec = {
        "experiment": {"name": "bench", "rounds": ROUNDS, "batch": 1, "record_every": 1, "seeds": n},
        "function": {"name": "random_walk"},
    }
    run_s, res = timed(lambda: runner.run(spec, executor="process", workers=2, out=out, progress=False))
    assert res.done == n
    loose = len(list((out / "units").glob("*.parquet")))
    timed(runner.load, out)
    load_s, df = timed(runner.load, out)
    assert len(df) == 2 * ROUNDS * n and not df.attrs["skipped"]
    shutil.rmtree(out, ignore_errors=True)
    return {"units": n, "run_s": run_s, "loose": loose, "load_s": load_s}


def timed(fn, *args):
    t0 = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - t0, value


def bench(root: Path, n: int, baseline_max: int) -> dict:
    out = root / f"n{n}"
    shutil.rmtree(out, ignore_errors=True)
    write_s, infos = write_files(out, n)
    cat_s = catalogue_units(out, infos)
    row = {"units": n, "rows": 2 * ROUNDS * n, "write_s": write_s, "catalogue_us_per_unit": 1e6 * cat_s / n}
    timed(runner.load, out)  # warm the page cache like the other reads
    row["load_s"], df = timed(runner.load, out)
    assert len(df) == 2 * ROUNDS * n and not df.attrs["skipped"]
    if n <= baseline_max:
        row["old_load_s"], old = timed(old_load, out)
        assert len(old) == len(df)
        row["speedup"] = row["old_load_s"] / row["load_s"]
    row["run_compact_s"], _ = timed(run_compaction, out, [i["key"] for i in infos])
    timed(runner.load, out)
    row["load_run_s"], dfr = timed(runner.load, out)
    assert len(dfr) == len(df) and not dfr.attrs["skipped"]
    row["vs_baseline"] = BASELINE_S / row["load_run_s"]
    row["compact_s"], _ = timed(runner.compact, out)
    row["load_compacted_s"], dfc = timed(runner.load, out)
    assert len(dfc) == len(df)
    row["mb_on_disk"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    shutil.rmtree(out, ignore_errors=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--quick", action="store_true", help="10^3 units only")
    ap.add_argument("--baseline-max", type=int, default=10_000, help="largest N loaded the old way")
    ap.add_argument("--tmp", default=None, help="scratch folder (default: a new temp folder)")
    ap.add_argument("--real-run", action="store_true", help="also run sizes <= 10^4 with coopsim.runner.run")
    args = ap.parse_args()
    sizes = [1_000] if args.quick else args.sizes
    root = Path(args.tmp) if args.tmp else Path(tempfile.mkdtemp(prefix="coopsim-bench-store-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"units x {ROUNDS} recorded rounds x 2 metrics; scratch {root}; baseline {BASELINE_S} s")
    head = (f"{'units':>8} {'rows':>10} {'write s':>8} {'cat us/unit':>11} {'load loose s':>12} {'old load s':>10} "
            f"{'speed-up':>8} {'run compact s':>13} {'load(run) s':>11} {'vs baseline':>11} {'compact s':>9} "
            f"{'load(compact) s':>15} {'MB':>7}")  # fmt: skip
    print(head)
    try:
        for n in sizes:
            r = bench(root, n, args.baseline_max)
            old = f"{r['old_load_s']:10.2f} {r['speedup']:7.1f}x" if "old_load_s" in r else f"{'-':>10} {'-':>8}"
            print(
                f"{r['units']:>8} {r['rows']:>10} {r['write_s']:8.1f} {r['catalogue_us_per_unit']:11.1f} "
                f"{r['load_s']:12.2f} {old} {r['run_compact_s']:13.2f} {r['load_run_s']:11.3f} "
                f"{r['vs_baseline']:10.1f}x {r['compact_s']:9.2f} {r['load_compacted_s']:15.3f} {r['mb_on_disk']:7.1f}",
                flush=True,
            )
        if args.real_run:
            print(
                f"{'units':>8} {'run s':>8} {'loose files':>11} {'load s':>7} {'vs baseline':>11}  (coopsim.runner.run)"
            )
            for n in (n for n in sizes if n <= 10_000):
                r = real_run(root, n)
                print(
                    f"{r['units']:>8} {r['run_s']:8.1f} {r['loose']:>11} {r['load_s']:7.3f} "
                    f"{BASELINE_S / r['load_s']:10.1f}x",
                    flush=True,
                )
    finally:
        if args.tmp is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
