"""EXP3 and EXP3-IX: adversarial bandit learners (Auer et al., SIAM J. Comput. 2002; Neu, NeurIPS 2015).

Both see only the realised reward x_t(a_t) (rescaled to [0, 1]); K is each agent's own K_i.

EXP3 [Auer, Cesa-Bianchi, Freund & Schapire 2002]:
    p_t(k) = (1 - gamma) w_t(k) / sum_j w_t(j) + gamma / K,
    xhat_t(k) = x_t(k) 1{k = a_t} / p_t(k),   log w_{t+1}(k) = log w_t(k) + gamma xhat_t(k) / K.
    Default gamma = min{1, sqrt(K ln K / ((e - 1) g))} with g = horizon T (rewards in [0, 1] give
    g >= G_max), so E[G_max - G] <= 2 sqrt(e - 1) sqrt(g K ln K). Anytime (horizon=None): g = t.

EXP3-IX [Neu, NeurIPS 2015] (default bandit learner): loss l = 1 - x,
    ltilde_t(k) = l_t(k) 1{a_t = k} / (p_t(k) + gamma),   p_t propto exp(-eta Ltilde_{t-1}),
    no uniform mixing. Defaults eta = sqrt(2 ln K / (K T)), gamma = eta / 2 (T = horizon);
    w.p. >= 1 - delta, R_T <= 2 sqrt(2 K T ln K) + (sqrt(2 K T / ln K) + 1) ln(2 / delta).
    Anytime (horizon=None): eta_t = sqrt(2 ln K / (K t)), gamma_t = eta_t / 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coopsim.agents.base import Learner, check_auto_positive, check_horizon, registry
from coopsim.agents.sampling import masked_softmax
from coopsim.core.validation import check_float

__all__ = ["Exp3", "Exp3IX"]


@registry.register("exp3")
class Exp3(Learner):
    """EXP3 with forced uniform exploration gamma (log-weights stored, (B, N, K))."""

    feedback = "bandit"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        gamma: float | str = "auto",
        horizon: int | None = None,
    ) -> None:
        if not isinstance(gamma, str):
            gamma = check_float(gamma, "gamma", lo=0.0, hi=1.0, lo_open=True)
        elif gamma != "auto":
            raise ValueError(f"gamma: expected 'auto' or a number in (0, 1], got {gamma!r}")
        self.gamma = gamma
        self.horizon = check_horizon(horizon)
        self._hyper = {"gamma": self.gamma, "horizon": self.horizon}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _init_state(self) -> None:
        self.log_w = np.zeros(self.shape)
        self._kf = self.k_i.astype(np.float64)[None, :, None]  # (1, N, 1)

    def exploration(self, t: int | None = None) -> np.ndarray:
        """gamma_t per agent, (1, N, 1): min{1, sqrt(K ln K / ((e - 1) g))}, g = T or t."""
        if self.gamma != "auto":
            return np.full((1, self.n_agents, 1), float(self.gamma))
        t = self.t + 1 if t is None else t
        g = self.horizon if self.horizon is not None else t
        return np.minimum(1.0, np.sqrt(self._kf * np.log(self._kf) / ((np.e - 1.0) * g)))

    def _compute_policy(self, context: Any) -> np.ndarray:
        g = self.exploration()
        p = masked_softmax(self.log_w, self._mask)
        p *= 1.0 - g
        p += (g / self._kf) * self.mask
        return p

    def _update(self, actions, u, U, context) -> None:
        p = self._policy(None)
        g = self.exploration()[0, :, 0][None, :]  # (1, N)
        pa = np.take_along_axis(p, actions[..., None], axis=-1)[..., 0]
        inc = g * u / (pa * self.n_valid)
        b = np.arange(self.batch)[:, None]
        i = np.arange(self.n_agents)[None, :]
        self.log_w[b, i, actions] += inc


@registry.register("exp3_ix")
class Exp3IX(Learner):
    """EXP3 with implicit exploration: p propto exp(-eta Ltilde), Ltilde += l 1{a} / (p + gamma)."""

    feedback = "bandit"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        eta: float | str = "auto",
        gamma: float | str = "auto",
        horizon: int | None = None,
    ) -> None:
        self.eta = check_auto_positive(eta, "eta")
        if isinstance(gamma, str):
            if gamma != "auto":
                raise ValueError(f"gamma: expected 'auto' or a number >= 0, got {gamma!r}")
        else:
            gamma = check_float(gamma, "gamma", lo=0.0)
        self.gamma = gamma
        self.horizon = check_horizon(horizon)
        self._hyper = {"eta": self.eta, "gamma": self.gamma, "horizon": self.horizon}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _init_state(self) -> None:
        self.L = np.zeros(self.shape)  # cumulative loss estimates Ltilde
        kf = self.k_i.astype(np.float64)[None, :, None]
        self._auto_base = np.log(kf) / kf  # ln K / K, (1, N, 1)
        self._bi = (np.arange(self.batch)[:, None], np.arange(self.n_agents)[None, :])

    def step_size(self, t: int | None = None) -> np.ndarray:
        """eta_t per agent, (1, N, 1): sqrt(2 ln K / (K T)) (or t in place of T when anytime)."""
        if self.eta != "auto":
            return np.full((1, self.n_agents, 1), float(self.eta))
        t = self.t + 1 if t is None else t
        T = self.horizon if self.horizon is not None else t
        return np.sqrt(2.0 * self._auto_base / T)

    def implicit_exploration(self, t: int | None = None) -> np.ndarray:
        """gamma_t per agent, (1, N, 1): eta_t / 2 by default."""
        if self.gamma != "auto":
            return np.full((1, self.n_agents, 1), float(self.gamma))
        return self.step_size(t) / 2.0

    def _compute_policy(self, context: Any) -> np.ndarray:
        logits = self.L * (-self.step_size())
        return masked_softmax(logits, self._mask, out=logits)

    def _update(self, actions, u, U, context) -> None:
        p = self._policy(None)
        g = self.implicit_exploration()[0, :, 0][None, :]  # (1, N)
        pa = np.take_along_axis(p, actions[..., None], axis=-1)[..., 0]
        b, i = self._bi
        self.L[b, i, actions] += (1.0 - u) / (pa + g)
