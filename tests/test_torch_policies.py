"""Optional PyTorch policies: device resolution, shapes, seeding, and training on the CPU.

Skipped when torch is absent. The training targets follow learning spec L20: PPO-lite /
REINFORCE in a first-price auction with n = 2 uniform bidders learn bids close to the BNE v/2.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from coopsim.envs.facility_location import FacilityLocation  # noqa: E402

from coopsim.agents.torch import ContinuousPolicy, PolicyGradientTrainer, resolve_device  # noqa: E402
from coopsim.core.game import MechanismGame, Outcome  # noqa: E402


class FirstPrice(MechanismGame):
    """Single-item first-price auction, i.i.d. U[0, 1] values, ties split equally."""

    def __init__(self, n: int = 2) -> None:
        self.n_agents = n

    def sample_types(self, rng, batch):
        return rng.random((batch, self.n_agents))

    def play(self, types, actions):
        b = np.asarray(actions, dtype=np.float64)
        win = b == b.max(axis=1, keepdims=True)
        share = win / win.sum(axis=1, keepdims=True)
        return Outcome(share * (types - b), price=b.max(axis=1))


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks: one intra-op thread is fastest and keeps the shared CI cores free."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


MID = np.linspace(0.2, 0.8, 25)


def bne_distance(policy) -> np.ndarray:
    """Per-agent L2 distance of the deterministic bid to the BNE v/2 on mid values."""
    obs = np.repeat(MID[:, None, None], policy.n_agents, axis=1)
    bids = policy.act(obs, deterministic=True)
    return np.sqrt(((bids - MID[:, None] / 2) ** 2).mean(axis=0))


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device(torch.device("cpu")).type == "cpu"
    with pytest.raises(ValueError, match="device"):
        resolve_device("tpu:7")
    with pytest.raises(TypeError, match="device"):
        resolve_device(3)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA"):
            resolve_device("cuda:0")


@pytest.mark.parametrize("dist", ["gaussian", "beta"])
def test_policy_shapes_bounds_and_log_probs(dist):
    pol = ContinuousPolicy(3, 2, hidden=(8,), dist=dist, low=0.25, high=0.75, device="cpu", seed=0)
    obs = pol.to_tensor(np.random.default_rng(0).random((5, 3, 2)))
    raw, act, logp = pol.sample(obs)
    assert raw.shape == act.shape == logp.shape == (5, 3)
    assert torch.all((act > 0.25) & (act < 0.75))
    assert torch.allclose(pol.log_prob(obs, raw), logp)
    assert torch.isfinite(pol.entropy(obs)).all() and pol.value(obs).shape == (5, 3)
    a = pol.act(np.zeros((4, 3, 2)))
    assert isinstance(a, np.ndarray) and a.shape == (4, 3) and a.dtype == np.float64
    # scale_feature: a fraction of an observed value (bid shading b = v * s)
    sh = ContinuousPolicy(2, 1, hidden=(8,), dist=dist, scale_feature=0, device="cpu", seed=0)
    v = np.random.default_rng(1).random((6, 2, 1))
    b = sh.act(v)
    assert np.all(b <= v[..., 0] + 1e-7) and np.all(b >= 0)


def test_policy_validation():
    with pytest.raises(ValueError, match="dist"):
        ContinuousPolicy(2, 1, dist="cauchy", device="cpu")
    with pytest.raises(ValueError, match="high"):
        ContinuousPolicy(2, 1, low=1.0, high=0.0, device="cpu")
    with pytest.raises(ValueError, match="n_agents"):
        ContinuousPolicy(0, 1, device="cpu")
    pol = ContinuousPolicy(2, 1, device="cpu", seed=0)
    with pytest.raises(ValueError, match="obs"):
        pol.act(np.zeros((4, 3, 1)))
    with pytest.raises(ValueError, match="obs"):
        pol.act(np.full((4, 2, 1), np.nan))
    game = FirstPrice(2)
    with pytest.raises(ValueError, match="algo"):
        PolicyGradientTrainer(game, pol, algo="a2c")
    with pytest.raises(ValueError, match="lr"):
        PolicyGradientTrainer(game, pol, lr=0.0)
    with pytest.raises(ValueError, match="controls"):
        PolicyGradientTrainer(game, pol, agents=[0])
    with pytest.raises(TypeError, match="game"):
        PolicyGradientTrainer("fpa", pol)


def test_same_seed_same_training_on_cpu():
    def go(seed):
        pol = ContinuousPolicy(2, 1, hidden=(8,), scale_feature=0, device="cpu", seed=seed)
        tr = PolicyGradientTrainer(FirstPrice(2), pol, algo="ppo", batch=64, epochs=2, minibatch=32, seed=seed)
        tr.train(3)
        return torch.cat([p.detach().flatten() for p in pol.parameters()]), tr.history["mean_reward"]

    (p1, h1), (p2, h2), (p3, _) = go(4), go(4), go(5)
    assert torch.equal(p1, p2) and h1 == h2
    assert not torch.equal(p1, p3)


def test_reinforce_learns_the_first_price_bne_on_cpu():
    pol = ContinuousPolicy(2, 1, hidden=(32, 32), scale_feature=0, init_loc=1.5, device="cpu", seed=0)
    assert bne_distance(pol).min() > 0.15  # starts at bids ~0.82 v, far from v/2
    tr = PolicyGradientTrainer(FirstPrice(2), pol, algo="reinforce", batch=512, lr=1e-2, seed=0)
    tr.train(200)
    assert np.all(bne_distance(pol) <= 0.05)
    assert tr.samples_per_second > 0
    # rewards rose from the over-bidding start (BNE expected utility is 1/6 per bidder)
    assert np.mean(tr.history["mean_reward"][-20:]) > tr.history["mean_reward"][0] + 0.05


@pytest.mark.slow
def test_ppo_moves_bids_toward_the_first_price_bne_on_cpu():
    pol = ContinuousPolicy(2, 1, hidden=(32, 32), scale_feature=0, init_loc=1.5, device="cpu", seed=0)
    start = bne_distance(pol)
    tr = PolicyGradientTrainer(FirstPrice(2), pol, algo="ppo", batch=512, lr=5e-3, epochs=4, minibatch=128, seed=0)
    tr.train(40)
    end = bne_distance(pol)
    assert np.all(end <= 0.06) and np.all(end < start / 2)


def test_single_agent_ppo_learns_to_manipulate_the_average_rule():
    """Agent 0 learns against truthful others under the average rule (misreporting pays)."""
    game = FacilityLocation(n_agents=3, mechanism="average")
    pol = ContinuousPolicy(1, 1, hidden=(16,), init_log_std=-1.0, device="cpu", seed=0)
    tr = PolicyGradientTrainer(game, pol, algo="ppo", batch=256, agents=[0], lr=1e-2, epochs=4, minibatch=128, seed=0)
    before = tr.evaluate(4096)
    tr.train(50)
    after = tr.evaluate(4096)
    # expected utility of truthful reporting, 1 - E|mean(t) - t_0| (Monte Carlo, 2e5 draws, ~0.805)
    t = np.random.default_rng(9).random((200_000, 3))
    truthful = 1.0 - np.mean(np.abs(t.mean(axis=1) - t[:, 0]))
    assert after > before + 0.01
    assert after > truthful + 0.01
    # extreme peaks learn extreme reports (best response clip(3t - t_1 - t_2, 0, 1))
    reps = pol.act(np.array([[[0.05]], [[0.95]]]), deterministic=True)[:, 0]
    assert reps[0] < 0.1 and reps[1] > 0.9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_reinforce_trains_on_cuda():
    pol = ContinuousPolicy(2, 1, hidden=(32, 32), scale_feature=0, init_loc=1.5, device="cuda", seed=0)
    tr = PolicyGradientTrainer(FirstPrice(2), pol, algo="reinforce", batch=512, lr=1e-2, seed=0)
    tr.train(200)
    assert np.all(bne_distance(pol) <= 0.05)


def test_numpy_learners_import_without_touching_torch():
    code = (
        "import sys; import coopsim, coopsim.agents, coopsim.dynamics, coopsim.agents.torch; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_missing_torch_raises_an_import_error_naming_the_extra():
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import coopsim.agents.torch as t\n"
        "try:\n    t.ContinuousPolicy\nexcept ImportError as e:\n    assert 'coopsim[torch]' in str(e), e\n"
        "else:\n    raise SystemExit('no ImportError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
