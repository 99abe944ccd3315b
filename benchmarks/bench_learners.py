"""Throughput of the vectorised learners (issue 3, learning spec §7).

Measures agent-updates per second = B * N / (seconds per act + update) for
- Hedge, full information (deviation utilities ``full`` (B, N, K) given, precomputed so that only
  the learner is timed), B = 1024, N = 10, K = 21 and K = 101 (targets 2 M/s and 0.7 M/s on 2 cores);
- the same Hedge run as a per-agent Python loop over the B * N agents (one learner object per agent,
  the way a per-env framework runs them), and the vectorised / loop ratio (target >= 30x). Three
  loop baselines, from the most to the least favourable to the vectorised path:
    * ``coopsim-per-agent``: ``coopsim.agents.Hedge(K, batch=1, n_agents=1)``, one object per agent
      (literally the same learner, with its input validation);
    * ``numpy+choice``: a lean hand-written per-agent Hedge (NumPy K-vector, softmax) sampling with
      ``rng.choice(K, p=p)``, the usual per-agent idiom;
    * ``numpy+searchsorted``: the same lean loop sampling with cumsum + ``searchsorted`` (the fastest
      per-agent loop we could write; no validation);
- EXP3-IX with bandit feedback at the same sizes.

Run: ``python benchmarks/bench_learners.py [--rounds 50] [--loop-agents 2048] [--clock wall|cpu]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import coopsim.agents as ag


class PerAgentHedge:
    """One Hedge learner for one agent (the per-env-framework baseline): K-vector state."""

    def __init__(self, K: int, eta: float, sampler: str = "searchsorted") -> None:
        self.S = np.zeros(K)
        self.eta = eta
        self.sampler = sampler

    def act(self, rng: np.random.Generator) -> int:
        z = self.eta * self.S
        p = np.exp(z - z.max())
        p /= p.sum()
        self.p = p
        if self.sampler == "choice":
            return int(rng.choice(len(p), p=p))
        return min(int(np.searchsorted(np.cumsum(p), rng.random(), side="right")), len(p) - 1)

    def update(self, a: int, r: float, u: np.ndarray) -> None:
        self.S += u


CLOCK = time.perf_counter  # --clock cpu switches to time.process_time (robust to a loaded machine)


def time_vectorised(learner, B: int, N: int, K: int, rounds: int, full: bool) -> float:
    rng = np.random.default_rng(0)
    data = np.random.default_rng(1)
    U = data.random((4, B, N, K))
    R = data.random((4, B, N))
    learner.bind(B, N)
    for t in range(3):  # warm-up
        a = learner.act(rng)
        learner.update(a, R[t % 4], full=U[t % 4] if full else None)
    best = np.inf
    for rep in range(3):
        t0 = CLOCK()
        for t in range(rounds):
            a = learner.act(rng)
            learner.update(a, R[t % 4], full=U[t % 4] if full else None)
        best = min(best, CLOCK() - t0)
    return B * N * rounds / best


def time_loop(K: int, n_agents_total: int, rounds: int, kind: str) -> float:
    """Per-agent loop: ``n_agents_total`` learner objects, each act + update once per round."""
    rng = np.random.default_rng(0)
    U = np.random.default_rng(1).random((n_agents_total, K))
    if kind == "coopsim-per-agent":
        agents = [ag.Hedge(K, batch=1, n_agents=1, horizon=10_000) for _ in range(n_agents_total)]
        Uj = U.reshape(n_agents_total, 1, 1, K)
        t0 = CLOCK()
        for t in range(rounds):
            for j, agent in enumerate(agents):
                a = agent.act(rng)
                agent.update(a, Uj[j, :, :, a[0, 0]], full=Uj[j])
        return n_agents_total * rounds / (CLOCK() - t0)
    agents = [PerAgentHedge(K, 0.05, kind.split("+")[1]) for _ in range(n_agents_total)]
    t0 = CLOCK()
    for t in range(rounds):
        for j, agent in enumerate(agents):
            a = agent.act(rng)
            u = U[j]
            agent.update(a, u[a], u)
    return n_agents_total * rounds / (CLOCK() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument(
        "--loop-agents",
        type=int,
        default=2048,
        help="agents timed in the per-agent loop (the rate is per agent-update)",
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: time.perf_counter; cpu: time.process_time (use on a shared, loaded machine)",
    )
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    B, N = args.batch, args.agents
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"numpy {np.__version__}; B = {B}, N = {N}; agent-updates/s (act + update), best of 3 x {args.rounds} "
        f"rounds; {args.clock} clock; {os.cpu_count()} CPUs, load average {load:.2f}"
    )
    header = f"{'learner':<28}{'K':>5}{'updates/s':>14}{'target':>10}{'ratio vs loop':>15}"
    print(header)
    print("-" * len(header))
    targets = {21: 2.0e6, 101: 0.7e6}
    for K in (21, 101):
        vec = time_vectorised(ag.Hedge(K, horizon=10_000), B, N, K, args.rounds, full=True)
        ix = time_vectorised(ag.Exp3IX(K, horizon=10_000), B, N, K, args.rounds, full=False)
        ok = "ok" if vec >= targets[K] else "MISS"
        print(f"{'Hedge (full, vectorised)':<28}{K:>5}{vec / 1e6:>12.2f} M{targets[K] / 1e6:>8.1f} M{'':>15}  {ok}")
        for kind in ("coopsim-per-agent", "numpy+choice", "numpy+searchsorted"):
            loop = time_loop(K, args.loop_agents, 2, kind)
            ratio = vec / loop
            print(
                f"{'  loop: ' + kind:<28}{K:>5}{loop / 1e6:>12.3f} M{'':>10}{ratio:>14.0f}x  "
                f"{'ok' if ratio >= 30 else 'below'} (target >= 30x)"
            )
        print(f"{'EXP3-IX (bandit, vectorised)':<28}{K:>5}{ix / 1e6:>12.2f} M")


if __name__ == "__main__":
    main()
