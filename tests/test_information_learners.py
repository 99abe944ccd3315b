"""Learners under proper vs improper scoring rules (issue 6): truthful reports vs a corner."""

import numpy as np
import pytest
from coopsim.envs.information_acquisition import BeliefElicitation

from coopsim import agents, dynamics

GRID = 21  # reports 0, 0.05, ..., 1


def final_mode(rule: str, belief: float, params=None) -> float:
    game = BeliefElicitation(rule=rule, rule_params=params, belief=belief, utility="realised")
    res = dynamics.run(
        game,
        agents.Hedge(n_actions=GRID),
        rounds=3000,
        batch=16,
        seed=11,
        feedback="full",
        grid=GRID,
        redraw="round",
        game_metrics="none",
    )
    grid = np.asarray(res.grid).reshape(-1)
    return float(grid[np.argmax(res.policy[:, 0, :].mean(0))])


@pytest.mark.parametrize("rule,params", [("quadratic", None), ("spherical", None), ("logarithmic", {"eps": 0.01})])
@pytest.mark.parametrize("belief", [0.3, 0.7])
def test_hedge_reports_its_belief_under_strictly_proper_rules(rule, params, belief):
    # tolerance: one grid step (0.05)
    assert abs(final_mode(rule, belief, params) - belief) <= 0.05 + 1e-9


@pytest.mark.parametrize("belief,corner", [(0.3, 0.0), (0.7, 1.0)])
def test_hedge_reports_a_corner_under_the_linear_rule(belief, corner):
    assert final_mode("linear", belief) == corner
