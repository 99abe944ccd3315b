"""Fuzz: bad inputs to every registered learner (constructor, ``act``, ``update``) and to the
optional torch policies are refused by name (see ``tests/fuzzing.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from fuzzing import (
    Case,
    array_cases,
    bad_name,
    choice_case,
    flag_case,
    huge_count,
    non_finite,
    not_a_number,
    refusal_test,
    scalar_cases,
)
from hypothesis import strategies as st

from coopsim.agents import balanced_bidding, balanced_bids, gsp_revenue, hedge_regret_bound, registry

B, N, K = 3, 2, 4
RNG = np.random.default_rng(0)
ACTIONS = np.array([[0, 1], [2, 3], [1, 0]], dtype=np.int64)  # (B, N), valid
REWARDS = np.array([[0.2, 0.4], [0.6, 0.8], [0.1, 0.9]])  # (B, N)
FULL = np.linspace(0.0, 1.0, B * N * K).reshape(B, N, K)  # (B, N, K)

#: hyperparameters a learner needs to be buildable with default shapes (none so far)
NAMES = registry.names()


def optional_cases(entry: str, param: str, make: Callable[[Any], Any], **kw: Any) -> list[Case]:
    """:func:`scalar_cases` of a parameter for which ``None`` is a valid value (a default)."""
    cases = [c for c in scalar_cases(entry, param, make, **kw) if c.kind != "not_a_number"]
    return cases + [
        Case(entry, param, "not_a_number", lambda d: make(d.draw(not_a_number().filter(lambda v: v is not None))))
    ]


def build(name: str, **kw: Any) -> Any:
    """``registry.get(name)`` with valid defaults for the shape arguments, overridden by ``kw``."""
    args: dict[str, Any] = {"n_actions": K, "batch": B, "n_agents": N, **kw}
    return registry.get(name, **args)


def fresh(name: str) -> Any:
    """A bound learner that has acted once (so that ``update`` may follow)."""
    learner = build(name)
    ctx = {"truthful": np.zeros((B, N), dtype=np.int64)} if name in ("truthful", "best_response") else None
    learner.act(np.random.default_rng(1), ctx)
    return learner


def updater(name: str, **fixed: Any) -> Callable[[str, Any], Any]:
    """``update`` of a fresh learner with ``param`` replaced by the bad value."""
    full_info = registry.factory(name).feedback == "full"

    def call(param: str, value: Any) -> Any:
        kw: dict[str, Any] = {"actions": ACTIONS, "rewards": REWARDS, "full": FULL if full_info else None}
        kw[param] = value
        return fresh(name).update(**kw)

    return call


def shape_cases(name: str) -> list[Case]:
    """Constructor shape/range arguments and the act/update inputs of learner ``name``."""
    entry = f"{name}"
    cases = [
        *scalar_cases(entry, "n_actions", lambda v: build(name, n_actions=v), lo=1, integer=True, size=True),
        *optional_cases(entry, "batch", lambda v: build(name, batch=v), lo=1, integer=True, size=True),
        *optional_cases(entry, "n_agents", lambda v: build(name, n_agents=v), lo=1, integer=True),
        Case(
            entry,
            "utility_range",
            "reversed",
            lambda d: build(name, utility_range=(d.draw(st.floats(0.5, 10.0)), d.draw(st.floats(-10.0, 0.4)))),
        ),
        Case(
            entry,
            "utility_range",
            "not_a_pair",
            lambda d: build(name, utility_range=d.draw(st.sampled_from([1.0, None, (0.0,), (0.0, 1.0, 2.0), "ab"]))),
        ),
        Case(
            entry,
            "utility_range[0]",
            "non_finite",
            lambda d: build(name, utility_range=(d.draw(non_finite()), 1.0)),
        ),
        Case(entry, "utility_range[1]", "not_a_number", lambda d: build(name, utility_range=(0.0, "1"))),
        # act
        Case(
            f"{entry}.act",
            "rng",
            "not_a_generator",
            lambda d: build(name).act(d.draw(st.sampled_from([0, 7, None, "seed", np.random.RandomState(0)]))),
        ),
        Case(
            f"{entry}.act", "context", "not_a_dict", lambda d: build(name).act(RNG, d.draw(st.sampled_from([[1], 3])))
        ),
        # update
        *array_cases(f"{entry}.update", "rewards", lambda v: updater(name)("rewards", v), REWARDS),
        Case(
            f"{entry}.update",
            "rewards",
            "str_list",
            lambda d: updater(name)("rewards", REWARDS.astype(str).tolist()),
        ),
        Case(
            f"{entry}.update",
            "rewards",
            "bool_list",
            lambda d: updater(name)("rewards", (REWARDS > 0.5).tolist()),
        ),
        Case(
            f"{entry}.update",
            "actions",
            "out_of_range",
            lambda d: updater(name)(
                "actions",
                np.where(
                    np.arange(B * N).reshape(B, N) == d.draw(st.integers(0, B * N - 1)),
                    d.draw(st.sampled_from([-1, K, K + 5, 10**9])),
                    ACTIONS,
                ),
            ),
        ),
        *array_cases(
            f"{entry}.update",
            "actions",
            lambda v: updater(name)("actions", v),
            ACTIONS.astype(float),
            integer=True,
            dtypes=("bool", "str", "object"),
        ),
    ]
    if registry.factory(name).feedback == "full":
        cases += array_cases(f"{entry}.update", "full", lambda v: updater(name)("full", v), FULL)
    return cases


def hyper_cases() -> list[Case]:
    """Each learner's own hyperparameters: numbers, options, flags."""

    def num(name: str, param: str, **kw: Any) -> list[Case]:
        make = lambda v: build(name, **{param: v})  # noqa: E731
        if registry.parameters(name)[param] is None:
            return optional_cases(name, param, make, **kw)
        return scalar_cases(name, param, make, **kw)

    def choice(name: str, param: str) -> Case:
        return choice_case(name, param, lambda v: build(name, **{param: v}))

    return [
        *num("hedge", "eta", lo=0.0),
        *num("hedge", "horizon", lo=1, integer=True),
        choice("hedge", "eta"),
        *num("exp3", "gamma", lo=0.0, hi=1.0),
        choice("exp3", "gamma"),
        *num("exp3", "horizon", lo=1, integer=True),
        *num("exp3_ix", "eta", lo=0.0),
        *num("exp3_ix", "gamma", lo=0.0),
        choice("exp3_ix", "gamma"),
        choice("regret_matching", "baseline"),
        choice("rm_plus", "baseline"),
        *num("conditional_regret_matching", "mu", lo=0.0),
        choice("conditional_regret_matching", "mu"),
        Case(
            "conditional_regret_matching",
            "n_actions",
            "huge_square",
            lambda d: build("conditional_regret_matching", n_actions=d.draw(st.integers(10**6, 10**8))),
        ),
        flag_case("fictitious_play", "smooth", lambda v: build("fictitious_play", smooth=v)),
        *num("fictitious_play", "temperature", lo=0.0),
        *num("fictitious_play", "step", lo=0.0, hi=1.0),
        *num("smooth_fictitious_play", "temperature", lo=0.0),
        choice("best_response", "mode"),
        choice("best_response", "order"),
        choice("best_response", "init"),
        *num("best_response", "tol", lo=0.0),
        Case(
            "best_response.act",
            "init",
            "out_of_range",
            lambda d: build("best_response", init=d.draw(st.integers(K, 10**6))).act(RNG),
        ),
        *num("epsilon_greedy", "epsilon", lo=0.0, hi=1.0),
        choice("epsilon_greedy", "schedule"),
        *num("epsilon_greedy", "c", lo=0.0),
        *num("epsilon_greedy", "d", lo=0.0, hi=1.0),
        *num("epsilon_greedy", "beta", lo=0.0),
        *num("epsilon_greedy", "step", lo=0.0, hi=1.0),
        *num("ucb1", "exploration", lo=0.0),
        *num("softmax_pg", "lr", lo=0.0),
        *num("softmax_pg", "baseline_lr", lo=0.0, hi=1.0),
        *num("softmax_pg", "entropy", lo=0.0),
        choice("softmax_pg", "update"),
        *num("q_learning", "n_states", lo=1, integer=True, size=True),
        *num("q_learning", "alpha", lo=0.0, hi=1.0),
        *num("q_learning", "discount", lo=0.0, hi=1.0),
        choice("q_learning", "schedule"),
        *num("q_learning", "epsilon", lo=0.0, hi=1.0),
        *num("q_learning", "beta", lo=0.0),
        *array_cases(
            "q_learning",
            "q_init",
            lambda v: build("q_learning", q_init=v),
            np.zeros((B, N, 1, K)),
            shape=True,
        ),
        Case(
            "q_learning",
            "state_key",
            "not_a_string",
            lambda d: build("q_learning", state_key=d.draw(st.sampled_from(["", 3, None, b"s"]))),
        ),
        Case(
            "q_learning.act",
            "context['state']",
            "out_of_range",
            lambda d: build("q_learning", n_states=3).act(
                RNG, {"state": np.full((B, N), d.draw(st.sampled_from([-1, 3, 10**6])), dtype=np.int64)}
            ),
        ),
        Case(
            "q_learning.act",
            "context['state']",
            "float_dtype",
            lambda d: build("q_learning", n_states=3).act(RNG, {"state": np.full((B, N), 0.5)}),
        ),
        Case(
            "truthful.act",
            "context",
            "missing_key",
            lambda d: build("truthful").act(RNG, d.draw(st.sampled_from([None, {}, {"state": ACTIONS}]))),
        ),
        *num("constant", "action", lo=0, integer=True),
        Case("constant", "action", "out_of_range", lambda d: build("constant", action=d.draw(st.integers(K, 10**6)))),
        Case(
            "agents.get",
            "learner",
            "unknown_name",
            lambda d: registry.get(d.draw(bad_name()), n_actions=K),
        ),
        Case(
            "agents.get",
            "eta",
            "unknown_parameter",
            lambda d: registry.get("exp3", n_actions=K, eta=0.1),
        ),
        Case(
            "Learner.bind",
            "batch",
            "huge",
            lambda d: build("hedge", batch=None).bind(d.draw(huge_count()), N),
        ),
    ]


