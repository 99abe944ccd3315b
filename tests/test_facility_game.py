"""The facility-location game, its incentive audit, worst-case ratios and interop conformance."""

from fractions import Fraction

import gymnasium as gym
import numpy as np
import pytest
from conformance import check_all
from coopsim.envs import facility_location as fl
from coopsim.envs.facility_location import FacilityLocation, average_best_response
from coopsim.mechanisms import get as get_mechanism
from hypothesis import given, settings
from hypothesis import strategies as st

import coopsim  # noqa: F401  (registers the gym ids)
from coopsim.analysis import approximation_ratio, incentive_audit, worst_case_ratio
from coopsim.core.game import MechanismGame
from coopsim.dynamics import best_response_dynamics


def r_of_n(n):
    return float(max(Fraction(n * k, n * n - 2 * n * k + 2 * k * k) for k in range(n + 1)))


# ---------------------------------------------------------------- incentive audit -------------
SP_MECHANISMS = [
    ("uniform_phantom", {}),
    ("median", {}),
    ("leftmost", {}),
    ("rightmost", {}),
    ("order_statistic", {"k": 2}),
    ("constant", {"c": 0.3}),
]


@pytest.mark.parametrize("name,params", SP_MECHANISMS)
def test_generalized_medians_are_strategyproof(name, params):
    game = FacilityLocation(n_agents=4, mechanism=name, mechanism_params=params)
    audit = incentive_audit(game, grid=101, n_random=32, n_profiles=300, rng=1)
    assert audit.max_gain <= 1e-12
    assert audit.strategyproof


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_random_generalized_median_is_strategyproof(n, seed):
    rng = np.random.default_rng(seed)
    phantoms = np.sort(rng.random(n + 1))
    game = FacilityLocation(
        n_agents=n, mechanism="generalized_median", mechanism_params={"phantoms": phantoms.tolist()}
    )
    audit = incentive_audit(game, grid=51, n_random=16, n_profiles=64, rng=seed)
    assert audit.max_gain <= 1e-12


@pytest.mark.parametrize("name", ["average", "midpoint"])
def test_manipulable_rules_have_a_witness(name):
    game = FacilityLocation(n_agents=3, mechanism=name)
    audit = incentive_audit(game, grid=101, n_profiles=200, rng=0)
    assert audit.max_gain > 0.01
    w = audit.witness
    # replaying the witness reproduces its gain
    dev = w.actions.copy()
    dev[w.agent] = w.deviation
    u = game.play(w.types[None], dev[None]).utility[0, w.agent]
    u0 = game.play(w.types[None], w.actions[None]).utility[0, w.agent]
    assert u - u0 == pytest.approx(w.gain, abs=1e-12)


def test_average_witness_from_spec_E1():
    game = FacilityLocation(n_agents=2, mechanism="average")
    audit = incentive_audit(game, types=np.array([[0.2, 0.9]]), grid=np.array([1.0]), n_random=0, refine_steps=0)
    assert audit.witness.agent == 1 and audit.witness.deviation == pytest.approx(1.0)
    assert audit.max_gain == pytest.approx(0.05, abs=1e-12)  # AVG 0.55 -> 0.6


def test_closed_form_deviation_utilities_match_generic():
    rng = np.random.default_rng(3)
    cand = np.linspace(0, 1, 21)
    for name, params in [
        ("uniform_phantom", {}),
        ("median", {}),
        ("average", {}),
        ("generalized_median", {"phantoms": [0.0, 0.2, 0.2, 0.9, 1.0, 1.0]}),
    ]:
        game = FacilityLocation(n_agents=5, mechanism=name, mechanism_params=params)
        peaks, reports = rng.random((7, 5)), rng.random((7, 5))
        fast = game.deviation_utilities(peaks, reports, cand)
        slow = MechanismGame.deviation_utilities(game, peaks, reports, cand)
        np.testing.assert_allclose(fast, slow, atol=1e-12)


# ---------------------------------------------------------------- worst-case ratios -----------
@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_uniform_phantom_worst_case_ratios(n):
    game = FacilityLocation(n_agents=n, mechanism="uniform_phantom")
    assert worst_case_ratio(game, "TC", refine_steps=20).ratio == pytest.approx(n - 1, abs=1e-6)
    assert worst_case_ratio(game, "MC", refine_steps=20).ratio == pytest.approx(2, abs=1e-6)
    assert worst_case_ratio(game, "SW", refine_steps=20).ratio == pytest.approx(r_of_n(n), abs=1e-6)


