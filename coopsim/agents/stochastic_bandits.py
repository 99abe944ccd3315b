"""Epsilon-greedy and UCB1: stochastic-bandit learners, bandit feedback (Auer, Cesa-Bianchi, Fischer 2002).

Rewards are rescaled to [0, 1]. K is each agent's own K_i.

Epsilon-greedy: with probability 1 - eps_t play argmax_k Qbar(k) (uniform random ties), else a
uniform valid action. Qbar is the sample mean (``step=None``, step 1/n_k, default) or an
exponential average with constant step alpha. Schedules (``schedule``):
- ``"constant"``: eps_t = epsilon (default 0.1; linear regret);
- ``"decay"``: eps_t = min{1, c K / (d^2 t)} (logarithmic regret on stochastic bandits
  [Auer, Cesa-Bianchi & Fischer 2002]);
- ``"exp"``: eps_t = exp(-beta t) (Calvano et al. 2020 / Banchio & Skrzypacz 2022 convention).

UCB1 [Auer, Cesa-Bianchi & Fischer 2002]: unpulled arms have index +inf (random ties, so each
arm is pulled once first), then a_t = argmax_k xbar_k + sqrt(2 ln t / n_k), t = rounds so far.
E[R_T] <= 8 sum_{k: D_k > 0} ln T / D_k + (1 + pi^2 / 3) sum_k D_k on stochastic bandits; with
opponents the rewards are non-stationary and no adversarial guarantee holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from coopsim.agents.base import Learner, registry
from coopsim.agents.sampling import argmax_random, maximiser_policy, sample_uniform_valid
from coopsim.core.validation import check_choice, check_float

__all__ = ["EpsilonGreedy", "UCB1", "epsilon_schedule"]


def epsilon_schedule(
    schedule: str, t: int, *, epsilon: float, c: float, d: float, beta: float, k: np.ndarray
) -> np.ndarray:
    """eps_t per agent for round t >= 1 (``k`` = per-agent K_i, any shape)."""
    if schedule == "constant":
        return np.full(np.shape(k), epsilon)
    if schedule == "decay":
        return np.minimum(1.0, c * k / (d * d * t))
    return np.full(np.shape(k), np.exp(-beta * t))


def scheduled_epsilon(learner: Any) -> np.ndarray:
    """eps_t per agent for the learner's next round t + 1, shape (1, N): :func:`epsilon_schedule` with
    the learner's ``schedule``, ``epsilon``, ``c``, ``d``, ``beta`` and K_i = its valid actions."""
    return epsilon_schedule(
        learner.schedule,
        learner.t + 1,
        epsilon=learner.epsilon,
        c=learner.c,
        d=learner.d,
        beta=learner.beta,
        k=learner.n_valid.astype(np.float64),
    )


class EpsilonLearner(Protocol):
    """What the epsilon-greedy helpers read of a learner (a bound :class:`Learner` with an epsilon schedule)."""

    @property
    def batch(self) -> int: ...
    @property
    def n_agents(self) -> int: ...
    @property
    def n_valid(self) -> np.ndarray: ...
    @property
    def mask(self) -> np.ndarray: ...
    @property
    def _mask(self) -> np.ndarray | None: ...
    def current_epsilon(self) -> np.ndarray: ...


def epsilon_greedy_policy(learner: EpsilonLearner, values: np.ndarray) -> np.ndarray:
    """(1 - eps) * uniform over the maximisers of ``values`` (B, N, K) + eps * uniform over the
    valid actions, with eps = ``learner.current_epsilon()`` (1, N)."""
    eps = learner.current_epsilon()[..., None]
    p = maximiser_policy(values, learner._mask)
    p *= 1.0 - eps
    p += eps * learner.mask / learner.n_valid[..., None]
    return p


