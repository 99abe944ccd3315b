"""Regret matching, RM+ and conditional regret matching (Hart and Mas-Colell 2000; Tammelin 2014).

All consume deviation utilities U (full information), rescaled to [0, 1] (Delta = 1).

Regret matching [Hart & Mas-Colell, Econometrica 2000; JET 2001]:
    R_t(k) = R_{t-1}(k) + u_t(k) - <p_t, u_t>   (``baseline="expected"``, default)
             or ... - u_t(a_t)                   (``baseline="sampled"``);
    p_{t+1}(k) = R_t^+(k) / sum_j R_t^+(j), uniform over valid actions if the sum is 0.
    max_k R_T(k) <= Delta sqrt(K T).

RM+ [Tammelin 2014]: Q_t(k) = max(0, Q_{t-1}(k) + u_t(k) - <p_t, u_t>), p propto Q_t (uniform if
all 0); ``average_policy`` is the linearly weighted average sum_t t p_t / sum_t t.

Conditional regret matching [Hart & Mas-Colell 2000] — empirical play -> set of correlated
equilibria. D(j, k) = (1/t) sum_s 1{a_s = j} (u_s(k) - u_s(j)), state (B, N, K, K). Having last
played j, switch to k != j with probability D^+(j, k) / mu, else stay at j. Default
mu = 2 (K_i - 1) Delta (Delta = 1 after rescaling; mu = 1 when K_i = 1), which exceeds every
possible sum_{k != j} D^+(j, k). The first round is uniform.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from coopsim.agents.base import Learner, check_auto_positive, registry
from coopsim.core.validation import check_choice, check_sizes

__all__ = ["RegretMatching", "RegretMatchingPlus", "ConditionalRegretMatching"]


def _regret_policy(R: np.ndarray, mask: np.ndarray, k_i: np.ndarray) -> np.ndarray:
    """p = R^+ / sum R^+ per row, uniform over valid actions where the sum is 0."""
    pos = np.maximum(R, 0.0)
    total = pos.sum(axis=-1, keepdims=True)
    zero = total <= 0.0
    np.divide(pos, total, out=pos, where=~zero)
    if zero.any():
        uni = np.broadcast_to(mask / k_i[None, :, None], pos.shape)
        np.copyto(pos, uni, where=np.broadcast_to(zero, pos.shape))
    return pos


@registry.register("regret_matching")
class RegretMatching(Learner):
    """Unconditional regret matching: p propto positive cumulative regrets."""

    feedback = "full"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        baseline: str = "expected",
    ) -> None:
        self.baseline = check_choice(baseline, "baseline", ("expected", "sampled"))
        self._hyper = {"baseline": self.baseline}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _init_state(self) -> None:
        self.R = np.zeros(self.shape)

    def _compute_policy(self, context: Any) -> np.ndarray:
        return _regret_policy(self.R, self.mask, self.k_i)

    def _baseline(self, actions: np.ndarray, U: np.ndarray) -> np.ndarray:
        if self.baseline == "sampled":
            return np.take_along_axis(U, actions[..., None], axis=-1)
        p = self._policy(None)
        return np.einsum("bnk,bnk->bn", p, U)[..., None]

    def _update(self, actions, u, U, context) -> None:
        inc = U - self._baseline(actions, U)
        if self._mask is not None:
            inc *= self._mask
        self.R += inc


@registry.register("rm_plus")
class RegretMatchingPlus(RegretMatching):
    """RM+: Q = max(0, Q + u - <p, u>); linear averaging sum_t t p_t / sum_t t."""

    averaging = "linear"

    def _update(self, actions, u, U, context) -> None:
        super()._update(actions, u, U, context)
        np.maximum(self.R, 0.0, out=self.R)

    @property
    def Q(self) -> np.ndarray:
        """The clipped cumulative regrets Q_t (B, N, K)."""
        return self.R


@registry.register("conditional_regret_matching")
class ConditionalRegretMatching(Learner):
    """Hart–Mas-Colell conditional regret matching; empirical joint play -> correlated equilibria."""

    feedback = "full"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        mu: float | str = "auto",
    ) -> None:
        self.mu = check_auto_positive(mu, "mu")
        self._hyper = {"mu": self.mu}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _check_state_size(self, batch: int, n_agents: int, k: int) -> None:
        super()._check_state_size(batch, n_agents, k)
        check_sizes(
            {"batch": batch, "n_agents": n_agents, "n_actions": k}, extra=k, copies=2, what="the (B, N, K, K) regrets"
        )

    def _init_state(self) -> None:
        if self.K > 64:
            warnings.warn(
                f"ConditionalRegretMatching keeps (B, N, K, K) regrets; K = {self.K} > 64 needs "
                f"{self.batch * self.n_agents * self.K * self.K * 8 / 2**20:.0f} MiB",
                stacklevel=3,
            )
        self.D_sum = np.zeros(self.shape + (self.K,))  # sum_s 1{a_s = j}(u_s(k) - u_s(j))
        self.last_action: np.ndarray | None = None
        if self.mu == "auto":
            self._mu = np.maximum(2.0 * (self.k_i - 1), 1.0).astype(np.float64)[None, :, None]
        else:
            self._mu = np.full((1, self.n_agents, 1), float(self.mu))
        self._bi = (np.arange(self.batch)[:, None], np.arange(self.n_agents)[None, :])

    @property
    def D(self) -> np.ndarray:
        """Average conditional regrets D(j, k), shape (B, N, K, K)."""
        return self.D_sum / max(self.t, 1)

    def _compute_policy(self, context: Any) -> np.ndarray:
        if self.last_action is None:
            return self.uniform_policy()
        b, i = self._bi
        j = self.last_action
        row = self.D_sum[b, i, j, :]  # (B, N, K): sum_s 1{a_s=j}(u_s(k)-u_s(j))
        p = np.maximum(row, 0.0)
        p *= 1.0 / (self.t * self._mu)
        np.put_along_axis(p, j[..., None], 0.0, axis=-1)
        if self._mask is not None:
            p *= self._mask
        stay = 1.0 - p.sum(axis=-1)
        if (stay < -1e-12).any():
            raise ValueError("mu: too small, switching probabilities sum above 1; increase mu")
        np.put_along_axis(p, j[..., None], np.maximum(stay, 0.0)[..., None], axis=-1)
        return p

    def _update(self, actions, u, U, context) -> None:
        b, i = self._bi
        ua = np.take_along_axis(U, actions[..., None], axis=-1)
        inc = U - ua
        if self._mask is not None:
            inc *= self._mask
        self.D_sum[b, i, actions, :] += inc
        self.last_action = actions.copy()
