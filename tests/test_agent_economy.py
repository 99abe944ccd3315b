"""AgentEconomy: step order, gates at acceptance, demotion policies, audits, delegation, ledger, conformance."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.envs import agent_economy as ae
from coopsim.envs.agent_economy import ACTIVE, PENDING, SUSPENDED, AgentEconomy
from coopsim.envs.agent_economy_archetypes import MACROS, N_MACROS, M
from coopsim.envs.agent_economy_market import Market, tier_counts
from coopsim.mechanisms import gate_properties as P
from coopsim.mechanisms import gates as G
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim.agents import Exp3
from tests.conformance import check_all

TESTBED = dict(initial_balance=0.5, decay_rate=0.005, audit_cost=0.002, upkeep=0.0003, contracts_per_step=12)


def _set_scores(env, r, ih=0.95, cap=None):
    """Test helper: give every agent true and certified scores ``r`` (B, N, 3) at the current t."""
    r = np.broadcast_to(np.asarray(r, dtype=float), env.r_true[..., :3].shape)
    env.r_true[..., :3] = r
    env.r_true[..., 3] = ih
    env.r_cert[:] = env.r_true
    env.t_cert[:] = env.t[:, None]
    env.t_last_audit[:] = env.t[:, None]
    env.tier[:] = G.weakest_link_tier(r, np.full(r.shape[:-1], ih))
    env.status[:] = ACTIVE
    if cap is not None:
        env.capability[:] = cap


def _random_actions(rng, env, p_circ=0.2):
    a = rng.integers(0, N_MACROS, size=(env.batch_size, env.n_agents))
    return np.where(rng.random(a.shape) < 0.5, env.default_actions(), a)


# ------------------------------------------------------------------ construction and bad input
@pytest.mark.parametrize(
    "kw, name",
    [
        ({"on_demotion": "forgive"}, "on_demotion"),
        ({"archetypes": "saint"}, "archetypes"),
        ({"archetypes": ["conservative"] * 3}, "archetypes"),
        ({"audit_cost": -0.1}, "audit_cost"),
        ({"upkeep": -1.0}, "upkeep"),
        ({"decay_rate": -0.01}, "decay_rate"),
        ({"audit_rates": [0, 0.1, -0.2, 0.3, 0.4, 0.5]}, "audit_rates"),
        ({"false_pass": 1.5}, "false_pass"),
        ({"entrant_rate": -1.0}, "entrant_rate"),
        ({"entrant_profile": "villains"}, "entrant_profile"),
        ({"gate": "oracle_gate"}, "gate"),
        ({"thresholds": [0.1, 0.3, 0.5, 0.65, 0.8, 0.9]}, "thresholds"),
        ({"thresholds": [0.0, 0.5, 0.3, 0.65, 0.8, 0.9]}, "thresholds"),
        ({"ih_threshold": float("nan")}, "ih_threshold"),
        ({"audit_hazard": "weibull"}, "audit_hazard"),
        ({"durations": 0}, "durations"),
        ({"allocation": "lottery"}, "allocation"),
        ({"ih_rule": "ignore"}, "ih_rule"),
        ({"decay_ih": "false"}, "decay_ih"),  # a string flag is not silently True
        ({"require_T4_to_delegate": 1}, "require_T4_to_delegate"),
    ],
)
def test_bad_config_names_parameter(kw, name):
    with pytest.raises((ValueError, TypeError), match=name):
        AgentEconomy(**kw)


def test_bad_actions():
    env = AgentEconomy(n_agents=3, batch_size=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match="actions"):
        env.step(np.full((2, 3), N_MACROS))


# ------------------------------------------------------------------ market
def test_market_counts_and_ranges():
    assert tier_counts(10).sum() == 10 and tier_counts(12).sum() == 11
    assert tier_counts(10).tolist() == [4, 2, 2, 1, 1]
    m = Market(12)
    post = m.post(np.random.default_rng(0), 500)
    tmpl = np.array([[r[2], r[3], r[4], r[5]] for r in ae.Market.__init__.__globals__["DEFAULT_TEMPLATES"]])
    v = tmpl[post["template"]]
    assert np.all(post["reward"] >= 0.8 * v[..., 0] - 1e-15) and np.all(post["reward"] <= 1.2 * v[..., 0] + 1e-15)
    assert np.all(post["penalty"] >= 0.8 * v[..., 1] - 1e-15) and np.all(post["penalty"] <= 1.2 * v[..., 1] + 1e-15)
    assert np.all((post["difficulty"] >= v[..., 2]) & (post["difficulty"] <= v[..., 3]))
    assert np.all(m.template_tier[post["template"]] == post["tier"])
    for bad in ([1.0, 1.0], np.ones(6)):  # too short used to raise an IndexError
        with pytest.raises(ValueError, match="demand_scale"):
            Market(12, demand_scale=bad)


# ------------------------------------------------------------------ determinism, ledger, shapes
def test_same_seed_same_trajectory_and_seeds_differ():
    def run(seed):
        env = AgentEconomy(n_agents=6, batch_size=3, entrant_rate=0.1, n_initial=4, **TESTBED)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(seed)
        out = [obs]
        for _ in range(60):
            o, r, te, tr, info = env.step(_random_actions(rng, env))
            out += [o, r, te, tr, info["metrics"]["safety_potential"]]
        return out

    a, b, c = run(5), run(5), run(6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(ae.ON_DEMOTION), st.integers(1, 4), st.integers(1, 3))
def test_ledger_double_entry_and_shapes(seed, policy, dur, ol):
    env = AgentEconomy(
        n_agents=6,
        batch_size=3,
        on_demotion=policy,
        durations=dur,
        open_lifetime=ol,
        entrant_rate=0.2,
        n_initial=4,
        decay_rate=0.03,
        delegation_fee=0.1,
        **{k: v for k, v in TESTBED.items() if k != "decay_rate"},
    )
    obs, _ = env.reset(seed=seed)
    assert obs.shape == (3, 6, ae.OBS_SIZE) and obs.dtype == np.float32
    rng = np.random.default_rng(seed)
    for _ in range(40):
        obs, r, te, tr, info = env.step(_random_actions(rng, env))
        assert np.all(np.isfinite(obs))
        assert r.shape == te.shape == tr.shape == (3, 6)
        assert np.allclose(env.ledger_total(), 0.0, atol=1e-9)
        assert all(np.shape(v) == (3,) for v in info["metrics"].values())
        # exposure is never negative and only assigned contracts carry it
        assert np.all(env.exposure() >= 0)


# ------------------------------------------------------------------ Bounded Exposure in the env
def _run_checks(env, steps, rng, check_t1b=False):
    viol_t1b = 0
    for _ in range(steps):
        _, _, _, _, info = env.step(_random_actions(rng, env))
        acc = env.last_acceptances
        if "agent" in acc and len(acc["agent"]):
            chk = P.check_t1a(acc["exposure_after"], acc["tier"], acc["t_min"], env.ceilings)
            assert chk, chk.detail
            # a T0 agent never accepts a contract with p > 0 (B_0 = 0)
            assert not np.any((acc["tier"] == 0) & (acc["penalty"] > 0))
            # delegations: delegate and chain tiers qualify (no tier laundering)
            assert np.all(acc["delegate_tier"] >= acc["t_min"])
        end = P.check_t1b(env.exposure(), np.where(env.status == ACTIVE, env.tier, 0), env.ceilings)
        viol_t1b += not end.holds
        if check_t1b:
            assert end, end.detail
            live = env.c_state == ae.C_ASSIGNED
            lt = np.take_along_axis(np.where(env.status == ACTIVE, env.tier, 0), np.maximum(env.c_liable, 0), axis=1)
            assert not np.any(live & (env.c_tier > lt))
    return viol_t1b


@settings(max_examples=10, deadline=None)
@given(
    st.integers(0, 2**31 - 1),
    st.sampled_from(ae.ON_DEMOTION),
    st.integers(1, 5),
    st.floats(0.0, 0.05),
    st.sampled_from(["elapsed", "poisson"]),
)
def test_t1a_every_acceptance(seed, policy, dur, lam, hazard):
    # under grandfather the logged exposure_after is the non-grandfathered part, which T1a bounds
    env = AgentEconomy(
        n_agents=6,
        batch_size=4,
        on_demotion=policy,
        durations=dur,
        decay_rate=lam,
        audit_hazard=hazard,
        initial_balance=0.5,
        open_lifetime=2,
    )
    env.reset(seed=seed)
    _run_checks(env, 40, np.random.default_rng(seed))


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 6), st.floats(0.01, 0.08))
def test_t1b_holds_under_force_unwind(seed, dur, lam):
    env = AgentEconomy(
        n_agents=6, batch_size=4, on_demotion="force_unwind", durations=dur, decay_rate=lam, initial_balance=0.5
    )
    env.reset(seed=seed)
    _run_checks(env, 40, np.random.default_rng(seed), check_t1b=True)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 0.05))
def test_t1b_holds_with_same_step_settlement(seed, lam):
    env = AgentEconomy(n_agents=6, batch_size=4, on_demotion="block_new", durations=1, decay_rate=lam)
    env.reset(seed=seed)
    _run_checks(env, 30, np.random.default_rng(seed), check_t1b=True)


def _demotion_case(policy):
    """Conservative agents certified just above T3 take long T3 contracts, then decay demotes them."""
    env = AgentEconomy(
        n_agents=4,
        batch_size=8,
        archetypes="conservative",
        on_demotion=policy,
        durations=8,
        decay_rate=0.02,
        audit_rates=np.zeros(6),
        initial_balance=5.0,
        upkeep=0.0,
        tier_weights=[0.0, 0.0, 1.0, 0.0, 0.0],
        templates=[(3, "review", 0.08, 0.05, 0.1, 0.2)],
        contracts_per_step=4,
    )
    env.reset(seed=3)
    _set_scores(env, [0.70, 0.70, 0.66], cap=0.9)
    viol, gf_over = 0, 0
    for _ in range(12):
        env.step(np.full((8, 4), M["bid_safe"]))
        tier = np.where(env.status == ACTIVE, env.tier, 0)
        viol += not P.check_t1b(env.exposure(), tier, env.ceilings).holds
        acc = env.last_acceptances
        if "agent" in acc and len(acc["agent"]):
            gf_over += int(np.sum(acc["full_exposure_after"] > acc["ceiling"] + 1e-12))
            assert P.check_t1a(acc["exposure_after"], acc["tier"], acc["t_min"], env.ceilings)
    return env, viol, gf_over


def test_t1b_fails_under_block_new_and_grandfather_but_not_force_unwind():
    _, v_block, _ = _demotion_case("block_new")
    _, v_gf, _ = _demotion_case("grandfather")
    env, v_unwind, _ = _demotion_case("force_unwind")
    assert v_block > 0 and v_gf > 0  # the documented failure of the strong form
    assert v_unwind == 0
    assert env.cum["unwinds"].sum() > 0 and env.cum["decay_drops"].sum() > 0


def test_grandfather_bounds_only_non_grandfathered_exposure():
    # lower the T2 ceiling relative to the T3 exposure so post-demotion acceptances exceed it in full
    env = AgentEconomy(
        n_agents=2,
        batch_size=16,
        archetypes="aggressive",
        on_demotion="grandfather",
        durations=10,
        decay_rate=0.03,
        audit_rates=np.zeros(6),
        initial_balance=5.0,
        upkeep=0.0,
        tier_weights=[0.0, 0.5, 0.5, 0.0, 0.0],
        contracts_per_step=8,
        templates=[(2, "a", 0.015, 0.05, 0.1, 0.2), (3, "b", 0.08, 0.2, 0.1, 0.2)],
        ceilings=[0, 0.01, 0.1, 0.3, 10, 100],
    )
    env.reset(seed=1)
    _set_scores(env, [0.70, 0.70, 0.66], cap=0.9)
    over = 0
    for _ in range(14):
        env.step(np.full((16, 2), M["bid_max_reward"]))
        acc = env.last_acceptances
        if "agent" in acc and len(acc["agent"]):
            assert P.check_t1a(acc["exposure_after"], acc["tier"], acc["t_min"], env.ceilings)
            over += int(np.sum(acc["full_exposure_after"] > acc["ceiling"] + 1e-12))
    assert over > 0  # full exposure exceeds the ceiling at acceptance: only the non-grandfathered part is bounded


# ------------------------------------------------------------------ decay and audits in the env
def test_env_decay_drops_at_formula_step_and_ih_suspends():
    env = AgentEconomy(
        n_agents=1,
        batch_size=1,
        archetypes="conservative",
        decay_rate=0.01,
        audit_rates=np.zeros(6),
        upkeep=0.0,
        initial_balance=1.0,
    )
    env.reset(seed=0)
    _set_scores(env, [0.99, 0.99, 0.99], ih=0.9)
    for step in range(1, 70):
        env.step(np.zeros((1, 1), dtype=int))
        if env.tier[0, 0] == 0:
            break
    assert step == 59 and env.status[0, 0] == SUSPENDED  # IH* 0.9 -> 0.5 after ln(1.8)/0.01 = 58.8 steps


def test_env_tier_non_increasing_between_certifications():
    env = AgentEconomy(
        n_agents=5, batch_size=4, audit_rates=np.zeros(6), decay_rate=0.02, upkeep=0.0, initial_balance=1.0
    )
    env.reset(seed=2)
    prev = env.tier.copy()
    for _ in range(80):
        env.step(np.zeros((4, 5), dtype=int))
        assert np.all(env.tier <= prev)
        prev = env.tier.copy()
    assert np.all(env.tier == 0)


@pytest.mark.parametrize("hazard", ["elapsed", "poisson"])
def test_env_mean_time_to_first_audit_matches_formula(hazard):
    B = 1200 if hazard == "elapsed" else 1000
    env = AgentEconomy(
        n_agents=5,
        batch_size=B,
        archetypes="conservative",
        decay_rate=0.0,
        audit_hazard=hazard,
        sigma_spot=0.0,
        audit_cost=0.0,
        upkeep=0.0,
        initial_balance=1.0,
    )
    env.reset(seed=11)
    th = G.DEFAULT_THRESHOLDS
    r = np.stack([np.minimum(th[:, k] + 0.005, 1.0) for k in range(1, 6)])  # agent j at tier j + 1
    _set_scores(env, np.broadcast_to(r, (B, 5, 3)), ih=0.95)
    assert np.all(env.tier == np.arange(1, 6))
    first = np.zeros((B, 5))
    steps = 90 if hazard == "elapsed" else 300
    for s in range(1, steps + 1):
        env.step(np.zeros((B, 5), dtype=int))
        hit = (first == 0) & (env.t_last_audit == s)
        first[hit] = s
    expected = G.expected_time_to_audit(np.arange(1, 6), hazard=hazard)
    for k in range(5):
        done = first[:, k] > 0
        if hazard == "elapsed":
            assert done.mean() > 0.999
            mean = first[done, k].mean()
        else:  # geometric: censoring-aware MLE (observed steps + censored steps) / events
            mean = (first[done, k].sum() + (~done).sum() * steps) / done.sum()
        assert abs(mean - expected[k]) / expected[k] < 0.05, (k, mean, expected[k])


def test_audit_demotes_and_recertifies_and_t0_never_spot_audited():
    env = AgentEconomy(
        n_agents=5,
        batch_size=50,
        archetypes="conservative",
        decay_rate=0.0,
        audit_rates=[0, 0.5, 0.5, 0.5, 0.5, 0.5],
        audit_hazard="poisson",
        upkeep=0.0,
        initial_balance=1.0,
        sigma_spot=0.0,
    )
    env.reset(seed=4)
    # certified at T5 but truly T1: the first audit demotes
    _set_scores(env, [0.95, 0.95, 0.95])
    env.r_true[..., :3] = [0.35, 0.35, 0.35]
    bal = env.balance.copy()
    env.step(np.zeros((50, 5), dtype=int))
    aud = env.t_last_audit == 1
    assert aud.any() and np.all(env.tier[aud] == 1) and np.all(env.tier[~aud] == 5)
    assert np.allclose(env.balance[aud], bal[aud] - 4 * env.audit_cost)
    assert np.all(env.t_cert[aud] == 1) and np.all(env.t_cert[~aud] == 0)  # re-certified
    assert env.cum["audit_demotions"].sum() == aud.sum()
    # T0 agents are never spot audited
    env2 = AgentEconomy(
        n_agents=5, batch_size=20, archetypes="cheater", decay_rate=0.0, cheat_rate=0.0, upgrade_rate=0.0
    )
    env2.reset(seed=0)
    _set_scores(env2, [0.2, 0.2, 0.2])
    for _ in range(30):
        env2.step(np.zeros((20, 5), dtype=int))
    assert np.all(env2.t_last_audit == 0)


def test_reaudit_ih_rule_never_gates_on_ih_and_charges_audits():
    env = AgentEconomy(
        n_agents=3,
        batch_size=10,
        archetypes="conservative",
        ih_rule="reaudit",
        decay_rate=0.0,
        audit_rates=np.zeros(6),
        upkeep=0.0,
        initial_balance=1.0,
        ih_reaudit_interval=5,
        sigma_spot=0.0,
    )
    env.reset(seed=0)
    _set_scores(env, [0.95, 0.95, 0.95], ih=0.9)
    env.r_true[..., 3] = 0.3  # truly fails IH; certified IH* 0.9 -> no trigger yet
    env.r_cert[..., 3] = 0.3  # certified below theta: triggers a mandatory re-audit
    env.step(np.zeros((10, 3), dtype=int))
    assert np.all(env.tier == 5) and np.all(env.status == ACTIVE)  # IH* is not a gate dimension
    assert np.all(env.t_last_audit == 1) and np.allclose(env.balance, 1.0 - 8 * env.audit_cost)  # registration + 1
    for _ in range(4):
        env.step(np.zeros((10, 3), dtype=int))
    assert np.all(env.t_last_audit == 1)  # next mandatory re-audit no sooner than the interval
    env.step(np.zeros((10, 3), dtype=int))
    assert np.all(env.t_last_audit == 6)


# ------------------------------------------------------------------ circumvention
def test_above_tier_bids_always_rejected_and_logged():
    env = AgentEconomy(n_agents=5, batch_size=8, initial_balance=1.0)
    env.reset(seed=0)
    for _ in range(20):
        a = np.full((8, 5), M["bid_above_tier"])
        env.step(a)
        acc = env.last_acceptances
        assert "agent" not in acc or len(acc["agent"]) == 0
    j = ae.CIRCUMVENTIONS.index("bid_above_tier") if hasattr(ae, "CIRCUMVENTIONS") else 0
    assert env.cum["blocked"][:, ae.R["tier_bypass"]].sum() > 0
    assert env.cum["circumvention_blocked"][:, j].sum() == env.cum["blocked"][:, ae.R["tier_bypass"]].sum()


def test_delegation_to_unqualified_rejected_and_liability_on_delegator():
    env = AgentEconomy(
        n_agents=2,
        batch_size=20,
        archetypes="conservative",
        decay_rate=0.0,
        audit_rates=np.zeros(6),
        upkeep=0.0,
        initial_balance=1.0,
        false_fail=1.0,
    )
    env.reset(seed=0)
    _set_scores(env, np.array([[0.95, 0.95, 0.95], [0.35, 0.35, 0.35]]))  # agent 0 T5, agent 1 T1
    bal = env.balance.copy()
    env.step(np.array([[M["delegate"], 0]] * 20))
    acc = env.last_acceptances
    # agent 0 takes the max-reward contract (T5) and may only pass it to a T5 agent: laundering
    assert len(acc.get("agent", [])) == 0 and env.cum["blocked"][:, ae.R["laundering"]].sum() == 20
    # make agent 1 qualify for T2 and use only T2 contracts: the delegation goes through
    env2 = AgentEconomy(
        n_agents=2,
        batch_size=20,
        archetypes="conservative",
        decay_rate=0.0,
        audit_rates=np.zeros(6),
        upkeep=0.0,
        initial_balance=1.0,
        false_fail=1.0,
        tier_weights=[0, 1.0, 0, 0, 0],
        templates=[(2, "a", 0.015, 0.008, 0.3, 0.5)],
    )
    env2.reset(seed=0)
    _set_scores(env2, np.array([[0.95, 0.95, 0.95], [0.55, 0.55, 0.55]]))
    bal = env2.balance.copy()
    env2.step(np.array([[M["delegate"], 0]] * 20))
    acc = env2.last_acceptances
    assert len(acc["agent"]) == 20 and np.all(acc["performer"] == 1)
    # verifier always fails: the delegator pays the penalty, the delegate is untouched
    assert np.allclose(env2.balance[:, 0], bal[:, 0] - acc["penalty"])
    assert np.allclose(env2.balance[:, 1], bal[:, 1])
    assert all(g.has_edge(0, 1) for g in env2.graphs)


def test_self_modification_suspends_until_reaudit():
    env = AgentEconomy(
        n_agents=2, batch_size=4, archetypes="conservative", audit_rates=np.zeros(6), upkeep=0.0, initial_balance=1.0
    )
    env.reset(seed=0)
    h0 = env.arch_hash(0, 0)
    env.step(np.array([[M["self_modify"], 0]] * 4))
    assert env.arch_hash(0, 0) != h0 and len(h0) == 16
    assert np.all(env.status[:, 0] == ACTIVE)  # caught only at the next gated action
    env.step(np.array([[M["bid_t1"], 0]] * 4))
    assert np.all(env.status[:, 0] == SUSPENDED) and np.all(env.tier[:, 0] == 0)
    assert env.cum["blocked"][:, ae.R["hash_mismatch"]].sum() == 4
    env.step(np.array([[M["bid_t1"], 0]] * 4))
    assert env.cum["blocked"][:, ae.R["agent_not_active"]].sum() == 4
    env.step(np.array([[M["request_upgrade"], 0]] * 4))  # re-audit registers the new architecture
    assert np.all(env.status[:, 0] == ACTIVE) and np.all(env.reg_hash[:, 0] == env.cur_hash[:, 0])


def test_game_audit_inflates_until_bank_refresh():
    env = AgentEconomy(
        n_agents=1,
        batch_size=40,
        archetypes="cheater",
        audit_rates=np.zeros(6),
        sigma_spot=0.0,
        decay_rate=0.0,
        upkeep=0.0,
        initial_balance=1.0,
        bank_refresh_interval=10,
        game_amount=0.06,
        upgrade_audit_can_demote=True,
    )
    env.reset(seed=0)
    _set_scores(env, [0.70, 0.25, 0.65], ih=0.9)
    assert np.all(env.tier == 0)
    env.step(np.full((40, 1), M["game_audit"]))
    env.step(np.full((40, 1), M["request_upgrade"]))
    assert np.all(env.tier == 1)  # 0.25 + 0.06 >= 0.30: the audit is fooled
    assert env.cum["undetected_gaming"].sum() == 40
    assert np.allclose(env.r_true[..., 1], 0.25)  # the truth is unchanged
    for _ in range(8):
        env.step(np.zeros((40, 1), dtype=int))
    assert np.all(env.bank_version == 1)
    env.step(np.full((40, 1), M["request_upgrade"]))  # audited against the refreshed bank
    assert np.all(env.tier == 0) and np.allclose(env.r_cert[..., 1], 0.25)  # the gaming is exposed
    assert env.cum["gaming_exposed"].sum() == 40


def test_spawned_subagent_pending_without_tier_then_registered():
    env = AgentEconomy(
        n_agents=3, batch_size=2, n_initial=1, archetypes="conservative", upkeep=0.0, initial_balance=1.0
    )
    env.reset(seed=0)
    env.step(np.array([[M["spawn_subagent"], 0, 0]] * 2))
    assert np.all(env.status[:, 1] == PENDING) and np.all(env.tier[:, 1] == 0)
    assert np.all(env.parent[:, 1] == 0) and all(g.has_edge(0, 1) for g in env.graphs)
    assert np.allclose(env.balance[:, 1], env.spawn_endowment)
    env.step(np.zeros((2, 3), dtype=int))
    assert np.all(env.status[:, 1] == ACTIVE) and np.allclose(
        env.balance[:, 1], env.spawn_endowment - 4 * env.audit_cost
    )
    assert np.allclose(env.ledger_total(), 0)


def test_entrants_arrive_and_insolvency_terminates():
    env = AgentEconomy(
        n_agents=8, batch_size=4, n_initial=2, entrant_rate=5.0, entrant_profile="low", upkeep=0.02, initial_balance=0.1
    )
    env.reset(seed=0)
    term = None
    for _ in range(30):
        _, _, term, _, _ = env.step(np.zeros((4, 8), dtype=int))
    assert env.cum["entrants"].sum() > 0 and np.all(env.status != ae.EMPTY)
    assert np.all(term[env.insolvent]) and env.insolvent.any()
    before = env.insolvent.copy()
    _, _, term2, _, _ = env.step(np.zeros((4, 8), dtype=int))
    assert np.all(term2[before])


def test_counterfactual_economies():
    for gate in ("capability_gate", "no_gate"):
        env = AgentEconomy(n_agents=5, batch_size=4, gate=gate, archetypes="balanced", **TESTBED)
        env.reset(seed=0)
        for _ in range(30):
            _, _, _, _, info = env.step(env.default_actions())
        assert env.cum["audits"].sum() == 5 * 4  # registration only: no spot audits
        if gate == "no_gate":
            assert np.all(env.tier[env.status == ACTIVE] == 5)
            assert env.cum["blocked"][:, ae.R["ceiling"]].sum() == 0
        else:
            assert np.array_equal(
                env.tier[env.status == ACTIVE], G.capability_tier(env.capability)[env.status == ACTIVE]
            )


def test_reset_mask_restarts_only_masked_copies():
    env = AgentEconomy(n_agents=4, batch_size=3, **TESTBED)
    env.reset(seed=0)
    for _ in range(5):
        env.step(env.default_actions())
    bal = env.balance.copy()
    env.reset(options={"reset_mask": np.array([True, False, False])})
    assert env.t.tolist() == [0, 5, 5]
    assert np.array_equal(env.balance[1:], bal[1:])
    assert np.allclose(env.ledger_total(), 0)


def test_learner_controls_agents_through_macro_space():
    env = AgentEconomy(n_agents=5, batch_size=8, **TESTBED)
    env.reset(seed=0)
    learner = Exp3(n_actions=N_MACROS, batch=8, n_agents=5, utility_range=(-0.1, 0.1))
    rng = np.random.default_rng(0)
    ctrl = np.zeros((8, 5), dtype=bool)
    ctrl[:, 3] = True
    for _ in range(30):
        a = learner.act(rng)
        env_a = np.where(ctrl, a, env.default_actions())
        _, r, _, _, _ = env.step(env_a)
        learner.update(a, np.clip(r, -0.1, 0.1))
    assert learner.policy.shape == (8, 5, N_MACROS) and len(MACROS) == N_MACROS
    assert env.context()["state"].max() < env.n_states


def test_scripted_archetype_ordering_testbed():
    """Reference testbed: cheaters lose money; balanced earn more than conservative (statistical)."""
    env = AgentEconomy(n_agents=5, batch_size=32, horizon=300, **TESTBED)
    env.reset(seed=42)
    for _ in range(300):
        env.step(env.default_actions())
    e = {k: v.mean() for k, v in env.archetype_earnings().items()}
    assert e["cheater"] < min(v for k, v in e.items() if k != "cheater")
    assert env.cum["attempts"].sum() > 0 and env.cum["blocked"][:, ae.R["tier_bypass"]].sum() > 0


# ------------------------------------------------------------------ conformance
def test_conformance():
    check_all(ae, env_id="coopsim/AgentEconomy-v0", max_cycles=60, n_agents=4, initial_balance=1.0)


def test_ih_failure_at_registration_suspends_under_force_t0_only():
    ov = {"conservative": {"robustness": (0.9, 0.9, 0.9, 0.3)}}
    env = AgentEconomy(n_agents=2, batch_size=3, archetypes="conservative", archetype_overrides=ov, sigma_reg=0.0)
    env.reset(seed=0)
    assert np.all(env.status == SUSPENDED) and np.all(env.tier == 0)
    env = AgentEconomy(
        n_agents=2, batch_size=3, archetypes="conservative", archetype_overrides=ov, sigma_reg=0.0, ih_rule="reaudit"
    )
    env.reset(seed=0)
    assert np.all(env.status == ACTIVE) and np.all(env.tier == 5)


def test_require_t4_to_delegate():
    env = AgentEconomy(
        n_agents=2,
        batch_size=4,
        archetypes="conservative",
        decay_rate=0.0,
        audit_rates=np.zeros(6),
        upkeep=0.0,
        initial_balance=1.0,
        require_T4_to_delegate=True,
        tier_weights=[0, 1.0, 0, 0, 0],
        templates=[(2, "a", 0.015, 0.008, 0.3, 0.5)],
    )
    env.reset(seed=0)
    _set_scores(env, np.array([[0.7, 0.7, 0.7], [0.55, 0.55, 0.55]]))  # T3 delegator, T2 delegate
    env.step(np.array([[M["delegate"], 0]] * 4))
    assert env.cum["blocked"][:, ae.R["delegation_not_permitted"]].sum() == 4


def test_raise_thresholds_only_rises_and_recertifies():
    env = AgentEconomy(
        n_agents=5, batch_size=4, decay_rate=0.0, audit_rates=np.zeros(6), upkeep=0.0, initial_balance=1.0
    )
    env.reset(seed=0)
    new = G.DEFAULT_THRESHOLDS.copy()
    new[:, 1] = [0.4, 0.4, 0.35]
    env.raise_thresholds(new)
    r, _ = env._effective()
    act = (env.status == ACTIVE) & (env.tier >= 1)
    assert P.check_t3d(r.min(-1)[act], env.tier[act], new)  # floor rises to 0.35
    assert np.all(
        env.tier[(env.status == ACTIVE)] <= G.weakest_link_tier(np.clip(r, 0, 1), None, new)[env.status == ACTIVE]
    )
    with pytest.raises(ValueError, match="only rise"):
        env.raise_thresholds(G.DEFAULT_THRESHOLDS)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 4), st.floats(0.0, 0.04), st.floats(0.0, 0.5))
def test_t3a_t3b_on_random_economies(seed, dur, lam, entrants):
    env = AgentEconomy(
        n_agents=8,
        batch_size=4,
        n_initial=5,
        entrant_rate=entrants,
        entrant_profile="random",
        durations=dur,
        decay_rate=lam,
        on_demotion="force_unwind",
        initial_balance=0.5,
    )
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    for _ in range(30):
        env.step(_random_actions(rng, env))
        r, _ = env._effective()
        rbar = np.clip(r.min(-1), 0, 1)
        tier = env.effective_tier()
        w = np.where(env.status == ACTIVE, env.exposure(), 0.0)
        assert P.check_t3a(w, rbar)
        assert P.check_t3b(w, rbar, tier)
        pot = np.where(env.status == ACTIVE, env.ceilings[tier], 0.0)
        assert P.check_t3b(pot, rbar, tier)  # potential weights: T0 agents weigh 0


@pytest.mark.parametrize("fp, ff", [(1.0, 0.0), (0.0, 1.0), (0.0, 0.0)])
def test_verifier_error_rates(fp, ff):
    env = AgentEconomy(
        n_agents=4,
        batch_size=16,
        archetypes="balanced",
        false_pass=fp,
        false_fail=ff,
        initial_balance=5.0,
        decay_rate=0.0,
    )
    env.reset(seed=0)
    for _ in range(30):
        env.step(np.full((16, 4), M["bid_t1"]))
    c = env.cum
    settled, failed = c["settled_by_tier"].sum(), c["failed_by_tier"].sum()
    assert settled > 0 and 0 < failed < settled
    done = (env.c_state == ae.C_COMPLETED).sum() + (env.c_state == ae.C_FAILED).sum()
    if fp == 1.0:
        assert c["false_passes"].sum() == failed  # every true failure passes verification
        assert (env.c_state == ae.C_FAILED).sum() == 0 and done > 0
    elif ff == 1.0:
        assert (env.c_state == ae.C_COMPLETED).sum() == 0 and c["false_passes"].sum() == 0
    else:
        assert c["false_passes"].sum() == 0


@pytest.mark.parametrize("allocation", ["uniform_share", "fcfs"])
def test_allocation_among_identical_bidders(allocation):
    env = AgentEconomy(
        n_agents=4,
        batch_size=200,
        archetypes="balanced",
        allocation=allocation,
        decay_rate=0.0,
        audit_rates=np.zeros(6),
        upkeep=0.0,
        initial_balance=1.0,
        tier_weights=[1.0, 0, 0, 0, 0],
        contracts_per_step=1,
        templates=[(1, "a", 0.002, 0.001, 0.1, 0.2)],
        bid_rounds=1,
    )
    env.reset(seed=0)
    _set_scores(env, [0.5, 0.5, 0.5])
    wins = np.zeros(4)
    for _ in range(10):
        env.step(np.full((200, 4), M["bid_t1"]))
        np.add.at(wins, env.last_acceptances["agent"], 1)
    share = wins / wins.sum()
    if allocation == "fcfs":
        assert share[0] == 1.0
    else:  # uniform among admissible bidders (Def 16 in expectation): 2000 draws, sd ~ 0.01
        assert np.all(np.abs(share - 0.25) < 0.04), share


def test_a_gate_object_keeps_its_own_tables():
    from coopsim.envs.agent_economy import AgentEconomy
    from coopsim.mechanisms import get as get_mechanism

    gate = get_mechanism("weakest_link_gate", decay_rate=0.03, audit_hazard="poisson")
    env = AgentEconomy(batch_size=1, n_agents=4, gate=gate)
    assert env.decay_rate == 0.03 and env.audit_hazard == "poisson"
    np.testing.assert_array_equal(env.thresholds, gate.thresholds)
