"""Optimal bounded proper scoring rules for effort (Li, Hartline, Shan, Wu, "Optimization of Scoring
Rules", EC 2022; Hartline, Shan, Li, Wu, "Optimal Scoring Rules for Multi-dimensional Effort", COLT 2023).

Problem. A prior ``mu`` over ``m`` states and a signal (likelihood ``L[w, k] = P(k | w)``) induce
posteriors ``q_k`` with probabilities ``P(k)``. A proper scoring rule with convex expected-score
function ``G`` pays an agent who acquires the signal ``sum_k P(k) G(q_k)`` and one who does not
``G(mu)``. We maximise the *effort gain*

    Delta(G) = sum_k P(k) G(q_k) - G(mu)

over proper rules whose scores lie in ``[lo, hi]`` for every report on the simplex and every state.

Exact LP. Only the values and subgradients of ``G`` at the *report grid* ``{mu, q_1, ..., q_K}``
enter ``Delta``; replacing ``G`` by the maximum of its supporting hyperplanes at the grid points,
``G*(p) = max_j <a_j, p>``, keeps ``Delta`` and the bounds (each hyperplane's value at the vertex
``e_w`` is the score ``S(p_j, w)``, in ``[lo, hi]``). So the optimum is a *menu* of score vectors
``a_0 (for mu), a_1..a_K (for q_k)`` in ``[lo, hi]^m``; the rule pays ``a_{j*(p)}[w]`` with
``j*(p) = argmax_j <a_j, p>``. The LP over the menu:

    max   sum_k P(k) <a_k, q_k> - <a_0, mu>
    s.t.  <a_j, g> >= <a_l, g>     for every grid point g = grid_j and every l   (each a_j supports G at g)
          lo <= a_j[w] <= hi

is solved with HiGHS (``scipy.optimize.linprog``). The result is a piecewise-linear ``G``, i.e. the
decision-induced rule :class:`~coopsim.mechanisms.scoring.DecisionRule` of the menu (a piecewise-linear
``G`` and a decision problem's value function are the same object), usable everywhere scoring rules are.

Binary states (``m = 2``, ``f = P(w = 1)``): the optimum is V-shaped with its kink at the prior; with
``R = hi - lo`` and ``mu = P(w = 1)``,

    Delta* = R (1 + min(mu, 1 - mu) / max(mu, 1 - mu)) sum_k P(k) (q_k - mu)^+,

attained by the menu ``{(lo, hi), (lo + R mu / (1 - mu), lo)}`` when ``mu <= 1/2`` (mirror image
otherwise): above the prior the rule bets fully on state 1, below it bets on state 0 as much as the
kink at the prior allows. :func:`binary_optimal_gain` computes it independently of the LP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog

from coopsim.core.validation import as_array, check_float, check_size
from coopsim.mechanisms.scoring import (
    DecisionRule,
    LogarithmicRule,
    QuadraticRule,
    ScaledRule,
    ScoringRule,
    SphericalRule,
    posteriors,
)

__all__ = [
    "OptimalScoringRule",
    "optimal_scoring_rule",
    "binary_optimal_gain",
    "binary_optimal_rule",
    "standard_rules",
    "scale_to_range",
]


@dataclass(frozen=True)
class OptimalScoringRule:
    """Result of :func:`optimal_scoring_rule`.

    ``rule``: the optimal rule (a :class:`DecisionRule` over the menu); ``gain``: its effort gain
    ``Delta``; ``menu`` ``(K+1, m)``: score vectors, row 0 for the prior, row k for posterior k;
    ``grid`` ``(K+1, m)``: the report grid (prior, then posteriors); ``probs`` ``(K,)``: P(k);
    ``score_range``: ``(lo, hi)``.
    """

    rule: DecisionRule
    gain: float
    menu: np.ndarray
    grid: np.ndarray
    probs: np.ndarray
    score_range: tuple[float, float]


def _check_range(lo: Any, hi: Any) -> tuple[float, float]:
    lo = check_float(lo, "lo")
    hi = check_float(hi, "hi")
    if not hi > lo:
        raise ValueError(f"hi: expected a score range with hi > lo = {lo}, got hi = {hi}")
    return lo, hi


def _informative(prior: Any, likelihood: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(mu (m,), posteriors (K', m), probs (K',))`` keeping only signals with ``P(k) > 0``."""
    post, probs = posteriors(prior, likelihood)
    keep = probs > 0
    mu = np.asarray(prior, dtype=np.float64)
    return mu, post[keep], probs[keep]


