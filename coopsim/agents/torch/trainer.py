"""REINFORCE-with-baseline and PPO-lite on batched rollouts of a one-shot ``MechanismGame``.

One iteration: draw types for B copies (NumPy, from the env stream), build observations
``s = features(types)`` ``(B, N_c, D)`` for the controlled agents (default: each agent's own type),
sample actions from the policy, play the game (other agents play ``game.truthful_actions``), and
update on the B·N_c samples with advantages ``A = r - V_φ(s)`` normalised per agent:

- ``algo="reinforce"``: one gradient step on ``-E[log π(a|s)·A] + c_v·E[(V_φ(s) - r)²] - c_e·H``;
- ``algo="ppo"``: ``epochs`` passes over minibatches of ``minibatch`` copies of
  ``-E[min(ρA, clip(ρ, 1-ε, 1+ε)A)] + c_v·E[(V_φ - r)²] - c_e·H``, ``ρ = π_θ(a|s)/π_old(a|s)``
  (Schulman et al. 2017, arXiv 1707.06347; defaults ε = 0.2, Adam lr 3e-4, 10 epochs,
  minibatch 64 as in the paper's MuJoCo table). One-shot games: no discounting or GAE.

Environments stay in NumPy; observations cross as float32 tensors on the policy device, actions
come back as NumPy arrays on the CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from coopsim.agents.torch.policy import ContinuousPolicy
from coopsim.core.game import MechanismGame
from coopsim.core.seeding import SeedLike, seed_sequence
from coopsim.core.validation import check_bool, check_choice, check_float, check_int, check_rng

__all__ = ["PolicyGradientTrainer"]


class PolicyGradientTrainer:
    """Train a :class:`ContinuousPolicy` on ``game`` by REINFORCE or PPO.

    ``agents``: indices of the policy-controlled agents (default all; the others report
    truthfully). ``features(types) -> (B, N, D)`` maps types to observations (default: the
    flattened own type, ``D = prod(type_shape)``); the controlled agents' rows are used.
    """

    def __init__(
        self,
        game: MechanismGame,
        policy: ContinuousPolicy,
        *,
        algo: str = "ppo",
        batch: int = 256,
        agents: Sequence[int] | None = None,
        lr: float = 3e-4,
        clip: float = 0.2,
        epochs: int = 10,
        minibatch: int = 64,
        value_coef: float = 0.5,
        entropy_coef: float = 0.0,
        max_grad_norm: float | None = 0.5,
        features: Callable[[np.ndarray], np.ndarray] | None = None,
        seed: SeedLike = None,
    ) -> None:
        if not isinstance(game, MechanismGame):
            raise TypeError(f"game: expected a MechanismGame, got {type(game).__name__}")
        if game.action_shape != ():
            raise ValueError(f"game: continuous policies need scalar actions, got action shape {game.action_shape}")
        if not isinstance(policy, ContinuousPolicy):
            raise TypeError(f"policy: expected a ContinuousPolicy, got {type(policy).__name__}")
        self.game, self.policy = game, policy
        self.algo = check_choice(algo, "algo", ("ppo", "reinforce"))
        self.batch = check_int(batch, "batch", lo=1)
        N = game.n_agents
        self.agents = (
            tuple(range(N)) if agents is None else tuple(check_int(i, "agents", lo=0, hi=N - 1) for i in agents)
        )
        if len(set(self.agents)) != len(self.agents) or not self.agents:
            raise ValueError(f"agents: expected distinct agent indices, got {agents!r}")
        if policy.n_agents != len(self.agents):
            raise ValueError(f"policy: controls {policy.n_agents} agents, the trainer controls {len(self.agents)}")
        self.lr = check_float(lr, "lr", lo=0.0, lo_open=True)
        self.clip = check_float(clip, "clip", lo=0.0, lo_open=True)
        self.epochs = check_int(epochs, "epochs", lo=1)
        self.minibatch = check_int(minibatch, "minibatch", lo=1)
        self.value_coef = check_float(value_coef, "value_coef", lo=0.0)
        self.entropy_coef = check_float(entropy_coef, "entropy_coef", lo=0.0)
        self.max_grad_norm = (
            None if max_grad_norm is None else check_float(max_grad_norm, "max_grad_norm", lo=0.0, lo_open=True)
        )
        self.features = features
        ss = seed_sequence(seed)
        env_ss, mb_ss, eval_ss = ss.spawn(3)
        self.rng = np.random.default_rng(env_ss)
        self.mb_rng = np.random.default_rng(mb_ss)
        self.eval_rng = np.random.default_rng(eval_ss)
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=self.lr)
        self.history: dict[str, list[float]] = {"mean_reward": [], "loss": [], "seconds": []}
        self.samples = 0

    # -- rollouts -------------------------------------------------------------------------------
    def observe(self, types: np.ndarray) -> np.ndarray:
        """Observations of the controlled agents ``(B, N_c, D)``."""
        B = types.shape[0]
        obs = (
            self.features(types) if self.features is not None else np.asarray(types).reshape(B, self.game.n_agents, -1)
        )
        obs = np.asarray(obs, dtype=np.float32)
        return obs[:, list(self.agents)]

    def rollout(
        self, batch: int | None = None, deterministic: bool = False, rng: np.random.Generator | None = None
    ) -> dict[str, Any]:
        """Play one batched round; returns tensors ``obs, raw, log_prob, reward`` and ``types``."""
        B = self.batch if batch is None else check_int(batch, "batch", lo=1)
        deterministic = check_bool(deterministic, "deterministic")
        if rng is not None:
            check_rng(rng)
        types = self.game.sample_types(self.rng if rng is None else rng, B)
        obs = self.policy.to_tensor(self.observe(types))
        with torch.no_grad():
            if deterministic:
                raw = None
                act = self.policy.mean_action(obs)
                logp = None
            else:
                raw, act, logp = self.policy.sample(obs)
        actions = np.array(self.game.truthful_actions(types), dtype=np.float64).reshape(B, self.game.n_agents)
        a_np = act.cpu().numpy().astype(np.float64)
        actions[:, list(self.agents)] = np.clip(a_np, self.game.action_low, self.game.action_high)
        out = self.game.play(types, actions)
        r = np.asarray(out.utility, dtype=np.float64)[:, list(self.agents)]
        return {
            "types": types,
            "obs": obs,
            "raw": raw,
            "log_prob": logp,
            "actions": actions,
            "reward": torch.as_tensor(r, dtype=torch.float32, device=self.policy.device),
        }

    # -- updates --------------------------------------------------------------------------------
    def _loss(self, obs, raw, old_logp, adv, ret) -> torch.Tensor:
        dist = self.policy.distribution(obs)
        logp = dist.log_prob(raw)
        if self.algo == "ppo":
            ratio = torch.exp(logp - old_logp)
            pg = -torch.min(ratio * adv, ratio.clamp(1 - self.clip, 1 + self.clip) * adv).mean()
        else:
            pg = -(logp * adv).mean()
        v_loss = (self.policy.value(obs) - ret).pow(2).mean()
        ent = dist.entropy().mean()
        return pg + self.value_coef * v_loss - self.entropy_coef * ent

    def _step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
        self.optimizer.step()

    def update(self, ro: dict[str, Any]) -> float:
        """One REINFORCE step or one PPO update (``epochs`` × minibatches) on a rollout."""
        obs, raw, old_logp, ret = ro["obs"], ro["raw"], ro["log_prob"], ro["reward"]
        with torch.no_grad():
            adv = ret - self.policy.value(obs)
            adv = (adv - adv.mean(dim=0)) / (adv.std(dim=0) + 1e-8) if adv.shape[0] > 1 else adv
        if self.algo == "reinforce":
            loss = self._loss(obs, raw, old_logp, adv, ret)
            self._step(loss)
            return float(loss.detach())
        B = obs.shape[0]
        mb = min(self.minibatch, B)
        last = 0.0
        for _ in range(self.epochs):
            perm = torch.as_tensor(self.mb_rng.permutation(B), device=self.policy.device)
            for s in range(0, B, mb):
                idx = perm[s : s + mb]
                loss = self._loss(obs[idx], raw[idx], old_logp[idx], adv[idx], ret[idx])
                self._step(loss)
                last = float(loss.detach())
        return last

    def train(self, iterations: int) -> dict[str, list[float]]:
        """Run ``iterations`` rollout + update cycles; appends to and returns ``history``
        (``mean_reward`` of each rollout, the last ``loss``, cumulative ``seconds``)."""
        iterations = check_int(iterations, "iterations", lo=1)
        t0 = time.perf_counter()
        base = self.history["seconds"][-1] if self.history["seconds"] else 0.0
        for _ in range(iterations):
            ro = self.rollout()
            loss = self.update(ro)
            self.samples += ro["reward"].numel()
            self.history["mean_reward"].append(float(ro["reward"].mean()))
            self.history["loss"].append(loss)
            self.history["seconds"].append(base + time.perf_counter() - t0)
        return self.history

    @property
    def samples_per_second(self) -> float:
        """Agent-samples (rollout + update) per second over all training so far."""
        secs = self.history["seconds"][-1] if self.history["seconds"] else 0.0
        return self.samples / secs if secs > 0 else 0.0

    def evaluate(self, batch: int = 4096, deterministic: bool = True) -> float:
        """Mean utility of the controlled agents on a fresh batch from the evaluator stream (so
        evaluating never shifts the training stream; deterministic actions by default)."""
        return float(self.rollout(batch, deterministic=deterministic, rng=self.eval_rng)["reward"].mean())
