"""GSP and VCG with Hedge bidders under complete information: revenue vs VCG and the EOS/Varian band.

Values are drawn once per copy (U[0,1]) and kept; bidders learn absolute bids on a grid with
full-information Hedge. Over the last ``tail`` of the run we report the revenue of the
time-averaged play relative to the VCG revenue (= GSP revenue at the EOS equilibrium B*), and the
share of copies whose revenue lies in [VCG, Varian upper] (the SNE revenue band; learners may also
end outside it: the band describes pure symmetric equilibria, not no-regret play).

    python gsp_learning.py [gsp_learning.toml]

Writes results/gsp_learning.csv.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
from coopsim.envs.position_auction import PositionAuction
from coopsim.mechanisms.auctions import eos_bids, varian_upper_bids

from coopsim import agents, dynamics
from coopsim import mechanisms as M

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import se, show, write_table  # noqa: E402


def main(spec_path: str) -> None:
    spec = tomllib.loads(Path(spec_path).read_text())
    pos = np.asarray(spec["position"], dtype=float)
    rows = []
    for mech in spec["mechanisms"]:
        game = PositionAuction(
            n_agents=spec["n_agents"],
            n_slots=len(pos),
            mechanism=mech,
            ctr_params={"position": pos},
            reference_metrics=True,
        )
        K = spec["grid_size"]
        lrn = agents.Hedge(n_actions=K, utility_range=game.utility_range, horizon=spec["rounds"])
        res = dynamics.run(
            game,
            lrn,
            rounds=spec["rounds"],
            batch=spec["batch"],
            seed=spec["seed"],
            grid=K,
            redraw="episode",
            record_every=max(spec["rounds"] // 20, 1),
            swap_regret=False,
        )
        v = res.types  # (B, N) fixed values
        k0 = int(np.searchsorted(res.rounds, (1 - spec["tail"]) * res.rounds[-1]))
        rev = res["revenue"][k0:].mean(axis=0)
        eff = res["efficiency"][k0:].mean(axis=0)
        gsp = M.get("gsp")
        vcg_rev = M.get("vcg")(v, position=pos).revenue
        eos_rev = gsp(eos_bids(v, pos), position=pos).revenue
        up_rev = gsp(varian_upper_bids(v, pos), position=pos).revenue
        assert np.allclose(eos_rev, vcg_rev)
        ratio = rev / vcg_rev
        in_band = (rev >= vcg_rev - 1e-9) & (rev <= up_rev + 1e-9)
        row = {
            "mechanism": mech,
            "revenue": rev.mean(),
            "revenue_se": se(rev),
            "vcg_revenue": vcg_rev.mean(),
            "varian_upper_revenue": up_rev.mean(),
            "revenue_over_vcg_median": float(np.median(ratio)),
            "share_in_sne_band": in_band.mean(),
            "efficiency": eff.mean(),
            "regret_max": float(res["regret"][-1].max()),
        }
        rows.append(row)
        show(row)
    print(write_table(rows, spec["name"]).to_string(index=False))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(HERE / "gsp_learning.toml"))