def bidding_cases() -> list[Case]:
    """Balanced bidding in GSP position auctions and the Hedge regret bound."""
    values = np.array([[1.0, 0.8, 0.5], [0.9, 0.7, 0.2]])
    alpha = np.array([1.0, 0.6])

    def bb(**kw: Any) -> Any:
        args: dict[str, Any] = {"values": values, "alpha": alpha, "rounds": 3, **kw}
        return balanced_bidding(args.pop("values"), args.pop("alpha"), args.pop("rounds"), **args)

    return [
        *array_cases("balanced_bidding", "values", lambda v: bb(values=v), values, lo=0.0, shape=False),
        *array_cases("balanced_bidding", "alpha", lambda v: bb(alpha=v), alpha, lo=0.0, shape=False),
        Case("balanced_bidding", "alpha", "increasing", lambda d: bb(alpha=np.array([0.5, d.draw(st.floats(0.6, 5))]))),
        *scalar_cases("balanced_bidding", "rounds", lambda v: bb(rounds=v), lo=0, integer=True),
        Case("balanced_bidding", "rounds", "huge_record", lambda d: bb(rounds=d.draw(huge_count()), record=True)),
        choice_case("balanced_bidding", "mode", lambda v: bb(mode=v)),
        choice_case("balanced_bidding", "order", lambda v: bb(order=v)),
        *scalar_cases("balanced_bidding", "tol", lambda v: bb(tol=v), lo=0.0),
        flag_case("balanced_bidding", "record", lambda v: bb(record=v)),
        Case("balanced_bidding", "rng", "not_a_generator", lambda d: bb(rng=d.draw(st.sampled_from([0, "x"])))),
        *array_cases("balanced_bidding", "initial", lambda v: bb(initial=v), values, lo=0.0),
        Case(
            "balanced_bidding",
            "values",
            "huge",
            lambda d: bb(values=np.broadcast_to(0.5, (1, d.draw(st.integers(10**5, 10**6))))),
        ),
        *array_cases("balanced_bids", "bids", lambda v: balanced_bids(values, alpha, v), values, lo=0.0),
        *array_cases("gsp_revenue", "bids", lambda v: gsp_revenue(v, alpha), values, lo=0.0, shape=False),
        *scalar_cases("hedge_regret_bound", "T", lambda v: hedge_regret_bound(v, 3), lo=1, integer=True),
        *scalar_cases("hedge_regret_bound", "K", lambda v: hedge_regret_bound(10, v), lo=1, integer=True),
        flag_case("hedge_regret_bound", "anytime", lambda v: hedge_regret_bound(10, 3, anytime=v)),
    ]


