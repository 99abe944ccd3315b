"""A real external client: Stable-Baselines3 PPO on the Gymnasium single-agent facility view.

The ego agent reports to the average rule against truthful opponents, so misreporting pays
(best response clip(n t_0 - sum_{j>0} t_j, 0, 1)); PPO must beat a uniformly random report.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sb3 = pytest.importorskip("stable_baselines3")

import gymnasium as gym  # noqa: E402

import coopsim  # noqa: E402,F401  (registers coopsim/<Name>-v0)


def mean_reward(env, policy, episodes: int = 400) -> float:
    """Average episode return of ``policy(obs) -> action`` over seeded episodes 10_000 + k."""
    total = 0.0
    for k in range(episodes):
        obs, _ = env.reset(seed=10_000 + k)
        done = False
        while not done:
            obs, r, term, trunc, _ = env.step(policy(obs))
            total += float(r)
            done = term or trunc
    return total / episodes


@pytest.mark.slow
def test_sb3_ppo_beats_random_reports_on_facility_location():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        env = gym.make("coopsim/FacilityLocation-v0", n_agents=3, mechanism="average", max_cycles=1)
        rng = np.random.default_rng(0)
        random_policy = lambda obs: rng.random(1).astype(np.float32)  # noqa: E731
        baseline = mean_reward(env, random_policy)
        model = sb3.PPO(
            "MlpPolicy", env, n_steps=256, batch_size=64, learning_rate=3e-3, seed=0, device="cpu", verbose=0
        )
        model.learn(total_timesteps=4096)
        trained = mean_reward(env, lambda obs: model.predict(obs, deterministic=True)[0])
        # random reports: ~0.73; truthful ~0.80; the best response ~0.83
        assert trained > baseline + 0.05
        env.close()
    finally:
        torch.set_num_threads(old)
