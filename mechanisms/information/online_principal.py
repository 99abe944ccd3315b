"""An online principal that learns the agents' signal technology: explore-then-commit.

Reconstruction (unverified against the paper: a generic algorithm consistent with the O~(T^{2/3})
regret of Cacciamani, Castiglioni & Gatti, arXiv:2307.06210, and the single-agent algorithm of
Chen, Wu, Wu & Yang, arXiv:2303.08613; the papers' procedures may differ):

1. **Explore** for ``T0 = ceil(kappa T^{2/3})`` rounds, recommending effort profiles round-robin.
   ``explore_mode="compliant"``: agents obey and report truthfully (idealised); each agent is paid
   its effort cost c_i(a_i) as a fee; the principal takes the prior-optimal decision.
2. **Estimate** q_hat_a(s | theta) = N_a(theta, s) / N_a(theta) (uniform where N_a(theta) = 0) with
   radius eps_{a,theta} = sqrt(2 (|S| ln 2 + ln(2 |A| |Theta| / delta)) / N_a(theta)),
   eps_bar = max eps_{a,theta}.
3. **Commit** to the LP optimum on q_hat with payment cap B and a robustness margin on every
   obedience row with b_i != a_i: ``margin_mode="uniform"`` (the reconstruction's first rule) adds
   ``margin_scale * 2 B eps_bar P(a_i)``; ``"payment"`` (default, a tightening) adds
   ``margin_scale * 2 eps_bar sum_{a_-i} phi(a) max_{theta,s} gamma_i(a, s, theta)``. Each side of an
   IC row moves by at most eps_bar times the largest payment per unit of recommendation
   probability, so with ``margin_scale = 1`` obedience survives the estimation error with
   probability >= 1 - delta; the payment form does not charge the margin to rows whose profiles
   pay nothing (e.g. "recommend no effort, pay 0", which the uniform form can make infeasible).
   Then mix a weight rho_eff = ``rho * min(1, eps_bar)`` (``rho_decay=True``, default; the first
   reconstruction's constant ``rho`` with ``rho_decay=False``, which adds a linear-in-T cost) of a [0, B]-scaled
   quadratic score of the agent's estimated posterior, shifted per state so that uninformative
   reports earn 0 (an outcome-only shift keeps propriety): gamma = (1 - rho) gamma_LP + rho S',
   only for (agent, profile) pairs the LP pays (a "hired" agent); unpaid agents stay at 0 (the
   score of an estimated-informative but truly uninformative signal would otherwise reward lies).
   If the margin LP is infeasible the principal commits to the safe mechanism: recommend the
   cheapest profile and pay nothing.

Regret (project definition): R_T = T OPT - sum_t E[u(d_t, theta_t) - sum_i gamma_{i,t}], OPT the LP
value on the true instance with the same cap. ``run_online`` evaluates the committed mechanism
exactly on the true instance with best-responding agents (:func:`best_responses`) and counts the
expected number of rounds in which some agent deviates (IC violations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from coopsim.mechanisms.information.ic import best_responses, ic_violation
from coopsim.mechanisms.information.lp import optimal_mechanism
from coopsim.mechanisms.information.model import (
    InformationMechanism,
    InformationModel,
    check_mechanism,
    check_model,
    principal_utility,
)
from coopsim.mechanisms.scoring.rules import QuadraticRule

from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_rng,
    check_size,
)

__all__ = ["ExploreThenCommit", "OnlineResult", "regret_benchmarks", "run_online", "sample_rounds", "mix_proper_score"]


def sample_rounds(
    model: InformationModel, profiles: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw theta ~ mu and s ~ q_a(. | theta) for each flat profile index in ``profiles`` ``(k,)``.

    Returns ``(states (k,), signals (k,))`` with flat signal-profile indices (inverse-CDF sampling).
    """
    check_model(model)
    check_rng(rng)
    profiles = as_array(profiles, "profiles", ndim=1, dtype=np.int64, lo=0, hi=model.n_profiles - 1)
    k = int(profiles.shape[0])
    theta = np.searchsorted(np.cumsum(model.prior), rng.random(k), side="right")
    theta = np.minimum(theta, model.n_states - 1)
    cdf = np.cumsum(model.q_flat[profiles, theta], axis=-1)
    s = (rng.random(k)[:, None] >= cdf).sum(axis=-1)
    return theta, np.minimum(s, model.n_signal_profiles - 1)


