"""Domain analyses for 1-D facility location: utilities, objectives, ALLW fairness axioms.

Peaks ``x`` live in ``[0, 1]``; a facility at ``y`` gives agent ``i`` cost ``|y - x_i|`` and utility
``1 - |y - x_i|``. Everything is batched: peaks ``(B, N)`` with locations ``(B,)``, or an unbatched
profile ``(N,)`` with a scalar location (results are then 0-d). A lottery is given as a support
``(B, K)`` (or ``(K,)``) plus ``probs`` of the same shape; costs, utilities and axioms are then read
ex ante, with expected distance ``E|Y - x_i|`` (proportionality: ``E[Y]``).

Axioms (Aziz, Lam, Lee, Walsh, *Strategyproof and Proportionally Fair Facility Location*,
arXiv 2111.01566; JME 2025), in distance form with ``s = |S|``:

* IFS:  ``|y - x_i| <= 1 - 1/n`` for every agent;
* UFS:  ``|y - x_i| <= 1 - s/n`` for every group ``S`` of agents sharing one peak;
* PF:   ``|y - x_i| <= 1 - s/n + r`` for every group ``S`` of range ``r = max_S x - min_S x``;
* proportionality (Freeman, Pennock, Peters, Wortman Vaughan, EC'19): ``x in {0,1}^n`` implies
  ``y = #{i : x_i = 1} / n`` (vacuous on other profiles);
* unanimity: ``x_i = c`` for all ``i`` implies ``y = c`` (vacuous otherwise).

Floating-point comparisons use the tolerance ``TOL = 1e-12``: a constraint ``distance <= bound``
passes when ``distance <= bound + tol``; proportionality and unanimity pass when the location is
within ``tol`` of the forced point. Groups "sharing one peak" (UFS) and unanimous / ``{0,1}``
profiles are detected by exact equality of the peaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import isqrt
from typing import Any

import numpy as np

from coopsim.core.validation import as_array, check_choice, check_distribution, check_float, check_int, check_size

#: names accepted by :func:`satisfies`, :func:`check` and :func:`feasible_interval`
AXIOMS = ("IFS", "UFS", "PF", "proportionality", "unanimity")
#: names accepted by :func:`objective_value`, :func:`optimal_location`, :func:`optimal_value`
OBJECTIVES = ("social_welfare", "total_cost", "max_cost")
#: default absolute tolerance of every floating-point comparison in this module
TOL = 1e-12

__all__ = [
    "AXIOMS",
    "OBJECTIVES",
    "TOL",
    "AxiomCheck",
    "as_profile",
    "utility",
    "cost",
    "social_welfare",
    "total_cost",
    "max_cost",
    "objective_value",
    "optimal_location",
    "optimal_value",
    "satisfies",
    "check",
    "feasible_interval",
    "multiplicities",
    "welfare_ratio_bound",
    "ifs_welfare_ratio_bound",
]


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
def as_profile(value: Any, name: str = "reports") -> tuple[np.ndarray, bool]:
    """Validate a profile of points in ``[0, 1]``: shape ``(N,)`` or ``(B, N)``, ``N >= 1``, finite.

    Returns ``(profile, batched)`` where ``profile`` always has shape ``(B, N)`` (``B = 1`` when the
    input was unbatched). Nothing is clipped: out-of-range or NaN values raise ``ValueError``.
    """
    arr = as_array(value, name, ndim=(1, 2), lo=0.0, hi=1.0)
    check_size(name, *arr.shape, copies=4, what="the sorted profile and its temporaries")
    if arr.shape[-1] < 1:
        raise ValueError(f"{name}: expected at least one agent (n >= 1) on the last axis, got shape {arr.shape}")
    batched = arr.ndim == 2
    return (arr if batched else arr[None, :]), batched


def _as_locations(location: Any, batch: int, batched: bool, name: str = "location") -> np.ndarray:
    """Locations in ``[0, 1]``: scalar (unbatched) or ``(B,)``; returned as ``(B,)``."""
    arr = as_array(location, name, ndim=1 if batched else 0, lo=0.0, hi=1.0)
    if batched and arr.shape != (batch,):
        raise ValueError(f"{name}: expected shape ({batch},) to match peaks, got {arr.shape}")
    return arr.reshape(batch)


def _as_lottery(location: Any, probs: Any, batch: int, batched: bool) -> tuple[np.ndarray, np.ndarray]:
    """Support ``(B, K)`` and probabilities ``(B, K)`` from either a location or a lottery."""
    if probs is None:
        y = _as_locations(location, batch, batched)
        return y[:, None], np.ones((batch, 1))
    ndim = 2 if batched else 1
    support = as_array(location, "location", ndim=ndim, lo=0.0, hi=1.0)
    p = check_distribution(as_array(probs, "probs", ndim=ndim), "probs")
    if support.shape != p.shape or (batched and support.shape[0] != batch) or support.shape[-1] < 1:
        raise ValueError(
            f"probs: expected the shape of location (support) {support.shape} with batch {batch}, got {p.shape}"
        )
    return support.reshape(batch, -1), p.reshape(batch, -1)


def _expected_distance(peaks: np.ndarray, support: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``D[b, i] = sum_k probs[b, k] * |support[b, k] - peaks[b, i]|`` (shape ``(B, N)``)."""
    if support.shape[1] == 1:
        return np.abs(support - peaks)
    return np.einsum("bk,bik->bi", probs, np.abs(support[:, None, :] - peaks[:, :, None]))


