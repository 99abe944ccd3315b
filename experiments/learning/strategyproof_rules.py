"""Uniform Phantom and median: learners become outcome-equivalent to truthful reporting, regret -> 0;
the figure of ``learning_strategyproof`` results.

Under strategy-proof rules truthful reporting is weakly dominant, but non-pivotal misreports are
payoff-equivalent, so learners need not report truthfully: the target is outcome-level (outcomes
and regret, never the report distance). Reads the results store of
``experiments/specs/learning_strategyproof.toml`` (full-information Hedge and bandit EXP3-IX under
each rule) and draws, against rounds, the outcome distance |f(r) - f(t)| to truthful play, the
report distance mean_i |r_i - t_i| and the mean external regret R_i(t)/t.

    coopsim run experiments/specs/learning_strategyproof.toml --workers 2
    python experiments/learning/strategyproof_rules.py results/learning_strategyproof

Writes ``<folder>/figure.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from coopsim import plotting, runner

TITLES = {
    "outcome_distance": "|f(r) - f(t)| (outcome vs truthful)",
    "report_distance": "mean |r_i - t_i| (reports)",
    "regret": "mean external regret R_i(t)/t",
}
BY = ["mechanism.name", "agents.0.learner"]


def main(folder: str = "results/learning_strategyproof") -> None:
    df = runner.load(folder)
    plotting.use_style()
    fig, axes = plotting.subplots(1, 3, figsize=(13, 3.8))
    for ax, (metric, title) in zip(axes, TITLES.items()):
        s = plotting.summarize(df, metric, by=BY)
        for (mech, learner), part in s.groupby(BY):
            ax.plot(part["round"], part["mean"], label=f"{mech}, {learner}")
            print(f"{mech:16s} {learner:10s} {metric}: {part['mean'].iloc[-1]:.4f}")
        ax.set(xscale="log", xlabel="round", title=title)
    plotting.legend_outside(fig)  # the same groups in every panel
    path = plotting.save(fig, Path(folder) / "figure.png")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
