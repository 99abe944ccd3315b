"""The separable position-auction kernel: rank, slot, price — one home for GSP, VCG, GFP, first and
second price, and Myerson's separable auction.

Separable click-through rates ``CTR_ij = q_i a_j`` (bidder quality times position effect). Every
mechanism of the family

1. **ranks** eligible bidders by a key — the score ``e_i = q_i b_i`` (or the bid), or for Myerson
   the virtual score ``q_i phi_bar_i(b_i)`` — highest first (:func:`rank_order`; ties by index, by a
   uniformly random priority, or shared);
2. **slots** the s-th ranked bidder into the s-th best position (:func:`slot_effects`: positions
   sorted descending, at most ``max_slots``, zero-CTR positions never used);
3. **prices** each shown bidder per click (:func:`per_click_price`, :func:`vcg_payments`):

   * GSP: ``max(r, e_(s+1) / q_(s))`` (``rank_by="bid"``: ``max(r, b_(s+1))``) — Edelman, Ostrovsky
     & Schwarz (AER 2007), Varian (IJIO 2007);
   * VCG: ``p_V(s) / (q_(s) a_s)`` with ``p_V(s) = sum_{t >= s} (a_t - a_{t+1}) max(q_(s) r, e_(t+1))``;
   * GFP and first price: the own bid.

   With one slot GSP and VCG coincide (second price). Myerson (MOR 1981) prices by inverse
   virtual values of the same next keys (in :class:`~coopsim.mechanisms.auctions.rules.Myerson`).

:func:`separable_auction` runs the whole pipeline on a batch ``(B, n)``: a one-slot fast path (no
sort), the top ``S + 1`` ranks only when ties are broken, and a dense ``(k, s)`` table when ties are
shared. No Python loop over the batch, bidders or slots.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "eligible_key",
    "rank_order",
    "slot_effects",
    "per_click_price",
    "vcg_payments",
    "separable_auction",
    "unit_price",
]


def eligible_key(bids: np.ndarray, quality: np.ndarray, reserve: float, rank_by: str) -> np.ndarray:
    """Ranking key ``(B, n)``: the score ``q_i b_i`` (or the bid for ``rank_by="bid"``) of bidders with
    ``b_i >= reserve`` and a positive score, ``-1`` for the others (bids are validated ``>= 0``)."""
    score = bids * quality
    if reserve == 0 and rank_by == "score":
        return np.where(score > 0, score, -1.0)
    return np.where((bids >= reserve) & (score > 0), score if rank_by == "score" else bids, -1.0)


def rank_order(key: np.ndarray, tie_break: str = "index", rng: np.random.Generator | None = None) -> np.ndarray:
    """Bidder indices ``(B, n)`` by key, highest first; ties by lower index (``"index"``, also used for
    ``"share"``) or by a uniformly random priority drawn from ``rng`` (``"random"``)."""
    if tie_break == "random":
        B, n = key.shape
        perm = (rng if rng is not None else np.random.default_rng()).random((B, n)).argsort(axis=1)
        return np.take_along_axis(perm, np.argsort(-np.take_along_axis(key, perm, 1), axis=1, kind="stable"), 1)
    return np.argsort(-key, axis=1, kind="stable")


def slot_effects(position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, a_sorted)``: the positions ``(B, m)`` sorted by effect, best first (stable), and the
    sorted effects. Already-sorted rows (the common case) are returned without a sort."""
    B, m = position.shape
    if m <= 1 or not (np.diff(position, axis=1) > 0).any():
        return np.broadcast_to(np.arange(m), (B, m)), position
    order = np.argsort(-position, axis=1, kind="stable")
    return order, np.take_along_axis(position, order, 1)


def per_click_price(
    rule: str, next_key: np.ndarray, quality: np.ndarray, bid: np.ndarray | None, reserve: float, rank_by: str
) -> np.ndarray:
    """Per-click price of GSP (and one-slot VCG, i.e. second price) or GFP; arrays broadcast.

    GSP: ``max(r, k_next / q)`` for score ranking (the ratio counts as 0 where ``q = 0``)
    and ``max(r, k_next)`` for bid ranking; GFP: the own ``bid``.
    """
    if rule == "gfp":
        if bid is None:
            raise ValueError("bid: GFP prices by the own bid; got None")
        return bid
    if rank_by != "score":
        return np.maximum(reserve, next_key)
    ratio = np.zeros(np.broadcast_shapes(np.shape(next_key), np.shape(quality)))
    np.divide(next_key, quality, out=ratio, where=quality > 0)
    return np.maximum(reserve, ratio)


