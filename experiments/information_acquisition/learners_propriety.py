"""Learners under proper and improper scoring rules (``BeliefElicitation``): table and figure of
``info_learners_propriety`` results.

Reads the results store of ``experiments/specs/info_learners_propriety.toml`` (Hedge, full
information) and, when given, ``info_learners_propriety_bandit.toml`` (EXP3, bandit feedback); unit
function ``info_belief_learning``. Each agent privately believes P(w = 1) = f and reports r on a grid,
paid the realised score. Under strictly proper rules (quadratic, spherical, truncated logarithmic)
no-regret learners concentrate on r = f; under the linear rule S(p, w) = p_w (improper) they move to
the corner 1[f > 1/2]. Printed at the last round, from the time-averaged policies: modal report,
target, mass within the tolerance and the share of copies whose mode is there; "ok" when the mode is
within the tolerance of the target.

    coopsim run experiments/specs/info_learners_propriety.toml --workers 2
    coopsim run experiments/specs/info_learners_propriety_bandit.toml --workers 2
    python experiments/information_acquisition/learners_propriety.py results/info_learners_propriety results/info_learners_propriety_bandit

Writes ``<first folder>/learners_propriety.png`` (modal report against belief, one panel per learner).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from coopsim import plotting, runner

BY = ["function.learner", "function.rule", "function.belief", "function.tolerance", "function.grid"]


def table(folder: str) -> pd.DataFrame:
    df = runner.load(folder)
    w = plotting.final_values(df, [c for c in BY if c in df.columns])
    tol = w["function.tolerance"] if "function.tolerance" in w else 1.0 / (w["function.grid"] - 1)
    w["ok"] = (w["mode_report"] - w["target"]).abs() <= tol + 1e-9
    return w.sort_values(["function.learner", "function.rule", "function.belief"])


def main(*folders: str) -> pd.DataFrame:
    folders = folders or ("results/info_learners_propriety",)
    df = pd.concat([table(f) for f in folders], ignore_index=True)
    cols = ["function.learner", "function.rule", "function.belief", "mode_report", "target"]
    cols += ["mass_near_target", "share_copies_at_target", "ok"]
    print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for ln, g in df.groupby("function.learner"):
        print(f"{ln}: cells with the mode within the tolerance of the target: {int(g.ok.sum())}/{len(g)}")
    learners = df["function.learner"].unique()
    plotting.use_style()
    fig, axes = plotting.subplots(1, len(learners), figsize=(6 * len(learners), 4.5), squeeze=False)
    for ax, ln in zip(axes[0], learners):
        for rule, g in df[df["function.learner"] == ln].groupby("function.rule"):
            ax.plot(g["function.belief"], g["mode_report"], "o-", label=rule)
        ax.plot([0, 1], [0, 1], "k:", label="truthful")
        ax.set(xlabel="private belief f", ylabel="modal learned report", title=f"{ln}: learned report vs belief")
    plotting.legend_outside(fig)  # the same rules in every panel
    path = plotting.save(fig, Path(folders[0]) / "learners_propriety.png")
    print(f"wrote {path}")
    return df


if __name__ == "__main__":
    main(*sys.argv[1:])
