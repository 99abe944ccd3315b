"""No-regret bidders on a shading grid: first price, second price and multi-slot VCG.

Targets (Feng, Guruganesh, Liaw, Mehta and Sethi, AAAI 2021): with i.i.d. U[0,1]
values redrawn every round, first-price learners shade to (n-1)/n with revenue (n-1)/(n+1);
second-price and VCG learners bid truthfully (s = 1). Reports, per configuration, the time-averaged
shading factor of the learners' mixed strategies over the last ``tail`` of the run, the revenue
over the same window, ``mode`` (the most likely factor of that time-averaged policy, per copy) and
``policy_max``, the largest probability of the last policy (a diffuse, unconverged policy has a mean
factor near 0.5 whatever the target), as mean +- standard error over all copies of all seeds.

Single-item first price is also compared with the symmetric pure equilibria of the game the learners
actually play (one factor from the grid, :func:`grid_equilibria`): on a grid with step h that game
has an equilibrium at (n-1)/n and one more a tick below it, so learners climbing from low factors may
stop one tick short. ``in_grid_ne`` is the share of copies whose mode is one of them; for EXP3
with a fixed exploration gamma, ``in_grid_ne_explore`` uses the equilibria of the game in which every
opponent also bids a uniform grid factor with probability gamma (its forced exploration).

    python first_price_learning.py [first_price_learning.toml]

Writes results/first_price_learning.csv and results/first_price_learning.png.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
from coopsim.envs.position_auction import PositionAuction
from coopsim.mechanisms.auctions import first_price_bne_revenue

from coopsim import agents, dynamics

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import RESULTS, se, show, write_table  # noqa: E402


def grid_utilities(grid: np.ndarray, n: int, explore: float = 0.0, n_quad: int = 4000) -> np.ndarray:
    """Expected first-price utility ``U[a, b]`` of factor ``grid[a]`` against n-1 opponents at ``grid[b]``.

    Values i.i.d. U[0,1]; a bidder with value v and factor a beats an opponent with factor b > 0
    with probability w(a v, b) = min(1, a v / b) (b = 0 loses to any positive bid). Each opponent
    plays b with probability 1 - explore and a uniform grid factor otherwise (EXP3's forced
    exploration), so U[a, b] = (1 - a) E_v[v ((1 - explore) w(a v, b) + explore mean_b' w(a v, b'))^(n-1)]
    (midpoint quadrature in v with ``n_quad`` nodes).
    """
    v = (np.arange(n_quad) + 0.5) / n_quad
    a = grid[:, None, None]
    b = grid[None, :, None]
    w = np.where(b > 0, np.minimum(1.0, a * v / np.where(b > 0, b, 1.0)), 1.0)  # (K, K, n_quad)
    w = (1.0 - explore) * w + explore * w.mean(axis=1, keepdims=True)
    return (1.0 - a[..., 0]) * (v * w ** (n - 1)).mean(-1)


def grid_equilibria(grid: np.ndarray, n: int, explore: float = 0.0) -> np.ndarray:
    """Symmetric pure equilibria of the single-factor first-price game on ``grid``: the factors
    b > 0 with U[b, b] = max_a U[a, b] (:func:`grid_utilities`, opponents exploring w.p. ``explore``)."""
    U = grid_utilities(grid, n, explore)
    j = np.arange(len(grid))
    ok = (U[j, j] >= U.max(axis=0) - 1e-12) & (grid > 0)
    return grid[ok]


def make_grid(run: dict, spec: dict) -> np.ndarray:
    """``grid_points`` K (np.linspace(0, 1, K)) or ``grid_step`` h (0, h, 2h, ..., 1)."""
    k = run.get("grid_points", spec.get("grid_points"))
    if k is not None:
        return np.linspace(0.0, 1.0, int(k))
    return np.round(np.arange(0.0, 1.0 + 1e-9, run.get("grid_step", spec["grid_step"])), 10)


def tail_average_policy(res, tail: float) -> np.ndarray:
    """Average policy over the last ``tail`` of the rounds, from the cumulative snapshots."""
    snaps = res.policy_snapshots  # (R, B, N, K) cumulative averages
    T = res.rounds
    t_end = T[-1]
    k0 = int(np.searchsorted(T, (1 - tail) * t_end))
    t0 = T[k0 - 1] if k0 > 0 else 0
    s0 = snaps[k0 - 1] if k0 > 0 else 0.0
    return (t_end * snaps[-1] - t0 * s0) / (t_end - t0)


def run_one(
    mech: str,
    n: int,
    n_slots: int,
    learner: str,
    feedback: str,
    rounds: int,
    batch: int,
    grid: np.ndarray,
    tail: float,
    seed: int,
    params: dict | None = None,
) -> dict:
    game = PositionAuction(n_agents=n, n_slots=n_slots, mechanism=mech, action="shading", reference_metrics=False)
    K = len(grid)
    lrn = agents.get(learner, n_actions=K, utility_range=game.utility_range, horizon=rounds, **(params or {}))
    rec = max(rounds // 40, 1)
    res = dynamics.run(
        game,
        lrn,
        rounds=rounds,
        batch=batch,
        seed=seed,
        feedback=feedback,
        grid=grid,
        redraw="round",
        record_every=rec,
        swap_regret=False,
        snapshots=True,
    )
    pol = tail_average_policy(res, tail)  # (B, N, K)
    factor = (pol * grid).sum(-1).mean(axis=1)  # per copy, mean over agents
    mode = grid[pol.mean(axis=1).argmax(-1)]  # per copy: modal factor of the agents' average
    last = (res.policy * grid).sum(-1).mean(axis=1)
    k0 = int(np.searchsorted(res.rounds, (1 - tail) * res.rounds[-1]))
    revenue = res["revenue"][k0:].mean(axis=0)  # window averages -> per copy
    peak = res.policy.max(axis=-1).mean(axis=1)  # concentration of the last policy
    return {
        "factor": factor,
        "mode": mode,
        "last_factor": last,
        "revenue": revenue,
        "policy_max": peak,
        "curve_rounds": res.rounds,
        "curve_revenue": res["revenue"].mean(axis=1),
        "wall": res.wall_time,
    }


def _unit(args: tuple) -> dict:
    """One (run, n, seed) unit, for the process pool."""
    run, n, spec, seed = args
    return run_one(
        run["mechanism"],
        n,
        run.get("n_slots", 1),
        run["learner"],
        run["feedback"],
        run["rounds"],
        run.get("batch", spec["batch"]),
        make_grid(run, spec),
        spec["tail"],
        seed,
        run.get("params"),
    )


def main(spec_path: str, jobs: int = 1) -> None:
    spec = tomllib.loads(Path(spec_path).read_text())
    configs = [(run, n) for run in spec["runs"] for n in run["n"]]
    units = [(run, n, spec, spec["seed"] + s) for run, n in configs for s in range(spec["seeds"])]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:  # each unit has its own seed: same numbers
            results = list(pool.map(_unit, units))
    else:
        results = [_unit(u) for u in units]
    rows, curves = [], {}
    for c, (run, n) in enumerate(configs):
        parts = {"factor": [], "mode": [], "last_factor": [], "revenue": [], "policy_max": []}
        grid = make_grid(run, spec)
        mine = results[c * spec["seeds"] : (c + 1) * spec["seeds"]]
        for r in mine:
            for k in parts:
                parts[k].append(r[k])
            curves[(run["mechanism"], n, run["learner"])] = (r["curve_rounds"], r["curve_revenue"])
        row = {
            "mechanism": run["mechanism"],
            "n": n,
            "slots": run.get("n_slots", 1),
            "learner": run["learner"],
            "params": str(run.get("params", {})),
            "rounds": run["rounds"],
            "K": len(grid),
            "batch": run.get("batch", spec["batch"]) * spec["seeds"],
        }
        for k, v in parts.items():
            x = np.concatenate(v)
            row[k] = x.mean()
            row[k + "_se"] = se(x)
        if run["mechanism"] == "first_price":
            row["factor_target"], row["revenue_target"] = (n - 1) / n, first_price_bne_revenue(n)
            modes = np.concatenate(parts["mode"])
            ne = grid_equilibria(grid, n)
            row["grid_ne"] = " ".join(f"{x:.3f}" for x in ne)
            row["in_grid_ne"] = float(np.isclose(modes[:, None], ne[None, :]).any(-1).mean())
            gamma = (run.get("params") or {}).get("gamma")
            if run["learner"] == "exp3" and isinstance(gamma, (int, float)):
                # EXP3's policy is (1 - gamma) softmax + gamma uniform: the game it plays
                ne = grid_equilibria(grid, n, explore=float(gamma))
                row["grid_ne_explore"] = " ".join(f"{x:.3f}" for x in ne)
                row["in_grid_ne_explore"] = float(np.isclose(modes[:, None], ne[None, :]).any(-1).mean())
        elif run.get("n_slots", 1) == 1:
            row["factor_target"], row["revenue_target"] = 1.0, first_price_bne_revenue(n)
        else:
            row["factor_target"], row["revenue_target"] = 1.0, np.nan
        row["seconds"] = sum(r["wall"] for r in mine)  # learner-loop time, all seeds
        rows.append(row)
        show(row)
    df = write_table(rows, spec["name"])
    try:
        from coopsim import plotting

        plotting.use_style()
        fig, ax = plotting.subplots(figsize=(7, 4))
        for (mech, n, lrn), (t, rev) in curves.items():
            ax.plot(t, rev, label=f"{mech} n={n} {lrn}")
        ax.set_xlabel("round")
        ax.set_ylabel("revenue (window average)")
        plotting.legend_outside(ax)
        plotting.save(fig, RESULTS / f"{spec['name']}.png")
    except Exception as err:  # pragma: no cover - plotting is optional
        print("plot skipped:", err)
    print(df.to_string(index=False))


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("spec", nargs="?", default=str(HERE / "first_price_learning.toml"))
    ap.add_argument("--jobs", type=int, default=1, help="processes (units are seeded: same numbers)")
    a = ap.parse_args()
    main(a.spec, a.jobs)
