"""Fuzz: bad inputs to the runner's Python API (``runner.run``, ``runner.load``), the core helpers
(seeding, registries, the size guard's budget), ``RepeatedGame`` and the design entry points are
refused by name (see ``tests/fuzzing.py``)."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
from coopsim.envs.facility_location import FacilityLocation
from coopsim.mechanisms import registry as mechanisms
from fuzzing import (
    Case,
    array_cases,
    bad_flag,
    bad_name,
    choice_case,
    flag_case,
    huge_count,
    refusal_test,
    scalar_cases,
)
from hypothesis import strategies as st

from coopsim import runner
from coopsim.agents import registry as learners
from coopsim.core import RepeatedGame, config_hash, derived_seed, make_rng, seed_sequence, set_memory_budget, spawn_rngs
from coopsim.core.validation import MEMORY_BUDGET_ENV, memory_budget
from coopsim.design import optimal_scoring_rule, phantom_report, search_phantoms

GAME = FacilityLocation(n_agents=3, mechanism="median")
EMPTY = tempfile.mkdtemp(prefix="coopsim-fuzz-load-")  # a results folder with no results
SPEC = "no-such-spec.toml"  # options are checked before the spec is read
PRIOR = np.array([0.5, 0.5])
LIKELIHOOD = np.array([[0.8, 0.2], [0.2, 0.8]])


def run(**kw: Any) -> Any:
    return runner.run(SPEC, **{"executor": "serial", "progress": False, **kw})


def load(**kw: Any) -> Any:
    return runner.load(kw.pop("path", EMPTY), **kw)


def repeated(**kw: Any) -> Any:
    return RepeatedGame(kw.pop("game", GAME), **kw)


def step(actions: Any, **kw: Any) -> Any:
    env = RepeatedGame(GAME, rounds=2, batch_size=2, **kw)
    env.reset(seed=0)
    return env.step(actions)


def with_budget_env(value: str) -> Any:
    """``memory_budget()`` with ``COOPSIM_MEMORY_BUDGET`` set to ``value`` (restored after)."""
    previous = os.environ.get(MEMORY_BUDGET_ENV)
    os.environ[MEMORY_BUDGET_ENV] = value
    try:
        return memory_budget()
    finally:
        if previous is None:
            del os.environ[MEMORY_BUDGET_ENV]
        else:
            os.environ[MEMORY_BUDGET_ENV] = previous


def budget(value: Any) -> Any:
    previous = set_memory_budget(value)  # raises on a bad value; else restore
    set_memory_budget(previous)


BAD_SEEDS = st.sampled_from([-1, 1.5, "abc", True, [1, "a"], object(), float("nan")])

CASES: list[Case] = [
    # runner.run: options, before anything is read or written
    choice_case("runner.run", "executor", lambda v: run(executor=v)),
    *scalar_cases("runner.run", "retries", lambda v: run(retries=v), lo=0, integer=True),
    *scalar_cases("runner.run", "workers", lambda v: run(workers=v), lo=1, integer=True, optional=True),
    *scalar_cases("runner.run", "timeout", lambda v: run(timeout=v), lo=0.0, optional=True),
    flag_case("runner.run", "resume", lambda v: run(resume=v)),
    flag_case("runner.run", "progress", lambda v: run(progress=v)),
    flag_case("runner.run", "allow_mixed", lambda v: run(allow_mixed=v)),
    Case(
        "runner.run", "compact", "bad_flag", lambda d: run(compact=d.draw(bad_flag().filter(lambda v: v is not None)))
    ),
    Case("runner.run", "address", "without_ray", lambda d: run(address="auto")),
    Case("runner.run", "spec", "not_a_spec", lambda d: runner.run(d.draw(st.sampled_from([3, None, 2.5, [1]])))),
    Case(
        "runner.run",
        "out",
        "not_a_path",
        lambda d: runner.run({"experiment": {}}, out=d.draw(st.sampled_from([3, 2.5, ["a"]]))),
    ),
    # runner.load
    Case("runner.load", "path", "not_a_path", lambda d: load(path=d.draw(st.sampled_from([3, None, 2.5, ["a"]])))),
    Case("runner.load", "columns", "not_a_list", lambda d: load(columns=d.draw(st.sampled_from([3, 2.5, object()])))),
    Case("runner.load", "columns", "a_string", lambda d: load(columns="value")),
    Case("runner.load", "columns", "not_names", lambda d: load(columns=[d.draw(st.sampled_from([1, None, 2.5]))])),
    Case(
        "runner.load",
        "filters",
        "malformed",
        lambda d: load(filters=d.draw(st.sampled_from([3, "round > 1", [("round",)], [("round", "~~", 1)]]))),
    ),
    flag_case("runner.load", "strict", lambda v: load(strict=v)),
    Case(
        "runner.compact",
        "rows_per_file",
        "bad_count",
        lambda d: runner.compact(EMPTY, d.draw(st.sampled_from([0, -5, 2.5, "10", True]))),
    ),
    # seeding
    Case("seed_sequence", "seed", "bad_seed", lambda d: seed_sequence(d.draw(BAD_SEEDS))),
    Case("make_rng", "seed", "bad_seed", lambda d: make_rng(d.draw(BAD_SEEDS))),
    Case("spawn_rngs", "seed", "bad_seed", lambda d: spawn_rngs(d.draw(BAD_SEEDS), 2)),
    *scalar_cases("spawn_rngs", "n", lambda v: spawn_rngs(0, v), lo=0, integer=True, size=True),
    Case("derived_seed", "root", "bad_seed", lambda d: derived_seed(d.draw(BAD_SEEDS), {"a": 1})),
    *scalar_cases("config_hash", "length", lambda v: config_hash({"a": 1}, v), lo=1, hi=64, integer=True),
    # registries
    Case("Registry.get[learner]", "learner", "unknown_name", lambda d: learners.get(d.draw(bad_name()), n_actions=3)),
    Case(
        "Registry.get[learner]", "learner", "not_a_name", lambda d: learners.get(d.draw(st.sampled_from([3, None, ""])))
    ),
    Case("mechanisms.get", "mechanism", "unknown_name", lambda d: mechanisms.get(d.draw(bad_name()))),
    Case(
        "mechanisms.get",
        "reserve",
        "unknown_parameter",
        lambda d: mechanisms.get("median", reserve=d.draw(st.floats(0, 1))),
    ),
    Case(
        "Registry.parameters",
        "learner",
        "unknown_name",
        lambda d: learners.parameters(d.draw(bad_name())),
    ),
    Case(
        "runner.register_function",
        "name",
        "not_a_name",
        lambda d: runner.register_function(d.draw(st.sampled_from(["", 3, None])))(lambda: None),
    ),
    flag_case("Registry.register", "replace", lambda v: learners.register("hedge", replace=v)),
    # the size guard's budget
    Case(
        "set_memory_budget",
        "nbytes",
        "bad_budget",
        lambda d: budget(d.draw(st.sampled_from(["abc", "-1G", 0, -5, 0.5, float("nan"), True, "1.5X", [1]]))),
    ),
    Case(
        "memory_budget",
        MEMORY_BUDGET_ENV,
        "bad_environment",
        lambda d: with_budget_env(d.draw(st.sampled_from(["lots", "-1", "0", "1e9", "G"]))),
    ),
    # RepeatedGame
    Case("RepeatedGame", "game", "not_a_game", lambda d: repeated(game=d.draw(st.sampled_from([None, "median", 3])))),
    *scalar_cases("RepeatedGame", "rounds", lambda v: repeated(rounds=v), lo=1, integer=True),
    *scalar_cases("RepeatedGame", "batch_size", lambda v: repeated(batch_size=v), lo=1, integer=True, size=True),
    *scalar_cases(
        "RepeatedGame", "grid_size", lambda v: repeated(action_mode="grid", grid_size=v), lo=1, integer=True, size=True
    ),
    choice_case("RepeatedGame", "action_mode", lambda v: repeated(action_mode=v)),
    choice_case("RepeatedGame", "redraw", lambda v: repeated(redraw=v)),
    choice_case("RepeatedGame", "render_mode", lambda v: repeated(render_mode=v)),
    choice_case("RepeatedGame", "metrics", lambda v: repeated(metrics=v)),
    Case("RepeatedGame", "metrics", "not_names", lambda d: repeated(metrics=[d.draw(st.sampled_from([1, None]))])),
    Case("RepeatedGame", "name", "not_a_string", lambda d: repeated(name=d.draw(st.sampled_from([3, ["x"], b"x"])))),
    Case(
        "RepeatedGame.step",
        "metrics",
        "unknown_name",
        lambda d: step(np.full((2, 3), 0.5), metrics=[d.draw(bad_name())]),
    ),
    *array_cases("RepeatedGame.step", "actions", lambda v: step(v), np.full((2, 3), 0.5), lo=0.0, hi=1.0, shape=True),
    *array_cases(
        "RepeatedGame.step[grid]",
        "actions",
        lambda v: step(v, action_mode="grid", grid_size=5),
        np.full((2, 3), 2.0),
        lo=0,
        hi=4,
        integer=True,
    ),
    Case(
        "RepeatedGame.reset",
        "seed",
        "bad_seed",
        lambda d: repeated().reset(seed=d.draw(BAD_SEEDS.filter(lambda v: v is not None))),
    ),
    Case(
        "RepeatedGame.reset",
        "options",
        "not_a_dict",
        lambda d: repeated().reset(options=d.draw(st.sampled_from([3, "reset_mask", [1]]))),
    ),
    Case(
        "RepeatedGame.reset",
        "reset_mask",
        "bad_mask",
        lambda d: repeated(batch_size=2).reset(
            options={"reset_mask": d.draw(st.sampled_from([np.array(["a", "b"]), np.array([0.5, 1.0]), [True], 3]))}
        ),
    ),
    # design entry points
    *array_cases("optimal_scoring_rule", "prior", lambda v: optimal_scoring_rule(v, LIKELIHOOD), PRIOR, lo=0.0),
    *array_cases(
        "optimal_scoring_rule", "likelihood", lambda v: optimal_scoring_rule(PRIOR, v), LIKELIHOOD, lo=0.0, hi=1.0
    ),
    Case(
        "optimal_scoring_rule",
        "likelihood",
        "huge",
        lambda d: optimal_scoring_rule(PRIOR, np.full((2, d.draw(st.integers(3000, 20000))), 0.5)),
    ),
    *scalar_cases("optimal_scoring_rule", "lo", lambda v: optimal_scoring_rule(PRIOR, LIKELIHOOD, lo=v), hi=1.0),
    *scalar_cases("optimal_scoring_rule", "hi", lambda v: optimal_scoring_rule(PRIOR, LIKELIHOOD, hi=v), lo=0.0),
    *scalar_cases("search_phantoms", "n", lambda v: search_phantoms(v, samples=50), lo=1, integer=True, size=True),
    *scalar_cases("search_phantoms", "samples", lambda v: search_phantoms(2, samples=v), lo=1, integer=True, size=True),
    *scalar_cases("search_phantoms", "grid", lambda v: search_phantoms(2, samples=50, grid=v), lo=3, integer=True),
    *scalar_cases("search_phantoms", "weight", lambda v: search_phantoms(2, samples=50, weight=v), lo=0.0, hi=1.0),
    *scalar_cases(
        "search_phantoms", "max_sweeps", lambda v: search_phantoms(2, samples=50, max_sweeps=v), lo=1, integer=True
    ),
    Case("search_phantoms", "seed", "bad_seed", lambda d: search_phantoms(2, samples=50, seed=d.draw(BAD_SEEDS))),
    choice_case("search_phantoms", "objective", lambda v: search_phantoms(2, samples=50, objective=v)),
    choice_case("search_phantoms", "axioms", lambda v: search_phantoms(2, samples=50, axioms=[v])),
    choice_case("search_phantoms", "distribution", lambda v: search_phantoms(2, v, samples=50)),
    *array_cases(
        "search_phantoms",
        "distribution",
        lambda v: search_phantoms(2, v, samples=50),
        np.array([[0.1, 0.9], [0.4, 0.6]]),
        lo=0.0,
        hi=1.0,
        shape=False,
    ),
    Case(
        "search_phantoms",
        "distribution",
        "wrong_shape",
        lambda d: search_phantoms(2, np.full(d.draw(st.sampled_from([(4, 3), (4, 1), (2, 2, 2)])), 0.5), samples=50),
    ),
    Case(
        "search_phantoms",
        "distribution.a",
        "bad_beta",
        lambda d: search_phantoms(
            2, ("beta", d.draw(st.sampled_from([0.0, -1.0, float("nan"), "2"])), 2.0), samples=50
        ),
    ),
    *scalar_cases("phantom_report", "n", lambda v: phantom_report(v, samples=50), lo=1, integer=True, size=True),
    *scalar_cases("phantom_report", "samples", lambda v: phantom_report(2, samples=v), lo=2, integer=True, size=True),
    Case("phantom_report", "seed", "bad_seed", lambda d: phantom_report(2, samples=50, seed=d.draw(BAD_SEEDS))),
    choice_case("phantom_report", "axioms", lambda v: phantom_report(2, samples=50, axioms=[v])),
    Case(
        "phantom_report",
        "mechanisms",
        "not_a_mapping",
        lambda d: phantom_report(2, samples=50, mechanisms=d.draw(st.sampled_from([3, ["median"], "median"]))),
    ),
    Case(
        "phantom_report",
        "mechanisms",
        "not_a_mechanism",
        lambda d: phantom_report(2, samples=50, mechanisms={"x": d.draw(st.sampled_from([3, "median", None]))}),
    ),
    Case(
        "seed_sequence",
        "seed",
        "huge_entropy_type",
        lambda d: seed_sequence(d.draw(st.sampled_from([np.float64(1.0), np.array([1, 2]), b"1"]))),
    ),
    Case("spawn_rngs", "n", "huge_list", lambda d: spawn_rngs(0, d.draw(huge_count()))),
]


def _design_trainer_cases() -> list[Case]:
    """Trainer configurations (torch): every argument is checked when the config is built."""
    try:
        import torch  # noqa: F401
    except ImportError:  # pragma: no cover - optional extra
        return []
    from coopsim.design import MyersonNetConfig, RegretNetConfig, RochetNetConfig

    out: list[Case] = []
    for cls in (MyersonNetConfig, RochetNetConfig, RegretNetConfig):
        name = cls.__name__
        out += scalar_cases(name, "seed", lambda v, c=cls: c(seed=v), lo=0, integer=True)
        out += scalar_cases(name, "lr", lambda v, c=cls: c(lr=v), lo=0.0)
    out += scalar_cases("RegretNetConfig", "n_bidders", lambda v: RegretNetConfig(n_bidders=v), lo=1, integer=True)
    out += scalar_cases("RegretNetConfig", "n_items", lambda v: RegretNetConfig(n_items=v), lo=1, integer=True)
    out.append(
        Case(
            "RegretNetConfig",
            "hidden",
            "bad_width",
            lambda d: RegretNetConfig(hidden=(d.draw(st.sampled_from([0, -1, 2.5, "8"])),)),
        )
    )
    out.append(choice_case("RegretNetConfig", "dtype", lambda v: RegretNetConfig(dtype=v)))
    from coopsim.design import train_myerson_net, train_regret_net, train_rochet_net

    for train in (train_myerson_net, train_rochet_net, train_regret_net):
        name = train.__name__
        out.append(
            Case(name, "config", "not_a_config", lambda d, f=train: f(d.draw(st.sampled_from([{"lr": 0.1}, 3, "cfg"]))))
        )
        out.append(
            Case(
                name,
                "progress_bar",
                "bad_flag",
                lambda d, f=train: f(progress_bar=d.draw(bad_flag().filter(lambda v: v is not None)), iterations=1),
            )
        )
        out.append(Case(name, "lr", "bad_override", lambda d, f=train: f(lr=d.draw(st.sampled_from([-1.0, 0.0, "x"])))))
    return out


CASES += _design_trainer_cases()


test_bad_input_refused = refusal_test(CASES)
