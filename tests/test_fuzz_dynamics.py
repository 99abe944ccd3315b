"""Fuzz: bad inputs to the learning dynamics (``play_dynamics`` and its alias ``dynamics.run``,
``best_response_dynamics``, ``best_response_search``) are refused by name (see ``tests/fuzzing.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from coopsim.envs.facility_location import FacilityLocation
from fuzzing import (
    Case,
    array_cases,
    bad_flag,
    bad_name,
    choice_case,
    flag_case,
    huge_count,
    not_a_number,
    refusal_test,
    scalar_cases,
)
from hypothesis import strategies as st

from coopsim.agents import Exp3, Hedge
from coopsim.dynamics import best_response_dynamics, best_response_search, play_dynamics
from coopsim.dynamics import run as dynamics_run

GAME = FacilityLocation(n_agents=3, mechanism="median")
B, N, K = 2, 3, 5
TYPES = np.array([[0.1, 0.5, 0.9], [0.2, 0.3, 0.4]])  # (B, N)
PD = "play_dynamics"
RESULT = play_dynamics(GAME, Hedge(K), rounds=2, batch=B, grid=K, seed=0, metrics=["reward"])


def play(**kw: Any) -> Any:
    """``play_dynamics`` on a small valid setting, with ``kw`` overriding one argument."""
    args: dict[str, Any] = {"rounds": 3, "batch": B, "grid": K, "seed": 0, "metrics": "none", **kw}
    learners = args.pop("learners", Hedge(K))
    game = args.pop("game", GAME)
    return play_dynamics(game, learners, **args)


def flag_or_none(entry: str, param: str, make: Any) -> Case:
    """A flag for which ``None`` means "automatic": anything but True/False/None is refused."""
    return Case(entry, param, "bad_flag", lambda d: make(d.draw(bad_flag().filter(lambda v: v is not None))))


def br_dyn(**kw: Any) -> Any:
    args: dict[str, Any] = {"types": TYPES, "max_sweeps": 3, **kw}
    return best_response_dynamics(GAME, **args)


CASES: list[Case] = [
    # counts and sizes
    *scalar_cases(PD, "rounds", lambda v: play(rounds=v), lo=1, integer=True),
    Case(PD, "rounds", "huge_history", lambda d: play(rounds=d.draw(huge_count()), keep_history=True)),
    Case(PD, "rounds", "huge_records", lambda d: play(rounds=d.draw(huge_count()), metrics=["reward"])),
    *scalar_cases(PD, "batch", lambda v: play(batch=v), lo=1, integer=True, size=True),
    *scalar_cases(PD, "record_every", lambda v: play(record_every=v), lo=1, integer=True),
    # options from a fixed set
    choice_case(PD, "feedback", lambda v: play(feedback=v)),
    choice_case(PD, "redraw", lambda v: play(redraw=v)),
    choice_case(PD, "game_metrics", lambda v: play(game_metrics=v)),
    choice_case(PD, "metrics", lambda v: play(metrics=[v])),
    Case(PD, "metrics", "not_a_list", lambda d: play(metrics=d.draw(st.sampled_from([3, 2.5, object()])))),
    Case(PD, "metrics", "array_of_unknown", lambda d: play(metrics=np.array(["reward", d.draw(bad_name())]))),
    Case(PD, "metrics", "not_applicable", lambda d: play(metrics=["exploitability"])),
    Case(PD, "metrics", "no_reference", lambda d: play(metrics=["reference"])),
    # flags
    flag_or_none(PD, "swap_regret", lambda v: play(swap_regret=v)),
    flag_or_none(PD, "snapshots", lambda v: play(snapshots=v)),
    flag_case(PD, "keep_history", lambda v: play(keep_history=v)),
    flag_case(PD, "progress", lambda v: play(progress=v)),
    # randomness
    Case(
        PD,
        "seed",
        "bad_seed",
        lambda d: play(seed=d.draw(st.sampled_from([-1, 1.5, "abc", True, [1, "a"], object()]))),
    ),
    # the game and the learners
    Case(PD, "game", "not_a_game", lambda d: play(game=d.draw(st.sampled_from([None, "median", 3, object()])))),
    Case(PD, "learners", "not_a_learner", lambda d: play(learners=d.draw(st.sampled_from([None, "hedge", 3])))),
    Case(PD, "learners", "bad_key", lambda d: play(learners={d.draw(st.sampled_from([-1, 3, "a", 1.5])): Hedge(K)})),
    Case(PD, "learners", "missing_agent", lambda d: play(learners={0: Hedge(K), 1: Hedge(K)})),
    Case(PD, "learners", "shared_object", lambda d: play(learners=dict.fromkeys([(0,), (1, 2)], Hedge(K)))),
    Case(PD, "feedback", "bandit_with_full_learner", lambda d: play(feedback="bandit", learners=Hedge(K))),
    Case(PD, "learners", "wrong_n_actions", lambda d: play(learners=Hedge(K + d.draw(st.integers(1, 5))))),
    # the action grid
    *scalar_cases(PD, "grid", lambda v: play(grid=v), lo=1, integer=True, size=True),
    *array_cases(
        f"{PD}[grid array]",
        "grid",
        lambda v: play(grid=v, learners=Exp3(K), feedback="bandit"),
        np.linspace(0.0, 1.0, K),
        shape=False,
    ),
    Case(PD, "grid", "wrong_shape", lambda d: play(grid=np.zeros(d.draw(st.sampled_from([(2, 2, K), (4, K), ()]))))),
    # types, references, outcome field
    *array_cases(PD, "types", lambda v: play(types=v), TYPES, lo=0.0, hi=1.0),
    Case(PD, "types", "wrong_batch", lambda d: play(types=TYPES[:1])),
    choice_case(PD, "reference", lambda v: play(reference=v)),
    *array_cases(PD, "reference", lambda v: play(reference=v), TYPES, shape=False),
    Case(PD, "reference", "wrong_shape", lambda d: play(reference=np.zeros(d.draw(st.sampled_from([(4,), (3, 3)]))))),
    *array_cases(PD, "reference_outcome", lambda v: play(reference_outcome=v), np.array([0.5, 0.5]), shape=False),
    Case(PD, "reference_outcome", "wrong_shape", lambda d: play(reference_outcome=np.zeros(3))),
    choice_case(PD, "outcome_field", lambda v: play(outcome_field=v)),
    Case(PD, "outcome_field", "not_a_string", lambda d: play(outcome_field=d.draw(st.sampled_from([3, 1.5, ["x"]])))),
    # context_fn
    Case(PD, "context_fn", "not_callable", lambda d: play(context_fn=d.draw(st.sampled_from([3, "f", {"a": 1}])))),
    Case(PD, "context_fn", "bad_return", lambda d: play(context_fn=lambda **kw: d.draw(st.sampled_from([3, [1]])))),
    Case(
        PD,
        "context_fn",
        "bad_array",
        lambda d: play(
            context_fn=lambda **kw: {"state": d.draw(st.sampled_from([np.zeros((B, N)), np.zeros(2, int)]))}
        ),
    ),
    # the old name
    *scalar_cases("dynamics.run", "rounds", lambda v: dynamics_run(GAME, Hedge(K), rounds=v), lo=1, integer=True),
    Case(
        "dynamics.run", "keep_history", "bad_flag", lambda d: dynamics_run(GAME, Hedge(K), rounds=2, keep_history="yes")
    ),
    Case(
        "dynamics.run", "swap_regret", "bad_flag", lambda d: dynamics_run(GAME, Hedge(K), rounds=2, swap_regret="yes")
    ),
    # best-response dynamics
    Case("best_response_dynamics", "game", "not_a_game", lambda d: best_response_dynamics(None, TYPES)),
    *array_cases("best_response_dynamics", "types", lambda v: br_dyn(types=v), TYPES, lo=0.0, hi=1.0, shape=False),
    Case(
        "best_response_dynamics",
        "types",
        "wrong_shape",
        lambda d: br_dyn(types=np.full(d.draw(st.sampled_from([(2, 4), (2, 2), (6,), (2, 3, 2)])), 0.5)),
    ),
    choice_case("best_response_dynamics", "order", lambda v: br_dyn(order=v)),
    choice_case("best_response_dynamics", "init", lambda v: br_dyn(init=v)),
    *array_cases("best_response_dynamics", "init", lambda v: br_dyn(init=v), TYPES, lo=0.0, hi=1.0, shape=False),
    Case("best_response_dynamics", "init", "wrong_shape", lambda d: br_dyn(init=np.zeros((3, 3)))),
    *scalar_cases("best_response_dynamics", "tol", lambda v: br_dyn(tol=v), lo=0.0),
    *scalar_cases("best_response_dynamics", "max_sweeps", lambda v: br_dyn(max_sweeps=v), lo=1, integer=True),
    *scalar_cases("best_response_dynamics", "points", lambda v: br_dyn(points=v), lo=3, integer=True, size=True),
    *scalar_cases("best_response_dynamics", "improve_tol", lambda v: br_dyn(improve_tol=v), lo=0.0),
    Case(
        "best_response_dynamics",
        "best_response",
        "not_callable",
        lambda d: br_dyn(best_response=d.draw(st.sampled_from([3, "median", [1]]))),
    ),
    Case(
        "best_response_dynamics",
        "seed",
        "bad_seed",
        lambda d: br_dyn(init="random", seed=d.draw(st.sampled_from([-1, 1.5, "abc"]))),
    ),
    *scalar_cases(
        "best_response_search",
        "agent",
        lambda v: best_response_search(GAME, TYPES, TYPES, v),
        lo=0,
        hi=N - 1,
        integer=True,
    ),
    *array_cases(
        "best_response_search", "actions", lambda v: best_response_search(GAME, TYPES, v, 0), TYPES, lo=0.0, hi=1.0
    ),
    *scalar_cases(
        "best_response_search",
        "xtol",
        lambda v: best_response_search(GAME, TYPES, TYPES, 0, xtol=v),
        lo=0.0,
    ),
    *scalar_cases(
        "best_response_search",
        "max_zoom",
        lambda v: best_response_search(GAME, TYPES, TYPES, 0, max_zoom=v),
        lo=0,
        integer=True,
    ),
    Case(
        PD,
        "learners",
        "not_a_mapping_value",
        lambda d: play(learners={(0, 1, 2): d.draw(st.sampled_from([None, "hedge", 3]))}),
    ),
    Case(PD, "grid", "empty", lambda d: play(grid=np.zeros(0))),
    Case(PD, "metrics", "unknown_in_list", lambda d: play(metrics=["reward", d.draw(bad_name())])),
    Case(PD, "rounds", "not_an_int", lambda d: play(rounds=d.draw(not_a_number()))),
    flag_case("DynamicsResult.to_frame", "per_copy", lambda v: RESULT.to_frame(per_copy=v)),
]


test_bad_input_refused = refusal_test(CASES)
