"""Average-rule facility location: learners converge to the Uniform Phantom outcome of the true
peaks; the figure of ``learning_average_rule`` and ``learning_average_rule_br`` results.

Under the average rule (not strategy-proof) every pure Nash equilibrium places the facility at
UP(t) = median(t ∪ {1/n, ..., (n-1)/n}) of the true peaks (Aziz, Lam, Lee and Walsh,
arXiv:2111.01566; Renault and Trannoy, JPET 2005). Reads the results stores of
``experiments/specs/learning_average_rule.toml`` (full-information Hedge on a report grid: the
last-iterate and time-averaged |outcome - UP| and the CCE gap per record) and
``learning_average_rule_br.toml`` (exact Gauss-Seidel best-response dynamics, one sweep per round,
unit function ``facility_best_response``), and draws |outcome - UP| against rounds (log scale).

    coopsim run experiments/specs/learning_average_rule.toml --workers 2
    coopsim run experiments/specs/learning_average_rule_br.toml --workers 2
    python experiments/learning/average_rule_convergence.py results/learning_average_rule results/learning_average_rule_br

Writes ``<first folder>/figure.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from coopsim import plotting, runner

LABELS = {"outcome_distance": "Hedge, last iterate", "avg_outcome_distance": "Hedge, time-averaged outcome"}


def main(hedge: str = "results/learning_average_rule", br: str | None = "results/learning_average_rule_br") -> None:
    df = runner.load(hedge)
    plotting.use_style()
    fig, ax = plotting.subplots(figsize=(7, 4.2))
    for metric, label in LABELS.items():
        s = plotting.summarize(df, metric)
        s = s[s["mean"] > 0]
        ax.plot(s["round"], s["mean"], label=label)
        print(f"{label}: {s['mean'].iloc[-1]:.4f} at round {s['round'].iloc[-1]}")
    if br is not None and Path(br).exists():
        b = runner.load(br)
        for n, part in b.groupby("function.n_agents"):
            s = plotting.summarize(part, "abs_outcome_minus_reference")
            s = s[s["mean"] > 0]
            ax.plot(s["round"], s["mean"], ls="--", label=f"sequential best response, n = {n} (per sweep)")
            print(
                f"best response n = {n}: {s['mean'].iloc[-1] if len(s) else 0.0:.2e} after {part['round'].max()} sweeps"
            )
    ax.set(xscale="log", yscale="log", xlabel="round (best response: sweep)", ylabel="mean |outcome - UP(true peaks)|")
    ax.set_title("Average rule: learned outcomes against Uniform Phantom of the true peaks")
    plotting.legend_outside(ax)
    path = plotting.save(fig, Path(hedge) / "figure.png")
    print(f"CCE gap at the last record: {plotting.summarize(df, 'cce_gap')['mean'].iloc[-1]:.4f}; wrote {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
