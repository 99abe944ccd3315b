"""The experiments' unit functions give the numbers the stand-alone scripts they replace gave.

The reference values were computed with the earlier scripts (``experiments/*/*.py`` with their own
TOML files) on small settings, before their computations moved into registered unit functions;
the unit functions are called here with the seed each script used, so the values must agree to
the last bit (one experiment per domain: information, auctions, agent economy). Also: the env
simulation cross-check of the cost-of-effort experiment, and every unit function is registered
with declared parameters and listed by ``coopsim list functions``.
"""

from __future__ import annotations

import numpy as np
import pytest

from coopsim.cli import main as cli_main
from coopsim.runner.units import FUNCTION_PARAMS, FUNCTIONS


def call(name: str, params: dict, seed, rounds: int = 1, batch: int = 1, every: int = 1):
    return FUNCTIONS[name](params, np.random.SeedSequence(seed), rounds, batch, every)


def test_online_regret_matches_the_script():
    # online_regret.py: run_online(instance_a(), T, default_rng([seed, T]), cap 1, kappa 1, delta 0.05, rho 0.01)
    for seed in (0, 1):
        out = call("info_online_regret", {"instance": "A", "horizon": 2000, "margin_scale": 0.1}, [seed, 2000])
        assert out["round"].tolist() == [2000]
        assert out["regret"][0] == pytest.approx(74.56666666666695, rel=0, abs=1e-12)


def test_shading_matches_the_script():
    # first_price_learning.run_one("first_price", 2, 1, "hedge", "full", 2000, 4, 0.05 grid, 0.5, seed 7, eta 0.5)
    df = call("auction_shading", {"grid_step": 0.05, "learner_params": {"eta": 0.5}}, 7, rounds=2000, batch=4)
    last = df[df["round"] == 2000].set_index("metric")["value"]
    script = {
        "factor": [0.4310842849265514, 0.45251916316039176, 0.4229831424418483, 0.4460812537446001],
        "mode": [0.45, 0.45, 0.4, 0.45],
        "revenue_tail": [0.2910376663071793, 0.2995286258981845, 0.28638273285242555, 0.29918729929487387],
        "policy_max": [0.6676636121780954, 0.9010923608626605, 0.7344085841726282, 0.8416999540129149],
        "last_factor": [0.4336598384947381, 0.45298252690221275, 0.43193370806316433, 0.4534277588211535],
    }
    for key, per_copy in script.items():
        assert last[key] == pytest.approx(np.mean(per_copy), rel=1e-14), key
        assert last[f"{key}_se"] == pytest.approx(np.std(per_copy, ddof=1) / 2, rel=1e-12), key
    assert last["factor_target"] == 0.5 and last["revenue_target"] == pytest.approx(1 / 3)
    assert last["in_grid_ne"] == 0.75  # three copies at 0.45, an equilibrium of the 0.05 grid game ({0.45, 0.50})
    assert (df[df.metric == "revenue"]["round"].diff().dropna() == 50).all()  # 40 record points


def test_gsp_band_matches_the_script():
    # gsp_learning.py with rounds 400, batch 8 (seed 11, 4 bidders, CTRs (1, 0.6, 0.3), 51-point grid)
    script = {
        "gsp": (0.649275, 0.07058120543498286, 0.5915391219675515, 1.055886598137747, 1.1687758117470737, 0.75),
        "vcg": (
            0.6246431818181818,
            0.0737098065237896,
            0.5915391219675515,
            1.055886598137747,
            1.1095010444947677,
            0.625,
        ),
    }
    keys = (
        "revenue",
        "revenue_se",
        "vcg_revenue",
        "varian_upper_revenue",
        "revenue_over_vcg_median",
        "share_in_sne_band",
    )
    for mech, values in script.items():
        out = call("auction_gsp_learning", {"mechanism": mech}, 11, rounds=400, batch=8)
        assert out["round"].tolist() == [400]
        np.testing.assert_allclose([out[k][0] for k in keys], values, rtol=1e-13, atol=0)


