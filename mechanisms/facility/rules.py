"""Facility-location mechanisms on the line: generalized medians, Uniform Phantom, baselines, lotteries.

Every mechanism maps reported peaks in ``[0, 1]`` to a facility location. Deterministic ones are
callable: ``reports (N,) -> 0-d float``, ``(B, N) -> (B,)``. Lotteries (:class:`LotteryMechanism`)
expose ``sample(reports, rng)``, ``distribution(reports) -> (support, probs)`` and
``expected_location(reports)``; every mechanism has ``distribution`` and ``expected_utilities``, so
callers can treat both kinds alike. Reports outside ``[0, 1]``, NaN, a wrong rank or ``n < 1`` raise
``ValueError`` naming ``reports``; nothing is clipped.

Generalized median (Moulin, *On strategy-proofness and single peakedness*, Public Choice 1980):
with phantoms ``p_1 <= ... <= p_{n+1}``, ``f_p(x) = med(x_1..x_n, p_1..p_{n+1})``, the ``(n+1)``-th
smallest of the ``2n+1`` values. It is computed from the sorted reports alone by the min-max form
``f_p(x) = min_{i=0..n} max(x_(i), p_{n+1-i})`` (``x_(0) = -inf``), which selects the same element
(so results are bit-identical to sorting the concatenation) and is ~2.5x faster.

Uniform Phantom ``UP(x) = med(x, 0, 1/n, ..., 1)`` (Freeman, Pennock, Peters, Wortman Vaughan,
EC'19, arXiv 1905.00457; Aziz, Lam, Lee, Walsh, arXiv 2111.01566) is the unique strategyproof
mechanism satisfying proportionality and unanimity (equivalently UFS, or PF).

The domain analyses (axioms IFS/UFS/PF/proportionality/unanimity, feasible intervals, objectives)
live in :mod:`coopsim.mechanisms.facility.axioms` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from coopsim.mechanisms.base import Mechanism
from coopsim.mechanisms.facility.axioms import (  # noqa: F401  (re-exported public API)
    AXIOMS,
    OBJECTIVES,
    TOL,
    AxiomCheck,
    _expected_distance,
    as_profile,
    check,
    cost,
    feasible_interval,
    ifs_welfare_ratio_bound,
    max_cost,
    multiplicities,
    objective_value,
    optimal_location,
    optimal_value,
    satisfies,
    social_welfare,
    total_cost,
    utility,
    welfare_ratio_bound,
)
from coopsim.mechanisms.registry import register

from coopsim.core.validation import (
    ParameterTypeError,
    as_array,
    check_family,
    check_float,
    check_int,
    check_rng,
    check_size,
)

__all__ = [
    "FacilityMechanism",
    "PhantomMechanism",
    "LotteryMechanism",
    "GeneralizedMedian",
    "UniformPhantom",
    "Median",
    "RightMedian",
    "OrderStatistic",
    "Leftmost",
    "Rightmost",
    "Constant",
    "IFSOptimalPhantom",
    "Average",
    "Midpoint",
    "AverageUniformPhantom",
    "ThresholdRule",
    "RandomDictator",
    "RandomRank",
    "LRM",
    "generalized_median",
    "uniform_phantoms",
    "strategyproof_gain",
    # re-exported analyses
    "AXIOMS",
    "OBJECTIVES",
    "TOL",
    "AxiomCheck",
    "check",
    "satisfies",
    "feasible_interval",
    "utility",
    "cost",
    "social_welfare",
    "total_cost",
    "max_cost",
    "objective_value",
    "optimal_location",
    "optimal_value",
    "welfare_ratio_bound",
    "ifs_welfare_ratio_bound",
    "multiplicities",
]

_SP_FAMILY = frozenset({"deterministic", "strategyproof", "anonymous", "monotone"})
_FAIR = frozenset({"IFS", "UFS", "PF", "proportional", "unanimous", "range_respecting"})


# --------------------------------------------------------------------------------------------
# kernels (arrays already validated; batch axis first)
# --------------------------------------------------------------------------------------------
def uniform_phantoms(n: int) -> np.ndarray:
    """UP's ``n + 1`` phantoms ``k/n``, ``k = 0..n`` (computed as ``k / n``, exactly as in the merge)."""
    n = check_int(n, "n", lo=1)
    check_size("n", n + 1, what="the n + 1 phantoms")
    return np.arange(n + 1) / n


