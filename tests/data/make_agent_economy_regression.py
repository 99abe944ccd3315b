"""Record fixed-seed trajectories of the agent economy for the bit-for-bit regression test.

Run from the repository root to (re)generate ``tests/data/agent_economy_regression.npz``::

    python tests/data/make_agent_economy_regression.py

``record_all()`` is also what ``tests/test_agent_economy_regression.py`` calls to compare the
current code against the stored arrays. The reference was generated from the agent economy as it
was before its restructuring into a state dataclass plus phase functions (one 1,570-line class).

Each configuration steps a small batch of economies with a fixed seed and a fixed action stream
(half the scripted archetypes' macros, half uniformly random macros, so every macro - bids,
investments, upgrades, delegation, spawning, self-modification, gaming - is exercised) and records
per step: observations, rewards, terminated, truncated, every ``info["metrics"]`` entry, the ledger
(agent balances and every other account), tiers, statuses, certified scores and times, exposures,
the contract book's states, and the step's acceptance log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

PATH = Path(__file__).with_name("agent_economy_regression.npz")

TESTBED = dict(initial_balance=0.5, decay_rate=0.005, audit_cost=0.002, upkeep=0.0003, contracts_per_step=12)

#: name -> (constructor keywords, steps, seed, fraction of random macros)
CONFIGS: dict[str, tuple[dict[str, Any], int, int, float]] = {
    "default_mix": (dict(n_agents=6, batch_size=3, **TESTBED), 40, 0, 0.5),
    "unwind_entrants": (
        dict(
            n_agents=8,
            batch_size=3,
            n_initial=5,
            entrant_rate=0.3,
            entrant_profile="random",
            on_demotion="force_unwind",
            durations=3,
            open_lifetime=2,
            decay_rate=0.03,
            delegation_fee=0.1,
            unwind_fee=0.1,
            initial_balance=0.5,
        ),
        40,
        1,
        0.5,
    ),
    "grandfather_poisson_reaudit": (
        dict(
            n_agents=6,
            batch_size=3,
            on_demotion="grandfather",
            audit_hazard="poisson",
            audit_rates=[0.0, 0.05, 0.1, 0.2, 0.3, 0.4],
            ih_rule="reaudit",
            ih_reaudit_interval=3,
            allocation="fcfs",
            durations=[1, 2, 3, 2, 1],
            false_pass=0.1,
            false_fail=0.1,
            robustness_factor=0.5,
            penalty_sink="burn",
            suspension_recovery="none",
            decay_ih=False,
            bank_refresh_interval=7,
            initial_balance=1.0,
            audit_can_promote=False,
            upgrade_audit_can_demote=True,
            debit_on_expiry=False,
        ),
        40,
        2,
        0.6,
    ),
    "delegation_t4": (
        dict(
            n_agents=7,
            batch_size=2,
            archetypes=["conservative", "conservative", "balanced", "adaptive", "cheater", "cheater", "aggressive"],
            require_T4_to_delegate=True,
            cheat_rate=0.9,
            upgrade_rate=0.6,
            spawn_endowment=0.02,
            initial_balance=1.0,
            n_initial=5,
            bid_rounds=2,
        ),
        30,
        3,
        0.7,
    ),
    "capability_gate": (dict(n_agents=5, batch_size=2, gate="capability_gate", **TESTBED), 25, 4, 0.5),
    "no_gate": (dict(n_agents=5, batch_size=2, gate="no_gate", **TESTBED), 25, 5, 0.5),
    "spawn_entrants_mix": (
        dict(n_agents=10, batch_size=2, n_initial=3, entrant_rate=0.5, entrant_profile="high", initial_balance=0.4),
        35,
        6,
        0.8,
    ),
}


def _snapshot(env: Any) -> dict[str, np.ndarray]:
    """Per-step state read through the env's public attributes."""
    acct = env.acct
    return {
        "balance": env.balance.copy(),
        "accounts": np.stack([acct[k] for k in ("escrow", "issuer", "fees", "investment", "burn", "external")], 1),
        "tier": env.tier.copy(),
        "status": env.status.copy(),
        "r_cert": env.r_cert.copy(),
        "r_true": env.r_true.copy(),
        "t_cert": env.t_cert.copy(),
        "t_last_audit": env.t_last_audit.copy(),
        "exposure": env.exposure(),
        "c_state": env.c_state.copy(),
        "c_liable": env.c_liable.copy(),
        "c_performer": env.c_performer.copy(),
        "effective_tier": env.effective_tier(),
        "state": env.state(),
        "blocked": env.cum["blocked"].copy(),
        "attempts": env.cum["attempts"].copy(),
        "circumvention_blocked": env.cum["circumvention_blocked"].copy(),
        "last_gap": env.last_gap.copy(),
        "cur_hash": env.cur_hash.copy(),
        "parent": env.parent.copy(),
    }


def _acceptance_log(env: Any) -> dict[str, np.ndarray]:
    acc = env.last_acceptances
    keys = ("b", "agent", "contract", "performer", "tier", "t_min", "exposure_after", "penalty", "ceiling")
    n = len(acc.get("agent", []))
    return {f"acc_{k}": np.asarray(acc[k]) if n else np.zeros(0) for k in keys}


