"""Fictitious play (Brown 1951; Robinson 1951) and smooth fictitious play (Fudenberg and Levine 1998).

The learner sees arrays only, so beliefs enter through the deviation utilities: the average of the
realised deviation-utility vectors, Ubar_t(k) = (1/t) sum_{s<=t} U_s(k), equals u_i(k, sigma_hat)
where sigma_hat is the empirical distribution of the opponents' past action profiles (types held
at their realised values). With two players this is exactly classical fictitious play with
empirical-frequency beliefs (u is linear in the opponent's mixed strategy); with N > 2 it is
FP with beliefs over joint profiles. Passing expected deviation utilities under a product belief
as ``full`` gives the independent-beliefs variant.

Fictitious play: a_t in argmax_k Ubar_{t-1}(k) with uniform random ties (the first action is
uniform: Ubar_0 = 0). Converges in empirical frequencies in 2-player zero-sum (Robinson 1951), 2x2
(Miyasawa 1961) and weighted potential games (Monderer & Shapley 1996); cycles in Shapley's game.

Smooth FP: p = softmax(Ubar / lambda), temperature lambda > 0 on the [0, 1] utility scale (default
0.05, i.e. 0.05 Delta in raw units); Hannan-consistent up to eps(lambda) [Hart & Mas-Colell 2001].

Belief step: ``step=None`` (classical 1/t average, default) or a constant alpha in (0, 1]
(tracking: Ubar <- Ubar + alpha (U - Ubar)).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coopsim.agents.base import Learner, registry
from coopsim.agents.sampling import argmax_random, masked_softmax, maximiser_policy
from coopsim.core.validation import check_float

__all__ = ["FictitiousPlay", "SmoothFictitiousPlay"]


@registry.register("fictitious_play")
class FictitiousPlay(Learner):
    """(Smooth) fictitious play on the average deviation utilities Ubar (B, N, K)."""

    feedback = "full"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        smooth: bool = False,
        temperature: float = 0.05,
        step: float | None = None,
    ) -> None:
        if not isinstance(smooth, (bool, np.bool_)):
            raise TypeError(f"smooth: expected a bool, got {smooth!r}")
        self.smooth = bool(smooth)
        self.temperature = check_float(temperature, "temperature", lo=0.0, lo_open=True)
        self.step = None if step is None else check_float(step, "step", lo=0.0, hi=1.0, lo_open=True)
        self._hyper = {"smooth": self.smooth, "temperature": self.temperature, "step": self.step}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _init_state(self) -> None:
        self.U_bar = np.zeros(self.shape)  # belief-expected utilities (rescaled)

    def _compute_policy(self, context: Any) -> np.ndarray:
        if self.smooth:
            logits = self.U_bar * (1.0 / self.temperature)
            return masked_softmax(logits, self._mask, out=logits)
        return maximiser_policy(self.U_bar, self._mask)

    def _act(self, rng: np.random.Generator, context: Any) -> np.ndarray:
        if self.smooth:
            return self.sample(self._policy(context), rng)
        return argmax_random(self.U_bar, rng, self._mask)

    def _update(self, actions, u, U, context) -> None:
        alpha = self.step if self.step is not None else 1.0 / (self.t + 1)
        self.U_bar += alpha * (U - self.U_bar)


@registry.register("smooth_fictitious_play")
class SmoothFictitiousPlay(FictitiousPlay):
    """Smooth fictitious play: p = softmax(Ubar / lambda) (``FictitiousPlay(smooth=True)``)."""

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        temperature: float = 0.05,
        step: float | None = None,
    ) -> None:
        super().__init__(n_actions, batch, n_agents, utility_range, smooth=True, temperature=temperature, step=step)
        self._hyper.pop("smooth")