def _gm_sorted(xs: np.ndarray, phantoms_desc: np.ndarray) -> np.ndarray:
    """``min(p_{n+1}, min_{i=1..n} max(x_(i), p_{n+1-i}))`` for sorted ``xs`` ``(B, n)``.

    ``phantoms_desc`` holds the phantoms in decreasing order, shape ``(n+1,)`` or ``(B, n+1)``.
    The reduction runs over the leading axis of the transposed ``(n, B)`` array (elementwise
    minima over contiguous rows: several times faster than reducing a short last axis).
    """
    xt = np.ascontiguousarray(xs.T)  # (n, B)
    pt = phantoms_desc.T  # (n+1,) or (n+1, B)
    if pt.ndim == 1:
        pt = pt[:, None]
    return np.minimum(np.maximum(xt, pt[1:]).min(axis=0), pt[0])


def generalized_median(reports: Any, phantoms: Any) -> np.ndarray:
    """``med(x_1..x_n, p_1..p_{n+1})``: the ``(n+1)``-th smallest of reports and phantoms.

    ``reports`` ``(N,)`` or ``(B, N)``; ``phantoms`` ``(N+1,)`` (shared) or ``(B, N+1)``, in any order.
    """
    x, batched = as_profile(reports, "reports")
    n = x.shape[1]
    p = as_array(phantoms, "phantoms", ndim=(1, 2), lo=0.0, hi=1.0)
    if p.shape[-1] != n + 1 or (p.ndim == 2 and p.shape[0] != x.shape[0]):
        raise ValueError(
            f"phantoms: expected n + 1 = {n + 1} phantoms per profile for n = {n} reports, got shape {p.shape}"
        )
    y = _gm_sorted(np.sort(x, axis=1), -np.sort(-p, axis=-1))
    return y if batched else y[0]


def _order_stat(x: np.ndarray, k: int) -> np.ndarray:
    """``x_(k)`` (1-based) along the last axis of a ``(B, n)`` array."""
    n = x.shape[1]
    if k == 1:
        return x.min(axis=1)
    if k == n:
        return x.max(axis=1)
    return np.partition(x, k - 1, axis=1)[:, k - 1]


def _mean_in_range(x: np.ndarray) -> np.ndarray:
    """Row means of ``(B, n)`` clamped to ``[x_(1), x_(n)]``: the float mean can leave that range by one
    ulp (e.g. three copies of 2/3); the clamp keeps range respect and unanimity exact."""
    return np.clip(x.mean(axis=1), x.min(axis=1), x.max(axis=1))


def _check_rng(rng: Any) -> np.random.Generator:
    return check_rng(rng, "rng")


