"""Fuzz: bad inputs to the matrix-game family are refused by name (see ``tests/fuzzing.py``)."""

from __future__ import annotations

import numpy as np
from coopsim.envs.matrix_games import (
    MatrixGame,
    MatrixGameEnv,
    chicken,
    make,
    make_batched_env,
    make_game,
    prisoners_dilemma,
    rock_paper_scissors,
)
from fuzzing import Case, array_cases, choice_case, refusal_test, scalar_cases
from hypothesis import strategies as st

RNG = np.random.default_rng(0)
RPS = rock_paper_scissors()
PAYOFFS = RPS.payoff_tensor.copy()  # (2, 3, 3)
TYPES = np.zeros((2, 2))
ACTIONS = np.array([[0, 1], [2, 2]])
MIXED = np.full((2, 3), 1 / 3)
ENV = MatrixGameEnv(RPS, rounds=3, batch_size=2)
ENV.reset(seed=0)

CASES: list[Case] = [
    *array_cases("MatrixGame", "payoffs", MatrixGame, PAYOFFS, shape=False),  # (2, 4, 3): other action counts
    Case(
        "MatrixGame",
        "payoffs",
        "wrong_shape",
        lambda d: MatrixGame(np.zeros(d.draw(st.sampled_from([(3, 3, 3), (2, 3), (1, 3, 3), (2, 0, 3), (4,)])))),
    ),
    Case(
        "MatrixGame",
        "name",
        "not_a_string",
        lambda d: MatrixGame(PAYOFFS, name=d.draw(st.sampled_from([5, None, [1]]))),
    ),
    Case(
        "MatrixGame",
        "action_names",
        "wrong_shape",
        lambda d: MatrixGame(
            PAYOFFS, action_names=d.draw(st.sampled_from([[["a", "b"]], "abc", 5, [["a", "b", "c"], 5]]))
        ),
    ),
    *array_cases("MatrixGame.play", "actions", lambda v: RPS.play(TYPES, v), ACTIONS, lo=0, hi=2, integer=True),
    *array_cases("MatrixGame.play", "types", lambda v: RPS.play(v, ACTIONS), TYPES, lo=0.0, hi=0.0),
    *array_cases(
        "MatrixGame.deviation_utilities",
        "actions",
        lambda v: RPS.deviation_utilities(TYPES, v, np.arange(3)),
        ACTIONS,
        lo=0,
        hi=2,
        integer=True,
    ),
    *array_cases(
        "MatrixGame.deviation_utilities",
        "candidates",
        lambda v: RPS.deviation_utilities(TYPES, ACTIONS, v),
        np.arange(3.0),
        lo=0,
        hi=2,
        integer=True,
        shape=False,  # any number K of candidates is valid
    ),
    Case(
        "MatrixGame.deviation_utilities",
        "candidates",
        "wrong_shape",
        lambda d: RPS.deviation_utilities(TYPES, ACTIONS, np.zeros(d.draw(st.sampled_from([(3, 3), (2, 3, 2, 1)])))),
    ),
    *scalar_cases(
        "MatrixGame.sample_types", "batch", lambda v: RPS.sample_types(RNG, v), lo=1, integer=True, size=True
    ),
    Case("MatrixGame.sample_types", "rng", "not_a_generator", lambda d: RPS.sample_types(d.draw(st.just("x")), 2)),
    *scalar_cases("MatrixGame.action_grid", "k", RPS.action_grid, lo=3, hi=3, integer=True),
    *array_cases(
        "MatrixGame.expected_deviation_utilities", "mixed", RPS.expected_deviation_utilities, MIXED, lo=0.0, hi=1.0
    ),
    *scalar_cases("chicken", "dare_chicken", lambda v: chicken(dare_chicken=v)),
    *scalar_cases("prisoners_dilemma", "temptation", lambda v: prisoners_dilemma(temptation=v)),
    choice_case("make", "name", make),
    Case("make", "name", "not_a_string", lambda d: make(d.draw(st.sampled_from([5, None, ["chicken"]])))),
    Case("make", "temptation", "unknown_keyword", lambda d: make("chicken", temptation=1.0)),
    choice_case("make_game", "game", lambda v: make_game(game=v)),
    *array_cases("make_game", "payoffs", lambda v: make_game(payoffs=v), PAYOFFS, shape=False),
    Case(
        "make_game",
        "game_params",
        "not_a_dict",
        lambda d: make_game(game_params=d.draw(st.sampled_from(["x", 5, [1]]))),
    ),
    Case(
        "MatrixGameEnv", "game", "wrong_type", lambda d: MatrixGameEnv(d.draw(st.sampled_from([5, "chicken", PAYOFFS])))
    ),
    *scalar_cases("MatrixGameEnv", "rounds", lambda v: MatrixGameEnv(RPS, rounds=v), lo=1, integer=True),
    *scalar_cases(
        "MatrixGameEnv", "batch_size", lambda v: MatrixGameEnv(RPS, batch_size=v), lo=1, integer=True, size=True
    ),
    choice_case("MatrixGameEnv", "render_mode", lambda v: MatrixGameEnv(RPS, render_mode=v)),
    *array_cases("MatrixGameEnv.step", "actions", ENV.step, ACTIONS, lo=0, hi=2, integer=True),
    *scalar_cases("make_batched_env", "max_cycles", lambda v: make_batched_env(max_cycles=v), lo=1, integer=True),
]


test_bad_input_refused = refusal_test(CASES)
