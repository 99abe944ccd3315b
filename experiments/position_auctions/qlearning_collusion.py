"""Q-learning bidders in first vs second price with a common value of 1: the table of
``auction_qlearning_collusion`` results.

Reads the results store of ``experiments/specs/auction_qlearning_collusion.toml`` (two stateless
epsilon-greedy Q-learners, bandit feedback, records of the window-averaged ``highest_bid`` and
``revenue``) and averages the records over the last ``--tail`` of the run (default 0.1): mean and
standard error over seeds per mechanism. Expected (qualitative, after Banchio and Skrzypacz,
EC 2022): first price clearly below 1 (tacit collusion), second price at or near 1.

    coopsim run experiments/specs/auction_qlearning_collusion.toml --workers 2
    python experiments/position_auctions/qlearning_collusion.py results/auction_qlearning_collusion [tail]
"""

from __future__ import annotations

import sys

import pandas as pd

from coopsim import runner


def main(folder: str = "results/auction_qlearning_collusion", tail: float | str = 0.1) -> pd.DataFrame:
    df = runner.load(folder)
    start = (1.0 - float(tail)) * df["round"].max()
    per_seed = df[df["round"] > start].groupby(["mechanism.name", "replicate", "metric"])["value"].mean()
    g = per_seed.groupby(["mechanism.name", "metric"])
    out = pd.DataFrame({"mean": g.mean(), "se": g.sem()}).unstack("metric")
    print(out.to_string(float_format=lambda v: f"{v:.4f}"))
    return out


if __name__ == "__main__":
    main(*sys.argv[1:])
