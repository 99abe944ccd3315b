"""The two-phase information-acquisition env: dynamics, metrics, plugins, conformance."""

from __future__ import annotations

import coopsim.envs.information_acquisition as ia
import numpy as np
import pytest
from coopsim.envs.information_acquisition import BeliefElicitation, InformationAcquisitionEnv, InformationModel
from coopsim.mechanisms.information import instance_a, instance_b, optimal_mechanism, random_model

from tests.conformance import check_all


def _round(env, actions=None):
    env.step(env.default_actions() if actions is None else actions[0])
    return env.step(env.default_actions() if actions is None else actions[1])


def test_reexport():
    from coopsim.mechanisms.information import InformationModel as M

    assert InformationModel is M


def test_obedient_truthful_metrics_match_lp_value():
    env = InformationAcquisitionEnv("B", batch_size=100_000, rounds=1)
    env.reset(seed=0)
    obs, r, term, trunc, info = _round(env)
    met = info["metrics"]
    assert met["principal_utility"].mean() == pytest.approx(8 / 15, abs=0.005)
    assert met["obedience_rate"].mean() == 1.0 and met["truthful_rate"].mean() == 1.0
    assert met["effort_rate"].mean() == pytest.approx(0.5)  # one of two agents works
    assert met["decision_accuracy"].mean() == pytest.approx(0.8, abs=0.005)
    np.testing.assert_allclose(met["payments"], info["payments"].sum(1))
    assert trunc.all() and not term.any()


def test_phase_rewards_sum_to_utility_and_shirk_detected():
    env = InformationAcquisitionEnv("A", batch_size=50_000, rounds=1)
    env.reset(seed=1)
    o, r0, *_ = env.step(np.zeros((50_000, 1), dtype=np.int64))  # shirk
    assert (r0 == 0).all()
    o, r1, _, _, info = env.step(env.default_actions())  # truthful report of an uninformative signal
    met = info["metrics"]
    assert met["effort_rate"].mean() == 0 and met["obedience_rate"].mean() == 0
    np.testing.assert_allclose(met["utility_agent_0"], r0[:, 0] + r1[:, 0])
    # shirking earns 1/3 * 1/2 on average, vs 0.8/3 - 0.1 for working: the bet makes them indifferent
    assert met["utility_agent_0"].mean() == pytest.approx(0.5 / 3, abs=0.005)


def test_observations_encode_phase_recommendation_signal():
    env = InformationAcquisitionEnv("B", batch_size=4, rounds=2)
    obs, _ = env.reset(seed=3)
    assert obs.shape == (4, 2, 2 + 2 * 2 + 2 + 1)
    assert (obs[..., 0] == 1).all() and (obs[..., 1] == 0).all()
    np.testing.assert_array_equal(obs[..., 2:4].argmax(-1), env.rec)
    obs, *_ = env.step(env.default_actions())
    assert (obs[..., 1] == 1).all()
    np.testing.assert_array_equal(obs[..., 4:6].argmax(-1), env.effort)
    np.testing.assert_array_equal(obs[..., 6:8].argmax(-1), env.signal)
    assert obs[0, 0, -1] == pytest.approx(0.25)


def test_determinism_and_seeds():
    outs = []
    for _ in range(2):
        env = InformationAcquisitionEnv(
            "random", model_params={"seed": 4, "n_agents": 3, "n_states": 4}, batch_size=64, rounds=5, cap=2.0
        )
        env.reset(seed=11)
        rows = []
        rng = np.random.default_rng(0)
        for _ in range(10):
            a = rng.integers(0, 2, size=(64, 3))
            _, r, *_ = env.step(a)
            rows.append(r)
        outs.append(np.stack(rows))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_scoring_and_decision_plugins():
    env = InformationAcquisitionEnv("A", mechanism="scoring", rule="quadratic", bound=1.0, batch_size=100_000)
    env.reset(seed=0)
    *_, info = _round(env)
    # Q+ scaled to [0, 1] on the posteriors (0.8, 0.2): (S + 1) / 2 = 0.96 correct, 0.36 wrong
    assert info["metrics"]["payments"].mean() == pytest.approx(0.8 * 0.96 + 0.2 * 0.36, abs=0.005)
    env = InformationAcquisitionEnv("A", mechanism="decision", bound=0.5, batch_size=100_000)
    env.reset(seed=0)
    *_, info = _round(env)
    assert info["metrics"]["payments"].mean() == pytest.approx(0.5 * 0.8, abs=0.005)
    mech = optimal_mechanism(instance_a(0.05))
    env = InformationAcquisitionEnv(instance_a(0.05), mechanism=mech, batch_size=10)
    assert env.plugin.name == "lp"


