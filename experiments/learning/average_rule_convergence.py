"""Average-rule facility location: learners converge to the Uniform Phantom outcome of the true peaks.

Under the average rule (not strategy-proof) every pure Nash equilibrium places the facility at
UP(t) = median(t ∪ {1/n, ..., (n-1)/n}) of the true peaks (Aziz, Lam, Lee and Walsh,
arXiv:2111.01566; Renault and Trannoy, JPET 2005).
This script runs, on the same random instances,

- Gauss-Seidel best-response dynamics from truthful reports (exact continuous best responses;
  ``coopsim.dynamics.best_response_dynamics``, one sweep at a time): |outcome - UP| per sweep;
- full-information Hedge on a K-point report grid (``coopsim.dynamics.run``): the last-iterate
  |outcome - UP| and the time-averaged |mean_s outcome_s - UP| per round,

and writes ``results.csv`` / ``results.parquet`` (round, method, metric, value = mean over
instances, se) and ``figure.png`` (|outcome - UP| against rounds, log scale) into ``--out``.

    python experiments/learning/average_rule_convergence.py [--out DIR] [--n 5] [--batch 128]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from coopsim.envs.facility_location import FacilityLocation  # noqa: E402
from coopsim.mechanisms import get as get_mechanism  # noqa: E402

from coopsim import (
    agents,  # noqa: E402
    plotting,
)
from coopsim.dynamics import best_response_dynamics, run  # noqa: E402


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/learning_average_rule")
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--rounds", type=int, default=4000)
    p.add_argument("--grid", type=int, default=101)
    p.add_argument("--sweeps", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    up = get_mechanism("uniform_phantom")
    game = FacilityLocation(n_agents=a.n, mechanism="average")
    peaks = game.sample_types(np.random.default_rng(a.seed), a.batch)
    target = up(peaks)
    rows = []

    # exact best-response dynamics, one Gauss-Seidel sweep at a time
    x = game.truthful_actions(peaks)
    rows.append(
        {
            "round": 0,
            "method": "best_response",
            "metric": "abs_outcome_minus_UP",
            "value": np.abs(x.mean(axis=1) - target).mean(),
            "se": 0.0,
        }
    )
    for s in range(1, a.sweeps + 1):
        br = best_response_dynamics(game, peaks, init=x, max_sweeps=1)
        x = br.actions
        err = np.abs(br.outcome.location - target)
        rows.append(
            {
                "round": s,
                "method": "best_response",
                "metric": "abs_outcome_minus_UP",
                "value": err.mean(),
                "se": err.std(ddof=1) / np.sqrt(a.batch),
            }
        )

    # Hedge on a report grid
    res = run(
        game,
        agents.Hedge(a.grid, horizon=a.rounds),
        rounds=a.rounds,
        batch=a.batch,
        seed=a.seed,
        grid=a.grid,
        types=peaks,
        reference_outcome=up,
        record_every=max(1, a.rounds // 200),
        game_metrics="none",
        swap_regret=False,
    )
    for metric, name in (
        ("outcome_distance", "abs_outcome_minus_UP"),
        ("avg_outcome_distance", "abs_time_avg_outcome_minus_UP"),
        ("cce_gap", "cce_gap"),
    ):
        m, se = res.mean(metric), res.stderr(metric)
        rows += [
            {"round": int(t), "method": "hedge", "metric": name, "value": float(v), "se": float(e)}
            for t, v, e in zip(res.rounds, m, se)
        ]
    df = pd.DataFrame(rows)
    df.to_csv(out / "results.csv", index=False)
    df.to_parquet(out / "results.parquet", index=False)

    plotting.use_style()
    fig, ax = plotting.subplots(figsize=(7, 4.2))
    for (method, metric), part in df[df.metric != "cce_gap"].groupby(["method", "metric"]):
        label = {
            "best_response": "sequential best response (per sweep)",
            "abs_outcome_minus_UP": "Hedge, last iterate",
            "abs_time_avg_outcome_minus_UP": "Hedge, time-averaged outcome",
        }
        key = "best_response" if method == "best_response" else metric
        part = part[part.value > 0]
        ax.plot(part["round"].clip(lower=1), part["value"], label=label[key])
    truthful_gap = np.abs(peaks.mean(axis=1) - target).mean()
    ax.axhline(truthful_gap, color="grey", ls=":", label="truthful reports (no learning)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("round (best response: sweep)")
    ax.set_ylabel("mean |outcome - UP(true peaks)|")
    ax.set_title(f"Average rule, n = {a.n}, {a.batch} random instances, K = {a.grid}")
    plotting.legend_outside(ax)
    plotting.save(fig, out / "figure.png")
    final = df.groupby(["method", "metric"]).last()["value"]
    print(final.to_string())
    print(f"truthful average vs UP: {truthful_gap:.4f}; wrote {out}/results.csv, results.parquet, figure.png")
    return df


if __name__ == "__main__":
    main()
