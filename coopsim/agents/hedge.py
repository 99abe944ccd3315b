"""Hedge / multiplicative weights, full information (Freund and Schapire 1997; Cesa-Bianchi and Lugosi 2006, Thm 2.2).

State S (B, N, K): cumulative utilities, init 0. Policy p_t = softmax(eta_t * S_{t-1}) over the
valid actions; update S_t = S_{t-1} + U_t (U = deviation utilities). Utilities are used on the
rescaled [0, 1] scale, i.e. with range Delta = hi - lo the effective rate is eta / Delta (the
offset lo cancels in the softmax).

Step size (``eta="auto"``, K = the agent's own K_i):
- horizon T known: eta = sqrt(8 ln K / T), regret R_T <= sqrt((T / 2) ln K)
  [Cesa-Bianchi & Lugosi 2006, Thm 2.2];
- anytime (``horizon=None``): eta_t = sqrt(8 ln K / t) in round t = 1, 2, ..., regret
  R_T <= sqrt(2 T ln K) + sqrt(ln K / 8) [ibid., Thm 2.3].
A float ``eta`` overrides both (a constant rate on the [0, 1] scale).

Guarantees: time-average joint play -> CCE; averages -> NE in two-player zero-sum; mean-based.
To run the noise-free "expected" variant, pass expected deviation utilities as ``full``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coopsim.agents.base import Learner, check_auto_positive, check_horizon, registry
from coopsim.agents.sampling import masked_softmax
from coopsim.core.validation import check_bool, check_int

__all__ = ["Hedge", "hedge_regret_bound"]


def hedge_regret_bound(T: int, K: int, anytime: bool = False) -> float:
    """Hedge's external-regret bound for rewards in [0, 1]: sqrt((T/2) ln K) with the tuned fixed
    step eta = sqrt(8 ln K / T), or sqrt(2 T ln K) + sqrt(ln K / 8) with eta_t = sqrt(8 ln K / t)."""
    T = check_int(T, "T", lo=1)
    K = check_int(K, "K", lo=1)
    anytime = check_bool(anytime, "anytime")
    lk = np.log(K)
    return float(np.sqrt(2 * T * lk) + np.sqrt(lk / 8)) if anytime else float(np.sqrt(T / 2 * lk))


@registry.register("hedge")
class Hedge(Learner):
    """Hedge / multiplicative weights over (B, N, K): p = softmax(eta_t * sum_s U_s)."""

    feedback = "full"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        eta: float | str = "auto",
        horizon: int | None = None,
    ) -> None:
        self.eta = check_auto_positive(eta, "eta")
        self.horizon = check_horizon(horizon)
        self._hyper = {"eta": self.eta, "horizon": self.horizon}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _init_state(self) -> None:
        self.S = np.zeros(self.shape)
        self._lnk = np.log(self.k_i.astype(np.float64))[None, :, None]  # (1, N, 1)

    def step_size(self, t: int | None = None) -> np.ndarray:
        """eta_t per agent on the [0, 1] scale, shape (1, N, 1), for round ``t`` (default: the next)."""
        t = self.t + 1 if t is None else t
        if self.eta != "auto":
            return np.full((1, self.n_agents, 1), float(self.eta))
        T = self.horizon if self.horizon is not None else t
        return np.sqrt(8.0 * self._lnk / T)

    def _compute_policy(self, context: Any) -> np.ndarray:
        rate = self.step_size() / self.scale  # S holds raw (unscaled) utilities
        logits = self.S * rate
        return masked_softmax(logits, self._mask, out=logits)

    def rescale(self, x: np.ndarray) -> np.ndarray:  # S accumulates raw utilities (offset cancels)
        return x

    def _update(self, actions, u, U, context) -> None:
        self.S += U
