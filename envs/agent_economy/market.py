"""Market phases: posting contracts into the book, resolving bid macros to contracts, expiry.

The book has ``W = open_lifetime + max duration`` blocks of one step's ``n_post`` postings; step
``t`` writes block ``t mod W``. A posting escrows its reward from the issuer (reference-code
settlement). Contract generation itself (templates, jitter, per-tier counts) is
:class:`coopsim.envs.agent_economy_market.Market`.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.state import C_ASSIGNED, C_EXPIRED, C_FAILED, C_FREE, C_OPEN, EconomyState
from coopsim.envs.agent_economy_archetypes import N_MACROS
from coopsim.envs.agent_economy_market import success_probability

#: contract states that a new posting must not overwrite (OPEN, ASSIGNED), indexed by state code
_LIVE = np.isin(np.arange(7), (C_OPEN, C_ASSIGNED))
#: from this many bidders on, bid choices are computed once per distinct bidder profile
DEDUP_MIN = 256


def block_index(p: EnvParams, t: np.ndarray) -> tuple:
    """Index of the book block ``t mod W`` of each copy: two slices when every copy is at the same
    step (the usual case; basic indexing is cheaper), else ``(rows (B, 1), cols (B, n_post))``."""
    n = p.n_post
    if len(t) == 1 or (t == t[0]).all():
        start = int(t[0] % p.W) * n
        return slice(None), slice(start, start + n)
    return np.arange(len(t))[:, None], ((t % p.W) * n)[:, None] + np.arange(n)


def post_contracts(s: EconomyState, p: EnvParams, rng: np.random.Generator) -> None:
    """Phase (1): post this step's contracts into block ``t mod W`` and escrow their rewards."""
    post = p.market.post(rng, s.batch_size)
    rows, cols = block_index(p, s.t)
    s.c_state[rows, cols] = C_OPEN
    s.c_tier[rows, cols] = post["tier"]
    s.c_reward[rows, cols] = post["reward"]
    s.c_penalty[rows, cols] = post["penalty"]
    s.c_difficulty[rows, cols] = post["difficulty"]
    s.c_posted[rows, cols] = s.t[:, None]
    s.c_deadline[rows, cols] = s.t[:, None] + p.market_config.deadline_offset
    s.c_liable[rows, cols] = -1
    s.c_performer[rows, cols] = -1
    escrow = np.add.reduce(post["reward"], axis=1)  # = .sum(axis=1), without the method's Python layer
    s.acct["issuer"] -= escrow
    s.acct["escrow"] += escrow


def open_window(s: EconomyState, p: EnvParams) -> np.ndarray:
    """Columns of the ``open_lifetime`` most recent posting blocks (the only ones that can be OPEN), ``(B, Cw)``."""
    blocks = (s.t[:, None] - np.arange(p.market_config.open_lifetime)[None, :]) % p.W
    return (blocks[:, :, None] * p.n_post + np.arange(p.n_post)).reshape(s.batch_size, -1)


@functools.lru_cache(maxsize=256)
def _window_at(t_mod: int, W: int, n_post: int, lifetime: int) -> tuple[np.ndarray, np.ndarray | slice]:
    """:func:`open_window`'s columns ``(Cw,)`` for a copy at a step ``t`` with ``t mod W = t_mod``
    (cached, read-only), and the same columns as a slice when they are one ascending run (one block)."""
    blocks = (t_mod - np.arange(lifetime)) % W
    cols = (blocks[:, None] * n_post + np.arange(n_post)).ravel()
    cols.flags.writeable = False
    run = lifetime == 1
    return cols, slice(int(cols[0]), int(cols[-1]) + 1) if run else cols


def _bidder_window(s: EconomyState, p: EnvParams, b_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray | slice | None]:
    """The open-window columns of each bidder's copy: ``(Cw,)`` when every copy is at the same step
    (the usual case; with them the columns as a slice where they are one run, else the array),
    else ``(n, Cw)`` (and None)."""
    t = s.t
    if len(t) == 1 or (t == t[0]).all():
        return _window_at(int(t[0]) % p.W, p.W, p.n_post, p.market_config.open_lifetime)
    return open_window(s, p)[b_idx], None


