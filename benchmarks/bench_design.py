"""Timings of the design tools (optimal scoring rules, phantom search) and balanced-bidding dynamics.

Prints one row per case: the wall-clock seconds of the best of ``--repeat`` runs (figures depend on
machine load; the shared development machine has 2 cores), and for balanced bidding the bidder
updates per second (``B * rounds / seconds``, one bidder updated per copy and round in async mode).

Run: ``python benchmarks/bench_design.py [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from coopsim.agents import balanced_bidding
from coopsim.design.phantoms import search_phantoms
from coopsim.design.scoring import optimal_scoring_rule


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows: list[tuple[str, float, str]] = []
    for m, K in ((2, 2), (3, 6), (5, 20), (8, 60)):
        mu, lik = rng.dirichlet(np.ones(m)), rng.dirichlet(np.ones(K), size=m)
        rows.append(
            (f"optimal_scoring_rule m={m} K={K}", best_of(lambda: optimal_scoring_rule(mu, lik), args.repeat), "")
        )
    for n in (3, 5, 9):
        sec = best_of(lambda: search_phantoms(n, ("beta", 2, 5), axioms=["IFS"], samples=20000), args.repeat)
        rows.append((f"search_phantoms n={n} IFS samples=20000", sec, ""))
    B, N, S, T = 1024, 8, 4, 500
    v, a = rng.random((B, N)), -np.sort(-rng.random((B, S)), axis=1)
    sec = best_of(lambda: balanced_bidding(v, a, T, rng=np.random.default_rng(1)), args.repeat)
    rows.append((f"balanced_bidding async B={B} N={N} S={S} rounds={T}", sec, f"{B * T / sec:,.0f} updates/s"))
    width = max(len(r[0]) for r in rows)
    print(f"{'case'.ljust(width)}  seconds  note")
    for name, sec, note in rows:
        print(f"{name.ljust(width)}  {sec:7.3f}  {note}")


if __name__ == "__main__":
    main()
