"""AIGC position auctions, VCG under the true click model vs a separable GSP baseline: the figure of
``auction_aigc`` results.

Reads the results store of ``experiments/specs/auction_aigc.toml`` (unit function
``aigc_comparison``: both mechanisms at truthful bids on the same instances, after Balseiro et al.,
arXiv 2506.03309) and draws welfare and revenue (+- one standard error over the instances) against
the ad budget K, one column per click model.

    coopsim run experiments/specs/auction_aigc.toml --workers 2
    python experiments/position_auctions/aigc_comparison.py results/auction_aigc

Writes ``<folder>/aigc_comparison.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from coopsim import plotting, runner


def main(folder: str = "results/auction_aigc") -> pd.DataFrame:
    w = plotting.final_values(runner.load(folder), ["function.click_model", "function.cascade", "function.K"])
    w["model"] = w["function.click_model"].where(
        w["function.click_model"] != "cascade", "cascade-" + w["function.cascade"]
    )
    w = w.sort_values(["model", "function.K"])
    models = list(dict.fromkeys(w["model"]))
    plotting.use_style()
    fig, axes = plotting.subplots(2, len(models), figsize=(3.2 * len(models), 5), squeeze=False)
    for c, model in enumerate(models):
        d = w[w["model"] == model]
        for r, metric in enumerate(("welfare", "revenue")):
            for mech in ("vcg", "gsp"):
                col = f"{metric}_{mech}"
                axes[r, c].errorbar(d["function.K"], d[col], d[f"{col}_se"], label=mech, marker="o")
        axes[0, c].set_title(model)
        axes[1, c].set_xlabel("K (max ads)")
    axes[0, 0].set_ylabel("welfare")
    axes[1, 0].set_ylabel("revenue")
    plotting.legend_outside(fig)  # the same two mechanisms in every panel
    path = plotting.save(fig, Path(folder) / "aigc_comparison.png")
    cols = [c for c in w.columns if c.startswith(("welfare_", "efficiency_", "revenue_")) and not c.endswith("_se")]
    print(w[["model", "function.K", *cols]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {path}")
    return w


if __name__ == "__main__":
    main(*sys.argv[1:])
