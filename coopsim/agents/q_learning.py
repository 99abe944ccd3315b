"""Tabular Q-learning with epsilon-greedy exploration (Watkins and Dayan, Machine Learning 8, 1992), bandit feedback.

Tables Q (B, N, S, K) with S = ``n_states``; the state of agent i in copy b is
``context[state_key][b, i]`` (``state_key="state"`` by default; omit the context when S = 1, the
stateless variant). Rewards are
rescaled to [0, 1]; Q is stored on that scale. Update for the played (s, a) with reward r:

    Q(s, a) <- (1 - alpha) Q(s, a) + alpha [r + gamma max_a' Q(s', a')]

The next state s' is ``context["next_state"]`` passed to ``update``; if it is absent and the
update needs it (S > 1 and gamma > 0), the update is completed at the next ``act`` with that
call's ``context["state"]`` as s' (so the usual "act, update, act, ..." loop just works). With
S = 1, s' = 0.

Exploration: with probability eps_t a uniform valid action, else argmax_a Q(s, a) (uniform random
ties). Schedules as :class:`~coopsim.agents.EpsilonGreedy`; default ``"exp"``,
eps_t = exp(-beta t). Defaults alpha = 0.15 and beta = 4e-6 are the Calvano et al. (AER 2020)
values; gamma defaults to 0 (stateless/myopic; Calvano use 0.95 with S = 225 price states).
``q_init`` (raw reward units, scalar or broadcastable to (B, N, S, K)) is converted to the [0, 1]
scale as (q - lo / (1 - gamma)) / Delta, the value of a constant reward stream.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coopsim.agents.base import Learner, registry
from coopsim.agents.stochastic_bandits import epsilon_greedy_act, epsilon_greedy_policy, scheduled_epsilon
from coopsim.core.validation import as_array, check_choice, check_float, check_int, check_sizes

__all__ = ["QLearning"]


@registry.register("q_learning")
class QLearning(Learner):
    """Tabular epsilon-greedy Q-learning over (B, N, S, K) tables."""

    feedback = "bandit"
    uses_context = True

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        n_states: int = 1,
        alpha: float = 0.15,
        discount: float = 0.0,
        schedule: str = "exp",
        epsilon: float = 0.1,
        beta: float = 4e-6,
        c: float = 5.0,
        d: float = 0.1,
        q_init: Any = 0.0,
        state_key: str = "state",
    ) -> None:
        if not isinstance(state_key, str) or not state_key:
            raise TypeError(f"state_key: expected a non-empty string, got {state_key!r}")
        self.state_key = state_key
        self.n_states = check_int(n_states, "n_states", lo=1)
        self.alpha = check_float(alpha, "alpha", lo=0.0, hi=1.0, lo_open=True)
        self.discount = check_float(discount, "discount", lo=0.0, hi=1.0, hi_open=True)
        self.schedule = check_choice(schedule, "schedule", ("constant", "decay", "exp"))
        self.epsilon = check_float(epsilon, "epsilon", lo=0.0, hi=1.0)
        self.beta = check_float(beta, "beta", lo=0.0)
        self.c = check_float(c, "c", lo=0.0, lo_open=True)
        self.d = check_float(d, "d", lo=0.0, hi=1.0, lo_open=True)
        self.q_init = as_array(q_init, "q_init")
        self._hyper = {
            "n_states": self.n_states,
            "alpha": self.alpha,
            "discount": self.discount,
            "schedule": schedule,
            "epsilon": self.epsilon,
            "beta": self.beta,
            "c": self.c,
            "d": self.d,
            "q_init": self.q_init.item() if self.q_init.ndim == 0 else self.q_init,
            "state_key": state_key,
        }
        super().__init__(n_actions, batch, n_agents, utility_range)

    def _check_state_size(self, batch: int, n_agents: int, k: int) -> None:
        super()._check_state_size(batch, n_agents, k)
        dims = {"batch": batch, "n_agents": n_agents, "n_states": self.n_states, "n_actions": k}
        check_sizes(dims, copies=2, what="the (B, N, S, K) Q-tables")

    def _init_state(self) -> None:
        shape = (self.batch, self.n_agents, self.n_states, self.K)
        try:
            q0 = np.broadcast_to(self.q_init, shape)
        except ValueError:
            raise ValueError(
                f"q_init: expected a scalar or an array broadcastable to {shape}, got shape {self.q_init.shape}"
            ) from None
        self.Q = (q0 - self.lo / (1.0 - self.discount)) / self.scale
        self.Q = np.array(self.Q, dtype=np.float64)
        self._bi = (np.arange(self.batch)[:, None], np.arange(self.n_agents)[None, :])
        self._state = np.zeros((self.batch, self.n_agents), dtype=np.int64)
        self._pending: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _states(self, context: Any, key: str | None = None) -> np.ndarray:
        key = self.state_key if key is None else key
        if self.n_states == 1 and (context is None or key not in context):
            return np.zeros((self.batch, self.n_agents), dtype=np.int64)
        return self.context_index(context, key, self.n_states)

    def current_epsilon(self) -> np.ndarray:
        """eps_t per agent for the next round, shape (1, N)."""
        return scheduled_epsilon(self)

    def q_values(self, states: np.ndarray | None = None) -> np.ndarray:
        """Q(s_{b,i}, .) for the given (B, N) states (default: the last observed), (B, N, K)."""
        s = self._state if states is None else states
        b, i = self._bi
        return self.Q[b, i, s, :]

    def _compute_policy(self, context: Any) -> np.ndarray:
        return epsilon_greedy_policy(self, self.q_values())

    def _act(self, rng: np.random.Generator, context: Any) -> np.ndarray:
        s = self._states(context)
        if self._pending is not None:
            self._apply(*self._pending, s)
            self._pending = None
        self._state = s
        return epsilon_greedy_act(self, self.q_values(s), rng)

    def _apply(self, s: np.ndarray, a: np.ndarray, u: np.ndarray, s_next: np.ndarray | None) -> None:
        b, i = self._bi
        target = u
        if self.discount > 0.0 and s_next is not None:
            nxt = self.Q[b, i, s_next, :]
            if self._mask is not None:
                nxt = np.where(self._mask, nxt, -np.inf)
            target = u + self.discount * nxt.max(axis=-1)
        q = self.Q[b, i, s, a]
        self.Q[b, i, s, a] = q + self.alpha * (target - q)

    def _update(self, actions, u, U, context) -> None:
        s = self._state
        if self.discount == 0.0 or self.n_states == 1:
            self._apply(s, actions, u, s if self.discount > 0.0 else None)
        elif context is not None and "next_state" in context:
            self._apply(s, actions, u, self._states(context, "next_state"))
        else:
            self._pending = (s, actions.copy(), np.array(u))

    def flush(self, next_state: np.ndarray | None = None) -> None:
        """Complete a pending update (S > 1, gamma > 0) with ``next_state`` (default: bootstrap
        from the same state)."""
        if self._pending is not None:
            s, a, u = self._pending
            s_next = s if next_state is None else self._states({self.state_key: next_state})
            self._apply(s, a, u, s_next)
            self._pending = None