def _out(arr: np.ndarray, batched: bool) -> np.ndarray:
    return arr if batched else arr[0]


# --------------------------------------------------------------------------------------------
# utilities and objectives
# --------------------------------------------------------------------------------------------
def cost(location: Any, peaks: Any, probs: Any = None) -> np.ndarray:
    """Per-agent cost ``|y - x_i|`` (expected ``sum_k p_k |y_k - x_i|`` for a lottery): ``(B, N)`` or ``(N,)``."""
    x, batched = as_profile(peaks, "peaks")
    support, p = _as_lottery(location, probs, x.shape[0], batched)
    return _out(_expected_distance(x, support, p), batched)


def utility(location: Any, peaks: Any, probs: Any = None) -> np.ndarray:
    """Per-agent utility ``1 - |y - x_i|`` in ``[0, 1]`` (expected for a lottery): ``(B, N)`` or ``(N,)``."""
    return 1.0 - cost(location, peaks, probs)


def social_welfare(peaks: Any, location: Any, probs: Any = None) -> np.ndarray:
    """Social welfare ``SW(y, x) = sum_i (1 - |y - x_i|) = n - TC(y, x)`` (expected for a lottery)."""
    return objective_value("social_welfare", peaks, location, probs)


def total_cost(peaks: Any, location: Any, probs: Any = None) -> np.ndarray:
    """Total cost ``TC(y, x) = sum_i |y - x_i|`` (expected for a lottery)."""
    return objective_value("total_cost", peaks, location, probs)


def max_cost(peaks: Any, location: Any, probs: Any = None) -> np.ndarray:
    """Maximum cost ``MC(y, x) = max_i |y - x_i|`` (for a lottery: ``sum_k p_k max_i |y_k - x_i|``)."""
    return objective_value("max_cost", peaks, location, probs)


def objective_value(objective: str, peaks: Any, location: Any, probs: Any = None) -> np.ndarray:
    """Value of ``objective`` (``social_welfare``, ``total_cost``, ``max_cost``) at ``location``.

    For a lottery every objective is an expectation over its support (``E[MC]``, not ``MC(E[Y])``).
    Returns ``(B,)`` for batched peaks, a 0-d array otherwise.
    """
    check_choice(objective, "objective", OBJECTIVES)
    x, batched = as_profile(peaks, "peaks")
    support, p = _as_lottery(location, probs, x.shape[0], batched)
    dist = np.abs(support[:, None, :] - x[:, :, None])  # (B, N, K)
    if objective == "max_cost":
        val = (dist.max(axis=1) * p).sum(axis=1)
    else:
        tc = (dist.sum(axis=1) * p).sum(axis=1)
        val = tc if objective == "total_cost" else x.shape[1] - tc
    return _out(val, batched)