def test_partial_reset_and_errors():
    env = InformationAcquisitionEnv("B", batch_size=3, rounds=1)
    env.reset(seed=0)
    _round(env)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.default_actions())
    env.reset(options={"reset_mask": np.array([True, False, False])})
    assert env.t.tolist() == [0, 2, 2]
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(options={"reset_mask": np.array([True, False])})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match="agent 1"):
        env.step(np.array([[0, 2]] * 3))
    with pytest.raises(ValueError, match="mechanism"):
        InformationAcquisitionEnv("B", mechanism="vcg")
    with pytest.raises(ValueError, match="model"):
        InformationAcquisitionEnv("C")
    with pytest.raises(ValueError, match="max_cycles"):
        ia.make_batched_env(max_cycles=3)
    q = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]])
    flat = InformationModel([0.5, 0.5], [[0.0, 0.0]], q, np.eye(2))
    with pytest.raises(ValueError, match="infeasible"):
        InformationAcquisitionEnv(flat, eps=0.01)


def _nan_free(value):
    if isinstance(value, dict):
        return all(_nan_free(v) for v in value.values())
    arr = np.asarray(value)
    return arr.dtype.kind not in "fc" or not np.isnan(arr).any()


def test_copies_out_of_phase_get_sentinels_not_nan():
    """A copy that did not report at a report step (restarted, so one phase behind) gets fixed values:
    sums 0, shares 1, state and decision -1, ``round_finished`` False; the others their real ones."""
    env = InformationAcquisitionEnv("B", batch_size=3, rounds=2)
    env.reset(seed=0)
    env.step(env.default_actions())  # efforts everywhere
    env.reset(options={"reset_mask": np.array([True, False, False])})  # copy 0 back to its effort phase
    assert env.phase.tolist() == [0, 1, 1]
    *_, info = env.step(env.default_actions())
    assert _nan_free(info)
    assert info["round_finished"].tolist() == [False, True, True]
    met = info["metrics"]
    for key in ("principal_utility", "payments", "utility_agent_0", "utility_agent_1"):
        assert met[key][0] == 0.0, key
    for key in ("decision_accuracy", "effort_rate", "obedience_rate", "truthful_rate"):
        assert met[key][0] == 1.0, key
    assert info["state"][0] == -1.0 and info["decision"][0] == -1.0
    assert info["payments"][0].tolist() == [0.0, 0.0]
    assert set(info["state"][1:].tolist()) <= {0.0, 1.0} and set(info["decision"][1:].tolist()) <= {0.0, 1.0}
    np.testing.assert_allclose(met["payments"][1:], info["payments"][1:].sum(1))
    assert met["obedience_rate"][1:].tolist() == [1.0, 1.0] and met["truthful_rate"][1:].tolist() == [1.0, 1.0]


def test_vector_view_info_has_no_nan_across_autoresets():
    venv = ia.gym_vector_env(num_envs=4, metrics="all", max_cycles=4)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    seen = 0
    for _ in range(20):
        *_, info = venv.step(venv.action_space.sample())
        assert _nan_free(info)
        seen += "metrics" in info
    assert seen >= 5


def test_belief_elicitation_best_reports():
    grid = np.linspace(0, 1, 101)
    for rule, want in [("quadratic", 0.3), ("spherical", 0.3), ("linear", 0.0)]:
        g = BeliefElicitation(rule=rule, belief=0.3)
        types = g.sample_types(np.random.default_rng(0), 1)
        u = g.play(np.repeat(types, 101, 0), grid[:, None]).utility[:, 0]
        assert g.truthful_actions(types)[0, 0] == 0.3
        assert grid[np.argmax(u)] == pytest.approx(want)
    g = BeliefElicitation(rule="logarithmic", rule_params={"eps": 0.01}, belief=0.3)
    assert (g.action_low, g.action_high) == (0.01, 0.99)
    with pytest.raises(ValueError, match="actions"):
        g.play(np.array([[[0.3, 1.0]]]), np.array([[0.0]]))
    lg = g.action_grid(99)
    u = g.play(np.tile([0.3, 0.0], (99, 1, 1)), lg[:, None]).utility[:, 0]
    assert lg[np.argmax(u)] == pytest.approx(0.3)


