"""GSP and VCG with learning bidders against the equilibrium revenue band: the table of
``auction_gsp_band`` results.

Reads the results store of ``experiments/specs/auction_gsp_band.toml`` (unit function
``auction_gsp_learning``): revenue of the time-averaged play over the last half of the run against
the VCG revenue (= GSP at the lower-bound equilibrium of Edelman, Ostrovsky and Schwarz, AER 2007)
and Varian's upper SNE bound (IJIO 2007), the share of copies inside that band, efficiency and the
largest regret, one row per mechanism (means over seeds).

    coopsim run experiments/specs/auction_gsp_band.toml --workers 2
    python experiments/position_auctions/gsp_learning.py results/auction_gsp_band
"""

from __future__ import annotations

import sys

import pandas as pd

from coopsim import plotting, runner


def main(folder: str = "results/auction_gsp_band") -> pd.DataFrame:
    last = plotting.final_values(runner.load(folder), ["function.mechanism"])
    out = last.drop(columns="replicate").groupby("function.mechanism").mean()
    print(out.to_string(float_format=lambda v: f"{v:.4f}"))
    return out


if __name__ == "__main__":
    main(*sys.argv[1:])
