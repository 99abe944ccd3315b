"""Fuzz: bad inputs to the facility-location family are refused by name (see ``tests/fuzzing.py``).

Covers the ``FacilityLocation`` game, every registered facility and budget mechanism (constructor
arguments and calls), the lottery API (``sample``, ``distribution``), the axioms (``satisfies``,
``check``, ``feasible_interval``), objectives and the budget-aggregation helpers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from coopsim.envs.facility_location import FacilityLocation
from coopsim.mechanisms import facility as fm
from coopsim.mechanisms.facility import (
    LRM,
    Constant,
    GeneralizedMedian,
    IndependentMarkets,
    OrderStatistic,
    PiecewiseUniform,
    RandomDictator,
    RandomRank,
    UniformPhantom,
    WelfareMaximizingPhantoms,
)
from fuzzing import (
    Case,
    array_cases,
    bad_name,
    choice_case,
    not_a_number,
    refusal_test,
    scalar_cases,
    small_budget,
)
from hypothesis import strategies as st

GAME = FacilityLocation(n_agents=3, mechanism="median")
LOTTERY_GAME = FacilityLocation(n_agents=3, mechanism="random_dictator")
TYPES = np.array([[0.1, 0.5, 0.9], [0.2, 0.3, 0.4]])
PEAKS = np.array([0.1, 0.5, 0.9])
LOC = np.array([0.5, 0.3])
RNG = np.random.default_rng(0)
VOTES = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.2, 0.4, 0.4]])
ALLOC = np.array([0.3, 0.3, 0.4])
GRID = np.linspace(0.0, 1.0, 3)

#: every registered facility mechanism, built with valid arguments (n = 3 agents)
MECHANISMS: dict[str, Any] = {
    "UniformPhantom": UniformPhantom(),
    "GeneralizedMedian": GeneralizedMedian([0.0, 0.25, 0.75, 1.0]),
    "Median": fm.Median(),
    "RightMedian": fm.RightMedian(),
    "OrderStatistic": OrderStatistic(2),
    "Leftmost": fm.Leftmost(),
    "Rightmost": fm.Rightmost(),
    "Constant": Constant(0.5),
    "IFSOptimalPhantom": fm.IFSOptimalPhantom(),
    "Average": fm.Average(),
    "Midpoint": fm.Midpoint(),
    "AverageUniformPhantom": fm.AverageUniformPhantom(),
    "RandomDictator": RandomDictator(),
    "RandomRank": RandomRank(),
    "LRM": LRM(),
}
LOTTERIES = {"RandomDictator": RandomDictator(), "RandomRank": RandomRank(), "LRM": LRM()}
BUDGET = {
    "IndependentMarkets": IndependentMarkets(),
    "WelfareMaximizingPhantoms": WelfareMaximizingPhantoms(),
    "PiecewiseUniform": PiecewiseUniform(),
}


def _call(mech: Any, reports: Any) -> Any:
    """A mechanism's location (lotteries: a sample, so that ``__call__`` itself is fuzzed)."""
    return mech(reports, RNG) if not mech.deterministic else mech(reports)