@pytest.mark.parametrize("n", [2, 3, 4, 5])
@pytest.mark.parametrize(
    "name,expected",
    [
        ("median", lambda n: {"TC": 1, "MC": 2, "SW": 1}),
        ("leftmost", lambda n: {"TC": n - 1, "MC": 2, "SW": n - 1}),
        ("average", lambda n: {"TC": 2 - 2 / n, "MC": 2 - 2 / n, "SW": r_of_n(n)}),
        ("midpoint", lambda n: {"TC": n / 2, "MC": 1, "SW": 2 - 2 / n}),
    ],
)
def test_worst_case_rows(name, expected, n):
    game = FacilityLocation(n_agents=n, mechanism=name)
    for objective, value in expected(n).items():
        wc = worst_case_ratio(game, objective, refine_steps=20)
        assert wc.ratio == pytest.approx(value, abs=1e-6), (objective, wc.profile)
        # the witness profile attains the ratio
        assert approximation_ratio(game, wc.profile[None], objective)[0] == pytest.approx(wc.ratio)


def test_ratio_conventions():
    game = FacilityLocation(n_agents=3, mechanism="constant", mechanism_params={"c": 0.0})
    r = approximation_ratio(game, np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5]]), "TC")
    assert r[0] == 1.0 and np.isinf(r[1])  # 0/0 := 1, x/0 := inf


# ---------------------------------------------------------------- equilibrium (ALLW) ----------
@pytest.mark.parametrize("peaks,up", [((0.2, 0.9), 0.5), ((0.1, 0.5, 0.9), 0.5), ((0, 0, 0, 1, 1), 0.4)])
def test_best_response_under_average_reaches_up_on_spec_instances(peaks, up):
    game = FacilityLocation(n_agents=len(peaks), mechanism="average")
    br = best_response_dynamics(
        game, np.array([peaks], dtype=float), init="random", seed=0, best_response=average_best_response
    )
    assert br.converged.all() and abs(br.outcome.location[0] - up) <= 1e-7


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_best_response_under_average_reaches_up_on_random_instances(n):
    rng = np.random.default_rng(n)
    peaks = rng.random((200, n))
    game = FacilityLocation(n_agents=n, mechanism="average")
    br = best_response_dynamics(game, peaks, init="random", seed=n, best_response=average_best_response)
    up = get_mechanism("uniform_phantom")(peaks)
    assert np.max(np.abs(br.outcome.location - up)) <= 1e-7


def test_average_closed_form_best_response_matches_the_generic_search():
    rng = np.random.default_rng(5)
    peaks, start = rng.random((50, 4)), rng.random((50, 4))
    game = FacilityLocation(n_agents=4, mechanism="average")
    closed = best_response_dynamics(game, peaks, init=start, max_sweeps=1, best_response=average_best_response)
    search = best_response_dynamics(game, peaks, init=start, max_sweeps=1)
    np.testing.assert_allclose(closed.actions, search.actions, atol=1e-11)


# ---------------------------------------------------------------- game, metrics, errors -------
def test_play_metrics_and_lottery_expectation():
    game = FacilityLocation(n_agents=3, mechanism="uniform_phantom")
    peaks = np.array([[0.1, 0.5, 0.9]])
    out = game.play(peaks, peaks)
    assert out.location[0] == pytest.approx(0.5)
    np.testing.assert_allclose(out.utility[0], [0.6, 1.0, 0.6])
    m = game.metrics(peaks, out)
    assert m["SW"][0] == pytest.approx(2.2) and m["TC"][0] == pytest.approx(0.8)
    assert m["MC"][0] == pytest.approx(0.4) and m["MC_ratio"][0] == pytest.approx(1.0)
    assert all(m[a][0] == 1.0 for a in fl.AXIOMS)
    rd = FacilityLocation(n_agents=3, mechanism="random_dictator")
    out = rd.play(peaks, peaks)
    # E|y - t_1| with y uniform on the reports: (0 + 0.4 + 0.8) / 3
    assert out.utility[0, 0] == pytest.approx(1 - 1.2 / 3)
    assert out.location[0] == pytest.approx(0.5)


