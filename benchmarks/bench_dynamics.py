"""Throughput of coopsim.dynamics.run and of the optional torch trainer.

1. ``run`` (full-information Hedge, average-rule facility location, closed-form deviation
   utilities) in agent-steps per second (one agent-step = one agent acts, the game computes its
   deviation-utility row, the learner updates, and the regret/CCE/distance metrics are updated),
   against the baseline "bare loop": the same learner and game calls with no metrics. The ratio
   run/bare is the cost of the bookkeeping.
2. EXP3 first-price self-play (two bidders, 11-point shading grid, values redrawn every round,
   bandit feedback) in rounds per second per copy at B = 1 and B = 4096: ``run(metrics="none")``
   against the hand-written loop ``Exp3.act``, ``game.play``, ``Exp3.update`` (target: within
   1.3x), and ``run`` with the default metrics recorded every 100 rounds (target: within 2x).
3. The torch trainer (REINFORCE and PPO, first-price auction, n = 2) in agent-samples per second
   on the CPU (and on CUDA when available).

    python benchmarks/bench_dynamics.py [--quick] [--no-torch] [--clock wall|cpu] [--repeat R] [--only exp3]

``--clock cpu`` times with ``time.process_time`` (this process's CPU time), which on a machine
shared with other jobs is much closer to the unloaded figure than wall time. Each EXP3 figure is
the best of ``--repeat`` runs (default 3), the three variants interleaved so that a change in the
machine's load hits all of them; ``--only exp3`` runs part 2 alone.
"""

from __future__ import annotations

import argparse
import inspect
import time

import numpy as np
from coopsim.envs.facility_location import FacilityLocation

from coopsim import agents
from coopsim.core.game import MechanismGame, Outcome
from coopsim.dynamics import run

CLOCK = time.perf_counter  # --clock cpu: time.process_time


def bare_loop(game, B, K, T, seed=0):
    rng = np.random.default_rng(seed)
    learner = agents.Hedge(K, horizon=T).bind(B, game.n_agents)
    grid = game.action_grid(K)
    types = game.sample_types(rng, B)
    t0 = CLOCK()
    for _ in range(T):
        a = learner.act(rng)
        x = grid[a]
        out = game.play(types, x)
        U = game.deviation_utilities(types, x, grid)
        learner.update(a, out.utility, full=U)
    return CLOCK() - t0


