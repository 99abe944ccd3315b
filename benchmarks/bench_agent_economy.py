"""Benchmark: agent-steps per second of the batched AgentEconomy against a per-economy baseline.

Batched: one ``AgentEconomy(batch_size=B, n_agents=N)`` stepped ``T`` times with the scripted
archetypes (``default_actions``, vectorised) -> ``B * N * T / seconds``.

Baseline (stated exactly): the same economy configuration stepped one economy at a time, i.e. an
``AgentEconomy(batch_size=1)`` per economy, with one Python object per agent deciding its
macro-action in a Python loop over agents (the same archetype rules as ``scripted_actions``, on
scalars). Gate checks, allocation, execution, decay and audits still run inside the env with B = 1,
so the baseline is *faster* than a full per-agent-object reimplementation would be. It runs
``B_base`` economies (default 4) and its rate is reported per agent-step.

Usage: python benchmarks/bench_agent_economy.py [--batch 256] [--agents 50] [--steps 500] [--baseline-economies 4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from coopsim.envs.agent_economy import ACTIVE, SUSPENDED, AgentEconomy
from coopsim.envs.agent_economy_archetypes import ARCHETYPE_NAMES, ARCHETYPES, CHEAT_MIX, M

CONFIG = dict(initial_balance=0.5, decay_rate=0.005, audit_cost=0.002, upkeep=0.0003, contracts_per_step=12)


class ScriptedAgent:
    """One agent as a Python object: the archetype rule of ``scripted_actions`` on scalars."""

    def __init__(self, index: int, archetype: str, rng: np.random.Generator) -> None:
        self.i = index
        self.spec = ARCHETYPES[archetype]
        self.rng = rng
        self.names, p = zip(*CHEAT_MIX)
        self.p = np.array(p) / sum(p)

    def act(self, env: AgentEconomy) -> int:
        i = self.i
        a = M[self.spec["macro"]]
        bal = float(env.balance[0, i])
        fund = 0.15 * float(env.earned[0, i]) - float(env.invested[0, i])
        if "invest" in self.spec and fund >= 0.03 and bal > 0.15:
            a = M[self.spec["invest"]]
        cheat = self.spec.get("cheats", False) and self.rng.random() < env.cheat_rate
        if cheat:
            a = M[self.names[self.rng.choice(len(self.names), p=self.p)]]
        st, tier = int(env.status[0, i]), int(env.tier[0, i])
        stuck = (st == ACTIVE and tier == 0) or (st == SUSPENDED and not env.insolvent[0, i])
        if stuck:
            if self.rng.random() < env.upgrade_rate and bal > 8 * env.audit_cost:
                a = M["request_upgrade"]
            elif not cheat:
                a = M["idle"]
        return a


def batched(B: int, N: int, T: int, seed: int = 0) -> tuple[float, float]:
    """(agent-steps per wall second, per CPU second of this process)."""
    env = AgentEconomy(n_agents=N, batch_size=B, horizon=T, **CONFIG)
    env.reset(seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(T):
        env.step(env.default_actions())
    n = B * N * T
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def baseline(B: int, N: int, T: int, seed: int = 0) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.process_time()
    for b in range(B):
        env = AgentEconomy(n_agents=N, batch_size=1, horizon=T, **CONFIG)
        env.reset(seed=seed + b)
        rng = np.random.default_rng(seed + b)
        agents = [ScriptedAgent(i, ARCHETYPE_NAMES[env.archetype[0, i]], rng) for i in range(N)]
        for _ in range(T):
            actions = np.array([[ag.act(env) for ag in agents]], dtype=np.int64)
            env.step(actions)
    n = B * N * T
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--baseline-economies", type=int, default=4)
    args = ap.parse_args()
    fast, fast_cpu = batched(args.batch, args.agents, args.steps)
    slow, slow_cpu = baseline(args.baseline_economies, args.agents, args.steps)
    print(
        f"AgentEconomy batched   B={args.batch} N={args.agents} T={args.steps}: {fast:,.0f} agent-steps/s wall "
        f"({fast_cpu:,.0f} per CPU second)"
    )
    print(
        f"baseline (B=1 env per economy, per-agent Python objects, {args.baseline_economies} economies x "
        f"{args.agents} agents x {args.steps} steps): {slow:,.0f} agent-steps/s wall ({slow_cpu:,.0f} per CPU second)"
    )
    print(f"ratio: {fast / slow:.1f}x wall, {fast_cpu / slow_cpu:.1f}x CPU")


if __name__ == "__main__":
    main()
