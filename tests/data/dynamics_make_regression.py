"""Generate ``dynamics_regression.npz``: fixed-seed outputs of ``coopsim.dynamics`` and of every
env's ``step``, compared bit for bit by ``tests/test_dynamics_regression.py``.

The file was generated once against the implementation before the dynamics loop was split into
recorders (and before metrics became optional in the envs); regenerate it only when a change of
numbers is intended::

    python tests/data/dynamics_make_regression.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "dynamics_regression.npz"


def dynamics_cases() -> dict[str, tuple[Any, Any, dict[str, Any]]]:
    """``name -> (game, learners, run keywords)``; fresh objects on every call."""
    from coopsim.envs.facility_location import FacilityLocation
    from coopsim.envs.information_acquisition import EffortReportGame
    from coopsim.envs.matrix_games import make as make_matrix
    from coopsim.envs.position_auction import PositionAuction
    from coopsim.mechanisms.information import instance_a, optimal_mechanism

    from coopsim import agents

    cases: dict[str, tuple[Any, Any, dict[str, Any]]] = {}
    fl = FacilityLocation(n_agents=3, mechanism="average")
    cases["facility_hedge"] = (
        fl,
        agents.Hedge(11, horizon=60),
        dict(rounds=60, batch=4, seed=7, grid=11, reference="truthful", record_every=7, swap_regret=True),
    )
    fl2 = FacilityLocation(n_agents=3, mechanism="uniform_phantom")
    cases["facility_exp3_mixed"] = (
        fl2,
        {0: agents.Truthful(11), (1, 2): agents.Exp3(11, horizon=80)},
        dict(
            rounds=80,
            batch=3,
            seed=11,
            grid=11,
            feedback="bandit",
            reference="truthful",
            record_every=10,
            redraw="round",
            keep_history=True,
        ),
    )
    fl3 = FacilityLocation(n_agents=2, mechanism="median")
    cases["facility_hedge_record_metrics"] = (
        fl3,
        agents.Hedge(9, horizon=30),
        dict(
            rounds=30,
            batch=2,
            seed=3,
            grid=9,
            record_every=4,
            game_metrics="record",
            reference=np.array([0.25, 0.75]),
            snapshots=True,
            swap_regret=False,
        ),
    )
    pa = PositionAuction(n_agents=2, mechanism="first_price", action="shading", reference_metrics=False)
    grid = np.round(np.linspace(0, 1, 11), 10)
    cases["auction_first_price_exp3"] = (
        pa,
        agents.Exp3(n_actions=11, utility_range=pa.utility_range, gamma=0.2),
        dict(
            rounds=120,
            batch=5,
            seed=3,
            grid=grid,
            feedback="bandit",
            redraw="round",
            record_every=20,
            snapshots=True,
            game_metrics="record",
        ),
    )
    pa2 = PositionAuction(n_agents=3, n_slots=2, mechanism="gsp")
    cases["auction_gsp_hedge"] = (
        pa2,
        agents.Hedge(6, horizon=40),
        dict(rounds=40, batch=2, seed=5, grid=6, record_every=9, reference="truthful"),
    )
    mg = make_matrix("rock_paper_scissors")
    cases["matrix_rm_exploit"] = (
        mg,
        agents.RegretMatching(3),
        dict(rounds=50, batch=3, seed=2, record_every=5, keep_history=True),
    )
    mg2 = make_matrix("matching_pennies")
    cases["matrix_hedge_expected"] = (
        mg2,
        agents.Hedge(2, horizon=25),
        dict(rounds=25, batch=2, seed=9, record_every=6, feedback="expected"),
    )
    model = instance_a(0.05)
    er = EffortReportGame(model, optimal_mechanism(model))
    K = max(er.n_plans)
    cases["information_effort_report"] = (
        er,
        agents.Hedge(n_actions=K),
        dict(
            rounds=30,
            batch=2,
            seed=4,
            grid=K,
            redraw="round",
            record_every=10,
            game_metrics="round",
            snapshots=True,
            swap_regret=False,
        ),
    )
    return cases


def result_arrays(res: Any) -> dict[str, np.ndarray]:
    """Every array of a ``DynamicsResult`` (series, policies, snapshots, history) by a flat key."""
    out: dict[str, np.ndarray] = {"rounds": res.rounds}
    for name, v in res.series.items():
        out[f"series/{name}"] = v
    for name in ("grid", "policy", "average_policy", "empirical_policy", "types"):
        out[name] = getattr(res, name)
    if res.policy_snapshots is not None:
        out["policy_snapshots"] = res.policy_snapshots
    for name, v in (res.history or {}).items():
        out[f"history/{name}"] = v
    frame = res.to_frame()
    out["frame/value"] = frame["value"].to_numpy(dtype=np.float64)
    out["frame/se"] = frame["se"].to_numpy(dtype=np.float64)
    return out


def env_cases() -> dict[str, Any]:
    """``name -> make_batched_env()`` of every env module, 3 copies (modules imported on call)."""
    import importlib

    def make(module: str, **kw: Any) -> Any:
        return lambda: importlib.import_module(f"coopsim.envs.{module}").make_batched_env(
            batch_size=3, max_cycles=4, **kw
        )

    return {
        "facility": make("facility_location"),
        "facility_grid_lottery": make(
            "facility_location", action_mode="grid", grid_size=11, mechanism="random_dictator"
        ),
        "auction": make("position_auction"),
        "information": make("information_acquisition"),
        "agent_economy": make("agent_economy"),
    }


def random_actions(env: Any, rng: np.random.Generator) -> np.ndarray:
    """One seeded joint action ``(B, N, ...)`` from the env's action spaces (no space sampling)."""
    import gymnasium as gym

    B, N = env.batch_size, env.n_agents
    sp = env.action_space(0)
    if isinstance(sp, gym.spaces.Discrete):
        hi = np.array([env.action_space(i).n for i in range(N)])
        return np.floor(rng.random((B, N)) * hi).astype(np.int64) + int(sp.start)
    low, high = np.asarray(sp.low, dtype=np.float64), np.asarray(sp.high, dtype=np.float64)
    return low + (high - low) * rng.random((B, N, *sp.shape))