def bench_run(B, N, K, T):
    game = FacilityLocation(n_agents=N, mechanism="average")
    t0 = CLOCK()
    run(
        game,
        agents.Hedge(K, horizon=T),
        rounds=T,
        batch=B,
        seed=0,
        grid=K,
        record_every=max(1, T // 10),
        game_metrics="none",
        swap_regret=False,
        reference="truthful",
    )
    t_run = CLOCK() - t0
    t_bare = bare_loop(game, B, K, T)
    steps = B * N * T
    print(
        f"run  B={B:5d} N={N:2d} K={K:3d} T={T:4d}: {steps / t_run / 1e6:6.2f} M agent-steps/s   "
        f"bare loop {steps / t_bare / 1e6:6.2f} M/s   run/bare time ratio {t_run / t_bare:5.2f}"
    )


class FirstPrice(MechanismGame):
    def __init__(self, n=2):
        self.n_agents = n

    def sample_types(self, rng, batch):
        return rng.random((batch, self.n_agents))

    def play(self, types, actions):
        b = np.asarray(actions)
        win = b == b.max(axis=1, keepdims=True)
        return Outcome(win / win.sum(axis=1, keepdims=True) * (types - b))


def exp3_lean_loop(game, grid, B, T, seed=0):
    """The hand-written loop: draw values, ``Exp3.act``, ``game.play``, ``Exp3.update``."""
    rng = np.random.default_rng(seed)
    lrn = agents.Exp3(n_actions=len(grid), utility_range=game.utility_range, gamma=0.2).bind(B, game.n_agents)
    t0 = CLOCK()
    for _ in range(T):
        types = game.sample_types(rng, B)
        a = lrn.act(rng)
        lrn.update(a, game.play(types, grid[a]).utility)
    return CLOCK() - t0


def exp3_run(game, grid, B, T, metrics):
    """``run`` over the same learner and game; ``metrics`` "none" or None (the default set)."""
    lrn = agents.Exp3(n_actions=len(grid), utility_range=game.utility_range, gamma=0.2)
    kw = dict(rounds=T, batch=B, seed=0, grid=grid, feedback="bandit", redraw="round", record_every=100)
    if metrics == "none":
        if "metrics" in inspect.signature(run).parameters:
            kw["metrics"] = "none"
        else:  # before metrics=: the leanest switches the old signature had
            kw.update(game_metrics="none", swap_regret=False, snapshots=False)
    t0 = CLOCK()
    run(game, lrn, **kw)
    return CLOCK() - t0


def bench_exp3(B, T, repeat=3):
    from coopsim.envs.position_auction import PositionAuction

    game = PositionAuction(n_agents=2, mechanism="first_price", action="shading", reference_metrics=False)
    grid = np.round(np.linspace(0, 1, 11), 10)
    times: dict[str, list[float]] = {"lean": [], "none": [], "full": []}
    for _ in range(repeat):  # interleaved: a change of load hits all three
        times["lean"].append(exp3_lean_loop(game, grid, B, T))
        times["none"].append(exp3_run(game, grid, B, T, "none"))
        times["full"].append(exp3_run(game, grid, B, T, None))
    lean, none, full = (min(times[k]) for k in ("lean", "none", "full"))
    print(
        f"EXP3 first price B={B:5d} T={T:5d}: lean loop {T / lean:8.0f} rounds/s   "
        f"run(metrics='none') {T / none:8.0f} rounds/s (x{none / lean:4.2f}, target <= 1.3)   "
        f"run(default, every 100) {T / full:8.0f} rounds/s (x{full / lean:4.2f}, target <= 2)"
    )


def bench_torch(iters):
    try:
        import torch
    except ImportError:
        print("torch not installed: skipping the torch trainer benchmark")
        return
    from coopsim.agents.torch import ContinuousPolicy, PolicyGradientTrainer

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for dev in devices:
        for threads in [1, torch.get_num_threads()] if dev == "cpu" else [None]:
            if threads is not None:
                torch.set_num_threads(threads)
            for algo, B in (("reinforce", 512), ("ppo", 512), ("reinforce", 8192)):
                pol = ContinuousPolicy(2, 1, hidden=(64, 64), scale_feature=0, device=dev, seed=0)
                tr = PolicyGradientTrainer(
                    FirstPrice(2), pol, algo=algo, batch=B, lr=1e-3, epochs=10, minibatch=64, seed=0
                )
                tr.train(2)  # warm-up
                tr.samples, tr.history = 0, {"mean_reward": [], "loss": [], "seconds": []}
                tr.train(iters)
                label = f"{dev}" + (f" ({threads} thread{'s' if threads > 1 else ''})" if threads else "")
                print(
                    f"torch {algo:9s} B={B:5d} hidden=(64,64) on {label:18s}: "
                    f"{tr.samples_per_second:12,.0f} agent-samples/s  "
                    f"({iters / tr.history['seconds'][-1]:.1f} updates/s)"
                )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--no-torch", action="store_true", help="skip the torch trainer")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    p.add_argument("--repeat", type=int, default=3, help="runs per EXP3 figure (the best is reported)")
    p.add_argument("--only", choices=("exp3",), default=None, help="run only the EXP3 first-price part")
    a = p.parse_args()
    global CLOCK
    CLOCK = time.process_time if a.clock == "cpu" else time.perf_counter
    print(f"clock: {a.clock}")
    T = 100 if a.quick else 300
    if a.only is None:
        for B, N, K in ((1024, 10, 21), (1024, 10, 101), (128, 3, 41)):
            bench_run(B, N, K, T)
    bench_exp3(1, 1000 if a.quick else 5000, repeat=a.repeat)
    bench_exp3(4096, 100 if a.quick else 300, repeat=a.repeat)
    if a.no_torch or a.only is not None:
        return
    bench_torch(5 if a.quick else 20)


if __name__ == "__main__":
    main()
