"""Learning targets in auctions (spec position_auctions.md section 9.3, learning.md section 8.2).

Bidders with i.i.d. U[0,1] values redrawn every round run full-information Hedge over a shading
factor on a 0.01 grid (bid = factor x value). The full, seed-averaged version with EXP3, n = 5 and
multi-slot VCG is experiments/specs/auction_shading.toml (unit function auction_shading).

Bandit learners (EXP3) are checked against the equilibria of the game they actually play: one
factor from a coarse grid with step h, which has a symmetric pure equilibrium at (n-1)/n and one
more a tick below (experiments/position_auctions/README.md, section 1), and against the spec's
tolerances after the ~1e6 rounds they need (a lean loop, five times faster than ``dynamics.run``).
"""

import numpy as np
import pytest
from coopsim.envs.position_auction import PositionAuction

from coopsim import agents, dynamics

GRID = np.round(np.arange(0.0, 1.0 + 1e-9, 0.01), 10)


def learned(mechanism: str, n: int, rounds: int, batch: int = 8, seed: int = 0, eta: float = 0.5):
    game = PositionAuction(n_agents=n, mechanism=mechanism, action="shading", reference_metrics=False)
    lrn = agents.Hedge(n_actions=len(GRID), utility_range=game.utility_range, eta=eta)
    res = dynamics.run(
        game,
        lrn,
        rounds=rounds,
        batch=batch,
        seed=seed,
        grid=GRID,
        redraw="round",
        record_every=rounds // 20,
        swap_regret=False,
        snapshots=True,
    )
    # time-averaged policy over the second half of the run
    T, snaps = res.rounds, res.policy_snapshots
    k = len(T) // 2
    tail = (T[-1] * snaps[-1] - T[k - 1] * snaps[k - 1]) / (T[-1] - T[k - 1])
    factor = float((tail * GRID).sum(-1).mean())
    revenue = float(res["revenue"][k:].mean())
    return factor, revenue


@pytest.mark.slow
def test_first_price_hedge_converges_to_bne_shading():
    factor, revenue = learned("first_price", 2, rounds=30000)
    assert abs(factor - 0.5) <= 0.05
    assert abs(revenue - 1 / 3) <= 0.03


@pytest.mark.slow
def test_second_price_hedge_converges_to_truthful():
    factor, revenue = learned("second_price", 2, rounds=15000)
    assert factor >= 0.95
    assert abs(revenue - 1 / 3) <= 0.03


def test_complete_information_first_price_three_top_bidders():
    """Spec 9.3 (3): three bidders with value 1, Hedge on a bid grid, first price: the last-iterate
    highest bid is within two grid ticks of 1 (Deng et al.: >= 3 top bidders converge to NE)."""
    game = PositionAuction(
        n_agents=3,
        mechanism="first_price",
        values="fixed",
        value_params={"profile": [1.0, 1.0, 1.0]},
        reference_metrics=False,
    )
    grid = np.linspace(0, 1, 21)
    lrn = agents.Hedge(n_actions=len(grid), utility_range=game.utility_range, eta=0.5)
    res = dynamics.run(
        game, lrn, rounds=4000, batch=8, seed=0, grid=grid, redraw="episode", record_every=500, swap_regret=False
    )
    modal_top = grid[res.policy.argmax(-1)].max(axis=1)  # last iterate, per copy
    assert (modal_top >= 1.0 - 2 * 0.05 - 1e-12).all()
    assert res["highest_bid"][-1].mean() >= 0.9 - 1e-12


