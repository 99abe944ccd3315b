"""Fuzz: bad inputs to the information-acquisition and scoring-rule families are refused by name
(see ``tests/fuzzing.py``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from coopsim.envs.information_acquisition import (
    BeliefElicitation,
    EffortReportGame,
    InformationAcquisitionEnv,
    make_batched_env,
    simulate,
)
from coopsim.mechanisms.information import (
    DecisionPlugin,
    ExploreThenCommit,
    InformationMechanism,
    InformationModel,
    OptimalPlugin,
    ScoringPlugin,
    TablePlugin,
    agent_utilities,
    best_deterministic,
    best_responses,
    build_lp,
    ic_report,
    ic_violation,
    instance_a,
    instance_b,
    lp_size,
    mix_proper_score,
    optimal_mechanism,
    principal_utility,
    random_model,
    run_online,
    sample_rounds,
    uncorrelated_mechanism,
)
from coopsim.mechanisms.information.online_principal import regret_benchmarks
from coopsim.mechanisms.scoring import (
    DecisionRule,
    LogarithmicRule,
    QuadraticRule,
    SavageRule,
    ScaledRule,
    SphericalRule,
    check_propriety,
    check_simplex,
    posteriors,
)
from fuzzing import (
    Case,
    array_cases,
    choice_case,
    flag_case,
    huge_count,
    not_a_number,
    refusal_test,
    scalar_cases,
)
from hypothesis import strategies as st

RNG = np.random.default_rng(0)
MODEL = instance_a()
PRIOR = np.array([0.5, 0.5])
COSTS0 = np.array([0.0, 0.1])
SIGNALS = MODEL.signals.copy()  # (A=2, T=2, S=2)
UTIL = np.eye(2)
MECH = optimal_mechanism(MODEL)
PHI = np.asarray(MECH.recommendation, dtype=float).copy()  # (2,)
PAY = np.asarray(MECH.payments, dtype=float).copy()  # (1, 2, 2, 2)
QUAD = QuadraticRule()
REPORT = np.array([[0.3, 0.7], [0.5, 0.5]])
OUTCOME = np.array([0, 1])
PRINCIPAL = ExploreThenCommit(MODEL, 10)
ELICIT = BeliefElicitation()
BE_TYPES = np.array([[[0.4, 1.0]]])
BE_ACTIONS = np.array([[0.4]])
EFFORT = EffortReportGame()
ER_TYPES = np.array([[[0.2, 0.5, 0.7]]])
ER_ACTIONS = np.array([[float(EFFORT.obedient_truthful_plan(0))]])
ENV = InformationAcquisitionEnv(model="A", batch_size=2)
ENV.reset(seed=0)
SS = np.random.SeedSequence(0)


def _not_a_flag_or_none(data: st.DataObject) -> Any:
    """A value that is neither True, False nor None (for options where None means "default")."""
    return data.draw(st.sampled_from(["yes", "no", "true", 1, 0, 1.0, [True]]), label="value")


def _not_a_dict(data: st.DataObject) -> Any:
    return data.draw(st.sampled_from(["garbage", 5, [("eps", 0.1)], 1.5]), label="value")


def _not_a_model(data: st.DataObject) -> Any:
    return data.draw(st.sampled_from([5, None, np.eye(2), "zzq", object()]), label="value")


def _not_a_mechanism(data: st.DataObject) -> Any:
    return data.draw(st.sampled_from([5, None, np.eye(2), "zzq", object()]), label="value")


def optional_scalar_cases(entry: str, param: str, make: Any, **kw: Any) -> list[Case]:
    """``scalar_cases`` of a parameter for which None is valid (the default): not-a-number never draws None."""
    some = not_a_number().filter(lambda v: v is not None)
    return [
        Case(entry, param, c.kind, lambda d: make(d.draw(some, label="value"))) if c.kind == "not_a_number" else c
        for c in scalar_cases(entry, param, make, **kw)
    ]


def _mech(rec: Any = PHI, pay: Any = PAY, decision: Any = None) -> InformationMechanism:
    return InformationMechanism(rec, pay, decision)


CASES: list[Case] = [
    # -- the model ---------------------------------------------------------------------------------
    *array_cases(
        "InformationModel", "prior", lambda v: InformationModel(v, [COSTS0], SIGNALS, UTIL), PRIOR, lo=0.0, hi=1.0
    ),
    *array_cases(
        "InformationModel",
        "costs",
        lambda v: InformationModel(PRIOR, [v], SIGNALS, UTIL),
        COSTS0,
        lo=0.0,
        hi=1.0,
        shape=False,  # a different number of effort levels is blamed on the signal table (both fit)
    ),
    Case(
        "InformationModel",
        "costs",
        "not_a_sequence",
        lambda d: InformationModel(PRIOR, d.draw(st.sampled_from(["ab", 5, None, 0.1])), SIGNALS, UTIL),
    ),
    *array_cases(
        "InformationModel", "signals", lambda v: InformationModel(PRIOR, [COSTS0], v, UTIL), SIGNALS, lo=0.0, hi=1.0
    ),
    *array_cases(
        "InformationModel",
        "utility",
        lambda v: InformationModel(PRIOR, [COSTS0], SIGNALS, v),
        UTIL,
        lo=0.0,
        hi=1.0,
        shape=False,  # any number of decisions (rows) is valid; the wrong number of states is below
    ),
    Case(
        "InformationModel",
        "utility",
        "wrong_states",
        lambda d: InformationModel(PRIOR, [COSTS0], SIGNALS, np.ones((2, d.draw(st.sampled_from([1, 3]))))),
    ),
    *array_cases(
        "InformationModel.conditionally_independent",
        "signals",
        lambda v: InformationModel.conditionally_independent(PRIOR, [COSTS0], [v], UTIL),
        SIGNALS,
        lo=0.0,
        hi=1.0,
    ),
    Case(
        "InformationModel.conditionally_independent",
        "costs",
        "not_a_sequence",
        lambda d: InformationModel.conditionally_independent(
            PRIOR, d.draw(st.sampled_from([5, None, 0.1])), [SIGNALS], UTIL
        ),
    ),
    *scalar_cases("instance_a", "cost", lambda v: instance_a(cost=v), lo=0.0, hi=1.0),
    *scalar_cases("instance_a", "accuracy", lambda v: instance_a(accuracy=v), lo=0.5, hi=1.0),
    *scalar_cases("instance_b", "n_agents", lambda v: instance_b(n_agents=v), lo=1, integer=True, size=True),
    *scalar_cases("random_model", "n_agents", lambda v: random_model(RNG, n_agents=v), lo=1, integer=True, size=True),
    *scalar_cases("random_model", "n_signals", lambda v: random_model(RNG, n_signals=v), lo=1, integer=True, size=True),
    *scalar_cases("random_model", "concentration", lambda v: random_model(RNG, concentration=v), lo=0.0),
    *scalar_cases("random_model", "max_cost", lambda v: random_model(RNG, max_cost=v), lo=0.0, hi=1.0),
    flag_case("random_model", "product", lambda v: random_model(RNG, product=v)),
    Case("random_model", "rng", "not_a_generator", lambda d: random_model(d.draw(st.sampled_from([0, None, "x"])))),
    # -- the optimal mechanism -------------------------------------------------------------------------
    Case("optimal_mechanism", "model", "wrong_type", lambda d: optimal_mechanism(_not_a_model(d))),
    *optional_scalar_cases("optimal_mechanism", "cap", lambda v: optimal_mechanism(MODEL, cap=v), lo=0.0),
    *scalar_cases("optimal_mechanism", "eps", lambda v: optimal_mechanism(MODEL, eps=v), lo=0.0),
    *scalar_cases("optimal_mechanism", "margin", lambda v: optimal_mechanism(MODEL, margin=v), lo=0.0),
    *scalar_cases("optimal_mechanism", "payment_margin", lambda v: optimal_mechanism(MODEL, payment_margin=v), lo=0.0),
    *scalar_cases("optimal_mechanism", "tol", lambda v: optimal_mechanism(MODEL, tol=v), lo=0.0),
    *scalar_cases(
        "optimal_mechanism",
        "grid",
        lambda v: optimal_mechanism(MODEL, restriction="uncorrelated", grid=v),
        lo=1,
        integer=True,
        size=True,
    ),
    flag_case("optimal_mechanism", "verify", lambda v: optimal_mechanism(MODEL, verify=v)),
    flag_case("optimal_mechanism", "attain", lambda v: optimal_mechanism(MODEL, attain=v)),
    Case(
        "optimal_mechanism",
        "require_ir",
        "bad_flag",
        lambda d: optimal_mechanism(MODEL, require_ir=_not_a_flag_or_none(d)),
    ),
    choice_case("optimal_mechanism", "restriction", lambda v: optimal_mechanism(MODEL, restriction=v)),
    choice_case("optimal_mechanism", "ic_mode", lambda v: optimal_mechanism(MODEL, ic_mode=v)),
    choice_case("optimal_mechanism", "payment_scope", lambda v: optimal_mechanism(MODEL, payment_scope=v)),
    choice_case(
        "optimal_mechanism", "uncorrelated_payments", lambda v: optimal_mechanism(MODEL, uncorrelated_payments=v)
    ),
    *scalar_cases("build_lp", "margin", lambda v: build_lp(MODEL, margin=v), lo=0.0),
    *scalar_cases("build_lp", "eps", lambda v: build_lp(MODEL, eps=v), lo=0.0),
    Case("build_lp", "model", "wrong_type", lambda d: build_lp(_not_a_model(d))),
    *scalar_cases("best_deterministic", "eps", lambda v: best_deterministic(MODEL, eps=v), lo=0.0),
    flag_case("best_deterministic", "verify", lambda v: best_deterministic(MODEL, verify=v)),
    *scalar_cases(
        "uncorrelated_mechanism", "grid", lambda v: uncorrelated_mechanism(MODEL, grid=v), lo=1, integer=True, size=True
    ),
    choice_case("uncorrelated_mechanism", "payments", lambda v: uncorrelated_mechanism(MODEL, payments=v)),
    *array_cases("lp_size", "n_actions", lambda v: lp_size(v, (2,), 2), np.array([2]), lo=1, integer=True, shape=False),
    *scalar_cases("lp_size", "n_states", lambda v: lp_size((2,), (2,), v), lo=1, integer=True),
    choice_case("lp_size", "ic_mode", lambda v: lp_size((2,), (2,), 2, ic_mode=v)),
    # -- IC checker and utilities -----------------------------------------------------------------------
    Case("ic_violation", "model", "wrong_type", lambda d: ic_violation(_not_a_model(d), MECH)),
    Case("ic_violation", "mechanism", "wrong_type", lambda d: ic_violation(MODEL, _not_a_mechanism(d))),
    choice_case("ic_violation", "mode", lambda v: ic_violation(MODEL, MECH, mode=v)),
    choice_case("ic_violation", "method", lambda v: ic_violation(MODEL, MECH, method=v)),
    *array_cases("ic_violation", "recommendation", lambda v: ic_violation(MODEL, _mech(rec=v)), PHI, lo=0.0, hi=1.0),
    # payments within 1e-9 below 0 pass (the LP solver's tolerance); anything lower is refused
    *array_cases("ic_violation", "payments", lambda v: ic_violation(MODEL, _mech(pay=v)), PAY, lo=-1e-9),
    *array_cases(
        "ic_violation",
        "decision",
        lambda v: ic_violation(MODEL, _mech(decision=v)),
        np.zeros((2, 2)),
        lo=0,
        hi=1,
        integer=True,
    ),
    *scalar_cases("ic_report", "tol", lambda v: ic_report(MODEL, MECH, tol=v), lo=0.0),
    *scalar_cases("best_responses", "tol", lambda v: best_responses(MODEL, MECH, tol=v), lo=0.0),
    Case("best_responses", "mechanism", "wrong_type", lambda d: best_responses(MODEL, _not_a_mechanism(d))),
    Case("principal_utility", "mechanism", "wrong_type", lambda d: principal_utility(MODEL, _not_a_mechanism(d))),
    Case("principal_utility", "strategies", "not_a_dict", lambda d: principal_utility(MODEL, MECH, _not_a_dict(d))),
    *array_cases(
        "principal_utility",
        "strategies",
        lambda v: principal_utility(MODEL, MECH, {"effort": [v]}),
        np.array([0, 1]),
        lo=0,
        hi=1,
        integer=True,
    ),
    *array_cases(
        "agent_utilities",
        "strategies",
        lambda v: agent_utilities(MODEL, MECH, {"report": [v]}),
        np.array([[0, 1], [0, 1]]),
        lo=0,
        hi=1,
        integer=True,
    ),
    # -- the online principal ----------------------------------------------------------------------------
    Case("ExploreThenCommit", "template", "wrong_type", lambda d: ExploreThenCommit(_not_a_model(d), 10)),
    *scalar_cases("ExploreThenCommit", "horizon", lambda v: ExploreThenCommit(MODEL, v), lo=1, integer=True),
    *scalar_cases("ExploreThenCommit", "delta", lambda v: ExploreThenCommit(MODEL, 10, delta=v), lo=0.0, hi=1.0),
    *scalar_cases("ExploreThenCommit", "rho", lambda v: ExploreThenCommit(MODEL, 10, rho=v), lo=0.0, hi=1.0),
    flag_case("ExploreThenCommit", "rho_decay", lambda v: ExploreThenCommit(MODEL, 10, rho_decay=v)),
    choice_case("ExploreThenCommit", "margin_mode", lambda v: ExploreThenCommit(MODEL, 10, margin_mode=v)),
    *scalar_cases(
        "ExploreThenCommit.explore_profiles",
        "stop",
        lambda v: PRINCIPAL.explore_profiles(0, v),
        lo=0,
        integer=True,
        size=True,
    ),
    *array_cases(
        "ExploreThenCommit.observe",
        "profiles",
        lambda v: PRINCIPAL.observe(v, np.array([0, 1]), np.array([0, 1])),
        np.array([0, 1]),
        lo=0,
        hi=1,
        integer=True,
    ),
    *array_cases(
        "ExploreThenCommit.observe",
        "signals",
        lambda v: PRINCIPAL.observe(np.array([0, 1]), v, np.array([0, 1])),
        np.array([0, 1]),
        lo=0,
        hi=1,
        integer=True,
        dtypes=("str", "complex"),
    ),
    *scalar_cases("run_online", "horizon", lambda v: run_online(MODEL, v, RNG), lo=1, integer=True),
    Case(  # kappa T^(2/3) sampled exploration rounds: past any memory budget
        "run_online", "horizon", "huge", lambda d: run_online(MODEL, d.draw(huge_count()), RNG, kappa=1e6)
    ),
    Case("run_online", "rng", "not_a_generator", lambda d: run_online(MODEL, 10, d.draw(st.sampled_from([0, None])))),
    *scalar_cases("run_online", "ic_tol", lambda v: run_online(MODEL, 10, RNG, ic_tol=v), lo=0.0),
    *array_cases(
        "sample_rounds",
        "profiles",
        lambda v: sample_rounds(MODEL, v, RNG),
        np.array([0, 1]),
        lo=0,
        hi=1,
        integer=True,
        shape=False,  # any number of rounds is valid
    ),
    Case("sample_rounds", "profiles", "not_1d", lambda d: sample_rounds(MODEL, np.zeros((2, 2), dtype=int), RNG)),
    Case("sample_rounds", "rng", "not_a_generator", lambda d: sample_rounds(MODEL, np.array([0]), d.draw(st.just(0)))),
    *scalar_cases("regret_benchmarks", "cap", lambda v: regret_benchmarks(MODEL, v), lo=0.0),
    Case("regret_benchmarks", "model", "wrong_type", lambda d: regret_benchmarks(_not_a_model(d))),
    *scalar_cases("mix_proper_score", "rho", lambda v: mix_proper_score(MODEL, MECH, v), lo=0.0, hi=1.0),
    *scalar_cases("mix_proper_score", "bound", lambda v: mix_proper_score(MODEL, MECH, 0.1, v), lo=0.0),
    Case("mix_proper_score", "mechanism", "wrong_type", lambda d: mix_proper_score(MODEL, _not_a_mechanism(d), 0.1)),
    # -- the plug-ins ------------------------------------------------------------------------------------------
    Case("OptimalPlugin", "model", "wrong_type", lambda d: OptimalPlugin(_not_a_model(d))),
    Case("OptimalPlugin", "mechanism", "wrong_type", lambda d: OptimalPlugin(MODEL, d.draw(st.sampled_from([5, "x"])))),
    *scalar_cases("ScoringPlugin", "bound", lambda v: ScoringPlugin(MODEL, bound=v), lo=0.0),
    choice_case("ScoringPlugin", "rule", lambda v: ScoringPlugin(MODEL, rule=v)),
    Case("ScoringPlugin", "rule_params", "not_a_dict", lambda d: ScoringPlugin(MODEL, rule_params=_not_a_dict(d))),
    *array_cases(
        "ScoringPlugin", "profile", lambda v: ScoringPlugin(MODEL, profile=v), np.array([1]), lo=0, hi=1, integer=True
    ),
    *array_cases(
        "DecisionPlugin", "profile", lambda v: DecisionPlugin(MODEL, profile=v), np.array([1]), lo=0, hi=1, integer=True
    ),
    *scalar_cases("DecisionPlugin", "bound", lambda v: DecisionPlugin(MODEL, bound=v), lo=0.0),
    *array_cases(
        "TablePlugin",
        "phi",
        lambda v: TablePlugin(MODEL, v, MODEL.decision_flat, PAY.reshape(1, 2, 2, 2)),
        PHI,
        lo=0.0,
        hi=1.0,
    ),
    *array_cases(
        "TablePlugin",
        "decision",
        lambda v: TablePlugin(MODEL, PHI, v, PAY.reshape(1, 2, 2, 2)),
        np.zeros((2, 2)),
        lo=0,
        hi=1,
        integer=True,
    ),
    *array_cases("TablePlugin", "payments", lambda v: TablePlugin(MODEL, PHI, MODEL.decision_flat, v), PAY, lo=0.0),
    # -- the environment and the one-shot games ----------------------------------------------------------------
    choice_case("InformationAcquisitionEnv", "model", lambda v: InformationAcquisitionEnv(model=v)),
    Case(
        "InformationAcquisitionEnv",
        "model",
        "wrong_type",
        lambda d: InformationAcquisitionEnv(model=d.draw(st.sampled_from([5, None, np.eye(2)]))),
    ),
    choice_case("InformationAcquisitionEnv", "mechanism", lambda v: InformationAcquisitionEnv(mechanism=v)),
    Case(
        "InformationAcquisitionEnv",
        "mechanism",
        "wrong_family",
        lambda d: InformationAcquisitionEnv(mechanism=d.draw(st.sampled_from(["median", "vcg", "weakest_link_gate"]))),
    ),
    *scalar_cases(
        "InformationAcquisitionEnv",
        "batch_size",
        lambda v: InformationAcquisitionEnv(model="A", batch_size=v),
        lo=1,
        integer=True,
        size=True,
    ),
    *scalar_cases(
        "InformationAcquisitionEnv",
        "rounds",
        lambda v: InformationAcquisitionEnv(model="A", rounds=v),
        lo=1,
        integer=True,
    ),
    choice_case("InformationAcquisitionEnv", "render_mode", lambda v: InformationAcquisitionEnv(render_mode=v)),
    Case(
        "InformationAcquisitionEnv",
        "model_params",
        "not_a_dict",
        lambda d: InformationAcquisitionEnv(model="A", model_params=_not_a_dict(d)),
    ),
    Case(
        "InformationAcquisitionEnv",
        "model_params",
        "unknown_key",
        lambda d: InformationAcquisitionEnv(model="A", model_params={d.draw(st.sampled_from(["zzq", "costs"])): 0.1}),
    ),
    *scalar_cases(
        "InformationAcquisitionEnv",
        "bound",
        lambda v: InformationAcquisitionEnv(model="A", mechanism="scoring", bound=v),
        lo=0.0,
    ),
    *array_cases(
        "InformationAcquisitionEnv.step",
        "actions",
        lambda v: ENV.step(v),
        np.zeros((2, 1)),
        lo=0,
        hi=1,
        integer=True,
    ),
    Case(
        "InformationAcquisitionEnv.reset",
        "reset_mask",
        "not_booleans",
        lambda d: ENV.reset(
            options={"reset_mask": d.draw(st.sampled_from([np.array([0.5, 1.0]), np.array(["a", "b"])]))}
        ),
    ),
    *scalar_cases("make_batched_env", "max_cycles", lambda v: make_batched_env(max_cycles=v), lo=2, integer=True),
    *scalar_cases("simulate", "rounds", lambda v: simulate({"model": "A"}, SS, v, 1, 1), lo=1, integer=True),
    *scalar_cases("simulate", "batch", lambda v: simulate({"model": "A"}, SS, 1, v, 1), lo=1, integer=True, size=True),
    *scalar_cases("simulate", "record_every", lambda v: simulate({"model": "A"}, SS, 1, 1, v), lo=1, integer=True),
    choice_case(
        "simulate",
        "agents.0.learner",
        lambda v: simulate({"model": "A", "agents": [{"learner": v}]}, SS, 1, 1, 1),
    ),
    *scalar_cases("BeliefElicitation", "n_agents", lambda v: BeliefElicitation(n_agents=v), lo=1, integer=True),
    *optional_scalar_cases("BeliefElicitation", "belief", lambda v: BeliefElicitation(belief=v), lo=0.0, hi=1.0),
    *scalar_cases("BeliefElicitation", "a", lambda v: BeliefElicitation(a=v), lo=0.0),
    choice_case("BeliefElicitation", "utility", lambda v: BeliefElicitation(utility=v)),
    choice_case("BeliefElicitation", "rule", lambda v: BeliefElicitation(rule=v)),
    Case(
        "BeliefElicitation",
        "rule",
        "wrong_family",
        lambda d: BeliefElicitation(rule=d.draw(st.sampled_from(["median", "vcg", "information_lp"]))),
    ),
    *array_cases("BeliefElicitation.play", "types", lambda v: ELICIT.play(v, BE_ACTIONS), BE_TYPES, lo=0.0, hi=1.0),
    *array_cases("BeliefElicitation.play", "actions", lambda v: ELICIT.play(BE_TYPES, v), BE_ACTIONS, lo=0.0, hi=1.0),
    *array_cases(
        "BeliefElicitation.deviation_utilities",
        "candidates",
        lambda v: ELICIT.deviation_utilities(BE_TYPES, BE_ACTIONS, v),
        np.linspace(0, 1, 3),
        lo=0.0,
        hi=1.0,
        shape=False,
    ),
    *scalar_cases(
        "BeliefElicitation.sample_types", "batch", lambda v: ELICIT.sample_types(RNG, v), lo=1, integer=True, size=True
    ),
    *scalar_cases("EffortReportGame", "max_plans", lambda v: EffortReportGame(max_plans=v), lo=1, integer=True),
    *array_cases("EffortReportGame.play", "types", lambda v: EFFORT.play(v, ER_ACTIONS), ER_TYPES, lo=0.0, hi=1.0),
    *array_cases(
        "EffortReportGame.play",
        "actions",
        lambda v: EFFORT.play(ER_TYPES, v),
        ER_ACTIONS,
        lo=0.0,
        hi=EFFORT.action_high,
        integer=True,
    ),
    *array_cases(
        "EffortReportGame.deviation_utilities",
        "types",
        lambda v: EFFORT.deviation_utilities(v, ER_ACTIONS, np.arange(3.0)),
        ER_TYPES,
        lo=0.0,
        hi=1.0,
    ),
    *scalar_cases(
        "EffortReportGame.sample_types", "batch", lambda v: EFFORT.sample_types(RNG, v), lo=1, integer=True, size=True
    ),
    # -- scoring rules ---------------------------------------------------------------------------------------------
    choice_case("QuadraticRule", "form", lambda v: QuadraticRule(form=v)),
    *optional_scalar_cases("QuadraticRule", "m", lambda v: QuadraticRule(m=v), lo=2, integer=True),
    *optional_scalar_cases("LogarithmicRule", "eps", lambda v: LogarithmicRule(eps=v), lo=0.0, hi=0.5),
    flag_case("LogarithmicRule", "allow_infinite", lambda v: LogarithmicRule(allow_infinite=v)),
    *optional_scalar_cases("SphericalRule", "m", lambda v: SphericalRule(m=v), lo=2, integer=True),
    *array_cases("DecisionRule", "utility", lambda v: DecisionRule(v), UTIL, shape=False),  # any (D, m >= 2) is valid
    Case(
        "DecisionRule",
        "utility",
        "wrong_shape",
        lambda d: DecisionRule(d.draw(st.sampled_from([np.ones(3), np.ones((2, 1))]))),
    ),
    Case("SavageRule", "G", "not_callable", lambda d: SavageRule(d.draw(st.sampled_from([5, "x", None])), np.sign)),
    flag_case("SavageRule", "strict", lambda v: SavageRule(np.sum, np.sign, strict=v)),
    Case(
        "SavageRule",
        "score_range",
        "bad_range",
        lambda d: SavageRule(
            np.sum, np.sign, score_range=d.draw(st.sampled_from([(1.0, 0.0), (0.0, np.inf), "ab", 5]))
        ),
    ),
    Case("ScaledRule", "base", "wrong_type", lambda d: ScaledRule(d.draw(st.sampled_from([5, "quadratic"])), 1.0)),
    *scalar_cases("ScaledRule", "alpha", lambda v: ScaledRule(QUAD, v), lo=0.0),
    *array_cases("ScaledRule", "shift", lambda v: ScaledRule(QUAD, 1.0, v), np.zeros(2), shape=False),
    *scalar_cases("ScoringRule.scaled", "bound", lambda v: QUAD.scaled(v), lo=0.0),
    *array_cases("QuadraticRule.__call__", "report", lambda v: QUAD(v, OUTCOME), REPORT, lo=0.0, hi=1.0, shape=False),
    *array_cases(
        "QuadraticRule.__call__", "outcome", lambda v: QUAD(REPORT, v), OUTCOME, lo=0, hi=1, integer=True, shape=False
    ),
    *array_cases(
        "LogarithmicRule.__call__",
        "report",
        lambda v: LogarithmicRule(eps=0.1)(v, OUTCOME),
        REPORT,
        lo=0.0,
        hi=1.0,
        shape=False,
    ),
    *array_cases(
        "SphericalRule.__call__",
        "outcome",
        lambda v: SphericalRule()(REPORT, v),
        OUTCOME,
        lo=0,
        hi=1,
        integer=True,
        shape=False,  # outcomes broadcast against the reports: (2, 2) is valid
    ),
    Case(
        "SphericalRule.__call__",
        "outcome",
        "not_broadcastable",
        lambda d: SphericalRule()(REPORT, np.zeros(d.draw(st.sampled_from([3, 5])), dtype=int)),
    ),
    *array_cases(  # reports broadcast against the outcomes: a leading axis may be added
        "DecisionRule.__call__", "report", lambda v: DecisionRule(UTIL)(v, OUTCOME), REPORT, lo=0.0, hi=1.0, shape=False
    ),
    Case("DecisionRule.__call__", "report", "wrong_m", lambda d: DecisionRule(UTIL)(np.full((2, 3), 1 / 3), OUTCOME)),
    *array_cases(
        "QuadraticRule.expected", "belief", lambda v: QUAD.expected(REPORT, v), REPORT, lo=0.0, hi=1.0, shape=False
    ),
    *array_cases("QuadraticRule.effort_gain", "probs", lambda v: QUAD.effort_gain(REPORT, v), PRIOR, lo=0.0, hi=1.0),
    *array_cases("check_propriety", "belief", lambda v: check_propriety(QUAD, v), PRIOR, lo=0.0, hi=1.0),
    *scalar_cases(
        "check_propriety",
        "n_samples",
        lambda v: check_propriety(QUAD, PRIOR, n_samples=v),
        lo=1,
        integer=True,
        size=True,
    ),
    *scalar_cases("check_propriety", "tol", lambda v: check_propriety(QUAD, PRIOR, n_samples=10, tol=v), lo=0.0),
    Case(
        "check_propriety",
        "rng",
        "not_a_generator",
        lambda d: check_propriety(QUAD, PRIOR, d.draw(st.sampled_from([5, "x"]))),
    ),
    Case(
        "check_propriety",
        "rule",
        "wrong_type",
        lambda d: check_propriety(d.draw(st.sampled_from([5, "quadratic"])), PRIOR),
    ),
    *array_cases("check_simplex", "p", lambda v: check_simplex(v, "p"), PRIOR, lo=0.0, hi=1.0, shape=False),
    *scalar_cases("check_simplex", "atol", lambda v: check_simplex(PRIOR, "p", atol=v), lo=0.0),
    *array_cases("posteriors", "prior", lambda v: posteriors(v, UTIL), PRIOR, lo=0.0, hi=1.0),
    *array_cases("posteriors", "likelihood", lambda v: posteriors(PRIOR, v), UTIL, lo=0.0, hi=1.0),
]


test_bad_input_refused = refusal_test(CASES)


def test_reported_faults() -> None:
    """The faults users reported, each a named refusal now."""
    with pytest.raises(ValueError, match="^margin"):
        optimal_mechanism(MODEL, margin=-1.0)
    with pytest.raises(TypeError, match="^verify"):
        optimal_mechanism(MODEL, verify="no")
