"""Learner test bench on normal-form games (rock-paper-scissors, Shapley 1964, chicken).

1. Rock-paper-scissors self-play with Hedge, regret matching and RM+ (sampled play, full
   information): exploitability (NashConv / 2) of the average policy against rounds, and the final
   distance of the average strategy to (1/3, 1/3, 1/3).
2. Fictitious play on Shapley's game: the empirical action frequencies keep cycling (no
   convergence to the unique equilibrium (1/3, 1/3, 1/3)).
3. Conditional regret matching in chicken: CE gap of the empirical joint play against rounds.

Writes ``results.csv`` / ``results.parquet`` (experiment, learner, round, metric, value, se) and
``figure.png`` into ``--out``.

    python experiments/learning/matrix_testbench.py [--out DIR] [--rounds 10000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from coopsim.envs import matrix_games as mg  # noqa: E402

from coopsim import (
    agents,  # noqa: E402
    plotting,
)
from coopsim.dynamics import run  # noqa: E402


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/learning_testbench")
    p.add_argument("--rounds", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    T, B = a.rounds, a.batch
    rows = []
    rec = max(1, T // 100)

    rps = mg.rock_paper_scissors()
    for name, learner in (
        ("hedge", agents.Hedge(3, horizon=T, utility_range=rps.utility_range)),
        ("regret_matching", agents.RegretMatching(3, utility_range=rps.utility_range)),
        ("rm_plus", agents.RegretMatchingPlus(3, utility_range=rps.utility_range)),
    ):
        res = run(rps, learner, rounds=T, batch=B, seed=a.seed, record_every=rec)
        for t, v, e in zip(res.rounds, res.mean("exploitability_avg"), res.stderr("exploitability_avg")):
            rows.append(
                {
                    "experiment": "rps",
                    "learner": name,
                    "round": int(t),
                    "metric": "exploitability_avg",
                    "value": float(v),
                    "se": float(e),
                }
            )
        dev = np.abs(res.average_policy - 1 / 3).max(axis=(1, 2))
        rows.append(
            {
                "experiment": "rps",
                "learner": name,
                "round": T,
                "metric": "linf_to_uniform",
                "value": float(dev.mean()),
                "se": float(dev.std(ddof=1) / np.sqrt(B)),
            }
        )
        print(
            f"RPS {name:16s} exploitability(avg) {res.mean('exploitability_avg')[-1]:.4f}  "
            f"max |avg - 1/3| {dev.max():.4f}"
        )

    sh = mg.shapley()
    res = run(sh, agents.FictitiousPlay(3), rounds=T, batch=1, seed=a.seed, keep_history=True, record_every=rec)
    acts = res.history["actions"][:, 0, 0]  # player 1's actions (T,)
    freq = np.cumsum(np.eye(3)[acts], axis=0) / np.arange(1, T + 1)[:, None]
    for t in range(rec - 1, T, rec):
        for k in range(3):
            rows.append(
                {
                    "experiment": "shapley_fp",
                    "learner": "fictitious_play",
                    "round": t + 1,
                    "metric": f"freq_player1_action{k}",
                    "value": float(freq[t, k]),
                    "se": 0.0,
                }
            )
    print(
        f"Shapley FP: final frequencies {np.round(freq[-1], 4)}, max |f - 1/3| over the last half "
        f"{np.abs(freq[T // 2 :] - 1 / 3).max():.3f}"
    )

    ch = mg.chicken()
    res = run(
        ch,
        agents.ConditionalRegretMatching(2, utility_range=ch.utility_range),
        rounds=T,
        batch=B,
        seed=a.seed,
        record_every=rec,
    )
    for metric in ("ce_gap", "cce_gap"):
        for t, v, e in zip(res.rounds, res.mean(metric), res.stderr(metric)):
            rows.append(
                {
                    "experiment": "chicken_crm",
                    "learner": "conditional_rm",
                    "round": int(t),
                    "metric": metric,
                    "value": float(v),
                    "se": float(e),
                }
            )
    print(
        f"Chicken conditional RM: CE gap {res.mean('ce_gap')[-1]:.5f} (max over copies {res['ce_gap'][-1].max():.5f})"
    )

    df = pd.DataFrame(rows)
    df.to_csv(out / "results.csv", index=False)
    df.to_parquet(out / "results.parquet", index=False)

    plotting.use_style()
    fig, axes = plotting.subplots(1, 3, figsize=(14, 4))
    for name, part in df[(df.experiment == "rps") & (df.metric == "exploitability_avg")].groupby("learner"):
        axes[0].plot(part["round"], part["value"], label=name)
    axes[0].set(
        xscale="log",
        yscale="log",
        xlabel="round",
        ylabel="exploitability of the average policy",
        title="Rock-paper-scissors self-play",
    )
    plotting.legend_outside(axes[0])
    axes[1].plot(np.arange(1, T + 1), freq, lw=1)
    axes[1].axhline(1 / 3, color="grey", ls=":")
    axes[1].set(
        xscale="log",
        xlabel="round",
        ylabel="empirical frequency (player 1)",
        title="Fictitious play on Shapley's game: cycles",
    )
    plotting.legend_outside(axes[1], axes[1].get_lines()[:3], labels=["action 0", "action 1", "action 2"])
    for metric, part in df[df.experiment == "chicken_crm"].groupby("metric"):
        axes[2].plot(part["round"], part["value"], label=metric)
    axes[2].set(
        xscale="log", xlabel="round", ylabel="gap of the empirical joint play", title="Conditional RM in chicken"
    )
    plotting.legend_outside(axes[2])
    plotting.save(fig, out / "figure.png")
    print(f"wrote {out}/results.csv, results.parquet, figure.png")
    return df


if __name__ == "__main__":
    main()
