"""AgentEconomy's structure: grouped configs and the old keywords, the state dataclass, metrics on
request, and the linear-time delegation choice against the (N, N) table it replaced."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from coopsim.envs import agent_economy as ae
from coopsim.envs.agent_economy import delegation
from coopsim.envs.agent_economy.config import GROUPS, KEYWORDS
from coopsim.envs.agent_economy_archetypes import N_MACROS, M
from hypothesis import given, settings
from hypothesis import strategies as st

#: the flat keywords of the constructor before the grouped configs (minus the top-level arguments)
OLD_KEYWORDS = {
    "archetypes", "archetype_overrides", "n_initial", "thresholds", "ceilings", "decay_rate", "audit_rates",
    "audit_hazard", "ih_rule", "ih_threshold", "decay_ih", "ih_reaudit_interval", "audit_cost", "upkeep",
    "initial_balance", "sigma_reg", "sigma_spot", "sigma_invest", "contracts_per_step", "tier_weights", "templates",
    "demand_scale", "jitter", "open_lifetime", "deadline_offset", "durations", "allocation", "on_demotion",
    "unwind_fee", "reopen_unwound", "penalty_sink", "debit_on_expiry", "false_pass", "false_fail",
    "robustness_factor", "audit_can_promote", "upgrade_audit_can_demote", "suspension_recovery",
    "bank_refresh_interval", "entrant_rate", "entrant_profile", "invest_amount", "invest_gain",
    "audit_after_invest", "game_amount", "self_modify_delta", "spawn_endowment", "delegation_fee",
    "require_T4_to_delegate", "cheat_rate", "upgrade_rate", "bid_rounds",
}  # fmt: skip


def _trajectory(env, steps=25, seed=3):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = [obs]
    for _ in range(steps):
        a = np.where(
            rng.random((env.batch_size, env.n_agents)) < 0.5,
            env.default_actions(),
            rng.integers(0, N_MACROS, (env.batch_size, env.n_agents)),
        )
        o, r, te, tr, info = env.step(a)
        out += [o, r, te, tr, *info.get("metrics", {}).values()]
    return out


def test_every_old_keyword_maps_to_one_config_field():
    assert set(KEYWORDS) == OLD_KEYWORDS
    for kw, (group, field) in KEYWORDS.items():
        assert field == kw and group in GROUPS
        assert field in GROUPS[group].__dataclass_fields__


def test_grouped_configs_equal_flat_keywords():
    flat = ae.AgentEconomy(
        n_agents=6, batch_size=2, decay_rate=0.03, upkeep=0.0003, contracts_per_step=12, initial_balance=0.5,
        audit_cost=0.002, on_demotion="force_unwind", durations=2, entrant_rate=0.2, n_initial=4, cheat_rate=0.6,
    )  # fmt: skip
    grouped = ae.AgentEconomy(
        n_agents=6,
        batch_size=2,
        gate=ae.GateConfig(decay_rate=0.03),
        settlement=ae.SettlementConfig(upkeep=0.0003, on_demotion="force_unwind"),
        market=ae.MarketConfig(contracts_per_step=12, durations=2),
        population=ae.PopulationConfig(initial_balance=0.5, entrant_rate=0.2, n_initial=4),
        audits=ae.AuditConfig(audit_cost=0.002),
        actions=ae.ActionConfig(cheat_rate=0.6),
    )
    mixed = ae.AgentEconomy(n_agents=6, batch_size=2, market=ae.MarketConfig(durations=2), contracts_per_step=12,
                            decay_rate=0.03, upkeep=0.0003, initial_balance=0.5, audit_cost=0.002,
                            on_demotion="force_unwind", entrant_rate=0.2, n_initial=4, cheat_rate=0.6)  # fmt: skip
    a, b, c = _trajectory(flat), _trajectory(grouped), _trajectory(mixed)
    assert len(a) == len(b) == len(c)
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    assert flat.decay_rate == grouped.decay_rate == 0.03 and grouped.upkeep == 0.0003


@pytest.mark.parametrize("kw, hint", [("decay", "decay_rate"), ("upkeap", "upkeep"), ("n_initials", "n_initial")])
def test_unknown_keyword_names_it_and_suggests(kw, hint):
    with pytest.raises(TypeError, match=f"'{kw}'.*did you mean .*'{hint}'"):
        ae.AgentEconomy(**{kw: 1})


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: ae.PopulationConfig(entrant_rate=-1.0), "entrant_rate"),
        (lambda: ae.PopulationConfig(entrant_profile="villains"), "entrant_profile"),
        (lambda: ae.MarketConfig(allocation="lottery"), "allocation"),
        (lambda: ae.MarketConfig(open_lifetime=0), "open_lifetime"),
        (lambda: ae.AuditConfig(decay_ih="false"), "decay_ih"),
        (lambda: ae.AuditConfig(sigma_spot=-0.1), "sigma_spot"),
        (lambda: ae.SettlementConfig(false_fail=2.0), "false_fail"),
        (lambda: ae.ActionConfig(self_modify_delta=(0.1,)), "self_modify_delta"),
        (lambda: ae.GateConfig(gate=3), "gate"),
        (lambda: ae.GateConfig(decay_rate=-0.1), "decay_rate"),
        (lambda: ae.GateConfig(audit_rates=[0, 0.1, 0.05, 0.2, 0.3, 0.4]), "audit_rates"),
        (lambda: ae.GateConfig(ceilings=[0, 1, 0.5, 2, 3, 4]), "ceilings"),
        (lambda: ae.GateConfig(audit_hazard="weibull"), "audit_hazard"),
        (lambda: ae.AgentEconomy(market=ae.AuditConfig()), "market"),
    ],
)
def test_configs_validate_their_fields(make, name):
    with pytest.raises((ValueError, TypeError), match=name):
        make()


def test_state_is_one_dataclass_of_batch_first_arrays():
    env = ae.AgentEconomy(n_agents=4, batch_size=3)
    s = env.economy
    assert isinstance(s, ae.EconomyState)
    for name in s.__dataclass_fields__:
        value = getattr(s, name)
        arrays = value.values() if isinstance(value, dict) else [value] if isinstance(value, np.ndarray) else []
        for arr in arrays:
            assert arr.shape[0] == 3, name
        assert getattr(env, name) is value  # the env's attribute is the state's field
    env.balance[0, 0] = 7.0
    assert s.balance[0, 0] == 7.0


def test_metrics_on_request():
    kw = dict(n_agents=5, batch_size=2, initial_balance=0.5)
    full = ae.AgentEconomy(**kw)
    none = ae.AgentEconomy(metrics="none", **kw)
    some = ae.AgentEconomy(metrics=["gini", "tier_3"], **kw)
    for env in (full, none, some):
        env.reset(seed=0)
    for _ in range(10):
        outs = [env.step(env.default_actions()) for env in (full, none, some)]
        for k in range(4):
            np.testing.assert_array_equal(outs[0][k], outs[1][k])
            np.testing.assert_array_equal(outs[0][k], outs[2][k])
        assert outs[1][4] == {}
        assert set(outs[2][4]["metrics"]) == {"gini", "tier_3"}
        np.testing.assert_array_equal(outs[2][4]["metrics"]["gini"], outs[0][4]["metrics"]["gini"])
        assert set(ae.METRICS) <= set(outs[0][4]["metrics"])
    with pytest.raises(ValueError, match="metrics"):
        ae.AgentEconomy(metrics=["gnii"])


def _brute_force_targets(key, occupied, parent, macro):
    """The (N, N) table the linear version replaced: argmax/argmin of key +- child bonus over occupied j != i."""
    B, N = key.shape
    child = parent[:, None, :] == np.arange(N)[None, :, None]
    bad = np.eye(N, dtype=bool)[None] | ~occupied[:, None, :]
    hi = np.argmax(np.where(bad, -np.inf, key[:, None, :] + 0.5 * child), axis=-1)
    lo = np.argmin(np.where(bad, np.inf, key[:, None, :] - 1.0 * child), axis=-1)
    sub = np.where(macro == M["delegate"], hi, lo)
    return np.where((~bad).any(axis=-1), sub, -1)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 12), st.integers(1, 4), st.booleans())
def test_linear_delegate_choice_matches_the_table(seed, N, B, ties):
    rng = np.random.default_rng(seed)
    pub = rng.integers(-1, 6, (B, N)).astype(np.float64)
    # ties: equal keys everywhere (jitter 0) check the first-index rule of np.argmax / np.argmin
    key = pub + (0.0 if ties else rng.random((B, N)) * 1e-3)
    occupied = rng.random((B, N)) < 0.8
    parent = np.where(rng.random((B, N)) < 0.4, rng.integers(0, N, (B, N)), -1)
    parent = np.where(parent == np.arange(N), -1, parent)  # nobody is its own parent
    macro = np.where(rng.random((B, N)) < 0.5, M["delegate"], M["delegate_unqualified"])
    hi = delegation._pick(key, occupied, parent, 1.0, 0.5)
    lo = delegation._pick(key, occupied, parent, -1.0, -1.0)
    got = np.where(macro == M["delegate"], hi, lo)
    np.testing.assert_array_equal(got, _brute_force_targets(key, occupied, parent, macro))


def test_delegation_memory_is_linear_in_n():
    """Every agent of 4 economies of 3000 delegates: the old (B, N, N) tables took > 1 GB."""
    N, B = 3000, 4
    env = ae.AgentEconomy(n_agents=N, batch_size=B, archetypes="conservative", metrics="none", initial_balance=1.0)
    env.reset(seed=0)
    env.step(np.full((B, N), M["bid_safe"]))
    tracemalloc.start()
    env.step(np.full((B, N), M["delegate_unqualified"]))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert env.cum["blocked"][:, ae.R["laundering"]].sum() + env.cum["delegations"].sum() > 0
    assert peak < 60e6, peak  # a few (B, N) and (B, N, 45) arrays; one (B, N, N) float table is 288 MB


def test_bid_choice_per_profile_equals_per_agent(monkeypatch):
    """Many bidders: the choice computed once per distinct bidder profile is the per-agent choice."""
    from coopsim.envs.agent_economy import market

    def run(dedup_min):
        monkeypatch.setattr(market, "DEDUP_MIN", dedup_min)
        env = ae.AgentEconomy(n_agents=150, batch_size=3, entrant_rate=0.5, n_initial=120, durations=3, open_lifetime=2)
        return _trajectory(env, steps=15, seed=5) + [env.c_state.copy(), env.balance.copy()]

    for x, y in zip(run(1), run(10**9)):
        np.testing.assert_array_equal(x, y)


def test_large_economy_observation_equals_small_path(monkeypatch):
    """Above ``CLIP_ALL_MAX`` slots only unbounded entries are clipped: the same observation."""
    from coopsim.envs.agent_economy import observe as O

    env = ae.AgentEconomy(n_agents=1100, batch_size=4, initial_balance=2e6)  # balances beyond the bound
    env.reset(seed=0)
    env.step(env.default_actions())
    big = O.observe(env.economy, env.params)
    monkeypatch.setattr(O, "CLIP_ALL_MAX", 10**9)
    full = O.observe(env.economy, env.params)
    assert np.abs(big).max() == ae.OBS_BOUND
    np.testing.assert_array_equal(big, full)


def test_phases_are_functions_of_the_state():
    """Stepping from a copied state with the same generator state gives the same step: the phases
    read nothing but the state, the params and the generator."""
    import copy

    env = ae.AgentEconomy(n_agents=6, batch_size=2, entrant_rate=0.3, n_initial=4, initial_balance=0.5)
    env.reset(seed=1)
    for _ in range(5):
        env.step(env.default_actions())
    snap, rng = env.economy.copy(), copy.deepcopy(env._rng)
    a = env.default_actions()
    first = env.step(a)[:4]
    after = env.economy
    env.economy, env._rng = snap, rng
    again = env.step(a)[:4]
    for x, y in zip(first, again):
        np.testing.assert_array_equal(x, y)
    for name in ("balance", "tier", "status", "r_cert", "c_state"):
        np.testing.assert_array_equal(getattr(after, name), getattr(env.economy, name))
    assert after is not env.economy