# --------------------------------------------------------------------------------------------
# base classes
# --------------------------------------------------------------------------------------------
class FacilityMechanism(Mechanism):
    """Base of the facility family: reports ``(N,)`` or ``(B, N)`` in ``[0, 1]`` to a location.

    Subclasses implement ``_locate(x)`` on a validated ``(B, N)`` array (deterministic) or
    ``_distribution(x)`` returning support and probabilities ``(B, K)`` (lotteries).
    """

    family: ClassVar[str] = "facility"

    deterministic: ClassVar[bool] = True
    claims = frozenset({"deterministic"})

    # -- to override -----------------------------------------------------------------------
    def _locate(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _distribution(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._locate(x)[:, None], np.ones((x.shape[0], 1))

    def _check_n(self, n: int) -> None:
        """Hook: raise ``ValueError`` if the mechanism is not defined for ``n`` agents."""

    # -- public API --------------------------------------------------------------------------
    def _profile(self, reports: Any) -> tuple[np.ndarray, bool]:
        x, batched = as_profile(reports, "reports")
        self._check_n(x.shape[1])
        return x, batched

    def __call__(self, reports: Any) -> np.ndarray:
        """Location ``f(reports)``: ``(B,)`` for ``(B, N)`` reports, a 0-d float for ``(N,)``."""
        x, batched = self._profile(reports)
        y = self._locate(x)
        return y if batched else y[0]

    def distribution(self, reports: Any) -> tuple[np.ndarray, np.ndarray]:
        """Lottery ``(support, probs)``, each ``(B, K)`` (``(K,)`` unbatched); ``K = 1`` if deterministic."""
        x, batched = self._profile(reports)
        s, p = self._distribution(x)
        return (s, p) if batched else (s[0], p[0])

    def expected_location(self, reports: Any) -> np.ndarray:
        """``E[Y] = sum_k probs_k support_k`` (the location itself for deterministic mechanisms)."""
        s, p = self.distribution(reports)
        return (s * p).sum(axis=-1)

    def sample(self, reports: Any, rng: np.random.Generator) -> np.ndarray:
        """One location per profile drawn from the lottery with ``rng`` (deterministic: ``f(reports)``)."""
        _check_rng(rng)
        return self(reports)

    def expected_costs(self, reports: Any, peaks: Any) -> np.ndarray:
        """``E|Y - x_i|`` for true ``peaks`` of the agents (same shape as ``reports``)."""
        x, batched = self._profile(reports)
        t, tb = as_profile(peaks, "peaks")
        if t.shape != x.shape or tb != batched:
            raise ValueError(
                f"peaks: expected the shape of reports {x.shape if batched else x.shape[1:]}, got {np.shape(peaks)}"
            )
        c = _expected_distance(t, *self._distribution(x))
        return c if batched else c[0]

    def expected_utilities(self, reports: Any, peaks: Any) -> np.ndarray:
        """``E[1 - |Y - x_i|]`` for true ``peaks`` (same shape as ``reports``)."""
        return 1.0 - self.expected_costs(reports, peaks)


class PhantomMechanism(FacilityMechanism):
    """A generalized median whose ``n + 1`` phantoms depend only on ``n`` (Moulin 1980).

    Strategyproof, anonymous and weakly monotone for every choice of phantoms.
    """

    claims = _SP_FAMILY

    def phantom_positions(self, n: int) -> np.ndarray:
        """The ``n + 1`` phantoms, sorted increasingly."""
        raise NotImplementedError

    def _locate(self, x: np.ndarray) -> np.ndarray:
        p = self.phantom_positions(x.shape[1])
        return _gm_sorted(np.sort(x, axis=1), p[::-1])


class LotteryMechanism(FacilityMechanism):
    """A randomized mechanism: a finite lottery over locations per profile.

    Calling it requires ``rng`` (it samples); ``distribution`` and ``expected_location`` are exact.
    Axioms and ratios of lotteries are read ex ante (expected distance), as in Aziz, Lam, Lee and Walsh's table.
    """

    deterministic: ClassVar[bool] = False

    def _locate(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - never used for lotteries
        raise TypeError("a lottery has no single location; use sample, distribution or expected_location")

    def __call__(self, reports: Any, rng: np.random.Generator | None = None) -> np.ndarray:
        """Sample one location per profile (``rng`` is required)."""
        if rng is None:
            raise TypeError(
                f"rng: {type(self).__name__} is a lottery; pass a numpy.random.Generator to sample, "
                "or use distribution / expected_location"
            )
        return self.sample(reports, rng)

    def sample(self, reports: Any, rng: np.random.Generator) -> np.ndarray:
        """Inverse-CDF draw: one uniform per profile, ``Y = support[#{k : cumsum_k <= u}]``."""
        _check_rng(rng)
        x, batched = self._profile(reports)
        s, p = self._distribution(x)
        u = rng.random(int(x.shape[0]))
        idx = np.minimum((np.cumsum(p, axis=1) <= u[:, None]).sum(axis=1), s.shape[1] - 1)
        y = np.take_along_axis(s, idx[:, None], axis=1)[:, 0]
        return y if batched else y[0]


# --------------------------------------------------------------------------------------------
# generalized medians
# --------------------------------------------------------------------------------------------
@register("generalized_median")
class GeneralizedMedian(PhantomMechanism):
    """``f_p(x) = med(x_1..x_n, p_1..p_{n+1})`` with fixed phantoms (so ``n = len(phantoms) - 1``).

    Claims are derived from the phantoms: unanimous and range-respecting iff ``p_1 = 0`` and
    ``p_{n+1} = 1``; IFS iff ``p_2 >= 1/n`` and ``p_n <= 1 - 1/n`` (``n >= 2``; ``n = 1``: iff unanimous);
    proportional (and then UFS, PF: it is UP) iff ``p_{k+1} = k/n`` for every ``k``.
    """

    def __init__(self, phantoms: Sequence[float] | np.ndarray, n_agents: int | None = None) -> None:
        p = as_array(phantoms, "phantoms", ndim=1, lo=0.0, hi=1.0)
        if p.shape[0] < 2:
            raise ValueError(f"phantoms: expected n + 1 >= 2 phantom positions (n >= 1 agents), got {p.shape[0]}")
        if n_agents is not None:
            n_agents = check_int(n_agents, "n_agents", lo=1)
            if p.shape[0] != n_agents + 1:
                raise ValueError(
                    f"phantoms: expected n_agents + 1 = {n_agents + 1} phantom positions, got {p.shape[0]}"
                )
        self.phantoms = tuple(float(v) for v in p)
        self.n_agents = p.shape[0] - 1
        self._sorted = np.sort(p)
        self._desc = self._sorted[::-1].copy()

    @property
    def claims(self) -> frozenset[str]:  # type: ignore[override]
        p, n = self._sorted, self.n_agents
        out = set(_SP_FAMILY)
        if p[0] == 0.0 and p[-1] == 1.0:
            out |= {"unanimous", "range_respecting"}
        if (n >= 2 and p[1] >= 1.0 / n and p[n - 1] <= 1.0 - 1.0 / n) or (n == 1 and "unanimous" in out):
            out.add("IFS")
        if np.array_equal(p, uniform_phantoms(n)):
            out |= _FAIR
        return frozenset(out)

    def phantom_positions(self, n: int) -> np.ndarray:
        self._check_n(n)
        return self._sorted.copy()

    def _check_n(self, n: int) -> None:
        if n != self.n_agents:
            raise ValueError(
                f"phantoms: this generalized median has {self.n_agents + 1} phantoms, so it takes "
                f"n = {self.n_agents} reports; got reports with n = {n}"
            )

    def _locate(self, x: np.ndarray) -> np.ndarray:
        return _gm_sorted(np.sort(x, axis=1), self._desc)


@register("uniform_phantom")
class UniformPhantom(PhantomMechanism):
    """Uniform Phantom ``UP(x) = med(x_1..x_n, 0, 1/n, ..., (n-1)/n, 1)`` (FPPV EC'19; ALLW).

    Equivalently ``max_j min(j/n, y_j)`` with ``y`` sorted decreasingly, or the unique ``y`` with
    ``#{x_i > y} <= n y <= #{x_i >= y}``. SP, anonymous, unanimous, range-respecting, IFS, UFS, PF,
    proportional; weakly (not strictly) monotone; ``UP(1 - x) = 1 - UP(x)``.
    """

    claims = _SP_FAMILY | _FAIR

    def __init__(self) -> None:
        self._cache: dict[int, np.ndarray] = {}

    def phantom_positions(self, n: int) -> np.ndarray:
        return uniform_phantoms(n)

    def _locate(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        desc = self._cache.get(n)
        if desc is None:
            desc = self._cache[n] = uniform_phantoms(n)[::-1].copy()
        return _gm_sorted(np.sort(x, axis=1), desc)


class _OrderStatisticBase(PhantomMechanism):
    """``x_(k)``: ``n + 1 - k`` phantoms at 0 and ``k`` phantoms at 1."""

    claims = _SP_FAMILY | {"unanimous", "range_respecting"}

    def _rank(self, n: int) -> int:
        raise NotImplementedError

    def phantom_positions(self, n: int) -> np.ndarray:
        n = check_int(n, "n", lo=1)
        self._check_n(n)
        k = self._rank(n)
        return np.concatenate([np.zeros(n + 1 - k), np.ones(k)])

    def _locate(self, x: np.ndarray) -> np.ndarray:
        return _order_stat(x, self._rank(x.shape[1]))


@register("median")
class Median(_OrderStatisticBase):
    """Left median ``MED(x) = x_(ceil(n/2))`` (the framework's median; SP, optimal for SW and TC).

    Phantoms: ``ceil(n/2)`` at 0 and at 1 for odd ``n``; ``n/2 + 1`` at 0 and ``n/2`` at 1 for even ``n``.
    """

    def _rank(self, n: int) -> int:
        return (n + 1) // 2


@register("right_median")
class RightMedian(_OrderStatisticBase):
    """Right median ``x_(floor(n/2) + 1)`` (equals the left median for odd ``n``)."""

    def _rank(self, n: int) -> int:
        return n // 2 + 1


@register("order_statistic")
class OrderStatistic(_OrderStatisticBase):
    """``k``-th order statistic ``x_(k)`` (1-based; needs ``n >= k``)."""

    def __init__(self, k: int) -> None:
        self.k = check_int(k, "k", lo=1)

    def _check_n(self, n: int) -> None:
        if n < self.k:
            raise ValueError(f"reports: order_statistic k = {self.k} needs n >= {self.k} agents, got n = {n}")

    def _rank(self, n: int) -> int:
        return self.k


@register("leftmost")
class Leftmost(_OrderStatisticBase):
    """Leftmost peak ``x_(1)`` (phantoms: ``n`` at 0, one at 1)."""

    def _rank(self, n: int) -> int:
        return 1


@register("rightmost")
class Rightmost(_OrderStatisticBase):
    """Rightmost peak ``x_(n)`` (phantoms: one at 0, ``n`` at 1)."""

    def _rank(self, n: int) -> int:
        return n


@register("constant")
class Constant(PhantomMechanism):
    """Constant rule ``f(x) = c`` (all ``n + 1`` phantoms at ``c``): SP, but neither unanimous nor IFS."""

    def __init__(self, c: float = 0.5) -> None:
        self.c = check_float(c, "c", lo=0.0, hi=1.0)

    def phantom_positions(self, n: int) -> np.ndarray:
        return np.full(check_int(n, "n", lo=1) + 1, self.c)

    def _locate(self, x: np.ndarray) -> np.ndarray:
        return np.full(x.shape[0], self.c)


@register("ifs_optimal_phantom")
class IFSOptimalPhantom(PhantomMechanism):
    """Phantoms ``{0, floor((n-1)/2) x 1/n, ceil((n-1)/2) x (1 - 1/n), 1}``: SP and IFS (framework
    construction; its SW ratio is ``n(n-1)/(n^2-2n+2)`` on grids for ``n <= 8``)."""

    claims = _SP_FAMILY | {"unanimous", "range_respecting", "IFS"}

    def phantom_positions(self, n: int) -> np.ndarray:
        n = check_int(n, "n", lo=1)
        a, b = (n - 1) // 2, n - 1 - (n - 1) // 2
        return np.concatenate([[0.0], np.full(a, 1.0 / n), np.full(b, 1.0 - 1.0 / n), [1.0]])


# --------------------------------------------------------------------------------------------
# non-strategyproof baselines
# --------------------------------------------------------------------------------------------
@register("average")
class Average(FacilityMechanism):
    """``AVG(x) = (1/n) sum_i x_i``: not SP; continuous, strictly monotone, IFS, UFS, PF, proportional.

    Under AVG every pure Nash equilibrium of the report game has outcome ``UP(t)`` (ALLW).
    """

    claims = frozenset({"deterministic", "anonymous", "monotone"}) | _FAIR

    def _locate(self, x: np.ndarray) -> np.ndarray:
        return _mean_in_range(x)


@register("midpoint")
class Midpoint(FacilityMechanism):
    """``MID(x) = (x_(1) + x_(n)) / 2``: optimal for max cost, not SP; IFS (``n >= 2``), not UFS/PF."""

    claims = frozenset({"deterministic", "anonymous", "monotone", "unanimous", "range_respecting", "IFS"})

    def _locate(self, x: np.ndarray) -> np.ndarray:
        return 0.5 * (x.min(axis=1) + x.max(axis=1))


@register("avg_up")
class AverageUniformPhantom(FacilityMechanism):
    """``(AVG + UP)/2``: continuous, strictly monotone, UFS/PF (their feasible sets are intervals
    containing both terms), not SP and not a generalized median for ``n >= 2``."""

    claims = Average.claims

    def _locate(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[1]
        up = _gm_sorted(np.sort(x, axis=1), uniform_phantoms(n)[::-1])
        return 0.5 * (_mean_in_range(x) + up)


@register("threshold")
class ThresholdRule(FacilityMechanism):
    """``n = 1`` counterexample: ``f(x) = 0`` if ``x < 1/2`` else ``1``. SP and proportional, but not
    unanimous and not IFS, hence not UP (why ALLW need unanimity)."""

    claims = frozenset({"deterministic", "strategyproof", "anonymous", "monotone", "proportional"})

    def _check_n(self, n: int) -> None:
        if n != 1:
            raise ValueError(f"reports: the threshold rule is defined for n = 1 agent only, got n = {n}")

    def _locate(self, x: np.ndarray) -> np.ndarray:
        return np.where(x[:, 0] < 0.5, 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# lotteries
# --------------------------------------------------------------------------------------------
_LOTTERY_FAIR = frozenset({"randomized", "truthful_in_expectation", "unanimous", "range_respecting"})


@register("random_dictator")
class RandomDictator(LotteryMechanism):
    """Random dictator: agent ``i`` uniform, output ``x_i``. Support = reports in agent order, each ``1/n``.

    Universally SP; IFS, UFS, PF ex ante and proportional in expectation (``E[Y] = AVG(x)``); not
    universally anonymous (the lottery is the same as Random Rank's).
    """

    claims = _LOTTERY_FAIR | {"strategyproof", "IFS", "UFS", "PF", "proportional"}

    def _distribution(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return x.copy(), np.full(x.shape, 1.0 / x.shape[1])


@register("random_rank")
class RandomRank(LotteryMechanism):
    """Random Rank (arXiv 2205.14798): ``k`` uniform in ``1..n``, output the ``k``-th highest report.

    Same lottery as random dictator (support sorted decreasingly), universally SP and anonymous.
    """

    claims = RandomDictator.claims | {"anonymous"}

    def _distribution(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -np.sort(-x, axis=1), np.full(x.shape, 1.0 / x.shape[1])


@register("lrm")
class LRM(LotteryMechanism):
    """Left-Right-Middle (Procaccia & Tennenholtz, EC'09): ``x_(1)`` w.p. 1/4, ``x_(n)`` w.p. 1/4,
    ``(x_(1)+x_(n))/2`` w.p. 1/2. SP in expectation; max-cost ratio 3/2; IFS ex ante, not UFS."""

    claims = _LOTTERY_FAIR | {"anonymous", "IFS"}

    def _distribution(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = x.min(axis=1), x.max(axis=1)
        support = np.stack([lo, hi, 0.5 * (lo + hi)], axis=1)
        probs = np.broadcast_to(np.array([0.25, 0.25, 0.5]), support.shape).copy()
        return support, probs


# --------------------------------------------------------------------------------------------
# a brute-force strategyproofness check (the generic audit lives in coopsim.analysis)
# --------------------------------------------------------------------------------------------
def strategyproof_gain(mech: FacilityMechanism, peaks: Any, grid: Any) -> np.ndarray:
    """``max_{i, g in grid} E|Y(x) - x_i| - E|Y(g, x_{-i}) - x_i|`` per profile (``<= 0`` iff no gain).

    Evaluates all ``N * K`` unilateral deviations of every profile in one batched call (memory
    ``B * N * K * N``). Returns ``(B,)`` or a 0-d array.
    """
    check_family(mech, "facility", "mech")
    if not callable(getattr(mech, "expected_costs", None)):
        raise ParameterTypeError(
            "mech", f"mech: expected a facility mechanism (with expected_costs), got {type(mech).__name__}"
        )
    x, batched = as_profile(peaks, "peaks")
    g = as_array(grid, "grid", ndim=1, lo=0.0, hi=1.0)
    B, n = x.shape
    K = g.shape[0]
    check_size("grid", B, n, K, n, copies=4, what="the B*N*K deviation profiles")
    base = mech.expected_costs(x, x)  # (B, N)
    dev = np.broadcast_to(x[:, None, None, :], (B, n, K, n)).copy()
    agents = np.arange(n)
    dev[:, agents, :, agents] = g[None, None, :]  # dev[b, i, k, i] = g[k]
    t = np.broadcast_to(x[:, None, None, :], (B, n, K, n)).reshape(-1, n)
    c = mech.expected_costs(dev.reshape(-1, n), t).reshape(B, n, K, n)
    own = c[:, agents, :, agents]  # (N, B, K) after advanced indexing
    gain = (base.T[:, :, None] - own).max(axis=(0, 2))
    return gain if batched else gain[0]
