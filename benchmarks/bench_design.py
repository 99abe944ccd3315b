"""Training throughput of the auction-design networks (plain script; not part of the test suite).

    python benchmarks/bench_design.py [--quick] [--threads 1]

For each device present (``cpu`` always, ``cuda`` when available) and each trainer, a short
training run is timed after a one-iteration warm-up; the table gives training samples per second
(iterations x minibatch / seconds) and milliseconds per iteration. RegretNet's iteration includes
its misreport ascent (``misreport_inits`` x ``misreport_steps`` extra forward/backward passes over
``n`` deviation profiles per sample), so its samples/s is not comparable with the others'.
Timings on a shared machine are noisy: the best of ``--repeat`` runs is reported.
"""

from __future__ import annotations

import argparse
import time

import torch

from coopsim.design import train_myerson_net, train_regret_net, train_rochet_net

CASES = {
    "MyersonNet n=2": (train_myerson_net, dict(n_bidders=2, batch=2048), 200),
    "RochetNet m=2, K=64": (train_rochet_net, dict(n_items=2, batch=2048, options=64), 200),
    "RegretNet 2x2 (100, 100)": (train_regret_net, dict(batch=512, n_train=8192, log_every=10**6), 40),
}


def best_time(fn, kw: dict, iterations: int, repeat: int) -> float:
    fn(iterations=1, progress_bar=False, **kw)  # warm-up (allocations, kernels)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(iterations=iterations, progress_bar=False, **kw)
        if kw["device"].startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a quarter of the iterations, one repeat")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    repeat = 1 if args.quick else args.repeat
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s); devices: {', '.join(devices)}")
    if torch.cuda.is_available():
        print(f"cuda device: {torch.cuda.get_device_name(0)}")
    print(f"{'trainer':28s} {'device':6s} {'batch':>6s} {'iters':>6s} {'samples/s':>12s} {'ms/iter':>9s}")
    for device in devices:
        for name, (fn, kw, iters) in CASES.items():
            iters = max(iters // 4, 5) if args.quick else iters
            sec = best_time(fn, {**kw, "device": device}, iters, repeat)
            print(
                f"{name:28s} {device:6s} {kw['batch']:6d} {iters:6d} {iters * kw['batch'] / sec:12.0f} {1e3 * sec / iters:9.2f}"
            )


if __name__ == "__main__":
    main()
