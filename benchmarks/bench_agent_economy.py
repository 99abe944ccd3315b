"""Benchmarks of the agent economy: one copy through PettingZoo, scaling in N, and batched vs per-economy.

Three parts (``--part parallel|scaling|batched|all``, default all):

1. ``parallel``: one copy through the PettingZoo ``parallel_env`` (``n_agents`` 2 and 5), random
   actions from ``action_space(agent).sample()``, resets included (an episode ends after
   ``max_cycles`` = 500 steps or when every agent is done) -> agent-steps per second.
2. ``scaling``: ``AgentEconomy(batch_size=64, n_agents=N)`` with the scripted archetypes
   (``default_actions``) for N = 10, 100, 1000, 10000 -> agent-steps per second and peak memory, each N
   in a fresh subprocess: ``tracemalloc`` peak of the stepping (NumPy allocations included) and the
   subprocess's peak resident set size (``ru_maxrss``, interpreter and imports included).
3. ``batched``: one ``AgentEconomy(batch_size=B, n_agents=N)`` stepped ``T`` times with the scripted
   archetypes against the per-economy baseline: an ``AgentEconomy(batch_size=1)`` per economy with one
   Python object per agent deciding its macro-action in a Python loop over agents (the same archetype
   rules as ``scripted_actions``, on scalars).

Each part prints its figures, the baseline and the ratio. ``BEFORE`` holds the figures of the agent
economy before its restructuring into a state dataclass plus phase functions (one class with the
arrays as attributes), measured with this script on the same 2-core machine; ``--baseline-path DIR``
instead times a saved copy of that module side by side (``DIR/old_ae.py``, importing its archetypes
and market as ``old_ae_archetypes`` / ``old_ae_market``). Timings on a shared 2-core machine are noisy
(+-20 %).

Usage: python benchmarks/bench_agent_economy.py [--part all] [--batch 256] [--agents 50] [--steps 500]
       [--baseline-economies 4] [--seconds 3] [--scaling-steps 20] [--baseline-path DIR]
"""

from __future__ import annotations

import argparse
import importlib
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from types import ModuleType

import numpy as np

CONFIG = dict(initial_balance=0.5, decay_rate=0.005, audit_cost=0.002, upkeep=0.0003, contracts_per_step=12)
SCALING_N = (10, 100, 1000, 10000)
SCALING_B = 64

#: agent-steps per CPU second of the pre-restructuring env, measured with ``--baseline-path`` on this
#: shared 2-core machine (wall-clock rates varied 3-6x with the other jobs' load; CPU rates less so)
#: (2026-12-06, load average 10-18 from other jobs). At N = 10000 the old env could not run: its
#: delegation table (B, N, N) alone would need > 50 GB. Memory before at N = 1000: 1167 MB traced, 1331 MB RSS.
BEFORE: dict[str, float] = {
    "parallel_2": 1_549,
    "parallel_5": 2_134,
    "scaling_10": 158_288,
    "scaling_100": 265_745,
    "scaling_1000": 28_431,
    "batched": 299_445,
}


def _module(baseline_path: str | None) -> ModuleType:
    if baseline_path is None:
        return importlib.import_module("coopsim.envs.agent_economy")
    sys.path.insert(0, baseline_path)
    return importlib.import_module("old_ae")


# ------------------------------------------------------------------ 1. one copy through PettingZoo
def parallel_rate(mod: ModuleType, n_agents: int, seconds: float, seed: int = 0) -> tuple[float, float]:
    """Agent-steps (live agents' actions) per wall second and per CPU second through ``parallel_env``,
    random ``action_space(agent).sample()``, resets included."""
    env = mod.parallel_env(n_agents=n_agents)
    env.reset(seed=seed)
    for a in env.possible_agents:
        env.action_space(a).seed(seed)
    steps, episodes = 0, 0
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            actions = {a: env.action_space(a).sample() for a in env.agents}
            env.step(actions)
            steps += len(actions)
            if not env.agents:
                episodes += 1
                env.reset(seed=seed + episodes)
    return steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)


