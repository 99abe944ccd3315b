"""Unit functions of the agent-economy experiments."""

from __future__ import annotations

import numpy as np

from coopsim.runner.functions._common import Out as _Out
from coopsim.runner.units import register_function

#: reference synthetic testbed (the v1 synthetic agents of the reference code ``rb125/cgae``)
TESTBED = dict(initial_balance=0.5, decay_rate=0.005, audit_cost=0.002, upkeep=0.0003, contracts_per_step=12)


@register_function("economy_incentive", params=("m", "n", "t1_share", "invest_steps"))
def economy_incentive(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Robustness investment vs capability-only investment (Baxi: Incentive-Compatible Robustness Investment).

    ``m`` robustness investors (archetype ``adaptive``) and ``n - m`` capability-only investors, both
    with capability 0.7, invest for the first ``invest_steps`` steps (``invest_amount`` 0.1 per step),
    then bid with the same rule (policy ``invest_then_bid`` of ``agent_economy.simulate``); testbed
    economics with ``initial_balance`` 5. ``t1_share``: the T1 share of demand (the rest of the
    default tier weights rescaled; 0.40 is the default market). Metrics: everything
    ``agent_economy.simulate`` records plus ``gap_net`` (earnings of robustness minus capability
    investors), ``gap_operating`` (the same with the investment spend added back) and ``gap_tier``.
    """
    from coopsim.envs.agent_economy import simulate
    from coopsim.envs.agent_economy_market import DEFAULT_TIER_WEIGHTS

    n, m = int(params.get("n", 8)), int(params.get("m", 4))
    if not 0 < m < n:
        raise ValueError(f"function.m: expected 0 < m < n = {n}, got {m}")
    c = float(params.get("t1_share", 0.40))
    if not 0.0 <= c <= 1.0:
        raise ValueError(f"function.t1_share: expected a number in [0, 1], got {c}")
    rest = DEFAULT_TIER_WEIGHTS[1:] / DEFAULT_TIER_WEIGHTS[1:].sum()
    env = {
        **TESTBED,
        "initial_balance": 5.0,
        "invest_amount": 0.1,
        "n_agents": n,
        "archetypes": ["adaptive"] * m + ["capability_investor"] * (n - m),
        "archetype_overrides": {"adaptive": {"capability": 0.7}, "capability_investor": {"capability": 0.7}},
        "tier_weights": np.concatenate([[c], (1 - c) * rest]),
        "policy": "invest_then_bid",
        "invest_steps": int(params.get("invest_steps", 12)),
    }
    out = simulate(env, seed_sequence, rounds, batch, record_every)
    out["gap_net"] = out["earnings_adaptive"] - out["earnings_capability_investor"]
    out["gap_operating"] = out["operating_adaptive"] - out["operating_capability_investor"]
    out["gap_tier"] = out["mean_tier_adaptive"] - out["mean_tier_capability_investor"]
    return out
