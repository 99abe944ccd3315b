"""Q-learning bidders in first vs second price with a common value of 1 (seed-averaged).

Two stateless epsilon-greedy Q-learners (bandit feedback) choose bids on a grid over [0, 1];
ties share the item. Reports the winning (highest) bid and the revenue over the last ``tail`` of
the run, mean +- s.e. over copies and seeds. Expected (qualitative, after Banchio and Skrzypacz, EC 2022): first
price clearly below 1 (tacit collusion), second price at or near 1.

    python qlearning_collusion.py [qlearning_collusion.toml]

Writes results/qlearning_collusion.csv.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
from coopsim.envs.position_auction import PositionAuction

from coopsim import agents, dynamics

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import se, show, write_table  # noqa: E402


def main(spec_path: str) -> None:
    spec = tomllib.loads(Path(spec_path).read_text())
    rows = []
    for mech in spec["mechanisms"]:
        bids, revs = [], []
        for s in range(spec["seeds"]):
            game = PositionAuction(
                n_agents=2,
                mechanism=mech,
                values="fixed",
                value_params={"profile": [1.0, 1.0]},
                reference_metrics=False,
            )
            K = spec["grid_size"]
            lrn = agents.QLearning(
                n_actions=K, utility_range=game.utility_range, alpha=spec["alpha"], beta=spec["beta"]
            )
            res = dynamics.run(
                game,
                lrn,
                rounds=spec["rounds"],
                batch=spec["batch"],
                seed=spec["seed"] + s,
                feedback="bandit",
                grid=K,
                redraw="episode",
                record_every=spec["rounds"] // 50,
                swap_regret=False,
                snapshots=False,
            )
            k0 = int(np.searchsorted(res.rounds, (1 - spec["tail"]) * res.rounds[-1]))
            bids.append(res["highest_bid"][k0:].mean(axis=0))
            revs.append(res["revenue"][k0:].mean(axis=0))
        b, r = np.concatenate(bids), np.concatenate(revs)
        row = {
            "mechanism": mech,
            "winning_bid": b.mean(),
            "winning_bid_se": se(b),
            "share_below_0.9": float((b < 0.9).mean()),
            "revenue": r.mean(),
            "revenue_se": se(r),
        }
        rows.append(row)
        show(row)
    print(write_table(rows, spec["name"]).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(HERE / "qlearning_collusion.toml"))
