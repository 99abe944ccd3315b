"""Phantom search: the generalized median with the best phantoms for a peak distribution.

Every generalized median ``f_p(x) = med(x_1..x_n, p_1..p_{n+1})`` is strategyproof and anonymous
(Moulin, "On strategy-proofness and single peakedness", Public Choice 1980), so designing a
strategyproof anonymous rule reduces to choosing ``n + 1`` phantom positions. We minimise

    J(p) = E_{x ~ D^n}[ (1 - w) SC(f_p(x), x) + w MC(f_p(x), x) ],
    SC(y, x) = sum_i |y - x_i|,   MC(y, x) = max_i |y - x_i|,

(``objective="social"``: w = 0; ``"max"``: w = 1; ``"mix"``: the given weight) over sorted phantoms
``p_1 <= ... <= p_{n+1}`` in ``[0, 1]``, subject to fairness axioms (Aziz, Lam, Lee, Walsh,
"Strategyproof and proportionally fair facility location", arXiv 2111.01566) written as bounds on
the phantoms:

* ``"IFS"`` (``n >= 2``): ``p_2 >= 1/n`` and ``p_n <= 1 - 1/n`` -- necessary from the profiles
  ``(0^{n-1}, 1) -> p_2`` and ``(0, 1^{n-1}) -> p_n``, and sufficient (the output then always lies in
  ``[x_(n) - 1 + 1/n, x_(1) + 1 - 1/n]``); for ``n = 1`` IFS means ``p = (0, 1)``;
* ``"unanimity"``: ``p_1 = 0`` and ``p_{n+1} = 1``;
* ``"proportionality"``, ``"UFS"``, ``"PF"``: on ``{0, 1}`` profiles with ``k`` ones the rule outputs
  ``p_{k+1}``, so proportionality forces ``p_{k+1} = k/n`` for every k: the only feasible phantoms
  are Uniform Phantom's (Freeman, Pennock, Peters, Wortman Vaughan, EC 2019), and UFS, PF imply
  proportionality. The search then returns UP itself.

Method (why coordinate descent on a fixed sample). ``J`` is estimated on one fixed sample of
profiles (common random numbers: every candidate is scored on the same draws, so comparisons are
not blurred by sampling noise, and the result is a deterministic function of the seed). With the
other ``n`` phantoms fixed, the output as a function of one phantom ``v`` is
``clip(v, L, U)`` where ``L, U`` are the ``n``-th and ``(n+1)``-th smallest of the remaining ``2n`` values
(the median of a set of ``2n + 1`` values), so one coordinate step scores a whole grid of candidate
positions at once in ``O(grid * samples * n)`` without re-sorting. The candidates are a uniform grid
plus the bounds (so ``0``, ``1``, ``1/n``, ``k/n`` are reachable exactly), refined twice around the best
value; a phantom may pass its neighbours (the rule depends on the multiset only; the axiom
bounds apply per rank after sorting); coordinates are swept in order until a sweep changes nothing. ``J`` is piecewise linear
and not convex in ``p`` in general, so the result is a coordinate-wise optimum on the sample,
started from UP's phantoms (feasible for every axiom); gradients would be zero almost everywhere on a
fixed sample, which is why we do not use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

from coopsim.core.validation import as_array, check_choice, check_family, check_float, check_int, check_sizes
from coopsim.mechanisms.facility import GeneralizedMedian, Median, UniformPhantom, satisfies, uniform_phantoms

__all__ = [
    "PHANTOM_AXIOMS",
    "PhantomSearch",
    "sample_peaks",
    "phantom_bounds",
    "search_phantoms",
    "optimal_phantoms",
    "expected_costs",
    "phantom_report",
    "format_report",
]

#: axioms the search can impose (see the module docstring for the phantom constraints)
PHANTOM_AXIOMS = ("IFS", "UFS", "PF", "proportionality", "unanimity")
_OBJECTIVES = ("social", "max", "mix")


def sample_peaks(distribution: Any, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Profiles of i.i.d. peaks, shape ``(size, n)``.

    ``distribution``: ``"uniform"``; ``("beta", a, b)`` (or ``{"beta": [a, b]}``); or an array of
    samples -- ``(S, n)`` profiles (used as given, ``size`` ignored) or ``(S,)`` peaks (resampled with
    replacement into ``(size, n)`` profiles with ``rng``).
    """
    n = check_int(n, "n", lo=1)
    size = check_int(size, "size", lo=1)
    if isinstance(distribution, str):
        check_choice(distribution, "distribution", ("uniform",))
        return rng.random((size, n))
    if isinstance(distribution, Mapping) and set(distribution) == {"beta"}:
        distribution = ("beta", *distribution["beta"])
    if isinstance(distribution, tuple) and len(distribution) == 3 and distribution[0] == "beta":
        a = check_float(distribution[1], "distribution.a", lo=0.0, lo_open=True)
        b = check_float(distribution[2], "distribution.b", lo=0.0, lo_open=True)
        return rng.beta(a, b, size=(size, n))
    arr = as_array(distribution, "distribution", ndim=(1, 2), lo=0.0, hi=1.0)
    if arr.ndim == 2:
        if arr.shape[1] != n:
            raise ValueError(f"distribution: expected sample profiles of shape (S, {n}), got {arr.shape}")
        return arr
    return arr[rng.integers(0, arr.shape[0], size=(size, n))]