def test_auctiongym_style_effects_of_participants_and_shading():
    """Spec 9.3 (6): second price with truthful bidders, 2 -> 6 participants: welfare and revenue up,
    bidder surplus down (closed forms n/(n+1), (n-1)/(n+1), 1/(n+1)); first price: truthful bidders
    get no surplus, shading raises surplus and lowers revenue at unchanged welfare."""
    rng = np.random.default_rng(0)
    prev = None
    for n in range(2, 7):
        game = PositionAuction(n_agents=n, mechanism="second_price")
        types = game.sample_types(rng, 100_000)
        m = game.metrics(types, game.play(types, game.truthful_actions(types)))
        w, r, s = m["welfare"].mean(), m["revenue"].mean(), m["bidder_surplus"].mean()
        assert abs(w - n / (n + 1)) < 0.01 and abs(r - (n - 1) / (n + 1)) < 0.01 and abs(s - 1 / (n + 1)) < 0.01
        if prev is not None:
            assert w > prev[0] and r > prev[1] and s < prev[2]
        prev = (w, r, s)
    fp = PositionAuction(n_agents=2, mechanism="first_price", action="shading")
    types = fp.sample_types(rng, 100_000)
    truthful = fp.metrics(types, fp.play(types, np.ones((100_000, 2))))
    shaded = fp.metrics(types, fp.play(types, np.full((100_000, 2), 0.5)))
    assert np.allclose(truthful["bidder_surplus"], 0.0)
    assert shaded["bidder_surplus"].mean() > 0.15 and shaded["revenue"].mean() < truthful["revenue"].mean() - 0.3
    np.testing.assert_allclose(shaded["welfare"], truthful["welfare"])


def best_response(game: PositionAuction, types: np.ndarray, b: float, grid: np.ndarray) -> float:
    """Agent 0's best grid factor when all others shade by ``b`` (Monte Carlo over the values in
    ``types``, through the game's own deviation utilities)."""
    U = game.deviation_utilities(types, np.full(types.shape[:2], b), grid)[:, 0].mean(0)
    return float(grid[U.argmax()])


def test_coarse_shading_grid_has_an_extra_equilibrium_one_tick_below_the_bne():
    """Single-factor first price, 0.05 grid: the best response to b < (n-1)/n moves only ~40% of
    the way to (n-1)/n, so (n-1)/n - h is a symmetric equilibrium as well (n = 2, 5); for n = 3
    (2/3 off the grid) 0.65 is the only one. Next to them best responses climb (below) or fall."""
    grid = np.round(np.linspace(0, 1, 21), 10)
    for n, ne in [(2, [0.45, 0.5]), (3, [0.65]), (5, [0.75, 0.8])]:
        game = PositionAuction(n_agents=n, mechanism="first_price", action="shading", reference_metrics=False)
        types = game.sample_types(np.random.default_rng(1), 100_000)
        for b in ne:
            assert best_response(game, types, b, grid) == pytest.approx(b)
        below, above = round(min(ne) - 0.05, 10), round(max(ne) + 0.05, 10)
        assert best_response(game, types, below, grid) > below
        assert best_response(game, types, above, grid) < above


def test_first_price_exp3_converges_to_a_grid_equilibrium():
    """Bandit feedback: two EXP3 bidders (fixed exploration gamma = 0.2, rate gamma / K) on an
    11-point shading grid concentrate on a symmetric equilibrium of the grid game, {0.4, 0.5}
    (0.4 = 1/2 - h is the one reached from below), not on the diffuse uniform policy."""
    grid = np.round(np.linspace(0, 1, 11), 10)
    game = PositionAuction(n_agents=2, mechanism="first_price", action="shading", reference_metrics=False)
    lrn = agents.Exp3(n_actions=len(grid), utility_range=game.utility_range, gamma=0.2)
    rounds = 20000
    res = dynamics.run(
        game,
        lrn,
        rounds=rounds,
        batch=16,
        seed=3,
        grid=grid,
        feedback="bandit",
        redraw="round",
        record_every=rounds // 10,
        swap_regret=False,
        snapshots=True,
        game_metrics="record",
    )
    T, snaps = res.rounds, res.policy_snapshots
    k = len(T) // 2
    tail = (T[-1] * snaps[-1] - T[k - 1] * snaps[k - 1]) / (T[-1] - T[k - 1])  # (B, N, K)
    modes = grid[tail.argmax(-1)]
    assert np.isin(modes, [0.4, 0.5]).mean() >= 0.9
    # exploitation part (1 - gamma) softmax concentrated: largest probability well above uniform 1/11
    assert res.policy.max(-1).mean() >= 0.5
    factor = float((tail * grid).sum(-1).mean())
    assert 0.40 <= factor <= 0.50