def optimal_location(objective: str, peaks: Any) -> np.ndarray:
    """An optimal location: the left median ``x_(ceil(n/2))`` for SW and TC, ``(x_(1)+x_(n))/2`` for MC.

    TC is minimized exactly on ``[x_(ceil(n/2)), x_(floor(n/2)+1)]`` (SW likewise maximized); MC uniquely
    at the midpoint of the extremes.
    """
    check_choice(objective, "objective", OBJECTIVES)
    x, batched = as_profile(peaks, "peaks")
    n = x.shape[1]
    if objective == "max_cost":
        y = 0.5 * (x.min(axis=1) + x.max(axis=1))
    else:
        k = (n + 1) // 2  # ceil(n/2), 1-based
        y = np.partition(x, k - 1, axis=1)[:, k - 1]
    return _out(y, batched)


def optimal_value(objective: str, peaks: Any) -> np.ndarray:
    """Optimum of ``objective``: ``max_y SW``, ``min_y TC`` or ``min_y MC = (x_(n) - x_(1))/2``."""
    return objective_value(objective, peaks, optimal_location(objective, peaks))


# --------------------------------------------------------------------------------------------
# fairness axioms
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AxiomCheck:
    """Verdict of an axiom check with its tightest constraint (the witness).

    ``ok``: passes (``slack >= -tol``); ``slack``: ``min over constraints of bound - distance`` (``+inf``
    where the axiom is vacuous); ``group``: boolean mask ``(B, N)`` of the witness group ``S``;
    ``bound`` and ``distance``: that group's allowed and actual (expected) distance. Arrays are
    ``(B,)`` (``(B, N)`` for ``group``), or unbatched (0-d / ``(N,)``).
    """

    axiom: str
    ok: np.ndarray
    slack: np.ndarray
    group: np.ndarray
    bound: np.ndarray
    distance: np.ndarray


def _run_lengths(xt: np.ndarray) -> np.ndarray:
    """Multiplicity of each entry of an ``(N, B)`` array sorted along axis 0 (length of its run).

    Agent-first layout: the accumulations run over contiguous ``(B,)`` rows, which is several
    times faster than accumulating along a short last axis.
    """
    n = xt.shape[0]
    idx = np.arange(n)[:, None]
    new = np.ones(xt.shape, dtype=bool)
    new[1:] = xt[1:] != xt[:-1]
    end = np.ones(xt.shape, dtype=bool)
    end[:-1] = new[1:]
    first = np.maximum.accumulate(np.where(new, idx, 0), axis=0)
    last = np.minimum.accumulate(np.where(end, idx, n - 1)[::-1], axis=0)[::-1]
    return last - first + 1


def multiplicities(peaks: Any) -> np.ndarray:
    """``s[b, i] = #{j : x[b, j] == x[b, i]}`` for ``(B, N)`` peaks in [0, 1] (exact equality), in O(N log N)."""
    return _multiplicities(as_array(peaks, "peaks", ndim=2, lo=0.0, hi=1.0))


def _multiplicities(peaks: np.ndarray) -> np.ndarray:
    """:func:`multiplicities` of validated ``(B, N)`` peaks."""
    order = np.argsort(peaks, axis=1, kind="stable")
    s_sorted = _run_lengths(np.take_along_axis(peaks, order, axis=1).T).T
    s = np.empty_like(s_sorted)
    np.put_along_axis(s, order, s_sorted, axis=1)
    return s


def _pf_terms(xt: np.ndarray) -> tuple[np.ndarray, ...]:
    """PF bounds per sorted member (1-based rank ``k``) as the right / left end of its tightest block.

    ``xt`` is ``(N, B)``, sorted along axis 0 (agent-first layout, see :func:`_run_lengths`).
    Right end of ``i..k``: ``1 + x_(k) - (k+1)/n + min_{i<=k} (i/n - x_(i))``;
    left end of ``k..j``: ``1 - x_(k) + (k-1)/n + min_{j>=k} (x_(j) - j/n)``.
    Returns ``bound_r, bound_l, a, c`` with ``a = k/n - x_(k)`` and ``c = x_(k) - k/n``.
    """
    n = xt.shape[0]
    k = (np.arange(1, n + 1) / n)[:, None]
    a = k - xt
    c = xt - k
    bound_r = 1.0 + xt - k - 1.0 / n + np.minimum.accumulate(a, axis=0)
    bound_l = 1.0 - xt + k - 1.0 / n + np.minimum.accumulate(c[::-1], axis=0)[::-1]
    return bound_r, bound_l, a, c


