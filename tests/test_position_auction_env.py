"""The PositionAuction game and its env views (PettingZoo / Gymnasium conformance)."""

import numpy as np
import pytest
from conformance import check_all
from coopsim.envs import position_auction as pa
from coopsim.mechanisms import auctions as au

import coopsim  # noqa: F401  (registers the gym ids)
from coopsim.analysis import incentive_audit

# ------------------------------------------------------------------------------------------
# closed-form deviation utilities against the generic path
# ------------------------------------------------------------------------------------------
GENERIC = pa.MechanismGame.deviation_utilities


@pytest.mark.parametrize(
    "kw",
    [
        dict(mechanism="first_price"),
        dict(mechanism="second_price"),
        dict(mechanism="first_price", mechanism_params={"tie_break": "index"}),
        dict(mechanism="second_price", mechanism_params={"tie_break": "index", "reserve": 0.3}),
        dict(mechanism="first_price", action="shading", shade_max=1.2),
        dict(mechanism="second_price", ctr_params={"quality": "uniform", "position": [0.8]}),
        dict(mechanism="gsp", ctr_params={"quality": [1.0, 0.5, 0.8, 0.9], "position": [0.6]}),
        dict(mechanism="vcg", mechanism_params={"reserve": 0.2}),
        dict(mechanism="gfp", mechanism_params={"tie_break": "share"}),
        dict(mechanism="first_price", n_slots=3, values="fixed", value_params={"profile": [1.0, 1.0, 0.6, 0.2]}),
    ],
)
def test_closed_form_deviation_utilities_match_generic(kw):
    kw = {"n_agents": 4, **kw}
    game = pa.PositionAuction(**kw)
    assert game._closed_form is not None
    rng = np.random.default_rng(0)
    types = game.sample_types(rng, 64)
    grid = game.action_grid(11)  # coarse grid: many exact ties
    for _ in range(3):
        acts = grid[rng.integers(0, len(grid), (64, 4))]
        fast = game.deviation_utilities(types, acts, grid)
        slow = GENERIC(game, types, acts, grid)
        assert np.abs(fast - slow).max() <= 1e-12
        # the played action's entry equals the realised (expected) utility
        out = game.play(types, acts)
        idx = np.abs(acts[..., None] - grid).argmin(axis=-1)
        np.testing.assert_allclose(np.take_along_axis(fast, idx[..., None], 2)[..., 0], out.utility, atol=1e-12)
    # continuous random candidates too
    cand = rng.uniform(0, game.action_high, (4, 7))
    acts = rng.uniform(0, game.action_high, (64, 4))
    assert np.abs(game.deviation_utilities(types, acts, cand) - GENERIC(game, types, acts, cand)).max() <= 1e-12


def test_generic_path_for_multi_slot_and_aigc():
    for kw in (dict(mechanism="gsp", n_slots=3), dict(mechanism="aigc_vcg", n_slots=2, ctr="aigc", click_model="mnl")):
        game = pa.PositionAuction(n_agents=3, **kw)
        assert game._closed_form is None
        types = game.sample_types(np.random.default_rng(1), 4)
        U = game.deviation_utilities(types, game.truthful_actions(types), game.action_grid(6))
        assert U.shape == (4, 3, 6)


# ------------------------------------------------------------------------------------------
# play and metrics
# ------------------------------------------------------------------------------------------
def test_vcg_truthful_is_efficient_and_matches_reference_revenue():
    game = pa.PositionAuction(n_agents=5, n_slots=3, mechanism="vcg", ctr_params={"quality": "uniform"})
    types = game.sample_types(np.random.default_rng(2), 500)
    out = game.play(types, game.truthful_actions(types))
    m = game.metrics(types, out)
    np.testing.assert_allclose(m["efficiency"], 1.0)
    np.testing.assert_allclose(m["revenue_vs_vcg"], 1.0)
    assert m["myerson_revenue"].mean() > m["vcg_revenue"].mean()
    np.testing.assert_allclose(m["bidder_surplus"], m["welfare"] - m["revenue"])
    mye = pa.PositionAuction(n_agents=5, n_slots=3, mechanism="myerson", ctr_params={"quality": "uniform"})
    mm = mye.metrics(types, mye.play(types, mye.truthful_actions(types)))
    np.testing.assert_allclose(mm["revenue_vs_myerson"][mm["myerson_revenue"] > 0], 1.0)


