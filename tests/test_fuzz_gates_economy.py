"""Fuzz: bad inputs to the gate family and the agent economy are refused by name (see ``tests/fuzzing.py``)."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.envs.agent_economy import (
    ActionConfig,
    AgentEconomy,
    AuditConfig,
    GateConfig,
    Market,
    MarketConfig,
    PopulationConfig,
    SettlementConfig,
    make_batched_env,
    simulate,
)
from coopsim.envs.agent_economy_market import tier_counts
from coopsim.mechanisms import gates as G
from coopsim.mechanisms.facility import GeneralizedMedian
from coopsim.mechanisms.gates import properties as P
from coopsim.mechanisms.gates.properties import check_t1c
from coopsim.mechanisms.scoring import QuadraticRule
from fuzzing import (
    Case,
    array_cases,
    choice_case,
    flag_case,
    refusal_test,
    scalar_cases,
)
from hypothesis import strategies as st

RNG = np.random.default_rng(0)
R3 = np.array([[0.6, 0.7, 0.8], [0.2, 0.9, 0.5]])
IH = np.array([0.9, 0.4])
TIERS = np.array([1, 3])
ELAPSED = np.array([2.0, 5.0])
WLG = G.WeakestLinkGate()
MARKET = Market()
ECON = AgentEconomy(n_agents=3, batch_size=2, horizon=5)
ECON.reset(seed=0)
SS = np.random.SeedSequence(0)


def _garbage(data: st.DataObject) -> object:
    return data.draw(st.sampled_from(["garbage", 5, 1.5, [1, 2], None, object()]), label="value")


def _not_none(data: st.DataObject) -> object:
    return data.draw(st.sampled_from(["garbage", 5, 1.5, [1, 2], object()]), label="value")


def _finite_only(cases: list[Case]) -> list[Case]:
    """Drop the non-finite case of a table where inf is valid (ceilings: no ceiling from some tier on)."""
    return [c for c in cases if c.kind != "non_finite"]


def _econ(**kw: object) -> AgentEconomy:
    return AgentEconomy(n_agents=2, horizon=3, **kw)


CASES: list[Case] = [
    # -- tables --------------------------------------------------------------------------------------------
    *array_cases(
        "validate_thresholds", "thresholds", G.validate_thresholds, G.DEFAULT_THRESHOLDS, lo=0.0, hi=1.0, shape=False
    ),
    *_finite_only(
        array_cases(
            "validate_ceilings",
            "ceilings",
            G.validate_ceilings,
            G.DEFAULT_CEILINGS,
            lo=0.0,
            dtypes=("bool", "str", "object"),
        )
    ),
    Case("validate_ceilings", "ceilings", "nan", lambda d: G.validate_ceilings(np.r_[0.0, np.nan, 1, 2, 3, 4])),
    Case(
        "validate_thresholds",
        "thresholds",
        "wrong_rows",
        lambda d: G.validate_thresholds(np.zeros(d.draw(st.sampled_from([(4, 6), (2, 6), (3, 6, 1), (3, 1)])))),
    ),
    Case(
        "dimension_tiers",
        "robustness",
        "wrong_last_axis",
        lambda d: G.dimension_tiers(np.full(d.draw(st.sampled_from([(2, 2), (2, 4), ()])), 0.5)),
    ),
    *array_cases("validate_rates", "rates", G.validate_rates, G.DEFAULT_AUDIT_RATES, lo=0.0, shape=False),
    # -- the gate function -----------------------------------------------------------------------------------
    *array_cases("dimension_tiers", "robustness", G.dimension_tiers, R3, lo=0.0, hi=1.0, shape=False),
    *array_cases(
        "dimension_tiers",
        "thresholds",
        lambda v: G.dimension_tiers(R3, v),
        G.DEFAULT_THRESHOLDS,
        lo=0.0,
        hi=1.0,
        shape=False,
    ),
    flag_case("dimension_tiers", "basis_points", lambda v: G.dimension_tiers(R3, basis_points=v)),
    flag_case("dimension_tiers", "validate", lambda v: G.dimension_tiers(R3, validate=v)),
    *array_cases("weakest_link_tier", "ih", lambda v: G.weakest_link_tier(R3, v), IH, lo=0.0, hi=1.0, shape=False),
    *scalar_cases(
        "weakest_link_tier", "ih_threshold", lambda v: G.weakest_link_tier(R3, IH, ih_threshold=v), lo=0.0, hi=1.0
    ),
    flag_case("weakest_link_tier", "basis_points", lambda v: G.weakest_link_tier(R3, basis_points=v)),
    flag_case("weakest_link_tier", "validate", lambda v: G.weakest_link_tier(R3, IH, validate=v)),
    *array_cases("gate_detail", "robustness", G.gate_detail, R3, lo=0.0, hi=1.0, shape=False),
    *scalar_cases("gap_report", "target_tier", lambda v: G.gap_report(R3, v), lo=0, hi=5, integer=True),
    *array_cases("capability_tier", "capability", G.capability_tier, IH, lo=0.0, hi=1.0, shape=False),
    *array_cases("ceiling", "tier", G.ceiling, TIERS, lo=0, hi=5, integer=True, shape=False),
    *_finite_only(  # the table's length sets the tiers: any length >= the tiers asked for is valid
        array_cases(
            "ceiling",
            "ceilings",
            lambda v: G.ceiling(TIERS, v),
            G.DEFAULT_CEILINGS,
            lo=0.0,
            dtypes=("str", "object"),
            shape=False,
        )
    ),
    # -- decay -------------------------------------------------------------------------------------------------
    *array_cases("decay_factor", "elapsed", lambda v: G.decay_factor(v, 0.01), ELAPSED, lo=0.0, shape=False),
    *scalar_cases("decay_factor", "decay_rate", lambda v: G.decay_factor(ELAPSED, v), lo=0.0),
    flag_case("decay_factor", "validate", lambda v: G.decay_factor(ELAPSED, 0.01, validate=v)),
    *array_cases(
        "effective_robustness",
        "certified",
        lambda v: G.effective_robustness(v, ELAPSED, 0.01),
        R3,
        lo=0.0,
        hi=1.0,
        shape=False,
    ),
    *array_cases(
        "time_to_threshold", "score", lambda v: G.time_to_threshold(v, 0.3, 0.01), IH, lo=0.0, hi=1.0, shape=False
    ),
    *scalar_cases("time_to_threshold", "decay_rate", lambda v: G.time_to_threshold(IH, 0.3, v), lo=0.0),
    *array_cases("tier_loss_time", "certified", lambda v: G.tier_loss_time(v), R3, lo=0.0, hi=1.0, shape=False),
    *scalar_cases("tier_loss_time", "ih_threshold", lambda v: G.tier_loss_time(R3, IH, ih_threshold=v), lo=0.0, hi=1.0),
    flag_case("tier_loss_time", "decay_ih", lambda v: G.tier_loss_time(R3, IH, decay_ih=v)),
    # -- audits ------------------------------------------------------------------------------------------------
    *array_cases(
        "audit_probability",
        "tier",
        lambda v: G.audit_probability(v, ELAPSED),
        TIERS,
        lo=0,
        hi=5,
        integer=True,
        shape=False,
    ),
    *array_cases("audit_probability", "elapsed", lambda v: G.audit_probability(TIERS, v), ELAPSED, lo=0.0, shape=False),
    *array_cases(
        "audit_probability",
        "rates",
        lambda v: G.audit_probability(TIERS, ELAPSED, v),
        G.DEFAULT_AUDIT_RATES,
        lo=0.0,
        shape=False,
    ),
    Case(
        "audit_probability",
        "rates",
        "empty",
        lambda d: G.audit_probability(TIERS, ELAPSED, d.draw(st.sampled_from([[], np.zeros(0), [0.0]]))),
    ),
    choice_case("audit_probability", "hazard", lambda v: G.audit_probability(TIERS, ELAPSED, hazard=v)),
    flag_case("audit_probability", "validate", lambda v: G.audit_probability(TIERS, ELAPSED, validate=v)),
    *array_cases(
        "expected_time_to_audit", "tier", G.expected_time_to_audit, TIERS, lo=0, hi=5, integer=True, shape=False
    ),
    *scalar_cases("expected_time_to_audit", "tol", lambda v: G.expected_time_to_audit(TIERS, tol=v), lo=0.0, hi=1.0),
    Case(
        "sample_audits",
        "rng",
        "not_a_generator",
        lambda d: G.sample_audits(d.draw(st.sampled_from([0, "x"])), TIERS, ELAPSED),
    ),
    *array_cases(
        "sample_audits",
        "tier",
        lambda v: G.sample_audits(RNG, v, ELAPSED),
        TIERS,
        lo=0,
        hi=5,
        integer=True,
        shape=False,
    ),
    # -- chains, schedules, market, safety -------------------------------------------------------------------------
    *array_cases("chain_tier", "tiers", G.chain_tier, TIERS, lo=0, integer=True, shape=False),
    *scalar_cases("chain_tier", "axis", lambda v: G.chain_tier(TIERS, axis=v), lo=-1, hi=0, integer=True),
    *array_cases(
        "chain_tier_from_robustness", "robustness", G.chain_tier_from_robustness, R3, lo=0.0, hi=1.0, shape=False
    ),
    *array_cases(
        "ThresholdSchedule", "thresholds", G.ThresholdSchedule, G.DEFAULT_THRESHOLDS, lo=0.0, hi=1.0, shape=False
    ),
    *scalar_cases(
        "ThresholdSchedule.update",
        "t",
        lambda v: G.ThresholdSchedule().update(v, G.DEFAULT_THRESHOLDS),
        lo=0,
        integer=True,
    ),
    *scalar_cases("ThresholdSchedule.at", "t", lambda v: G.ThresholdSchedule().at(v), lo=0, integer=True),
    *array_cases(
        "uniform_share_profit",
        "tiers",
        lambda v: G.uniform_share_profit(v, np.ones(5), np.ones(5)),
        TIERS,
        lo=0,
        integer=True,
        shape=False,
    ),
    *array_cases(
        "uniform_share_profit",
        "demand",
        lambda v: G.uniform_share_profit(TIERS, v, np.ones(5)),
        np.ones(5),
        lo=0.0,
        shape=False,
    ),
    *array_cases("aggregate_safety", "exposure", lambda v: G.aggregate_safety(v, IH), ELAPSED, lo=0.0, shape=False),
    *array_cases(
        "aggregate_safety", "weakest", lambda v: G.aggregate_safety(ELAPSED, v), IH, lo=0.0, hi=1.0, shape=False
    ),
    flag_case("aggregate_safety", "validate", lambda v: G.aggregate_safety(ELAPSED, IH, validate=v)),
    Case("arch_hash", "config", "not_a_dict", lambda d: G.arch_hash(d.draw(st.sampled_from(["x", 5, [1]])))),
    *scalar_cases(
        "profit_gain_at_crossing",
        "tier_before",
        lambda v: P.profit_gain_at_crossing(v, TIERS, np.ones(5), np.ones(5)),
        lo=0,
        hi=4,
        integer=True,
    ),
    *array_cases(
        "profit_gain_at_crossing",
        "others",
        lambda v: P.profit_gain_at_crossing(1, v, np.ones(5), np.ones(5)),
        TIERS,
        lo=0,
        integer=True,
        shape=False,  # any population size is valid
    ),
    *array_cases("check_t2b", "demand", lambda v: P.check_t2b(R3, 0, 0.1, demand=v), np.ones(5), lo=0.0, shape=False),
    *scalar_cases("check_t2b", "dim", lambda v: P.check_t2b(R3, v, 0.1), lo=0, hi=2, integer=True),
    *scalar_cases("check_t3c", "entrant_exposure", lambda v: P.check_t3c(ELAPSED, IH, v, 0.5), lo=0.0),
    *scalar_cases("check_t3c", "entrant_weakest", lambda v: P.check_t3c(ELAPSED, IH, 1.0, v), lo=0.0, hi=1.0),
    flag_case("monotonic_safety_counterexample", "default_table", P.monotonic_safety_counterexample),
    Case(
        "check_t2a",
        "gate",
        "wrong_type",
        lambda d: P.check_t2a(d.draw(st.sampled_from([5, "x", QuadraticRule()])), R3, IH, IH, IH),
    ),
    *scalar_cases("check_t1c", "horizon", lambda v: check_t1c(R3, horizon=v), lo=0, integer=True, size=True),
    # -- gate mechanisms -------------------------------------------------------------------------------------------
    *array_cases(
        "WeakestLinkGate",
        "thresholds",
        lambda v: G.WeakestLinkGate(thresholds=v),
        G.DEFAULT_THRESHOLDS,
        lo=0.0,
        hi=1.0,
        shape=False,
    ),
    *_finite_only(
        array_cases(
            "WeakestLinkGate",
            "ceilings",
            lambda v: G.WeakestLinkGate(ceilings=v),
            G.DEFAULT_CEILINGS,
            lo=0.0,
            dtypes=("str", "object"),
        )
    ),
    *array_cases(
        "WeakestLinkGate",
        "audit_rates",
        lambda v: G.WeakestLinkGate(audit_rates=v),
        G.DEFAULT_AUDIT_RATES,
        lo=0.0,
        shape=False,
    ),
    *scalar_cases("WeakestLinkGate", "ih_threshold", lambda v: G.WeakestLinkGate(ih_threshold=v), lo=0.0, hi=1.0),
    *scalar_cases("WeakestLinkGate", "decay_rate", lambda v: G.WeakestLinkGate(decay_rate=v), lo=0.0),
    choice_case("WeakestLinkGate", "ih_rule", lambda v: G.WeakestLinkGate(ih_rule=v)),
    choice_case("WeakestLinkGate", "audit_hazard", lambda v: G.WeakestLinkGate(audit_hazard=v)),
    flag_case("WeakestLinkGate", "basis_points", lambda v: G.WeakestLinkGate(basis_points=v)),
    *array_cases("WeakestLinkGate.__call__", "robustness", lambda v: WLG(v, IH), R3, lo=0.0, hi=1.0, shape=False),
    *array_cases("WeakestLinkGate.__call__", "ih", lambda v: WLG(R3, v), IH, lo=0.0, hi=1.0, shape=False),
    *array_cases("WeakestLinkGate.ceiling", "tier", WLG.ceiling, TIERS, lo=0, hi=5, integer=True, shape=False),
    *array_cases(
        "WeakestLinkGate.effective_tier",
        "elapsed",
        lambda v: WLG.effective_tier(R3, IH, v),
        ELAPSED,
        lo=0.0,
        shape=False,
    ),
    flag_case("WeakestLinkGate.effective_tier", "decay_ih", lambda v: WLG.effective_tier(R3, IH, ELAPSED, decay_ih=v)),
    *array_cases(
        "WeakestLinkGate.audit_probability",
        "tier",
        lambda v: WLG.audit_probability(v, ELAPSED),
        TIERS,
        lo=0,
        hi=5,
        integer=True,
        shape=False,
    ),
    *array_cases(
        "CapabilityGate",
        "capability_thresholds",
        lambda v: G.CapabilityGate(capability_thresholds=v),
        G.DEFAULT_CAPABILITY_THRESHOLDS,
        lo=0.0,
        hi=1.0,
        shape=False,  # another length is another number of tiers (then the ceilings must match)
    ),
    *array_cases(
        "CapabilityGate.__call__",
        "capability",
        lambda v: G.CapabilityGate()(capability=v),
        IH,
        lo=0.0,
        hi=1.0,
        shape=False,
    ),
    *scalar_cases("NoGate", "n_tiers", lambda v: G.NoGate(n_tiers=v), lo=2, integer=True, size=True),
    *array_cases("NoGate.__call__", "robustness", lambda v: G.NoGate()(v), R3, lo=0.0, hi=1.0, shape=False),
    # -- agent economy: sizes and options ---------------------------------------------------------------------------
    *scalar_cases(
        "AgentEconomy", "n_agents", lambda v: AgentEconomy(n_agents=v, horizon=3), lo=1, integer=True, size=True
    ),
    *scalar_cases("AgentEconomy", "batch_size", lambda v: _econ(batch_size=v), lo=1, integer=True, size=True),
    *scalar_cases("AgentEconomy", "horizon", lambda v: AgentEconomy(n_agents=2, horizon=v), lo=1, integer=True),
    choice_case("AgentEconomy", "render_mode", lambda v: _econ(render_mode=v)),
    choice_case("AgentEconomy", "metrics", lambda v: _econ(metrics=v)),
    Case("AgentEconomy", "metrics", "unknown_name", lambda d: _econ(metrics=["t", "zzq"])),
    choice_case("AgentEconomy", "gate", lambda v: _econ(gate=v)),
    Case(
        "AgentEconomy",
        "gate",
        "wrong_family",
        lambda d: _econ(gate=d.draw(st.sampled_from(["median", "quadratic", "vcg"]))),
    ),
    Case(
        "AgentEconomy",
        "gate",
        "wrong_family_object",
        lambda d: _econ(gate=d.draw(st.sampled_from([QuadraticRule(), GeneralizedMedian([0.25, 0.75])]))),
    ),
    Case("AgentEconomy", "zz_unknown", "unknown_keyword", lambda d: _econ(zz_unknown=1)),
    Case("AgentEconomy", "population", "wrong_type", lambda d: _econ(population=_not_none(d))),
    Case("AgentEconomy", "market", "wrong_type", lambda d: _econ(market=AuditConfig())),
    # -- the old flat keywords ------------------------------------------------------------------------------------------
    Case("AgentEconomy", "templates", "garbage", lambda d: _econ(templates=_not_none(d))),
    Case(
        "AgentEconomy",
        "templates",
        "bad_row",
        lambda d: _econ(
            templates=[d.draw(st.sampled_from([(1, "x", "a", 0.1, 0.1, 0.2), (1.5, "x", 1, 0.1, 0.1, 0.2), (1, "x")]))]
        ),
    ),
    *array_cases(
        "AgentEconomy",
        "tier_weights",
        lambda v: _econ(tier_weights=v),
        np.array([0.4, 0.25, 0.2, 0.1, 0.05]),
        lo=0.0,
        hi=1.0,
    ),
    *array_cases("AgentEconomy", "demand_scale", lambda v: _econ(demand_scale=v), np.ones(5), lo=0.0),
    *array_cases("AgentEconomy", "durations", lambda v: _econ(durations=v), np.ones(5), lo=1, integer=True),
    *[
        c
        for c in scalar_cases("AgentEconomy", "durations", lambda v: _econ(durations=v), lo=1, integer=True, size=True)
        if c.kind in ("huge", "not_a_number")
    ],
    *scalar_cases(
        "AgentEconomy", "contracts_per_step", lambda v: _econ(contracts_per_step=v), lo=1, integer=True, size=True
    ),
    *scalar_cases("AgentEconomy", "open_lifetime", lambda v: _econ(open_lifetime=v), lo=1, integer=True, size=True),
    *scalar_cases("AgentEconomy", "jitter", lambda v: _econ(jitter=v), lo=0.0, hi=1.0),
    *scalar_cases("AgentEconomy", "decay_rate", lambda v: _econ(decay_rate=v), lo=0.0),
    *scalar_cases("AgentEconomy", "upkeep", lambda v: _econ(upkeep=v), lo=0.0),
    *scalar_cases("AgentEconomy", "false_pass", lambda v: _econ(false_pass=v), lo=0.0, hi=1.0),
    *scalar_cases("AgentEconomy", "cheat_rate", lambda v: _econ(cheat_rate=v), lo=0.0, hi=1.0),
    *scalar_cases("AgentEconomy", "entrant_rate", lambda v: _econ(entrant_rate=v), lo=0.0),
    *[  # None (all slots occupied) is the default
        c
        for c in scalar_cases("AgentEconomy", "n_initial", lambda v: _econ(n_initial=v), lo=0, hi=2, integer=True)
        if c.kind != "not_a_number"
    ],
    Case("AgentEconomy", "n_initial", "not_a_number", lambda d: _econ(n_initial=d.draw(st.sampled_from(["1", 1j])))),
    *scalar_cases("AgentEconomy", "ih_reaudit_interval", lambda v: _econ(ih_reaudit_interval=v), lo=1, integer=True),
    flag_case("AgentEconomy", "decay_ih", lambda v: _econ(decay_ih=v)),
    flag_case("AgentEconomy", "audit_can_promote", lambda v: _econ(audit_can_promote=v)),
    flag_case("AgentEconomy", "require_T4_to_delegate", lambda v: _econ(require_T4_to_delegate=v)),
    choice_case("AgentEconomy", "on_demotion", lambda v: _econ(on_demotion=v)),
    choice_case("AgentEconomy", "allocation", lambda v: _econ(allocation=v)),
    choice_case("AgentEconomy", "entrant_profile", lambda v: _econ(entrant_profile=v)),
    choice_case("AgentEconomy", "archetypes", lambda v: _econ(archetypes=v)),
    Case(
        "AgentEconomy", "archetypes", "wrong_type", lambda d: _econ(archetypes=d.draw(st.sampled_from([5, None, 1.5])))
    ),
    Case(
        "AgentEconomy",
        "archetype_overrides",
        "garbage",
        lambda d: _econ(archetype_overrides=d.draw(st.sampled_from(["garbage", 5, [1], {"adaptive": 5}]))),
    ),
    Case(
        "AgentEconomy",
        "self_modify_delta",
        "garbage",
        lambda d: _econ(self_modify_delta=d.draw(st.sampled_from([5, "ab", None, (0.1,), (0.1, float("nan"))]))),
    ),
    *array_cases(
        "AgentEconomy", "thresholds", lambda v: _econ(thresholds=v), G.DEFAULT_THRESHOLDS, lo=0.0, hi=1.0, shape=False
    ),
    *array_cases(
        "AgentEconomy", "audit_rates", lambda v: _econ(audit_rates=v), G.DEFAULT_AUDIT_RATES, lo=0.0, shape=False
    ),
    # -- config objects ------------------------------------------------------------------------------------------------
    *scalar_cases("PopulationConfig", "initial_balance", lambda v: PopulationConfig(initial_balance=v), lo=0.0),
    *scalar_cases("PopulationConfig", "spawn_endowment", lambda v: PopulationConfig(spawn_endowment=v), lo=0.0),
    choice_case("GateConfig", "gate", lambda v: GateConfig(gate=v)),
    choice_case("GateConfig", "audit_hazard", lambda v: GateConfig(audit_hazard=v)),
    *scalar_cases("GateConfig", "ih_threshold", lambda v: GateConfig(ih_threshold=v), lo=0.0, hi=1.0),
    *scalar_cases("AuditConfig", "audit_cost", lambda v: AuditConfig(audit_cost=v), lo=0.0),
    *scalar_cases("AuditConfig", "sigma_spot", lambda v: AuditConfig(sigma_spot=v), lo=0.0),
    *scalar_cases(
        "AuditConfig", "bank_refresh_interval", lambda v: AuditConfig(bank_refresh_interval=v), lo=1, integer=True
    ),
    flag_case("AuditConfig", "audit_after_invest", lambda v: AuditConfig(audit_after_invest=v)),
    choice_case("AuditConfig", "suspension_recovery", lambda v: AuditConfig(suspension_recovery=v)),
    *scalar_cases(
        "MarketConfig", "contracts_per_step", lambda v: MarketConfig(contracts_per_step=v), lo=1, integer=True
    ),
    *scalar_cases("MarketConfig", "jitter", lambda v: MarketConfig(jitter=v), lo=0.0, hi=1.0),
    *scalar_cases("MarketConfig", "deadline_offset", lambda v: MarketConfig(deadline_offset=v), lo=1, integer=True),
    *scalar_cases("MarketConfig", "bid_rounds", lambda v: MarketConfig(bid_rounds=v), lo=1, integer=True),
    Case("MarketConfig", "templates", "garbage", lambda d: MarketConfig(templates=_not_none(d))),
    *array_cases(  # one per tier: the count is checked against the gate's tiers by the economy
        "MarketConfig", "durations", lambda v: MarketConfig(durations=v), np.ones(5), lo=1, integer=True, shape=False
    ),
    *scalar_cases("SettlementConfig", "unwind_fee", lambda v: SettlementConfig(unwind_fee=v), lo=0.0),
    *scalar_cases("SettlementConfig", "delegation_fee", lambda v: SettlementConfig(delegation_fee=v), lo=0.0, hi=1.0),
    choice_case("SettlementConfig", "penalty_sink", lambda v: SettlementConfig(penalty_sink=v)),
    flag_case("SettlementConfig", "reopen_unwound", lambda v: SettlementConfig(reopen_unwound=v)),
    *scalar_cases("ActionConfig", "invest_amount", lambda v: ActionConfig(invest_amount=v), lo=0.0),
    *scalar_cases("ActionConfig", "upgrade_rate", lambda v: ActionConfig(upgrade_rate=v), lo=0.0, hi=1.0),
    Case("Market", "templates", "garbage", lambda d: Market(templates=_not_none(d))),
    *scalar_cases("Market", "n_tiers", lambda v: Market(n_tiers=v), lo=1, integer=True),
    *scalar_cases("Market.post", "batch", lambda v: MARKET.post(RNG, v), lo=1, integer=True, size=True),
    Case("Market.post", "rng", "not_a_generator", lambda d: MARKET.post(d.draw(st.sampled_from([0, "x", None])), 2)),
    *scalar_cases("tier_counts", "contracts_per_step", lambda v: tier_counts(v), lo=1, integer=True, size=True),
    *array_cases("tier_counts", "tier_weights", lambda v: tier_counts(10, v), np.full(5, 0.2), lo=0.0, hi=1.0),
    # -- reset / step / hooks ----------------------------------------------------------------------------------------------
    *array_cases("AgentEconomy.step", "actions", lambda v: ECON.step(v), np.zeros((2, 3)), lo=0, hi=21, integer=True),
    Case(
        "AgentEconomy.reset",
        "reset_mask",
        "not_booleans",
        lambda d: ECON.reset(
            options={"reset_mask": d.draw(st.sampled_from([np.array([0.5, 1.0]), np.array(["a", "b"]), [True]]))}
        ),
    ),
    *array_cases(
        "AgentEconomy.raise_thresholds",
        "thresholds",
        ECON.raise_thresholds,
        G.DEFAULT_THRESHOLDS,
        lo=0.0,
        hi=1.0,
        shape=False,
    ),
    *scalar_cases(
        "make_batched_env", "max_cycles", lambda v: make_batched_env(max_cycles=v, n_agents=2), lo=1, integer=True
    ),
    *scalar_cases("simulate", "rounds", lambda v: simulate({"n_agents": 2}, SS, v, 1, 1), lo=1, integer=True),
    *scalar_cases("simulate", "batch", lambda v: simulate({"n_agents": 2}, SS, 2, v, 1), lo=1, integer=True, size=True),
    *scalar_cases("simulate", "record_every", lambda v: simulate({"n_agents": 2}, SS, 2, 1, v), lo=1, integer=True),
    choice_case("simulate", "policy", lambda v: simulate({"n_agents": 2, "policy": v}, SS, 2, 1, 1)),
    *scalar_cases(
        "simulate", "audit_scale", lambda v: simulate({"n_agents": 2, "audit_scale": v}, SS, 2, 1, 1), lo=0.0
    ),
    *scalar_cases(
        "simulate",
        "invest_steps",
        lambda v: simulate({"n_agents": 2, "invest_steps": v}, SS, 2, 1, 1),
        lo=0,
        integer=True,
    ),
    Case("simulate", "params", "not_a_dict", lambda d: simulate(d.draw(st.sampled_from(["x", 5, [1]])), SS, 2, 1, 1)),
]


test_bad_input_refused = refusal_test(CASES)


def test_reported_faults() -> None:
    """The faults users reported, each a named refusal now."""
    for tier in (1.7, -0.5):
        with pytest.raises(ValueError, match="^tier"):
            G.audit_probability(tier, 1.0)
    with pytest.raises(ValueError, match="^rates"):
        G.audit_probability(0, 1.0, rates=[])
    with pytest.raises(TypeError, match="^templates"):
        AgentEconomy(templates="garbage")
    with pytest.raises(ValueError, match="'scoring' family"):
        AgentEconomy(gate="quadratic")
    with pytest.raises(TypeError, match="^basis_points"):
        G.dimension_tiers(R3, basis_points="yes")
    with pytest.raises(TypeError, match="^basis_points"):
        G.weakest_link_tier(R3, basis_points="yes")