def _special(axiom: str, x: np.ndarray, support: np.ndarray, p: np.ndarray, D0: np.ndarray):
    """Proportionality / unanimity: ``applies, distance`` per profile (``D0`` = E|Y - x_1|)."""
    n = x.shape[1]
    if axiom == "proportionality":
        applies = np.all((x == 0.0) | (x == 1.0), axis=1)
        target = (x == 1.0).sum(axis=1) / n
        return applies, np.abs((support * p).sum(axis=1) - target)
    return np.all(x == x[:, :1], axis=1), D0


def _min_slack(axiom: str, x: np.ndarray, support: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Fast path of :func:`satisfies`: ``min over constraints of bound - distance`` per profile."""
    n = x.shape[1]
    if axiom in ("proportionality", "unanimity"):
        applies, dist = _special(axiom, x, support, p, _expected_distance(x[:, :1], support, p)[:, 0])
        return np.where(applies, -dist, np.inf)
    if support.shape[1] == 1:
        # deterministic location: the distance form is equivalent to membership of the interval
        # ([lo, hi] before clipping to [0, 1]; see feasible_interval), which needs no prefix minima
        lo, hi = _interval_2d(axiom, x)
        y = support[:, 0]
        return np.minimum(y - lo, hi - y)
    # lotteries, ex ante: E|Y - x| is convex in x
    if axiom == "IFS":  # the extreme peaks bind
        ext = np.stack([x.min(axis=1), x.max(axis=1)], axis=1)
        return (1.0 - 1.0 / n) - _expected_distance(ext, support, p).max(axis=1)
    xt = np.ascontiguousarray(np.sort(x, axis=1).T)  # (N, B), sorted along axis 0
    # distances depend on the peak only, so compute them in the sorted, agent-first layout
    Dt = np.einsum("bk,ibk->ib", p, np.abs(support[None, :, :] - xt[:, :, None]))
    if axiom == "UFS":
        return ((1.0 - _run_lengths(xt) / n) - Dt).min(axis=0)
    bound_r, bound_l, _, _ = _pf_terms(xt)
    return (np.minimum(bound_r, bound_l) - Dt).min(axis=0)


def _check_2d(axiom: str, x: np.ndarray, support: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, ...]:
    """Core of :func:`check` on ``(B, N)`` peaks: returns ``slack, group, bound, distance``."""
    B, n = x.shape
    rows = np.arange(B)
    if axiom in ("proportionality", "unanimity"):
        applies, dist = _special(axiom, x, support, p, _expected_distance(x[:, :1], support, p)[:, 0])
        group = np.broadcast_to(applies[:, None], (B, n)).copy()
        slack = np.where(applies, -dist, np.inf)
        return slack, group, np.where(applies, 0.0, np.inf), np.where(applies, dist, 0.0)
    D = _expected_distance(x, support, p)  # (B, N)
    if axiom == "IFS":
        slack_i = (1.0 - 1.0 / n) - D
        w = np.argmin(slack_i, axis=1)
        group = np.zeros((B, n), dtype=bool)
        group[rows, w] = True
        return slack_i[rows, w], group, np.full(B, 1.0 - 1.0 / n), D[rows, w]
    if axiom == "UFS":
        s = _multiplicities(x)
        bound_i = 1.0 - s / n
        slack_i = bound_i - D
        w = np.argmin(slack_i, axis=1)
        group = x == x[rows, w][:, None]
        return slack_i[rows, w], group, bound_i[rows, w], D[rows, w]
    # PF
    order = np.argsort(x, axis=1, kind="stable")
    xs = np.take_along_axis(x, order, axis=1)
    Ds = np.take_along_axis(D, order, axis=1)
    bound_r, bound_l, a, c = (arr.T for arr in _pf_terms(xs.T))
    slack_r, slack_l = bound_r - Ds, bound_l - Ds
    kr, kl = np.argmin(slack_r, axis=1), np.argmin(slack_l, axis=1)
    use_r = slack_r[rows, kr] <= slack_l[rows, kl]
    pos = np.arange(n)
    # the other end of the witness block
    i_r = np.argmin(np.where(pos[None, :] <= kr[:, None], a, np.inf), axis=1)
    j_l = np.argmin(np.where(pos[None, :] >= kl[:, None], c, np.inf), axis=1)
    lo = np.where(use_r, i_r, kl)
    hi = np.where(use_r, kr, j_l)
    in_block = (pos[None, :] >= lo[:, None]) & (pos[None, :] <= hi[:, None])
    group = np.zeros((B, n), dtype=bool)
    np.put_along_axis(group, order, in_block, axis=1)
    slack = np.where(use_r, slack_r[rows, kr], slack_l[rows, kl])
    bound = np.where(use_r, bound_r[rows, kr], bound_l[rows, kl])
    dist = np.where(use_r, Ds[rows, kr], Ds[rows, kl])
    return slack, group, bound, dist


def check(axiom: str, peaks: Any, location: Any, probs: Any = None, *, tol: float = TOL) -> AxiomCheck:
    """Check ``axiom`` at ``location`` (or the lottery ``(location, probs)``, ex ante) with a witness.

    IFS/UFS test every agent; PF tests every contiguous block of the sorted peaks (contiguous blocks
    suffice: for a fixed range the largest group is contiguous), in O(n log n) per profile: by
    convexity of ``E|Y - x|`` only the block's end members bind, and for member ``x_(k)`` as the right
    end of block ``i..k`` the tightest bound is ``1 + x_(k) - (k+1)/n + min_{i<=k} (i/n - x_(i))``
    (a prefix minimum; symmetrically a suffix minimum for left ends).
    """
    check_choice(axiom, "axiom", AXIOMS)
    tol = check_float(tol, "tol", lo=0.0)
    x, batched = as_profile(peaks, "peaks")
    support, p = _as_lottery(location, probs, x.shape[0], batched)
    slack, group, bound, dist = _check_2d(axiom, x, support, p)
    ok = slack >= -tol
    return AxiomCheck(
        axiom,
        _out(ok, batched),
        _out(slack, batched),
        _out(group, batched),
        _out(bound, batched),
        _out(dist, batched),
    )


def satisfies(axiom: str, peaks: Any, location: Any, probs: Any = None, *, tol: float = TOL) -> np.ndarray:
    """Whether ``location`` (or a lottery, ex ante) satisfies ``axiom`` on ``peaks``.

    ``axiom`` is one of ``"IFS"``, ``"UFS"``, ``"PF"``, ``"proportionality"``, ``"unanimity"``.
    Peaks ``(B, N)`` with location ``(B,)`` give a bool array ``(B,)``; peaks ``(N,)`` with a scalar
    location give a 0-d bool array. Comparisons allow ``tol`` (default ``1e-12``). Same verdict as
    :func:`check` (which also returns the witness), computed on the sorted peaks without the witness.
    """
    check_choice(axiom, "axiom", AXIOMS)
    tol = check_float(tol, "tol", lo=0.0)
    x, batched = as_profile(peaks, "peaks")
    support, p = _as_lottery(location, probs, x.shape[0], batched)
    return _out(_min_slack(axiom, x, support, p) >= -tol, batched)


def _interval_2d(axiom: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unclipped ``(lo, hi)`` of :func:`feasible_interval` for validated ``(B, N)`` peaks."""
    n = x.shape[1]
    if axiom == "IFS":
        xt = np.ascontiguousarray(x.T)  # agent-first: reductions over contiguous rows are faster
        lo = xt.max(axis=0) - (1.0 - 1.0 / n)
        hi = xt.min(axis=0) + (1.0 - 1.0 / n)
    elif axiom == "UFS":
        xt = np.ascontiguousarray(np.sort(x, axis=1).T)
        slack = 1.0 - _run_lengths(xt) / n
        lo = (xt - slack).max(axis=0)
        hi = (xt + slack).min(axis=0)
    elif axiom == "PF":
        xt = np.ascontiguousarray(np.sort(x, axis=1).T)
        lo = (xt - (np.arange(n) / n)[:, None]).max(axis=0)
        hi = (xt + (np.arange(n - 1, -1, -1) / n)[:, None]).min(axis=0)
    elif axiom == "proportionality":
        applies = np.all((x == 0.0) | (x == 1.0), axis=1)
        target = (x == 1.0).sum(axis=1) / n
        lo = np.where(applies, target, 0.0)
        hi = np.where(applies, target, 1.0)
    else:
        applies = np.all(x == x[:, :1], axis=1)
        lo = np.where(applies, x[:, 0], 0.0)
        hi = np.where(applies, x[:, 0], 1.0)
    return lo, hi


def feasible_interval(axiom: str, peaks: Any) -> tuple[np.ndarray, np.ndarray]:
    """The set of deterministic locations satisfying ``axiom``, an interval ``[lo, hi]`` (never empty).

    * IFS: ``[max(0, x_(n) - 1 + 1/n), min(1, x_(1) + 1 - 1/n)]``;
    * UFS: ``[max(0, max_v v - 1 + s_v/n), min(1, min_v v + 1 - s_v/n)]`` over distinct peaks ``v``
      of multiplicity ``s_v``;
    * PF: the intersection over contiguous sorted blocks ``x_(i..j)`` (``s = j-i+1``, ``r = x_(j)-x_(i)``)
      of ``[x_(j) - (1 - s/n + r), x_(i) + (1 - s/n + r)]``, which simplifies to
      ``[max(0, max_k x_(k) - (k-1)/n), min(1, min_k x_(k) + 1 - k/n)]`` (only suffix blocks ``k..n``
      bind from below and prefix blocks ``1..k`` from above);
    * proportionality: ``[m/n, m/n]`` on a ``{0,1}`` profile with ``m`` ones, else ``[0, 1]``;
    * unanimity: ``[c, c]`` on the profile ``(c, ..., c)``, else ``[0, 1]``.
    """
    check_choice(axiom, "axiom", AXIOMS)
    x, batched = as_profile(peaks, "peaks")
    lo, hi = _interval_2d(axiom, x)
    lo, hi = np.maximum(lo, 0.0), np.minimum(hi, 1.0)
    return _out(lo, batched), _out(hi, batched)


# --------------------------------------------------------------------------------------------
# exact ratio bounds (Aziz, Lam, Lee and Walsh, arXiv:2111.01566)
# --------------------------------------------------------------------------------------------
def welfare_ratio_bound(n: int) -> Fraction:
    """``R(n) = max_{k in 0..n} n k / (n^2 - 2 n k + 2 k^2)`` exactly: the SW ratio every proportional
    mechanism incurs on ``k`` agents at 0 and ``n - k`` at 1 (ALLW); ``rho_SW(UP) = R(n)`` for ``n <= 10``.
    """
    n = check_int(n, "n", lo=1)
    # k / (n^2 - 2nk + 2k^2) rises for k < n / sqrt(2) and falls after it: the integer maximiser is
    # next to isqrt(n^2 / 2), so a few candidates give the exact maximum in O(1) for any n
    k0 = isqrt(n * n // 2)
    return max(Fraction(n * k, n * n - 2 * n * k + 2 * k * k) for k in range(max(k0 - 1, 0), min(k0 + 2, n) + 1))


def ifs_welfare_ratio_bound(n: int) -> Fraction:
    """``n (n - 1) / (n^2 - 2n + 2)``: lower bound on the SW ratio of any IFS mechanism (``n >= 2``)."""
    n = check_int(n, "n", lo=2)
    return Fraction(n * (n - 1), n * n - 2 * n + 2)
