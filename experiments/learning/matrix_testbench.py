"""Learner test bench on normal-form games (rock-paper-scissors, Shapley 1964, chicken): the figure of
the ``learning_matrix_*`` results.

1. ``learning_matrix_rps.toml``: rock-paper-scissors self-play with Hedge, regret matching and RM+:
   exploitability (NashConv / 2) of the average policy against rounds.
2. ``learning_matrix_shapley_fp.toml``: fictitious play on Shapley's game: the exploitability of the
   empirical frequencies stays away from 0 (they keep cycling around the unique equilibrium).
3. ``learning_matrix_chicken.toml``: conditional regret matching in chicken (Hart and Mas-Colell,
   Econometrica 2000): CE and CCE gaps of the empirical joint play against rounds.

    coopsim run experiments/specs/learning_matrix_rps.toml
    coopsim run experiments/specs/learning_matrix_shapley_fp.toml
    coopsim run experiments/specs/learning_matrix_chicken.toml
    python experiments/learning/matrix_testbench.py results/learning_matrix_rps results/learning_matrix_shapley_fp results/learning_matrix_chicken

Writes ``<first folder>/figure.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from coopsim import plotting, runner


def main(
    rps: str = "results/learning_matrix_rps",
    shapley: str = "results/learning_matrix_shapley_fp",
    chicken: str = "results/learning_matrix_chicken",
) -> None:
    plotting.use_style()
    fig, axes = plotting.subplots(1, 3, figsize=(14, 4))
    panels = (
        (
            rps,
            ["exploitability_avg"],
            "agents.0.learner",
            "Rock-paper-scissors self-play",
            "exploitability of the average policy",
        ),
        (
            shapley,
            ["exploitability_avg"],
            None,
            "Fictitious play on Shapley's game: cycles",
            "exploitability of the frequencies",
        ),
        (chicken, ["ce_gap", "cce_gap"], None, "Conditional RM in chicken", "gap of the empirical joint play"),
    )
    for ax, (folder, metrics, by, title, ylabel) in zip(axes, panels):
        df = runner.load(folder)
        for metric in metrics:
            s = plotting.summarize(df, metric, by=[by] if by else [])
            for key, part in s.groupby(by) if by else [(metric, s)]:
                ax.plot(part["round"], part["mean"], label=str(key))
                print(f"{title}: {key} {metric} {part['mean'].iloc[-1]:.5f} at round {part['round'].iloc[-1]}")
        ax.set(xscale="log", xlabel="round", ylabel=ylabel, title=title)
        plotting.legend_outside(ax)
    path = plotting.save(fig, Path(rps) / "figure.png")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