def select_contracts(s: EconomyState, p: EnvParams, macro: np.ndarray, expo: np.ndarray) -> np.ndarray:
    """Resolve bid macros to one contract column per agent (-1 if none), ``(B, N)``.

    Rule per macro (``BID_RULES``): candidates are open contracts passing the tier rule
    (``T_min <= tier``, ``== k`` or ``== tier + 1``, against the certified tier) and the difficulty
    cap (and, for strict rules, ``E + p <= fraction * B_tier``); the best by the rule's objective
    (reward, EV ``p_s r - (1 - p_s) p``, -penalty, or EV ``(1 + 0.1 T_min)``) wins, fitting ones
    first. The choice depends on the agent only through (copy, macro, tier, exposure, capability,
    success modifiers), so with many bidders it is computed once per distinct such profile (agents
    of one archetype usually share it) and copied to the rest: the same numbers, far less work.
    """
    B, N = macro.shape
    out = np.full((B, N), -1)
    bidding = bid_rules(p).bids[macro]
    if not np.count_nonzero(bidding):
        return out
    b_idx = bidding.nonzero()[0]
    at = bidding  # a mask gathers in the order of its nonzero() indices, cheaper than index pairs
    prof = (b_idx, macro[at], s.tier[at], expo[at], s.capability[at], s.ps_mult[at], s.hard_mult[at])
    if len(b_idx) >= DEDUP_MIN:
        mat = np.column_stack(prof).astype(np.float64)
        reps, inverse = _distinct_rows(mat, (mat[:, 0] * N_MACROS + mat[:, 1]) * (p.K + 1) + mat[:, 2])
        rep = mat[reps]
        ints = tuple(rep[:, j].astype(np.int64) for j in range(3))
        out[at] = _best_contracts(s, p, (*ints, *(rep[:, j] for j in range(3, 7))))[inverse]
    else:
        out[at] = _best_contracts(s, p, prof)
    return out