def _randomised_b_mechanism():
    """Instance B hiring agent 0 or agent 1 with probability 1/2 each, paying the 1/3 bet."""
    from coopsim.mechanisms.information import InformationMechanism, ic_violation, principal_utility

    m = instance_b()
    phi = np.array([[0.0, 0.5], [0.5, 0.0]])
    pay = np.zeros(m.payments_shape())
    bet = np.eye(2) / 3  # [theta, own signal]
    pay[0, 1, 0] = bet[:, :, None]
    pay[1, 0, 1] = bet[:, None, :]
    mech = InformationMechanism(phi, pay)
    assert ic_violation(m, mech) <= 1e-12
    assert principal_utility(m, mech) == pytest.approx(8 / 15)
    return m, mech


def test_conformance():
    m, mech = _randomised_b_mechanism()
    check_all(ia, env_id="coopsim/InformationAcquisition-v0", max_cycles=4, model=m, mechanism=mech)


def test_belief_elicitation_realised_scores_share_the_outcome():
    g = BeliefElicitation(rule="quadratic", utility="realised", a=1, b=1)
    types = g.sample_types(np.random.default_rng(0), 5000)
    u = g.play(types, types[..., 0]).utility
    w = types[..., 1]
    f = types[..., 0]
    np.testing.assert_allclose(u, 1 - (f - w) ** 2)  # Q+ scaled to [0, 1] = 1 - (f - y)^2
    dev = g.deviation_utilities(types[:3], types[:3, :, 0], np.array([0.0, 1.0]))
    np.testing.assert_allclose(dev[..., 1], 1 - (1 - w[:3]) ** 2)


def test_effort_report_game_plans_and_utilities():
    from coopsim.envs.information_acquisition import EffortReportGame
    from coopsim.mechanisms.information import agent_utilities

    m = instance_a(0.05)
    mech = optimal_mechanism(m)
    g = EffortReportGame(m, mech)
    assert g.n_plans == ((2 * 4) ** 2,)
    k = g.obedient_truthful_plan(0)
    eff, rmap = g.plan_table(0)
    assert eff[k].tolist() == [0, 1] and rmap[k].tolist() == [[0, 1], [0, 1]]
    types = g.sample_types(np.random.default_rng(0), 200_000)
    out = g.play(types, g.truthful_actions(types))
    assert out.obey.mean() == 1.0 and out.truthful.mean() == 1.0
    # utilities are (gamma - c + shift) / scale; recover the agent's expected utility
    u = out.utility[:, 0] * g._scale - g._shift
    assert u.mean() == pytest.approx(agent_utilities(m, mech)[0], abs=0.003)
    assert out.principal.mean() == pytest.approx(mech.value, abs=0.005)
    # counterfactual plans share the round's random numbers
    dev = g.deviation_utilities(types[:5], g.truthful_actions(types[:5]), np.arange(64.0))
    np.testing.assert_allclose(dev[:, 0, k], out.utility[:5, 0])
    with pytest.raises(ValueError, match="plan index"):
        g.play(types[:2], np.array([[64.0], [0.0]]))
    with pytest.raises(ValueError, match="max_plans"):
        EffortReportGame(random_model(np.random.default_rng(0), n_agents=1, n_actions=3, n_signals=3), "lp")


def test_best_responding_agents_follow_the_checker():
    from coopsim.mechanisms.information import InformationMechanism, principal_utility

    from tests.test_information import _joint_only_mechanism

    m, mech = _joint_only_mechanism()  # shirking and always reporting 0 gains 0.05
    env = InformationAcquisitionEnv(m, mechanism=mech, batch_size=100_000)
    env.reset(seed=0)
    a0 = env.best_response_actions()
    assert (a0 == 0).all()  # shirk
    env.step(a0)
    a1 = env.best_response_actions()
    assert (a1 == 0).all()  # always report 0
    *_, info = env.step(a1)
    assert info["metrics"]["obedience_rate"].mean() == 0 and info["metrics"]["effort_rate"].mean() == 0
    assert info["metrics"]["utility_agent_0"].mean() == pytest.approx(0.75, abs=0.005)
    # an IC mechanism: best responders obey and tell the truth
    env = InformationAcquisitionEnv("B", batch_size=1000)
    env.reset(seed=1)
    np.testing.assert_array_equal(env.best_response_actions(), env.default_actions())
    env.step(env.default_actions())
    np.testing.assert_array_equal(env.best_response_actions(), env.default_actions())
    assert principal_utility(env.model, env.mechanism()) == pytest.approx(8 / 15)
    assert isinstance(env.mechanism(), InformationMechanism)