@pytest.mark.parametrize(
    "kind,params",
    [
        ("uniform", {}),
        ("beta", {"a": 2, "b": 5}),
        ("clustered", {"centers": [0.1, 0.9], "spread": 0.02}),
        ("fixed", {"profile": [0.1, 0.2, 0.3]}),
    ],
)
def test_type_distributions(kind, params):
    game = FacilityLocation(n_agents=3, types=kind, type_params=params)
    t = game.sample_types(np.random.default_rng(0), 500)
    assert t.shape == (500, 3) and t.min() >= 0 and t.max() <= 1
    if kind == "clustered":
        assert np.mean(np.minimum(np.abs(t - 0.1), np.abs(t - 0.9)) < 0.1) > 0.99
    if kind == "fixed":
        assert np.all(t == [0.1, 0.2, 0.3])


def test_bad_input_errors():
    game = FacilityLocation(n_agents=3)
    with pytest.raises(ValueError, match="actions"):
        game.play(np.full((1, 3), 0.5), np.array([[0.1, 1.2, 0.3]]))
    with pytest.raises(ValueError, match="actions"):
        game.play(np.full((1, 3), 0.5), np.array([[0.1, np.nan, 0.3]]))
    with pytest.raises(ValueError, match="actions"):
        game.play(np.full((1, 3), 0.5), np.array([[0.1, 0.3]]))
    with pytest.raises(ValueError, match="n_agents"):
        FacilityLocation(n_agents=0)
    with pytest.raises(ValueError, match="unknown name 'nope'"):
        FacilityLocation(mechanism="nope")
    with pytest.raises(ValueError, match="type_params.profile"):
        FacilityLocation(n_agents=3, types="fixed", type_params={"profile": [0.1, 0.2]})
    with pytest.raises(ValueError, match="types"):
        FacilityLocation(types="gaussian")
    with pytest.raises(ValueError, match="phantoms"):
        FacilityLocation(n_agents=3, mechanism="generalized_median", mechanism_params={"phantoms": [0.0, 1.0]}).play(
            np.zeros((1, 3)), np.zeros((1, 3))
        )


# ---------------------------------------------------------------- interop ---------------------
def test_conformance_continuous():
    check_all(fl, env_id="coopsim/FacilityLocation-v0", max_cycles=5, n_agents=3, mechanism="average")


def test_conformance_grid_actions():
    check_all(fl, max_cycles=4, n_agents=4, mechanism="uniform_phantom", action_mode="grid", grid_size=11)


def test_max_cycles_test():
    from pettingzoo.test import max_cycles_test

    max_cycles_test(fl)


def test_render_ansi():
    par = fl.parallel_env(render_mode="ansi", n_agents=2)
    par.reset(seed=0)
    assert isinstance(par.render(), str)
    par.close()
    par.close()


def test_gym_make_and_make_vec():
    env = gym.make("coopsim/FacilityLocation-v0", n_agents=3, mechanism="average", max_cycles=3)
    obs, _ = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape
    venv = gym.make_vec("coopsim/FacilityLocation-v0", num_envs=8, vectorization_mode="vector_entry_point", n_agents=3)
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (8, 3)  # own peak, last location, clock
    assert type(venv).__name__ == "SingleAgentVectorEnv"


def test_registration_is_idempotent():
    from coopsim.interop import register_envs

    register_envs()
    register_envs()
    gym.register(id="coopsim/Conflict-v0", entry_point="x:y")
    from coopsim import envs

    envs.register_env("conflict", "coopsim.envs.facility_location", "Conflict-v0")
    try:
        with pytest.raises(ValueError, match="different spec"):
            register_envs()
    finally:
        del envs._ENVS["conflict"]
        del gym.registry["coopsim/Conflict-v0"]


def test_batch_copies_are_independent():
    env1 = fl.make_batched_env(batch_size=4, max_cycles=10, n_agents=3, redraw="round")
    env2 = fl.make_batched_env(batch_size=4, max_cycles=10, n_agents=3, redraw="round")
    env1.reset(seed=1)
    env2.reset(seed=1)
    rng = np.random.default_rng(0)
    for _ in range(10):
        a = rng.random((4, 3, 1))
        b = a.copy()
        b[3] = rng.random((3, 1))  # change copy 3 only
        o1, r1, *_ = env1.step(a)
        o2, r2, *_ = env2.step(b)
        np.testing.assert_array_equal(o1[:3], o2[:3])
        np.testing.assert_array_equal(r1[:3], r2[:3])


def test_module_prefixed_make_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = (
        "import gymnasium as gym; e = gym.make('coopsim:coopsim/FacilityLocation-v0'); "
        "o, _ = e.reset(seed=0); import sys; print(o.shape, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "(3,) False"  # works without `import coopsim`; torch is never imported
