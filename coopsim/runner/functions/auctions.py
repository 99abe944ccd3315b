"""Unit functions of the position-auction experiments."""

from __future__ import annotations

import numpy as np

from coopsim.runner.functions._common import Out as _Out
from coopsim.runner.functions._common import one as _one
from coopsim.runner.units import register_function


@register_function(
    "aigc_comparison",
    params=("click_model", "cascade", "continuation", "K", "n_agents", "n_slots", "ctr_low", "ctr_high", "decay"),
)
def aigc_comparison(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """VCG under the true click model (``aigc_vcg``, at most ``K`` ads) against GSP on the separable
    approximation of the CTRs (at most ``K`` slots), both at truthful bids on the same ``batch``
    instances ``p_ij ~ U[ctr_low, ctr_high] decay^j``, values U[0, 1].

    Parameters: ``click_model`` ("additive", "mnl", "cascade"), ``cascade``, ``continuation``, ``K``,
    ``n_agents`` (6), ``n_slots`` (4), ``ctr_low`` (0.05), ``ctr_high`` (0.5), ``decay`` (0.8).
    Metrics ``welfare_<m>``, ``efficiency_<m>`` (welfare / optimum with at most K ads), ``revenue_<m>``
    for m in (vcg, gsp), means over the instances.
    """
    from coopsim.envs.position_auction import PositionAuction

    cm = params.get("click_model", "additive")
    ctr = {
        "low": float(params.get("ctr_low", 0.05)),
        "high": float(params.get("ctr_high", 0.5)),
        "decay": float(params.get("decay", 0.8)),
    }
    if cm == "cascade":
        ctr["cascade"] = params.get("cascade", "stop")
        if ctr["cascade"] == "continuation":
            ctr["continuation"] = float(params.get("continuation", 0.8))
    K = int(params.get("K", 2))
    common = dict(
        n_agents=int(params.get("n_agents", 6)),
        n_slots=int(params.get("n_slots", 4)),
        ctr="aigc",
        click_model=cm,
        ctr_params=ctr,
        reference_metrics=False,
    )
    vcg = PositionAuction(mechanism="aigc_vcg", mechanism_params={"max_ads": K}, **common)
    gsp = PositionAuction(mechanism="gsp", mechanism_params={"max_slots": K}, **common)
    types = vcg.sample_types(np.random.default_rng(seed_sequence), batch)
    opt = vcg.optimum(types)["welfare"]
    out = {}
    for name, game in (("vcg", vcg), ("gsp", gsp)):
        m = game.metrics(types, game.play(types, game.truthful_actions(types)))
        out[f"welfare_{name}"] = m["welfare"].mean()
        out[f"efficiency_{name}"] = np.where(opt > 0, m["welfare"] / np.where(opt > 0, opt, 1.0), 1.0).mean()
        out[f"revenue_{name}"] = m["revenue"].mean()
    return _one(out)
