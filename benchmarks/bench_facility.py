"""Facility-location throughput (issue 2). Prints a table; not a test.

    python benchmarks/bench_facility.py

1. Uniform Phantom plus utilities on B = 4096 profiles of n = 11: agent-steps per second
   (one agent-step = one agent's report processed and its utility computed). Target >= 2e7 /s.
2. The same game stepped one copy at a time through the PettingZoo ParallelEnv, against the
   native batched path (RepeatedGame.step). The ratio was first a target (>= 100x, when one copy
   ran at ~30k agent-steps/s); now that one copy is ~10x faster it only shows what batching buys.
3. deviation_utilities with K = 101 candidates: candidate evaluations per second
   (closed form for generalized medians, and the generic path for comparison).
"""

from __future__ import annotations

import time

import numpy as np
from coopsim.envs.facility_location import FacilityLocation, parallel_env

from coopsim.core.env import RepeatedGame
from coopsim.core.game import MechanismGame


def best_rate(fn, work: float, repeat: int = 5, min_time: float = 0.2) -> float:
    """Best-of-``repeat`` units per second of ``fn`` (each timing runs >= ``min_time``)."""
    best = 0.0
    for _ in range(repeat):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_time:
                break
        best = max(best, n * work / dt)
    return best


def main() -> None:
    B, n, K = 4096, 11, 101
    rng = np.random.default_rng(0)
    game = FacilityLocation(n_agents=n, mechanism="uniform_phantom")
    peaks = rng.random((B, n))
    reports = rng.random((B, n))
    mech = game.mechanism

    def up_and_utility():
        y = mech(reports)
        return 1.0 - np.abs(y[:, None] - peaks)

    raw = best_rate(up_and_utility, B * n)
    play = best_rate(lambda: game.play(peaks, reports), B * n)

    batched = RepeatedGame(game, rounds=10**9, batch_size=B)
    batched.reset(seed=0)
    acts = reports[..., None]
    native = best_rate(lambda: batched.step(acts), B * n)

    pz = parallel_env(n_agents=n, mechanism="uniform_phantom", max_cycles=10**9)
    pz.reset(seed=0)
    act = {a: np.array([0.5], dtype=np.float32) for a in pz.possible_agents}
    per_copy = best_rate(lambda: pz.step(act), n, repeat=3)

    cand = np.linspace(0, 1, K)
    closed = best_rate(lambda: game.deviation_utilities(peaks[:256], reports[:256], cand), 256 * n * K)
    generic = best_rate(
        lambda: MechanismGame.deviation_utilities(game, peaks[:256], reports[:256], cand), 256 * n * K, repeat=3
    )

    rows = [
        ("UP + utilities, B=4096, n=11 (agent-steps/s)", raw, "target >= 2.0e7"),
        ("FacilityLocation.play (agent-steps/s)", play, ""),
        ("RepeatedGame.step, native batched (agent-steps/s)", native, ""),
        ("PettingZoo ParallelEnv, one copy (agent-steps/s)", per_copy, ""),
        ("  ratio native / PettingZoo", native / per_copy, "(what batching buys)"),
        ("deviation_utilities K=101, closed form (cand. evals/s)", closed, ""),
        ("deviation_utilities K=101, generic path (cand. evals/s)", generic, ""),
    ]
    for name, value, note in rows:
        print(f"{name:58s} {value:14.4g}  {note}")


if __name__ == "__main__":
    main()
