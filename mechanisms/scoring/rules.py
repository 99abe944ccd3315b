"""Proper scoring rules as payment plug-ins (reward orientation: higher is better for the agent).

A scoring rule pays ``S(p, w)`` to an agent that reported the distribution ``p`` over ``m``
outcomes when outcome ``w`` realised. Every rule here is built from its convex *expected-score
function* ``G`` through the Savage / Gneiting-Raftery representation

    S(p, w) = G(p) + <grad G(p), e_w - p> = G(p) - <grad G(p), p> + d_w G(p),

so that the truthful expected score is ``S(q; q) = G(q)`` and the loss of a misreport is the
Bregman divergence ``D_G(q, p) = G(q) - G(p) - <grad G(p), q - p> >= 0``.

Catalogue (Gneiting & Raftery 2007, JASA 102(477):359-378, section 3):

========================  ====================================  =====================  ===========
rule                      S(p, w)                               G(p)                   range
========================  ====================================  =====================  ===========
quadratic (positive)      2 p_w - |p|^2                         |p|^2                  [-1, 1]
quadratic (G&R)           2 p_w - |p|^2 - 1                     |p|^2 - 1              [-2, 0]
quadratic (unit)          (2 p_w - |p|^2 + 1) / 2               (|p|^2 + 1) / 2        [0, 1]
logarithmic               ln p_w                                sum_j p_j ln p_j       (-inf, 0]
spherical                 p_w / |p|_2                           |p|_2                  [0, 1]
decision-induced          u(d*(p), w)                           max_d E_p u(d, .)      [min u, max u]
========================  ====================================  =====================  ===========

Shapes: a report is an array ``(..., m)`` on the simplex, an outcome an integer array ``(...)``;
both broadcast against each other. ``rule(report, outcome)`` returns ``(...)``.
Reports off the simplex raise ``ValueError``; nothing is clipped or mixed with the uniform
distribution (mixing breaks propriety, see ``docs/mechanisms/scoring.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from coopsim.mechanisms.base import Mechanism
from coopsim.mechanisms.registry import register

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

__all__ = [
    "SIMPLEX_ATOL",
    "ScoringRule",
    "QuadraticRule",
    "LogarithmicRule",
    "SphericalRule",
    "DecisionRule",
    "SavageRule",
    "ScaledRule",
    "ProprietyCheck",
    "check_simplex",
    "check_propriety",
    "posteriors",
]

#: tolerance on ``sum(p) == 1`` for reports and beliefs
SIMPLEX_ATOL = 1e-8


def check_simplex(p: Any, name: str, m: int | None = None, atol: float = SIMPLEX_ATOL) -> np.ndarray:
    """Return ``p`` as a float array ``(..., m)`` whose last axis lies on the probability simplex.

    Raises ``ValueError`` naming ``name`` when an entry is negative or not finite, when a row does
    not sum to 1 (within ``atol``) or when the last axis is not of length ``m``.
    """
    atol = check_float(atol, "atol", lo=0.0)
    arr = as_array(p, name)
    if arr.ndim == 0:
        raise ParameterError(name, f"{name}: expected a probability vector (..., m), got a scalar")
    if m is not None and arr.shape[-1] != m:
        raise ValueError(f"{name}: expected {m} outcome probabilities on the last axis, got shape {arr.shape}")
    neg = arr < 0
    if neg.any():
        idx = tuple(int(i) for i in np.argwhere(neg)[0])
        raise ValueError(
            f"{name}: expected a point of the probability simplex, got negative entry {arr[idx]} at index {idx}"
        )
    total = arr.sum(axis=-1)
    bad = np.abs(total - 1.0) > atol
    if np.any(bad):
        idx = tuple(int(i) for i in np.argwhere(np.atleast_1d(bad))[0])
        raise ValueError(
            f"{name}: expected a point of the probability simplex (entries summing to 1), "
            f"got sum {np.atleast_1d(total)[idx]!r} at index {idx}"
        )
    return arr


def _check_outcome(outcome: Any, m: int, name: str = "outcome") -> np.ndarray:
    arr = np.asarray(outcome)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name}: expected integer outcome indices in [0, {m - 1}], got dtype {arr.dtype}")
    bad = (arr < 0) | (arr >= m)
    if np.any(bad):
        raise ValueError(f"{name}: expected outcome indices in [0, {m - 1}], got {np.asarray(arr)[bad].flat[0]}")
    return arr.astype(np.int64)


def posteriors(prior: Any, likelihood: Any) -> tuple[np.ndarray, np.ndarray]:
    """Posteriors of an information structure and their probabilities.

    ``prior`` mu ``(m,)``; ``likelihood[w, k]`` = P(signal k | outcome w), shape ``(m, K)``.
    Returns ``(posteriors (K, m), probs (K,))`` with ``probs[k] = sum_w mu_w L[w, k]`` and
    ``posteriors[k, w] = mu_w L[w, k] / probs[k]`` (rows with ``probs[k] = 0`` are set to mu).
    """
    mu = check_simplex(prior, "prior")
    if mu.ndim != 1:
        raise ParameterError("prior", f"prior: expected one distribution (m,), got shape {mu.shape}")
    lik = as_array(likelihood, "likelihood", ndim=2, lo=0.0, hi=1.0)
    if lik.shape[0] != mu.shape[-1]:
        raise ValueError(f"likelihood: expected shape ({mu.shape[-1]}, K), got {lik.shape}")
    check_simplex(lik, "likelihood (each row P(.|w))")
    joint = mu[:, None] * lik  # (m, K)
    probs = joint.sum(axis=0)
    safe = np.where(probs > 0, probs, 1.0)
    post = np.where(probs[:, None] > 0, (joint / safe).T, mu[None, :])
    return post, probs


@dataclass(frozen=True)
class ProprietyCheck:
    """Result of a search for a profitable misreport: ``gain = max_p S(p; q) - S(q; q)``."""

    belief: np.ndarray
    best_report: np.ndarray
    truthful_score: float
    best_score: float
    gain: float
    proper: bool
    n_evaluated: int


class ScoringRule(Mechanism):
    """A scoring rule over ``m`` outcomes in Savage form (subclasses give ``G`` and its gradient).

    Subclasses implement ``G(p)`` and ``gradient(p)`` (a (sub)gradient, shape ``(..., m)``) and may
    override ``score_matrix`` with a closed form. ``m`` may be ``None`` (any number of outcomes).
    """

    family: ClassVar[str] = "scoring"

    claims = frozenset({"proper", "strictly_proper"})
    strictly_proper: bool = True

    m: int | None = None

    # -- the convex function --------------------------------------------------------------------
    def G(self, p: Any) -> np.ndarray:
        """Expected score of a truthful report: ``G(q) = S(q; q)``, shape ``(...)``."""
        raise NotImplementedError

    def gradient(self, p: Any) -> np.ndarray:
        """A (sub)gradient of ``G`` at ``p``, shape ``(..., m)`` (defined up to adding k*1)."""
        raise NotImplementedError

    # -- validation ------------------------------------------------------------------------------
    def check_report(self, report: Any, name: str = "report") -> np.ndarray:
        """Validate a report: a point of the simplex with ``m`` entries (and in the allowed set)."""
        return check_simplex(report, name, self.m)

    def check_belief(self, belief: Any, name: str = "belief") -> np.ndarray:
        return check_simplex(belief, name, self.m)

    def allowed(self, reports: np.ndarray) -> np.ndarray:
        """Boolean mask ``(...)``: which simplex points ``(..., m)`` are admissible reports."""
        return np.ones(np.shape(reports)[:-1], dtype=bool)

    # -- scores ------------------------------------------------------------------------------------
    def score_matrix(self, report: Any, validate: bool = True) -> np.ndarray:
        """``S(p, w)`` for every outcome w: shape ``(..., m)``; Savage form by default."""
        p = self.check_report(report) if validate else np.asarray(report, dtype=np.float64)
        g = self.gradient(p)
        base = self.G(p) - np.sum(g * p, axis=-1)
        return base[..., None] + g

    def __call__(self, report: Any, outcome: Any) -> np.ndarray:
        """Score ``S(p, w)`` of ``report`` ``(..., m)`` at integer ``outcome`` ``(...)``."""
        scores = self.score_matrix(report)
        w = _check_outcome(outcome, scores.shape[-1])
        try:
            shape = np.broadcast_shapes(scores.shape[:-1], w.shape)
        except ValueError:
            raise ParameterError(
                "outcome",
                f"outcome: shape {w.shape} does not broadcast against the report's leading shape {scores.shape[:-1]}",
            ) from None
        scores = np.broadcast_to(scores, (*shape, scores.shape[-1]))
        w = np.broadcast_to(w, shape)
        return np.take_along_axis(scores, w[..., None], axis=-1)[..., 0]

    def expected(self, report: Any, belief: Any) -> np.ndarray:
        """Expected score ``S(p; q) = sum_w q_w S(p, w)`` of ``report`` p under ``belief`` q.

        Terms with ``q_w = 0`` contribute 0 even where ``S(p, w) = -inf``.
        """
        q = self.check_belief(belief)
        s = self.score_matrix(report)
        with np.errstate(invalid="ignore"):
            terms = np.where(q > 0, q * s, 0.0)
        return terms.sum(axis=-1)

    def bregman(self, belief: Any, report: Any) -> np.ndarray:
        """Misreport loss ``D_G(q, p) = G(q) - S(p; q) >= 0`` (Bregman divergence of G)."""
        q = self.check_belief(belief)
        return self.G(q) - self.expected(report, q)

    def effort_gain(self, posteriors: Any, probs: Any | None = None) -> np.ndarray:
        """Jensen gap of an information structure: ``sum_k P(k) G(q_k) - G(sum_k P(k) q_k)``.

        ``posteriors`` ``(..., K, m)`` and ``probs`` ``(..., K)`` (uniform when omitted). This is the
        extra expected score that acquiring the signal earns an agent who can report any point of
        the simplex (a shirker reports the prior); it equals ``E_k D_G(q_k, mu) >= 0``.
        """
        post = self.check_belief(posteriors, "posteriors")
        if post.ndim < 2:
            raise ValueError(f"posteriors: expected shape (..., K, m), got {post.shape}")
        w: np.ndarray
        if probs is None:
            w = np.full(post.shape[:-1], 1.0 / post.shape[-2])
        else:
            w = check_simplex(probs, "probs")
            try:
                fits = np.broadcast_shapes(w.shape, post.shape[:-1]) == post.shape[:-1]
            except ValueError:
                fits = False
            if not fits:
                raise ParameterError(
                    "probs", f"probs: expected shape {post.shape[:-1]} (one weight per posterior), got {w.shape}"
                )
        prior = np.sum(w[..., None] * post, axis=-2)
        return np.sum(w * self.G(post), axis=-1) - self.G(prior)

    # -- ranges and scaling -----------------------------------------------------------------------
    def score_range(self, m: int | None = None) -> tuple[float, float]:
        """``(S_min, S_max)`` of ``S(p, w)`` over allowed reports p and outcomes w (m outcomes)."""
        raise NotImplementedError(f"{type(self).__name__} has no finite score range")

    def scaled(self, bound: float = 1.0, m: int | None = None) -> ScaledRule:
        """The rule mapped affinely into ``[0, bound]``: ``B (S - S_min) / (S_max - S_min)``."""
        lo, hi = self.score_range(m)
        if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
            raise ValueError(
                f"{type(self).__name__}: cannot scale a rule with range [{lo}, {hi}]; "
                f"bound the report set first (e.g. logarithmic eps=...)"
            )
        B = check_float(bound, "bound", lo=0.0, lo_open=True)
        return ScaledRule(self, alpha=B / (hi - lo), shift=-B * lo / (hi - lo))

    # -- propriety check ----------------------------------------------------------------------------
    def sample_reports(self, rng: np.random.Generator, n: int, m: int) -> np.ndarray:
        """Draw ``n`` reports uniformly from the allowed report set (used by the propriety search)."""
        return rng.dirichlet(np.ones(m), size=n)

    def check_propriety(
        self, belief: Any, rng: np.random.Generator | None = None, n_samples: int = 2000, tol: float = 1e-9
    ) -> ProprietyCheck:
        """Search the report set for a misreport that beats truth-telling under ``belief``.

        Candidates: ``n_samples`` uniform draws, the vertices, and a local refinement (random steps
        shrinking around the best candidate). Returns the best report and ``gain = S(p*; q) - S(q; q)``;
        ``proper`` is ``gain <= tol``.
        """
        return check_propriety(self, belief, rng, n_samples, tol)


def check_propriety(
    rule: ScoringRule, belief: Any, rng: np.random.Generator | None = None, n_samples: int = 2000, tol: float = 1e-9
) -> ProprietyCheck:
    """Module-level form of :meth:`ScoringRule.check_propriety` (see there)."""
    if not isinstance(rule, ScoringRule):
        raise ParameterTypeError("rule", f"rule: expected a ScoringRule, got {type(rule).__name__}")
    q = rule.check_belief(belief)
    if q.ndim != 1:
        raise ParameterError("belief", f"belief: expected one distribution (m,), got shape {q.shape}")
    rng = np.random.default_rng(0) if rng is None else check_rng(rng)
    n_samples = check_int(n_samples, "n_samples", lo=1)
    tol = check_float(tol, "tol", lo=0.0)
    check_size("n_samples", n_samples + q.shape[0], q.shape[0], copies=3, what="the candidate reports")
    m = q.shape[0]
    cands = np.concatenate([rule.sample_reports(rng, n_samples, m), np.eye(m)])
    cands = cands[rule.allowed(cands)]
    truth = float(rule.expected(q, q))
    vals = rule.expected(cands, np.broadcast_to(q, cands.shape))
    best = int(np.argmax(vals))
    best_p, best_v = cands[best], float(vals[best])
    n_eval = len(cands)
    step = 0.2
    for _ in range(30):  # local refinement around the incumbent
        noise = rng.normal(size=(64, m)) * step
        noise -= noise.mean(axis=1, keepdims=True)
        trial = best_p + noise
        trial = trial[(trial >= 0).all(axis=1)]
        trial = trial / trial.sum(axis=1, keepdims=True)
        trial = trial[rule.allowed(trial)] if len(trial) else trial
        if len(trial):
            v = rule.expected(trial, np.broadcast_to(q, trial.shape))
            n_eval += len(trial)
            k = int(np.argmax(v))
            if v[k] > best_v:
                best_p, best_v = trial[k], float(v[k])
        step *= 0.8
    gain = best_v - truth
    return ProprietyCheck(q, best_p, truth, best_v, gain, bool(gain <= tol), n_eval)


def _check_m(m: Any) -> int | None:
    return None if m is None else check_int(m, "m", lo=2)


# ------------------------------------------------------------------------------------------------
# named rules
# ------------------------------------------------------------------------------------------------
_QUAD_FORMS = {"positive": (1.0, 0.0), "gneiting_raftery": (1.0, -1.0), "unit": (0.5, 0.5)}


@register("quadratic")
class QuadraticRule(ScoringRule):
    """Quadratic (Brier-type) rule ``S = a (2 p_w - |p|^2) + b``; ``G = a |p|^2 + b``.

    ``form="positive"`` (default): a=1, b=0, range [-1, 1]; ``"gneiting_raftery"``: a=1, b=-1,
    ``S = -sum_j (p_j - 1[j=w])^2`` (minus the multi-class Brier loss), range [-2, 0];
    ``"unit"``: a=b=1/2, range [0, 1] (binary: ``1 - (f - y)^2``). Misreport loss ``a |q - p|^2``.
    """

    def __init__(self, form: str = "positive", m: int | None = None) -> None:
        self.form = check_choice(form, "form", tuple(_QUAD_FORMS))
        self.m = _check_m(m)
        self._a, self._b = _QUAD_FORMS[self.form]

    def G(self, p: Any) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        return self._a * np.sum(p * p, axis=-1) + self._b

    def gradient(self, p: Any) -> np.ndarray:
        return 2.0 * self._a * np.asarray(p, dtype=np.float64)

    def score_matrix(self, report: Any, validate: bool = True) -> np.ndarray:
        p = self.check_report(report) if validate else np.asarray(report, dtype=np.float64)
        return self._a * (2.0 * p - np.sum(p * p, axis=-1, keepdims=True)) + self._b

    def score_range(self, m: int | None = None) -> tuple[float, float]:
        return (-self._a + self._b, self._a + self._b)


@register("logarithmic")
class LogarithmicRule(ScoringRule):
    """Logarithmic rule ``S(p, w) = ln p_w``; ``G(p) = sum_j p_j ln p_j`` (negative entropy).

    Misreport loss ``KL(q || p)``. Unbounded below: with ``eps=None`` (default) a report with a
    zero entry raises ``ValueError`` unless ``allow_infinite=True`` (then ``ln 0 = -inf``).
    With ``eps > 0`` reports are restricted to ``P_eps = {p : p_w >= eps}`` (reports outside it
    raise ``ValueError``; never mixed with the uniform distribution), the range is
    ``[ln eps, 0]`` and the rule can be scaled into ``[0, B]``.
    """

    def __init__(self, eps: float | None = None, allow_infinite: bool = False, m: int | None = None) -> None:
        self.eps = None if eps is None else check_float(eps, "eps", lo=0.0, hi=0.5, lo_open=True)
        self.allow_infinite = check_bool(allow_infinite, "allow_infinite")
        self.m = _check_m(m)
        if self.eps is not None and self.m is not None and self.eps * self.m > 1:
            raise ValueError(f"eps: expected eps <= 1/m = {1 / self.m}, got {self.eps}")

    def allowed(self, reports: np.ndarray) -> np.ndarray:
        p = np.asarray(reports, dtype=np.float64)
        if self.eps is not None:
            return np.asarray((p >= self.eps * (1 - 1e-12)).all(axis=-1))
        return np.ones(p.shape[:-1], dtype=bool) if self.allow_infinite else np.asarray((p > 0).all(axis=-1))

    def check_report(self, report: Any, name: str = "report") -> np.ndarray:
        p = check_simplex(report, name, self.m)
        if self.eps is not None:
            low = p < self.eps * (1 - 1e-12)
            if low.any():
                idx = tuple(int(i) for i in np.argwhere(low)[0])
                raise ValueError(
                    f"{name}: logarithmic rule with eps={self.eps} accepts reports with every entry "
                    f">= eps, got {p[idx]} at index {idx}"
                )
        elif not self.allow_infinite and (p == 0).any():
            idx = tuple(int(i) for i in np.argwhere(p == 0)[0])
            raise ValueError(
                f"{name}: logarithmic rule got a zero probability at index {idx} (score ln 0 = -inf); "
                f"pass eps=... to restrict reports to p >= eps, or allow_infinite=True"
            )
        return p

    def G(self, p: Any) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)

    def gradient(self, p: Any) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(np.asarray(p, dtype=np.float64)) + 1.0

    def score_matrix(self, report: Any, validate: bool = True) -> np.ndarray:
        p = self.check_report(report) if validate else np.asarray(report, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return np.log(p)

    def score_range(self, m: int | None = None) -> tuple[float, float]:
        if self.eps is None:
            return (-np.inf, 0.0)
        return (float(np.log(self.eps)), 0.0)  # scaled into [0, B]: S_B = B (ln p_w - ln eps) / (-ln eps)

    def sample_reports(self, rng: np.random.Generator, n: int, m: int) -> np.ndarray:
        d = rng.dirichlet(np.ones(m), size=n)
        if self.eps is None:
            return d
        return self.eps + (1.0 - m * self.eps) * d  # uniform on P_eps (an affine image of the simplex)


@register("spherical")
class SphericalRule(ScoringRule):
    """Spherical rule ``S(p, w) = p_w / |p|_2``; ``G(p) = |p|_2``; range [0, 1].

    Misreport loss ``|q| - <q, p> / |p|``.
    """

    def __init__(self, m: int | None = None) -> None:
        self.m = _check_m(m)

    def G(self, p: Any) -> np.ndarray:
        return np.linalg.norm(np.asarray(p, dtype=np.float64), axis=-1)

    def gradient(self, p: Any) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        return p / np.linalg.norm(p, axis=-1, keepdims=True)

    def score_matrix(self, report: Any, validate: bool = True) -> np.ndarray:
        p = self.check_report(report) if validate else np.asarray(report, dtype=np.float64)
        return p / np.linalg.norm(p, axis=-1, keepdims=True)

    def score_range(self, m: int | None = None) -> tuple[float, float]:
        return (0.0, 1.0)


@register("decision")
class DecisionRule(ScoringRule):
    """Decision-induced rule of a decision problem ``u`` ``(n_decisions, m)``: ``S_u(p, w) = u(d*(p), w)``.

    ``d*(p) = argmax_d sum_w p_w u(d, w)`` with ties to the lowest decision index;
    ``G_u(p) = max_d sum_w p_w u(d, w)`` (convex, piecewise linear). Proper but **not strictly**
    proper: any report in the same decision region scores the same. The agent's effort gain equals
    the principal's value of information.
    """

    claims = frozenset({"proper"})
    strictly_proper = False

    def __init__(self, utility: Any) -> None:
        u = as_array(utility, "utility", ndim=2)
        if u.shape[1] < 2 or u.shape[0] < 1:
            raise ValueError(f"utility: expected shape (n_decisions >= 1, m >= 2), got {u.shape}")
        self.utility = u
        self.m = u.shape[1]

    def decision(self, p: Any) -> np.ndarray:
        """``d*(p)``: the decision maximising expected utility under ``p`` (lowest index on ties)."""
        p = np.asarray(p, dtype=np.float64)
        return np.argmax(p @ self.utility.T, axis=-1)

    def G(self, p: Any) -> np.ndarray:
        return np.max(np.asarray(p, dtype=np.float64) @ self.utility.T, axis=-1)

    def gradient(self, p: Any) -> np.ndarray:
        return self.utility[self.decision(p)]

    def score_matrix(self, report: Any, validate: bool = True) -> np.ndarray:
        p = self.check_report(report) if validate else np.asarray(report, dtype=np.float64)
        return self.utility[self.decision(p)]

    def score_range(self, m: int | None = None) -> tuple[float, float]:
        return (float(self.utility.min()), float(self.utility.max()))

    def params(self) -> dict[str, Any]:
        return {"utility": self.utility.tolist()}


@register("savage")
class SavageRule(ScoringRule):
    """Generic rule from a convex ``G`` and a (sub)gradient: ``S(p, w) = G(p) - <g(p), p> + g_w(p)``.

    ``G`` maps ``(..., m)`` to ``(...)`` and ``gradient`` maps ``(..., m)`` to ``(..., m)``; both
    must be vectorised. ``strict`` states whether G is strictly convex (the rule's claim);
    ``score_range`` may be given as ``(lo, hi)`` to allow scaling.
    """

    def __init__(
        self,
        G: Callable[[np.ndarray], np.ndarray],
        gradient: Callable[[np.ndarray], np.ndarray],
        m: int | None = None,
        strict: bool = True,
        score_range: tuple[float, float] | None = None,
    ) -> None:
        for name, fn in (("G", G), ("gradient", gradient)):
            if not callable(fn):
                raise ParameterTypeError(name, f"{name}: expected a callable on (..., m) arrays, got {fn!r}")
        self._G, self._grad = G, gradient
        self.m = _check_m(m)
        self.strictly_proper = check_bool(strict, "strict")
        if score_range is not None:
            if not isinstance(score_range, (tuple, list)) or len(score_range) != 2:
                raise ParameterTypeError("score_range", f"score_range: expected (lo, hi) or None, got {score_range!r}")
            lo = check_float(score_range[0], "score_range")
            hi = check_float(score_range[1], "score_range")
            if hi <= lo:
                raise ParameterError("score_range", f"score_range: expected lo < hi, got ({lo}, {hi})")
            score_range = (lo, hi)
        self._range = score_range
        if not strict:
            self.claims = frozenset({"proper"})

    def G(self, p: Any) -> np.ndarray:
        return np.asarray(self._G(np.asarray(p, dtype=np.float64)), dtype=np.float64)

    def gradient(self, p: Any) -> np.ndarray:
        return np.asarray(self._grad(np.asarray(p, dtype=np.float64)), dtype=np.float64)

    def score_range(self, m: int | None = None) -> tuple[float, float]:
        if self._range is None:
            return super().score_range(m)
        return (float(self._range[0]), float(self._range[1]))


class ScaledRule(ScoringRule):
    """Affine transform ``alpha S(p, w) + shift_w`` of a rule (alpha > 0; ``shift`` scalar or ``(m,)``).

    Affine maps with a positive slope and an outcome-only shift preserve (strict) propriety:
    ``G' = alpha G + <shift, p>`` and ``D_G' = alpha D_G``.
    """

    def __init__(self, base: ScoringRule, alpha: float, shift: Any = 0.0) -> None:
        if not isinstance(base, ScoringRule):
            raise ParameterTypeError("base", f"base: expected a ScoringRule, got {type(base).__name__}")
        self.base = base
        self.alpha = check_float(alpha, "alpha", lo=0.0, lo_open=True)
        self.shift = as_array(shift, "shift", ndim=(0, 1))
        self.m = base.m
        self.strictly_proper = base.strictly_proper
        self.claims = base.claims

    def allowed(self, reports: np.ndarray) -> np.ndarray:
        return self.base.allowed(reports)

    def check_report(self, report: Any, name: str = "report") -> np.ndarray:
        return self.base.check_report(report, name)

    def G(self, p: Any) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        return self.alpha * self.base.G(p) + np.sum(p * self.shift, axis=-1)

    def gradient(self, p: Any) -> np.ndarray:
        return self.alpha * self.base.gradient(p) + self.shift

    def score_matrix(self, report: Any, validate: bool = True) -> np.ndarray:
        return self.alpha * self.base.score_matrix(report, validate) + self.shift

    def score_range(self, m: int | None = None) -> tuple[float, float]:
        lo, hi = self.base.score_range(m)
        if self.shift.ndim:
            return (self.alpha * lo + float(self.shift.min()), self.alpha * hi + float(self.shift.max()))
        return (self.alpha * lo + float(self.shift), self.alpha * hi + float(self.shift))

    def sample_reports(self, rng: np.random.Generator, n: int, m: int) -> np.ndarray:
        return self.base.sample_reports(rng, n, m)