def _reports_cases() -> list[Case]:
    """Bad reports to every mechanism's ``__call__`` (and, for lotteries, ``distribution``/``sample``)."""
    cases: list[Case] = []
    for name, mech in MECHANISMS.items():
        cases += array_cases(
            f"{name}.__call__", "reports", lambda v, m=mech: _call(m, v), TYPES, lo=0.0, hi=1.0, shape=False
        )
    for name, mech in LOTTERIES.items():
        cases += array_cases(
            f"{name}.distribution", "reports", mech.distribution, TYPES, lo=0.0, hi=1.0, shape=False, dtypes=("str",)
        )
        cases.append(
            Case(f"{name}.sample", "rng", "not_a_generator", lambda d, m=mech: m.sample(TYPES, d.draw(not_a_number())))
        )
        cases.append(Case(f"{name}.__call__", "rng", "missing", lambda d, m=mech: m(TYPES)))
    # a rank that is neither (N,) nor (B, N), and an empty profile
    cases.append(Case("UniformPhantom.__call__", "reports", "rank_3", lambda d: UniformPhantom()(TYPES[None])))
    huge = np.broadcast_to(PEAKS, (10**6, 3))  # a view: 24 bytes of memory, 24 MB if copied
    cases.append(
        Case("UniformPhantom.__call__", "reports", "huge_batch", lambda d: small_budget(UniformPhantom(), huge))
    )
    cases.append(Case("LRM.distribution", "reports", "huge_batch", lambda d: small_budget(LRM().distribution, huge)))
    cases.append(Case("FacilityLocation.play", "types", "huge_batch", lambda d: small_budget(GAME.play, huge, huge)))
    cases.append(Case("UniformPhantom.__call__", "reports", "no_agent", lambda d: UniformPhantom()(np.zeros((2, 0)))))
    cases.append(
        Case("GeneralizedMedian.__call__", "reports", "wrong_n", lambda d: MECHANISMS["GeneralizedMedian"](PEAKS[:2]))
    )
    cases.append(Case("OrderStatistic.__call__", "reports", "too_few", lambda d: OrderStatistic(3)(PEAKS[:2])))
    cases.append(Case("ThresholdRule.__call__", "reports", "n_not_1", lambda d: fm.ThresholdRule()(PEAKS)))
    return cases


