"""Best-response dynamics (they end at a pure Nash equilibrium in finite potential games; Monderer and Shapley 1996).

Each agent holds a current action (B, N). After a round, given the deviation utilities U of the
profile just played, the revising agents switch to an exact best response argmax_k U[b, i, k]
(uniform random ties) — but only on a strict improvement, max_k U > U[a] + tol (tol = 1e-12 on
the [0, 1] scale); otherwise they keep their action.

Who revises (``mode``):
- ``"sequential"`` (default, Gauss-Seidel): one agent per copy per round, chosen uniformly at
  random (``order="random"``, the default) or cyclically 0, 1, ..., N-1 (``"round_robin"``);
- ``"simultaneous"`` (Jacobi): every agent at once; may cycle.

Terminates at a pure NE in finite (ordinal) potential games [Monderer & Shapley 1996].
``converged`` (B,) is True where the last U showed no agent with a strict improvement;
``converged_at`` (B,) is the first such round (-1 while not converged, i.e. censored).
Initial actions: ``init="random"`` (uniform valid), ``"truthful"`` (``context["truthful"]`` at the
first ``act``) or an int index.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coopsim.agents.base import Learner, registry
from coopsim.agents.sampling import argmax_random, one_hot, sample_uniform_valid
from coopsim.core.validation import check_choice, check_float, check_int

__all__ = ["BestResponse"]


@registry.register("best_response")
class BestResponse(Learner):
    """Sequential (default) or simultaneous best-response dynamics on deviation utilities."""

    feedback = "full"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        mode: str = "sequential",
        order: str = "random",
        init: str | int = "random",
        tol: float = 1e-12,
    ) -> None:
        self.mode = check_choice(mode, "mode", ("sequential", "simultaneous"))
        self.order = check_choice(order, "order", ("random", "round_robin"))
        if isinstance(init, str):
            check_choice(init, "init", ("random", "truthful"))
        else:
            init = check_int(init, "init", lo=0)
        self.init = init
        self.tol = check_float(tol, "tol", lo=0.0)
        self._hyper = {"mode": mode, "order": order, "init": init, "tol": self.tol}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _init_state(self) -> None:
        self.current: np.ndarray | None = None
        self.converged = np.zeros(self.batch, dtype=bool)
        self.converged_at = np.full(self.batch, -1, dtype=np.int64)

    def _act(self, rng: np.random.Generator, context: Any) -> np.ndarray:
        self._rng = rng  # reused by the following update for tie-breaking and agent choice
        if self.current is None:
            if self.init == "truthful":
                self.current = self.context_index(context, "truthful", self.n_valid).copy()
            elif self.init == "random":
                self.current = sample_uniform_valid((self.batch, self.n_agents), self.n_valid, rng)
            else:
                init = int(self.init)  # an action index (the two named starts are handled above)
                if init >= int(self.k_i.min()):
                    raise ValueError(f"init: expected an index < min K_i = {int(self.k_i.min())}, got {init}")
                self.current = np.full((self.batch, self.n_agents), init, dtype=np.int64)
            self._p = None
        return self.current.copy()

    def _compute_policy(self, context: Any) -> np.ndarray:
        if self.current is None:
            return self.uniform_policy()
        return one_hot(self.current, self.K)

    def _update(self, actions, u, U, context) -> None:
        rng = getattr(self, "_rng", None)
        if rng is None:
            raise RuntimeError("BestResponse.update: call act(rng) before update")
        Um = np.where(self._mask, U, -np.inf) if self._mask is not None else U
        best_val = Um.max(axis=-1)
        cur_val = np.take_along_axis(U, actions[..., None], axis=-1)[..., 0]
        improves = best_val > cur_val + self.tol  # (B, N)
        br = argmax_random(U, rng, self._mask)
        if self.mode == "sequential":
            if self.order == "random":
                who = np.floor(rng.random(self.batch) * self.n_agents).astype(np.int64)
                np.minimum(who, self.n_agents - 1, out=who)
            else:
                who = np.full(self.batch, self.t % self.n_agents, dtype=np.int64)
            revise = np.arange(self.n_agents)[None, :] == who[:, None]
            revise &= improves
        else:
            revise = improves
        self.current = np.where(revise, br, actions)
        stable = ~improves.any(axis=1)
        newly = stable & (self.converged_at < 0)
        self.converged_at[newly] = self.t
        self.converged = stable
