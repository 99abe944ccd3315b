"""Balanced bidding in repeated GSP position auctions (Cary, Das, Edelman, Giotis, Heimerl, Karlin,
Mathieu, Schwarz, "Greedy bidding strategies for keyword auctions", EC 2007).

Each bidder knows its per-click value ``v_i``, the position click-through rates ``alpha_1 >= ... >=
alpha_S`` and the others' current bids. Under GSP the price of slot ``j`` for bidder ``i`` is the
``j``-th highest of the *others'* bids, ``p_j`` (0 when fewer than ``j`` others bid). Balanced bidding
(BB) targets the slot with the highest utility at those prices,

    j* = argmax_j alpha_j (v_i - p_j)            (ties: the higher slot),

and bids so that it would be indifferent between getting ``j*`` at price ``p_{j*}`` and getting the
slot above at its own bid:

    b_i = v_i - (alpha_{j*} / alpha_{j*-1}) (v_i - p_{j*})   if j* > 1,      b_i = v_i   if j* = 1.

A bidder with no slot of positive utility (``v_i <= p_S``) bids its value. BB's unique fixed point is
the Edelman-Ostrovsky-Schwarz envy-free equilibrium, whose GSP revenue equals VCG revenue. Cary et al.
prove: if one bidder, chosen uniformly at random, updates per round (*asynchronous*), BB converges with
probability 1; if every bidder updates each round (*synchronous*), BB converges for at most two slots
but need not converge for three or more (bids can cycle).

Why not a :class:`~coopsim.agents.Learner`: learners choose among ``K`` discrete actions from rewards;
BB is a deterministic best-response map on continuous bids that needs the others' bids, so it is a
response function plus a dynamics driver over arrays (values, CTRs, bids) -- no mechanism or env.

Shapes: values and bids ``(B, N)``, ``alpha`` ``(S,)`` or ``(B, S)`` sorted non-increasing, positive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from coopsim.core.validation import as_array, check_bool, check_choice, check_float, check_int, check_size, check_sizes

__all__ = ["balanced_bids", "gsp_revenue", "BalancedBiddingResult", "balanced_bidding"]


def _prep(values: Any, alpha: Any) -> tuple[np.ndarray, np.ndarray]:
    v = np.atleast_2d(as_array(values, "values", ndim=(1, 2), lo=0.0))
    a = np.atleast_2d(as_array(alpha, "alpha", ndim=(1, 2), lo=0.0))
    if (a <= 0).any():
        raise ValueError(f"alpha: expected positive click-through rates, got min {a.min()!r}")
    if a.shape[0] not in (1, v.shape[0]):
        raise ValueError(f"alpha: expected shape (S,) or ({v.shape[0]}, S), got {np.shape(alpha)}")
    if (np.diff(a, axis=1) > 0).any():
        raise ValueError("alpha: expected click-through rates sorted non-increasing (alpha_1 >= alpha_2 >= ...)")
    return v, np.broadcast_to(a, (v.shape[0], a.shape[1]))


def _others_sorted(bids: np.ndarray, S: int) -> np.ndarray:
    """``P[b, i, j]``: the (j+1)-th highest bid among bidders other than i, j < S (0 if absent): ``(B, N, S)``."""
    B, N = bids.shape
    rep = np.broadcast_to(bids[:, None, :], (B, N, N)).copy()
    rep[:, np.arange(N), np.arange(N)] = -np.inf
    top = -np.sort(-rep, axis=2)[:, :, : min(S, N - 1)]
    out = np.zeros((B, N, S))
    out[:, :, : top.shape[2]] = np.maximum(top, 0.0)
    return out


def _respond(v: np.ndarray, a: np.ndarray, price: np.ndarray) -> np.ndarray:
    """BB bids for values ``v`` ``(...)`` at slot prices ``price`` ``(..., S)``; ``a`` broadcasts to ``price``."""
    a = np.broadcast_to(a, price.shape)
    util = a * (v[..., None] - price)
    target = np.argmax(util, axis=-1)  # first maximum: the higher slot on ties
    pick = target[..., None]
    best = np.take_along_axis(util, pick, axis=-1)[..., 0]
    p_t = np.take_along_axis(price, pick, axis=-1)[..., 0]
    a_t = np.take_along_axis(a, pick, axis=-1)[..., 0]
    a_up = np.take_along_axis(a, np.maximum(pick - 1, 0), axis=-1)[..., 0]
    out = v - (a_t / a_up) * (v - p_t)
    return np.where((target == 0) | (best <= 0.0), v, out)


def balanced_bids(values: Any, alpha: Any, bids: Any) -> np.ndarray:
    """Every bidder's BB response to the others' current ``bids`` (module docstring): ``(B, N)``."""
    v, a = _prep(values, alpha)
    b = np.atleast_2d(as_array(bids, "bids", ndim=(1, 2), lo=0.0))
    if b.shape != v.shape:
        raise ValueError(f"bids: expected the shape of values {v.shape}, got {b.shape}")
    return _respond(v, a[:, None, :], _others_sorted(b, a.shape[1]))


def _respond_one(v: np.ndarray, a: np.ndarray, b: np.ndarray, who: np.ndarray) -> np.ndarray:
    """BB response of bidder ``who[c]`` in each copy c only: ``(B,)`` (an O(B N log N) sort, not O(B N^2))."""
    rows = np.arange(b.shape[0])
    others = b.copy()
    others[rows, who] = -np.inf
    S = a.shape[1]
    top = -np.sort(-others, axis=1)[:, : min(S, b.shape[1] - 1)]
    price = np.zeros((b.shape[0], S))
    price[:, : top.shape[1]] = np.maximum(top, 0.0)
    return _respond(v[rows, who], a, price)


def gsp_revenue(bids: Any, alpha: Any) -> np.ndarray:
    """GSP revenue per copy, ``sum_{j=1..S} alpha_j b_(j+1)`` (slot j pays the next bid per click): ``(B,)``."""
    b = np.atleast_2d(as_array(bids, "bids", ndim=(1, 2), lo=0.0))
    a = np.atleast_2d(as_array(alpha, "alpha", ndim=(1, 2), lo=0.0))
    S = a.shape[1]
    nxt = np.zeros((b.shape[0], S))
    srt = -np.sort(-b, axis=1)[:, 1 : S + 1]
    nxt[:, : srt.shape[1]] = srt
    return (np.broadcast_to(a, nxt.shape) * nxt).sum(axis=1)


@dataclass(frozen=True)
class BalancedBiddingResult:
    """Outcome of :func:`balanced_bidding`.

    ``bids`` ``(B, N)`` final bids; ``converged`` ``(B,)``: final bids are a BB fixed point (every
    response within ``tol``); ``rounds`` ``(B,)``: first round at which the bids were found to be a
    fixed point (``-1`` if never; asynchronous runs test every ``N`` rounds, so it is exact to ``N``); ``revenue`` ``(B,)``: GSP revenue of the final bids; ``history`` ``(T+1, B, N)``
    bid trajectory when ``record=True`` (else ``None``).
    """

    bids: np.ndarray
    converged: np.ndarray
    rounds: np.ndarray
    revenue: np.ndarray
    history: np.ndarray | None


def balanced_bidding(
    values: Any,
    alpha: Any,
    rounds: int,
    *,
    mode: str = "async",
    order: str = "random",
    rng: np.random.Generator | None = None,
    initial: Any = None,
    tol: float = 1e-10,
    record: bool = False,
) -> BalancedBiddingResult:
    """Run BB dynamics for ``rounds`` rounds on ``B`` independent copies.

    ``mode="async"``: one bidder per round updates -- ``order="random"`` (uniform, independently per
    copy, from ``rng``) or ``"round_robin"`` (bidder ``t mod N``); ``mode="sync"``: all bidders update
    simultaneously to their responses to the previous bids. ``initial``: starting bids (default: values
    times uniform draws from ``rng``). Copies that reach a fixed point stay there (BB is then constant).
    """
    v, a = _prep(values, alpha)
    rounds = check_int(rounds, "rounds", lo=0)
    check_choice(mode, "mode", ("async", "sync"))
    check_choice(order, "order", ("random", "round_robin"))
    tol = check_float(tol, "tol", lo=0.0)
    record = check_bool(record, "record")
    rng = np.random.default_rng(0) if rng is None else rng
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
    B, N = v.shape
    check_size("values", B, N, N, copies=4, what="the (B, N, N) others' bids")
    if record:
        check_sizes({"rounds": rounds + 1, "values": B * N}, what="the recorded (rounds, B, N) bid trajectory")
    if initial is None:
        b = v * rng.random((B, N))
    else:
        b = np.atleast_2d(as_array(initial, "initial", ndim=(1, 2), lo=0.0)).copy()
        if b.shape != v.shape:
            raise ValueError(f"initial: expected the shape of values {v.shape}, got {b.shape}")
    hist: list[np.ndarray] = [b.copy()] if record else []
    first = np.full(B, -1)
    rows = np.arange(B)
    check_every = max(1, N) if mode == "async" else 1  # async: test for a fixed point once per N rounds
    for t in range(rounds):
        if t % check_every == 0:
            fixed = np.abs(balanced_bids(v, a, b) - b).max(axis=1) <= tol
            first = np.where(fixed & (first < 0), t, np.where(fixed, first, -1))
        if mode == "sync":
            b = balanced_bids(v, a, b)
        else:
            who = rng.integers(0, N, size=(B,)) if order == "random" else np.full(B, t % N)
            b[rows, who] = _respond_one(v, a, b, who)
        if record:
            hist.append(b.copy())
    converged = np.abs(balanced_bids(v, a, b) - b).max(axis=1) <= tol
    first = np.where(converged & (first < 0), rounds, np.where(converged, first, -1))
    history = np.stack(hist) if record else None
    return BalancedBiddingResult(b, converged, first, gsp_revenue(b, a), history)