def _game_cases() -> list[Case]:
    dev = "FacilityLocation.deviation_utilities"
    return [
        *array_cases("FacilityLocation.play", "types", lambda v: GAME.play(v, TYPES), TYPES, lo=0.0, hi=1.0),
        *array_cases("FacilityLocation.play", "actions", lambda v: GAME.play(TYPES, v), TYPES, lo=0.0, hi=1.0),
        *array_cases(dev, "types", lambda v: GAME.deviation_utilities(v, TYPES, GRID), TYPES, lo=0.0, hi=1.0),
        *array_cases(dev, "actions", lambda v: GAME.deviation_utilities(TYPES, v, GRID), TYPES, lo=0.0, hi=1.0),
        *array_cases(
            dev, "candidates", lambda v: GAME.deviation_utilities(TYPES, TYPES, v), GRID, lo=0.0, hi=1.0, shape=False
        ),
        Case(
            dev, "candidates", "huge", lambda d: small_budget(GAME.deviation_utilities, TYPES, TYPES, np.zeros(10**5))
        ),
        Case(
            "FacilityLocation.deviation_utilities[lottery]",
            "actions",
            "batch_mismatch",
            lambda d: LOTTERY_GAME.deviation_utilities(TYPES, TYPES[:1], GRID),
        ),
        # optimum/metrics take any batch size: their wrong shapes are a wrong number of agents or rank
        *array_cases("FacilityLocation.optimum", "types", GAME.optimum, TYPES, lo=0.0, hi=1.0, shape=False),
        Case("FacilityLocation.optimum", "types", "wrong_n_agents", lambda d: GAME.optimum(TYPES[:, :2])),
        Case("FacilityLocation.optimum", "types", "rank_1", lambda d: GAME.optimum(PEAKS)),
        *array_cases(
            "FacilityLocation.metrics",
            "types",
            lambda v: GAME.metrics(v, GAME.play(TYPES, TYPES)),
            TYPES,
            lo=0.0,
            hi=1.0,
            shape=False,
        ),
        Case(
            "FacilityLocation.metrics",
            "types",
            "wrong_n_agents",
            lambda d: GAME.metrics(TYPES[:, :2], GAME.play(TYPES, TYPES)),
        ),
        Case(
            "FacilityLocation.metrics",
            "outcome",
            "other_batch",
            lambda d: GAME.metrics(TYPES[:1], GAME.play(TYPES, TYPES)),
        ),
        Case(
            "FacilityLocation.metrics",
            "outcome",
            "not_an_outcome",
            lambda d: GAME.metrics(TYPES, d.draw(not_a_number())),
        ),
        *scalar_cases(
            "FacilityLocation.sample_types", "batch", lambda v: GAME.sample_types(RNG, v), lo=1, integer=True, size=True
        ),
        Case(
            "FacilityLocation.sample_types",
            "rng",
            "not_a_generator",
            lambda d: GAME.sample_types(d.draw(not_a_number()), 2),
        ),
        Case("FacilityLocation.sample_types", "rng", "int_seed", lambda d: GAME.sample_types(0, 2)),
        *scalar_cases("FacilityLocation", "n_agents", lambda v: FacilityLocation(n_agents=v), lo=1, integer=True),
        choice_case("FacilityLocation", "mechanism", lambda v: FacilityLocation(mechanism=v)),
        Case(
            "FacilityLocation",
            "mechanism",
            "wrong_family",
            lambda d: FacilityLocation(mechanism=d.draw(st.sampled_from(["gsp", "vcg", "quadratic", "no_gate"]))),
        ),
        Case(
            "FacilityLocation",
            "mechanism",
            "wrong_family_object",
            lambda d: FacilityLocation(mechanism=IndependentMarkets()),
        ),
        Case(
            "FacilityLocation",
            "mechanism",
            "not_callable",
            lambda d: FacilityLocation(mechanism=d.draw(not_a_number())),
        ),
        Case(
            "FacilityLocation",
            "mechanism_params",
            "unknown_key",
            lambda d: FacilityLocation(mechanism="median", mechanism_params={d.draw(bad_name()): 1}),
        ),
        Case(
            "FacilityLocation",
            "mechanism_params",
            "not_a_dict",
            lambda d: FacilityLocation(
                mechanism="median", mechanism_params=d.draw(st.sampled_from([[1, 2], "k=1", 3]))
            ),
        ),
        choice_case("FacilityLocation", "types", lambda v: FacilityLocation(types=v)),
        Case(
            "FacilityLocation",
            "type_params",
            "unknown_key",
            lambda d: FacilityLocation(types="beta", type_params={d.draw(bad_name()): 1.0}),
        ),
        Case(
            "FacilityLocation",
            "type_params",
            "not_a_dict",
            lambda d: FacilityLocation(types="beta", type_params=d.draw(st.sampled_from([[1, 2], "a=1", 3]))),
        ),
        *scalar_cases(
            "FacilityLocation[beta]",
            "type_params.a",
            lambda v: FacilityLocation(types="beta", type_params={"a": v}),
            lo=0.0,
        ),
        *scalar_cases(
            "FacilityLocation[clustered]",
            "type_params.spread",
            lambda v: FacilityLocation(types="clustered", type_params={"spread": v}),
            lo=0.0,
        ),
        *array_cases(
            "FacilityLocation[clustered]",
            "type_params.centers",
            lambda v: FacilityLocation(types="clustered", type_params={"centers": v}),
            np.array([0.2, 0.8]),
            lo=0.0,
            hi=1.0,
            shape=False,
        ),
        *array_cases(
            "FacilityLocation[fixed]",
            "type_params.profile",
            lambda v: FacilityLocation(n_agents=3, types="fixed", type_params={"profile": v}),
            PEAKS,
            lo=0.0,
            hi=1.0,
        ),
    ]


