"""Train and export the shipped MyersonNet (2 bidders) and RochetNet (2 items) weights.

    python experiments/design/export_weights.py            # writes mechanisms/data/*.npz

Runs the runner's unit functions (``design_myerson_net``, ``design_rochet_net``) with seed
sequence 0 and prints their held-out figures. The RegretNet weights come from
``train_regretnet.py`` (a much longer run).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from coopsim.design.units import myerson_net_unit, rochet_net_unit


def main() -> None:
    torch.set_num_threads(1)
    for name, fn, path in (
        ("MyersonNet, 2 bidders", myerson_net_unit, "mechanisms/data/myersonnet_2bidders.npz"),
        ("RochetNet, 2 items", rochet_net_unit, "mechanisms/data/rochetnet_2items.npz"),
    ):
        t0 = time.time()
        out = fn({"export": path}, np.random.SeedSequence(0), 1, 1, 1)
        figures = {k: float(v[-1]) for k, v in out.items() if k not in ("round", "revenue")}
        print(f"{name}: {figures}  ({time.time() - t0:.0f} s) -> {path}", flush=True)


if __name__ == "__main__":
    main()
