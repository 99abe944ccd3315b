"""Position auctions: GSP, VCG, generalized first price, single-item first/second price, Myerson,
and VCG for sponsored creatives inside AI-generated content (AIGC).

Every mechanism is called on a batch of ``B`` auctions::

    res = mech(bids, ctr)                       # bids (B, n), ctr (B, n, m) (or (n, m) shared)
    res = mech(bids, quality=q, position=a)     # separable: CTR_ij = q_i a_j; q (n,) or (B, n),
                                                #   a (m,) or (B, m)

and returns an :class:`AuctionResult` with ``assignment`` (position of each bidder, -1 for none),
``click_prob``, ``payment`` (expected payment per auction = click probability x per-click price)
and ``price`` (per click), each ``(B, n)``; ``res.revenue`` sums payments. Values are per click
(Balseiro et al., arXiv 2506.03309; Edelman, Ostrovsky & Schwarz, AER 2007; Varian, IJIO 2007;
Myerson, MOR 1981).

Registered names: ``gsp``, ``vcg``, ``gfp`` (generalized first price), ``first_price``,
``second_price``, ``myerson``, ``aigc_vcg``. Separable GSP/VCG/GFP are fully vectorised over B
(sorting along the bidder axis). Matching-based solvers (``aigc_vcg``, ``vcg`` on non-separable
CTRs, ``myerson`` outside the separable model) call ``scipy.optimize.linear_sum_assignment`` or
exact DPs per instance and therefore loop over the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from math import perm
from typing import Any, ClassVar

import numpy as np
from coopsim.mechanisms.auctions import solvers as sol
from coopsim.mechanisms.auctions.equilibria import (  # noqa: F401  (re-exported)
    EquilibriumCheck,
    eos_bids,
    first_price_bne_bid,
    first_price_bne_revenue,
    gsp_equilibrium_check,
    myerson_uniform_revenue,
    varian_upper_bids,
    vcg_slot_payments,
)
from coopsim.mechanisms.auctions.myerson import (  # noqa: F401  (re-exported)
    Empirical,
    Exponential,
    Fixed,
    IronedVirtualValue,
    LogNormal,
    Uniform,
    ironed_virtual_value,
    make_distribution,
    myerson_reserve,
    virtual_value,
)
from coopsim.mechanisms.auctions.separable import rank_order, separable_auction, slot_effects, unit_price
from coopsim.mechanisms.base import Mechanism
from coopsim.mechanisms.registry import register

from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_choice,
    check_family,
    check_float,
    check_int,
    check_rng,
    check_size,
)

__all__ = [
    "EquilibriumCheck",
    "eos_bids",
    "first_price_bne_bid",
    "first_price_bne_revenue",
    "gsp_equilibrium_check",
    "myerson_uniform_revenue",
    "varian_upper_bids",
    "vcg_slot_payments",
    "Empirical",
    "Exponential",
    "Fixed",
    "IronedVirtualValue",
    "LogNormal",
    "Uniform",
    "ironed_virtual_value",
    "make_distribution",
    "myerson_reserve",
    "virtual_value",
    "BILLING",
    "TIE_BREAKS",
    "AuctionResult",
    "check_bids",
    "check_ctr",
    "separable_inputs",
    "separable_auction",
    "PositionAuctionMechanism",
    "SeparableMechanism",
    "GSP",
    "VCG",
    "GFP",
    "FirstPrice",
    "SecondPrice",
    "AIGCVCG",
    "Myerson",
    "unilateral_gains",
]

BILLING = ("per_click", "per_impression")
#: most matchings ``AIGCVCG(solver="brute")`` enumerates per instance
MAX_MATCHINGS = 10**6
TIE_BREAKS = ("index", "random", "share")


# ============================================================================================
# result
# ============================================================================================
@dataclass
class AuctionResult:
    """Outcome of ``B`` position auctions with ``n`` bidders.

    ``assignment`` (B, n) int: position index of each bidder, -1 if not shown. ``click_prob``
    (B, n): ``pi_i``. ``payment`` (B, n): expected payment ``t_i = pi_i x price_i``. ``price``
    (B, n): per-click price (0 for losers). ``render_rank`` (B, n): rendering order of shown ads
    (0 first; -1 if not shown). ``billing``: ``per_click`` (charged ``price`` on a click) or
    ``per_impression`` (charged ``t_i`` when shown); both have expectation ``t_i``.
    """

    assignment: np.ndarray
    click_prob: np.ndarray
    payment: np.ndarray
    price: np.ndarray
    render_rank: np.ndarray
    billing: str = "per_click"
    click_model: str = "additive"
    #: per-shown-ad standalone click and continuation probabilities (cascade sampling)
    p_shown: np.ndarray | None = field(default=None, repr=False)
    q_shown: np.ndarray | None = field(default=None, repr=False)
    cascade: str = "stop"

    @property
    def revenue(self) -> np.ndarray:
        """Expected revenue per auction, ``sum_i t_i``, shape (B,)."""
        return self.payment.sum(axis=1)

    def _values(self, values: Any) -> np.ndarray:
        """Per-click values: finite, >= 0, of the shape of the bids (or broadcasting to it)."""
        v = as_array(values, "values", lo=0.0)
        try:
            fits = np.broadcast_shapes(v.shape, self.click_prob.shape) == self.click_prob.shape
        except ValueError:
            fits = False
        if not fits:
            raise ParameterError(
                "values", f"values: expected the shape of the bids {self.click_prob.shape}, got {v.shape}"
            )
        return v

    def welfare(self, values: Any) -> np.ndarray:
        """Expected welfare ``sum_i v_i pi_i``, shape (B,)."""
        return (self._values(values) * self.click_prob).sum(axis=1)

    def utility(self, values: Any) -> np.ndarray:
        """Expected quasi-linear utility ``v_i pi_i - t_i``, shape (B, n)."""
        return self._values(values) * self.click_prob - self.payment

    def sample_clicks(self, rng: np.random.Generator) -> np.ndarray:
        """Draw clicks (B, n) in {0, 1} with marginals ``click_prob``.

        additive: independent Bernoulli; mnl: at most one click (categorical with the outside
        option); cascade: users scan ads in rendering order, click ad k with ``p_k`` and continue
        with ``q_k`` (stop variant: continue iff no click). Draws a fixed number of uniforms
        (independent of the outcome): two per bidder.
        """
        check_rng(rng)
        B, n = self.click_prob.shape
        u1 = rng.random((B, n))
        u2 = rng.random((B, n))
        if self.click_model == "additive":
            return (u1 < self.click_prob).astype(np.int64)
        if self.click_model == "mnl":
            cum = np.cumsum(self.click_prob, axis=1)
            u = u1[:, :1]
            lo = cum - self.click_prob
            return ((u >= lo) & (u < cum) & (self.click_prob > 0)).astype(np.int64)
        # cascade: walk in rendering order
        if self.p_shown is None or self.q_shown is None:
            raise ValueError("sample_clicks: a cascade result needs p_shown and q_shown")
        rank = np.where(self.render_rank >= 0, self.render_rank, n + np.arange(n))
        order = np.argsort(rank, axis=1, kind="stable")
        p = np.take_along_axis(np.where(self.render_rank >= 0, self.p_shown, 0.0), order, 1)
        q = np.take_along_axis(np.where(self.render_rank >= 0, self.q_shown, 1.0), order, 1)
        click = u1 < p
        cont = ~click if self.cascade == "stop" else (u2 < q)
        reach = np.concatenate([np.ones((B, 1), bool), np.cumprod(cont, axis=1)[:, :-1].astype(bool)], axis=1)
        out = np.zeros((B, n), dtype=np.int64)
        np.put_along_axis(out, order, (click & reach).astype(np.int64), axis=1)
        return out

    def realized_payment(self, clicks: Any) -> np.ndarray:
        """Payment charged given realised ``clicks`` (B, n): ``price x click`` or ``t_i`` if shown."""
        if self.billing == "per_click":
            return self.price * np.asarray(clicks, dtype=np.float64)
        return np.where(self.assignment >= 0, self.payment, 0.0)


# ============================================================================================
# input validation
# ============================================================================================
def check_bids(bids: Any, name: str = "bids") -> np.ndarray:
    """Bids as a (B, n) float array: finite, >= 0 (a 1-D array is one auction, B = 1)."""
    b = as_array(bids, name, ndim=(1, 2), lo=0.0)
    return b[None, :] if b.ndim == 1 else b


def check_ctr(ctr: Any, B: int, n: int, name: str = "ctr") -> np.ndarray:
    """CTR matrix (B, n, m) in [0, 1]; an (n, m) matrix is shared by all B auctions."""
    c = as_array(ctr, name, ndim=(2, 3), lo=0.0, hi=1.0)
    if c.ndim == 2:
        c = np.broadcast_to(c[None], (B, *c.shape))
    if c.shape[:2] != (B, n):
        raise ValueError(f"{name}: expected shape ({B}, {n}, m) or ({n}, m) to match bids {(B, n)}, got {c.shape}")
    return c


def _check_factor(x: Any, B: int, length: int | None, name: str, hi: float | None = None) -> np.ndarray:
    a = as_array(x, name, ndim=(1, 2), lo=0.0, hi=hi)
    if a.ndim == 1:
        a = np.broadcast_to(a[None], (B, a.shape[0]))
    if a.shape[0] != B or (length is not None and a.shape[1] != length):
        want = f"({length},) or ({B}, {length})" if length is not None else f"(m,) or ({B}, m)"
        raise ValueError(f"{name}: expected shape {want}, got {np.shape(x)}")
    return a


def _ctr_from_factors(bids: Any, quality: Any, position: Any) -> np.ndarray:
    """Separable CTRs ``c_ij = q_i a_j`` ``(B, n, m)`` from ``position`` and optional ``quality`` (default 1)."""
    b = check_bids(bids)
    a = _check_factor(position, b.shape[0], None, "position", hi=1.0)
    q = _check_factor(quality, b.shape[0], b.shape[1], "quality") if quality is not None else np.ones_like(b)
    return q[:, :, None] * a[:, None, :]


def separable_inputs(
    bids: Any,
    ctr: Any = None,
    quality: Any = None,
    position: Any = None,
    default_position: tuple[float, ...] | None = None,
):
    """Normalise ``(bids, ctr | quality, position)`` for the separable mechanisms.

    Returns ``(b (B,n), q (B,n), a (B,m), C (B,n,m) or None, separable (B,) bool)``. With a full
    ``ctr`` the factors default to its marginals ``q_i = sum_j c_ij``, ``a_j = sum_i c_ij`` (exact,
    up to scale, when ``ctr`` is separable); ``separable`` flags rows where ``c = q a / sum(c)``.
    """
    b = check_bids(bids)
    B, n = b.shape
    check_size("bids", B, n, copies=12, what="the (B, n) auction outputs and their temporaries")
    C = None
    if ctr is not None:
        C = check_ctr(ctr, B, n)
        check_size("ctr", *C.shape, copies=3, what="the CTR marginals and their separability check")
        tot = C.sum(axis=(1, 2))
        q_est = C.sum(axis=2)
        a_est = C.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            recon = q_est[:, :, None] * a_est[:, None, :] / np.where(tot > 0, tot, 1.0)[:, None, None]
        separable = np.all(
            np.abs(recon - C) <= 1e-12 * np.maximum(C.max(axis=(1, 2), keepdims=True), 1e-300), axis=(1, 2)
        )
        q = _check_factor(quality, B, n, "quality") if quality is not None else q_est
        a = _check_factor(position, B, C.shape[2], "position", hi=1.0) if position is not None else a_est
    else:
        if position is None:
            if default_position is None:
                raise ValueError(
                    "ctr: expected a CTR matrix (B, n, m) or separable factors position=(m,) "
                    "[and quality=(n,)], got neither"
                )
            position = np.asarray(default_position, dtype=np.float64)
        a = _check_factor(position, B, None, "position", hi=1.0)
        q = _check_factor(quality, B, n, "quality") if quality is not None else np.ones((B, n))
        if quality is not None and a.size and q.size and q.max() * a.max() > 1.0 + 1e-12:
            prod = q.max(axis=1) * a.max(axis=1)  # exact per-auction check
            if (prod > 1.0 + 1e-12).any():
                raise ValueError(f"quality: expected quality x position <= 1 (a CTR), got {prod.max()}")
        separable = np.ones(B, dtype=bool)
    return b, np.asarray(q, dtype=np.float64), np.asarray(a, dtype=np.float64), C, separable


# ============================================================================================
# separable mechanisms
# ============================================================================================
class PositionAuctionMechanism(Mechanism):
    """Base class: ``mech(bids, ctr=None, *, quality=None, position=None) -> AuctionResult``."""

    family: ClassVar[str] = "auctions"

    claims = frozenset({"deterministic", "individually_rational", "monotone"})
    default_position: tuple[float, ...] | None = None

    def __call__(
        self,
        bids: Any,
        ctr: Any = None,
        *,
        quality: Any = None,
        position: Any = None,
        rng: np.random.Generator | None = None,
    ) -> AuctionResult:
        raise NotImplementedError


class SeparableMechanism(PositionAuctionMechanism):
    """Base of the separable family (GSP, VCG, GFP, single-item first and second price): CTR_ij = q_i a_j."""

    rule = "gsp"

    def __init__(
        self,
        reserve: float = 0.0,
        billing: str = "per_click",
        tie_break: str = "index",
        max_slots: int | None = None,
        rank_by: str = "score",
        seed: int | None = None,
    ) -> None:
        self.reserve = check_float(reserve, "reserve", lo=0.0)
        self.billing = check_choice(billing, "billing", BILLING)
        self.tie_break = check_choice(tie_break, "tie_break", TIE_BREAKS)
        self.max_slots = None if max_slots is None else check_int(max_slots, "max_slots", lo=0)
        self.rank_by = check_choice(rank_by, "rank_by", ("score", "bid"))
        self.seed = None if seed is None else check_int(seed, "seed", lo=0)
        self._rng = np.random.default_rng(self.seed)

    def __call__(
        self,
        bids: Any,
        ctr: Any = None,
        *,
        quality: Any = None,
        position: Any = None,
        rng: np.random.Generator | None = None,
    ) -> AuctionResult:
        b, q, a, C, sep = self._inputs(bids, ctr, quality, position)
        out = separable_auction(
            self.rule,
            b,
            q,
            a,
            C,
            reserve=self.reserve,
            rank_by=self.rank_by,
            max_slots=self.max_slots,
            tie_break=self.tie_break,
            rng=self._rng if rng is None else check_rng(rng),
        )
        return self._result(*out)

    def _inputs(self, bids: Any, ctr: Any, quality: Any, position: Any):
        """:func:`separable_inputs` plus the check that ``max_slots`` fits a full ``ctr`` matrix."""
        b, q, a, C, sep = separable_inputs(bids, ctr, quality, position, self.default_position)
        if self.max_slots is not None and C is not None and self.max_slots > C.shape[2]:
            raise ValueError(f"max_slots: expected <= number of positions {C.shape[2]}, got {self.max_slots}")
        return b, q, a, C, sep

    def _result(self, asg, click, pay, price) -> AuctionResult:
        return AuctionResult(
            assignment=asg,
            click_prob=click,
            payment=pay,
            price=price,
            render_rank=asg,
            billing=self.billing,
            click_model="additive",
        )


@register("gsp")
class GSP(SeparableMechanism):
    """Generalized second price: slot s to the s-th highest score ``q_i b_i`` (or bid), per-click
    price ``max(r, e_(s+1) / q_(s))`` (``rank_by="bid"``: ``max(r, b_(s+1))``) (EOS 2007; Varian 2007)."""

    rule = "gsp"


@register("vcg")
class VCG(SeparableMechanism):
    """VCG position auction: welfare-maximising allocation, Clarke payments.

    Separable CTRs (factors, or a ``ctr`` matrix that is exactly ``q a``): slot payment
    ``p_V(s) = sum_{t=s}^S (a_t - a_{t+1}) max(q_(s) r, e_(t+1))``, vectorised. A non-separable
    ``ctr`` matrix is solved as the additive AIGC model (max-weight matching, VCG by removal,
    per instance).
    """

    rule = "vcg"
    claims = frozenset({"deterministic", "individually_rational", "monotone", "strategyproof", "efficient"})

    def __init__(
        self,
        reserve: float = 0.0,
        billing: str = "per_click",
        tie_break: str = "index",
        max_slots: int | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(
            reserve=reserve, billing=billing, tie_break=tie_break, max_slots=max_slots, rank_by="score", seed=seed
        )

    def __call__(
        self,
        bids: Any,
        ctr: Any = None,
        *,
        quality: Any = None,
        position: Any = None,
        rng: np.random.Generator | None = None,
    ) -> AuctionResult:
        b, q, a, C, sep = self._inputs(bids, ctr, quality, position)
        res = self._result(
            *separable_auction(
                "vcg",
                b,
                q,
                a,
                C,
                reserve=self.reserve,
                max_slots=self.max_slots,
                tie_break=self.tie_break,
                rng=self._rng if rng is None else check_rng(rng),
            )
        )
        if C is not None and not sep.all() and quality is None and position is None:
            K = C.shape[2] if self.max_slots is None else self.max_slots
            gen = AIGCVCG(click_model="additive", max_ads=K, reserve=self.reserve, billing=self.billing)
            rows = np.flatnonzero(~sep)
            sub = gen(b[rows], C[rows])
            res.render_rank = res.render_rank.copy()  # was a view of the assignment
            for f in ("assignment", "click_prob", "payment", "price", "render_rank"):
                getattr(res, f)[rows] = getattr(sub, f)
        return res


@register("gfp")
class GFP(SeparableMechanism):
    """Generalized first price: GSP allocation, per-click price = own bid."""

    rule = "gfp"


@register("first_price")
class FirstPrice(SeparableMechanism):
    """Single-item (one-slot) first price: highest score wins, pays its bid per click.

    ``mech(bids)`` uses one slot with CTR 1; pass ``quality``/``position``/``ctr`` for CTRs (only the
    best position is sold).
    """

    rule = "gfp"
    default_position = (1.0,)

    def __init__(
        self,
        reserve: float = 0.0,
        billing: str = "per_click",
        tie_break: str = "index",
        rank_by: str = "score",
        seed: int | None = None,
    ) -> None:
        super().__init__(reserve=reserve, billing=billing, tie_break=tie_break, max_slots=1, rank_by=rank_by, seed=seed)


@register("second_price")
class SecondPrice(SeparableMechanism):
    """Single-item (one-slot) second price: highest score wins, pays ``max(r, e_(2) / q_(1))`` per click."""

    rule = "gsp"
    default_position = (1.0,)
    claims = frozenset({"deterministic", "individually_rational", "monotone", "strategyproof", "efficient"})

    def __init__(
        self, reserve: float = 0.0, billing: str = "per_click", tie_break: str = "index", seed: int | None = None
    ) -> None:
        super().__init__(reserve=reserve, billing=billing, tie_break=tie_break, max_slots=1, rank_by="score", seed=seed)


# ============================================================================================
# AIGC matching mechanisms
# ============================================================================================
class _Model:
    """One instance of an AIGC click model: solver and click probabilities for values ``v``."""

    def __init__(
        self,
        click_model: str,
        ctr: np.ndarray,
        K: int,
        weights: np.ndarray | None,
        cont: np.ndarray | None,
        outside: float,
        cascade: str,
        order: str,
        solver: str,
    ) -> None:
        self.model, self.ctr, self.K = click_model, ctr, K
        self.weights, self.cont, self.outside = weights, cont, outside
        self.cascade, self.order, self.solver = cascade, order, solver

    def solve(self, v: np.ndarray) -> tuple[np.ndarray, float]:
        c, K = self.ctr, self.K
        if self.solver == "brute":
            return sol.brute_force(self.model, v, c, K, self.weights, self.cont, self.outside, self.order)
        if self.model == "additive":
            edges, _ = sol.max_weight_matching(v[:, None] * c, K)
            return edges, sol.allocation_welfare("additive", v, edges, c)
        if self.model == "mnl":
            assert self.weights is not None  # prepare() builds W for the mnl model
            return sol.mnl_optimum(v, self.weights, K, self.outside)
        q = self.cont
        if self.order == "fixed":
            return sol.cascade_fixed_dp(v, c, q, K)
        if self.cascade == "stop":
            return sol.cascade_stop_dp(v, c, K)
        n, m = c.shape
        assert q is not None  # prepare() builds Q (given or 1 - C) for the cascade model
        if (c == c[:, :1]).all() and (q == q[:, :1]).all():
            ads, val = sol.km_dp(v, c[:, 0], q[:, 0], min(K, m))
            return np.stack([ads, np.arange(len(ads))], axis=1).reshape(-1, 2), val
        return sol.cascade_edge_dp(v, c, q, K)

    def clicks(self, edges: np.ndarray, n: int) -> np.ndarray:
        pi = np.zeros(n)
        if len(edges):
            pi[edges[:, 0]] = sol.edge_click_probs(self.model, edges, self.ctr, self.weights, self.cont, self.outside)
        return pi


@register("aigc_vcg")
class AIGCVCG(PositionAuctionMechanism):
    """VCG for sponsored creatives in AI-generated content (Balseiro et al., arXiv 2506.03309).

    ``mech(bids, ctr, weights=None, cont=None)``: ``ctr`` (B, n, m) standalone pair CTRs ``p_ij``;
    at most ``max_ads`` ads; the auctioneer picks the matching and (``order="free"``) the rendering
    order. ``click_model``: ``additive``; ``mnl`` with weights ``w = p / (1 - p)`` (logit
    calibration; pass ``weights`` to set ``w = exp(rho)`` directly) and outside weight ``outside``;
    ``cascade`` with ``cascade="stop"`` (q = 1 - p) or ``"continuation"`` (pass ``cont`` q, (B, n, m)
    or per ad (B, n)). Allocation: exact welfare maximisation (matching / Dinkelbach / DP;
    ``solver="brute"`` enumerates). Payments: VCG by removal ``t_i = W*_{-i} - sum_{k != i} v_k pi_k``;
    with a per-click reserve r, bidders below r are removed and winners pay the threshold
    ``t_i^V(b) + r pi_i(r) - t_i^V(r)``. Loops over the batch (per-instance solvers).
    """

    claims = frozenset({"deterministic", "individually_rational", "monotone", "strategyproof", "efficient"})

    def __init__(
        self,
        click_model: str = "additive",
        max_ads: int | None = None,
        cascade: str = "stop",
        order: str = "free",
        outside: float = 1.0,
        reserve: float = 0.0,
        billing: str = "per_click",
        solver: str = "auto",
    ) -> None:
        self.click_model = check_choice(click_model, "click_model", sol.CLICK_MODELS)
        self.max_ads = None if max_ads is None else check_int(max_ads, "max_ads", lo=0)
        self.cascade = check_choice(cascade, "cascade", ("stop", "continuation"))
        self.order = check_choice(order, "order", ("free", "fixed"))
        self.outside = check_float(outside, "outside", lo=0.0, lo_open=True)
        self.reserve = check_float(reserve, "reserve", lo=0.0)
        self.billing = check_choice(billing, "billing", BILLING)
        self.solver = check_choice(solver, "solver", ("auto", "brute"))

    # -- inputs ---------------------------------------------------------------------------------
    def prepare(self, bids: Any, ctr: Any, weights: Any = None, cont: Any = None, *, bids_name: str = "bids"):
        """Validate inputs; returns ``(b, C, W, Q, K)`` with W (MNL weights) and Q (continuation) or None.
        ``bids_name`` names the first argument in errors (``values`` for :meth:`optimum`)."""
        b = check_bids(bids, bids_name)
        B, n = b.shape
        check_size(bids_name, B, n, copies=8, what="the (B, n) auction outputs")
        if ctr is None:
            if weights is None:
                raise ValueError("ctr: expected a CTR matrix of shape (B, n, m), got None")
            W = as_array(weights, "weights", ndim=(2, 3), lo=0.0)
            W = np.broadcast_to(W[None], (B, *W.shape)) if W.ndim == 2 else W
            C = W / (1.0 + W)
        else:
            C = check_ctr(ctr, B, n)
        m = C.shape[2]
        K = m if self.max_ads is None else self.max_ads
        if K > m:
            raise ValueError(f"max_ads: expected K <= number of positions m = {m}, got {K}")
        self._check_solver_size(n, m, K, bids_name)
        Wm = Q = None
        if self.click_model == "mnl":
            if weights is not None:
                Wm = as_array(weights, "weights", ndim=(2, 3), lo=0.0)
                Wm = np.broadcast_to(Wm[None], (B, *Wm.shape)) if Wm.ndim == 2 else Wm
                if Wm.shape != C.shape:
                    raise ValueError(f"weights: expected shape {C.shape}, got {Wm.shape}")
            else:
                if (C >= 1.0).any():
                    raise ValueError(
                        "ctr: logit calibration w = p / (1 - p) needs CTRs < 1 under click_model='mnl', "
                        "got a CTR equal to 1 (pass weights=exp(rho) instead)"
                    )
                Wm = C / (1.0 - C)
        if self.click_model == "cascade":
            if self.cascade == "stop":
                if cont is not None:
                    raise ValueError("cont: continuation probabilities need cascade='continuation'")
                Q = 1.0 - C
            else:
                if cont is None:
                    raise ValueError(
                        "cont: cascade='continuation' needs continuation probabilities q, shape (B, n, m) or (B, n)"
                    )
                Q = as_array(cont, "cont", ndim=(1, 2, 3), lo=0.0, hi=1.0)
                if Q.shape == (n,):
                    Q = np.broadcast_to(Q[None, :, None], C.shape)
                elif Q.ndim == 2 and Q.shape == (B, n):
                    Q = np.broadcast_to(Q[:, :, None], C.shape)
                elif Q.ndim == 2 and Q.shape == (n, m):
                    Q = np.broadcast_to(Q[None], C.shape)
                if Q.shape != C.shape:
                    raise ValueError(f"cont: expected shape {C.shape}, {(B, n)} or {(n,)}, got {np.shape(cont)}")
        return b, C, Wm, Q, K

    def _check_solver_size(self, n: int, m: int, K: int, bids_name: str = "bids") -> None:
        """Refuse, before any work, instances whose exact solver is exponential beyond reach: the
        brute-force enumeration past ``MAX_MATCHINGS`` matchings, the cascade dynamic programmes past
        20 bits (position masks for the free-order stop model, ad masks for fixed order)."""
        k_max = min(K, n, m)
        if self.solver == "brute":
            count = sum(perm(n, k) * perm(m, k) for k in range(k_max + 1))
            if count > MAX_MATCHINGS:
                raise ParameterError(
                    "solver",
                    f"solver: 'brute' would enumerate {count} matchings for n = {n} ads, m = {m} positions and "
                    f"K = {k_max} (at most {MAX_MATCHINGS}); use solver='auto' or fewer ads/positions",
                )
            return
        if self.click_model != "cascade" or k_max <= 0:
            return
        if self.order == "fixed" and n > 20:
            raise ParameterError(
                bids_name, f"{bids_name}: the fixed-order cascade solver takes at most 20 ads, got n = {n}"
            )
        if self.order == "free" and self.cascade == "stop" and m > 20:
            raise ParameterError(
                "ctr", f"ctr: the stop-cascade solver takes at most 20 positions (2^m position masks), got m = {m}"
            )

    def model(self, C: np.ndarray, W: np.ndarray | None, Q: np.ndarray | None, K: int, row: int) -> _Model:
        return _Model(
            self.click_model,
            C[row],
            K,
            None if W is None else W[row],
            None if Q is None else Q[row],
            self.outside,
            self.cascade,
            self.order,
            self.solver,
        )

    # -- mechanism --------------------------------------------------------------------------------
    def __call__(
        self,
        bids: Any,
        ctr: Any = None,
        *,
        weights: Any = None,
        cont: Any = None,
        quality: Any = None,
        position: Any = None,
        rng: np.random.Generator | None = None,
    ) -> AuctionResult:
        if ctr is None and weights is None and position is not None:
            ctr = _ctr_from_factors(bids, quality, position)
        b, C, W, Q, K = self.prepare(bids, ctr, weights, cont)
        B, n = b.shape
        out = _empty(B, n)
        for r in range(B):
            mod = self.model(C, W, Q, K, r)
            self._one(mod, b[r], out, r)
        return self._finish(out, C, Q)

    def _one(self, mod: _Model, bids: np.ndarray, out: dict, r: int) -> None:
        n = len(bids)
        v = np.where(bids >= self.reserve, bids, 0.0)
        edges, wstar = mod.solve(v)
        pi = mod.clicks(edges, n)
        pay = np.zeros(n)
        for i in np.flatnonzero(pi > 0):
            pay[i] = self._vcg_pay(mod, v, int(i), pi, wstar)
            if self.reserve > 0:
                vr = v.copy()
                vr[i] = self.reserve
                e_r, w_r = mod.solve(vr)
                pi_r = mod.clicks(e_r, n)
                pay[i] += self.reserve * pi_r[i] - (self._vcg_pay(mod, vr, int(i), pi_r, w_r) if pi_r[i] > 0 else 0.0)
        pay = np.clip(pay, 0.0, v * pi)
        _store(out, r, edges, pi, pay)

    @staticmethod
    def _vcg_pay(mod: _Model, v: np.ndarray, i: int, pi: np.ndarray, wstar: float) -> float:
        vi = v.copy()
        vi[i] = 0.0
        _, w_minus = mod.solve(vi)
        return w_minus - (wstar - v[i] * pi[i])

    def _finish(self, out: dict, C: np.ndarray, Q: np.ndarray | None) -> AuctionResult:
        asg, pi, pay, rr = out["assignment"], out["click_prob"], out["payment"], out["render_rank"]
        B, n = asg.shape
        p_sh = np.zeros((B, n))
        q_sh = np.ones((B, n))
        shown = asg >= 0
        bi, ii = np.nonzero(shown)
        p_sh[bi, ii] = C[bi, ii, asg[bi, ii]]
        if Q is not None:
            q_sh[bi, ii] = Q[bi, ii, asg[bi, ii]]
        return AuctionResult(
            assignment=asg,
            click_prob=pi,
            payment=pay,
            price=unit_price(pay, pi),
            render_rank=rr,
            billing=self.billing,
            click_model=self.click_model,
            p_shown=p_sh,
            q_shown=q_sh,
            cascade=self.cascade,
        )

    # -- welfare optimum (no payments) ------------------------------------------------------------
    def optimum(self, values: Any, ctr: Any = None, *, weights: Any = None, cont: Any = None) -> np.ndarray:
        """Optimal expected welfare ``max_x sum_i v_i pi_i(x)`` per auction, shape (B,)."""
        b, C, W, Q, K = self.prepare(values, ctr, weights, cont, bids_name="values")
        return np.array([self.model(C, W, Q, K, r).solve(b[r])[1] for r in range(b.shape[0])])

    def allocation_rule(self, ctr: Any, *, weights: Any = None, cont: Any = None) -> Callable[[np.ndarray], np.ndarray]:
        """``pi(bids)`` of one instance with CTRs ``ctr`` (n, m) (for threshold-payment checks)."""
        C0 = as_array(ctr, "ctr", ndim=(2, 3), lo=0.0, hi=1.0)
        C0 = C0[0] if C0.ndim == 3 else C0
        _, C, W, Q, K = self.prepare(np.zeros((1, C0.shape[0])), C0, weights, cont)
        mod = self.model(C, W, Q, K, 0)

        def alloc(bids: np.ndarray) -> np.ndarray:
            v = np.where(bids >= self.reserve, bids, 0.0)
            return mod.clicks(mod.solve(v)[0], len(v))

        return alloc


def _empty(B: int, n: int) -> dict:
    return {
        "assignment": np.full((B, n), -1, dtype=np.int64),
        "click_prob": np.zeros((B, n)),
        "payment": np.zeros((B, n)),
        "render_rank": np.full((B, n), -1, dtype=np.int64),
    }


def _store(out: dict, r: int, edges: np.ndarray, pi: np.ndarray, pay: np.ndarray) -> None:
    shown = pi > 0
    for k, (i, j) in enumerate(edges):
        if shown[i]:
            out["assignment"][r, i] = j
            out["render_rank"][r, i] = k
    out["click_prob"][r] = np.where(shown, pi, 0.0)
    out["payment"][r] = np.where(shown, pay, 0.0)


# ============================================================================================
# Myerson
# ============================================================================================
@register("myerson")
class Myerson(PositionAuctionMechanism):
    """Revenue-optimal (Myerson 1981) position auction for independent per-click values.

    ``distribution``: one distribution for all bidders (object, dict ``{"kind": "uniform", ...}``,
    name, or samples: a 1-D array or a list of numbers) or a list of distributions, one per bidder.
    Allocation maximises the virtual surplus ``sum_i phi_bar_i(b_i) pi_i(x)`` over ads with
    ``phi_bar_i > 0`` (ironed virtual values; ties by index). ``click_model="separable"``
    (default; vectorised, threshold payments
    ``sum_{t>=s} (a_t - a_{t+1}) q_i z_t`` with ``z_t = phi_bar_i^{-1}(psi_(t+1) / q_i)`` and reserve
    ``phi_bar_i^{-1}(0)``) or an AIGC model (``additive``, ``mnl``, ``cascade``; per-instance
    solvers on ``phi_bar`` and exact threshold payments by bisection).
    """

    claims = frozenset({"deterministic", "individually_rational", "monotone", "strategyproof"})

    def __init__(
        self,
        distribution: Any = "uniform",
        click_model: str = "separable",
        max_ads: int | None = None,
        cascade: str = "stop",
        outside: float = 1.0,
        billing: str = "per_click",
        grid: int = 4001,
    ) -> None:
        self.distribution = distribution
        self.click_model = check_choice(click_model, "click_model", ("separable", *sol.CLICK_MODELS))
        self.max_ads = None if max_ads is None else check_int(max_ads, "max_ads", lo=0)
        self.cascade = check_choice(cascade, "cascade", ("stop", "continuation"))
        self.outside = check_float(outside, "outside", lo=0.0, lo_open=True)
        self.billing = check_choice(billing, "billing", BILLING)
        per_bidder = isinstance(distribution, list) and not all(
            isinstance(d, (int, float, np.number)) and not isinstance(d, bool) for d in distribution
        )
        if per_bidder:
            self._phis = [ironed_virtual_value(d, grid=grid) for d in distribution]
        else:
            self._phis = [ironed_virtual_value(distribution, grid=grid)]
        if self.click_model != "separable":
            self._inner = AIGCVCG(
                click_model=self.click_model, max_ads=max_ads, cascade=cascade, outside=outside, billing=billing
            )

    @property
    def reserve(self) -> np.ndarray:
        """Per-bidder Myerson reserves ``phi_bar_i^{-1}(0)``."""
        return np.array([p.reserve for p in self._phis])

    def virtual_values(self, bids: np.ndarray) -> np.ndarray:
        """``phi_bar_i(b_i)``, shape (B, n)."""
        b = check_bids(bids)
        if len(self._phis) == 1:
            return self._phis[0](b)
        if len(self._phis) != b.shape[1]:
            raise ValueError(
                f"distribution: expected one distribution per bidder ({b.shape[1]}), got {len(self._phis)}"
            )
        return np.stack([self._phis[i](b[:, i]) for i in range(b.shape[1])], axis=1)

    def _inverse(self, y: np.ndarray, strict: np.ndarray, who: np.ndarray) -> np.ndarray:
        """Threshold bid ``phi_bar_who^{-1}(y)`` (strict or not), elementwise."""
        if len(self._phis) == 1:
            ph = self._phis[0]
            return np.where(strict, ph.inverse(y, strict=True), ph.inverse(y, strict=False))
        out = np.empty(y.shape)
        for i, ph in enumerate(self._phis):  # one pass per bidder distribution
            sel = who == i
            out[sel] = np.where(strict[sel], ph.inverse(y[sel], True), ph.inverse(y[sel], False))
        return out

    def __call__(
        self,
        bids: Any,
        ctr: Any = None,
        *,
        quality: Any = None,
        position: Any = None,
        weights: Any = None,
        cont: Any = None,
        rng: np.random.Generator | None = None,
    ) -> AuctionResult:
        if self.click_model != "separable":
            return self._matching(bids, ctr, weights, cont, quality, position)
        b, q, a, C, sep = separable_inputs(bids, ctr, quality, position, default_position=(1.0,))
        B, n = b.shape
        phi = self.virtual_values(b)
        psi = np.where(phi > 0, phi * q, -1.0)  # rank by virtual score; only phi_bar > 0 is eligible
        order = rank_order(psi)
        ps = np.take_along_axis(psi, order, 1)
        el = ps > 0
        qs = np.take_along_axis(q, order, 1)
        pos_order, a_sorted = slot_effects(a)
        m = a.shape[1]
        S = min(n, m if self.max_ads is None else min(m, self.max_ads))
        alpha = np.zeros((B, n + 1))
        alpha[:, :S] = a_sorted[:, :S]
        alpha[:, :n] *= el
        d = alpha[:, :n] - alpha[:, 1:]  # (B, n) over t
        # competitor at rank t+1 for each t
        psi_next = np.zeros((B, n))
        psi_next[:, :-1] = np.where(el[:, 1:], ps[:, 1:], 0.0)
        who_next = np.full((B, n), n)
        who_next[:, :-1] = order[:, 1:]
        y = psi_next[:, None, :] / qs[:, :, None]  # (B, k, t)
        strict = order[:, :, None] > who_next[:, None, :]
        has = psi_next[:, None, :] > 0
        who = np.broadcast_to(order[:, :, None], y.shape)
        z = self._inverse(np.where(has, y, 0.0), np.where(has, strict, True), who)
        tt = np.arange(n)
        z = np.where(tt[None, None, :] >= tt[None, :, None], z, 0.0)
        with np.errstate(invalid="ignore"):
            pay_s = np.nan_to_num((d[:, None, :] * qs[:, :, None] * z).sum(axis=2), nan=0.0, posinf=0.0)
        pay_s = np.where(alpha[:, :n] > 0, pay_s, 0.0)
        if C is None:
            click_s = qs * alpha[:, :n]
        else:
            pos_pad = np.zeros((B, n), dtype=np.int64)
            pos_pad[:, :S] = pos_order[:, :S]
            csort = np.take_along_axis(C, order[:, :, None], 1)
            click_s = np.where(alpha[:, :n] > 0, np.take_along_axis(csort, pos_pad[:, :, None], 2)[:, :, 0], 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(qs * alpha[:, :n] > 0, click_s / (qs * alpha[:, :n]), 0.0)
            pay_s = pay_s * scale
        pos_pad = np.full((B, n), -1, dtype=np.int64)
        pos_pad[:, :S] = pos_order[:, :S]
        asg_s = np.where(alpha[:, :n] > 0, pos_pad, -1)
        asg, click, pay = (np.empty((B, n), dtype=np.int64), np.empty((B, n)), np.empty((B, n)))
        np.put_along_axis(asg, order, asg_s, 1)
        np.put_along_axis(click, order, click_s, 1)
        np.put_along_axis(pay, order, pay_s, 1)
        return AuctionResult(
            assignment=asg,
            click_prob=click,
            payment=pay,
            price=unit_price(pay, click),
            render_rank=asg.copy(),
            billing=self.billing,
            click_model="additive",
        )

    def _matching(self, bids, ctr, weights, cont, quality, position) -> AuctionResult:
        inner = self._inner
        if ctr is None and weights is None and position is not None:
            ctr = _ctr_from_factors(bids, quality, position)
        b, C, W, Q, K = inner.prepare(bids, ctr, weights, cont)
        B, n = b.shape
        out = _empty(B, n)
        for r in range(B):
            mod = inner.model(C, W, Q, K, r)

            def alloc(z: np.ndarray, mod=mod) -> np.ndarray:
                phi = np.maximum(self.virtual_values(z[None])[0], 0.0)
                return mod.clicks(mod.solve(phi)[0], n)

            phi = np.maximum(self.virtual_values(b[r][None])[0], 0.0)
            edges, _ = mod.solve(phi)
            pi = mod.clicks(edges, n)
            pay = np.zeros(n)
            for i in np.flatnonzero(pi > 0):
                pay[i] = sol.threshold_payment(alloc, b[r], int(i), method="exact")
            _store(out, r, edges, pi, np.clip(pay, 0.0, b[r] * pi))
        return inner._finish(out, C, Q)


# ============================================================================================
# helpers for audits and tests
# ============================================================================================
def unilateral_gains(mech: Any, values: np.ndarray, bids: np.ndarray, grid: np.ndarray, **call_kw: Any) -> np.ndarray:
    """Best utility gain of each bidder from a unilateral bid change over ``grid``, shape (B, n).

    ``gain[b, i] = max_g u_i(g, bids_-i) - u_i(bids)`` with ``u_i = v_i pi_i - t_i``; one batched call
    per bidder (B x len(grid) auctions).
    """
    check_family(mech, "auctions", "mech")
    if not callable(mech):
        raise ParameterTypeError("mech", f"mech: expected a callable auction mechanism, got {type(mech).__name__}")
    b = check_bids(bids)
    v = check_bids(values, "values")
    if v.shape != b.shape:
        raise ParameterError("values", f"values: expected the shape of bids {b.shape}, got {v.shape}")
    grid = as_array(grid, "grid", ndim=1, lo=0.0)
    B, n = b.shape
    G = len(grid)
    check_size("grid", B, G, n, copies=8, what="the B*G deviation auctions")
    base = mech(b, **call_kw).utility(v)
    gains = np.zeros((B, n))
    rep_kw = {
        k: (np.repeat(x, G, axis=0) if isinstance(x, np.ndarray) and x.ndim >= 1 and x.shape[0] == B else x)
        for k, x in call_kw.items()
    }
    for i in range(n):
        rows = np.repeat(b, G, axis=0)
        rows[:, i] = np.tile(grid, B)
        u = mech(rows, **rep_kw).utility(np.repeat(v, G, axis=0))[:, i].reshape(B, G)
        gains[:, i] = u.max(axis=1) - base[:, i]
    return gains