def _stack(rows: list[dict[str, np.ndarray]], prefix: str) -> dict[str, np.ndarray]:
    out = {}
    for k in rows[0]:
        vals = [r[k] for r in rows]
        if all(np.shape(v) == np.shape(vals[0]) for v in vals):
            out[f"{prefix}/{k}"] = np.stack(vals)
        else:  # ragged (acceptance logs): concatenate with step lengths
            out[f"{prefix}/{k}"] = np.concatenate([np.atleast_1d(v) for v in vals])
            out[f"{prefix}/{k}_len"] = np.array([np.size(v) for v in vals])
    return out


def record_env(name: str) -> dict[str, np.ndarray]:
    """Trajectory of configuration ``name`` (keys ``name/field``, stacked over steps)."""
    from coopsim.envs.agent_economy import AgentEconomy
    from coopsim.envs.agent_economy_archetypes import N_MACROS

    kw, steps, seed, p_random = CONFIGS[name]
    env = AgentEconomy(horizon=steps, **kw)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(1000 + seed)
    rows = []
    first = {"obs": obs, **_snapshot(env)}
    for _ in range(steps):
        scripted = env.default_actions()
        rand = rng.integers(0, N_MACROS, size=scripted.shape)
        a = np.where(rng.random(scripted.shape) < p_random, rand, scripted)
        obs, rew, term, trunc, info = env.step(a)
        row = {"action": a, "obs": obs, "reward": rew, "terminated": term, "truncated": trunc}
        row.update({f"metric_{k}": np.asarray(v) for k, v in info["metrics"].items()})
        row.update(_snapshot(env))
        row.update(_acceptance_log(env))
        rows.append(row)
    out = {f"{name}/reset_{k}": np.asarray(v) for k, v in first.items()}
    out.update(_stack(rows, name))
    out[f"{name}/ledger_total"] = env.ledger_total()
    out[f"{name}/cum_audits"] = env.cum["audits"].copy()
    out[f"{name}/cum_welfare"] = env.cum["welfare"].copy()
    out[f"{name}/graph_edges"] = np.array(
        [[b, u, v] for b, g in enumerate(env.graphs) for u, v in sorted(g.edges())], dtype=np.int64
    ).reshape(-1, 3)
    return out


def record_raise_thresholds() -> dict[str, np.ndarray]:
    """Raise the T1 thresholds mid-episode under force_unwind; record tiers and the book around it."""
    from coopsim.envs.agent_economy import AgentEconomy
    from coopsim.mechanisms import gates as G

    env = AgentEconomy(n_agents=6, batch_size=3, on_demotion="force_unwind", durations=4, initial_balance=1.0)
    env.reset(seed=7)
    rows = []
    for t in range(20):
        if t == 8:
            new = G.DEFAULT_THRESHOLDS.copy()
            new[:, 1:3] += 0.1
            env.raise_thresholds(new)
            after = _snapshot(env)  # right after the re-certification, before the next step
        obs, rew, *_ = env.step(env.default_actions())
        rows.append({"obs": obs, "reward": rew, **_snapshot(env)})
    out = _stack(rows, "raise_thresholds")
    out.update({f"raise_thresholds/after_{k}": v for k, v in after.items()})
    return out


def record_reset_mask() -> dict[str, np.ndarray]:
    """Partial reset of one copy mid-episode: the others continue unchanged."""
    from coopsim.envs.agent_economy import AgentEconomy

    env = AgentEconomy(n_agents=5, batch_size=3, entrant_rate=0.2, n_initial=4, **TESTBED)
    env.reset(seed=8)
    rows = []
    for t in range(24):
        if t == 10:
            obs, _ = env.reset(options={"reset_mask": np.array([False, True, False])})
            rows.append({"obs": obs, **_snapshot(env)})
        obs, *_ = env.step(env.default_actions())
        rows.append({"obs": obs, **_snapshot(env)})
    return _stack(rows, "reset_mask")


def record_simulate() -> dict[str, np.ndarray]:
    """The runner hook with both policies, audit scaling, entrants and a gate object."""
    from coopsim.envs.agent_economy import simulate
    from coopsim.mechanisms import get as get_mechanism

    out = {}
    runs = {
        "scripted": ({"n_agents": 8, **TESTBED}, 40, 3, 10, 9),
        "invest": (
            {
                "n_agents": 6,
                **TESTBED,
                "initial_balance": 5.0,
                "invest_amount": 0.1,
                "archetypes": ["adaptive"] * 3 + ["capability_investor"] * 3,
                "policy": "invest_then_bid",
                "invest_steps": 5,
                "audit_scale": 2.0,
            },
            30,
            2,
            7,
            10,
        ),
        "entrants_gate": (
            {
                "n_agents": 8,
                "n_initial": 4,
                "entrant_rate": 0.3,
                "mechanism": get_mechanism("weakest_link_gate", decay_rate=0.02, audit_hazard="poisson"),
            },
            30,
            2,
            15,
            11,
        ),
    }
    for key, (params, rounds, batch, every, seed) in runs.items():
        res = simulate(dict(params), np.random.SeedSequence(seed), rounds, batch, every)
        out.update({f"simulate_{key}/{k}": np.asarray(v) for k, v in res.items()})
    return out


def record_all() -> dict[str, np.ndarray]:
    """Every recorded array, keyed ``config/field``."""
    out: dict[str, np.ndarray] = {}
    for name in CONFIGS:
        out.update(record_env(name))
    out.update(record_raise_thresholds())
    out.update(record_reset_mask())
    out.update(record_simulate())
    return out


if __name__ == "__main__":
    data = record_all()
    np.savez_compressed(PATH, **data)
    print(f"wrote {len(data)} arrays to {PATH} ({PATH.stat().st_size / 1e3:.0f} kB)")