def test_economy_incentive_matches_the_script():
    # incentive.one(m=4, n=8, c=0.40, seeds=4, steps=60, k=12, seed=0): per-economy gaps; the unit records their mean
    gap_net = [0.8882219161562395, 0.9440946254806133, 1.178748040063521, 1.1520271118418561]
    gap_op = [0.06822191615623951, 0.12409462548061323, 0.3587480400635218, 0.3320271118418565]
    out = call(
        "economy_incentive", {"m": 4, "n": 8, "t1_share": 0.40, "invest_steps": 12}, 0, rounds=60, batch=4, every=60
    )
    assert out["gap_net"][-1] == pytest.approx(np.mean(gap_net), rel=1e-12)
    assert out["gap_operating"][-1] == pytest.approx(np.mean(gap_op), rel=1e-12)


def test_cost_of_effort_matches_an_env_simulation():
    """The analytic payment of the quadratic rule over the full simplex (Instance A, c = 0.1) against
    the mean payment of the env's scoring plug-in over many copies (the script's cross-check)."""
    from coopsim.envs.information_acquisition import InformationAcquisitionEnv

    from coopsim import mechanisms
    from coopsim.runner.functions import effort_model, scoring_payment_per_cost

    c = 0.1
    model = effort_model({"n_states": 2, "accuracy": 0.8}, c)
    k = scoring_payment_per_cost(model, mechanisms.get("quadratic"))["simplex"]
    assert k * c == pytest.approx(28 / 30)
    G = mechanisms.get("quadratic").G(model.agent_posteriors(0)[1])
    alpha = k * c / (float(np.sum(model.joint[1].sum(0) * G)) + 1)  # Q+ has range [-1, 1]: pays alpha (S + 1)
    env = InformationAcquisitionEnv(model, mechanism="scoring", rule="quadratic", bound=2 * alpha, batch_size=40_000)
    env.reset(seed=0)
    env.step(env.default_actions())
    *_, info = env.step(env.default_actions())
    pay = np.asarray(info["metrics"]["payments"], dtype=float)
    assert np.nanmean(pay) == pytest.approx(k * c, abs=4 * np.nanstd(pay) / np.sqrt(np.isfinite(pay).sum()))


def test_every_unit_function_declares_its_parameters_and_is_listed(capsys):
    undeclared = sorted(n for n in FUNCTIONS if FUNCTION_PARAMS.get(n) is None and n != "flaky")
    assert undeclared == []  # "flaky" (a test helper) reads an environment variable, not only its parameters
    assert cli_main(["list", "functions"]) == 0
    listed = capsys.readouterr().out
    missing = [n for n in FUNCTIONS if n not in listed]
    assert not missing, f"coopsim list functions does not show {missing}"


def test_final_values_one_row_per_unit_at_its_last_round():
    import pandas as pd

    from coopsim.plotting import final_values

    df = pd.DataFrame(
        {
            "unit": ["u1"] * 4 + ["u2"] * 3,
            "round": [1, 1, 2, 2, 1, 5, 5],
            "metric": ["a", "b", "a", "a", "a", "a", "b"],
            "agent": [0, 0, 0, 1, 0, 0, 0],  # per-agent rows are averaged
            "value": [1.0, 2.0, 3.0, 5.0, 7.0, 11.0, 13.0],
            "env.n": [2, 2, 2, 2, 3, 3, 3],
            "replicate": 0,
        }
    )
    w = final_values(df, ["env.n"]).set_index("env.n")
    assert w.loc[2, "a"] == 4.0 and np.isnan(w.loc[2, "b"])  # u1's last round (2) has no b
    assert w.loc[3, "a"] == 11.0 and w.loc[3, "b"] == 13.0
    assert final_values(df, ["env.n"], at=1).set_index("env.n").loc[2, "b"] == 2.0
    with pytest.raises(ValueError, match="by: expected columns"):
        final_values(df, ["env.m"])
    with pytest.raises(ValueError, match="at: expected 'last' or a round number"):
        final_values(df, at="first")
