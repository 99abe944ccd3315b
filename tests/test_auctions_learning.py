"""Learning targets in auctions (spec position_auctions.md section 9.3, learning.md section 8.2).

Bidders with i.i.d. U[0,1] values redrawn every round run full-information Hedge over a shading
factor on a 0.01 grid (bid = factor x value). The full, seed-averaged version with EXP3, n = 5 and
multi-slot VCG is experiments/position_auctions/first_price_learning.py.
"""
import numpy as np
import pytest

from coopsim import agents, dynamics
from coopsim.envs.position_auction import PositionAuction

GRID = np.round(np.arange(0.0, 1.0 + 1e-9, 0.01), 10)


def learned(mechanism: str, n: int, rounds: int, batch: int = 8, seed: int = 0, eta: float = 0.5):
    game = PositionAuction(n_agents=n, mechanism=mechanism, action="shading", reference_metrics=False)
    lrn = agents.Hedge(n_actions=len(GRID), utility_range=game.utility_range, eta=eta)
    res = dynamics.run(game, lrn, rounds=rounds, batch=batch, seed=seed, grid=GRID, redraw="round",
                       record_every=rounds // 20, swap_regret=False, snapshots=True)
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
