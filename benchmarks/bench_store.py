"""Results store at scale: catalogue cost per unit, load time (loose files, compacted), baseline.

    python benchmarks/bench_store.py                      # 10^3, 10^4, 10^5 units (10-20 min on 2 cores)
    python benchmarks/bench_store.py --sizes 1000 10000   # smaller
    python benchmarks/bench_store.py --quick              # 10^3 only, a smoke check

Each unit holds 100 recorded rounds x 2 metrics (200 rows), as a trivial random-walk unit would.
For N units the script

1. writes N unit files with ``store.write_unit`` on 2 worker processes (the driver's per-unit file
   cost, reported but not the subject here);
2. catalogues them exactly as ``coopsim.runner.run`` does: claims in transactions of
   ``CLAIM_CHUNK`` units, outcome records in transactions of ``FLUSH_UNITS`` units; reports the
   catalogue's cost per unit (it should stay flat from 10^3 to 10^5: O(1) per unit);
3. loads the folder with ``coopsim.runner.load`` (every file's size and SHA-256 verified, one
   ``pyarrow.dataset``), then after ``coopsim.runner.compact``;
4. for N <= ``--baseline-max`` (default 10^4), loads the loose files the way ``load`` did before the
   catalogue (one ``ParquetFile.read`` per file in a thread pool, then ``concat_tables``).

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
from coopsim.runner.engine import CLAIM_CHUNK, FLUSH_UNITS

ROUNDS = 100


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
    args = ap.parse_args()
    sizes = [1_000] if args.quick else args.sizes
    root = Path(args.tmp) if args.tmp else Path(tempfile.mkdtemp(prefix="coopsim-bench-store-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"units x {ROUNDS} recorded rounds x 2 metrics; scratch {root}")
    head = (f"{'units':>8} {'rows':>10} {'write s':>8} {'cat us/unit':>11} {'load s':>7} {'old load s':>10} "
            f"{'speed-up':>8} {'compact s':>9} {'load(compact) s':>15} {'MB':>7}")  # fmt: skip
    print(head)
    try:
        for n in sizes:
            r = bench(root, n, args.baseline_max)
            old = f"{r['old_load_s']:10.2f} {r['speedup']:7.1f}x" if "old_load_s" in r else f"{'-':>10} {'-':>8}"
            print(
                f"{r['units']:>8} {r['rows']:>10} {r['write_s']:8.1f} {r['catalogue_us_per_unit']:11.1f} "
                f"{r['load_s']:7.2f} {old} {r['compact_s']:9.2f} {r['load_compacted_s']:15.3f} "
                f"{r['mb_on_disk']:7.1f}",
                flush=True,
            )
    finally:
        if args.tmp is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
