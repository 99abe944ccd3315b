"""Fuzz: bad inputs to the generic analyses are refused by name (see ``tests/fuzzing.py``).

Covers ``incentive_audit``, ``worst_case_ratio``, ``approximation_ratio``, ``grid_profiles``,
``ratio_to_optimum`` and the equilibrium gaps (``nash_conv``, ``exploitability``, ``ce_gap``,
``cce_gap``, ``best_response_gains``), on a facility-location and a position-auction game and a
matrix game. Huge sizes must meet the size guard (run under a small memory budget).
"""

from __future__ import annotations

import numpy as np
from coopsim.envs.facility_location import FacilityLocation
from coopsim.envs.matrix_games import rock_paper_scissors
from coopsim.envs.position_auction import PositionAuction
from fuzzing import (
    Case,
    array_cases,
    choice_case,
    flag_case,
    huge_count,
    not_a_number,
    refusal_test,
    scalar_cases,
    small_budget,
)
from hypothesis import strategies as st

from coopsim.analysis import (
    approximation_ratio,
    ce_gap,
    exploitability,
    incentive_audit,
    nash_conv,
    worst_case_ratio,
)
from coopsim.analysis.equilibrium import best_response_gains, cce_gap
from coopsim.analysis.ratios import grid_profiles, ratio_to_optimum

GAME = FacilityLocation(n_agents=3, mechanism="median")
AUCTION = PositionAuction(n_agents=2, n_slots=1, mechanism="gsp")
TYPES = np.array([[0.1, 0.5, 0.9], [0.2, 0.3, 0.4]])
GRID = np.linspace(0.0, 1.0, 3)
RPS = rock_paper_scissors()
POLICY = np.full((2, 3), 1 / 3)
JOINT = np.full((3, 3), 1 / 9)


def _audit(**kw: object) -> object:
    """A fast audit of the facility game (few candidates, no refinement) with ``kw`` replaced."""
    args: dict[str, object] = {"types": TYPES, "grid": 3, "n_random": 0, "refine_steps": 0, "rng": 0}
    args.update(kw)
    return incentive_audit(GAME, **args)  # type: ignore[arg-type]


def _worst(**kw: object) -> object:
    args: dict[str, object] = {"objective": "TC", "n_grid": 2, "refine_steps": 0, "population": 2, "rng": 0}
    args.update(kw)
    return worst_case_ratio(GAME, **args)  # type: ignore[arg-type]


def _audit_cases() -> list[Case]:
    e = "incentive_audit"
    return [
        Case(e, "game", "not_a_game", lambda d: incentive_audit(d.draw(not_a_number()), TYPES)),
        Case(e, "game", "a_matrix_array", lambda d: incentive_audit(np.zeros((2, 3, 3)), TYPES)),
        *array_cases(e, "types", lambda v: _audit(types=v), TYPES, lo=0.0, hi=1.0, shape=False),
        Case(e, "types", "wrong_n_agents", lambda d: _audit(types=TYPES[:, :2])),
        Case(e, "types", "rank_1", lambda d: _audit(types=TYPES[0])),
        *array_cases(e, "actions", lambda v: _audit(actions=v), TYPES, lo=0.0, hi=1.0),
        *array_cases(e, "grid", lambda v: _audit(grid=v), GRID, lo=0.0, hi=1.0, shape=False),
        Case(e, "grid", "matrix", lambda d: _audit(grid=np.zeros((2, 2)))),
        Case(e, "grid", "empty", lambda d: _audit(grid=np.zeros(0))),
        Case(e, "grid", "scalar_float", lambda d: _audit(grid=d.draw(st.sampled_from([0.5, 2.5, float("nan")])))),
        *scalar_cases("incentive_audit[grid count]", "grid", lambda v: _audit(grid=v), lo=1, integer=True),
        Case(e, "grid", "huge", lambda d: small_budget(_audit, grid=d.draw(huge_count()))),
        Case(e, "grid", "big_array", lambda d: small_budget(_audit, grid=np.zeros(10**5))),
        *scalar_cases(e, "n_random", lambda v: _audit(n_random=v), lo=0, integer=True),
        Case(e, "n_random", "huge", lambda d: small_budget(_audit, n_random=d.draw(huge_count()))),
        Case(e, "n_random", "big", lambda d: small_budget(_audit, n_random=10**5)),
        *scalar_cases(e, "refine_steps", lambda v: _audit(refine_steps=v), lo=0, integer=True, size=True),
        *scalar_cases(
            e,
            "n_profiles",
            lambda v: incentive_audit(GAME, n_profiles=v, grid=3, n_random=0, refine_steps=0),
            lo=1,
            integer=True,
        ),
        Case(
            e,
            "n_profiles",
            "huge",
            lambda d: small_budget(incentive_audit, GAME, n_profiles=d.draw(huge_count()), grid=3, n_random=0),
        ),
        *scalar_cases(e, "tol", lambda v: _audit(tol=v), lo=0.0),
        Case(
            e, "rng", "not_a_seed", lambda d: _audit(rng=d.draw(st.sampled_from([-1, 1.5, "0", True, [0], object()])))
        ),
        Case(e, "rng", "huge_negative", lambda d: _audit(rng=-d.draw(huge_count()))),
        # an auction game: bids above bid_max, types of another shape
        Case(e + "[auction]", "grid", "above_bid_max", lambda d: incentive_audit(AUCTION, TYPES[:, :2], grid=GRID * 5)),
        Case(e + "[auction]", "types", "wrong_n_agents", lambda d: incentive_audit(AUCTION, TYPES, grid=3)),
        Case(
            e + "[auction]",
            "actions",
            "batch_mismatch",
            lambda d: incentive_audit(AUCTION, TYPES[:, :2], actions=TYPES[:1, :2], grid=3, n_random=0),
        ),
    ]


