"""Unit functions of the position-auction experiments."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coopsim.runner.functions._common import Out as _Out
from coopsim.runner.functions._common import one as _one
from coopsim.runner.functions._common import standard_error
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
    for m in (vcg, gsp), means over the instances, and the standard error of each (``<metric>_se``).
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
        eff = np.where(opt > 0, m["welfare"] / np.where(opt > 0, opt, 1.0), 1.0)
        for key, x in (("welfare", m["welfare"]), ("efficiency", eff), ("revenue", m["revenue"])):
            out[f"{key}_{name}"] = x.mean()
            out[f"{key}_{name}_se"] = standard_error(x)
    return _one(out)


# ----------------------------------------------------------------------------------------------
# learning bidders on a shading grid (Feng, Guruganesh, Liaw, Mehta and Sethi, AAAI 2021)
# ----------------------------------------------------------------------------------------------
def grid_utilities(grid: np.ndarray, n: int, explore: float = 0.0, n_quad: int = 4000) -> np.ndarray:
    """Expected first-price utility ``U[a, b]`` (K, K) of factor ``grid[a]`` against n-1 opponents at ``grid[b]``.

    Values i.i.d. U[0,1]; a bidder with value v and factor a beats an opponent with factor b > 0
    with probability w(a v, b) = min(1, a v / b) (b = 0 loses to any positive bid). Each opponent
    plays b with probability 1 - explore and a uniform grid factor otherwise (EXP3's forced
    exploration), so U[a, b] = (1 - a) E_v[v ((1 - explore) w(a v, b) + explore mean_b' w(a v, b'))^(n-1)]
    (midpoint quadrature in v with ``n_quad`` nodes).
    """
    v = (np.arange(n_quad) + 0.5) / n_quad
    a = grid[:, None, None]
    b = grid[None, :, None]
    w = np.where(b > 0, np.minimum(1.0, a * v / np.where(b > 0, b, 1.0)), 1.0)  # (K, K, n_quad)
    w = (1.0 - explore) * w + explore * w.mean(axis=1, keepdims=True)
    return (1.0 - a[..., 0]) * (v * w ** (n - 1)).mean(-1)


def grid_equilibria(grid: np.ndarray, n: int, explore: float = 0.0) -> np.ndarray:
    """Symmetric pure equilibria of the single-factor first-price game on ``grid``: the factors
    b > 0 with U[b, b] = max_a U[a, b] (:func:`grid_utilities`, opponents exploring w.p. ``explore``)."""
    U = grid_utilities(grid, n, explore)
    j = np.arange(len(grid))
    ok = (U[j, j] >= U.max(axis=0) - 1e-12) & (grid > 0)
    return grid[ok]


def shading_grid(grid_step: float | None = 0.01, grid_points: int | None = None) -> np.ndarray:
    """``grid_points`` K (``linspace(0, 1, K)``) when given, else ``0, h, 2h, ..., 1`` for ``grid_step`` h."""
    if grid_points:
        return np.linspace(0.0, 1.0, int(grid_points))
    return np.round(np.arange(0.0, 1.0 + 1e-9, float(grid_step or 0.01)), 10)


def tail_average_policy(res: Any, tail: float) -> np.ndarray:
    """Average policy (B, N, K) over the last ``tail`` of the rounds, from the cumulative snapshots."""
    snaps = res.policy_snapshots  # (R, B, N, K) cumulative averages
    T = res.rounds
    t_end = T[-1]
    k0 = int(np.searchsorted(T, (1 - tail) * t_end))
    t0 = T[k0 - 1] if k0 > 0 else 0
    s0 = snaps[k0 - 1] if k0 > 0 else 0.0
    return (t_end * snaps[-1] - t0 * s0) / (t_end - t0)


def _share_in(modes: np.ndarray, points: np.ndarray) -> float:
    return float(np.isclose(modes[:, None], points[None, :]).any(-1).mean()) if len(points) else 0.0


@register_function(
    "auction_shading",
    params=(
        "mechanism",
        "n_agents",
        "n_slots",
        "learner",
        "learner_params",
        "feedback",
        "grid_step",
        "grid_points",
        "tail",
    ),
)
def auction_shading(params, seed_sequence, rounds, batch, record_every) -> pd.DataFrame:
    """Learning bidders choose one shading factor s (bid = s v, values i.i.d. U[0,1] redrawn every round).

    ``mechanism`` ("first_price"; or "second_price", "vcg" with ``n_slots`` > 1), ``n_agents`` (2),
    ``learner`` ("hedge") with ``learner_params`` (a table; ``horizon`` = rounds is filled in),
    ``feedback`` ("full" or "bandit"), the grid (:func:`shading_grid`: ``grid_step`` 0.01 or
    ``grid_points``) and ``tail`` (0.5): statistics use the time-averaged policy over the last
    ``tail`` of the rounds. Forty record points (``record_every`` is not used).

    Metrics: ``revenue`` at every record point (window mean over copies); at the last round, per copy
    and then mean with its standard error ``<metric>_se`` over the ``batch`` copies: ``factor`` (mean
    factor of the tail-average policy), ``mode`` (its modal factor), ``last_factor`` (of the last
    policy), ``revenue_tail`` (revenue over the tail), ``policy_max`` (largest probability of the
    last policy); the targets ``factor_target`` ((n-1)/n in first price, else 1) and
    ``revenue_target`` ((n-1)/(n+1), single slot); for first price ``in_grid_ne`` (share of copies
    whose mode is a symmetric pure equilibrium of the grid game, :func:`grid_equilibria`) and, for
    EXP3 with a fixed ``gamma``, ``in_grid_ne_explore`` (the grid game with forced exploration).
    """
    from coopsim import agents, dynamics
    from coopsim.envs.position_auction import PositionAuction
    from coopsim.mechanisms.auctions import first_price_bne_revenue

    mech, n = str(params.get("mechanism", "first_price")), int(params.get("n_agents", 2))
    slots, learner = int(params.get("n_slots", 1)), str(params.get("learner", "hedge"))
    lparams = dict(params.get("learner_params", {}))
    grid = shading_grid(params.get("grid_step", 0.01), params.get("grid_points"))
    tail = float(params.get("tail", 0.5))
    game = PositionAuction(n_agents=n, n_slots=slots, mechanism=mech, action="shading", reference_metrics=False)
    lrn = agents.get(learner, n_actions=len(grid), utility_range=game.utility_range, horizon=rounds, **lparams)
    res = dynamics.run(
        game,
        lrn,
        rounds=rounds,
        batch=batch,
        seed=seed_sequence,
        feedback=params.get("feedback", "full"),
        grid=grid,
        redraw="round",
        record_every=max(rounds // 40, 1),
        swap_regret=False,
        snapshots=True,
    )
    pol = tail_average_policy(res, tail)  # (B, N, K)
    k0 = int(np.searchsorted(res.rounds, (1 - tail) * res.rounds[-1]))
    per_copy = {
        "factor": (pol * grid).sum(-1).mean(axis=1),
        "mode": grid[pol.mean(axis=1).argmax(-1)],
        "last_factor": (res.policy * grid).sum(-1).mean(axis=1),
        "revenue_tail": res["revenue"][k0:].mean(axis=0),
        "policy_max": res.policy.max(axis=-1).mean(axis=1),
    }
    last: dict[str, float] = {}
    for key, x in per_copy.items():
        last[key], last[f"{key}_se"] = float(x.mean()), float(standard_error(x))
    first = mech == "first_price"
    last["factor_target"] = (n - 1) / n if first else 1.0
    last["revenue_target"] = first_price_bne_revenue(n) if slots == 1 else np.nan
    if first:
        last["in_grid_ne"] = _share_in(per_copy["mode"], grid_equilibria(grid, n))
        gamma = lparams.get("gamma")
        if learner == "exp3" and isinstance(gamma, (int, float)):  # EXP3 plays (1 - gamma) softmax + gamma uniform
            last["in_grid_ne_explore"] = _share_in(per_copy["mode"], grid_equilibria(grid, n, float(gamma)))
    curve = pd.DataFrame({"round": res.rounds, "metric": "revenue", "value": res["revenue"].mean(axis=1)})
    point = pd.DataFrame({"round": int(res.rounds[-1]), "metric": list(last), "value": list(last.values())})
    return pd.concat([curve, point], ignore_index=True)


# ----------------------------------------------------------------------------------------------
# GSP with learning bidders (Edelman, Ostrovsky and Schwarz, AER 2007; Varian, IJIO 2007)
# ----------------------------------------------------------------------------------------------
@register_function("auction_gsp_learning", params=("mechanism", "n_agents", "position", "grid_points", "tail"))
def auction_gsp_learning(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Hedge bidders (horizon-tuned rate) learn absolute bids on a ``grid_points`` grid (51) in
    ``mechanism`` ("gsp" or "vcg") with ``n_agents`` (4) and position CTRs ``position`` ([1, 0.6, 0.3]);
    values U[0,1] drawn once per copy (complete information). Twenty record points.

    Over the last ``tail`` (0.5) of the run, one recorded point at the last round: ``revenue`` (mean
    over copies) and ``revenue_se``; ``vcg_revenue`` (= GSP revenue at the EOS lower-bound
    equilibrium); ``varian_upper_revenue`` (GSP at Varian's upper SNE bids);
    ``revenue_over_vcg_median`` (median over copies of revenue / VCG revenue); ``share_in_sne_band``
    (copies with VCG <= revenue <= Varian upper); ``efficiency``; ``regret_max`` (the largest
    per-agent regret at the end).
    """
    from coopsim import agents, dynamics
    from coopsim import mechanisms as M
    from coopsim.envs.position_auction import PositionAuction
    from coopsim.mechanisms.auctions import eos_bids, varian_upper_bids

    pos = np.asarray(params.get("position", [1.0, 0.6, 0.3]), dtype=np.float64)
    mech = str(params.get("mechanism", "gsp"))
    game = PositionAuction(
        n_agents=int(params.get("n_agents", 4)),
        n_slots=len(pos),
        mechanism=mech,
        ctr_params={"position": pos},
        reference_metrics=True,
    )
    K = int(params.get("grid_points", 51))
    lrn = agents.Hedge(n_actions=K, utility_range=game.utility_range, horizon=rounds)
    res = dynamics.run(
        game,
        lrn,
        rounds=rounds,
        batch=batch,
        seed=seed_sequence,
        grid=K,
        redraw="episode",
        record_every=max(rounds // 20, 1),
        swap_regret=False,
    )
    v = res.types  # (B, N) values, fixed per copy
    k0 = int(np.searchsorted(res.rounds, (1 - float(params.get("tail", 0.5))) * res.rounds[-1]))
    rev = res["revenue"][k0:].mean(axis=0)
    gsp = M.get("gsp")
    vcg_rev = M.get("vcg")(v, position=pos).revenue
    up_rev = gsp(varian_upper_bids(v, pos), position=pos).revenue
    if not np.allclose(gsp(eos_bids(v, pos), position=pos).revenue, vcg_rev):  # EOS: GSP at B* = VCG
        raise RuntimeError("auction_gsp_learning: GSP revenue at the EOS bids differs from VCG")
    in_band = (rev >= vcg_rev - 1e-9) & (rev <= up_rev + 1e-9)
    return _one(
        {
            "revenue": rev.mean(),
            "revenue_se": standard_error(rev),
            "vcg_revenue": vcg_rev.mean(),
            "varian_upper_revenue": up_rev.mean(),
            "revenue_over_vcg_median": np.median(rev / vcg_rev),
            "share_in_sne_band": in_band.mean(),
            "efficiency": res["efficiency"][k0:].mean(axis=0).mean(),  # per copy, then over copies
            "regret_max": np.max(res["regret"][-1]),
        },
        round_=int(res.rounds[-1]),
    )
