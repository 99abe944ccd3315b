"""Fuzz: bad inputs to the auction family are refused by name (see ``tests/fuzzing.py``).

Covers the ``PositionAuction`` and ``MultiItemAuction`` games, every registered auction mechanism
(constructor options and calls on bids, CTRs, qualities and positions), Myerson's distributions
and ironing, the equilibrium helpers and the learned mechanisms (weights files and bids).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
from coopsim.envs.multi_item_auction import MultiItemAuction
from coopsim.envs.position_auction import PositionAuction
from coopsim.mechanisms import auctions as au
from coopsim.mechanisms import get as get_mechanism
from coopsim.mechanisms.auctions import equilibria as eq
from coopsim.mechanisms.auctions import myerson as my
from coopsim.mechanisms.learned import MyersonNetAuction, RegretNetAuction, RochetNetMenu
from fuzzing import (
    Case,
    array_cases,
    bad_name,
    choice_case,
    flag_case,
    not_a_number,
    refusal_test,
    scalar_cases,
    small_budget,
)
from hypothesis import strategies as st

RNG = np.random.default_rng(0)
GAME = PositionAuction(n_agents=3, n_slots=2, mechanism="gsp")
TYPES = np.array([[0.9, 0.5, 0.2], [0.3, 0.6, 0.1]])
GRID = np.linspace(0.0, 1.0, 3)
BIDS = np.array([[0.9, 0.5, 0.2], [0.3, 0.6, 0.1]])
CTR = np.array([[0.5, 0.3], [0.4, 0.2], [0.3, 0.1]])
QUALITY = np.array([1.0, 0.8, 0.6])
POSITION = np.array([0.5, 0.25])
ALPHA = np.array([0.5, 0.3])
RESULT = au.GSP()(BIDS, CTR)
IRONED = my.ironed_virtual_value("uniform")
HUGE = np.broadcast_to(TYPES[0], (10**6, 3))  # a view: 24 bytes of memory, 24 MB if copied
MULTI = MultiItemAuction(n_agents=2, n_items=2)
MRESULT = MULTI.mechanism(np.full((2, 2, 2), 0.5))
MTYPES = np.full((2, 2, 2), 0.5)

#: every registered position-auction mechanism, built with valid arguments
SEPARABLE = {"GSP": au.GSP, "VCG": au.VCG, "GFP": au.GFP, "FirstPrice": au.FirstPrice, "SecondPrice": au.SecondPrice}
CALLABLE: dict[str, Any] = {
    **{name: cls() for name, cls in SEPARABLE.items()},
    "AIGCVCG": au.AIGCVCG(),
    "Myerson": au.Myerson(),
}
NETS = {"RegretNetAuction": RegretNetAuction, "RochetNetMenu": RochetNetMenu, "MyersonNetAuction": MyersonNetAuction}


def _pa(**kw: Any) -> PositionAuction:
    return PositionAuction(n_agents=3, n_slots=2, **kw)


def _game_cases() -> list[Case]:
    dev = "PositionAuction.deviation_utilities"
    return [
        *array_cases("PositionAuction.play", "types", lambda v: GAME.play(v, BIDS), TYPES, lo=0.0, hi=1.0),
        *array_cases("PositionAuction.play", "actions", lambda v: GAME.play(TYPES, v), BIDS, lo=0.0, hi=1.0),
        *array_cases(dev, "types", lambda v: GAME.deviation_utilities(v, BIDS, GRID), TYPES, lo=0.0, hi=1.0),
        *array_cases(dev, "actions", lambda v: GAME.deviation_utilities(TYPES, v, GRID), BIDS, lo=0.0, hi=1.0),
        *array_cases(
            dev, "candidates", lambda v: GAME.deviation_utilities(TYPES, BIDS, v), GRID, lo=0.0, hi=1.0, shape=False
        ),
        Case(dev, "candidates", "huge", lambda d: small_budget(GAME.deviation_utilities, TYPES, BIDS, np.zeros(10**5))),
        Case("PositionAuction.play", "types", "huge_batch", lambda d: small_budget(GAME.play, HUGE, HUGE)),
        *array_cases("PositionAuction.optimum", "types", GAME.optimum, TYPES, lo=0.0, hi=1.0, shape=False),
        Case("PositionAuction.optimum", "types", "wrong_n_agents", lambda d: GAME.optimum(TYPES[:, :2])),
        *array_cases(
            "PositionAuction.metrics",
            "types",
            lambda v: GAME.metrics(v, GAME.play(TYPES, BIDS)),
            TYPES,
            lo=0.0,
            hi=1.0,
            shape=False,
        ),
        Case(
            "PositionAuction.metrics",
            "outcome",
            "not_an_outcome",
            lambda d: GAME.metrics(TYPES, d.draw(not_a_number())),
        ),
        *scalar_cases(
            "PositionAuction.sample_types",
            "batch",
            lambda v: GAME.sample_types(RNG, v),
            lo=1,
            integer=True,
            size=True,
        ),
        Case(
            "PositionAuction.sample_types",
            "rng",
            "not_a_generator",
            lambda d: GAME.sample_types(d.draw(not_a_number()), 2),
        ),
        *scalar_cases("PositionAuction", "n_agents", lambda v: PositionAuction(n_agents=v), lo=1, integer=True),
        *scalar_cases("PositionAuction", "n_slots", lambda v: PositionAuction(n_slots=v), lo=0, integer=True),
        *scalar_cases("PositionAuction", "bid_max", lambda v: _pa(bid_max=v), lo=0.0, optional=True),
        *scalar_cases("PositionAuction", "shade_max", lambda v: _pa(action="shading", shade_max=v), lo=0.0),
        *scalar_cases("PositionAuction", "seed", lambda v: _pa(seed=v), lo=0, integer=True),
        choice_case("PositionAuction", "mechanism", lambda v: _pa(mechanism=v)),
        Case(
            "PositionAuction",
            "mechanism",
            "wrong_family",
            lambda d: _pa(mechanism=d.draw(st.sampled_from(["median", "uniform_phantom", "quadratic", "no_gate"]))),
        ),
        Case("PositionAuction", "mechanism", "not_callable", lambda d: _pa(mechanism=d.draw(not_a_number()))),
        Case(
            "PositionAuction",
            "mechanism_params",
            "unknown_key",
            lambda d: _pa(mechanism="gsp", mechanism_params={d.draw(bad_name()): 1}),
        ),
        Case(
            "PositionAuction",
            "mechanism_params",
            "not_a_dict",
            lambda d: _pa(mechanism="gsp", mechanism_params=d.draw(st.sampled_from([[1, 2], "reserve=1", 3]))),
        ),
        choice_case("PositionAuction", "values", lambda v: _pa(values=v)),
        choice_case("PositionAuction", "ctr", lambda v: _pa(ctr=v)),
        choice_case("PositionAuction", "click_model", lambda v: _pa(click_model=v)),
        choice_case("PositionAuction", "action", lambda v: _pa(action=v)),
        choice_case("PositionAuction", "utility", lambda v: _pa(utility=v)),
        flag_case("PositionAuction", "reference_metrics", lambda v: _pa(reference_metrics=v)),
        Case(
            "PositionAuction",
            "value_params",
            "unknown_key",
            lambda d: _pa(value_params={d.draw(bad_name()): 1.0}),
        ),
        Case(
            "PositionAuction",
            "value_params",
            "not_a_dict",
            lambda d: _pa(value_params=d.draw(st.sampled_from([[1, 2], "lo=1", 3]))),
        ),
        Case(
            "PositionAuction",
            "ctr_params",
            "not_a_dict",
            lambda d: _pa(ctr_params=d.draw(st.sampled_from([[1, 2], "decay=1", 3]))),
        ),
        *scalar_cases("PositionAuction", "value_params.hi", lambda v: _pa(value_params={"hi": v}), lo=0.0),
        *scalar_cases(
            "PositionAuction[lognormal]",
            "value_params.sigma",
            lambda v: _pa(values="lognormal", value_params={"sigma": v}),
            lo=0.0,
        ),
        *scalar_cases("PositionAuction", "ctr_params.decay", lambda v: _pa(ctr_params={"decay": v}), lo=0.0, hi=1.0),
        *array_cases(
            "PositionAuction",
            "ctr_params.position",
            lambda v: _pa(ctr_params={"position": v}),
            POSITION,
            lo=0.0,
            hi=1.0,
        ),
        *array_cases(
            "PositionAuction",
            "ctr_params.quality",
            lambda v: _pa(ctr_params={"quality": v}),
            QUALITY,
            lo=0.0,
            hi=1.0,
        ),
        *array_cases(
            "PositionAuction[fixed]",
            "value_params.profile",
            lambda v: _pa(values="fixed", value_params={"profile": v}),
            np.array([0.9, 0.5, 0.2]),
            lo=0.0,
        ),
        *array_cases(
            "PositionAuction[fixed ctr]",
            "ctr_params.matrix",
            lambda v: _pa(ctr="fixed", ctr_params={"matrix": v}),
            CTR,
            lo=0.0,
            hi=1.0,
        ),
        *array_cases("PositionAuction", "bid_grid", lambda v: _pa(bid_grid=v), GRID, lo=0.0, hi=1.0, shape=False),
    ]


def _mechanism_cases() -> list[Case]:
    cases: list[Case] = []
    for name, cls in SEPARABLE.items():
        cases += [
            *scalar_cases(name, "reserve", lambda v, c=cls: c(reserve=v), lo=0.0),
            choice_case(name, "billing", lambda v, c=cls: c(billing=v)),
            choice_case(name, "tie_break", lambda v, c=cls: c(tie_break=v)),
            *scalar_cases(name, "seed", lambda v, c=cls: c(seed=v), lo=0, integer=True, optional=True),
        ]
    cases += [
        *scalar_cases("GSP", "max_slots", lambda v: au.GSP(max_slots=v), lo=0, integer=True, optional=True),
        Case("GSP.__call__", "max_slots", "more_than_positions", lambda d: au.GSP(max_slots=5)(BIDS, CTR)),
        choice_case("GSP", "rank_by", lambda v: au.GSP(rank_by=v)),
        choice_case("FirstPrice", "rank_by", lambda v: au.FirstPrice(rank_by=v)),
    ]
    for name, mech in CALLABLE.items():
        cases += [
            *array_cases(
                f"{name}.__call__",
                "bids",
                lambda v, m=mech: m(v, CTR),
                BIDS,
                lo=0.0,
                shape=False,
                dtypes=("bool", "str"),
            ),
            Case(f"{name}.__call__", "bids", "rank_3", lambda d, m=mech: m(BIDS[None], CTR)),
            # any number of positions is valid: the wrong shapes are a wrong number of bidders or rank
            *array_cases(
                f"{name}.__call__",
                "ctr",
                lambda v, m=mech: m(BIDS, v),
                CTR,
                lo=0.0,
                hi=1.0,
                shape=False,
                dtypes=("complex",),
            ),
            Case(f"{name}.__call__", "ctr", "wrong_n_bidders", lambda d, m=mech: m(BIDS, CTR[:2])),
            Case(f"{name}.__call__", "ctr", "rank_1", lambda d, m=mech: m(BIDS, CTR[0])),
        ]
    for name in ("GSP", "VCG", "GFP", "Myerson"):
        mech = CALLABLE[name]
        cases += [
            *array_cases(
                f"{name}.__call__",
                "quality",
                lambda v, m=mech: m(BIDS, quality=v, position=POSITION),
                QUALITY,
                lo=0.0,
                dtypes=("object",),
            ),
            *array_cases(
                f"{name}.__call__",
                "position",
                lambda v, m=mech: m(BIDS, quality=QUALITY, position=v),
                POSITION,
                lo=0.0,
                hi=1.0,
                shape=False,
                dtypes=("str",),
            ),
        ]
    cases += [
        # values of one bidder row (n,) broadcast over the batch: the wrong shapes are explicit
        *array_cases(
            "AuctionResult.utility",
            "values",
            RESULT.utility,
            TYPES,
            lo=0.0,
            shape=False,
            dtypes=("str", "object", "complex"),
        ),
        Case("AuctionResult.utility", "values", "wrong_n_bidders", lambda d: RESULT.utility(TYPES[:, :2])),
        Case("AuctionResult.utility", "values", "extra_axis", lambda d: RESULT.utility(TYPES[None].repeat(2, 0))),
        *array_cases("AuctionResult.welfare", "values", RESULT.welfare, TYPES, lo=0.0, shape=False, dtypes=("bool",)),
        Case(
            "AuctionResult.sample_clicks",
            "rng",
            "not_a_generator",
            lambda d: RESULT.sample_clicks(d.draw(not_a_number())),
        ),
        *array_cases("MultiItemResult.utility", "values", MRESULT.utility, MTYPES, lo=0.0, dtypes=("str",)),
        Case(
            "GSP.__call__",
            "rng",
            "not_a_generator",
            lambda d: au.GSP(tie_break="random")(BIDS, CTR, rng=d.draw(not_a_number(allow_none=False))),
        ),
        Case(
            "GSP.__call__",
            "quality",
            "product_above_1",
            lambda d: au.GSP()(BIDS, quality=[3.0, 1.0, 1.0], position=POSITION),
        ),
        # AIGC VCG options and its extra inputs
        choice_case("AIGCVCG", "click_model", lambda v: au.AIGCVCG(click_model=v)),
        choice_case("AIGCVCG", "cascade", lambda v: au.AIGCVCG(cascade=v)),
        choice_case("AIGCVCG", "order", lambda v: au.AIGCVCG(order=v)),
        choice_case("AIGCVCG", "solver", lambda v: au.AIGCVCG(solver=v)),
        choice_case("AIGCVCG", "billing", lambda v: au.AIGCVCG(billing=v)),
        *scalar_cases("AIGCVCG", "max_ads", lambda v: au.AIGCVCG(max_ads=v), lo=0, integer=True, optional=True),
        *scalar_cases("AIGCVCG", "outside", lambda v: au.AIGCVCG(outside=v), lo=0.0),
        *scalar_cases("AIGCVCG", "reserve", lambda v: au.AIGCVCG(reserve=v), lo=0.0),
        Case("AIGCVCG.__call__", "max_ads", "more_than_positions", lambda d: au.AIGCVCG(max_ads=5)(BIDS, CTR)),
        Case("AIGCVCG.__call__", "ctr", "missing", lambda d: au.AIGCVCG()(BIDS)),
        # exponential exact solvers past their reach, and batches past the memory budget
        Case(
            "AIGCVCG[brute].__call__",
            "solver",
            "too_many_matchings",
            lambda d: au.AIGCVCG(solver="brute")(np.ones((1, 12)), np.full((12, 6), 0.1)),
        ),
        Case(
            "AIGCVCG[cascade].__call__",
            "ctr",
            "too_many_positions",
            lambda d: au.AIGCVCG(click_model="cascade", max_ads=2)(np.ones((1, 3)), np.full((3, 40), 0.1)),
        ),
        Case(
            "AIGCVCG[cascade fixed].__call__",
            "bids",
            "too_many_ads",
            lambda d: au.AIGCVCG(click_model="cascade", order="fixed")(np.ones((1, 40)), np.full((40, 2), 0.1)),
        ),
        Case(
            "AIGCVCG.__call__",
            "bids",
            "huge_batch",
            lambda d: small_budget(au.AIGCVCG(), np.broadcast_to(BIDS[0], (10**6, 3)), CTR),
        ),
        Case(
            "GSP.__call__",
            "bids",
            "huge_batch",
            lambda d: small_budget(au.GSP(), np.broadcast_to(BIDS[0], (10**6, 3)), CTR),
        ),
        *array_cases(
            "AIGCVCG.optimum",
            "values",
            lambda v: au.AIGCVCG().optimum(v, CTR),
            BIDS,
            lo=0.0,
            shape=False,
            dtypes=("str",),
        ),
        *array_cases(
            "AIGCVCG[cascade].__call__",
            "cont",
            lambda v: au.AIGCVCG(click_model="cascade", cascade="continuation")(BIDS, CTR, cont=v),
            CTR,
            lo=0.0,
            hi=1.0,
            dtypes=("bool",),
        ),
        *array_cases(
            "AIGCVCG[mnl].__call__",
            "weights",
            lambda v: au.AIGCVCG(click_model="mnl")(BIDS, CTR, weights=v),
            CTR,
            lo=0.0,
            dtypes=("str",),
        ),
        # Myerson: options and distributions
        choice_case("Myerson", "click_model", lambda v: au.Myerson(click_model=v)),
        choice_case("Myerson", "billing", lambda v: au.Myerson(billing=v)),
        *scalar_cases("Myerson", "max_ads", lambda v: au.Myerson(max_ads=v), lo=0, integer=True, optional=True),
        *scalar_cases("Myerson", "grid", lambda v: au.Myerson(grid=v), lo=11, integer=True, size=True),
        Case("Myerson", "distribution", "unknown_kind", lambda d: au.Myerson(distribution=d.draw(bad_name()))),
        Case(
            "Myerson",
            "distribution",
            "unknown_key",
            lambda d: au.Myerson(distribution={"kind": "uniform", d.draw(bad_name()): 1.0}),
        ),
        Case(
            "Myerson", "distribution", "not_a_distribution", lambda d: au.Myerson(distribution=d.draw(not_a_number()))
        ),
        *array_cases(
            "Myerson",
            "distribution",
            lambda v: au.Myerson(distribution=v),
            np.array([0.1, 0.4, 0.9]),
            lo=0.0,
            shape=False,
            dtypes=("str", "object"),
        ),
        Case(
            "Myerson.__call__",
            "distribution",
            "per_bidder_count",
            lambda d: au.Myerson(distribution=[my.Uniform(), my.Uniform()])(BIDS, CTR),
        ),
        *scalar_cases("Uniform", "lo", lambda v: my.Uniform(lo=v), lo=0.0),
        *scalar_cases("Uniform", "hi", lambda v: my.Uniform(lo=0.5, hi=v), lo=0.5),
        *scalar_cases("Exponential", "rate", lambda v: my.Exponential(rate=v), lo=0.0),
        *scalar_cases("LogNormal", "mu", lambda v: my.LogNormal(mu=v)),
        *scalar_cases("LogNormal", "sigma", lambda v: my.LogNormal(sigma=v), lo=0.0),
        *scalar_cases("Fixed", "value", lambda v: my.Fixed(value=v), lo=0.0),
        *array_cases("Empirical", "samples", my.Empirical, np.array([0.1, 0.4, 0.9]), lo=0.0, shape=False),
        Case("Empirical", "samples", "one_sample", lambda d: my.Empirical([0.5])),
        Case(
            "make_distribution",
            "distribution",
            "unknown_kind",
            lambda d: my.make_distribution({"kind": d.draw(bad_name())}),
        ),
        Case("make_distribution", "distribution", "not_a_spec", lambda d: my.make_distribution(d.draw(not_a_number()))),
        *scalar_cases(
            "ironed_virtual_value",
            "grid",
            lambda v: my.ironed_virtual_value("uniform", grid=v),
            lo=11,
            integer=True,
            size=True,
        ),
        flag_case("IronedVirtualValue.inverse", "strict", lambda v: IRONED.inverse(0.0, v)),
        flag_case(
            "ironed_virtual_value", "force_numeric", lambda v: my.ironed_virtual_value("uniform", force_numeric=v)
        ),
        *array_cases("virtual_value", "v", lambda v: my.virtual_value(my.Uniform(), v), GRID, lo=0.0, shape=False),
        Case("myerson_reserve", "distribution", "unknown_kind", lambda d: my.myerson_reserve(d.draw(bad_name()))),
        # unilateral gains
        *array_cases(
            "unilateral_gains",
            "grid",
            lambda v: au.unilateral_gains(au.GSP(), TYPES, BIDS, v, ctr=CTR),
            GRID,
            lo=0.0,
            shape=False,
        ),
        *array_cases(
            "unilateral_gains",
            "values",
            lambda v: au.unilateral_gains(au.GSP(), v, BIDS, GRID, ctr=CTR),
            TYPES,
            lo=0.0,
            dtypes=("str",),
        ),
        Case(
            "unilateral_gains",
            "mech",
            "wrong_family",
            lambda d: au.unilateral_gains(get_mechanism("median"), TYPES, BIDS, GRID, ctr=CTR),
        ),
    ]
    return cases


def _equilibria_cases() -> list[Case]:
    cases: list[Case] = []
    for fn in ("eos_bids", "varian_upper_bids", "vcg_slot_payments"):
        f = getattr(eq, fn)
        cases += [
            *array_cases(fn, "values", lambda v, f=f: f(v, ALPHA), BIDS, lo=0.0, shape=False),
            *array_cases(fn, "alpha", lambda v, f=f: f(BIDS, v), ALPHA, lo=0.0, shape=False, dtypes=("bool", "str")),
            Case(fn, "alpha", "increasing", lambda d, f=f: f(BIDS, ALPHA[::-1])),
            Case(fn, "values", "rank_3", lambda d, f=f: f(BIDS[None], ALPHA)),
        ]
    cases += [
        *array_cases(
            "gsp_equilibrium_check", "bids", lambda v: eq.gsp_equilibrium_check(TYPES, v, ALPHA), BIDS, lo=0.0
        ),
        choice_case(
            "gsp_equilibrium_check", "tie_break", lambda v: eq.gsp_equilibrium_check(TYPES, BIDS, ALPHA, tie_break=v)
        ),
        flag_case(
            "gsp_equilibrium_check", "symmetric", lambda v: eq.gsp_equilibrium_check(TYPES, BIDS, ALPHA, symmetric=v)
        ),
        *scalar_cases(
            "gsp_equilibrium_check", "tol", lambda v: eq.gsp_equilibrium_check(TYPES, BIDS, ALPHA, tol=v), lo=0.0
        ),
        *array_cases(
            "first_price_bne_bid", "values", lambda v: eq.first_price_bne_bid(v, 3), TYPES, lo=0.0, hi=1.0, shape=False
        ),
        *scalar_cases("first_price_bne_bid", "n", lambda v: eq.first_price_bne_bid(TYPES, v), lo=1, integer=True),
        *scalar_cases("first_price_bne_bid", "lo", lambda v: eq.first_price_bne_bid(TYPES, 3, lo=v, hi=1.0)),
        Case("first_price_bne_bid", "hi", "below_lo", lambda d: eq.first_price_bne_bid(TYPES, 3, lo=0.5, hi=0.2)),
        *scalar_cases("first_price_bne_revenue", "n", eq.first_price_bne_revenue, lo=1, integer=True),
        *scalar_cases("myerson_uniform_revenue", "n", eq.myerson_uniform_revenue, lo=1, integer=True),
    ]
    return cases


def _learned_cases(tmp_dir: str) -> list[Case]:
    not_npz = os.path.join(tmp_dir, "not_weights.npz")
    with open(not_npz, "w") as fh:
        fh.write("this is not a zip archive\n")
    missing = os.path.join(tmp_dir, "missing.npz")
    cases: list[Case] = []
    for name, cls in NETS.items():
        cases += [
            Case(name, "weights", "missing_file", lambda d, c=cls: c(weights=missing)),
            Case(name, "weights", "not_npz", lambda d, c=cls: c(weights=not_npz)),
            Case(
                name,
                "weights",
                "not_a_path",
                lambda d, c=cls: c(weights=d.draw(st.sampled_from([1, 2.5, True, [1], b"x"]))),
            ),
        ]
    other = os.path.join(os.path.dirname(au.__file__), "..", "data", "rochetnet_2items.npz")
    cases.append(Case("RegretNetAuction", "weights", "other_kind", lambda d: RegretNetAuction(weights=other)))
    regret, rochet, mnet = RegretNetAuction(), RochetNetMenu(), MyersonNetAuction()
    cases += [
        # any batch size is valid: the wrong shapes are a wrong number of bidders or items
        *array_cases("RegretNetAuction.__call__", "bids", regret, MTYPES, lo=0.0, hi=1.0, shape=False),
        Case("RegretNetAuction.__call__", "bids", "three_items", lambda d: regret(np.full((2, 2, 3), 0.5))),
        *array_cases("RochetNetMenu.__call__", "bids", rochet, np.full((2, 1, 2), 0.5), lo=0.0, shape=False),
        Case("RochetNetMenu.__call__", "bids", "two_bidders", lambda d: rochet(np.full((2, 2, 2), 0.5))),
        *array_cases(
            "MyersonNetAuction.__call__", "bids", lambda v: mnet(v, CTR[:2, :1]), BIDS[:, :2], lo=0.0, shape=False
        ),
        Case("MyersonNetAuction.__call__", "bids", "three_bidders", lambda d: mnet(BIDS, CTR[:, :1])),
        *array_cases(
            "MyersonNetAuction.inverse_virtual_values",
            "y",
            mnet.inverse_virtual_values,
            BIDS[:, :2],
            lo=None,
            shape=False,
            dtypes=("str", "bool"),
        ),
        Case(
            "MyersonNetAuction.inverse_virtual_values",
            "y",
            "three_bidders",
            lambda d: mnet.inverse_virtual_values(BIDS),
        ),
        *scalar_cases("MultiItemAuction.action_grid", "grid", MULTI.action_grid, lo=1, integer=True, size=True),
        *scalar_cases("PositionAuction.action_grid", "k", GAME.action_grid, lo=1, integer=True, size=True),
        *array_cases(
            "AIGCVCG.allocation_rule",
            "ctr",
            au.AIGCVCG().allocation_rule,
            CTR,
            lo=0.0,
            hi=1.0,
            shape=False,
            dtypes=("str", "object"),
        ),
        Case("MyersonNetAuction.__call__", "ctr", "two_slots", lambda d: mnet(BIDS[:, :2], CTR[:2])),
        choice_case("MyersonNetAuction", "billing", lambda v: MyersonNetAuction(billing=v)),
        # the multi-item game
        *array_cases("MultiItemAuction.play", "types", lambda v: MULTI.play(v, MTYPES), MTYPES, lo=0.0, hi=1.0),
        *array_cases("MultiItemAuction.play", "actions", lambda v: MULTI.play(MTYPES, v), MTYPES, lo=0.0, hi=1.0),
        *scalar_cases(
            "MultiItemAuction.sample_types",
            "batch",
            lambda v: MULTI.sample_types(RNG, v),
            lo=1,
            integer=True,
            size=True,
        ),
        Case(
            "MultiItemAuction.sample_types",
            "rng",
            "not_a_generator",
            lambda d: MULTI.sample_types(d.draw(not_a_number()), 2),
        ),
        *array_cases("MultiItemAuction.optimum", "types", MULTI.optimum, MTYPES, lo=0.0, hi=1.0, shape=False),
        *scalar_cases("MultiItemAuction", "n_agents", lambda v: MultiItemAuction(n_agents=v), lo=1, integer=True),
        *scalar_cases("MultiItemAuction", "n_items", lambda v: MultiItemAuction(n_items=v), lo=1, integer=True),
        choice_case("MultiItemAuction", "mechanism", lambda v: MultiItemAuction(mechanism=v)),
        Case(
            "MultiItemAuction",
            "mechanism",
            "wrong_family",
            lambda d: MultiItemAuction(mechanism=d.draw(st.sampled_from(["median", "quadratic"]))),
        ),
        Case("MultiItemAuction", "mechanism", "other_size", lambda d: MultiItemAuction(n_agents=3)),
        Case(
            "MultiItemAuction",
            "mechanism_params",
            "unknown_key",
            lambda d: MultiItemAuction(mechanism_params={d.draw(bad_name()): 1}),
        ),
        choice_case("MultiItemAuction", "values", lambda v: MultiItemAuction(values=v)),
        Case(
            "MultiItemAuction",
            "value_params",
            "unknown_key",
            lambda d: MultiItemAuction(value_params={d.draw(bad_name()): 1.0}),
        ),
        *scalar_cases(
            "MultiItemAuction", "value_params.high", lambda v: MultiItemAuction(value_params={"high": v}), lo=0.0
        ),
        Case(
            "MultiItemAuction",
            "sampler",
            "not_callable",
            lambda d: MultiItemAuction(sampler=d.draw(st.sampled_from([1, "uniform", [1]]))),
        ),
    ]
    return cases


def _tmp_dir() -> str:
    """A fixed folder under the system temp dir for the bad weights files (shared by xdist workers)."""
    path = os.path.join(tempfile.gettempdir(), "coopsim_fuzz_weights")
    os.makedirs(path, exist_ok=True)
    return path


CASES: list[Case] = [
    *_game_cases(),
    *_mechanism_cases(),
    *_equilibria_cases(),
    *_learned_cases(_tmp_dir()),
]


test_bad_input_refused = refusal_test(CASES)