def _check_axioms(axioms: Any) -> tuple[str, ...]:
    """``axioms`` as a tuple of names from :data:`PHANTOM_AXIOMS` (a lone string is one name)."""
    if isinstance(axioms, str):
        axioms = (axioms,)
    if not isinstance(axioms, Iterable):
        raise TypeError(f"axioms: expected a list of names from {list(PHANTOM_AXIOMS)}, got {axioms!r}")
    out = tuple(axioms)
    for ax in out:
        check_choice(ax, "axioms", PHANTOM_AXIOMS)
    return out


def phantom_bounds(n: int, axioms: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Per-rank bounds ``(lo, hi)``, each ``(n+1,)``, on sorted phantoms imposed by ``axioms``."""
    n = check_int(n, "n", lo=1)
    lo, hi = np.zeros(n + 1), np.ones(n + 1)
    for ax in axioms:
        check_choice(ax, "axioms", PHANTOM_AXIOMS)
        if ax in ("UFS", "PF", "proportionality"):
            lo = np.maximum(lo, uniform_phantoms(n))
            hi = np.minimum(hi, uniform_phantoms(n))
        elif ax == "unanimity" or (ax == "IFS" and n == 1):
            hi[0], lo[-1] = 0.0, 1.0
        else:  # IFS, n >= 2
            lo[1:] = np.maximum(lo[1:], 1.0 / n)
            hi[:-1] = np.minimum(hi[:-1], 1.0 - 1.0 / n)
    return lo, hi


def _costs(y: np.ndarray, x: np.ndarray, weight: float) -> np.ndarray:
    """``(1-w) SC + w MC`` at locations ``y`` ``(S,)`` for profiles ``x`` ``(S, n)``: shape ``(S,)``."""
    sc = np.abs(y[:, None] - x).sum(axis=1)
    mc = np.maximum(y - x.min(axis=1), x.max(axis=1) - y)
    return (1.0 - weight) * sc + weight * mc


def _feasible(others: np.ndarray, cands: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Which candidates ``v`` keep ``sort(others + [v])`` within the per-rank bounds ``lo <= p <= hi``.

    Inserting ``v`` at rank ``r`` keeps ``others[:r]`` at their ranks and shifts ``others[r:]`` up by
    one, so feasibility is a prefix test, a suffix test and ``lo[r] <= v <= hi[r]``: phantoms may pass
    each other (the rule depends on the multiset only), which avoids blocking by a neighbour.
    """
    k = others.size
    stay = (others >= lo[:k]) & (others <= hi[:k])
    shift = (others >= lo[1:]) & (others <= hi[1:])
    pre = np.concatenate([[True], np.cumprod(stay).astype(bool)])  # pre[r]: others[:r] fine in place
    suf = np.concatenate([np.cumprod(shift[::-1])[::-1].astype(bool), [True]])  # suf[r]: others[r:] shifted
    r = np.searchsorted(others, cands, side="left")
    return pre[r] & suf[r] & (cands >= lo[r]) & (cands <= hi[r])


def _coordinate_step(x: np.ndarray, p: np.ndarray, j: int, cands: np.ndarray, weight: float) -> tuple[float, float]:
    """Best candidate for phantom ``j`` (others fixed): ``(value, mean cost)``; ties keep the first.

    The output is ``y = clip(v, L, U)`` with ``L, U`` adjacent in the sorted other ``2n`` values, so no
    peak lies strictly between them and ``SC(y) = SC(L) + (y - L)(#{x_i <= L} - #{x_i > L})`` is linear
    on ``[L, U]``: scoring ``G`` candidates costs ``O(G S)``, not ``O(G S n)``.
    """
    n = x.shape[1]
    rest = np.sort(np.concatenate([x, np.broadcast_to(np.delete(p, j), (x.shape[0], n))], axis=1), axis=1)
    L, U = rest[:, n - 1], rest[:, n]  # n-th and (n+1)-th smallest of the other 2n values
    below = (x <= L[:, None]).sum(axis=1)
    sc_L = np.abs(L[:, None] - x).sum(axis=1)
    lo_x, hi_x = x.min(axis=1), x.max(axis=1)
    y = np.clip(cands[:, None], L, U)  # (G, S)
    mean = np.zeros(cands.shape[0])
    if weight < 1.0:
        mean += (1.0 - weight) * (sc_L.mean() + ((y - L) * (2 * below - n)).mean(axis=1))
    if weight > 0.0:
        mean += weight * np.maximum(y - lo_x, hi_x - y).mean(axis=1)
    k = int(np.argmin(mean))
    return float(cands[k]), float(mean[k])


@dataclass(frozen=True)
class PhantomSearch:
    """Result of :func:`search_phantoms`: the mechanism, its sorted phantoms and the sample objective."""

    mechanism: GeneralizedMedian
    phantoms: np.ndarray
    objective: float
    start_objective: float
    sweeps: int
    axioms: tuple[str, ...]
    weight: float


def _weight(objective: str, weight: float) -> float:
    check_choice(objective, "objective", _OBJECTIVES)
    weight = check_float(weight, "weight", lo=0.0, hi=1.0)
    if objective == "social":
        return 0.0
    if objective == "max":
        return 1.0
    return weight


def _check_samples(n: int, samples: Any, lo: int) -> int:
    """``samples`` checked (an integer >= ``lo``), with the size guard on the ``(samples, n)`` profiles."""
    samples = check_int(samples, "samples", lo=lo)
    check_sizes({"samples": samples, "n": n}, copies=6, what="the (samples, n) peak profiles")
    return samples


def search_phantoms(
    n: int,
    distribution: Any = "uniform",
    *,
    objective: str = "social",
    weight: float = 0.5,
    axioms: Sequence[str] = (),
    samples: int = 20000,
    grid: int = 101,
    max_sweeps: int = 30,
    seed: int = 0,
) -> PhantomSearch:
    """Coordinate descent on sorted phantoms minimising the sample objective (module docstring).

    ``n`` agents; ``distribution`` as in :func:`sample_peaks`; ``objective`` ``"social"`` (total
    cost), ``"max"`` (maximum cost) or ``"mix"`` (``(1 - weight) SC + weight MC``); ``axioms`` among
    :data:`PHANTOM_AXIOMS`; ``samples`` profiles drawn once with ``numpy.random.default_rng(seed)``.
    """
    n = check_int(n, "n", lo=1)
    w = _weight(objective, weight)
    grid = check_int(grid, "grid", lo=3)
    max_sweeps = check_int(max_sweeps, "max_sweeps", lo=1)
    samples = _check_samples(n, samples, 1)
    check_sizes({"grid": grid, "samples": samples}, copies=4, what="the costs of the (samples, grid) candidates")
    axioms = _check_axioms(axioms)
    lo, hi = phantom_bounds(n, axioms)
    x = sample_peaks(distribution, n, samples, np.random.default_rng(check_int(seed, "seed", lo=0)))
    p = np.clip(uniform_phantoms(n), lo, hi)
    start = float(_costs(_median_of(x, p), x, w).mean())
    best, sweeps = start, 0
    marks = np.unique(np.concatenate([lo, hi, [0.0, 1.0]]))  # bound values stay reachable exactly
    for sweeps in range(1, max_sweeps + 1):
        moved = False
        for j in range(n + 1):
            v, val, width = p[j], best, 1.0
            for level in range(3):  # uniform grid on [0, 1], then two refinements around the incumbent
                c_lo, c_hi = (0.0, 1.0) if level == 0 else (max(0.0, v - width), min(1.0, v + width))
                cands = np.unique(np.concatenate([np.linspace(c_lo, c_hi, grid), marks]))
                cands = cands[_feasible(np.delete(p, j), cands, lo, hi) & (cands != v)]
                cands = np.concatenate([[v], cands])  # the incumbent first: ties keep it
                v2, val2 = _coordinate_step(x, p, j, cands, w)
                if val2 < val - 1e-12:
                    v, val = v2, val2
                width = 2.0 * (c_hi - c_lo) / (grid - 1)
            if v != p[j]:
                p[j], best, moved = v, val, True
                p.sort()
        if not moved:
            break
    return PhantomSearch(GeneralizedMedian(p), p.copy(), best, start, sweeps, axioms, w)


def optimal_phantoms(n: int, distribution: Any = "uniform", **kwargs: Any) -> GeneralizedMedian:
    """The :class:`GeneralizedMedian` found by :func:`search_phantoms` (same arguments)."""
    return search_phantoms(n, distribution, **kwargs).mechanism


def _median_of(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    return GeneralizedMedian(p)(x)


def expected_costs(mechanism: Any, peaks: np.ndarray) -> dict[str, float]:
    """Mean and standard error of SC and MC of ``mechanism`` on peak profiles ``(S, n)`` (truthful reports)."""
    y = np.asarray(mechanism(peaks), dtype=np.float64)
    sc = np.abs(y[:, None] - peaks).sum(axis=1)
    mc = np.maximum(y - peaks.min(axis=1), peaks.max(axis=1) - y)
    S = peaks.shape[0]
    return {
        "social_cost": float(sc.mean()),
        "social_cost_se": float(sc.std(ddof=1) / np.sqrt(S)) if S > 1 else float("nan"),
        "max_cost": float(mc.mean()),
        "max_cost_se": float(mc.std(ddof=1) / np.sqrt(S)) if S > 1 else float("nan"),
    }


def _axiom_profiles(n: int, peaks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Profiles on which axiom verdicts are checked: every ``{0,1}^n`` profile (n <= 12), uniform
    random profiles, clustered profiles (groups sharing a peak), and the evaluation sample."""
    parts = [rng.random((2000, n)), peaks[:5000]]
    if n <= 12:
        parts.append(np.array(list(product((0.0, 1.0), repeat=n))))
    centers = rng.random((2000, 2))
    parts.append(np.where(rng.random((2000, n)) < 0.5, centers[:, :1], centers[:, 1:]))
    return np.vstack(parts)


def phantom_report(
    n: int,
    distribution: Any = "uniform",
    mechanisms: Mapping[str, Any] | None = None,
    *,
    samples: int = 50000,
    seed: int = 1,
    axioms: Sequence[str] = ("IFS", "UFS", "PF", "proportionality", "unanimity"),
) -> list[dict[str, Any]]:
    """Report card rows: expected SC and MC (with standard errors) under ``distribution`` and axiom verdicts.

    ``mechanisms`` maps names to facility mechanisms (default: Uniform Phantom and the median);
    every row is evaluated on the same fresh sample (``seed``), so differences between rows are
    paired. Verdicts come from :func:`~coopsim.mechanisms.facility.satisfies` on the profiles of
    ``_axiom_profiles`` (a verdict ``True`` means no violation was found there).
    """
    n = check_int(n, "n", lo=1)
    rng = np.random.default_rng(check_int(seed, "seed", lo=0))
    peaks = sample_peaks(distribution, n, _check_samples(n, samples, 2), rng)
    check_sizes({"n": n}, extra=2000 * 4, copies=4, what="the axiom-check profiles")
    axioms = _check_axioms(axioms)
    if mechanisms is not None and not isinstance(mechanisms, Mapping):
        raise TypeError(f"mechanisms: expected a dict of name -> facility mechanism, got {mechanisms!r}")
    mechs = dict(mechanisms) if mechanisms is not None else {"uniform_phantom": UniformPhantom(), "median": Median()}
    for key, mech in mechs.items():
        if not callable(mech):
            raise TypeError(f"mechanisms: {key!r} is not a facility mechanism (a callable on reports), got {mech!r}")
        check_family(mech, "facility", "mechanisms")
    checks = _axiom_profiles(n, peaks, rng)
    rows = []
    for name, mech in mechs.items():
        row: dict[str, Any] = {"mechanism": name}
        if hasattr(mech, "phantom_positions"):
            row["phantoms"] = [round(float(v), 4) for v in mech.phantom_positions(n)]
        row.update(expected_costs(mech, peaks))
        y = mech(checks)
        row.update({ax: bool(satisfies(ax, checks, y).all()) for ax in axioms})
        rows.append(row)
    return rows


def format_report(rows: Sequence[Mapping[str, Any]]) -> str:
    """Plain-text table of :func:`phantom_report` rows (one line per mechanism)."""
    if not rows:
        return ""
    keys = list(rows[0])
    cells = [[_fmt(r.get(k)) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(wd) for k, wd in zip(keys, widths))]
    lines += ["  ".join(c.ljust(wd) for c, wd in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    if isinstance(v, list):
        return "(" + ", ".join(f"{u:g}" for u in v) + ")"
    return str(v)
