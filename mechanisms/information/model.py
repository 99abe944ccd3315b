"""The multi-agent information-acquisition model (principal hires agents to learn a state).

Model (the project's reconstruction after Cacciamani, Castiglioni & Gatti,
*Online Information Acquisition: Hiring Multiple Agents*, arXiv:2307.06210, ICLR 2024):

- states theta in Theta with a full-support prior mu;
- agent i chooses an effort level a_i in A_i at cost c_i(a_i) in [0, 1];
- under the effort profile a, the signal profile s = (s_1, ..., s_n) has law q_a(s | theta)
  (a full joint table: signals may be correlated and may depend on others' efforts);
- the principal takes a decision d in D with utility u(d, theta) in [0, 1].

Array layout: ``signals[a_1, ..., a_n, theta, s_1, ..., s_n] = q_a(s | theta)``; payments of a
mechanism use the same layout with a leading agent axis: ``payments[i, a..., theta, s...]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_bool,
    check_float,
    check_int,
    check_rng,
    check_size,
)

__all__ = [
    "InformationModel",
    "InformationMechanism",
    "instance_a",
    "instance_b",
    "random_model",
    "principal_utility",
    "agent_utilities",
]

_ATOL = 1e-9


class InformationModel:
    """A principal-agents information-acquisition instance (validated tables, derived quantities).

    Parameters
    ----------
    prior : (n_states,) full-support distribution mu over states.
    costs : sequence of n arrays; ``costs[i][a_i]`` = c_i(a_i) in [0, 1].
    signals : (A_1, ..., A_n, n_states, S_1, ..., S_n); each ``signals[a, theta]`` is a
        distribution over signal profiles.
    utility : (n_decisions, n_states), u(d, theta) in [0, 1].
    """

    def __init__(self, prior: Any, costs: Sequence[Any], signals: Any, utility: Any) -> None:
        mu = as_array(prior, "prior", ndim=1)
        if mu.size < 1:
            raise ValueError("prior: expected at least one state")
        if (mu <= 0).any():
            raise ValueError(f"prior: expected a full-support distribution (every entry > 0), got {mu.tolist()}")
        if abs(mu.sum() - 1.0) > _ATOL:
            raise ValueError(f"prior: expected probabilities summing to 1, got sum {mu.sum()!r}")
        self.prior = mu
        if isinstance(costs, np.ndarray) and costs.ndim == 1 and costs.dtype != object:
            raise TypeError(
                "costs: expected a sequence of n per-agent arrays (costs[i][a_i]), got one 1-D array; "
                "wrap it in a list for a single agent"
            )
        if not isinstance(costs, (Sequence, np.ndarray)) or isinstance(costs, str) or len(costs) < 1:
            raise TypeError(f"costs: expected a non-empty sequence of per-agent cost arrays, got {costs!r}")
        self.costs = tuple(as_array(c, f"costs[{i}]", ndim=1, lo=0.0, hi=1.0) for i, c in enumerate(costs))
        for i, c in enumerate(self.costs):
            if c.size < 1:
                raise ValueError(f"costs[{i}]: expected at least one effort level")
        n = len(self.costs)
        self.n_agents = n
        self.n_actions = tuple(int(c.size) for c in self.costs)
        q = as_array(signals, "signals", lo=0.0)
        if q.ndim != 2 * n + 1:
            raise ValueError(
                f"signals: expected shape (A_1..A_{n}, n_states, S_1..S_{n}) with {2 * n + 1} axes, got shape {q.shape}"
            )
        if q.shape[:n] != self.n_actions or q.shape[n] != mu.size:
            raise ValueError(
                f"signals: expected leading shape {(*self.n_actions, mu.size)} (efforts, states), got shape {q.shape}"
            )
        self.n_signals = tuple(int(s) for s in q.shape[n + 1 :])
        tot = q.reshape(*q.shape[: n + 1], -1).sum(axis=-1)
        bad = np.abs(tot - 1.0) > 1e-8
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"signals: expected each q_a(. | theta) to sum to 1 over signal profiles, got sum "
                f"{tot[idx]!r} at (efforts, state) {idx}"
            )
        self.signals = q
        u = as_array(utility, "utility", ndim=2, lo=0.0, hi=1.0)
        if u.shape[1] != mu.size or u.shape[0] < 1:
            raise ValueError(f"utility: expected shape (n_decisions, {mu.size}), got {u.shape}")
        self.utility = u
        self.n_states = int(mu.size)
        self.n_decisions = int(u.shape[0])
        self.n_profiles = int(np.prod(self.n_actions))
        self.n_signal_profiles = int(np.prod(self.n_signals))
        # derived tables (flat profile indices, row-major over agents)
        self.q_flat = q.reshape(self.n_profiles, self.n_states, self.n_signal_profiles)
        self.joint_flat = mu[None, :, None] * self.q_flat  # mu(theta) q_a(s | theta)
        # score[a, s, d] = sum_theta mu q_a(s|theta) u(d, theta)
        score = np.einsum("ats,dt->asd", self.joint_flat, u)
        self.decision_flat = np.argmax(score, axis=-1)  # ties -> lowest decision index
        self.values_flat = score.max(axis=-1).sum(axis=-1)

    # -- shapes and helpers -------------------------------------------------------------------
    @property
    def joint(self) -> np.ndarray:
        """mu(theta) q_a(s | theta), shape ``(A..., n_states, S...)``."""
        return self.joint_flat.reshape(self.signals.shape)

    @property
    def decision_table(self) -> np.ndarray:
        """d*(a, s) = argmax_d sum_theta mu(theta) q_a(s|theta) u(d, theta); shape ``(A..., S...)``."""
        return self.decision_flat.reshape(*self.n_actions, *self.n_signals)

    @property
    def values(self) -> np.ndarray:
        """Decision value V(a) = sum_s max_d sum_theta mu(theta) q_a(s|theta) u(d, theta); shape ``(A...)``."""
        return self.values_flat.reshape(self.n_actions)

    @property
    def zero_cost(self) -> tuple[bool, ...]:
        """Whether each agent has a zero-cost effort level (then IR is implied by IC)."""
        return tuple(bool((c == 0).any()) for c in self.costs)

    def payments_shape(self) -> tuple[int, ...]:
        return (self.n_agents, *self.n_actions, self.n_states, *self.n_signals)

    def profile_index(self, profile: Sequence[int]) -> int:
        """Flat index of an effort profile ``(a_1, ..., a_n)``."""
        return int(np.ravel_multi_index(tuple(int(x) for x in profile), self.n_actions))

    def agent_posteriors(self, agent: int) -> np.ndarray:
        """P(theta | s_i, a) for agent i's own signal under profile a: shape ``(A..., S_i, n_states)``.

        Signals with zero probability get the prior.
        """
        n = self.n_agents
        i = check_int(agent, "agent", lo=0, hi=n - 1)
        other = tuple(n + 1 + j for j in range(n) if j != i)
        marg = self.joint.sum(axis=other) if other else self.joint  # (A..., T, S_i)
        marg = np.moveaxis(marg, n, -1)  # (A..., S_i, T)
        tot = marg.sum(axis=-1, keepdims=True)
        return np.where(tot > 0, marg / np.where(tot > 0, tot, 1.0), self.prior)

    def __repr__(self) -> str:
        return (
            f"InformationModel(n_agents={self.n_agents}, actions={self.n_actions}, signals={self.n_signals}, "
            f"states={self.n_states}, decisions={self.n_decisions})"
        )

    # -- constructors ------------------------------------------------------------------------------
    @classmethod
    def conditionally_independent(
        cls, prior: Any, costs: Sequence[Any], signals: Sequence[Any], utility: Any
    ) -> InformationModel:
        """Product signals: q_a(s | theta) = prod_i q^i_{a_i}(s_i | theta).

        ``signals[i]`` has shape ``(A_i, n_states, S_i)`` (agent i's own signal law).
        """
        for name, seq in (("costs", costs), ("signals", signals)):
            if not isinstance(seq, (Sequence, np.ndarray)) or isinstance(seq, str) or len(seq) < 1:
                raise ParameterTypeError(
                    name, f"{name}: expected a non-empty sequence of per-agent tables, got {seq!r}"
                )
        n = len(costs)
        if len(signals) != n:
            raise ValueError(f"signals: expected {n} per-agent tables (one per agent), got {len(signals)}")
        tabs = []
        for i, t in enumerate(signals):
            t = as_array(t, f"signals[{i}]", ndim=3, lo=0.0)
            if t.shape[0] != len(np.atleast_1d(costs[i])):
                raise ValueError(
                    f"signals[{i}]: expected {len(np.atleast_1d(costs[i]))} effort rows, got shape {t.shape}"
                )
            s = t.sum(axis=-1)
            if np.any(np.abs(s - 1) > 1e-8):
                raise ValueError(f"signals[{i}]: expected each q_(a_i)(. | theta) to sum to 1, got sums {s.tolist()}")
            tabs.append(t)
        T = tabs[0].shape[1]
        for i, t in enumerate(tabs):
            if t.shape[1] != T:
                raise ValueError(f"signals[{i}]: expected {T} states on axis 1, got shape {t.shape}")
        # joint[a_1..a_n, theta, s_1..s_n]
        A = [t.shape[0] for t in tabs]
        S = [t.shape[2] for t in tabs]
        joint = np.ones((*A, T, *S))
        for i, t in enumerate(tabs):
            shape = [1] * (2 * n + 1)
            shape[i], shape[n], shape[n + 1 + i] = A[i], T, S[i]
            joint = joint * t.reshape(shape)
        return cls(prior, costs, joint, utility)


@dataclass
class InformationMechanism:
    """A mechanism (phi, pi, gamma): recommendation distribution, decision rule, payments.

    ``recommendation`` phi: ``(A_1, ..., A_n)``; ``payments`` gamma: ``(n, A..., n_states, S...)``
    (gamma_i(a, s, theta) at ``[i, a..., theta, s...]``); ``decision``: ``(A..., S...)`` decision index
    per recommended profile and reported signals (``None``: the model's optimal d*(a, s)).
    LP results also carry ``value`` (the LP objective), solver status and sizes.
    """

    recommendation: np.ndarray
    payments: np.ndarray
    decision: np.ndarray | None = None
    value: float = float("nan")
    status: str = "hand-made"
    attained: bool = True
    virtual_mass: float = 0.0
    ic: float | None = None
    cap: float | None = None
    eps: float = 0.0
    n_variables: int = 0
    n_constraints: int = 0
    build_time: float = 0.0
    solve_time: float = 0.0
    info: dict = field(default_factory=dict)

    def check(self, model: InformationModel) -> InformationMechanism:
        """Validate the shapes and values against ``model`` (``ValueError`` naming the table)."""
        phi = as_array(self.recommendation, "recommendation", lo=0.0, hi=1.0)
        if phi.shape != model.n_actions:
            raise ValueError(f"recommendation: expected shape {model.n_actions}, got {phi.shape}")
        if abs(phi.sum() - 1) > 1e-7:
            raise ValueError(f"recommendation: expected probabilities summing to 1, got sum {phi.sum()!r}")
        pay = as_array(self.payments, "payments")
        if pay.shape != model.payments_shape():
            raise ValueError(f"payments: expected shape {model.payments_shape()}, got {pay.shape}")
        if (pay < -1e-9).any():
            raise ValueError(f"payments: limited liability requires payments >= 0, got min {pay.min()!r}")
        if self.decision is not None:
            d = as_array(self.decision, "decision", dtype=np.int64, lo=0, hi=model.n_decisions - 1)
            if d.shape != (*model.n_actions, *model.n_signals):
                raise ValueError(f"decision: expected shape {(*model.n_actions, *model.n_signals)}, got {d.shape}")
            self.decision = d
        self.recommendation, self.payments = phi, pay
        return self

    def decision_flat(self, model: InformationModel) -> np.ndarray:
        if self.decision is None:
            return model.decision_flat
        return np.asarray(self.decision, dtype=np.int64).reshape(model.n_profiles, model.n_signal_profiles)


def check_model(model: Any, name: str = "model") -> InformationModel:
    """Return ``model`` if it is an :class:`InformationModel` (``TypeError`` naming ``name`` otherwise)."""
    if not isinstance(model, InformationModel):
        raise ParameterTypeError(name, f"{name}: expected an InformationModel, got {type(model).__name__}")
    return model


def check_mechanism(model: Any, mechanism: Any, name: str = "mechanism") -> InformationMechanism:
    """Return ``mechanism`` validated against ``model`` (both type-checked; tables as in ``check``)."""
    check_model(model)
    if not isinstance(mechanism, InformationMechanism):
        raise ParameterTypeError(name, f"{name}: expected an InformationMechanism, got {type(mechanism).__name__}")
    return mechanism.check(model)


def _strategy_table(value: Any, model: InformationModel, i: int, kind: str) -> np.ndarray:
    """Agent i's effort map ``(A_i,)`` or reporting map ``(A_i, S_i)``: indices in range."""
    A, S = model.n_actions[i], model.n_signals[i]
    hi, shape = (A - 1, (A,)) if kind == "effort" else (S - 1, (A, S))
    arr = as_array(value, "strategies", dtype=np.int64, lo=0, hi=hi)
    if arr.shape != shape:
        raise ParameterError("strategies", f"strategies: expected {kind}[{i}] of shape {shape}, got {arr.shape}")
    return arr


def _strategy_tables(model: InformationModel, strategies: dict | None):
    """Effort ``(n, max A)`` and report maps (list of ``(A_i, S_i)``) per agent and recommendation."""
    n = model.n_agents
    effort = [np.arange(A) for A in model.n_actions]
    maps = [np.tile(np.arange(S), (A, 1)) for A, S in zip(model.n_actions, model.n_signals)]
    if strategies is not None and not isinstance(strategies, dict):
        raise ParameterTypeError(
            "strategies", f"strategies: expected None or a dict with 'effort' and/or 'report', got {strategies!r}"
        )
    if strategies:
        unknown = set(strategies) - {"effort", "report", "gain"}  # "gain": best_responses' output, ignored
        if unknown:
            raise ParameterError(
                "strategies", f"strategies: expected keys 'effort' and 'report', got {sorted(unknown)}"
            )
        for kind in ("effort", "report"):
            if kind in strategies:
                tabs = strategies[kind]
                if not isinstance(tabs, (list, tuple)) or len(tabs) != n:
                    raise ParameterError("strategies", f"strategies: expected {kind} tables for {n} agents")
                out = [_strategy_table(t, model, i, kind) for i, t in enumerate(tabs)]
                if kind == "effort":
                    effort = out
                else:
                    maps = out
    return effort, maps


def _profile_outcomes(model: InformationModel, mech: InformationMechanism, strategies: dict | None):
    """Per recommended profile: probability, actual-effort joint law and reported signal indices."""
    effort, maps = _strategy_tables(model, strategies)
    phi = np.asarray(mech.recommendation, dtype=np.float64).ravel()
    n = model.n_agents
    grids = np.indices(model.n_signals).reshape(n, -1)  # (n, nS) own signals per flat profile
    for a_flat in np.flatnonzero(phi > 0):
        a = np.unravel_index(a_flat, model.n_actions)
        b = tuple(int(effort[i][a[i]]) for i in range(n))
        rep = tuple(maps[i][a[i]][grids[i]] for i in range(n))
        rep_flat = np.ravel_multi_index(rep, model.n_signals)
        yield a_flat, a, b, rep_flat


def principal_utility(
    model: InformationModel, mechanism: InformationMechanism, strategies: dict | None = None
) -> float:
    """Principal's expected utility
    U_P = sum_a phi(a) sum_{theta,s} mu(theta) q_b(s|theta) [u(d(a, r), theta) - sum_i gamma_i(a, r, theta)].

    With obedient truthful agents (default) b = a and r = s; ``strategies`` may give per-agent
    ``effort[i][a_i]`` and ``report[i][a_i, s_i]`` (reporting maps) to evaluate deviations.
    """
    check_mechanism(model, mechanism)
    phi = np.asarray(mechanism.recommendation, dtype=np.float64).ravel()
    pay = np.asarray(mechanism.payments, dtype=np.float64).reshape(
        model.n_agents, model.n_profiles, model.n_states, model.n_signal_profiles
    )
    dec = mechanism.decision_flat(model)
    total = 0.0
    for a_flat, _a, b, rep in _profile_outcomes(model, mechanism, strategies):
        jb = model.joint_flat[model.profile_index(b)]  # (T, nS)
        u = model.utility[dec[a_flat][rep]].T  # (T, nS): u(d(a, r(s)), theta)
        g = pay[:, a_flat][:, :, rep].sum(axis=0)  # (T, nS)
        total += phi[a_flat] * float(np.sum(jb * (u - g)))
    return total


def agent_utilities(
    model: InformationModel, mechanism: InformationMechanism, strategies: dict | None = None
) -> np.ndarray:
    """Each agent's expected utility, shape ``(n,)``:
    sum_a phi(a) [sum_{theta,s} mu(theta) q_b(s|theta) gamma_i(a, r, theta) - c_i(b_i)]."""
    check_mechanism(model, mechanism)
    phi = np.asarray(mechanism.recommendation, dtype=np.float64).ravel()
    n = model.n_agents
    pay = np.asarray(mechanism.payments, dtype=np.float64).reshape(
        n, model.n_profiles, model.n_states, model.n_signal_profiles
    )
    out = np.zeros(n)
    for a_flat, _a, b, rep in _profile_outcomes(model, mechanism, strategies):
        jb = model.joint_flat[model.profile_index(b)]
        g = pay[:, a_flat][:, :, rep]  # (n, T, nS)
        cost = np.array([model.costs[i][b[i]] for i in range(n)])
        out += phi[a_flat] * (np.einsum("ts,its->i", jb, g) - cost)
    return out


# -------------------------------------------------------------------------------------------------
# built-in instances (small hand-derived test instances)
# -------------------------------------------------------------------------------------------------
def _check_table_size(name: str, n_agents: int, n_actions: int, n_signals: int, n_states: int) -> None:
    """Size guard of an instance's joint signal table ``A^n T S^n`` (float64, a few working copies),
    refused naming ``name``; bounded in log space first, so a huge ``n`` costs nothing to refuse."""
    n, A, S, T = n_agents, n_actions, n_signals, n_states
    log2 = n * (np.log2(max(A, 1)) + np.log2(max(S, 1))) + np.log2(max(T, 1))
    entries = 2**80 if log2 > 70 else (A**n) * T * (S**n)
    check_size(name, entries, copies=4, what="the joint signal table (A^n, n_states, S^n)")


def _binary_agent(accuracy: float) -> np.ndarray:
    return np.array([[[0.5, 0.5], [0.5, 0.5]], [[accuracy, 1 - accuracy], [1 - accuracy, accuracy]]])


def instance_a(cost: float = 0.1, accuracy: float = 0.8) -> InformationModel:
    """Instance A: one agent, two equally likely states, efforts {L, H} with c(L) = 0, c(H) = ``cost``;
    L's binary signal is uninformative, H's is correct with probability ``accuracy``; u(d, theta) = 1[d = theta].

    LP optimum (accuracy 0.8): max(0.5, 0.8 - 8c/3); 8/15 at c = 0.1.
    """
    c = check_float(cost, "cost", lo=0.0, hi=1.0)
    acc = check_float(accuracy, "accuracy", lo=0.5, hi=1.0)
    return InformationModel([0.5, 0.5], [[0.0, c]], _binary_agent(acc), np.eye(2))


def instance_b(cost: float = 0.1, accuracy: float = 0.8, n_agents: int = 2) -> InformationModel:
    """Instance B: ``n_agents`` conditionally independent copies of Instance A's agent (optimum 8/15 at c = 0.1)."""
    c = check_float(cost, "cost", lo=0.0, hi=1.0)
    acc = check_float(accuracy, "accuracy", lo=0.5, hi=1.0)
    n = check_int(n_agents, "n_agents", lo=1)
    _check_table_size("n_agents", n, 2, 2, 2)
    return InformationModel.conditionally_independent([0.5, 0.5], [[0.0, c]] * n, [_binary_agent(acc)] * n, np.eye(2))


def random_model(
    rng: np.random.Generator,
    n_agents: int = 2,
    n_actions: int = 2,
    n_signals: int = 2,
    n_states: int = 2,
    n_decisions: int | None = None,
    product: bool = True,
    concentration: float = 1.0,
    max_cost: float = 0.2,
) -> InformationModel:
    """A random instance: uniform-ish Dirichlet prior, effort 0 free and uninformative, higher efforts
    with Dirichlet(``concentration``) signal rows and sorted costs in [0, ``max_cost``].

    ``product=True`` builds conditionally independent signals; otherwise each effort profile gets an
    arbitrary joint table (others' efforts change every agent's signal law). ``n_decisions``
    defaults to ``n_states`` with u(d, theta) = 1[d = theta]; otherwise u ~ U[0, 1].
    """
    check_rng(rng)
    n = check_int(n_agents, "n_agents", lo=1)
    A = check_int(n_actions, "n_actions", lo=1)
    S = check_int(n_signals, "n_signals", lo=1)
    T = check_int(n_states, "n_states", lo=1)
    product = check_bool(product, "product")
    concentration = check_float(concentration, "concentration", lo=0.0, lo_open=True)
    max_cost = check_float(max_cost, "max_cost", lo=0.0, hi=1.0)
    given = {"n_agents": n, "n_actions": A, "n_signals": S, "n_states": T}
    for name in given:  # blame the one parameter that alone is too large, then the whole table
        _check_table_size(name, **{k: v if k == name else min(v, 2) for k, v in given.items()})
    _check_table_size("n_agents", **given)
    prior = rng.dirichlet(np.full(T, 5.0))
    costs = [np.concatenate([[0.0], np.sort(rng.uniform(0, max_cost, A - 1))]) for _ in range(n)]
    if n_decisions is None:
        util = np.eye(T)
    else:
        n_dec = check_int(n_decisions, "n_decisions", lo=1)
        check_size("n_decisions", n_dec, T, what="the utility table (n_decisions, n_states)")
        util = rng.uniform(size=(n_dec, T))
    if product:
        tabs = []
        for _ in range(n):
            t = rng.dirichlet(np.full(S, concentration), size=(A, T))
            t[0] = 1.0 / S
            tabs.append(t)
        return InformationModel.conditionally_independent(prior, costs, tabs, util)
    nS = S**n
    q = rng.dirichlet(np.full(nS, concentration), size=(A**n, T))
    q[0] = 1.0 / nS
    return InformationModel(prior, costs, q.reshape(*([A] * n), T, *([S] * n)), util)
