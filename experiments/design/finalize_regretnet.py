"""Ship a RegretNet checkpoint of ``train_regretnet.py``: measure it on held-out values and write the
weights file with its configuration and figures in the header.

    python experiments/design/finalize_regretnet.py experiments/design/results/regretnet_step9001.npz \
        --seconds 3600 --out mechanisms/data/regretnet_2x2.npz

The checkpoint after ``t`` steps equals the weights of ``train_regretnet.py --iterations t`` (constant
learning rate; the multiplier schedule does not depend on the run's length). Held-out figures: revenue
of the NumPy mechanism, regret by gradient ascent (``regret_estimate``: truthful + 9 random inits,
200 steps) and by ``incentive_audit`` on the multi-item game (11 x 11 report grid, 32 random reports,
local search).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from coopsim.envs.multi_item_auction import MultiItemAuction
from coopsim.mechanisms.learned import RegretNetAuction, load_weights, save_weights

from coopsim.analysis import incentive_audit
from coopsim.design.regret_net import RegretNet, regret_estimate

try:
    from train_regretnet import FULL  # the configuration of the run (same folder)
except ImportError:  # pragma: no cover - run from elsewhere
    from experiments.design.train_regretnet import FULL


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--out", default="mechanisms/data/regretnet_2x2.npz")
    ap.add_argument("--seconds", type=float, required=True, help="wall-clock training time of the run")
    ap.add_argument("--samples", type=int, default=5000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.time()
    head, arrays = load_weights(args.checkpoint, "regret_net")
    mech = RegretNetAuction(weights=args.checkpoint)
    values = np.random.default_rng(20261206).random((args.samples, 2, 2))
    ev = regret_estimate(RegretNet.from_weights(args.checkpoint), torch.as_tensor(values), inits=10, steps=200)
    game = MultiItemAuction(n_agents=2, n_items=2, mechanism=mech)
    audit = incentive_audit(game, values[:1000], grid=11, n_random=32, rng=0)
    summary = {
        "train_seconds": round(args.seconds, 1),
        "device": "cpu (1 thread, shared 2-core machine)",
        "held_out_samples": args.samples,
        "test_revenue": float(mech(values).revenue.mean()),
        "test_regret_gradient": [float(x) for x in ev["mean_regret"]],
        "test_regret_audit_mean": float(np.maximum(audit.per_profile, 0).mean()),
        "test_regret_audit_max": float(audit.max_gain),
    }
    training = {**FULL, "hidden": list(FULL["hidden"]), "iterations": int(head["iterations"]), "device": "cpu"}
    header = {
        "n_bidders": 2,
        "n_items": 2,
        "hidden": list(FULL["hidden"]),
        "value_low": 0.0,
        "value_high": 1.0,
        "training": training,
        "summary": summary,
    }
    save_weights(args.out, "regret_net", header, arrays)
    print(json.dumps(summary, indent=1), f"\n({time.time() - t0:.0f} s) -> {args.out}")


if __name__ == "__main__":
    main()
