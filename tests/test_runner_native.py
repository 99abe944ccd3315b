"""Native env hooks ``simulate(params, seed_sequence, rounds, batch, record_every)`` and the
reproduction unit functions, run through ``coopsim.runner.run`` on the serial executor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from coopsim.envs import agent_economy, information_acquisition

from coopsim import runner

TESTBED = {"initial_balance": 0.5, "decay_rate": 0.005, "audit_cost": 0.002, "upkeep": 0.0003, "contracts_per_step": 12}


def run_twice(spec, tmp_path) -> pd.DataFrame:
    """Run ``spec`` twice into separate folders; the sorted tables must be identical. Returns one."""
    frames = []
    for k in range(2):
        res = runner.run(spec, executor="serial", out=tmp_path / f"r{k}", progress=False)
        assert res.ok and res.failed == 0, res.failures
        df = runner.load(tmp_path / f"r{k}")
        cols = sorted(c for c in df.columns if c not in ("value", "se"))
        frames.append(df.sort_values(["unit", "metric", "round"]).reset_index(drop=True)[cols + ["value"]])
    pd.testing.assert_frame_equal(frames[0], frames[1])
    return frames[0]


def wide(df: pd.DataFrame, unit=None) -> pd.DataFrame:
    d = df if unit is None else df[df["unit"] == unit]
    return d.pivot_table(index="round", columns="metric", values="value")


# ----------------------------------------------------------------------------------------------
# agent economy
# ----------------------------------------------------------------------------------------------
def economy_spec(**env):
    return {
        "experiment": {"name": "econ", "seed": 3, "rounds": 40, "batch": 4, "record_every": 10},
        "env": {"name": "agent_economy", "n_agents": 10, **TESTBED, **env},
    }


def test_economy_simulate_through_runner(tmp_path):
    df = run_twice(economy_spec(), tmp_path)
    w = wide(df)
    assert list(w.index) == [10, 20, 30, 40]
    # the ceiling invariant: exposure never exceeds the tier's ceiling at acceptance
    assert (w["max_exposure_ratio_accept"] <= 1.0 + 1e-12).all()
    assert w[["safety_active", "safety_potential"]].stack().between(0.0, 1.0).all()
    # window means of the active-tier counts add up to the active agents
    tiers = w[[f"tier_{k}" for k in range(6)]].sum(axis=1)
    np.testing.assert_allclose(tiers, w["n_active"], atol=1e-9)
    # blocked attempts = the sum over reasons; cumulative counts never decrease
    reasons = [c for c in w.columns if c.startswith("blocked_")]
    np.testing.assert_allclose(w[reasons].sum(axis=1), w["blocked"], atol=1e-9)
    for c in ("blocked", "audits", "accepted", "settled", "insolvencies"):
        assert (np.diff(w[c]) >= 0).all(), c
    assert w["population"].eq(10).all() and w["audits"].iloc[-1] > 0
    assert {f"earnings_{a}" for a in ("conservative", "aggressive", "balanced", "adaptive", "cheater")} <= set(w)
    # welfare = surplus - losses - audit fees (cumulative totals)
    np.testing.assert_allclose(w["welfare"], w["surplus"] - w["losses"] - w["audit_costs"], atol=1e-9)


def test_economy_simulate_matches_env_loop():
    """The hook is the env's own loop: the same seed gives the env's cumulative statistics."""
    ss = np.random.SeedSequence(11)
    params = {"n_agents": 6, **TESTBED}
    out = agent_economy.simulate(dict(params), ss, 25, 3, 25)
    env = agent_economy.AgentEconomy(batch_size=3, horizon=25, **params)
    env.reset(seed=np.random.SeedSequence(11))
    for _ in range(25):
        env.step(env.default_actions())
    assert out["audits"][-1] == pytest.approx(env.cum["audits"].mean())
    assert out["welfare"][-1] == pytest.approx(env.cum["welfare"].mean())
    assert out["blocked"][-1] == pytest.approx(env.cum["blocked"].sum(1).mean())


def test_economy_gate_grid_and_mechanism_table(tmp_path):
    spec = economy_spec()
    spec["experiment"].update(rounds=30, record_every=30)
    spec["grid"] = {"env.gate": ["weakest_link_gate", "no_gate"]}
    df = run_twice(spec, tmp_path)
    last = df[df.metric.isin(["blocked", "audits"])].pivot_table(index="env.gate", columns="metric", values="value")
    assert last.loc["no_gate", "audits"] < last.loc["weakest_link_gate", "audits"]
    # a [mechanism] table names the gate from the registry
    spec2 = economy_spec()
    spec2["experiment"].update(rounds=10, record_every=10)
    spec2["mechanism"] = {"name": "capability_gate"}
    assert runner.run(spec2, executor="serial", out=tmp_path / "m", progress=False).ok


def test_economy_incentive_policy_and_errors():
    out = runner.FUNCTIONS["economy_incentive"]({"m": 2, "n": 4}, np.random.SeedSequence(0), 60, 4, 30)
    np.testing.assert_allclose(out["gap_net"], out["earnings_adaptive"] - out["earnings_capability_investor"])
    assert np.isfinite(out["gap_operating"]).all() and len(out["round"]) == 2
    ss = np.random.SeedSequence(0)
    with pytest.raises(ValueError, match="policy"):
        agent_economy.simulate({"policy": "greedy"}, ss, 5, 1, 5)
    with pytest.raises(ValueError, match="agents"):
        agent_economy.simulate({"agents": [{"learner": "hedge", "agents": "all"}]}, ss, 5, 1, 5)
    with pytest.raises(ValueError, match="function.m"):
        runner.FUNCTIONS["economy_incentive"]({"m": 5, "n": 4}, ss, 5, 1, 5)


# ----------------------------------------------------------------------------------------------
# information acquisition
# ----------------------------------------------------------------------------------------------
def info_spec(**over):
    spec = {
        "experiment": {"name": "info", "seed": 1, "rounds": 24, "batch": 256, "record_every": 8},
        "env": {"name": "information_acquisition", "model": "B"},
    }
    spec.update(over)
    return spec


def test_information_simulate_through_runner(tmp_path):
    spec = info_spec(agents=[{"learner": "obedient"}], grid={"agents.0.learner": ["obedient", "shirk"]})
    df = run_twice(spec, tmp_path)
    end = df[df["round"] == 24].pivot_table(index="agents.0.learner", columns="metric", values="value")
    ob = end.loc["obedient"]
    # Instance B: the LP optimum is 8/15 when agents obey and tell the truth
    assert ob["obedience_rate"] == 1.0 and ob["truthful_rate"] == 1.0
    allr = df[(df.metric == "principal_utility") & (df["agents.0.learner"] == "obedient")]["value"].mean()
    assert allr == pytest.approx(8 / 15, abs=0.03)
    # shirking: nobody exerts effort, the principal learns nothing (accuracy 1/2)
    sh = end.loc["shirk"]
    assert sh["effort_rate"] == 0.0
    assert sh["decision_accuracy"] == pytest.approx(0.5, abs=0.06)
    assert sh["principal_utility"] < ob["principal_utility"] - 0.1


def test_information_best_response_and_scoring_rule_table(tmp_path):
    ss = np.random.SeedSequence(5)
    br = information_acquisition.simulate(
        {"model": "B", "agents": [{"learner": "best_response", "agents": "all"}]}, ss, 10, 64, 10
    )
    assert br["obedience_rate"][-1] == 1.0  # the LP is IC: best responses obey (ties obey)
    # a [mechanism] table naming a scoring rule selects the scoring plug-in
    spec = info_spec(mechanism={"name": "quadratic"})
    spec["env"].update(model="A", bound=1.0)
    spec["experiment"].update(rounds=8, batch=64, record_every=8)
    df = run_twice(spec, tmp_path)
    w = wide(df)
    assert w["effort_rate"].iloc[-1] == 1.0 and (w["payments"] > 0).all()
    with pytest.raises(ValueError, match="agents.0.learner"):
        information_acquisition.simulate({"agents": [{"learner": "hedge", "agents": "all"}]}, ss, 2, 1, 1)


# ----------------------------------------------------------------------------------------------
# unit functions
# ----------------------------------------------------------------------------------------------
def test_function_units_known_values():
    ss = np.random.SeedSequence(0)
    F = runner.FUNCTIONS
    ce = F["info_cost_of_effort"]({"instance": "A", "cost": 0.03}, ss, 1, 1, 1)
    # Instance A: the LP pays 8/3 per unit of cost, the full-simplex quadratic rule 28/3
    assert ce["payment_lp"][0] == pytest.approx(0.03 * 8 / 3, rel=1e-6)
    assert ce["payment_quadratic_simplex"][0] == pytest.approx(0.03 * 28 / 3, rel=1e-6)
    assert ce["payment_quadratic_direct"][0] == pytest.approx(0.03 * 8 / 3, rel=1e-6)
    cv = F["info_correlation_value"]({"instance": "B", "cap": 0.0, "grid": 4}, ss, 1, 1, 1)
    assert cv["full"][0] == pytest.approx(8 / 15, abs=1e-6) and cv["deterministic"][0] == pytest.approx(
        8 / 15, abs=1e-6
    )
    reg = F["info_online_regret"]({"instance": "A", "horizon": 1000}, np.random.SeedSequence(1), 1, 1, 1)
    assert reg["round"][0] == 1000 and reg["regret"][0] >= 0
    ag = F["aigc_comparison"]({"click_model": "mnl", "K": 2}, ss, 1, 50, 1)
    assert ag["efficiency_vcg"][0] == pytest.approx(1.0) and ag["efficiency_gsp"][0] < 1.0
    br = F["facility_best_response"]({"n_agents": 3}, ss, 10, 16, 5)
    assert br["abs_outcome_minus_reference"][-1] < 1e-6
    bl = F["info_belief_learning"]({"rule": "linear", "belief": 0.7}, np.random.SeedSequence(2), 300, 4, 150)
    assert bl["target"][-1] == 1.0 and bl["mode_report"][-1] == 1.0  # improper rule: the corner
    bq = F["info_belief_learning"]({"rule": "quadratic", "belief": 0.3}, np.random.SeedSequence(2), 600, 8, 300)
    assert bq["distance_to_target"][-1] <= 0.05 + 1e-9  # proper rule: within one grid step of the belief
    el = F["info_effort_learning"]({"instance": "A", "mechanism": "lp_eps_mix"}, np.random.SeedSequence(3), 800, 8, 400)
    assert el["obedience_rate"][-1] > 0.9 and el["mass_agent_0"][-1] > 0.8
    assert el["mechanism_value"][0] == pytest.approx(0.599, abs=2e-3)
    with pytest.raises(ValueError, match=r"^function\.colour: unknown parameter"):
        F["info_cost_of_effort"]({"colour": 1}, ss, 1, 1, 1)
    with pytest.raises(ValueError, match="function.instance"):
        F["info_correlation_value"]({"instance": "Z"}, ss, 1, 1, 1)


def test_matrix_games_make_game():
    from coopsim.envs import matrix_games

    g = matrix_games.make_game("chicken", game_params={"dare_chicken": 8.0})
    assert g.payoff_tensor[0, 0, 1] == 8.0
    assert matrix_games.make_game(payoffs=[[[1, 0], [0, 1]], [[1, 0], [0, 1]]], name="coord").name == "coord"
    with pytest.raises(ValueError, match=r"game: expected one of \['chicken'"):
        matrix_games.make_game("go")