def _constructor_cases() -> list[Case]:
    return [
        *array_cases(
            "GeneralizedMedian", "phantoms", GeneralizedMedian, np.array([0.25, 0.75]), lo=0.0, hi=1.0, shape=False
        ),
        Case("GeneralizedMedian", "phantoms", "one_phantom", lambda d: GeneralizedMedian([0.5])),
        Case("GeneralizedMedian", "phantoms", "matrix", lambda d: GeneralizedMedian([[0.0, 1.0]])),
        *scalar_cases(
            "GeneralizedMedian",
            "n_agents",
            lambda v: GeneralizedMedian([0.0, 0.5, 1.0], n_agents=v),
            lo=1,
            integer=True,
            optional=True,
        ),
        Case("GeneralizedMedian", "phantoms", "n_agents_mismatch", lambda d: GeneralizedMedian([0.0, 1.0], n_agents=3)),
        *scalar_cases("OrderStatistic", "k", OrderStatistic, lo=1, integer=True),
        *scalar_cases("Constant", "c", Constant, lo=0.0, hi=1.0),
        *scalar_cases("uniform_phantoms", "n", fm.uniform_phantoms, lo=1, integer=True, size=True),
        *scalar_cases("UniformPhantom.phantom_positions", "n", UniformPhantom().phantom_positions, lo=1, integer=True),
        # no "huge" case: the bound has a closed form, so a huge n is valid input and answers at once
        *scalar_cases("welfare_ratio_bound", "n", fm.welfare_ratio_bound, lo=1, integer=True),
        *scalar_cases("ifs_welfare_ratio_bound", "n", fm.ifs_welfare_ratio_bound, lo=2, integer=True),
        *array_cases(
            "generalized_median",
            "phantoms",
            lambda v: fm.generalized_median(TYPES, v),
            np.array([0.0, 0.25, 0.75, 1.0]),
            lo=0.0,
            hi=1.0,
        ),
        *array_cases(
            "generalized_median",
            "reports",
            lambda v: fm.generalized_median(v, [0.0, 0.25, 0.75, 1.0]),
            TYPES,
            lo=0.0,
            hi=1.0,
            shape=False,
            dtypes=("bool", "object"),
        ),
        *array_cases(
            "strategyproof_gain",
            "grid",
            lambda v: fm.strategyproof_gain(UniformPhantom(), TYPES, v),
            GRID,
            lo=0.0,
            hi=1.0,
            shape=False,
        ),
        *array_cases(
            "strategyproof_gain",
            "peaks",
            lambda v: fm.strategyproof_gain(UniformPhantom(), v, GRID),
            TYPES,
            lo=0.0,
            hi=1.0,
            shape=False,
            dtypes=("str",),
        ),
        Case(
            "strategyproof_gain",
            "mech",
            "wrong_family",
            lambda d: fm.strategyproof_gain(IndependentMarkets(), TYPES, GRID),
        ),
        Case(
            "strategyproof_gain",
            "mech",
            "not_a_mechanism",
            lambda d: fm.strategyproof_gain(d.draw(not_a_number()), TYPES, GRID),
        ),
        Case(
            "strategyproof_gain",
            "grid",
            "huge",
            lambda d: small_budget(fm.strategyproof_gain, UniformPhantom(), TYPES, np.zeros(10**5)),
        ),
        *array_cases(
            "expected_costs",
            "peaks",
            lambda v: UniformPhantom().expected_costs(TYPES, v),
            TYPES,
            lo=0.0,
            hi=1.0,
            dtypes=("complex",),
        ),
        *array_cases(
            "expected_utilities",
            "reports",
            lambda v: LRM().expected_utilities(v, TYPES),
            TYPES,
            lo=0.0,
            hi=1.0,
            dtypes=("object",),
        ),
    ]


