"""Comprehension gates: robustness tiers, budget ceilings, temporal decay, spot audits, chains.

Implements the gate side of the comprehension-gated agent economy (CGAE) of R. Baxi,
*The Comprehension-Gated Agent Economy*, arXiv:2603.15639 (2026), with the defaults of the
author's reference code ``rb125/cgae``.

Everything is batched over leading axes and works on plain NumPy arrays:

* per-dimension step functions ``g_i(x) = max{k : x >= theta_i^k}`` (inclusive boundary, exact
  float64 comparison, optional basis-point rounding);
* the weakest-link gate ``f(R) = min(g_CC, g_ER, g_AS)`` with the IH rule (``force_T0``: T0 when
  IH* < theta_IH, strict);
* exponential decay ``R_eff = exp(-lambda * dt) * R_hat``;
* the spot-audit hazard ``1 - exp(-mu_k * dt)`` ("elapsed") or ``1 - exp(-mu_k)`` ("poisson") and
  the exact expected time to the first audit;
* chain tier ``min_j f(R(A_j))`` (Collusion Resistance) and a threshold schedule that may only rise;
* the three gate mechanisms registered by name: ``weakest_link_gate``, ``capability_gate`` and
  ``no_gate`` (the two counterfactuals).

Property checks (Bounded Exposure, Incentive-Compatible Robustness Investment, Monotonic Safety and
its counterexample) live in :mod:`coopsim.mechanisms.gate_properties`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from coopsim.mechanisms.base import Mechanism
from coopsim.mechanisms.registry import register

from coopsim.core.validation import (
    ParameterError,
    as_array,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_rng,
    check_size,
)

#: names of the three primary gate dimensions, in order
DIMENSIONS = ("CC", "ER", "AS")
#: default number of tiers above T0 [C]
K_DEFAULT = 5
#: default thresholds [C]: rows CC, ER, AS; columns T0..T5
DEFAULT_THRESHOLDS = np.array(
    [
        [0.00, 0.30, 0.50, 0.65, 0.80, 0.90],
        [0.00, 0.30, 0.50, 0.65, 0.80, 0.90],
        [0.00, 0.25, 0.45, 0.60, 0.75, 0.85],
    ]
)
#: default budget ceilings B_0..B_5 (currency free) [C]
DEFAULT_CEILINGS = np.array([0.0, 0.01, 0.1, 1.0, 10.0, 100.0])
#: default spot-audit rates mu_0..mu_5 [C]
DEFAULT_AUDIT_RATES = np.array([0.0, 0.005, 0.01, 0.02, 0.04, 0.08])
#: default capability thresholds of the capability-gated counterfactual [DES]
DEFAULT_CAPABILITY_THRESHOLDS = np.array([0.0, 0.30, 0.50, 0.65, 0.80, 0.90])
#: default IH* threshold [C]
IH_THRESHOLD = 0.5
AUDIT_HAZARDS = ("elapsed", "poisson")
IH_RULES = ("force_T0", "reaudit")


# --------------------------------------------------------------------------------------------
# validation of tables
# --------------------------------------------------------------------------------------------
def validate_thresholds(thresholds: Any = None, name: str = "thresholds") -> np.ndarray:
    """Return a validated ``(3, K + 1)`` threshold table (rows CC, ER, AS).

    Each row must hold K + 1 finite values with ``0 = theta^0 < theta^1 < ... < theta^K <= 1``.
    A 1-D table of K + 1 values is used for all three dimensions. ``ValueError`` names the
    dimension that breaks a rule.
    """
    if thresholds is None:
        return DEFAULT_THRESHOLDS.copy()
    arr = as_array(thresholds, name, ndim=(1, 2))
    if arr.ndim == 1:
        arr = np.tile(arr, (3, 1))
    if arr.shape[0] != 3 or arr.shape[1] < 2:
        raise ValueError(f"{name}: expected shape (3, K + 1) with K >= 1 (rows CC, ER, AS), got {arr.shape}")
    for d, row in zip(DIMENSIONS, arr):
        if row[0] != 0.0:
            raise ValueError(f"{name}[{d}]: expected the first threshold (T0) to be 0, got {row[0]}")
        if np.any(np.diff(row) <= 0):
            raise ValueError(f"{name}[{d}]: expected strictly increasing thresholds, got {row.tolist()}")
        if row[-1] > 1.0:
            raise ValueError(f"{name}[{d}]: expected thresholds <= 1, got {row[-1]}")
    return arr


def validate_ceilings(ceilings: Any = None, n_tiers: int = K_DEFAULT + 1, name: str = "ceilings") -> np.ndarray:
    """Return validated budget ceilings ``B_0 = 0 < B_1 < ... < B_K`` (``n_tiers = K + 1`` values).

    ``B_k`` bounds the sum of penalties of an agent's active contracts at tier ``T_k``; ``inf``
    is allowed from some tier on (no ceiling there; all ``inf`` is the ungated counterfactual): the
    finite ceilings increase strictly and every ceiling after an ``inf`` is ``inf``.
    """
    if ceilings is None:
        if n_tiers != len(DEFAULT_CEILINGS):
            raise ValueError(f"{name}: no default for {n_tiers} tiers; pass {n_tiers} ceilings")
        return DEFAULT_CEILINGS.copy()
    arr = np.asarray(as_array(ceilings, name, ndim=1, allow_nan=True), dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name}: expected no NaN, got {arr.tolist()}")
    if arr.shape[0] != n_tiers:
        raise ValueError(f"{name}: expected {n_tiers} values (B_0..B_K), got {arr.shape[0]}")
    if arr[0] != 0.0:
        raise ValueError(f"{name}: expected B_0 = 0, got {arr[0]}")
    finite = arr[np.isfinite(arr)]
    inf_from = int(np.argmax(np.isinf(arr))) if np.isinf(arr).any() else len(arr)
    if np.any(np.diff(finite) <= 0) or not np.all(np.isinf(arr[inf_from:])) or np.any(arr == -np.inf):
        raise ValueError(
            f"{name}: expected strictly increasing ceilings (inf allowed from some tier on), got {arr.tolist()}"
        )
    return arr


def validate_rates(rates: Any = None, n_tiers: int = K_DEFAULT + 1, name: str = "rates") -> np.ndarray:
    """Return validated spot-audit rates ``mu_0..mu_K`` (finite, >= 0, non-decreasing in the tier)."""
    if rates is None:
        if n_tiers != len(DEFAULT_AUDIT_RATES):
            raise ValueError(f"{name}: no default for {n_tiers} tiers; pass {n_tiers} rates")
        return DEFAULT_AUDIT_RATES.copy()
    arr = as_array(rates, name, ndim=1, lo=0.0)
    if arr.shape[0] < 2:
        raise ParameterError(name, f"{name}: expected at least 2 rates (mu_0..mu_K, K >= 1), got {arr.shape[0]}")
    if arr.shape[0] != n_tiers:
        raise ValueError(f"{name}: expected {n_tiers} values (mu_0..mu_K), got {arr.shape[0]}")
    if np.any(np.diff(arr) < 0):
        raise ValueError(f"{name}: expected rates non-decreasing in the tier, got {arr.tolist()}")
    return arr


def _scores(robustness: Any, name: str = "robustness", basis_points: bool = False) -> np.ndarray:
    arr = as_array(robustness, name, lo=0.0, hi=1.0)
    if arr.ndim == 0 or arr.shape[-1] != 3:
        raise ValueError(f"{name}: expected scores (CC, ER, AS) on the last axis (shape (..., 3)), got {arr.shape}")
    return np.round(arr * 10000.0) / 10000.0 if basis_points else arr


# --------------------------------------------------------------------------------------------
# the gate function
# --------------------------------------------------------------------------------------------
def dimension_tiers(
    robustness: Any, thresholds: Any = None, basis_points: bool = False, *, validate: bool = True
) -> np.ndarray:
    """Per-dimension tiers ``g_i(x_i) = max{k in 0..K : x_i >= theta_i^k}``, shape ``(..., 3)``.

    The comparison is inclusive and exact in float64 (``basis_points=True`` first rounds scores and
    thresholds to integer basis points, as the on-chain variant does). ``validate=False`` is the
    trusted fast path for callers that hold a validated table and scores in [0, 1] (the agent
    economy's step): no checks, same numbers.
    """
    if not check_bool(validate, "validate"):
        return _dimension_tiers(robustness, thresholds, basis_points)
    th = validate_thresholds(thresholds)
    bp = check_bool(basis_points, "basis_points")
    return _dimension_tiers(_scores(robustness), th, bp)


def _dimension_tiers(x: np.ndarray, th: np.ndarray, basis_points: bool) -> np.ndarray:
    """:func:`dimension_tiers` of checked inputs (scores ``x`` in [0, 1], a validated table ``th``)."""
    if not basis_points:  # thresholds start at 0 and x >= 0: the count of passed thresholds is >= 1
        return np.add.reduce(x[..., None] >= th, axis=-1) - 1  # a bool sum (ndarray.sum adds Python layers)
    x = np.round(x * 10000.0) / 10000.0
    th = np.round(th * 10000.0) / 10000.0
    out = np.empty(x.shape, dtype=np.int64)
    for d in range(3):  # side="right" makes x = theta qualify
        out[..., d] = np.searchsorted(th[d], x[..., d], side="right") - 1
    return out


def weakest_link_tier(
    robustness: Any,
    ih: Any = None,
    thresholds: Any = None,
    ih_threshold: float = IH_THRESHOLD,
    basis_points: bool = False,
    *,
    validate: bool = True,
) -> np.ndarray:
    """Weakest-link tier ``f(R) = min_i g_i(R_i)`` with the ``force_T0`` IH rule.

    ``robustness`` has (CC, ER, AS) on its last axis; ``ih`` (IH* = 1 - IH, same leading shape)
    forces tier 0 where ``IH* < ih_threshold`` (strict: IH* equal to the threshold passes).
    Returns an int64 array of the leading shape. Capability never enters. ``validate=False``: the
    trusted fast path of :func:`dimension_tiers` (validated table, scores and IH* in [0, 1]).
    """
    if not check_bool(validate, "validate"):
        return _weakest_link_tier(robustness, ih, thresholds, ih_threshold, basis_points)
    check_bool(basis_points, "basis_points")
    tiers = dimension_tiers(robustness, thresholds, basis_points).min(axis=-1)
    if ih is not None:
        theta = check_float(ih_threshold, "ih_threshold", lo=0.0, hi=1.0)
        ih_arr = as_array(ih, "ih", lo=0.0, hi=1.0)
        if ih_arr.shape != tiers.shape and ih_arr.ndim != 0:
            raise ValueError(f"ih: expected shape {tiers.shape} (robustness without its last axis), got {ih_arr.shape}")
        tiers = np.where(ih_arr < theta, 0, tiers)
    return tiers.astype(np.int64)


def _weakest_link_tier(
    x: np.ndarray, ih: np.ndarray | None, th: np.ndarray, ih_threshold: float, basis_points: bool
) -> np.ndarray:
    """:func:`weakest_link_tier` of checked inputs: ``min_i g_i(x_i)``, T0 where ``ih < ih_threshold``."""
    tiers = np.minimum.reduce(_dimension_tiers(x, th, basis_points), axis=-1)
    if ih is not None:
        tiers = np.where(ih < ih_threshold, 0, tiers)
    return tiers.astype(np.int64, copy=False)


def gate_detail(
    robustness: Any, ih: Any = None, thresholds: Any = None, ih_threshold: float = IH_THRESHOLD
) -> dict[str, np.ndarray]:
    """Per-dimension tiers, tier, binding dimension and gap to the next tier.

    binding = first of (CC, ER, AS) whose ``g_i`` equals the primary tier ``min_i g_i``;
    ``gap = theta_binding^{k+1} - score_binding`` (NaN at the top tier). ``tier`` includes the IH rule.
    """
    th = validate_thresholds(thresholds)
    x = _scores(robustness)
    g = dimension_tiers(x, th)
    primary = g.min(axis=-1)
    binding = np.argmax(g == primary[..., None], axis=-1)
    K = th.shape[1] - 1
    nxt = np.minimum(primary + 1, K)
    theta_next = th[binding, nxt]
    score = np.take_along_axis(x, binding[..., None], axis=-1)[..., 0]
    gap = np.where(primary >= K, np.nan, theta_next - score)
    tier = weakest_link_tier(x, ih, th, ih_threshold)
    return {"dimension_tiers": g, "tier": tier, "binding": binding, "gap": gap}


def gap_report(robustness: Any, target_tier: int, thresholds: Any = None) -> np.ndarray:
    """Upgrade gap report ``gap_i = max(0, theta_i^k - R_i)`` per primary dimension, shape ``(..., 3)``."""
    th = validate_thresholds(thresholds)
    k = check_int(target_tier, "target_tier", lo=0, hi=th.shape[1] - 1)
    return np.maximum(0.0, th[:, k] - _scores(robustness))


def capability_tier(capability: Any, thresholds: Any = None) -> np.ndarray:
    """Capability-gated tier (the paper's contrast case): ``max{k : c >= theta_c^k}``."""
    th = (
        DEFAULT_CAPABILITY_THRESHOLDS
        if thresholds is None
        else validate_thresholds(thresholds, "capability_thresholds")[0]
    )
    c = as_array(capability, "capability", lo=0.0, hi=1.0)
    return ((c[..., None] >= th).sum(axis=-1) - 1).astype(np.int64)


def ceiling(tier: Any, ceilings: Any = None) -> np.ndarray:
    """Budget ceiling ``B_{tier}`` of each tier."""
    table = validate_ceilings(ceilings, K_DEFAULT + 1 if ceilings is None else len(np.atleast_1d(ceilings)))
    t = as_array(tier, "tier", dtype=np.int64, lo=0, hi=len(table) - 1)
    return table[t]


# --------------------------------------------------------------------------------------------
# temporal decay
# --------------------------------------------------------------------------------------------
def decay_factor(elapsed: Any, decay_rate: float, *, validate: bool = True) -> np.ndarray:
    """Decay multiplier ``delta(dt) = exp(-lambda * dt)`` (``dt >= 0``, ``lambda >= 0``;
    ``validate=False`` trusts both)."""
    if not check_bool(validate, "validate"):  # the product in float64 (any input dtype), one call
        return np.exp(np.multiply(-decay_rate, elapsed, dtype=np.float64))
    lam = check_float(decay_rate, "decay_rate", lo=0.0)
    dt = as_array(elapsed, "elapsed", lo=0.0)
    return np.exp(-lam * dt)


def effective_robustness(certified: Any, elapsed: Any, decay_rate: float) -> np.ndarray:
    """``R_eff = exp(-lambda * dt) * R_hat`` componentwise; ``elapsed`` has ``certified``'s leading shape."""
    r = as_array(certified, "certified", lo=0.0, hi=1.0)
    return r * decay_factor(elapsed, decay_rate)[..., None]


def time_to_threshold(score: Any, threshold: Any, decay_rate: float) -> np.ndarray:
    """Decay time ``dt* = ln(s / theta) / lambda`` after which ``s`` falls below ``theta`` (0 if ``s <= theta``).

    The tier is lost at the first integer step with ``dt > dt*`` (inclusive boundary); ``inf``
    when ``lambda = 0`` and ``s > theta`` or ``theta = 0``.
    """
    lam = check_float(decay_rate, "decay_rate", lo=0.0)
    s = as_array(score, "score", lo=0.0, hi=1.0)
    th = as_array(threshold, "threshold", lo=0.0, hi=1.0)
    s, th = np.broadcast_arrays(s, th)
    out = np.full(s.shape, np.inf)
    below = s <= th
    out[below & (th > 0)] = 0.0
    fin = ~below & (th > 0) & (lam > 0)
    out[fin] = np.log(s[fin] / th[fin]) / lam
    return out[()] if out.ndim == 0 else out


def tier_loss_time(
    certified: Any,
    ih: Any = None,
    thresholds: Any = None,
    decay_rate: float = 0.01,
    ih_threshold: float = IH_THRESHOLD,
    decay_ih: bool = True,
) -> np.ndarray:
    """Decay time after which an agent certified at ``R_hat`` is T0: ``min_i ln(R_i/theta_i^1)/lambda``.

    Under ``force_T0`` with ``decay_ih`` the IH* bound ``ln(IH*/theta_IH)/lambda`` applies if earlier.
    The agent is T0 for every ``dt`` strictly greater than the returned value.
    """
    th = validate_thresholds(thresholds)
    r = _scores(certified, "certified")
    ih_threshold = check_float(ih_threshold, "ih_threshold", lo=0.0, hi=1.0)
    decay_ih = check_bool(decay_ih, "decay_ih")
    t = time_to_threshold(r, th[:, 1], decay_rate).min(axis=-1)
    if ih is not None and decay_ih:
        t = np.minimum(t, time_to_threshold(ih, np.full(np.shape(ih), ih_threshold), decay_rate))
    return t


# --------------------------------------------------------------------------------------------
# spot audits
# --------------------------------------------------------------------------------------------
def _rate_table(rates: Any) -> np.ndarray:
    """Validated audit rates; a given table sets the number of tiers (``K_DEFAULT + 1`` for the default)."""
    return validate_rates(rates, K_DEFAULT + 1 if rates is None else len(np.atleast_1d(rates)))


def audit_probability(
    tier: Any, elapsed: Any, rates: Any = None, hazard: str = "elapsed", *, validate: bool = True
) -> np.ndarray:
    """Per-step spot-audit probability of an agent at ``tier``.

    ``"elapsed"`` [P]: ``1 - exp(-mu_k * (t - t_last_audit))``; ``"poisson"``: ``1 - exp(-mu_k)``.
    T0 is never audited (``mu_0 = 0`` by default). ``validate=False`` trusts a validated rate table,
    integer tiers in range and ``elapsed >= 0`` (float).
    """
    if not check_bool(validate, "validate"):
        mu = rates[tier]
        return -np.expm1(-mu) * np.ones_like(elapsed) if hazard == "poisson" else -np.expm1(-mu * elapsed)
    mu = _rate_table(rates)
    check_choice(hazard, "hazard", AUDIT_HAZARDS)
    k = as_array(tier, "tier", dtype=np.int64, lo=0, hi=len(mu) - 1)
    dt = as_array(elapsed, "elapsed", lo=0.0)
    if hazard == "poisson":
        return np.broadcast_to(-np.expm1(-mu[k]), np.broadcast_shapes(k.shape, dt.shape)).copy()
    return -np.expm1(-mu[k] * dt)


def expected_time_to_audit(tier: Any, rates: Any = None, hazard: str = "elapsed", tol: float = 1e-15) -> np.ndarray:
    """Exact mean number of steps to the first spot audit at a fixed tier, starting from ``dt = 0``.

    With per-step audit probabilities ``h_j`` at steps ``j = 1, 2, ...`` the survival after ``n``
    steps is ``S(n) = prod_{j<=n} (1 - h_j)`` and ``E[T] = sum_{n>=0} S(n)``.
    "elapsed": ``S(n) = exp(-mu * n (n + 1) / 2)`` (a Gaussian tail, mean ~ sqrt(pi / (2 mu)));
    "poisson": ``E[T] = 1 / (1 - exp(-mu))`` (~ 1/mu). ``inf`` when ``mu = 0``.
    """
    mu_table = _rate_table(rates)
    check_choice(hazard, "hazard", AUDIT_HAZARDS)
    tol = check_float(tol, "tol", lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    k = as_array(tier, "tier", dtype=np.int64, lo=0, hi=len(mu_table) - 1)
    per_tier = np.full(mu_table.shape, np.inf)  # E[T] of each tier; looped over the K + 1 tiers only
    for j, m in enumerate(mu_table):
        if m <= 0:
            continue
        if hazard == "poisson":
            per_tier[j] = 1.0 / -np.expm1(-m)
        else:
            n_max = int(np.ceil(np.sqrt(2.0 * -np.log(tol) / m))) + 2
            n = np.arange(n_max + 1, dtype=np.float64)
            per_tier[j] = float(np.exp(-m * n * (n + 1) / 2.0).sum())
    return per_tier[k]


def sample_audits(
    rng: np.random.Generator, tier: np.ndarray, elapsed: np.ndarray, rates: Any = None, hazard: str = "elapsed"
) -> np.ndarray:
    """Bernoulli draw of this step's spot audits (boolean array of ``tier``'s shape)."""
    check_rng(rng)
    p = audit_probability(tier, elapsed, rates, hazard)
    return rng.random(p.shape) < p


# --------------------------------------------------------------------------------------------
# chains, schedules, market and safety
# --------------------------------------------------------------------------------------------
def chain_tier(tiers: Any, axis: int = -1) -> np.ndarray:
    """Tier of a delegation chain ``f_chain = min_j f(R(A_j))`` along ``axis``; an empty chain is T0."""
    arr = as_array(tiers, "tiers", dtype=np.int64, lo=0)
    if arr.ndim == 0:
        return arr
    axis = check_int(axis, "axis", lo=-arr.ndim, hi=arr.ndim - 1)
    if arr.shape[axis] == 0:
        shape = list(arr.shape)
        del shape[axis]
        return np.zeros(shape, dtype=np.int64)
    return arr.min(axis=axis)


def chain_tier_from_robustness(
    robustness: Any, thresholds: Any = None, ih: Any = None, ih_threshold: float = IH_THRESHOLD
) -> np.ndarray:
    """Chain tier from members' scores ``(..., m, 3)``: ``min_{i,j} g_i(R_i(A_j))`` (T0 if any member fails IH)."""
    return chain_tier(weakest_link_tier(robustness, ih, thresholds, ih_threshold))


class ThresholdSchedule:
    """A threshold table that may only rise over time (decreases raise ``ValueError``).

    ``update(t, thresholds)`` installs a new table from step ``t`` on; ``at(t)`` returns the table in
    force at ``t``. Used for T3d: with re-certification the safety floor ``min_i theta_i^1`` is
    non-decreasing.
    """

    def __init__(self, thresholds: Any = None) -> None:
        self._times: list[int] = [0]
        self._tables: list[np.ndarray] = [validate_thresholds(thresholds)]

    def update(self, t: int, thresholds: Any) -> None:
        """Raise the thresholds from step ``t`` on (every entry >= the current one)."""
        t = check_int(t, "t", lo=self._times[-1])
        new = validate_thresholds(thresholds)
        cur = self._tables[-1]
        if new.shape != cur.shape:
            raise ValueError(f"thresholds: expected shape {cur.shape}, got {new.shape}")
        if np.any(new < cur):
            d, k = np.argwhere(new < cur)[0]
            raise ValueError(
                f"thresholds[{DIMENSIONS[d]}]: the schedule may only rise; T{k} would fall from {cur[d, k]} to {new[d, k]}"
            )
        self._times.append(t)
        self._tables.append(new)

    def at(self, t: int) -> np.ndarray:
        """Threshold table in force at step ``t``."""
        t = check_int(t, "t", lo=0)
        i = int(np.searchsorted(self._times, t, side="right")) - 1
        return self._tables[max(i, 0)]

    @property
    def current(self) -> np.ndarray:
        return self._tables[-1]

    def floor(self, t: int | None = None) -> float:
        """Safety floor ``min_i theta_i^1`` of the table in force."""
        table = self.current if t is None else self.at(t)
        return float(table[:, 1].min())


def uniform_share_profit(tiers: Any, demand: Any, mean_reward: Any) -> np.ndarray:
    """Uniform-share profit [P Def 16]: ``pi(A) = sum_k 1[f(A) >= k] D_k E[r_k] / N_k``.

    ``tiers`` ``(..., N)``, ``demand`` and ``mean_reward`` ``(K,)`` for tiers 1..K; ``N_k`` counts
    agents at tier >= k in the same population (last axis).
    """
    t = as_array(tiers, "tiers", dtype=np.int64, lo=0)
    D = as_array(demand, "demand", ndim=1, lo=0.0)
    r = as_array(mean_reward, "mean_reward", ndim=1, lo=0.0)
    if D.shape != r.shape:
        raise ValueError(f"mean_reward: expected shape {D.shape} (as demand), got {r.shape}")
    ks = np.arange(1, D.shape[0] + 1)
    qual = t[..., None] >= ks  # (..., N, K)
    n_k = qual.sum(axis=-2, keepdims=True)
    share = np.where(qual, (D * r) / np.maximum(n_k, 1), 0.0)
    return share.sum(axis=-1)


def aggregate_safety(exposure: Any, weakest: Any, axis: int = -1, *, validate: bool = True) -> np.ndarray:
    """Aggregate safety [P Def 17]: ``S = 1 - sum E(A)(1 - Rbar(A)) / sum E(A)`` (1 when the weight is 0).

    ``exposure`` are the weights (exposure, or ceilings in "potential" mode), ``weakest`` the
    weakest-link effective robustness ``Rbar = min(CC, ER, AS)``. ``validate=False`` trusts
    non-negative float weights and ``Rbar`` in [0, 1].
    """
    w = as_array(exposure, "exposure", lo=0.0) if check_bool(validate, "validate") else exposure
    rb = as_array(weakest, "weakest", lo=0.0, hi=1.0) if validate else weakest
    total = w.sum(axis=axis)
    num = (w * (1.0 - rb)).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = 1.0 - num / np.where(total > 0, total, 1.0)
    return np.where(total > 0, s, 1.0)


def arch_hash(config: dict) -> str:
    """Architecture hash [C]: first 16 hex chars of SHA-256 of the canonical JSON of ``config``."""
    import hashlib
    import json

    if not isinstance(config, dict):
        raise TypeError(f"config: expected a dict, got {type(config).__name__}")
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# mechanisms
# --------------------------------------------------------------------------------------------
class Gate(Mechanism):
    """Base of the tier gates: ``gate(robustness, ih=None, capability=None) -> tier`` plus ``ceilings``."""

    family: ClassVar[str] = "gates"

    #: which hidden attribute the gate reads ("robustness", "capability" or "none")
    reads: str = "robustness"
    ceilings: np.ndarray
    n_tiers: int

    def __call__(self, robustness: Any, ih: Any = None, capability: Any = None) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def tier(self, robustness: Any, ih: Any = None, capability: Any = None) -> np.ndarray:
        """The tier of trusted inputs (validated arrays, scores in [0, 1]): the same numbers as
        calling the gate, without re-validating its tables on every call (an env's step path)."""
        return self(robustness, ih, capability)

    def ceiling(self, tier: Any) -> np.ndarray:
        """Budget ceiling of each tier."""
        t = as_array(tier, "tier", dtype=np.int64, lo=0, hi=self.n_tiers - 1)
        return self.ceilings[t]


@register("weakest_link_gate")
class WeakestLinkGate(Gate):
    """The CGAE gate: ``f(R) = min(g_CC, g_ER, g_AS)`` with the IH rule, ceilings, decay and audit rates.

    Parameters: ``thresholds`` (3, K+1), ``ceilings`` (K+1,), ``ih_threshold``, ``ih_rule``
    ("force_T0" applies the IH rule inside the gate; "reaudit" leaves IH* out of the gate and lets
    the caller trigger a re-audit), ``decay_rate`` lambda, ``audit_rates`` mu_k, ``audit_hazard``,
    ``basis_points``.
    """

    claims = frozenset({"monotone", "deterministic"})

    def __init__(
        self,
        thresholds: Any = None,
        ceilings: Any = None,
        ih_threshold: float = IH_THRESHOLD,
        ih_rule: str = "force_T0",
        decay_rate: float = 0.01,
        audit_rates: Any = None,
        audit_hazard: str = "elapsed",
        basis_points: bool = False,
    ) -> None:
        self.thresholds = validate_thresholds(thresholds)
        self.n_tiers = self.thresholds.shape[1]
        self.ceilings = validate_ceilings(ceilings, self.n_tiers)
        self.ih_threshold = check_float(ih_threshold, "ih_threshold", lo=0.0, hi=1.0)
        self.ih_rule = check_choice(ih_rule, "ih_rule", IH_RULES)
        self.decay_rate = check_float(decay_rate, "decay_rate", lo=0.0)
        self.audit_rates = validate_rates(audit_rates, self.n_tiers, "audit_rates")
        self.audit_hazard = check_choice(audit_hazard, "audit_hazard", AUDIT_HAZARDS)
        self.basis_points = check_bool(basis_points, "basis_points")

    def __call__(self, robustness: Any, ih: Any = None, capability: Any = None) -> np.ndarray:
        """Tier of each agent; ``capability`` is accepted and ignored (T2a)."""
        use_ih = ih if self.ih_rule == "force_T0" else None
        return weakest_link_tier(robustness, use_ih, self.thresholds, self.ih_threshold, self.basis_points)

    def tier(self, robustness: Any, ih: Any = None, capability: Any = None) -> np.ndarray:
        use_ih = ih if self.ih_rule == "force_T0" else None
        return _weakest_link_tier(robustness, use_ih, self.thresholds, self.ih_threshold, self.basis_points)

    def detail(self, robustness: Any, ih: Any = None) -> dict[str, np.ndarray]:
        return gate_detail(robustness, ih if self.ih_rule == "force_T0" else None, self.thresholds, self.ih_threshold)

    def effective_tier(self, certified: Any, ih: Any, elapsed: Any, decay_ih: bool = True) -> np.ndarray:
        """Tier of the decayed scores ``f(exp(-lambda dt) R_hat)`` (IH* decayed too when ``decay_ih``)."""
        decay_ih = check_bool(decay_ih, "decay_ih")
        d = decay_factor(elapsed, self.decay_rate)
        r = as_array(certified, "certified", lo=0.0, hi=1.0) * d[..., None]
        h = None if ih is None else as_array(ih, "ih", lo=0.0, hi=1.0) * (d if decay_ih else 1.0)
        return self(r, h)

    def audit_probability(self, tier: Any, elapsed: Any, *, validate: bool = True) -> np.ndarray:
        """Per-step spot-audit probability with this gate's rates and hazard (:func:`audit_probability`)."""
        return audit_probability(tier, elapsed, self.audit_rates, self.audit_hazard, validate=validate)


@register("capability_gate")
class CapabilityGate(Gate):
    """Counterfactual: tiers from capability alone, ``max{k : c >= theta_c^k}`` (robustness ignored)."""

    reads = "capability"
    claims = frozenset({"monotone", "deterministic"})

    def __init__(self, capability_thresholds: Any = None, ceilings: Any = None) -> None:
        th = DEFAULT_CAPABILITY_THRESHOLDS if capability_thresholds is None else capability_thresholds
        self.capability_thresholds = validate_thresholds(th, "capability_thresholds")[0]
        self.n_tiers = len(self.capability_thresholds)
        self.ceilings = validate_ceilings(ceilings, self.n_tiers)

    def __call__(self, robustness: Any = None, ih: Any = None, capability: Any = None) -> np.ndarray:
        if capability is None:
            raise ValueError("capability: the capability gate needs capability scores, got None")
        return capability_tier(capability, self.capability_thresholds)


@register("no_gate")
class NoGate(Gate):
    """Counterfactual: an ungated market; every agent is at the top tier with no exposure ceiling."""

    reads = "none"
    claims = frozenset({"monotone", "deterministic"})

    def __init__(self, n_tiers: int = K_DEFAULT + 1) -> None:
        self.n_tiers = check_int(n_tiers, "n_tiers", lo=2)
        check_size("n_tiers", self.n_tiers, what="the ceiling table")
        self.ceilings = np.concatenate([[0.0], np.full(self.n_tiers - 1, np.inf)])

    def __call__(self, robustness: Any = None, ih: Any = None, capability: Any = None) -> np.ndarray:
        if robustness is not None:
            shape = _scores(robustness).shape[:-1]
        elif capability is not None:
            shape = as_array(capability, "capability", lo=0.0, hi=1.0).shape
        else:
            raise ParameterError(
                "robustness", "robustness: the ungated market needs robustness or capability to know the shape"
            )
        return np.full(shape, self.n_tiers - 1, dtype=np.int64)

    def tier(self, robustness: Any = None, ih: Any = None, capability: Any = None) -> np.ndarray:
        """The top tier for every agent of trusted inputs (no validation: an env's step path)."""
        shape = np.shape(robustness)[:-1] if robustness is not None else np.shape(capability)
        return np.full(shape, self.n_tiers - 1, dtype=np.int64)


__all__ = [
    "AUDIT_HAZARDS",
    "IH_RULES",
    "IH_THRESHOLD",
    "K_DEFAULT",
    "DIMENSIONS",
    "DEFAULT_THRESHOLDS",
    "DEFAULT_CEILINGS",
    "DEFAULT_AUDIT_RATES",
    "DEFAULT_CAPABILITY_THRESHOLDS",
    "validate_thresholds",
    "validate_ceilings",
    "validate_rates",
    "dimension_tiers",
    "weakest_link_tier",
    "gate_detail",
    "gap_report",
    "capability_tier",
    "ceiling",
    "decay_factor",
    "effective_robustness",
    "time_to_threshold",
    "tier_loss_time",
    "audit_probability",
    "expected_time_to_audit",
    "sample_audits",
    "chain_tier",
    "chain_tier_from_robustness",
    "ThresholdSchedule",
    "uniform_share_profit",
    "aggregate_safety",
    "arch_hash",
    "Gate",
    "WeakestLinkGate",
    "CapabilityGate",
    "NoGate",
]

# property checks (T1a-T3d, P1, P2, the Monotonic Safety counterexample), importable from here too