# ------------------------------------------------------------------ 2. scaling in N (subprocess per N)
def _child(mod: ModuleType, N: int, B: int, T: int) -> dict[str, float]:
    env = mod.AgentEconomy(n_agents=N, batch_size=B, horizon=T + 2, **CONFIG)
    env.reset(seed=0)
    env.step(env.default_actions())  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(T):
        env.step(env.default_actions())
    rate = B * N * T / (time.perf_counter() - t0)
    cpu_rate = B * N * T / (time.process_time() - c0)
    tracemalloc.start()
    for _ in range(max(2, T // 4)):
        env.step(env.default_actions())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux
    return {"rate": rate, "cpu_rate": cpu_rate, "traced_mb": peak / 1e6, "rss_mb": rss}


def scaling(baseline_path: str | None, steps: int, Ns=SCALING_N) -> dict[int, dict[str, float]]:
    out = {}
    for N in Ns:
        T = max(3, steps if N <= 1000 else steps // 4)
        cmd = [sys.executable, __file__, "--_child", str(N), str(SCALING_B), str(T)]
        if baseline_path:
            cmd += ["--baseline-path", baseline_path]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if res.returncode != 0:
            out[N] = {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"rc {res.returncode}"}
        else:
            out[N] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


# ------------------------------------------------------------------ 3. batched vs per-economy objects
class ScriptedAgent:
    """One agent as a Python object: the archetype rule of ``scripted_actions`` on scalars."""

    def __init__(self, index: int, archetype: str, rng: np.random.Generator, mod: ModuleType) -> None:
        arch = importlib.import_module(mod.__name__ + "_archetypes")
        self.M = arch.M
        self.i = index
        self.spec = arch.ARCHETYPES[archetype]
        self.rng = rng
        self.names, p = zip(*arch.CHEAT_MIX)
        self.p = np.array(p) / sum(p)
        self.ACTIVE, self.SUSPENDED = mod.ACTIVE, mod.SUSPENDED

    def act(self, env) -> int:
        i, M = self.i, self.M
        a = M[self.spec["macro"]]
        bal = float(env.balance[0, i])
        fund = 0.15 * float(env.earned[0, i]) - float(env.invested[0, i])
        if "invest" in self.spec and fund >= 0.03 and bal > 0.15:
            a = M[self.spec["invest"]]
        cheat = self.spec.get("cheats", False) and self.rng.random() < env.cheat_rate
        if cheat:
            a = M[self.names[self.rng.choice(len(self.names), p=self.p)]]
        st, tier = int(env.status[0, i]), int(env.tier[0, i])
        stuck = (st == self.ACTIVE and tier == 0) or (st == self.SUSPENDED and not env.insolvent[0, i])
        if stuck:
            if self.rng.random() < env.upgrade_rate and bal > 8 * env.audit_cost:
                a = M["request_upgrade"]
            elif not cheat:
                a = M["idle"]
        return a


def batched(mod: ModuleType, B: int, N: int, T: int, seed: int = 0) -> tuple[float, float]:
    """(agent-steps per wall second, per CPU second of this process)."""
    env = mod.AgentEconomy(n_agents=N, batch_size=B, horizon=T, **CONFIG)
    env.reset(seed=seed)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(T):
        env.step(env.default_actions())
    n = B * N * T
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


def per_economy(mod: ModuleType, B: int, N: int, T: int, seed: int = 0) -> tuple[float, float]:
    arch = importlib.import_module(mod.__name__ + "_archetypes")
    t0, c0 = time.perf_counter(), time.process_time()
    for b in range(B):
        env = mod.AgentEconomy(n_agents=N, batch_size=1, horizon=T, **CONFIG)
        env.reset(seed=seed + b)
        rng = np.random.default_rng(seed + b)
        agents = [ScriptedAgent(i, arch.ARCHETYPE_NAMES[env.archetype[0, i]], rng, mod) for i in range(N)]
        for _ in range(T):
            env.step(np.array([[ag.act(env) for ag in agents]], dtype=np.int64))
    n = B * N * T
    return n / (time.perf_counter() - t0), n / (time.process_time() - c0)


# ------------------------------------------------------------------ printing
def _ratio(now: float, before: float | None) -> str:
    return f"{now / before:.1f}x" if before else "n/a"


def _line(label: str, wall: float, cpu: float, key: str, extra: str = "") -> str:
    b = BEFORE.get(key)
    before = f"before {b:,.0f} per CPU s, ratio {cpu / b:.1f}x" if b else "before n/a"
    return f"{label}: {wall:>10,.0f} agent-steps/s wall ({cpu:,.0f} per CPU s){extra}; {before}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", default="all", choices=("all", "parallel", "scaling", "batched"))
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--baseline-economies", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--scaling-steps", type=int, default=20)
    ap.add_argument("--scaling-n", type=int, nargs="+", default=list(SCALING_N))
    ap.add_argument("--baseline-path", default=None)
    ap.add_argument("--_child", nargs=3, type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._child:
        print(json.dumps(_child(_module(args.baseline_path), *args._child)))
        return
    mod = _module(args.baseline_path)
    who = "saved copy" if args.baseline_path else "this code"
    if args.part in ("all", "parallel"):
        for n in (2, 5):
            wall, cpu = parallel_rate(mod, n, args.seconds)
            print(_line(f"parallel_env one copy, {n} agents ({who})", wall, cpu, f"parallel_{n}"), flush=True)
    if args.part in ("all", "scaling"):
        for N in args.scaling_n:
            v = scaling(args.baseline_path, args.scaling_steps, (N,))[N]
            if "error" in v:
                print(f"scaling B={SCALING_B} N={N} ({who}): failed: {v['error']}", flush=True)
                continue
            mem = f", peak traced {v['traced_mb']:.1f} MB, peak RSS {v['rss_mb']:.1f} MB"
            print(
                _line(f"scaling B={SCALING_B} N={N:>5} ({who})", v["rate"], v["cpu_rate"], f"scaling_{N}", mem),
                flush=True,
            )
    if args.part in ("all", "batched"):
        fast, fast_cpu = batched(mod, args.batch, args.agents, args.steps)
        print(
            _line(f"batched B={args.batch} N={args.agents} T={args.steps} ({who})", fast, fast_cpu, "batched"),
            flush=True,
        )
        slow, slow_cpu = per_economy(mod, args.baseline_economies, args.agents, args.steps)
        print(
            f"per-economy baseline (B=1 env per economy, per-agent Python objects, {args.baseline_economies} economies "
            f"x {args.agents} agents x {args.steps} steps): {slow:,.0f} agent-steps/s wall ({slow_cpu:,.0f} per CPU "
            f"second); ratio batched / per-economy {fast / slow:.1f}x wall, {fast_cpu / slow_cpu:.1f}x CPU"
        )


if __name__ == "__main__":
    main()