def _distinct_rows(prof: np.ndarray, int_key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal rows of ``prof`` (its integer columns folded into ``int_key``): returns one
    representative row index per group and each row's group, ``(reps (g,), inverse (n,))``. A stable
    lexicographic sort and a comparison of neighbours (exact equality)."""
    keys = (prof[:, 6], prof[:, 5], prof[:, 4], prof[:, 3], int_key)  # lexsort: last key is primary
    order = np.lexsort(keys)
    new = np.zeros(len(order), dtype=bool)
    new[0] = True
    for k in keys:
        ks = k[order]
        new[1:] |= ks[1:] != ks[:-1]
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return order[new], inverse


class _Rules(NamedTuple):
    """The bid-rule table (``EnvParams.rule_table``) per (macro, certified tier), gathered once per
    bidder: ``table`` (n_macros, K + 1, 8) float with columns ``_LO`` and ``_HI`` the tier window
    ``lo_a + lo_b * tier <= T_min <= hi_a + hi_b * tier`` (at most the tier, exactly k, or exactly
    tier + 1; integers, exact in float64), ``_FITS`` the ceiling bound ``fraction * min(B_tier, cap) +
    1e-15``, ``_DMAX`` the difficulty cap, then 0/1 flags: objective by reward (``_BY_REWARD``), by EV
    (``_EV``), by tiered EV (``_EV_TIER``), ceiling test optional (``_LAX``, not strict).
    ``bids`` (n_macros,) bool: the macro bids."""

    table: np.ndarray
    bids: np.ndarray


_LO, _HI, _FITS, _DMAX, _BY_REWARD, _EV, _EV_TIER, _LAX = range(8)


@functools.lru_cache(maxsize=8)
def _rules(table: bytes, capped_ceilings: bytes) -> _Rules:
    obj, frac, trule, dmax, strict = np.frombuffer(table).reshape(-1, 5).T
    tr = trule.astype(np.int64)
    at_most, exact = tr == 0, tr > 0  # T_min <= tier; T_min == k; else T_min == tier + 1
    lo_a = np.select([at_most, exact], [-(2**40), tr], 1)
    hi_a = np.select([at_most, exact], [0, tr], 1)
    lo_b, hi_b = np.where(at_most | exact, 0, 1), np.where(exact, 0, 1)
    tier = np.arange(len(capped_ceilings) // 8)[None, :]
    ceil = np.frombuffer(capped_ceilings)[None, :]
    cols = [
        lo_a[:, None] + lo_b[:, None] * tier,
        hi_a[:, None] + hi_b[:, None] * tier,
        frac[:, None] * ceil + 1e-15,
        *(np.broadcast_to(c[:, None], (len(obj), tier.shape[1])) for c in (dmax, obj == 0, obj == 1, obj == 3)),
        np.broadcast_to((strict <= 0)[:, None], (len(obj), tier.shape[1])),
    ]
    out = np.stack([c.astype(np.float64) for c in cols], axis=-1)
    out.flags.writeable = False
    bids = obj >= 0
    bids.flags.writeable = False
    return _Rules(out, bids)


def bid_rules(p: EnvParams) -> _Rules:
    """The bid rules of ``p`` (cached per table)."""
    return _rules(p.rule_table.tobytes(), p.capped_ceilings.tobytes())


def _best_contracts(s: EconomyState, p: EnvParams, prof: tuple[np.ndarray, ...]) -> np.ndarray:
    """The contract column chosen for each bidder profile (copy, macro, tier, exposure, capability,
    ps_mult, hard_mult; one ``(n,)`` array each, ordered by copy), -1 where none qualifies; ``(n,)``.
    Vectorised over profiles x the open window."""
    b_idx, mac, tob, expo, cap, ps_mult, hard_mult = prof
    rule = bid_rules(p).table[mac, tob][..., None]  # (n, 8, 1): one row per bidder
    cols, span = _bidder_window(s, p, b_idx)  # (Cw,) or (n, Cw)
    open_, ct, pen, r, d = _window_fields(s, b_idx, cols, span)  # (n or 1, Cw) each
    tier_ok = (ct >= rule[:, _LO]) & (ct <= rule[:, _HI])
    fits = expo[:, None] + pen <= rule[:, _FITS]
    cand = open_ & tier_ok & (d < rule[:, _DMAX]) & np.logical_or(fits, rule[:, _LAX])
    score = np.where(rule[:, _BY_REWARD], r, -pen)
    if np.count_nonzero(rule[:, _EV : _EV_TIER + 1]):  # EV or tiered-EV objectives
        ps = success_probability(cap[:, None], d, ps_mult[:, None], hard_mult[:, None])
        ev = ps * r - (1.0 - ps) * pen
        score = np.where(rule[:, _EV], ev, np.where(rule[:, _EV_TIER], ev * (1 + 0.1 * ct), score))
    score = np.where(cand, score + fits * 1e6, -np.inf)
    best = score.argmax(axis=1)
    chosen = cols[best] if cols.ndim == 1 else cols[np.arange(len(b_idx)), best]
    return np.where(np.logical_or.reduce(cand, axis=1), chosen, -1)


def _window_fields(
    s: EconomyState, b_idx: np.ndarray, cols: np.ndarray, span: np.ndarray | slice | None
) -> tuple[np.ndarray, ...]:
    """The bidders' window of the book: OPEN mask, T_min, penalty, reward, difficulty. One window
    ``cols`` (Cw,) of one copy (always so for one economy): its ``(1, Cw)`` rows, broadcast over the
    bidders (``span``: the columns as a slice or an array); else ``(n, Cw)`` per bidder (``b_idx`` ascending)."""
    fields = (s.c_state, s.c_tier, s.c_penalty, s.c_reward, s.c_difficulty)
    if span is not None and b_idx[0] == b_idx[-1]:
        b0 = b_idx[0]
        if isinstance(span, slice):
            state, *rest = (f[b0 : b0 + 1, span] for f in fields)
        else:
            state, *rest = (f[b0 : b0 + 1].take(span, axis=1) for f in fields)
        return (state == C_OPEN, *rest)
    at = (b_idx[:, None], cols)
    return s.c_state[at] == C_OPEN, s.c_tier[at], s.c_penalty[at], s.c_reward[at], s.c_difficulty[at]


def expire(s: EconomyState, p: EnvParams) -> None:
    """Phase (7): open postings past their lifetime expire (escrow back to the issuer); assigned
    contracts past their deadline fail (penalty debited when ``debit_on_expiry``); the block the next
    step overwrites is freed."""
    t = s.t[:, None]
    exp_open = (s.c_state == C_OPEN) & (s.c_posted <= t - (p.market_config.open_lifetime - 1))
    if np.count_nonzero(exp_open):
        s.c_state[exp_open] = C_EXPIRED
        ret = np.add.reduce(np.where(exp_open, s.c_reward, 0.0), axis=1)
        s.acct["escrow"] -= ret
        s.acct["issuer"] += ret
    assigned = s.c_state == C_ASSIGNED
    if np.count_nonzero(assigned):  # (no contract running: none can be overdue)
        _fail_overdue(s, p, assigned & (t >= s.c_deadline) & (s.c_due > s.c_deadline))
    rows, cols = block_index(p, s.t + 1)
    if np.count_nonzero(_LIVE[s.c_state[rows, cols]]):  # pragma: no cover - guarded by W
        raise RuntimeError("contract book overflow: a live contract would be overwritten")
    s.c_state[rows, cols] = C_FREE


def _fail_overdue(s: EconomyState, p: EnvParams, overdue: np.ndarray) -> None:
    """Assigned contracts ``overdue`` (B, C) past their deadline fail (see :func:`expire`)."""
    if not np.count_nonzero(overdue):
        return
    st = p.settlement
    b, c = overdue.nonzero()
    lia = s.c_liable[b, c]
    pen = s.c_penalty[b, c] if st.debit_on_expiry else np.zeros(len(b))
    np.add.at(s.balance, (b, lia), -pen)
    np.add.at(s.acct["issuer" if st.penalty_sink == "issuer" else "burn"], b, pen)
    np.add.at(s.acct["escrow"], b, -s.c_reward[b, c])
    np.add.at(s.acct["issuer"], b, s.c_reward[b, c])
    s.c_state[b, c] = C_FAILED
