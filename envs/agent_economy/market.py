"""Market phases: posting contracts into the book, resolving bid macros to contracts, expiry.

The book has ``W = open_lifetime + max duration`` blocks of one step's ``n_post`` postings; step
``t`` writes block ``t mod W``. A posting escrows its reward from the issuer (reference-code
settlement). Contract generation itself (templates, jitter, per-tier counts) is
:class:`coopsim.envs.agent_economy_market.Market`.
"""

from __future__ import annotations

import numpy as np
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.state import C_ASSIGNED, C_EXPIRED, C_FAILED, C_FREE, C_OPEN, EconomyState
from coopsim.envs.agent_economy_market import success_probability

#: cap on the ceiling used in headroom arithmetic (the ungated market has infinite ceilings)
HEADROOM_CAP = 1e6


def post_contracts(s: EconomyState, p: EnvParams, rng: np.random.Generator) -> None:
    """Phase (1): post this step's contracts into block ``t mod W`` and escrow their rewards."""
    B, n = s.batch_size, p.n_post
    post = p.market.post(rng, B)
    cols = ((s.t % p.W) * n)[:, None] + np.arange(n)
    rows = np.arange(B)[:, None]
    s.c_state[rows, cols] = C_OPEN
    s.c_tier[rows, cols] = post["tier"]
    s.c_reward[rows, cols] = post["reward"]
    s.c_penalty[rows, cols] = post["penalty"]
    s.c_difficulty[rows, cols] = post["difficulty"]
    s.c_posted[rows, cols] = s.t[:, None]
    s.c_deadline[rows, cols] = s.t[:, None] + p.market_config.deadline_offset
    s.c_liable[rows, cols] = -1
    s.c_performer[rows, cols] = -1
    escrow = post["reward"].sum(axis=1)
    s.acct["issuer"] -= escrow
    s.acct["escrow"] += escrow


def open_window(s: EconomyState, p: EnvParams) -> np.ndarray:
    """Columns of the ``open_lifetime`` most recent posting blocks (the only ones that can be OPEN), ``(B, Cw)``."""
    blocks = (s.t[:, None] - np.arange(p.market_config.open_lifetime)[None, :]) % p.W
    return (blocks[:, :, None] * p.n_post + np.arange(p.n_post)).reshape(s.batch_size, -1)


def select_contracts(s: EconomyState, p: EnvParams, macro: np.ndarray, expo: np.ndarray) -> np.ndarray:
    """Resolve bid macros to one contract column per agent (-1 if none), ``(B, N)``.

    Vectorised over the bidding agents x the open window. Rule per macro (``BID_RULES``):
    candidates are open contracts passing the tier rule (``T_min <= tier``, ``== k`` or
    ``== tier + 1``, against the certified tier) and the difficulty cap (and, for strict rules,
    ``E + p <= fraction * B_tier``); the best by the rule's objective (reward, EV
    ``p_s r - (1 - p_s) p``, -penalty, or EV ``(1 + 0.1 T_min)``) wins, fitting ones first.
    """
    B, N = macro.shape
    out = np.full((B, N), -1)
    rule = p.rule_table[macro]  # (B, N, 5): objective, fraction, tier rule, dmax, strict
    bidding = rule[..., 0] >= 0
    if not bidding.any():
        return out
    b_idx, i_idx = np.nonzero(bidding)
    rb = rule[b_idx, i_idx]
    obj, frac, trule, dmax, strict = rb[:, 0], rb[:, 1], rb[:, 2].astype(np.int64), rb[:, 3], rb[:, 4] > 0
    cols_b = open_window(s, p)
    rows = np.arange(B)[:, None]
    cols = cols_b[b_idx]  # (n, Cw)
    open_ = (s.c_state[rows, cols_b] == C_OPEN)[b_idx]
    ct = s.c_tier[rows, cols_b][b_idx]
    pen = s.c_penalty[rows, cols_b][b_idx]
    r = s.c_reward[rows, cols_b][b_idx]
    d = s.c_difficulty[rows, cols_b][b_idx]
    tob = s.tier[b_idx, i_idx]
    want = np.where(trule == 0, tob, np.where(trule > 0, trule, tob + 1))[:, None]
    tier_ok = np.where((trule == 0)[:, None], ct <= want, ct == want)
    ceil = np.minimum(p.ceilings[tob], HEADROOM_CAP)
    fits = expo[b_idx, i_idx][:, None] + pen <= (frac * ceil)[:, None] + 1e-15
    cand = open_ & tier_ok & (d < dmax[:, None]) & (fits | ~strict[:, None])
    score = np.where((obj == 0)[:, None], r, -pen)
    use_ev = (obj == 1) | (obj == 3)
    if use_ev.any():
        ps = success_probability(
            s.capability[b_idx, i_idx][:, None], d, s.ps_mult[b_idx, i_idx][:, None], s.hard_mult[b_idx, i_idx][:, None]
        )
        ev = ps * r - (1.0 - ps) * pen
        score = np.where((obj == 1)[:, None], ev, np.where((obj == 3)[:, None], ev * (1 + 0.1 * ct), score))
    score = np.where(cand, score + fits * 1e6, -np.inf)
    best = np.argmax(score, axis=1)
    out[b_idx, i_idx] = np.where(cand.any(axis=1), cols[np.arange(len(b_idx)), best], -1)
    return out


def expire(s: EconomyState, p: EnvParams) -> None:
    """Phase (7): open postings past their lifetime expire (escrow back to the issuer); assigned
    contracts past their deadline fail (penalty debited when ``debit_on_expiry``); the block the next
    step overwrites is freed."""
    t = s.t[:, None]
    st = p.settlement
    exp_open = (s.c_state == C_OPEN) & (t >= s.c_posted + p.market_config.open_lifetime - 1)
    if exp_open.any():
        s.c_state[exp_open] = C_EXPIRED
        ret = np.where(exp_open, s.c_reward, 0.0).sum(axis=1)
        s.acct["escrow"] -= ret
        s.acct["issuer"] += ret
    overdue = (s.c_state == C_ASSIGNED) & (t >= s.c_deadline) & (s.c_due > s.c_deadline)
    if overdue.any():
        b, c = np.nonzero(overdue)
        lia = s.c_liable[b, c]
        pen = s.c_penalty[b, c] if st.debit_on_expiry else np.zeros(len(b))
        np.add.at(s.balance, (b, lia), -pen)
        np.add.at(s.acct["issuer" if st.penalty_sink == "issuer" else "burn"], b, pen)
        np.add.at(s.acct["escrow"], b, -s.c_reward[b, c])
        np.add.at(s.acct["issuer"], b, s.c_reward[b, c])
        s.c_state[b, c] = C_FAILED
    nxt = ((s.t + 1) % p.W) * p.n_post
    cols = nxt[:, None] + np.arange(p.n_post)
    rows = np.arange(s.batch_size)[:, None]
    live = s.c_state[rows, cols]
    if np.any((live == C_OPEN) | (live == C_ASSIGNED)):  # pragma: no cover - guarded by W
        raise RuntimeError("contract book overflow: a live contract would be overwritten")
    s.c_state[rows, cols] = C_FREE
