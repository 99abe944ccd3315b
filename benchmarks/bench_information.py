"""Benchmark: information-acquisition LP build/solve time as the instance grows, and batched
elicitation rounds per second.

Run: ``python benchmarks/bench_information.py [--budget SECONDS] [--skip-lp] [--skip-env]``

Part 1 grows one dimension at a time from (agents=2, efforts=2, signals=2, states=2) and prints the
LP's variables, constraints, non-zeros, build and solve time (HiGHS via scipy). A series stops
when one solve passes 60 s, when the series budget is spent, or when the next size's constraint
matrix would pass ``--max-nnz``; the baseline column is the same LP solved with a dense
constraint matrix (small sizes only).

Part 2 times ``InformationAcquisitionEnv`` rounds (effort + report phase) with B = 4096 copies,
3 agents, 4 states, the LP-optimal mechanism and obedient-truthful agents, against a per-copy
Python loop baseline.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from coopsim.mechanisms.information import build_lp, random_model
from scipy.optimize import linprog


def _time_lp(n, A, S, T, dense_limit=3000):
    rng = np.random.default_rng(0)
    model = random_model(rng, n_agents=n, n_actions=A, n_signals=S, n_states=T)
    lp = build_lp(model)
    t0 = time.perf_counter()
    res = linprog(lp.c, lp.A_ub, lp.b_ub, lp.A_eq, lp.b_eq, bounds=lp.bounds, method="highs")
    solve = time.perf_counter() - t0
    dense = float("nan")
    if lp.n_variables * lp.n_constraints <= dense_limit * dense_limit:
        t0 = time.perf_counter()
        linprog(lp.c, lp.A_ub.toarray(), lp.b_ub, lp.A_eq.toarray(), lp.b_eq, bounds=lp.bounds, method="highs")
        dense = time.perf_counter() - t0
    return lp, res, solve, dense


def _nnz_estimate(n, A, S, T):
    nA, nS = A**n, S**n
    return n * (A * S * nA * nS * T + A * nA * nS * T)


def bench_lp(budget: float, max_nnz: float) -> None:
    series = {
        "agents": lambda k: (k, 2, 2, 2),
        "efforts": lambda k: (2, k, 2, 2),
        "signals": lambda k: (2, 2, k, 2),
        "states": lambda k: (2, 2, 2, k),
    }
    starts = {
        "agents": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        "efforts": [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96],
        "signals": [2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64],
        "states": [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    }
    print(
        f"{'grow':8} {'n':>2} {'A_i':>4} {'S_i':>4} {'|T|':>5} {'vars':>10} {'cons':>9} {'nnz':>11} "
        f"{'build s':>8} {'solve s':>9} {'dense s':>8} {'dense/sparse':>12} {'value':>8}"
    )
    for name, sizes in starts.items():
        spent = 0.0
        for k in sizes:
            n, A, S, T = series[name](k)
            est = _nnz_estimate(n, A, S, T)
            if est > max_nnz:
                print(f"{name:8} {n:>2} {A:>4} {S:>4} {T:>5}  stop: ~{est:.2g} non-zeros > --max-nnz {max_nnz:.2g}")
                break
            lp, res, solve, dense = _time_lp(n, A, S, T)
            spent += lp.build_time + solve + (0 if np.isnan(dense) else dense)
            ratio = dense / solve if np.isfinite(dense) else float("nan")
            print(
                f"{name:8} {n:>2} {A:>4} {S:>4} {T:>5} {lp.n_variables:>10} {lp.n_constraints:>9} "
                f"{lp.A_ub.nnz:>11} {lp.build_time:>8.3f} {solve:>9.3f} {dense:>8.3f} {ratio:>12.2f} "
                f"{-res.fun:>8.4f}",
                flush=True,
            )
            if solve > 60:
                print(f"{name:8} stop: one solve passed 60 s")
                break
            if spent > budget:
                print(f"{name:8} stop: series budget {budget:.0f} s spent")
                break


def bench_env(batch: int = 4096, rounds: int = 200) -> None:
    from coopsim.envs.information_acquisition import InformationAcquisitionEnv
    from coopsim.mechanisms.information import optimal_mechanism

    rng = np.random.default_rng(1)
    model = random_model(rng, n_agents=3, n_actions=2, n_signals=2, n_states=4)
    mech = optimal_mechanism(model, cap=2.0)
    env = InformationAcquisitionEnv(model, mechanism=mech, batch_size=batch, rounds=rounds)
    env.reset(seed=0)
    t0 = time.perf_counter()
    for _ in range(rounds):
        env.step(env.default_actions())  # effort phase
        env.step(env.default_actions())  # report phase
    dt = time.perf_counter() - t0
    rps = batch * rounds / dt
    # baseline: the same round for one copy at a time in plain Python
    small = InformationAcquisitionEnv(model, mechanism=mech, batch_size=1, rounds=10**6)
    small.reset(seed=0)
    k = 2000
    t0 = time.perf_counter()
    for _ in range(k):
        small.step(small.default_actions())
        small.step(small.default_actions())
    base = k / (time.perf_counter() - t0)
    print(
        f"elicitation rounds/s (B={batch}, 3 agents, 4 states, LP mechanism): {rps:,.0f}; "
        f"B=1 loop baseline {base:,.0f} rounds/s; ratio {rps / base:.0f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=70.0, help="seconds per growth series")
    ap.add_argument("--max-nnz", type=float, default=3e7)
    ap.add_argument("--skip-lp", action="store_true")
    ap.add_argument("--skip-env", action="store_true")
    args = ap.parse_args()
    if not args.skip_lp:
        bench_lp(args.budget, args.max_nnz)
    if not args.skip_env:
        bench_env()


if __name__ == "__main__":
    main()