def exp3_single_item(
    n: int,
    rounds: int,
    mechanism: str = "first_price",
    grid_points: int = 21,
    batch: int = 8,
    seed: int = 0,
    gamma: float = 0.05,
):
    """EXP3 self-play in a single-item auction on a shading grid, values U[0,1] each round.

    A lean loop over rounds (the learner is ``agents.Exp3``, the auction the closed form winner =
    highest positive bid s v, price = own bid (first price) or the second-highest bid; checked
    against ``PositionAuction.play`` in round one and on an all-zero profile). Returns the time-averaged factor of the policies (forced
    exploration included) and the mean revenue, both over the second half and all copies.
    """
    grid = np.linspace(0.0, 1.0, grid_points)
    game = PositionAuction(n_agents=n, mechanism=mechanism, action="shading", reference_metrics=False)
    lrn = agents.Exp3(n_actions=len(grid), utility_range=game.utility_range, gamma=gamma).bind(batch, n)
    zero = np.zeros((1, n))
    assert game.play(np.full((1, n), 0.5), zero).utility.sum() == 0.0  # nobody wins with bid 0
    rng = np.random.default_rng(seed)
    rows = np.arange(batch)
    factor = revenue = 0.0
    start = rounds // 2
    for t in range(rounds):
        v = rng.random((batch, n))
        a = lrn.act(rng)
        bids = grid[a] * v
        w = bids.argmax(axis=1)
        price = bids[rows, w] if mechanism == "first_price" else np.sort(bids, axis=1)[:, -2]
        u = np.zeros((batch, n))
        u[rows, w] = np.where(bids[rows, w] > 0, v[rows, w] - price, 0.0)  # all bids 0: nobody is shown
        if t == 0:
            np.testing.assert_allclose(u, game.play(v, grid[a]).utility, atol=1e-15)
        if t >= start:
            factor += float((lrn.policy * grid).sum(-1).mean())
            revenue += float(price.mean())
        lrn.update(a, u)
    return factor / (rounds - start), revenue / (rounds - start)


@pytest.mark.slow
@pytest.mark.parametrize("n, rounds", [(2, 1_000_000), (3, 2_000_000)])
def test_first_price_exp3_reaches_the_spec_tolerances(n, rounds):
    """Spec section 9.3 (1) with EXP3: factor (n-1)/n +- 0.05 and revenue (n-1)/(n+1) +- 0.03.
    Measured (seed 0, 8 copies): n = 2 -> 0.457 / 0.307 (the copies sit on the lower grid
    equilibrium 0.45, still inside); n = 3 -> 0.635 / 0.481 (climbing to the grid equilibrium 0.65)."""
    factor, revenue = exp3_single_item(n, rounds)
    assert abs(factor - (n - 1) / n) <= 0.05
    assert abs(revenue - (n - 1) / (n + 1)) <= 0.03


@pytest.mark.slow
def test_second_price_exp3_bids_truthfully():
    """Spec section 9.3 (2) with EXP3: factor 1 +- 0.05 and revenue 1/3 +- 0.03 (n = 2). Truthful
    bidding is weakly dominant, so s = 1 is the only symmetric equilibrium on any grid containing 1;
    the 11-point grid makes the last step (0.9 -> 1, worth 1.7e-3) four times larger than on the
    21-point grid (0.95 -> 1: 4e-4, where 2e6 rounds reach 0.952, README section 1).
    Measured (seed 0, 8 copies, 1e6 rounds): 0.967 / 0.317."""
    factor, revenue = exp3_single_item(2, 1_000_000, mechanism="second_price", grid_points=11)
    assert abs(factor - 1.0) <= 0.05
    assert abs(revenue - 1 / 3) <= 0.03
