"""Full RegretNet training for 2 additive bidders x 2 items i.i.d. U[0, 1] (the shipped weights).

Dütting et al., "Optimal Auctions through Deep Learning" (ICML 2019; JACM 2024), Section 5 setting
with 2 bidders and 2 items: the paper reports revenue about 0.878 at regret about 3e-4.

    python experiments/design/train_regretnet.py --out mechanisms/data/regretnet_2x2.npz

Writes checkpoints (``<out>.ckpt.npz``) every ``--checkpoint`` iterations and the training curves
beside the weights (``<out>.history.npz`` is not shipped: it goes to ``--results``).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import torch
from coopsim.mechanisms.learned import save_weights

from coopsim.design.regret_net import RegretNetConfig, regret_estimate, train_regret_net

FULL = dict(
    hidden=(100, 100),
    iterations=12000,
    batch=1024,
    n_train=65536,
    lr=5e-4,
    lr_final=None,
    misreport_inits=2,
    misreport_steps=5,
    misreport_lr=0.1,
    rho=1.0,
    rho_step=10.0,
    rho_every=500,
    lambda_init=10.0,
    lagrange_every=100,
    log_every=250,
    seed=0,
)


class _Stop(Exception):
    """Raised by the progress callback once ``--stop-at`` seconds have passed."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="mechanisms/data/regretnet_2x2.npz")
    ap.add_argument("--results", default="experiments/design/results")
    ap.add_argument("--iterations", type=int, default=FULL["iterations"])
    ap.add_argument("--rho-step", type=float, default=FULL["rho_step"])
    ap.add_argument("--rho-every", type=int, default=FULL["rho_every"])
    ap.add_argument("--lr", type=float, default=FULL["lr"])
    ap.add_argument("--rho", type=float, default=FULL["rho"])
    ap.add_argument("--lambda-init", type=float, default=FULL["lambda_init"])
    ap.add_argument("--init-weights", default=None, help="fine-tune from this regret_net checkpoint")
    ap.add_argument("--regret-target", type=float, default=None, help="multiplier update towards this regret")
    ap.add_argument("--misreport-steps", type=int, default=FULL["misreport_steps"])
    ap.add_argument("--seed", type=int, default=FULL["seed"])
    ap.add_argument("--checkpoint", type=int, default=500, help="save (and measure) every this many steps")
    ap.add_argument("--stop-at", type=float, default=None, help="stop after this many seconds (last checkpoint kept)")
    ap.add_argument("--tag", default="", help="prefix of the checkpoint files")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.results, exist_ok=True)
    over = {"iterations": args.iterations, "rho_step": args.rho_step, "rho_every": args.rho_every, "lr": args.lr}
    over.update(rho=args.rho, lambda_init=args.lambda_init, init_weights=args.init_weights, seed=args.seed)
    over.update(regret_target=args.regret_target, misreport_steps=args.misreport_steps)
    cfg = RegretNetConfig(**{**FULL, **over, "device": args.device})
    t0 = time.time()

    def report(t: int, net, hist) -> None:
        h = hist.arrays()
        print(
            f"it {t:6d}  {time.time() - t0:7.0f}s  revenue {h['revenue'][-1]:.4f}  regret {h['regret'][-1]:.2e}"
            f"  rho {h['rho'][-1]:.0f}  lambda {h['lam'][-1]:.2f}",
            flush=True,
        )
        if t and t % args.checkpoint == 0:
            # constant learning rate and a schedule that does not look at the end: the weights after
            # t + 1 steps are exactly those of a run with iterations = t + 1
            head = {"n_bidders": 2, "n_items": 2, "hidden": list(cfg.hidden), "iterations": t + 1}
            save_weights(
                os.path.join(args.results, f"regretnet{args.tag}_step{t + 1}.npz"), "regret_net", head, net.arrays()
            )
            np.savez(os.path.join(args.results, os.path.basename(args.out) + args.tag + ".history.npz"), **h)
            # a quick held-out look (fixed values, not the training set): revenue and gradient-ascent regret
            ev = regret_estimate(net, held_out.to(next(net.parameters()).dtype), inits=5, steps=100, seed=1)
            print(
                f"  held-out step {t + 1}: revenue {ev['mean_revenue']:.4f}  regret "
                + " ".join(f"{r:.2e}" for r in ev["mean_regret"]),
                flush=True,
            )
        if args.stop_at is not None and time.time() - t0 > args.stop_at:
            raise _Stop

    held_out = torch.as_tensor(np.random.default_rng(99).random((2000, 2, 2)))
    try:
        res = train_regret_net(cfg, callback=report)
    except _Stop:
        print(f"stopped after {time.time() - t0:.0f} s (--stop-at); the checkpoints are the result", flush=True)
        return
    seconds = time.time() - t0
    gen = torch.Generator(device=next(res.net.parameters()).device).manual_seed(12345)
    test = torch.rand(10000, 2, 2, generator=gen, device=gen.device, dtype=torch.float32)
    ev = regret_estimate(res.net, test, inits=10, steps=200, lr=0.1, seed=1)
    summary = {
        "train_seconds": round(seconds, 1),
        "device": str(next(res.net.parameters()).device),
        "test_revenue": float(ev["mean_revenue"]),
        "test_regret": [float(x) for x in ev["mean_regret"]],
    }
    print(json.dumps(summary), flush=True)
    res.export(args.out, **summary)
    np.savez(os.path.join(args.results, os.path.basename(args.out) + args.tag + ".history.npz"), **res.history)


if __name__ == "__main__":
    main()