def vcg_payments(drop: np.ndarray, next_score: np.ndarray, quality_reserve: np.ndarray | float) -> np.ndarray:
    """Clarke payments in money per auction: ``pay_s = sum_{t >= s} d_t max(q r, e_(t+1))``.

    ``drop`` ``(..., T)``: ``d_t = a_t - a_{t+1}``; ``next_score`` ``(..., T)``: ``e_(t+1)``;
    ``quality_reserve``: ``q r`` of the bidder paying, broadcast against ``(..., T)`` (0 without a
    reserve). Computed as one reverse cumulative sum over ``t``; returns ``(..., T)`` indexed by ``s``.
    """
    if np.ndim(quality_reserve) or quality_reserve:
        next_score = np.maximum(quality_reserve, next_score)
    return np.cumsum((drop * next_score)[..., ::-1], axis=-1)[..., ::-1]


def unit_price(payment: np.ndarray, click: np.ndarray) -> np.ndarray:
    """Per-click price = expected payment / click probability where clicked, else 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(click > 0, payment / np.where(click > 0, click, 1.0), 0.0)


def _group_bounds(key_sorted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (inclusive) rank of each rank's tie group, for keys sorted descending."""
    B, n = key_sorted.shape
    ar = np.broadcast_to(np.arange(n), (B, n))
    new = np.ones((B, n), dtype=bool)
    new[:, 1:] = key_sorted[:, 1:] != key_sorted[:, :-1]
    start = np.maximum.accumulate(np.where(new, ar, 0), axis=1)
    last = np.ones((B, n), dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(last, ar, n)[:, ::-1], axis=1)[:, ::-1]
    return start, end


