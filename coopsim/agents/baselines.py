"""Non-learning baselines: :class:`Truthful`, :class:`Constant`, :class:`UniformRandom`.

They follow the learner interface (``act``/``update``/``policy``/``average_policy``) with
``feedback = "none"``: ``update`` validates its inputs, records the policy for
``average_policy`` and otherwise ignores rewards.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coopsim.agents.base import Learner, registry
from coopsim.agents.sampling import one_hot, sample_uniform_valid
from coopsim.core.validation import check_int

__all__ = ["Truthful", "Constant", "UniformRandom"]


@registry.register("truthful")
class Truthful(Learner):
    """Plays ``context["truthful"]`` (the grid index of the truthful action) every round.

    Raises ``ValueError`` when the context lacks ``"truthful"``. ``policy`` is the one-hot of the
    last truthful action (uniform before the first ``act``).
    """

    feedback = "none"
    uses_context = True

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _init_state(self) -> None:
        self.last_action: np.ndarray | None = None

    def _act(self, rng, context) -> np.ndarray:
        a = self.context_index(context, "truthful", self.n_valid)
        self.last_action = a.copy()
        return a

    def _compute_policy(self, context) -> np.ndarray:
        if self.last_action is None:
            return self.uniform_policy()
        return one_hot(self.last_action, self.K)

    def _update(self, actions, u, U, context) -> None:
        pass


@registry.register("constant")
class Constant(Learner):
    """Always plays the fixed index ``action`` (clamped to nothing: it must be < every K_i)."""

    feedback = "none"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        action: int = 0,
    ) -> None:
        self.action = check_int(action, "action", lo=0)
        self._hyper = {"action": self.action}
        super().__init__(n_actions, batch, n_agents, utility_range)
        kmin = min(self.n_actions) if isinstance(self.n_actions, tuple) else self.n_actions
        if self.action >= kmin:
            raise ValueError(f"action: expected an index < min K_i = {kmin}, got {self.action}")

    def _act(self, rng, context) -> np.ndarray:
        return np.full((self.batch, self.n_agents), self.action, dtype=np.int64)

    def _compute_policy(self, context) -> np.ndarray:
        return one_hot(np.full((self.batch, self.n_agents), self.action, dtype=np.int64), self.K)

    def _update(self, actions, u, U, context) -> None:
        pass


@registry.register("uniform_random")
class UniformRandom(Learner):
    """Plays a uniform valid action: a = min(floor(u K_i), K_i - 1), u ~ U[0, 1) per (b, i)."""

    feedback = "none"

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _act(self, rng, context) -> np.ndarray:
        return sample_uniform_valid((self.batch, self.n_agents), self.n_valid, rng)

    def _compute_policy(self, context) -> np.ndarray:
        return self.uniform_policy()

    def _update(self, actions, u, U, context) -> None:
        pass
