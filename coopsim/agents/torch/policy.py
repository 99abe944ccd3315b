"""Per-agent MLP policies over continuous reports/bids (PPO-lite after Schulman et al., arXiv:1707.06347).

N independent networks run in one call: every layer's weights are stored as ``(N, in, out)`` and
contracted with ``einsum("bni,nio->bno")`` over the agent axis.

Heads
-----
- ``dist="gaussian"``: ``z ~ N(μ_θ(s), σ²)`` with a learned state-independent ``log σ`` per agent
  (initial ``μ ≈ init_loc``, ``log σ = init_log_std``);
  action ``a = lo + (hi - lo)·sigmoid(z)``, or, with ``scale_feature=j``, a fraction of an
  observed value ``a = s_j·sigmoid(z)`` (bid shading ``b = v·sigmoid(z)``). Log-probabilities are
  those of ``z`` (the squashing is a fixed bijection, so PPO ratios are unaffected).
- ``dist="beta"``: ``x ~ Beta(α_θ(s), β_θ(s))``, ``α, β = 1 + softplus(·)``, ``a = lo + (hi - lo)·x``
  (or ``s_j·x``).

Value head ``V_φ(s)`` (separate per-agent MLP) is the REINFORCE/PPO baseline.
Randomness comes from a ``torch.Generator`` on the policy device seeded from the caller's seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from coopsim.agents.torch.device import resolve_device
from coopsim.core.seeding import seed_sequence
from coopsim.core.validation import as_array, check_bool, check_choice, check_float, check_int, check_size

__all__ = ["AgentMLP", "ContinuousPolicy"]


class AgentMLP(nn.Module):
    """N independent MLPs ``(B, N, in) -> (B, N, out)`` with tanh hidden layers."""

    def __init__(
        self,
        n_agents: int,
        sizes: Sequence[int],
        generator: torch.Generator,
        device: torch.device,
        out_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for j, (i, o) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = j == len(sizes) - 2
            gain = out_scale if last else 1.0
            w = torch.randn(n_agents, i, o, generator=generator, device=device) * (gain / np.sqrt(i))
            self.weights.append(nn.Parameter(w))
            self.biases.append(nn.Parameter(torch.zeros(n_agents, o, device=device)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.weights)
        for j, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.einsum("bni,nio->bno", x, w) + b
            if j < n - 1:
                x = torch.tanh(x)
        return x


class ContinuousPolicy(nn.Module):
    """Stochastic continuous policy for ``n_agents`` agents on ``obs_dim`` features each.

    ``sample(obs)`` returns ``(raw, action, log_prob)``; ``log_prob(obs, raw)`` and ``entropy(obs)``
    feed the PPO/REINFORCE objectives; ``value(obs)`` is the baseline ``V_φ``; ``act(obs_np)``
    returns NumPy actions (CPU, detached).
    """

    def __init__(
        self,
        n_agents: int,
        obs_dim: int,
        *,
        hidden: Sequence[int] = (64, 64),
        dist: str = "gaussian",
        low: float = 0.0,
        high: float = 1.0,
        scale_feature: int | None = None,
        init_log_std: float = -0.5,
        init_loc: float = 0.0,
        device: str | torch.device = "auto",
        seed: int | np.random.SeedSequence | None = None,
    ) -> None:
        super().__init__()
        self.n_agents = check_int(n_agents, "n_agents", lo=1)
        self.obs_dim = check_int(obs_dim, "obs_dim", lo=1)
        self.dist = check_choice(dist, "dist", ("gaussian", "beta"))
        self.low = check_float(low, "low")
        self.high = check_float(high, "high")
        if not self.high > self.low:
            raise ValueError(f"high: expected a number > low = {self.low}, got {self.high}")
        if scale_feature is not None:
            scale_feature = check_int(scale_feature, "scale_feature", lo=0, hi=self.obs_dim - 1)
        self.scale_feature = scale_feature
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (Sequence, np.ndarray)):
            raise TypeError(f"hidden: expected a sequence of layer widths, got {hidden!r}")
        hidden = [check_int(h, "hidden", lo=1) for h in hidden]
        widths = [self.obs_dim, *hidden, 2]
        # actor and critic: N stacked (in, out) weight matrices per layer, with gradients and Adam's two moments
        sizes = {"n_agents": self.n_agents, "obs_dim": self.obs_dim, "hidden": max(hidden, default=1)}
        n_weights = self.n_agents * sum(a * b for a, b in zip(widths[:-1], widths[1:]))
        check_size(max(sizes, key=lambda k: sizes[k]), n_weights, itemsize=4, copies=8, what="the weight matrices")
        init_log_std = check_float(init_log_std, "init_log_std")
        self.device = resolve_device(device)
        ss = seed_sequence(seed)
        init_seed, sample_seed = (int(s.generate_state(1, np.uint64)[0] % (2**63)) for s in ss.spawn(2))
        g = torch.Generator(device=self.device)
        g.manual_seed(init_seed)
        n_out = 1 if self.dist == "gaussian" else 2
        self.actor = AgentMLP(self.n_agents, [self.obs_dim, *hidden, n_out], g, self.device, out_scale=0.01)
        self.critic = AgentMLP(self.n_agents, [self.obs_dim, *hidden, 1], g, self.device, out_scale=1.0)
        with torch.no_grad():  # initial mean of z (Gaussian): a = squash(init_loc) before training
            self.actor.biases[-1][:, 0] = check_float(init_loc, "init_loc")
        self.log_std = nn.Parameter(torch.full((self.n_agents,), float(init_log_std), device=self.device))
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(sample_seed)

    # -- distributions ------------------------------------------------------------------------
    def to_tensor(self, obs: Any) -> torch.Tensor:
        """Observations ``(B, N, obs_dim)`` as float32 on the policy device (validated)."""
        t = torch.as_tensor(
            as_array(obs, "obs", ndim=3).astype(np.float32) if not torch.is_tensor(obs) else obs,
            dtype=torch.float32,
            device=self.device,
        )
        if t.ndim != 3 or t.shape[1:] != (self.n_agents, self.obs_dim):
            raise ValueError(f"obs: expected shape (B, {self.n_agents}, {self.obs_dim}), got {tuple(t.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError("obs: expected finite values")
        return t

    def distribution(self, obs: torch.Tensor) -> torch.distributions.Distribution:
        """The policy's distribution over the raw variable (``z`` or the Beta sample), batch ``(B, N)``."""
        out = self.actor(obs)
        if self.dist == "gaussian":
            std = self.log_std.clamp(-5.0, 2.0).exp().expand(out.shape[0], -1)
            return torch.distributions.Normal(out[..., 0], std)
        ab = 1.0 + nn.functional.softplus(out)
        return torch.distributions.Beta(ab[..., 0], ab[..., 1])

    def squash(self, raw: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Map the raw sample to an action: ``lo + (hi - lo)·s`` or ``obs_j·s`` with ``s`` in (0, 1)."""
        s = torch.sigmoid(raw) if self.dist == "gaussian" else raw
        if self.scale_feature is not None:
            return obs[..., self.scale_feature] * s
        return self.low + (self.high - self.low) * s

    def sample(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Draw ``raw`` from the policy with the policy's generator; returns ``(raw, action, log_prob)``."""
        d = self.distribution(obs)
        if self.dist == "gaussian":
            eps = torch.randn(d.mean.shape, generator=self.generator, device=self.device)
            raw = d.mean + d.stddev * eps  # Normal: mean is loc, stddev is scale
        else:
            # Beta via two Gamma draws is not generator-aware in torch: seed a forked global stream
            seed = int(torch.randint(0, 2**62, (1,), generator=self.generator, device=self.device).item())
            devices = [self.device] if self.device.type == "cuda" else []
            with torch.random.fork_rng(devices=devices):
                torch.manual_seed(seed)
                raw = d.sample().clamp(1e-6, 1 - 1e-6)
        return raw, self.squash(raw, obs), d.log_prob(raw)

    def log_prob(self, obs: torch.Tensor, raw: torch.Tensor) -> torch.Tensor:
        return self.distribution(obs).log_prob(raw)

    def entropy(self, obs: torch.Tensor) -> torch.Tensor:
        return self.distribution(obs).entropy()

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """Baseline ``V_φ(obs)``, shape ``(B, N)``."""
        return self.critic(obs)[..., 0]

    def mean_action(self, obs: torch.Tensor) -> torch.Tensor:
        """Deterministic action: the squashed mean (Gaussian) or the Beta mean."""
        d = self.distribution(obs)
        raw = d.mean  # Normal: loc; Beta: the Beta mean
        return self.squash(raw, obs)

    @torch.no_grad()
    def act(self, obs: Any, deterministic: bool = False) -> np.ndarray:
        """NumPy actions ``(B, N)`` on the CPU for NumPy observations ``(B, N, obs_dim)``."""
        t = self.to_tensor(obs)
        a = self.mean_action(t) if check_bool(deterministic, "deterministic") else self.sample(t)[1]
        return a.detach().cpu().numpy().astype(np.float64)