def epsilon_greedy_act(learner: EpsilonLearner, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Sample :func:`epsilon_greedy_policy`: w.p. eps a uniform valid action, else a maximiser
    of ``values`` (uniform random ties). Draws explore flags, uniforms, tie-break noise, in order."""
    shape = (learner.batch, learner.n_agents)
    explore = rng.random(shape) < learner.current_epsilon()
    uniform = sample_uniform_valid(shape, learner.n_valid, rng)
    greedy = argmax_random(values, rng, learner._mask)
    return np.where(explore, uniform, greedy)


class _ValueLearner(Learner):
    """Shared (B, N, K) sample means / counts and the bandit bookkeeping."""

    feedback = "bandit"

    def _init_state(self) -> None:
        self.counts = np.zeros(self.shape)
        self.values = np.zeros(self.shape)
        self._bi = (np.arange(self.batch)[:, None], np.arange(self.n_agents)[None, :])

    def _update_values(self, actions: np.ndarray, u: np.ndarray, step: float | None) -> None:
        b, i = self._bi
        self.counts[b, i, actions] += 1.0
        q = self.values[b, i, actions]
        alpha = 1.0 / self.counts[b, i, actions] if step is None else step
        self.values[b, i, actions] = q + alpha * (u - q)


@registry.register("epsilon_greedy")
class EpsilonGreedy(_ValueLearner):
    """Epsilon-greedy on sample-mean (or exponentially averaged) rewards."""

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        epsilon: float = 0.1,
        schedule: str = "constant",
        c: float = 5.0,
        d: float = 0.1,
        beta: float = 1e-3,
        step: float | None = None,
    ) -> None:
        self.epsilon = check_float(epsilon, "epsilon", lo=0.0, hi=1.0)
        self.schedule = check_choice(schedule, "schedule", ("constant", "decay", "exp"))
        self.c = check_float(c, "c", lo=0.0, lo_open=True)
        self.d = check_float(d, "d", lo=0.0, hi=1.0, lo_open=True)
        self.beta = check_float(beta, "beta", lo=0.0)
        self.step = None if step is None else check_float(step, "step", lo=0.0, hi=1.0, lo_open=True)
        self._hyper = {
            "epsilon": self.epsilon,
            "schedule": schedule,
            "c": self.c,
            "d": self.d,
            "beta": self.beta,
            "step": self.step,
        }
        super().__init__(n_actions, batch, n_agents, utility_range)

    def current_epsilon(self) -> np.ndarray:
        """eps_t per agent for the next round, shape (1, N)."""
        return scheduled_epsilon(self)

    def _compute_policy(self, context: Any) -> np.ndarray:
        return epsilon_greedy_policy(self, self.values)

    def _act(self, rng: np.random.Generator, context: Any) -> np.ndarray:
        return epsilon_greedy_act(self, self.values, rng)

    def _update(self, actions, u, U, context) -> None:
        self._update_values(actions, u, self.step)


@registry.register("ucb1")
class UCB1(_ValueLearner):
    """UCB1: argmax xbar_k + sqrt(2 ln t / n_k); unpulled arms first (random order)."""

    def __init__(
        self,
        n_actions: int | Sequence[int],
        batch: int | None = None,
        n_agents: int | None = None,
        utility_range: tuple[float, float] = (0.0, 1.0),
        *,
        exploration: float = 2.0,
    ) -> None:
        self.exploration = check_float(exploration, "exploration", lo=0.0)
        self._hyper = {"exploration": self.exploration}
        super().__init__(n_actions, batch, n_agents, utility_range)

    def index(self) -> np.ndarray:
        """UCB index xbar_k + sqrt(c ln t / n_k) (c = ``exploration`` = 2), +inf where n_k = 0."""
        t = max(self.t, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            bonus = np.sqrt(self.exploration * np.log(t) / self.counts)
        idx = self.values + bonus
        idx[self.counts == 0] = np.inf
        return idx

    def _compute_policy(self, context: Any) -> np.ndarray:
        return maximiser_policy(self.index(), self._mask)

    def _act(self, rng: np.random.Generator, context: Any) -> np.ndarray:
        return argmax_random(self.index(), rng, self._mask)

    def _update(self, actions, u, U, context) -> None:
        self._update_values(actions, u, None)