class ExploreThenCommit:
    """The explore-then-commit principal (see the module docstring).

    It knows the prior, the costs and its own utility (``template`` supplies them; its signal
    table is never read) and learns q from reported signals and realised states.
    """

    def __init__(
        self,
        template: InformationModel,
        horizon: int,
        cap: float = 1.0,
        kappa: float = 1.0,
        delta: float = 0.05,
        rho: float = 0.01,
        margin_scale: float = 1.0,
        margin_mode: str = "payment",
        rho_decay: bool = True,
        explore_mode: str = "compliant",
    ) -> None:
        check_model(template, "template")
        self.template = template
        self.horizon = check_int(horizon, "horizon", lo=1)
        self.cap = check_float(cap, "cap", lo=0.0, lo_open=True)
        self.kappa = check_float(kappa, "kappa", lo=0.0, lo_open=True)
        self.delta = check_float(delta, "delta", lo=0.0, hi=1.0, lo_open=True, hi_open=True)
        self.rho = check_float(rho, "rho", lo=0.0, hi=1.0)
        self.margin_scale = check_float(margin_scale, "margin_scale", lo=0.0)
        self.rho_decay = check_bool(rho_decay, "rho_decay")
        self.margin_mode = check_choice(margin_mode, "margin_mode", ("payment", "uniform"))
        self.explore_mode = check_choice(explore_mode, "explore_mode", ("compliant",))
        self.explore_rounds = min(self.horizon, math.ceil(self.kappa * self.horizon ** (2 / 3)))
        m = template
        self.counts = np.zeros((m.n_profiles, m.n_states, m.n_signal_profiles))
        self.mechanism: InformationMechanism | None = None
        self.model_hat: InformationModel | None = None
        self.prior_decision = int(np.argmax(m.utility @ m.prior))
        self.feasible = True

    # -- exploration ------------------------------------------------------------------------------
    def explore_profiles(self, start: int, stop: int) -> np.ndarray:
        """Round-robin recommendations for exploration rounds ``start..stop-1`` (flat profile indices)."""
        start = check_int(start, "start", lo=0)
        stop = check_int(stop, "stop", lo=start)
        check_size("stop", stop - start, what="the exploration rounds")
        return np.arange(start, stop) % self.template.n_profiles

    def exploration_payments(self, profiles: np.ndarray) -> np.ndarray:
        """Fees c_i(a_i) paid in compliant exploration, shape ``(k, n)``."""
        m = self.template
        profiles = as_array(profiles, "profiles", ndim=1, dtype=np.int64, lo=0, hi=m.n_profiles - 1)
        own = np.stack(np.unravel_index(profiles, m.n_actions), axis=1)  # (k, n)
        return np.stack([m.costs[i][own[:, i]] for i in range(m.n_agents)], axis=1)

    def observe(self, profiles: np.ndarray, signals: np.ndarray, states: np.ndarray) -> None:
        """Add rounds (recommended profile, reported signal profile, realised state) to the counts."""
        m = self.template
        p = as_array(profiles, "profiles", ndim=1, dtype=np.int64, lo=0, hi=m.n_profiles - 1)
        s = as_array(signals, "signals", ndim=1, dtype=np.int64, lo=0, hi=m.n_signal_profiles - 1)
        t = as_array(states, "states", ndim=1, dtype=np.int64, lo=0, hi=m.n_states - 1)
        for name, arr in (("signals", s), ("states", t)):
            if arr.shape != p.shape:
                raise ParameterError(name, f"{name}: expected shape {p.shape} (as profiles), got {arr.shape}")
        np.add.at(self.counts, (p, t, s), 1.0)

    # -- estimation ----------------------------------------------------------------------------------
    def estimate(self) -> np.ndarray:
        """q_hat[a, theta, s] = N_a(theta, s) / N_a(theta) (uniform where N_a(theta) = 0)."""
        n_at = self.counts.sum(axis=-1, keepdims=True)
        uniform = np.full_like(self.counts, 1.0 / self.counts.shape[-1])
        return np.where(n_at > 0, self.counts / np.where(n_at > 0, n_at, 1.0), uniform)

    def radius(self) -> float:
        """eps_bar = max_{a,theta} sqrt(2 (|S| ln 2 + ln(2 |A| |Theta| / delta)) / N_a(theta)) (inf if unvisited)."""
        m = self.template
        n_at = self.counts.sum(axis=-1)
        if (n_at == 0).any():
            return float("inf")
        num = 2.0 * (m.n_signal_profiles * math.log(2) + math.log(2 * m.n_profiles * m.n_states / self.delta))
        return float(np.sqrt(num / n_at).max())

    # -- commit ----------------------------------------------------------------------------------------
    def commit(self) -> InformationMechanism:
        """Solve the margin LP on the estimate, mix in the shifted proper score, and store the mechanism."""
        m = self.template
        q_hat = self.estimate().reshape(m.signals.shape)
        self.model_hat = model_hat = InformationModel(m.prior, m.costs, q_hat, m.utility)
        eps_bar = self.radius()
        k = self.margin_scale * 2.0 * eps_bar
        margin = k * self.cap if self.margin_mode == "uniform" else k
        mech = None
        if np.isfinite(margin):
            uniform = self.margin_mode == "uniform"
            mech = optimal_mechanism(
                model_hat,
                cap=self.cap,
                verify=False,
                margin=margin if uniform else 0.0,
                payment_margin=0.0 if uniform else margin,
            )
            if mech.status != "optimal":
                mech = None
        if mech is None:
            self.feasible = False
            mech = self._safe_mechanism()
        else:
            self.feasible = True
            mech = self._mix_score(model_hat, mech)
        mech.info.update(eps_bar=eps_bar, margin=margin, feasible=self.feasible)
        self.mechanism = mech
        return mech

    def _safe_mechanism(self) -> InformationMechanism:
        m = self.template
        phi = np.zeros(m.n_actions)
        phi[tuple(int(np.argmin(c)) for c in m.costs)] = 1.0
        return InformationMechanism(phi, np.zeros(m.payments_shape()), status="safe")

    def _mix_score(self, model_hat: InformationModel, mech: InformationMechanism) -> InformationMechanism:
        rho = self.rho * min(1.0, self.radius()) if self.rho_decay else self.rho
        return mix_proper_score(model_hat, mech, rho, self.cap)