def _ratio_cases() -> list[Case]:
    w, a = "worst_case_ratio", "approximation_ratio"
    return [
        choice_case(w, "objective", lambda v: _worst(objective=v)),
        Case(w, "objective", "not_a_string", lambda d: _worst(objective=d.draw(not_a_number()))),
        Case(w, "game", "not_a_game", lambda d: worst_case_ratio(d.draw(not_a_number()), "TC")),
        *scalar_cases(w, "n_grid", lambda v: _worst(n_grid=v), lo=1, integer=True, optional=True),
        Case(w, "n_grid", "huge", lambda d: small_budget(_worst, n_grid=d.draw(huge_count()))),
        Case(w, "n_grid", "huge_unsorted", lambda d: small_budget(_worst, n_grid=10**4, sorted_only=False)),
        flag_case(w, "sorted_only", lambda v: _worst(sorted_only=v)),
        *scalar_cases(w, "refine_steps", lambda v: _worst(refine_steps=v), lo=0, integer=True, size=True),
        *scalar_cases(w, "population", lambda v: _worst(population=v), lo=1, integer=True),
        Case(
            w, "rng", "not_a_seed", lambda d: _worst(rng=d.draw(st.sampled_from([-1, 1.5, "0", True, [0], object()])))
        ),
        choice_case(a, "objective", lambda v: approximation_ratio(GAME, TYPES, v)),
        Case(a, "game", "not_a_game", lambda d: approximation_ratio(d.draw(not_a_number()), TYPES, "TC")),
        Case(a, "game", "no_objectives", lambda d: approximation_ratio(RPS, np.zeros((1, 2)), "SW")),
        *array_cases(a, "types", lambda v: approximation_ratio(GAME, v, "SW"), TYPES, lo=0.0, hi=1.0, shape=False),
        Case(a, "types", "wrong_n_agents", lambda d: approximation_ratio(GAME, TYPES[:, :2], "SW")),
        *array_cases(a, "actions", lambda v: approximation_ratio(GAME, TYPES, "MC", v), TYPES, lo=0.0, hi=1.0),
        choice_case("ratio_to_optimum", "direction", lambda v: ratio_to_optimum(np.ones(2), np.ones(2), v)),
        *scalar_cases("grid_profiles", "n_agents", lambda v: grid_profiles(v, 4), lo=1, integer=True),
        *scalar_cases("grid_profiles", "n_grid", lambda v: grid_profiles(3, v), lo=1, integer=True),
        Case("grid_profiles", "n_grid", "huge", lambda d: small_budget(grid_profiles, 3, d.draw(huge_count()))),
        Case(
            "grid_profiles",
            "n_grid",
            "huge_unsorted",
            lambda d: small_budget(grid_profiles, 3, 10**4, sorted_only=False),
        ),
        *scalar_cases("grid_profiles", "low", lambda v: grid_profiles(3, 4, low=v)),
        *scalar_cases("grid_profiles", "high", lambda v: grid_profiles(3, 4, low=0.5, high=v), lo=0.5),
        flag_case("grid_profiles", "sorted_only", lambda v: grid_profiles(3, 4, sorted_only=v)),
    ]


def _equilibrium_cases() -> list[Case]:
    cases: list[Case] = []
    for name, fn in {
        "nash_conv": nash_conv,
        "exploitability": exploitability,
        "best_response_gains": best_response_gains,
    }.items():
        cases += [
            *array_cases(name, "policy", lambda v, f=fn: f(RPS, v), POLICY, lo=0.0, hi=1.0),
            Case(name, "policy", "off_simplex", lambda d, f=fn: f(RPS, POLICY * d.draw(st.sampled_from([0.5, 2.0])))),
            Case(name, "policy", "wrong_players", lambda d, f=fn: f(RPS, [POLICY[0]])),
            Case(name, "game", "not_a_game", lambda d, f=fn: f(d.draw(not_a_number()), POLICY)),
            *array_cases(
                name,
                "game",
                lambda v, f=fn: f(v, POLICY),
                RPS.payoff_tensor,
                shape=False,
                dtypes=("bool", "str", "complex"),
            ),
        ]
    for name, fn in {"ce_gap": ce_gap, "cce_gap": cce_gap}.items():
        cases += [
            *array_cases(name, "joint", lambda v, f=fn: f(RPS, v), JOINT, lo=0.0, hi=1.0),
            Case(name, "joint", "off_simplex", lambda d, f=fn: f(RPS, JOINT * d.draw(st.sampled_from([0.5, 2.0])))),
            Case(name, "game", "not_a_game", lambda d, f=fn: f(d.draw(not_a_number()), JOINT)),
            Case(name, "game", "too_big", lambda d, f=fn: f(np.zeros((2, 2000, 2000)), np.zeros((2000, 2000)))),
        ]
    return cases


CASES: list[Case] = [*_audit_cases(), *_ratio_cases(), *_equilibrium_cases()]


test_bad_input_refused = refusal_test(CASES)
