"""The agent economy's step reuses the effective scores it computed earlier in the step
(``StepTally.scores``) for its observation only while no certificate has changed since: after every
step, the returned observation equals the one recomputed from the state."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.envs.agent_economy import AgentEconomy
from coopsim.envs.agent_economy.observe import observe

CONFIGS = [
    {},
    {"on_demotion": "force_unwind", "entrant_rate": 0.3, "n_initial": 3},
    {"ih_rule": "reaudit", "audit_hazard": "poisson"},
    {"gate": "capability_gate"},
    {"decay_rate": 0.05, "audit_rates": [0.0, 0.2, 0.2, 0.3, 0.3, 0.4]},
]


@pytest.mark.parametrize("config", CONFIGS, ids=[str(i) for i in range(len(CONFIGS))])
def test_step_observation_equals_the_recomputed_one(config):
    env = AgentEconomy(n_agents=6, batch_size=8, horizon=60, metrics="none", **config)
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    recertified = 0
    for _ in range(60):
        before = env.economy.r_cert.copy()
        obs, *_ = env.step(rng.integers(0, 22, (8, 6)))
        np.testing.assert_array_equal(obs, observe(env.economy, env.params), strict=True)
        recertified += not np.array_equal(before, env.economy.r_cert)
    assert recertified >= 10  # audits and decay drops changed certificates during the run