def _axiom_cases() -> list[Case]:
    cases: list[Case] = []
    for fn in ("satisfies", "check"):
        f = getattr(fm, fn)
        cases += [
            choice_case(fn, "axiom", lambda v, f=f: f(v, TYPES, LOC)),
            *array_cases(
                fn, "peaks", lambda v, f=f: f("IFS", v, LOC), TYPES, lo=0.0, hi=1.0, shape=False, dtypes=("bool", "str")
            ),
            Case(fn, "peaks", "rank_3", lambda d, f=f: f("IFS", TYPES[None], LOC)),
            *array_cases(fn, "location", lambda v, f=f: f("UFS", TYPES, v), LOC, lo=0.0, hi=1.0, dtypes=("complex",)),
            *scalar_cases(fn, "tol", lambda v, f=f: f("PF", TYPES, LOC, tol=v), lo=0.0),
        ]
    support = np.array([[0.1, 0.9], [0.3, 0.4]])
    probs = np.array([[0.5, 0.5], [0.25, 0.75]])
    cases += [
        *array_cases("satisfies[lottery]", "probs", lambda v: fm.satisfies("PF", TYPES, support, v), probs, lo=0.0),
        Case(
            "satisfies[lottery]",
            "probs",
            "not_summing_to_1",
            lambda d: fm.satisfies("PF", TYPES, support, probs * d.draw(st.floats(1.01, 3.0))),
        ),
        *array_cases(
            "satisfies[lottery]",
            "location",
            lambda v: fm.satisfies("UFS", TYPES, v, probs),
            support,
            lo=0.0,
            hi=1.0,
            dtypes=("str",),
        ),
        choice_case("feasible_interval", "axiom", lambda v: fm.feasible_interval(v, TYPES)),
        *array_cases(
            "feasible_interval",
            "peaks",
            lambda v: fm.feasible_interval("PF", v),
            TYPES,
            lo=0.0,
            hi=1.0,
            shape=False,
            dtypes=("object",),
        ),
        choice_case("objective_value", "objective", lambda v: fm.objective_value(v, TYPES, LOC)),
        choice_case("optimal_location", "objective", lambda v: fm.optimal_location(v, TYPES)),
        *array_cases(
            "social_welfare", "location", lambda v: fm.social_welfare(TYPES, v), LOC, lo=0.0, hi=1.0, dtypes=("bool",)
        ),
        *array_cases("cost", "peaks", lambda v: fm.cost(LOC, v), TYPES, lo=0.0, hi=1.0, shape=False, dtypes=("str",)),
        *array_cases("multiplicities", "peaks", fm.multiplicities, TYPES, lo=0.0, hi=1.0, shape=False, dtypes=("str",)),
        Case("multiplicities", "peaks", "rank_1", lambda d: fm.multiplicities(PEAKS)),
    ]
    return cases


def _budget_cases() -> list[Case]:
    cases: list[Case] = []
    for name, mech in BUDGET.items():
        cases += array_cases(f"{name}.__call__", "votes", mech, VOTES, lo=0.0, hi=1.0, shape=False)
        cases.append(
            Case(
                f"{name}.__call__",
                "votes",
                "off_simplex",
                lambda d, m=mech: m(VOTES * d.draw(st.sampled_from([0.5, 0.9, 1.1]))),
            )
        )
        cases.append(Case(f"{name}.__call__", "votes", "rank_1", lambda d, m=mech: m(VOTES[0])))
        cases.append(Case(f"{name}.__call__", "votes", "one_alternative", lambda d, m=mech: m(np.ones((3, 1)))))
        cases.append(Case(f"{name}.__call__", "votes", "no_voter", lambda d, m=mech: m(np.zeros((0, 3)))))
        cases += scalar_cases(
            name, "iterations", lambda v, m=mech: type(m)(iterations=v), lo=1, integer=True, size=True
        )
    cases += [
        Case(
            "PiecewiseUniform.__call__",
            "votes",
            "four_alternatives",
            lambda d: PiecewiseUniform()(np.full((2, 4), 0.25)),
        ),
        Case(
            "PiecewiseUniform.__call__",
            "votes",
            "not_an_array",
            lambda d: PiecewiseUniform()(d.draw(st.sampled_from([None, "0.5", object()]))),
        ),
        *array_cases("l1_disutility", "allocation", lambda v: fm.l1_disutility(VOTES, v), ALLOC, lo=0.0, hi=1.0),
        *array_cases(
            "distance_to_mean", "votes", lambda v: fm.distance_to_mean(v, ALLOC), VOTES, lo=0.0, hi=1.0, shape=False
        ),
        *array_cases("as_votes", "votes", fm.as_votes, VOTES, lo=0.0, hi=1.0, shape=False, dtypes=("str",)),
        Case(
            "budget_aggregation",
            "votes",
            "huge_batch",
            lambda d: small_budget(IndependentMarkets(), np.broadcast_to(VOTES, (10**6, 3, 3))),
        ),
    ]
    return cases


CASES: list[Case] = [
    *_game_cases(),
    *_reports_cases(),
    *_constructor_cases(),
    *_axiom_cases(),
    *_budget_cases(),
]


test_bad_input_refused = refusal_test(CASES)