def optimal_scoring_rule(prior: Any, likelihood: Any, lo: float = 0.0, hi: float = 1.0) -> OptimalScoringRule:
    """The proper rule with scores in ``[lo, hi]`` maximising the effort gain (the LP of the module docstring).

    ``prior`` ``(m,)``; ``likelihood`` ``(m, K)`` with ``likelihood[w, k] = P(signal k | state w)``.
    LP size: ``(K+1) m`` variables, ``(K+1) K`` support rows. Raises ``RuntimeError`` if HiGHS fails
    (it cannot be infeasible: the constant menu is feasible).
    """
    lo, hi = _check_range(lo, hi)
    mu, post, probs = _informative(prior, likelihood)
    grid = np.vstack([mu[None, :], post])  # (J, m), J = K + 1
    J, m = grid.shape
    check_size("likelihood", J, J, J, m, copies=3, what=f"the LP's (J^2, J, m) support rows (J = {J} reports)")
    # objective (minimise): -(sum_k P(k) <a_k, q_k>) + <a_0, mu>
    c = np.zeros((J, m))
    c[0] = mu
    c[1:] = -probs[:, None] * post
    # support rows: <a_l - a_j, grid_j> <= 0 for j != l (vectorised over all pairs)
    jj, ll = np.nonzero(~np.eye(J, dtype=bool))
    rows = np.zeros((jj.size, J, m))
    rows[np.arange(jj.size), ll] = grid[jj]
    rows[np.arange(jj.size), jj] -= grid[jj]
    res = linprog(
        c.ravel(),
        A_ub=rows.reshape(jj.size, J * m) if jj.size else None,
        b_ub=np.zeros(jj.size) if jj.size else None,
        bounds=(lo, hi),
        method="highs",
    )
    if res.status != 0:  # pragma: no cover - the LP is always feasible and bounded
        raise RuntimeError(f"optimal_scoring_rule: HiGHS failed with status {res.status}: {res.message}")
    menu = np.clip(res.x.reshape(J, m), lo, hi) + 0.0  # HiGHS may overshoot a bound by ~1e-12; no -0.0
    rule = DecisionRule(menu)
    gain = float(rule.effort_gain(post, probs))
    return OptimalScoringRule(rule, gain, menu, grid, probs, (lo, hi))


def binary_optimal_gain(prior: Any, likelihood: Any, lo: float = 0.0, hi: float = 1.0) -> float:
    """Closed-form optimal effort gain for two states (independent of the LP; see the module docstring).

    ``prior`` ``(2,)`` with ``mu = prior[1]``: ``(hi - lo)(1 + min(mu, 1-mu)/max(mu, 1-mu)) E[(q - mu)^+]``.
    """
    lo, hi = _check_range(lo, hi)
    mu, post, probs = _informative(prior, likelihood)
    if mu.shape[0] != 2:
        raise ValueError(f"prior: binary_optimal_gain needs m = 2 states, got m = {mu.shape[0]}")
    f = mu[1]
    if f in (0.0, 1.0):
        return 0.0
    slope_sum = 1.0 + min(f, 1.0 - f) / max(f, 1.0 - f)
    return float((hi - lo) * slope_sum * np.sum(probs * np.maximum(post[:, 1] - f, 0.0)))


def binary_optimal_rule(prior: Any, lo: float = 0.0, hi: float = 1.0) -> DecisionRule:
    """The V-shaped optimal rule for two states with its kink at ``mu = prior[1]`` (menu of two bets).

    ``mu <= 1/2``: menu ``{(lo + R mu/(1-mu), lo), (lo, hi)}``; ``mu > 1/2``: ``{(hi, lo), (lo, lo + R (1-mu)/mu)}``,
    ``R = hi - lo``. Both lines take the value ``lo + R min(mu, 1 - mu)`` at the prior.
    """
    lo, hi = _check_range(lo, hi)
    mu = as_array(prior, "prior", ndim=1, lo=0.0, hi=1.0)
    if mu.shape[0] != 2:
        raise ValueError(f"prior: binary_optimal_rule needs m = 2 states, got m = {mu.shape[0]}")
    f, R = float(mu[1]), hi - lo
    if f <= 0.5:
        menu = [[lo + R * f / (1.0 - f), lo], [lo, hi]]
    else:
        menu = [[hi, lo], [lo, lo + R * (1.0 - f) / f]]
    return DecisionRule(np.asarray(menu))


def scale_to_range(rule: ScoringRule, lo: float, hi: float, m: int | None = None) -> ScoringRule:
    """``rule`` mapped affinely onto ``[lo, hi]``: ``lo + (hi - lo)(S - S_min)/(S_max - S_min)`` (proper)."""
    lo, hi = _check_range(lo, hi)
    unit = rule.scaled(hi - lo, m)
    return ScaledRule(unit.base, unit.alpha, unit.shift + lo)


def standard_rules(m: int, lo: float = 0.0, hi: float = 1.0, log_eps: float = 0.01) -> dict[str, ScoringRule]:
    """Quadratic, spherical and logarithmic (reports restricted to ``p_w >= log_eps``) rules scaled to ``[lo, hi]``."""
    return {
        "quadratic": scale_to_range(QuadraticRule(m=m), lo, hi, m),
        "spherical": scale_to_range(SphericalRule(m=m), lo, hi, m),
        "logarithmic": scale_to_range(LogarithmicRule(eps=log_eps, m=m), lo, hi, m),
    }
