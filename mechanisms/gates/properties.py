"""The CGAE propositions as executable checks (Baxi, arXiv:2603.15639: the theorems by name).

Each ``check_*`` function takes plain arrays (a population, a trajectory or an acceptance log),
returns a :class:`Check` (``holds`` plus the worst offending value and where it is) and never
raises on a violation, so tests can assert both that a property holds and that a constructed case
breaks it. Paper: R. Baxi, arXiv:2603.15639 (Bounded Exposure; Incentive-Compatible Robustness
Investment; Monotonic Safety, false as stated; Collusion Resistance; Monotonicity of f).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from coopsim.mechanisms.gates.tiers import (
    DEFAULT_THRESHOLDS,
    aggregate_safety,
    ceiling,
    dimension_tiers,
    tier_loss_time,
    uniform_share_profit,
    validate_ceilings,
    validate_thresholds,
    weakest_link_tier,
)

from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_bool,
    check_family,
    check_float,
    check_int,
    check_size,
)


@dataclass
class Check:
    """Outcome of a property check: ``holds``, a short name, the worst margin and details."""

    name: str
    holds: bool
    worst: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:  # allows ``assert check_x(...)``
        return self.holds


# ------------------------------------------------------------------ Bounded Exposure (T1a-T1c)
def check_t1a(exposure_after: Any, tier: Any, t_min: Any, ceilings: Any = None) -> Check:
    """T1a: at every acceptance ``E_after <= B_{f(R_eff)}`` and ``f(R_eff) >= T_min``.

    Arrays are one entry per acceptance (any shape). ``worst`` = max of ``E_after - B_tier``.
    """
    e = as_array(exposure_after, "exposure_after", lo=0.0)
    k = as_array(tier, "tier", dtype=np.int64, lo=0)
    tm = as_array(t_min, "t_min", dtype=np.int64, lo=0)
    b = ceiling(k, ceilings)
    over = e - b
    ok = bool(np.all(over <= 1e-12) and np.all(k >= tm))
    worst = float(over.max()) if over.size else 0.0
    return Check(
        "T1a", ok, worst, {"tier_violations": int((k < tm).sum()), "ceiling_violations": int((over > 1e-12).sum())}
    )


def check_t1b(exposure: Any, tier: Any, ceilings: Any = None) -> Check:
    """T1b (strong form): ``E(A, t) <= B_{f(R_eff(A, t))}`` for every agent at the end of a step."""
    e = as_array(exposure, "exposure", lo=0.0)
    k = as_array(tier, "tier", dtype=np.int64, lo=0)
    b = ceiling(k, ceilings)
    over = e - b
    n_bad = int((over > 1e-12).sum())
    return Check("T1b", n_bad == 0, float(over.max()) if over.size else 0.0, {"violations": n_bad})


def check_t1c(
    certified: Any,
    ih: Any = None,
    decay_rate: float = 0.01,
    horizon: int = 500,
    thresholds: Any = None,
    ceilings: Any = None,
    ih_threshold: float = 0.5,
    decay_ih: bool = True,
) -> Check:
    """T1c: with decay and no re-audit, tier and ceiling are non-increasing in ``dt = 0..horizon``
    and the agent is T0 for every ``dt`` greater than :func:`tier_loss_time`.

    ``certified`` ``(..., 3)``; ``ih`` (or None for no IH rule).
    """
    lam = check_float(decay_rate, "decay_rate", lo=0.0)
    horizon = check_int(horizon, "horizon", lo=0)
    th = validate_thresholds(thresholds)
    cl = validate_ceilings(ceilings, th.shape[1])
    r = as_array(certified, "certified", lo=0.0, hi=1.0)
    check_size("horizon", horizon + 1, max(r.size, 1), copies=4, what="the decayed scores per step")
    dt = np.arange(horizon + 1, dtype=np.float64)
    d = np.exp(-lam * dt)  # (T,)
    reff = r[..., None, :] * d[:, None]
    h = None
    if ih is not None:
        ih_arr = as_array(ih, "ih", lo=0.0, hi=1.0)
        h = ih_arr[..., None] * (d if decay_ih else 1.0)
        h = np.broadcast_to(h, reff.shape[:-1])
    tiers = weakest_link_tier(reff, h, th, ih_threshold)  # (..., T)
    ceil = cl[tiers]
    mono = bool(np.all(np.diff(tiers, axis=-1) <= 0) and np.all(np.diff(ceil, axis=-1) <= 0))
    t_star = tier_loss_time(r, ih, th, lam, ih_threshold, decay_ih)
    after = dt > t_star[..., None]
    zero_after = bool(np.all(tiers[after] == 0))
    return Check("T1c", mono and zero_after, 0.0, {"monotone": mono, "t0_after_bound": zero_after, "tiers": tiers})


# ------------------------------------------------------------------ Incentive compatibility (T2a-T2c)
def check_t2a(gate: Any, robustness: Any, ih: Any, capability_a: Any, capability_b: Any) -> Check:
    """T2a: the gate (and hence uniform-share profit) is invariant to capability."""
    if not callable(gate):
        raise ParameterTypeError("gate", f"gate: expected a gate (callable), got {gate!r}")
    check_family(gate, "gates", "gate")
    ta = gate(robustness, ih, capability_a)
    tb = gate(robustness, ih, capability_b)
    return Check("T2a", bool(np.array_equal(ta, tb)), float(np.abs(ta - tb).max(initial=0)))


def check_monotone(
    robustness: Any, raised: Any, thresholds: Any = None, ih: Any = None, ih_raised: Any = None
) -> Check:
    """Monotonicity of f (P2): ``R <= R'`` componentwise implies ``f(R) <= f(R')``."""
    r = as_array(robustness, "robustness", lo=0.0, hi=1.0)
    r2 = as_array(raised, "raised", lo=0.0, hi=1.0)
    if np.any(r2 < r):
        raise ValueError("raised: expected every component >= robustness")
    f1 = weakest_link_tier(r, ih, thresholds)
    f2 = weakest_link_tier(r2, ih_raised if ih_raised is not None else ih, thresholds)
    return Check("monotone", bool(np.all(f1 <= f2)), float((f1 - f2).max(initial=0)))


def check_t2b(
    robustness: Any,
    dim: int,
    amount: Any,
    thresholds: Any = None,
    demand: Any = None,
    mean_reward: Any = None,
    others: Any = None,
) -> Check:
    """T2b: profit is non-decreasing in each R_i, and raising a non-binding dimension (one whose
    ``g_i`` stays above the tier after the raise, i.e. any dimension not at the minimum) never
    changes the tier.

    ``robustness`` ``(M, 3)`` agents to perturb; ``others`` ``(P,)`` tiers of the rest of the population.
    """
    th = validate_thresholds(thresholds)
    r = as_array(robustness, "robustness", ndim=2, lo=0.0, hi=1.0)
    dim = check_int(dim, "dim", lo=0, hi=2)
    a = as_array(amount, "amount", lo=0.0)
    r2 = r.copy()
    r2[:, dim] = np.minimum(1.0, r2[:, dim] + a)
    g = dimension_tiers(r, th)
    f1, f2 = g.min(-1), weakest_link_tier(r2, None, th)
    nonbinding = g[:, dim] > f1
    ok_tier = bool(np.all(f1[nonbinding] == f2[nonbinding]))
    K = th.shape[1] - 1
    D = np.ones(K) if demand is None else as_array(demand, "demand", ndim=1, lo=0.0)
    er = (
        np.arange(1, K + 1, dtype=float)
        if mean_reward is None
        else as_array(mean_reward, "mean_reward", ndim=1, lo=0.0)
    )
    oth = np.zeros(0, dtype=np.int64) if others is None else as_array(others, "others", ndim=1, dtype=np.int64, lo=0)
    p1 = np.array([uniform_share_profit(np.append(oth, f), D, er)[-1] for f in f1])
    p2 = np.array([uniform_share_profit(np.append(oth, f), D, er)[-1] for f in f2])
    ok_pi = bool(np.all(p2 >= p1 - 1e-12))
    return Check(
        "T2b", ok_tier and ok_pi, float((p1 - p2).max(initial=0)), {"tier_unchanged": ok_tier, "profit_monotone": ok_pi}
    )


def profit_gain_at_crossing(tier_before: int, others: Any, demand: Any, mean_reward: Any) -> tuple[float, float]:
    """T2c: (realised profit gain, formula ``D_{j+1} E[r_{j+1}] / N_{j+1}``) when one agent moves
    from tier ``j`` to ``j + 1`` (``N_{j+1}`` counted after the crossing, including the agent)."""
    oth = as_array(others, "others", ndim=1, dtype=np.int64, lo=0)
    D = as_array(demand, "demand", ndim=1, lo=0.0)
    r = as_array(mean_reward, "mean_reward", ndim=1, lo=0.0)
    if r.shape != D.shape:
        raise ParameterError("mean_reward", f"mean_reward: expected shape {D.shape} (as demand), got {r.shape}")
    tier_before = check_int(tier_before, "tier_before", lo=0, hi=D.shape[0] - 1)
    before = uniform_share_profit(np.append(oth, tier_before), D, r)[-1]
    after = uniform_share_profit(np.append(oth, tier_before + 1), D, r)[-1]
    n_next = int((oth >= tier_before + 1).sum()) + 1
    formula = D[tier_before] * r[tier_before] / n_next
    return float(after - before), float(formula)


def check_t2c(tier_before: int, others: Any, demand: Any, mean_reward: Any) -> Check:
    """T2c: the gain at a binding crossing equals ``D_{j+1}E[r_{j+1}]/N_{j+1}`` and is > 0 when D_{j+1} > 0."""
    gain, formula = profit_gain_at_crossing(tier_before, others, demand, mean_reward)
    scale = 1e-9 * max(1.0, float(np.sum(np.asarray(demand, float) * np.asarray(mean_reward, float))))  # validated
    ok = abs(gain - formula) <= scale and (gain > 0 or formula <= scale)
    return Check("T2c", bool(ok), gain - formula, {"gain": gain, "formula": formula})


# ------------------------------------------------------------------ Monotonic Safety (T3a-T3d)
def check_t3a(exposure: Any, weakest: Any) -> Check:
    """T3a: ``0 <= S <= 1`` and S equals the exposure-weighted mean of Rbar (1 when the weight is 0)."""
    w = as_array(exposure, "exposure", lo=0.0)
    rb = as_array(weakest, "weakest", lo=0.0, hi=1.0)
    s = aggregate_safety(w, rb)
    tot = w.sum(-1)
    mean = np.where(tot > 0, (w * rb).sum(-1) / np.where(tot > 0, tot, 1), 1.0)
    ok = bool(np.all((s >= -1e-12) & (s <= 1 + 1e-12)) and np.allclose(s, mean, atol=1e-12))
    return Check("T3a", ok, float(np.abs(s - mean).max(initial=0)))


def check_t3b(exposure: Any, weakest: Any, tier: Any, thresholds: Any = None) -> Check:
    """T3b: if every agent carrying weight is at tier >= T1 (Rbar measured on the same scores the
    tier came from), then ``S >= min_i theta_i^1``."""
    th = validate_thresholds(thresholds)
    w = as_array(exposure, "exposure", lo=0.0)
    k = as_array(tier, "tier", dtype=np.int64, lo=0)
    s = aggregate_safety(w, weakest)
    applies = np.all((w == 0) | (k >= 1), axis=-1)
    floor = float(th[:, 1].min())
    ok = bool(np.all(s[applies] >= floor - 1e-12))
    return Check(
        "T3b", ok, float((floor - s[applies]).max(initial=-np.inf)), {"floor": floor, "applies": int(applies.sum())}
    )


def check_t3c(exposure: Any, weakest: Any, entrant_exposure: float, entrant_weakest: float) -> Check:
    """T3c: an entrant with Rbar >= S and positive weight does not decrease S; with Rbar < S it
    strictly decreases S. Returns ``holds`` when the observed change has the predicted sign."""
    w = as_array(exposure, "exposure", ndim=1, lo=0.0)
    rb = as_array(weakest, "weakest", ndim=1, lo=0.0, hi=1.0)
    if rb.shape != w.shape:
        raise ParameterError("weakest", f"weakest: expected shape {w.shape} (as exposure), got {rb.shape}")
    entrant_exposure = check_float(entrant_exposure, "entrant_exposure", lo=0.0)
    entrant_weakest = check_float(entrant_weakest, "entrant_weakest", lo=0.0, hi=1.0)
    s0 = float(aggregate_safety(w, rb))
    s1 = float(aggregate_safety(np.append(w, entrant_exposure), np.append(rb, entrant_weakest)))
    tol = 1e-12
    if entrant_exposure <= 0:
        ok = s1 == s0
    elif entrant_weakest >= s0 - tol:  # equal within rounding counts as "not below"
        ok = s1 >= s0 - tol
    else:
        ok = s1 < s0 or w.sum() == 0
    return Check("T3c", bool(ok), s1 - s0, {"before": s0, "after": s1})


def check_t3d(certified_weakest: Any, tier: Any, thresholds: Any) -> Check:
    """T3d: with re-certification under the current schedule, ``min Rbar`` over agents at tier >= T1
    is >= ``min_i theta_i^1`` of that schedule (hence non-decreasing as the schedule rises)."""
    th = validate_thresholds(thresholds)
    rb = as_array(certified_weakest, "certified_weakest", lo=0.0, hi=1.0)
    k = as_array(tier, "tier", dtype=np.int64, lo=0)
    floor = float(th[:, 1].min())
    sel = rb[k >= 1]
    ok = bool(np.all(sel >= floor - 1e-12))
    return Check("T3d", ok, float(floor - sel.min()) if sel.size else 0.0, {"floor": floor})


def monotonic_safety_counterexample(default_table: bool = False) -> tuple[float, float]:
    """The documented counterexample to Monotonic Safety as stated in Baxi, arXiv:2603.15639.

    Two agents: incumbent Rbar 0.9, exposure 1 (S = 0.9); entrant Rbar 0.3, exposure 1 gives
    S = 0.6. With ``default_table``: incumbent (0.9, 0.9, 0.9) at T5 with exposure 1, entrant
    (0.3, 0.3, 0.3) at T1 with exposure 0.01: S = 1 - 0.107 / 1.01 = 0.8940594... Returns
    ``(S_before, S_after)``.
    """
    if check_bool(default_table, "default_table"):
        inc = np.array([[0.9, 0.9, 0.9]])
        ent = np.array([[0.3, 0.3, 0.3]])
        assert weakest_link_tier(inc)[0] == 5 and weakest_link_tier(ent)[0] == 1
        before = aggregate_safety(np.array([1.0]), inc.min(-1))
        after = aggregate_safety(np.array([1.0, 0.01]), np.array([0.9, 0.3]))
    else:
        before = aggregate_safety(np.array([1.0]), np.array([0.9]))
        after = aggregate_safety(np.array([1.0, 1.0]), np.array([0.9, 0.3]))
    return float(before), float(after)


# ------------------------------------------------------------------ Collusion resistance (P1)
def check_collusion_resistance(members: Any, thresholds: Any = None, ih: Any = None) -> Check:
    """P1: chain tier ``min_j f(R(A_j)) = min_{i,j} g_i(R_i(A_j))`` for member scores ``(..., m, 3)``;
    complementary strengths never lift a cartel above its weakest member-dimension."""
    th = validate_thresholds(thresholds) if thresholds is not None else DEFAULT_THRESHOLDS
    r = as_array(members, "members", lo=0.0, hi=1.0)
    chain = weakest_link_tier(r, ih, th).min(axis=-1)
    g = dimension_tiers(r, th)
    brute = g.min(axis=(-1, -2))
    if ih is not None:
        brute = np.where((np.asarray(ih) < 0.5).any(axis=-1), 0, brute)
    return Check(
        "collusion_resistance", bool(np.array_equal(chain, brute)), float(np.abs(chain - brute).max(initial=0))
    )


__all__ = [
    "Check",
    "check_t1a",
    "check_t1b",
    "check_t1c",
    "check_t2a",
    "check_t2b",
    "check_t2c",
    "check_monotone",
    "profit_gain_at_crossing",
    "check_t3a",
    "check_t3b",
    "check_t3c",
    "check_t3d",
    "monotonic_safety_counterexample",
    "check_collusion_resistance",
]
