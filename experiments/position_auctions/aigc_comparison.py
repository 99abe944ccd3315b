"""AIGC position auctions: VCG under additive / MNL / cascade users vs a separable GSP baseline.

For each click model and ad budget K: draw ``instances`` CTR matrices ``p_ij ~ U[lo, hi] decay^j``
and values ``v ~ U[0, 1]``; run (a) ``aigc_vcg`` (welfare-optimal matching and rendering order,
VCG payments) and (b) GSP on the separable approximation of the CTRs (rank by value x estimated
quality, slots by estimated position factor), re-scored under the true click model. Reports mean
welfare (and its ratio to the optimum) and revenue, +- s.e.

    python aigc_comparison.py [aigc_comparison.toml]

Writes results/aigc_comparison.csv and results/aigc_comparison.png.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
from coopsim.envs.position_auction import PositionAuction

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import RESULTS, se, show, write_table  # noqa: E402


def main(spec_path: str) -> None:
    spec = tomllib.loads(Path(spec_path).read_text())
    rows = []
    for model in spec["models"]:
        cm = model["click_model"]
        ctr_params = {"low": spec["ctr_low"], "high": spec["ctr_high"], "decay": spec["decay"]}
        if cm == "cascade":
            ctr_params["cascade"] = model["cascade"]
            if model["cascade"] == "continuation":
                ctr_params["continuation"] = model["continuation"]
        label = cm if cm != "cascade" else f"cascade-{model['cascade']}"
        for K in spec["K"]:
            common = dict(
                n_agents=spec["n_agents"],
                n_slots=spec["n_slots"],
                ctr="aigc",
                click_model=cm,
                ctr_params=ctr_params,
                reference_metrics=False,
            )
            vcg = PositionAuction(mechanism="aigc_vcg", mechanism_params={"max_ads": K}, **common)
            gsp = PositionAuction(mechanism="gsp", mechanism_params={"max_slots": K}, **common)
            types = vcg.sample_types(np.random.default_rng(spec["seed"]), spec["instances"])
            opt = vcg.optimum(types)["welfare"]
            for name, game in (("aigc_vcg", vcg), ("gsp_separable", gsp)):
                out = game.play(types, game.truthful_actions(types))
                m = game.metrics(types, out)
                eff = np.where(opt > 0, m["welfare"] / np.where(opt > 0, opt, 1), 1.0)
                row = {
                    "click_model": label,
                    "K": K,
                    "mechanism": name,
                    "welfare": m["welfare"].mean(),
                    "welfare_se": se(m["welfare"]),
                    "efficiency": eff.mean(),
                    "efficiency_se": se(eff),
                    "revenue": m["revenue"].mean(),
                    "revenue_se": se(m["revenue"]),
                }
                rows.append(row)
                show(row)
    df = write_table(rows, spec["name"])
    try:
        from coopsim import plotting

        models = df["click_model"].unique()
        plotting.use_style()
        fig, axes = plotting.subplots(2, len(models), figsize=(3.2 * len(models), 5), squeeze=False)
        for c, cm in enumerate(models):
            for name, sub in df[df.click_model == cm].groupby("mechanism"):
                axes[0, c].errorbar(sub.K, sub.welfare, sub.welfare_se, label=name, marker="o")
                axes[1, c].errorbar(sub.K, sub.revenue, sub.revenue_se, label=name, marker="o")
            axes[0, c].set_title(cm)
            axes[1, c].set_xlabel("K (max ads)")
        axes[0, 0].set_ylabel("welfare")
        axes[1, 0].set_ylabel("revenue")
        plotting.legend_outside(axes[0, 0])
        plotting.save(fig, RESULTS / f"{spec['name']}.png")
    except Exception as err:  # pragma: no cover
        print("plot skipped:", err)
    print(df.to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(HERE / "aigc_comparison.toml"))