def env_arrays(env: Any, steps: int, seed: int = 0) -> dict[str, np.ndarray]:
    """obs, rewards, flags and every info array for ``steps`` steps after ``reset(seed)``."""
    rng = np.random.default_rng(seed + 1)
    obs, _ = env.reset(seed=seed)
    out = {"obs/0": np.asarray(obs)}
    for t in range(1, steps + 1):
        obs, rew, term, trunc, info = env.step(random_actions(env, rng))
        out[f"obs/{t}"] = np.asarray(obs)
        out[f"rewards/{t}"] = np.asarray(rew)
        out[f"flags/{t}"] = np.stack([np.asarray(term), np.asarray(trunc)])
        for key, value in info.items():
            items = value.items() if isinstance(value, dict) else [("", value)]
            for sub, v in items:
                out[f"info/{t}/{key}/{sub}"] = np.asarray(v, dtype=np.float64)
    return out


def generate() -> dict[str, np.ndarray]:
    from coopsim import dynamics

    data: dict[str, np.ndarray] = {}
    for name, (game, learners, kw) in dynamics_cases().items():
        res = dynamics.run(game, learners, **kw)
        for key, v in result_arrays(res).items():
            data[f"dyn/{name}/{key}"] = np.asarray(v)
    for name, make in env_cases().items():
        for key, v in env_arrays(make(), steps=4).items():
            data[f"env/{name}/{key}"] = v
    return data


if __name__ == "__main__":
    np.savez_compressed(OUT, **generate())
    print(f"wrote {OUT}")