def torch_cases() -> list[Case]:
    """Constructor arguments of the torch policies (skipped when torch is missing)."""
    try:
        import torch  # noqa: F401
    except ImportError:  # pragma: no cover - optional extra
        return []
    from coopsim.agents.torch import ContinuousPolicy

    def policy(**kw: Any) -> Any:
        return ContinuousPolicy(**{"n_agents": 2, "obs_dim": 3, "hidden": (4,), "device": "cpu", **kw})

    def num(param: str, **kw: Any) -> list[Case]:
        return scalar_cases("ContinuousPolicy", param, lambda v: policy(**{param: v}), **kw)

    obs = np.zeros((2, 2, 3))
    return [
        *num("n_agents", lo=1, integer=True, size=True),
        *num("obs_dim", lo=1, integer=True, size=True),
        *num("low"),
        *num("init_log_std"),
        *num("init_loc"),
        choice_case("ContinuousPolicy", "dist", lambda v: policy(dist=v)),
        choice_case("ContinuousPolicy", "device", lambda v: policy(device=v)),
        Case("ContinuousPolicy", "high", "below_low", lambda d: policy(low=0.5, high=d.draw(st.floats(-5.0, 0.5)))),
        Case(
            "ContinuousPolicy",
            "hidden",
            "bad_width",
            lambda d: policy(hidden=(d.draw(st.sampled_from([0, -3, 2.5, "8", None])),)),
        ),
        Case("ContinuousPolicy", "hidden", "huge", lambda d: policy(hidden=(d.draw(huge_count()),))),
        Case(
            "ContinuousPolicy",
            "scale_feature",
            "out_of_range",
            lambda d: policy(scale_feature=d.draw(st.sampled_from([-1, 3, 100]))),
        ),
        Case(
            "ContinuousPolicy",
            "seed",
            "bad_seed",
            lambda d: policy(seed=d.draw(st.sampled_from([-1, 1.5, "abc", True]))),
        ),
        flag_case("ContinuousPolicy.act", "deterministic", lambda v: policy().act(obs, deterministic=v)),
        *array_cases("ContinuousPolicy.to_tensor", "obs", lambda v: policy().to_tensor(v), obs, shape=False),
        Case(
            "ContinuousPolicy.to_tensor",
            "obs",
            "wrong_shape",
            lambda d: policy().to_tensor(np.zeros(d.draw(st.sampled_from([(2, 2, 4), (2, 3, 3), (2, 6), (6,)])))),
        ),
    ]


#: learners whose shape arguments and act/update inputs get every kind of bad value (one of each
#: feedback kind: full information, bandit, none); the others share the base class's checks and
#: get a subset, enough to catch a learner that overrides them
FULL_COVERAGE = ("hedge", "exp3", "constant")
SUBSET = {
    "n_actions:huge",
    "n_actions:fractional",
    "batch:huge",
    "batch:not_a_number",
    "utility_range:reversed",
    "rng:not_a_generator",
    "rewards:non_finite",
    "rewards:str_list",
    "actions:out_of_range",
    "full:bool_dtype",
    "full:non_finite",
}


def learner_cases() -> list[Case]:
    out = []
    for name in NAMES:
        cases = shape_cases(name)
        out += cases if name in FULL_COVERAGE else [c for c in cases if f"{c.param}:{c.kind}" in SUBSET]
    return out


CASES: list[Case] = learner_cases() + hyper_cases() + bidding_cases() + torch_cases()


test_bad_input_refused = refusal_test(CASES)
