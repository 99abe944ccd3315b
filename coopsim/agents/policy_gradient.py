"""Softmax policy gradient (REINFORCE with a baseline; Williams, Machine Learning 8, 1992).

Logits theta (B, N, K), pi = softmax(theta) over valid actions (masked logits -inf).
- Bandit update (default, ``update="bandit"``), rescaled reward r in [0, 1]:
      theta <- theta + alpha (r - b) (e_a - pi),   then   b <- b + beta_b (r - b),
  with a per-(copy, agent) running baseline b (init 0) and an optional entropy bonus
  tau grad H(pi), grad_k H = -pi_k (ln pi_k + H).
- Full-information "expected" update (``update="expected"``, feedback "full"):
      theta <- theta + alpha pi * (u - <pi, u>)  (+ the entropy term).
Defaults alpha = 0.1, beta_b = 0.01, tau = 0. No guarantee in games; converges to the best arm in
single-agent stochastic bandits (Williams 1992; Sutton & Barto 2018, §2.8).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coopsim.agents.base import Learner, registry
from coopsim.agents.sampling import masked_softmax
from coopsim.core.validation import check_choice, check_float

__all__ = ["SoftmaxPolicyGradient"]


@registry.register("softmax_pg")
class SoftmaxPolicyGradient(Learner):
    """REINFORCE with a running baseline on a softmax policy over (B, N, K) logits."""

    feedback = "bandit"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        lr: float = 0.1,
        baseline_lr: float = 0.01,
        entropy: float = 0.0,
        update: str = "bandit",
    ) -> None:
        self.lr = check_float(lr, "lr", lo=0.0, lo_open=True)
        self.baseline_lr = check_float(baseline_lr, "baseline_lr", lo=0.0, hi=1.0)
        self.entropy = check_float(entropy, "entropy", lo=0.0)
        self.mode = check_choice(update, "update", ("bandit", "expected"))
        self.feedback = "full" if self.mode == "expected" else "bandit"
        self._hyper = {"lr": self.lr, "baseline_lr": self.baseline_lr, "entropy": self.entropy, "update": update}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _init_state(self) -> None:
        self.theta = np.zeros(self.shape)
        self.baseline = np.zeros((self.batch, self.n_agents))

    def _compute_policy(self, context: Any) -> np.ndarray:
        return masked_softmax(self.theta, self._mask)

    def _update(self, actions, u, U, context) -> None:
        pi = self._policy(None)
        if self.mode == "expected":
            grad = pi * (U - np.einsum("bnk,bnk->bn", pi, U)[..., None])
        else:
            adv = (u - self.baseline)[..., None]
            grad = -pi * adv
            np.put_along_axis(
                grad, actions[..., None], np.take_along_axis(grad, actions[..., None], axis=-1) + adv, axis=-1
            )
            self.baseline += self.baseline_lr * (u - self.baseline)
        if self.entropy > 0.0:
            with np.errstate(divide="ignore", invalid="ignore"):
                logp = np.where(pi > 0, np.log(pi), 0.0)
            H = -(pi * logp).sum(axis=-1, keepdims=True)
            grad += self.entropy * (-pi * (logp + H))
        if self._mask is not None:
            grad *= self._mask
        self.theta += self.lr * grad
