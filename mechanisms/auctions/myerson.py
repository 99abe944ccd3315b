"""Value distributions, Myerson virtual values, ironing and reserves (Myerson 1981).

``phi(v) = v - (1 - F(v)) / f(v)``. Ironing works in quantile space: ``q = 1 - F(v)``, revenue
curve ``R(q) = q F^{-1}(1 - q)`` (so ``phi = R'(q)``); the ironed curve ``R_bar`` is the least
concave majorant of ``R`` on [0, 1] and ``phi_bar = R_bar'`` is non-decreasing in ``v``, constant on
ironing intervals and equal to ``phi`` outside them. Numerically: a quantile grid, the upper
concave hull of ``(q, R(q))``, slopes on hull segments, and finite-difference derivatives where
the hull touches ``R``. The Myerson reserve is ``phi_bar^{-1}(0)``.

Distributions are small objects with ``cdf``, ``ppf``, ``sample(rng, size)`` and ``support``;
``Uniform`` and ``Exponential`` also give the closed-form ``virtual_value``. Any object with
``cdf``/``ppf`` (e.g. a frozen ``scipy.stats`` distribution) can be ironed; ``Empirical`` irons a
sample.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

import numpy as np
from scipy import stats

from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_bool,
    check_float,
    check_int,
    check_size,
)


# --------------------------------------------------------------------------------------------
# distributions
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Uniform:
    """U[lo, hi]; ``phi(v) = 2 v - hi`` (regular), reserve ``hi / 2`` when ``lo <= hi / 2``."""

    lo: float = 0.0
    hi: float = 1.0

    def __post_init__(self) -> None:
        check_float(self.lo, "lo", lo=0.0)
        check_float(self.hi, "hi", lo=self.lo, lo_open=True)

    @property
    def support(self) -> tuple[float, float]:
        return (self.lo, self.hi)

    def cdf(self, v):
        return np.clip((np.asarray(v, dtype=np.float64) - self.lo) / (self.hi - self.lo), 0.0, 1.0)

    def ppf(self, u):
        return self.lo + np.asarray(u, dtype=np.float64) * (self.hi - self.lo)

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.uniform(self.lo, self.hi, size)

    def virtual_value(self, v):
        return 2.0 * np.asarray(v, dtype=np.float64) - self.hi

    def mean(self) -> float:
        return 0.5 * (self.lo + self.hi)


@dataclass(frozen=True)
class Exponential:
    """Exponential with ``rate``; ``phi(v) = v - 1 / rate``, reserve ``1 / rate``."""

    rate: float = 1.0

    def __post_init__(self) -> None:
        check_float(self.rate, "rate", lo=0.0, lo_open=True)

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, np.inf)

    def cdf(self, v):
        return 1.0 - np.exp(-self.rate * np.maximum(np.asarray(v, dtype=np.float64), 0.0))

    def ppf(self, u):
        u = np.asarray(u, dtype=np.float64)
        with np.errstate(divide="ignore"):
            return -np.log1p(-u) / self.rate

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.exponential(1.0 / self.rate, size)

    def virtual_value(self, v):
        return np.asarray(v, dtype=np.float64) - 1.0 / self.rate

    def mean(self) -> float:
        return 1.0 / self.rate


@dataclass(frozen=True)
class LogNormal:
    """``exp(N(mu, sigma^2))``; regular (monotone hazard rate fails, but ``phi`` is increasing)."""

    mu: float = 0.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        check_float(self.mu, "mu")
        check_float(self.sigma, "sigma", lo=0.0, lo_open=True)

    @property
    def support(self) -> tuple[float, float]:
        return (0.0, np.inf)

    def cdf(self, v):
        return stats.lognorm.cdf(v, s=self.sigma, scale=np.exp(self.mu))

    def ppf(self, u):
        return stats.lognorm.ppf(u, s=self.sigma, scale=np.exp(self.mu))

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, size)

    def virtual_value(self, v):
        v = np.asarray(v, dtype=np.float64)
        d = stats.lognorm(s=self.sigma, scale=np.exp(self.mu))
        return v - d.sf(v) / d.pdf(v)

    def mean(self) -> float:
        return float(np.exp(self.mu + 0.5 * self.sigma**2))


@dataclass(frozen=True)
class Fixed:
    """A point mass at ``value`` (complete information)."""

    value: float = 1.0

    def __post_init__(self) -> None:
        check_float(self.value, "value", lo=0.0)

    @property
    def support(self) -> tuple[float, float]:
        return (self.value, self.value)

    def cdf(self, v):
        return (np.asarray(v, dtype=np.float64) >= self.value).astype(np.float64)

    def ppf(self, u):
        return np.full(np.shape(u), self.value)

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return np.full(size, self.value)

    def mean(self) -> float:
        return self.value


class Empirical:
    """The empirical distribution of ``samples`` (quantile function = sorted sample)."""

    def __init__(self, samples: Any) -> None:
        s = as_array(samples, "samples", ndim=1, lo=0.0)
        if s.size < 2:
            raise ValueError(f"samples: expected at least 2 samples, got {s.size}")
        self.samples = np.sort(s)

    @property
    def support(self) -> tuple[float, float]:
        return (float(self.samples[0]), float(self.samples[-1]))

    def cdf(self, v):
        return np.searchsorted(self.samples, np.asarray(v, dtype=np.float64), side="right") / len(self.samples)

    def ppf(self, u):
        u = np.asarray(u, dtype=np.float64)
        idx = np.clip(np.ceil(u * len(self.samples)).astype(np.int64) - 1, 0, len(self.samples) - 1)
        return self.samples[idx]

    def sample(self, rng: np.random.Generator, size) -> np.ndarray:
        return rng.choice(self.samples, size=size)

    def mean(self) -> float:
        return float(self.samples.mean())


def _renamed(err: ParameterError | ParameterTypeError, name: str) -> ParameterError | ParameterTypeError:
    """``err`` about a part of ``name`` (e.g. a distribution's ``lo``) as an error naming ``name``."""
    return type(err)(name, f"{name}: {err}")


def make_distribution(spec: Any) -> Any:
    """Build a distribution from an object, a dict ``{"kind": "uniform", ...}`` or a name."""
    if hasattr(spec, "ppf") and hasattr(spec, "cdf"):
        return spec
    if isinstance(spec, str):
        spec = {"kind": spec}
    if isinstance(spec, dict):
        kinds = {"uniform": Uniform, "exponential": Exponential, "lognormal": LogNormal, "fixed": Fixed}
        kind = spec.get("kind")
        if not isinstance(kind, str) or kind not in kinds:
            raise ParameterError("distribution", f"distribution: expected kind in {sorted(kinds)}, got {kind!r}")
        params = {k: v for k, v in spec.items() if k != "kind"}
        allowed = [f.name for f in fields(kinds[kind])]
        unknown = sorted(str(k) for k in params if k not in allowed)
        if unknown:
            raise ParameterError(
                "distribution", f"distribution: unknown keys {unknown} for kind {kind!r}; expected among {allowed}"
            )
        try:
            return kinds[kind](**params)
        except (ParameterError, ParameterTypeError) as err:
            raise _renamed(err, "distribution") from None
    raise ParameterTypeError(
        "distribution", f"distribution: expected a distribution object, dict or name, got {type(spec).__name__}"
    )


# --------------------------------------------------------------------------------------------
# ironing
# --------------------------------------------------------------------------------------------
def upper_concave_hull(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the vertices of the least concave majorant of points ``(x, y)``, x ascending."""
    hull: list[int] = []
    for k in range(len(x)):
        while len(hull) >= 2:
            i, j = hull[-2], hull[-1]
            # drop j if it lies on or below the chord i -> k
            if (y[j] - y[i]) * (x[k] - x[i]) <= (y[k] - y[i]) * (x[j] - x[i]):
                hull.pop()
            else:
                break
        hull.append(k)
    return np.array(hull, dtype=np.int64)


class IronedVirtualValue:
    """Tabulated ironed virtual value ``phi_bar(v)`` of a distribution (callable, with inverses).

    Built on ``grid`` quantiles ``q_k``: ``R_k = q_k F^{-1}(1 - q_k)``; ``R_bar`` = upper concave hull;
    ``phi_bar`` = hull slope, with central differences of ``R`` where the hull touches ``R``.
    The table ``(v_k, phi_k)`` (v ascending, phi non-decreasing) is interpolated linearly.
    Closed-form ``virtual_value`` is used instead when the distribution is declared regular
    (``Uniform``, ``Exponential``), unless ``force_numeric``.
    """

    def __init__(self, dist: Any, grid: int = 4001, force_numeric: bool = False) -> None:
        self.dist = dist
        grid = check_int(grid, "grid", lo=11)
        check_size("grid", grid, copies=12, what="the quantile grid and its tables")
        force_numeric = check_bool(force_numeric, "force_numeric")
        self.exact = isinstance(dist, (Uniform, Exponential)) and not force_numeric
        if isinstance(dist, Empirical):
            s = dist.samples
            n = len(s)
            q = np.arange(n + 1) / n  # q_k = k / n: value s[n - k] (k >= 1)
            v = np.concatenate([[s[-1]], s[::-1]])  # v at quantile q_k (v_0 := max)
        else:
            q = np.linspace(0.0, 1.0, grid)
            v = np.asarray(dist.ppf(1.0 - q), dtype=np.float64)
            if not np.isfinite(v[0]):
                # unbounded support: start the grid at a tiny quantile instead of 0
                q = np.concatenate([[0.0], np.geomspace(1e-7, 1.0, grid - 1)])
                v = np.asarray(dist.ppf(1.0 - q), dtype=np.float64)
                v[0] = v[1]
        R = q * v
        R[0] = 0.0
        hull = upper_concave_hull(q, R)
        slopes = np.diff(R[hull]) / np.diff(q[hull])  # slope of each hull segment
        # phi_bar at each grid point: slope of the hull segment containing it
        seg = np.clip(np.searchsorted(q[hull], q, side="right") - 1, 0, len(slopes) - 1)
        phi = slopes[seg]
        # where the hull touches R on both sides (not ironed), use the local derivative
        on = np.zeros(len(q), dtype=bool)
        on[hull] = True
        touch = on.copy()
        touch[1:-1] = on[:-2] & on[1:-1] & on[2:]
        touch[0] = touch[-1] = False
        dR = np.gradient(R, q)
        phi = np.where(touch, dR, phi)
        # table in ascending v (q descending); enforce monotonicity against round-off
        self.v = v[::-1].copy()
        self.phi = np.maximum.accumulate(phi[::-1])
        self.q, self.R, self.R_bar = q, R, np.interp(q, q[hull], R[hull])
        self.hull = hull

    def __call__(self, v: Any) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        if self.exact:
            return self.dist.virtual_value(v)
        return np.interp(v, self.v, self.phi, left=self.phi[0], right=self.phi[-1])

    def inverse(self, y: Any, strict: bool = False) -> np.ndarray:
        """Smallest ``v`` with ``phi_bar(v) >= y`` (``> y`` if ``strict``); ``inf`` if none."""
        strict = check_bool(strict, "strict")
        y = np.asarray(y, dtype=np.float64)
        lo, hi = self.dist.support
        if self.exact:
            if isinstance(self.dist, Uniform):
                v = (y + self.dist.hi) / 2.0
            else:
                v = y + 1.0 / self.dist.rate
            return np.where(v > hi, np.inf, np.maximum(v, lo))
        side: Literal["left", "right"] = "right" if strict else "left"
        k = np.searchsorted(self.phi, y, side=side)
        kk = np.clip(k, 1, len(self.phi) - 1)
        p0, p1 = self.phi[kk - 1], self.phi[kk]
        v0, v1 = self.v[kk - 1], self.v[kk]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(p1 > p0, (y - p0) / (p1 - p0), 0.0)
        out = v0 + np.clip(t, 0.0, 1.0) * (v1 - v0)
        out = np.where(k <= 0, self.v[0], out)
        return np.where(k >= len(self.phi), np.inf, out)

    @property
    def reserve(self) -> float:
        """Myerson reserve ``phi_bar^{-1}(0)``: the smallest value with positive virtual value."""
        return float(self.inverse(0.0, strict=False))


def virtual_value(dist: Any, v: Any) -> np.ndarray:
    """Un-ironed ``phi(v) = v - (1 - F(v)) / f(v)`` (closed form where the distribution has one)."""
    v = as_array(v, "v", lo=0.0)
    if hasattr(dist, "virtual_value"):
        return dist.virtual_value(v)
    return v - dist.sf(v) / dist.pdf(v)


def ironed_virtual_value(dist: Any, grid: int = 4001, force_numeric: bool = False) -> IronedVirtualValue:
    """The ironed virtual value ``phi_bar`` of ``dist`` (a distribution, dict, name or samples)."""
    if isinstance(dist, (list, tuple, np.ndarray)):
        try:
            dist = Empirical(dist)
        except (ParameterError, ParameterTypeError) as err:
            raise _renamed(err, "distribution") from None
    return IronedVirtualValue(make_distribution(dist), grid=grid, force_numeric=force_numeric)


def myerson_reserve(dist: Any) -> float:
    """Per-click Myerson reserve ``phi_bar^{-1}(0)`` of ``dist``."""
    return ironed_virtual_value(dist).reserve