def test_separable_approximation_is_rescored_under_true_click_model():
    game = pa.PositionAuction(
        n_agents=4, n_slots=3, mechanism="gsp", ctr="aigc", click_model="cascade", reference_metrics=True
    )
    types = game.sample_types(np.random.default_rng(3), 20)
    out = game.play(types, game.truthful_actions(types))
    v, ctr = game.split(types)
    # clicks follow the cascade for the chosen allocation; payments are price x clicks
    pi = au.solvers.batch_click_probs("cascade", out.assignment, out.assignment, ctr)
    np.testing.assert_allclose(out.click_prob, pi)
    np.testing.assert_allclose(out.payment, out.price * pi)
    m = game.metrics(types, out)
    assert (m["efficiency"] <= 1 + 1e-12).all() and (m["efficiency"] > 0).all()
    assert m["efficiency"].mean() < 0.99  # the separable approximation loses welfare
    opt = game.optimum(types)["welfare"]
    np.testing.assert_allclose(opt, m["opt_welfare"])


def test_first_price_bne_revenue_in_the_env():
    game = pa.PositionAuction(n_agents=3, mechanism="first_price", action="shading")
    types = game.sample_types(np.random.default_rng(4), 200_000)
    out = game.play(types, np.full((200_000, 3), 2 / 3))
    rev = game.metrics(types, out)["revenue"]
    assert abs(rev.mean() - 0.5) < 3 * rev.std() / np.sqrt(len(rev))


def test_sampled_clicks_average_to_expected_utility():
    game = pa.PositionAuction(
        n_agents=3, n_slots=2, mechanism="gsp", utility="sampled", seed=5, mechanism_params={"billing": "per_click"}
    )
    types = np.tile(game.sample_types(np.random.default_rng(5), 1), (100_000, 1))
    out = game.play(types, game.truthful_actions(types))
    np.testing.assert_allclose(out.utility.mean(0), out.expected_utility[0], atol=0.01)
    assert set(np.unique(out.clicks)) <= {0, 1}
    # deviation utilities stay in expectation
    U = game.deviation_utilities(types[:3], game.truthful_actions(types[:3]), game.action_grid(5))
    assert np.isfinite(U).all()


# ------------------------------------------------------------------------------------------
# incentive audit (coopsim.analysis)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw",
    [
        dict(mechanism="vcg", n_slots=3, ctr_params={"quality": "uniform"}),
        dict(mechanism="second_price", mechanism_params={"tie_break": "index"}),
        dict(mechanism="aigc_vcg", n_slots=2, ctr="aigc", click_model="additive"),
        dict(mechanism="aigc_vcg", n_slots=2, ctr="aigc", click_model="mnl"),
        dict(mechanism="aigc_vcg", n_slots=2, ctr="aigc", click_model="cascade"),
    ],
)
def test_audit_finds_no_profitable_misreport_for_vcg(kw):
    game = pa.PositionAuction(n_agents=3, **kw)
    slow = kw["mechanism"] == "aigc_vcg"
    audit = incentive_audit(
        game,
        grid=11 if slow else 41,
        n_random=4 if slow else 16,
        refine_steps=2 if slow else 5,
        n_profiles=6 if slow else 64,
        rng=0,
        tol=1e-9,
    )
    assert audit.strategyproof, audit.witness


@pytest.mark.parametrize(
    "kw",
    [
        dict(mechanism="gsp", n_slots=2, ctr_params={"position": [1.0, 0.9]}),
        dict(mechanism="first_price"),
        dict(mechanism="gfp", n_slots=2),
    ],
)
def test_audit_finds_profitable_misreport_for_gsp_and_first_price(kw):
    game = pa.PositionAuction(n_agents=3, **kw)
    audit = incentive_audit(game, grid=41, n_random=8, refine_steps=3, n_profiles=64, rng=0)
    assert not audit.strategyproof
    assert audit.max_gain > 1e-3


# ------------------------------------------------------------------------------------------
# env views
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        pytest.param(
            dict(action_mode="grid", grid_size=11, mechanism="first_price", action="shading"), marks=pytest.mark.slow
        ),
        pytest.param(dict(n_slots=2, mechanism="gsp", ctr_params={"quality": "uniform"}), marks=pytest.mark.slow),
    ],
)
def test_conformance(kw):
    kw = {"max_cycles": 5, **kw}
    check_all(pa, **kw)


def test_gym_make_registered_id():
    check_all.__globals__["gym_make_checks"]("coopsim/PositionAuction-v0")