def separable_auction(
    rule: str,
    bids: np.ndarray,
    quality: np.ndarray,
    position: np.ndarray,
    ctr: np.ndarray | None = None,
    *,
    reserve: float = 0.0,
    rank_by: str = "score",
    max_slots: int | None = None,
    tie_break: str = "index",
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Separable position auction ``rule`` in {"gsp", "vcg", "gfp"}; returns (assignment, click, payment, price).

    Bids, quality ``(B, n)``, positions ``(B, m)``. Rank, slot and price as in the module docstring.
    Click probability ``q_i a_s`` (or ``ctr[i, s]`` when a full CTR matrix ``(B, n, m)`` is given);
    payment = click x price. ``tie_break``: ``index`` (lower index first), ``random`` (uniform
    priority from ``rng``) or ``share`` (expected outcome over a uniformly random order of each tie
    group).
    """
    m = position.shape[1]
    key = eligible_key(bids, quality, reserve, rank_by)
    if ctr is None and tie_break != "random" and m >= 1 and (max_slots == 1 or (m == 1 and max_slots != 0)):
        return _single_slot(rule, bids, quality, position, key, reserve, tie_break == "share", rank_by)
    order = rank_order(key, tie_break, rng)
    if tie_break == "share":
        return _shared_ties(rule, bids, quality, position, key, order, ctr, reserve, rank_by, max_slots)
    return _top_ranks(rule, bids, quality, position, key, order, ctr, reserve, rank_by, max_slots)


def _n_slots(n: int, m: int, max_slots: int | None) -> int:
    return min(n, m if max_slots is None else min(m, max_slots))


def _top_ranks(
    rule: str,
    bids: np.ndarray,
    quality: np.ndarray,
    position: np.ndarray,
    key: np.ndarray,
    order: np.ndarray,
    ctr: np.ndarray | None,
    reserve: float,
    rank_by: str,
    max_slots: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The auction without tie sharing, on the top ``S + 1`` ranks only (``S`` slots): ranks below
    ``S + 1`` never matter, so every per-rank array has width ``S`` or ``S + 1`` and results are
    scattered into zero-filled outputs."""
    B, n = bids.shape
    S = _n_slots(n, position.shape[1], max_slots)
    assignment = np.full(B * n, -1, dtype=np.int64)
    click = np.zeros(B * n)
    payment = np.zeros(B * n)
    price_out = np.zeros(B * n)
    if S == 0:
        return assignment.reshape(B, n), click.reshape(B, n), payment.reshape(B, n), price_out.reshape(B, n)
    W = min(n, S + 1)
    fo = (order[:, :W] + (np.arange(B) * n)[:, None]).ravel()  # flat gather/scatter index
    ks = key.ravel()[fo].reshape(B, W)
    el = ks > 0
    pos_order, a_sorted = slot_effects(position)
    pos_top = pos_order[:, :S]
    alpha = np.zeros((B, S + 1))
    alpha[:, :S] = a_sorted[:, :S] * el[:, :S]
    nxt = np.zeros((B, S))
    nxt[:, : W - 1] = np.where(el[:, 1:W], ks[:, 1:W], 0.0)  # key of rank s+1
    fs = fo.reshape(B, W)[:, :S].ravel()
    qs = quality.ravel()[fs].reshape(B, S)
    if ctr is None:
        c = qs * alpha[:, :S]
    else:
        c = ctr[np.arange(B)[:, None], order[:, :S], pos_top] * (alpha[:, :S] > 0)
    if rule == "vcg":
        drop = alpha[:, :S] - alpha[:, 1:]
        if reserve > 0:  # each bidder's own reserve score: a (bidder s, rank t) table, then its diagonal
            pay = vcg_payments(drop[:, None, :], nxt[:, None, :], qs[:, :, None] * reserve)
            pay = pay[:, np.arange(S), np.arange(S)]
        else:
            pay = vcg_payments(drop, nxt, 0.0)
        den = qs * alpha[:, :S]
        with np.errstate(divide="ignore", invalid="ignore"):
            price = np.where(den > 0, pay / den, 0.0)
    else:
        own_bid = bids.ravel()[fs].reshape(B, S) if rule == "gfp" else None  # gathered only when priced by it
        price = per_click_price(rule, nxt, qs, own_bid, reserve, rank_by)
    shown = (alpha[:, :S] > 0) & (c > 0)
    assignment[fs] = np.where(shown, pos_top, -1).ravel()
    click[fs] = c.ravel()
    payment[fs] = np.where(shown, c * price, 0.0).ravel()
    price_out[fs] = np.where(shown, price, 0.0).ravel()
    return assignment.reshape(B, n), click.reshape(B, n), payment.reshape(B, n), price_out.reshape(B, n)


def _shared_ties(
    rule: str,
    bids: np.ndarray,
    quality: np.ndarray,
    position: np.ndarray,
    key: np.ndarray,
    order: np.ndarray,
    ctr: np.ndarray | None,
    reserve: float,
    rank_by: str,
    max_slots: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The auction with each tie group's outcome averaged over its orders: a dense table of bidder
    (in rank order) k at rank s, clicks and payments averaged over the ranks of k's tie group."""
    B, n = bids.shape
    fo = (order + (np.arange(B) * n)[:, None]).ravel()
    ks = key.ravel()[fo].reshape(B, n)
    el = ks >= 0
    qs = quality.ravel()[fo].reshape(B, n)
    bs = bids.ravel()[fo].reshape(B, n)
    pos_order, a_sorted = slot_effects(position)
    S = _n_slots(n, position.shape[1], max_slots)
    alpha = np.zeros((B, n + 1))
    alpha[:, :S] = a_sorted[:, :S]
    alpha[:, :n] *= el
    next_key = np.zeros((B, n))
    next_key[:, : n - 1] = np.where(el[:, 1:], ks[:, 1:], 0.0)  # key of rank s+1, 0 if none
    pos_pad = np.zeros((B, n), dtype=np.int64)
    pos_pad[:, :S] = pos_order[:, :S]
    # Cd[k, s]: click probability of the k-th ranked bidder were it at rank s
    if ctr is None:
        Cd = qs[:, :, None] * alpha[:, None, :n]
    else:
        csort = np.take_along_axis(ctr, order[:, :, None], 1)  # (B, n, m) rows in rank order
        Cd = np.take_along_axis(csort, np.broadcast_to(pos_pad[:, None, :], (B, n, n)), 2)
        Cd = np.where(alpha[:, None, :n] > 0, Cd, 0.0)
    if rule == "vcg":
        pay = vcg_payments((alpha[:, :n] - alpha[:, 1:])[:, None, :], next_key[:, None, :], qs[:, :, None] * reserve)
        den = qs[:, :, None] * alpha[:, None, :n]
        with np.errstate(divide="ignore", invalid="ignore"):
            price = np.where(den > 0, pay / np.where(den > 0, den, 1.0), 0.0)
    else:
        price = per_click_price(rule, next_key[:, None, :], qs[:, :, None], bs[:, :, None], reserve, rank_by)
    Pd = Cd * price
    start, end = _group_bounds(ks)
    size = (end - start + 1).astype(np.float64)
    cs_c = np.concatenate([np.zeros((B, n, 1)), np.cumsum(Cd, axis=2)], axis=2)
    cs_p = np.concatenate([np.zeros((B, n, 1)), np.cumsum(Pd, axis=2)], axis=2)

    def group_mean(cs: np.ndarray) -> np.ndarray:
        at = lambda idx: np.take_along_axis(cs, idx[:, :, None], 2)[:, :, 0]  # noqa: E731
        return (at(end + 1) - at(start)) / size

    click_s, pay_s = group_mean(cs_c), group_mean(cs_p)
    asg_s = np.where(alpha[:, :n] > 0, pos_pad, -1)  # alpha > 0 only at ranks < S
    assignment = np.empty(B * n, dtype=np.int64)
    click = np.empty(B * n)
    payment = np.empty(B * n)
    assignment[fo] = asg_s.ravel()
    click[fo] = click_s.ravel()
    payment[fo] = pay_s.ravel()
    click, payment = click.reshape(B, n), payment.reshape(B, n)
    return assignment.reshape(B, n), click, payment, unit_price(payment, click)


def _single_slot(
    rule: str,
    bids: np.ndarray,
    quality: np.ndarray,
    position: np.ndarray,
    key: np.ndarray,
    reserve: float,
    share: bool,
    rank_by: str = "score",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One-slot fast path of :func:`separable_auction` (winner and runner-up; no sort).

    Winner = highest key (lower index on ties); per-click price :func:`per_click_price` with the
    runner-up's key (GSP and VCG coincide with one slot). ``share``: the ``c`` bidders tied at the
    top each win with probability ``1/c`` and then pay the price set by the other tied bids.
    Works on the transposed ``(n, B)`` layout, where reductions over bidders are contiguous.
    """
    rule = "gfp" if rule == "gfp" else "gsp"
    B, n = bids.shape
    rows = np.arange(B)
    a_best = position.max(axis=1)
    slot = position.argmax(axis=1)
    kt = np.empty((n, B))
    np.copyto(kt, key.T)  # (n, B), our own copy
    top = kt.max(axis=0)
    ar = np.arange(n)[:, None]
    is_top = kt == top
    w = (n - (is_top * (n - ar).astype(np.float64)).max(axis=0)).astype(np.int64)  # first maximiser
    kt[w, rows] = -1.0  # drop the winner
    second = np.maximum(kt.max(axis=0), 0.0) if n > 1 else np.zeros(B)
    live = (top > 0) & (a_best > 0)
    if share:
        winners = is_top.T & live[:, None]
        c = winners.sum(axis=1, keepdims=True)
        nxt = np.where(c >= 2, top[:, None], second[:, None])
        price = per_click_price(rule, nxt, quality, bids, reserve, rank_by)
        click = np.where(winners, quality * a_best[:, None] / np.maximum(c, 1), 0.0)
        payment = np.where(winners, click * price, 0.0)
        assignment = np.where(winners & (ar.T == w[:, None]), slot[:, None], -1)
        return assignment, click, payment, np.where(winners, price, 0.0)
    wl = w[live]
    rl = rows[live]
    qw = quality[rl, wl]
    price = per_click_price(rule, second[live], qw, bids[rl, wl], reserve, rank_by)
    click = np.zeros((B, n))
    payment = np.zeros((B, n))
    assignment = np.full((B, n), -1, dtype=np.int64)
    cw = qw * a_best[live]
    click[rl, wl] = cw
    payment[rl, wl] = cw * price
    assignment[rl, wl] = slot[live]
    price_out = np.zeros((B, n))
    price_out[rl, wl] = price
    return assignment, click, payment, price_out