def mix_proper_score(
    model: InformationModel, mechanism: InformationMechanism, rho: float, bound: float = 1.0
) -> InformationMechanism:
    """Mix a strictly proper score into the payments of hired agents (strict truthfulness).

    gamma'_i(a, s, theta) = (1 - rho) gamma_i(a, s, theta) + rho S'_i(a, s_i, theta) for every
    (agent, profile) the mechanism pays (max payment > 1e-9), unchanged elsewhere, where
    S'_i = S_B(P(. | a, s_i), theta) - min_r S_B(P(. | a, r), theta) is the quadratic rule scaled into
    [0, ``bound``] at the agent's posterior under ``model`` (which may be an estimate), shifted per
    state so that the smallest payment is 0 (an outcome-only shift keeps strict propriety).
    Payments stay in [0, bound] when the original ones do.
    """
    check_mechanism(model, mechanism)
    rho = check_float(rho, "rho", lo=0.0, hi=1.0)
    bound = check_float(bound, "bound", lo=0.0, lo_open=True)
    if rho == 0:
        return mechanism
    mh = model
    n = mh.n_agents
    rule = QuadraticRule().scaled(check_float(bound, "bound", lo=0.0, lo_open=True))
    pay = np.array(mechanism.payments, dtype=np.float64, copy=True)
    for i in range(n):
        post = mh.agent_posteriors(i)  # (A..., S_i, T)
        score = rule.score_matrix(post, validate=False)  # (A..., S_i, T): S(post(a, r_i), theta)
        score = score - score.min(axis=-2, keepdims=True)  # outcome-only shift: uninformative -> 0
        score = np.moveaxis(score, -1, n)  # (A..., T, S_i)
        shape = [*mh.n_actions, mh.n_states] + [1] * n
        shape[n + 1 + i] = mh.n_signals[i]
        hired = mechanism.payments[i].reshape(*mh.n_actions, -1).max(axis=-1) > 1e-9  # (A...)
        mix = np.where(hired.reshape(*mh.n_actions, *([1] * (n + 1))), rho, 0.0)
        pay[i] = np.where(mix > 0, (1.0 - rho) * mechanism.payments[i], mechanism.payments[i]) + mix * score.reshape(
            shape
        )
    return InformationMechanism(
        mechanism.recommendation,
        pay,
        mechanism.decision,
        value=mechanism.value,
        status=mechanism.status,
        cap=mechanism.cap,
        info=dict(mechanism.info, rho=rho),
    )


