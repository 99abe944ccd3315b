"""Equilibrium tools for separable position auctions (complete information) and first price.

* :func:`eos_bids`: the Edelman-Ostrovsky-Schwarz (AER 2007) equilibrium B*, in which each bidder
  bids the VCG per-click price of the slot above, ``b*_(s) = p_V(s-1) / alpha_{s-1}``; GSP revenue
  at B* equals VCG revenue. Equivalently Varian's (IJIO 2007) lower SNE bound
  ``b_s alpha_{s-1} = v_s (alpha_{s-1} - alpha_s) + b_{s+1} alpha_s``, ``b_{S+1} = v_{S+1}``.
* :func:`varian_upper_bids`: Varian's upper SNE bound ``b_s alpha_{s-1} = v_{s-1}(alpha_{s-1} -
  alpha_s) + b_{s+1} alpha_s`` with first loser ``b_{S+1} = v_S``.
* :func:`gsp_equilibrium_check`: the Nash and symmetric-Nash (locally envy-free) inequalities of
  Edelman, Ostrovsky and Schwarz (AER 2007) and Varian (IJIO 2007) for a bid profile, with the most profitable violation as witness.
* :func:`first_price_bne_bid`, :func:`first_price_bne_revenue`: i.i.d. uniform first price,
  ``beta(v) = lo + (n-1)/n (v - lo)``, revenue ``(n-1)/(n+1)`` on U[0,1].

Conventions: values/bids ``(B, n)`` (or ``(n,)``), position CTRs ``alpha`` ``(S,)`` or ``(B, S)``
sorted non-increasing. Bidders are ranked by value (ties: lower index first). Returned bids are in
input order; the top bidder bids its value and bidders ranked below the first loser (rank
``S+2`` and lower) bid their values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from coopsim.core.validation import as_array, check_bool, check_choice, check_float, check_int


def _prep(values: Any, alpha: Any, vname: str = "values") -> tuple[np.ndarray, np.ndarray, bool]:
    v = as_array(values, vname, ndim=(1, 2), lo=0.0)
    single = v.ndim == 1
    v = np.atleast_2d(v)
    a = as_array(alpha, "alpha", ndim=(1, 2), lo=0.0)
    a = np.broadcast_to(np.atleast_2d(a), (v.shape[0], a.shape[-1])) if a.ndim == 1 or a.shape[0] == 1 else a
    if a.shape[0] != v.shape[0]:
        raise ValueError(f"alpha: expected shape (S,) or ({v.shape[0]}, S), got {np.shape(alpha)}")
    if (np.diff(a, axis=1) > 0).any():
        raise ValueError("alpha: expected position CTRs sorted non-increasing (alpha_1 >= alpha_2 >= ...)")
    return v, np.asarray(a, dtype=np.float64), single


def _ranked(v: np.ndarray, a: np.ndarray):
    """Rank by value (ties: lower index first); pad values to S+2 ranks and alpha to S+1 (alpha_{S+1}=0)."""
    B, n = v.shape
    S = a.shape[1]
    order = np.argsort(-v, axis=1, kind="stable")
    vs = np.take_along_axis(v, order, 1)
    L = max(n, S + 2)
    vp = np.zeros((B, L))
    vp[:, :n] = vs
    ap = np.zeros((B, L + 1))
    ap[:, :S] = a
    return order, vp, ap, S


def vcg_slot_payments(values: Any, alpha: Any) -> np.ndarray:
    """VCG total payment of each slot, ``p_V(s) = sum_{t=s}^S (alpha_t - alpha_{t+1}) v_(t+1)``, ``(B, S)``."""
    v, a, single = _prep(values, alpha)
    _, vp, ap, S = _ranked(v, a)
    d = ap[:, :S] - ap[:, 1 : S + 1]
    terms = d * vp[:, 1 : S + 1]
    p = np.cumsum(terms[:, ::-1], axis=1)[:, ::-1]
    return p[0] if single else p


def eos_bids(values: Any, alpha: Any) -> np.ndarray:
    """EOS equilibrium B*: ``b*_(s) = p_V(s-1) / alpha_{s-1}`` for ranks s = 2..S+1, top bids its value.

    Recursion ``b*_(s) = v_(s) - (alpha_s / alpha_{s-1}) (v_(s) - b*_(s+1))`` with
    ``b*_(S+1) = v_(S+1)``; ranks below S+1 bid their values. Returns bids in input order.
    Zero-CTR slots are treated as absent (spec: strictly decreasing alpha for exact B*).
    """
    v, a, single = _prep(values, alpha)
    B, n = v.shape
    a = _effective_alpha(a)
    order, vp, ap, S = _ranked(v, a)
    bids_r = vp.copy()  # default: own value
    b_next = vp[:, S].copy()  # b*_(S+1) = v_(S+1) (0-based rank S)
    for s in range(S - 1, 0, -1):  # 0-based rank s = 1..S-1 <-> ranks 2..S
        # b*_(s) alpha_{s-1} = v_(s)(alpha_{s-1} - alpha_s) + b*_(s+1) alpha_s
        a_prev, a_cur = ap[:, s - 1], ap[:, s]
        with np.errstate(divide="ignore", invalid="ignore"):
            b = np.where(a_prev > 0, (vp[:, s] * (a_prev - a_cur) + b_next * a_cur) / a_prev, vp[:, s])
        bids_r[:, s] = b
        b_next = b
    return _unrank(bids_r[:, :n], order, single)


def varian_upper_bids(values: Any, alpha: Any) -> np.ndarray:
    """Varian's upper SNE bound: ``b_s alpha_{s-1} = v_{s-1}(alpha_{s-1} - alpha_s) + b_{s+1} alpha_s``.

    First loser ``b_{S+1} = v_S``; top bidder bids its value; ranks below S+1 bid their values.
    Returned in input order. These bids can exceed the bidder's own value.
    """
    v, a, single = _prep(values, alpha)
    a = _effective_alpha(a)
    order, vp, ap, S = _ranked(v, a)
    n = v.shape[1]
    bids_r = vp.copy()
    if S >= 1:
        if n > S:
            top = S
            b_next = vp[:, S - 1].copy()  # first loser (0-based rank S) bids v_S
            bids_r[:, S] = b_next
        else:
            top = n  # everyone gets a slot: nobody below rank n
            b_next = np.zeros(v.shape[0])
        for s in range(top - 1, 0, -1):
            a_prev, a_cur = ap[:, s - 1], ap[:, s]
            with np.errstate(divide="ignore", invalid="ignore"):
                b = np.where(a_prev > 0, (vp[:, s - 1] * (a_prev - a_cur) + b_next * a_cur) / a_prev, vp[:, s])
            bids_r[:, s] = b
            b_next = b
    return _unrank(bids_r[:, :n], order, single)


def _effective_alpha(a: np.ndarray) -> np.ndarray:
    """Drop trailing zero-CTR slots when all batch rows agree (they are absent slots)."""
    S = a.shape[1]
    while S > 0 and not (a[:, S - 1] > 0).any():
        S -= 1
    return a[:, :S]


def _unrank(bids_r: np.ndarray, order: np.ndarray, single: bool) -> np.ndarray:
    out = np.empty_like(bids_r)
    np.put_along_axis(out, order, bids_r, axis=1)
    return out[0] if single else out


@dataclass
class EquilibriumCheck:
    """Verdict of :func:`gsp_equilibrium_check`, per auction ``(B,)``.

    ``ok``: all inequalities hold (within ``tol``); ``gain``: largest utility gain of a deviation
    (0 when none); ``bidder``/``target``: who gains and the slot it moves to (0-based; ``S`` means
    dropping out), -1 when none.
    """

    ok: np.ndarray | bool
    gain: np.ndarray | float
    bidder: np.ndarray | int
    target: np.ndarray | int


def gsp_equilibrium_check(
    values: Any, bids: Any, alpha: Any, symmetric: bool = False, tol: float = 1e-9, tie_break: str = "index"
) -> EquilibriumCheck:
    """Check the GSP Nash (or symmetric-Nash / locally envy-free) inequalities (EOS; Varian).

    Rank by bid (ties: lower index first, or with ``tie_break="value"`` higher value first, the
    rank-consistent rule Varian's upper profile needs when S = 1); per-click prices
    ``p_s = b_(s+1)``, ``alpha_{S+1} = 0``.
    Nash: occupant of slot s vs slot t > s pays ``p_t``; vs t < s pays the occupant's bid
    ``p_{t-1}``. Symmetric Nash uses ``p_t`` for every t. Losers (rank k > S) compare against every
    slot t at price ``p_{t-1}`` (Nash) or ``p_t`` (SNE). Utility of slot t at price p: ``(v - p) alpha_t``.
    """
    symmetric = check_bool(symmetric, "symmetric")
    tol = check_float(tol, "tol", lo=0.0)
    v, a, single = _prep(values, alpha)
    b = as_array(bids, "bids", ndim=(1, 2), lo=0.0)
    b = np.atleast_2d(b)
    if b.shape != v.shape:
        raise ValueError(f"bids: expected shape {v.shape} (as values), got {b.shape}")
    B, n = v.shape
    S = a.shape[1]
    check_choice(tie_break, "tie_break", ("index", "value"))
    if tie_break == "value":
        order = np.lexsort((np.broadcast_to(np.arange(n), (B, n)), -v, -b), axis=1)
    else:
        order = np.argsort(-b, axis=1, kind="stable")
    bs = np.take_along_axis(b, order, 1)
    vs = np.take_along_axis(v, order, 1)
    # prices p_t for t = 0..S (0-based slot t; p_t = bid of rank t+1); p_{-1} := bid of rank 0
    L = max(n, S + 1) + 1
    bp = np.zeros((B, L))
    bp[:, :n] = bs
    price_stay = bp[:, 1 : S + 1]  # (B, S): price of slot t when staying
    alpha_t = np.concatenate([a, np.zeros((B, 1))], axis=1)  # slot S = no slot
    p_down = np.concatenate([price_stay, np.zeros((B, 1))], axis=1)  # p_t, with p_S := 0 (no slot)
    p_up = np.concatenate([bp[:, :S], np.zeros((B, 1))], axis=1)  # p_{t-1} = bid of rank t
    ranks = np.arange(n)
    own_slot = np.minimum(ranks, S)  # rank >= S: no slot (index S)
    cur_alpha = np.take_along_axis(alpha_t, np.broadcast_to(own_slot, (B, n)), 1)
    cur_price = np.take_along_axis(p_down, np.broadcast_to(own_slot, (B, n)), 1)
    cur_u = (vs - cur_price) * cur_alpha  # (B, n)
    t = np.arange(S + 1)
    moving_up = t[None, :] < own_slot[:, None]  # (n, S+1)
    price = np.where(moving_up[None] & (not symmetric), p_up[:, None, :], p_down[:, None, :])
    dev_u = (vs[:, :, None] - price) * alpha_t[:, None, :]  # (B, n, S+1)
    gain = dev_u - cur_u[:, :, None]
    gain[:, np.arange(n), own_slot] = 0.0
    flat = gain.reshape(B, -1)
    best = flat.argmax(axis=1)
    g = flat[np.arange(B), best]
    r, tt = np.divmod(best, S + 1)
    ok = g <= tol
    bidder = np.where(ok, -1, order[np.arange(B), r])
    target = np.where(ok, -1, tt)
    gain = np.maximum(g, 0.0)
    if single:
        return EquilibriumCheck(ok=bool(ok[0]), gain=float(gain[0]), bidder=int(bidder[0]), target=int(target[0]))
    return EquilibriumCheck(ok=ok, gain=gain, bidder=bidder, target=target)


def first_price_bne_bid(values: Any, n: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Symmetric BNE of first price with ``n`` i.i.d. U[lo, hi] bidders: ``beta(v) = lo + (n-1)/n (v - lo)``."""
    n = check_int(n, "n", lo=1)
    lo = check_float(lo, "lo", lo=0.0)
    hi = check_float(hi, "hi", lo=lo, lo_open=True)
    v = as_array(values, "values", lo=lo, hi=hi)
    return lo + (n - 1) / n * (v - lo)


def first_price_bne_revenue(n: int) -> float:
    """Expected revenue of first (= second) price with ``n`` i.i.d. U[0,1] bidders: ``(n-1)/(n+1)``."""
    n = check_int(n, "n", lo=1)
    return (n - 1) / (n + 1)


def myerson_uniform_revenue(n: int) -> float:
    """Optimal single-item revenue, ``n`` i.i.d. U[0,1] bidders (reserve 1/2): ``(n-1)/(n+1) + 2^-n/(n+1)``."""
    n = check_int(n, "n", lo=1)
    return (n - 1) / (n + 1) + 2.0**-n / (n + 1)
