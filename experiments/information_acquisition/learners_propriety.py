"""Learners under proper and improper scoring rules (BeliefElicitation + coopsim.dynamics.run).

Each agent privately believes P(w = 1) = f and reports a probability r on a grid; it is paid the
realised score S((1 - r, r), w) with w ~ Bernoulli(f) redrawn every round, scaled into [0, 1].
Under strictly proper rules (quadratic, spherical, truncated logarithmic) no-regret learners
concentrate on r = f; under the linear rule S(p, w) = p_w (improper) they move to the corner
r = 1[f > 1/2]. Hedge gets full-information feedback (the score of every grid report at the
realised outcome), Exp3 bandit feedback. Writes results/learners_propriety.csv and .png.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from coopsim.envs.information_acquisition import BeliefElicitation

from coopsim import agents, dynamics
from coopsim.core.seeding import derived_seed

HERE = Path(__file__).parent


def main(spec_path: str | None = None) -> None:
    spec = tomllib.loads(Path(spec_path or HERE / "learners_propriety.toml").read_text())
    rows = []
    for rule in spec["rules"]:
        params = {"eps": spec["log_eps"]} if rule == "logarithmic" else None
        for f in spec["beliefs"]:
            game = BeliefElicitation(rule=rule, rule_params=params, belief=f, utility="realised")
            for lname in spec["learners"]:
                cfg = spec["learner_settings"][lname]
                tol = cfg["tolerance"]
                learner = getattr(agents, lname)(n_actions=spec["grid"])
                res = dynamics.run(
                    game,
                    learner,
                    rounds=cfg["rounds"],
                    batch=cfg["batch"],
                    seed=derived_seed(spec["seed"], [rule, f, lname]),
                    feedback="full" if lname == "Hedge" else "bandit",
                    grid=spec["grid"],
                    redraw="round",
                    game_metrics="none",
                )
                grid = np.asarray(res.grid).reshape(-1)
                pol = res.policy[:, 0, :]  # (B, K) final policies
                mean_pol = pol.mean(0)
                mode = float(grid[np.argmax(mean_pol)])
                per_copy_mode = grid[np.argmax(pol, axis=1)]
                target = (
                    float(np.clip(f, game.action_low, game.action_high))
                    if rule != "linear"
                    else float(grid[-1] if f > 0.5 else grid[0])
                )
                rows.append(
                    dict(
                        rule=rule,
                        belief=f,
                        learner=lname,
                        mode=mode,
                        target=target,
                        mean_report=float(mean_pol @ grid),
                        share_copies_at_target=float(np.mean(np.abs(per_copy_mode - target) <= tol + 1e-9)),
                        mass_near_target=float(mean_pol[np.abs(grid - target) <= tol + 1e-9].sum()),
                        ok=bool(abs(mode - target) <= tol + 1e-9),
                    )
                )
                print(
                    f"{rule:12} f={f:4.2f} {lname:6} mode {mode:5.3f} target {target:5.3f} "
                    f"mass within {tol} {rows[-1]['mass_near_target']:5.2f} "
                    f"copies at target {rows[-1]['share_copies_at_target']:5.2f} "
                    f"{'ok' if rows[-1]['ok'] else 'MISS'}"
                )
    df = pd.DataFrame(rows)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    df.to_csv(out / "learners_propriety.csv", index=False)
    for ln, g in df.groupby("learner"):
        tol = spec["learner_settings"][ln]["tolerance"]
        print(f"{ln}: cells passing (mode within {tol} of target): {int(g.ok.sum())}/{len(g)}")
    _plot(df, out / "learners_propriety.png")


def _plot(df: pd.DataFrame, path: Path) -> None:
    from coopsim import plotting

    learners = df.learner.unique()
    plotting.use_style()
    fig, axes = plotting.subplots(1, len(learners), figsize=(6 * len(learners), 4.5), squeeze=False)
    for j, ln in enumerate(learners):
        ax = axes[0, j]
        for rule, g in df[df.learner == ln].groupby("rule"):
            ax.plot(g["belief"], g["mode"], "o-", label=rule)
        ax.plot([0, 1], [0, 1], "k:", label="truthful")
        ax.set_xlabel("private belief f")
        ax.set_ylabel("modal learned report")
        ax.set_title(f"{ln}: learned report vs belief")
    plotting.legend_outside(fig)  # the same rules in every panel
    plotting.save(fig, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