@dataclass
class OnlineResult:
    """Outcome of one online run (expected values given the sampled exploration data)."""

    horizon: int
    explore_rounds: int
    opt: float
    opt_uncapped: float
    regret: float
    regret_uncapped: float
    explore_value: float
    commit_value: float
    ic_violation: float
    deviation_rounds: float
    eps_bar: float
    feasible: bool
    mechanism: InformationMechanism = field(repr=False)


def run_online(
    model: InformationModel,
    horizon: int,
    rng: np.random.Generator,
    cap: float = 1.0,
    kappa: float = 1.0,
    delta: float = 0.05,
    rho: float = 0.01,
    margin_scale: float = 1.0,
    margin_mode: str = "payment",
    rho_decay: bool = True,
    ic_tol: float = 1e-6,
    opt: tuple[float, float] | None = None,
) -> OnlineResult:
    """Simulate :class:`ExploreThenCommit` against the true ``model`` for ``horizon`` rounds.

    Exploration rounds are sampled (states and signals); their principal utility is taken in
    expectation given the recommended profile, and the committed phase is evaluated exactly on the
    true instance with best-responding agents (ties obey), so
    R_T = T OPT - [sum_{t <= T0} E u_t + (T - T0) U(committed)]. Agents deviate only when it gains
    more than ``ic_tol`` (default 1e-6, above HiGHS's 1e-7 feasibility tolerance). ``opt`` may pass
    precomputed (capped, uncapped) optimal values (:func:`regret_benchmarks`).
    """
    check_model(model)
    check_rng(rng)
    ic_tol = check_float(ic_tol, "ic_tol", lo=0.0)
    if opt is not None:
        if not isinstance(opt, (tuple, list)) or len(opt) != 2:
            raise ParameterTypeError("opt", f"opt: expected None or (capped, uncapped) optimal values, got {opt!r}")
        opt = (check_float(opt[0], "opt"), check_float(opt[1], "opt"))
    principal = ExploreThenCommit(
        model,
        horizon,
        cap=cap,
        kappa=kappa,
        delta=delta,
        rho=rho,
        margin_scale=margin_scale,
        margin_mode=margin_mode,
        rho_decay=rho_decay,
    )
    T0 = principal.explore_rounds
    check_size("horizon", T0, copies=6, what="the sampled exploration rounds")
    prof = principal.explore_profiles(0, T0)
    theta, s = sample_rounds(model, prof, rng)
    principal.observe(prof, s, theta)
    u_explore = float(model.utility[principal.prior_decision] @ model.prior)
    explore_value = T0 * u_explore - float(principal.exploration_payments(prof).sum())
    mech = principal.commit()
    br = best_responses(model, mech, tol=ic_tol)
    commit_value = principal_utility(model, mech, br)
    viol = ic_violation(model, mech)
    # probability that some agent deviates in a committed round
    phi = np.asarray(mech.recommendation).ravel()
    own = np.unravel_index(np.arange(model.n_profiles), model.n_actions)
    dev_any = np.zeros(model.n_profiles, dtype=bool)
    for i in range(model.n_agents):
        a_i = own[i]
        moved = (br["effort"][i][a_i] != a_i) | (br["report"][i][a_i] != np.arange(model.n_signals[i])).any(-1)
        dev_any |= moved
    dev_rounds = (horizon - T0) * float(phi[dev_any].sum())
    if opt is None:
        opt = regret_benchmarks(model, cap)
    total = explore_value + (horizon - T0) * commit_value
    return OnlineResult(
        horizon,
        T0,
        opt[0],
        opt[1],
        horizon * opt[0] - total,
        horizon * opt[1] - total,
        explore_value,
        commit_value,
        viol,
        dev_rounds,
        mech.info.get("eps_bar", float("nan")),
        principal.feasible,
        mech,
    )


def regret_benchmarks(model: InformationModel, cap: float = 1.0) -> tuple[float, float]:
    """The two values regret is measured against: the optimal mechanism's value with payments
    capped at ``cap`` and without a cap (solver warnings of the uncapped LP silenced). Pass the
    pair as ``opt`` to :func:`run_online` to solve the LPs once for many runs."""
    import warnings

    check_model(model)
    cap = check_float(cap, "cap", lo=0.0, lo_open=True)
    capped = optimal_mechanism(model, cap=cap, verify=False).value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return capped, optimal_mechanism(model, verify=False, attain=False).value  # the LP value (a supremum)