def test_batched_env_steps_and_metrics():
    env = pa.make_batched_env(batch_size=8, max_cycles=3, n_agents=3, n_slots=2, mechanism="vcg")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (8, 3, 1 + 2 + 1)
    obs, r, term, trunc, info = env.step(env.default_actions())
    assert r.shape == (8, 3) and term.shape == (8, 3)
    np.testing.assert_allclose(info["metrics"]["efficiency"], 1.0)


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(values="pareto"), "values"),
        (dict(value_params={"sigma": 1.0}), "value_params"),
        (dict(values="fixed"), "value_params.profile"),
        (dict(values="fixed", value_params={"profile": [1.0, 2.0]}), "value_params.profile"),
        (dict(ctr="weird"), "ctr"),
        (dict(n_slots=2, ctr_params={"position": [1.0]}), "ctr_params.position"),
        (dict(ctr_params={"quality": [1.0]}), "ctr_params.quality"),
        (dict(ctr="fixed"), "ctr_params.matrix"),
        (dict(ctr="fixed", n_slots=2, ctr_params={"matrix": np.full((3, 2), 1.5)}), "ctr_params.matrix"),
        (dict(mechanism="nope"), "unknown name"),
        (dict(mechanism="aigc_vcg", n_slots=2, mechanism_params={"max_ads": 3}), "max_ads"),
        (dict(action="bribe"), "action"),
        (dict(click_model="probit"), "click_model"),
        (dict(n_agents=0), "n_agents"),
    ],
)
def test_bad_configuration(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        g = pa.PositionAuction(**kw)
        t = g.sample_types(np.random.default_rng(0), 2)
        g.play(t, g.truthful_actions(t))


def test_bad_actions():
    game = pa.PositionAuction(n_agents=3)
    types = game.sample_types(np.random.default_rng(0), 2)
    with pytest.raises(ValueError, match="actions"):
        game.play(types, np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="actions"):
        game.play(types, np.full((2, 3), -0.1))
    with pytest.raises(ValueError, match="actions"):
        game.play(types, np.full((2, 4), 0.1))


@pytest.mark.parametrize(
    "kw",
    [
        dict(n_agents=1),
        dict(n_agents=3, n_slots=0, mechanism="gsp"),
        dict(n_agents=2, n_slots=2, ctr="fixed", ctr_params={"matrix": [[0.3, 0.2], [0.1, 0.4]]}, mechanism="aigc_vcg"),
        dict(
            n_agents=3,
            n_slots=2,
            values="lognormal",
            ctr="aigc",
            click_model="mnl",
            mechanism="aigc_vcg",
            reference_metrics=True,
        ),
        dict(
            n_agents=3,
            n_slots=2,
            ctr="aigc",
            click_model="cascade",
            mechanism="myerson",
            ctr_params={"cascade": "continuation", "continuation": [0.9, 0.8, 0.7]},
        ),
        dict(n_agents=3, n_slots=2, ctr="aigc", click_model="mnl", mechanism="myerson", ctr_params={"outside": 2.0}),
        dict(
            n_agents=3,
            n_slots=2,
            ctr="aigc",
            click_model="cascade",
            mechanism="aigc_vcg",
            ctr_params={"cascade": "continuation"},
            utility="sampled",
        ),
    ],
)
def test_configurations_play_and_stay_individually_rational(kw):
    game = pa.PositionAuction(**kw)
    types = game.sample_types(np.random.default_rng(0), 5)
    out = game.play(types, game.truthful_actions(types))
    v = out.values
    assert out.utility.shape == (5, game.n_agents)
    assert (out.payment >= -1e-12).all() and (out.payment <= v * out.click_prob + 1e-12).all()
    assert (out.expected_utility >= -1e-12).all()
    m = game.metrics(types, out)
    assert all(x.shape == (5,) for x in m.values())
    U = game.deviation_utilities(types, game.truthful_actions(types), game.action_grid(4))
    assert U.shape == (5, game.n_agents, 4) and np.isfinite(U).all()


def test_env_reset_seed_reseeds_sampled_clicks():
    from coopsim.envs import position_auction as pa

    def trajectory(seed):
        env = pa.make_batched_env(batch_size=8, max_cycles=5, n_agents=3, n_slots=2, mechanism="gsp", utility="sampled")
        env.reset(seed=seed)
        return np.stack([env.step(env.default_actions())[1] for _ in range(5)])

    assert np.array_equal(trajectory(4), trajectory(4))
    assert not np.array_equal(trajectory(4), trajectory(5))


def test_env_refuses_a_batch_whose_auction_outcome_exceeds_the_memory_budget():
    # steps play unchecked (the env's own types), so the outcome's size guard runs at construction
    from coopsim.core.validation import set_memory_budget

    previous = set_memory_budget("4M")
    try:
        pa.make_batched_env(batch_size=100, n_agents=10, n_slots=10)  # ~1 MiB of outcome: fine
        with pytest.raises(ValueError, match=r"batch_size: .* for the auction outcome arrays") as err:
            pa.make_batched_env(batch_size=1000, n_agents=10, n_slots=10)  # ~10 MiB
        assert err.value.param == "batch_size"
    finally:
        set_memory_budget(previous)
