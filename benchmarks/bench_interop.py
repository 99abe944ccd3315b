"""One copy through the PettingZoo ``ParallelEnv``, the way a MARL library drives it.

Random actions from ``action_space(agent).sample()``, resets included (episodes of ``max_cycles``
rounds), in agent-steps per second (one agent-step = one live agent's action in one step).
Targets: facility location >= 30k at N = 2 and >= 40k at N = 5. The comparison figure is a
comparable continuous-action simulator measured on the same 2-core machine type (10.5k
agent-steps/s with 2 agents, 6.5k with 5). The position auction, information acquisition and agent
economy are printed too. Timings on a shared 2-core machine are noisy (best of ``--repeat``).

    python benchmarks/bench_interop.py [--seconds 1.0] [--repeat 3] [--metrics none|all] [--clock wall|cpu]

``--clock cpu`` times with ``time.process_time`` (this process's CPU time): on a machine shared
with other jobs it is much closer to the unloaded figure than wall time.
"""

from __future__ import annotations

import argparse
import inspect
import time
from typing import Any

#: agent-steps/s of the comparable simulator (2 and 5 agents) on this machine type
PEER = {2: 10.5e3, 5: 6.5e3}
CLOCK = time.perf_counter  # --clock cpu switches to time.process_time
TARGET = {("facility_location", 2): 30e3, ("facility_location", 5): 40e3, ("agent_economy", 5): 20e3}


def agent_steps_per_second(make: Any, seconds: float) -> float:
    """Agent-steps per second of a reset/step loop over ``make()`` with sampled actions."""
    env = make()
    for a in env.possible_agents:
        env.action_space(a).seed(0)
    steps, seed = 0, 0
    t0 = CLOCK()
    while True:
        env.reset(seed=seed)
        seed += 1
        while env.agents:
            actions = {a: env.action_space(a).sample() for a in env.agents}
            steps += len(actions)
            env.step(actions)
        dt = CLOCK() - t0
        if dt >= seconds:
            return steps / dt


def factories(metrics: str | None) -> list[tuple[str, int, Any]]:
    from coopsim.envs import agent_economy, facility_location, information_acquisition, position_auction

    def with_metrics(fn: Any, **kw: Any) -> Any:
        # ``metrics=`` exists from the release that made metrics optional; older trees ignore it
        if metrics is not None and "metrics" in inspect.signature(fn).parameters:
            kw["metrics"] = metrics
        return lambda: fn(**kw)

    return [
        ("facility_location", 2, with_metrics(facility_location.parallel_env, n_agents=2)),
        ("facility_location", 5, with_metrics(facility_location.parallel_env, n_agents=5)),
        ("position_auction", 3, with_metrics(position_auction.parallel_env, n_agents=3)),
        ("information_acquisition", 2, with_metrics(information_acquisition.parallel_env)),
        ("agent_economy", 5, with_metrics(agent_economy.parallel_env, n_agents=5, max_cycles=100)),
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--metrics", default=None, help="pass metrics= to the views (default: their default)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    a = p.parse_args()
    global CLOCK
    CLOCK = time.process_time if a.clock == "cpu" else time.perf_counter
    print(f"clock: {a.clock}; metrics: {a.metrics or 'view default'}")
    print(f"{'env':26s} {'N':>2s} {'agent-steps/s':>14s}  {'target':>8s}  {'peer':>6s}  ratio/peer")
    for name, n, make in factories(a.metrics):
        rate = max(agent_steps_per_second(make, a.seconds) for _ in range(a.repeat))
        target = TARGET.get((name, n))
        peer = PEER.get(n)
        t = f"{target:8.0f}" if target else f"{'-':>8s}"
        r = f"{peer:6.0f}  {rate / peer:5.2f}x" if peer else f"{'-':>6s}"
        print(f"{name:26s} {n:2d} {rate:14.0f}  {t}  {r}")


if __name__ == "__main__":
    main()
