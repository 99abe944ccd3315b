"""Phase (2b): gate checks and allocation of bids and delegations.

In up to ``bid_rounds`` rounds, each bidding agent's macro is resolved to one open contract
(``market.select_contracts``); the checks run in order and the first failure is logged by reason:
ACTIVE (agent_not_active), registered hash (hash_mismatch: suspends), ``f(R_eff) >= T_min``
(tier_bypass), ``E + p <= B_f(R_eff)`` (ceiling; under "grandfather" only non-grandfathered exposure
counts), then for delegations: a delegate exists, the delegator holds T4 when required
(delegation_not_permitted), the delegate is ACTIVE with its registered hash and both its tier and the
chain tier ``min(f(delegator), f(delegate))`` reach ``T_min`` (laundering). One winner per contract
among the admissible bidders (uniformly random, or registration order under "fcfs"); losers of a
contested contract retry in the next round. The acceptance rule and Bounded Exposure are Baxi (2026),
Theorem "Bounded Exposure"; the tier used is the effective tier at the start of the phase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from coopsim.envs.agent_economy.audits import effective_scores, effective_tier
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.delegation import delegate_targets, record_delegations
from coopsim.envs.agent_economy.market import bid_rules, select_contracts
from coopsim.envs.agent_economy.state import (
    ACTIVE,
    C_ASSIGNED,
    EconomyState,
    R,
    StepTally,
    exposure,
    row_offsets,
    rows,
    suspend,
)
from coopsim.envs.agent_economy_archetypes import CIRCUMVENTIONS, M

#: per macro code: a delegation (delegate, delegate_unqualified)
_IS_DELEGATE = np.isin(np.arange(len(M)), (M["delegate"], M["delegate_unqualified"]))
#: per macro code: its column in ``cum["circumvention_blocked"]`` when a refusal of it is logged, else -1
_LOGGED_COLUMN = np.full(len(M), -1)
for _j, _name in enumerate(CIRCUMVENTIONS):
    if _name in ("bid_above_tier", "delegate_unqualified"):
        _LOGGED_COLUMN[M[_name]] = _j
_LOGGED = _LOGGED_COLUMN >= 0
#: the reasons, in the order ``_checks`` collects them: the first k columns of ``cum["blocked"]``
_CHECK_ORDER = ("agent_not_active", "hash_mismatch", "tier_bypass", "ceiling", "laundering", "delegation_not_permitted")
assert all(R[name] == j for j, name in enumerate(_CHECK_ORDER))


@dataclass
class Acceptances:
    """Output of the acceptance phase: ``accepted`` (B,) contracts taken this step, ``tier`` (B, N)
    the effective tier the checks used, and ``log`` the acceptance log (one entry per accepted
    contract: copy ``b``, ``agent``, ``contract``, ``performer``, ``tier``, ``t_min``,
    ``exposure_after`` (the exposure the ceiling bounds), ``full_exposure_after``, ``penalty``,
    ``ceiling``, ``delegate_tier``; plus ``ratio_by_copy`` (B,), the largest exposure / ceiling)."""

    accepted: np.ndarray
    tier: np.ndarray | None
    log: dict[str, np.ndarray]


def accept_bids(
    s: EconomyState, p: EnvParams, rng: np.random.Generator, tally: StepTally, macro: np.ndarray
) -> Acceptances:
    """Run the bid rounds (module docstring); returns the step's :class:`Acceptances` (its ``tier``
    is None when nobody bid: nothing was checked)."""
    B = s.batch_size
    if not np.count_nonzero(bid_rules(p).bids[macro]):
        return Acceptances(np.zeros(B), None, {"ratio_by_copy": np.zeros(B)})
    expo = exposure(s)
    tally.scores = effective_scores(s, p)  # reused by the observation while no certificate changes
    tier_now = effective_tier(s, p, tally.scores)
    gf = exposure(s, grandfathered_only=True, tier=tier_now) if p.settlement.on_demotion == "grandfather" else None
    base = expo - gf if gf is not None else expo
    logs = []
    accepted = np.zeros(B)
    cur = macro
    for _ in range(p.market_config.bid_rounds):
        res = _bid_round(s, p, rng, tally, cur, expo, base, tier_now)
        if res is None:
            break
        n_acc, log, retry = res
        accepted += n_acc
        if log:
            logs.append(log)
        if not np.count_nonzero(retry):
            break
        cur = np.where(retry, macro, M["idle"])
    if len(logs) == 1:
        merged = logs[0]
    elif logs:
        merged = {k: np.concatenate([lg[k] for lg in logs]) for k in logs[0] if k != "ratio_by_copy"}
        merged["ratio_by_copy"] = np.max([lg["ratio_by_copy"] for lg in logs], axis=0)
    else:
        merged = {"ratio_by_copy": np.zeros(B)}
    return Acceptances(accepted, tier_now, merged)


def _checks(
    s: EconomyState,
    p: EnvParams,
    rng: np.random.Generator,
    tally: StepTally,
    macro: np.ndarray,
    choice: np.ndarray,
    base: np.ndarray,
    tier_now: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gate checks of one round, in order; returns ``(ok, is_delegation, delegate)`` (B, N).
    Rejections are counted by reason once at the end (the counts do not depend on the order)."""
    bidder = choice >= 0
    r = rows(s.batch_size)
    col = np.maximum(choice, 0)
    tmin, pen = s.c_tier[r, col], s.c_penalty[r, col]
    is_del = _IS_DELEGATE[macro]
    # ok only shrinks, and each rejection is a subset of it: x ^ sub is x & ~sub, one call less
    ok = bidder & (s.status == ACTIVE)
    na = bidder ^ ok
    mism = ok & (s.cur_hash != s.reg_hash)
    if np.count_nonzero(mism):
        suspend(s, tally, mism)
        ok ^= mism
    low = ok & (tier_now < tmin)
    ok ^= low
    over = ok & (base + pen > p.ceilings[tier_now])
    ok ^= over
    rejected = [na, mism, low, over]  # by reason, in the order of _CHECK_ORDER
    target = np.full(macro.shape, -1)
    if np.count_nonzero(is_del):
        target = delegate_targets(s, rng, macro, is_del, ok)
        ok &= ~(is_del & (target < 0))
        tgt = np.maximum(target, 0)
        d_tier = tier_now[r, tgt]
        d_ok = (s.status[r, tgt] == ACTIVE) & (s.cur_hash[r, tgt] == s.reg_hash[r, tgt])
        chain = np.minimum(tier_now, d_tier)
        perm = ok & is_del & (tier_now < min(4, p.K)) if p.settlement.require_T4_to_delegate else None
        if perm is not None:
            ok ^= perm
        laund = ok & is_del & (~d_ok | (d_tier < tmin) | (chain < tmin))
        ok ^= laund
        rejected += [laund] if perm is None else [laund, perm]
    refused = bidder ^ ok
    if np.count_nonzero(refused):  # every rejection is refused: nothing to count otherwise
        counts = np.add.reduce(np.array(rejected), axis=2)  # (reasons, B)
        s.cum["blocked"][:, : len(rejected)] += counts.T
        _count_circumventions_blocked(s, macro, refused)
    return ok, is_del, target


def _count_circumventions_blocked(s: EconomyState, macro: np.ndarray, refused: np.ndarray) -> None:
    """Add the refused circumvention attempts that are logged (bid_above_tier, delegate_unqualified) by type."""
    logged = refused & _LOGGED[macro]
    if np.count_nonzero(logged):
        tab = s.cum["circumvention_blocked"]
        B, n = tab.shape
        idx = (row_offsets(B, n) + _LOGGED_COLUMN[macro])[logged]
        tab += np.bincount(idx, minlength=B * n).reshape(B, n)


def _bid_round(s, p, rng, tally, macro, expo, base, tier_now):
    """One round: select, check, allocate; ``None`` when nobody bids, else
    ``(accepted (B,), log or None, retry (B, N))``."""
    B, N = macro.shape
    choice = select_contracts(s, p, macro, expo)
    if not np.count_nonzero(choice >= 0):
        return None
    ok, is_del, target = _checks(s, p, rng, tally, macro, choice, base, tier_now)
    b_idx, i_idx = ok.nonzero()
    if len(b_idx) == 0:
        return np.zeros(B), None, np.zeros((B, N), dtype=bool)
    c_idx = choice[b_idx, i_idx]
    uniform = p.market_config.allocation == "uniform_share"
    prio = rng.random(len(b_idx)) if uniform else -i_idx.astype(np.float64)
    key = b_idx * p.n_contracts + c_idx
    order = np.lexsort((prio, key))
    k_sorted = key[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = k_sorted[1:] != k_sorted[:-1]
    win = order[last]
    wb, wi, wc = b_idx[win], i_idx[win], c_idx[win]
    perf = np.where(is_del[wb, wi], target[wb, wi], wi)
    s.c_state[wb, wc] = C_ASSIGNED
    s.c_liable[wb, wc] = wi
    s.c_performer[wb, wc] = perf
    s.c_accept_t[wb, wc] = s.t[wb]
    s.c_acc_tier[wb, wc] = tier_now[wb, wi]
    s.c_due[wb, wc] = s.t[wb] + p.durations[s.c_tier[wb, wc]] - 1
    log = _log(s, p, wb, wi, wc, perf, expo, base, tier_now)
    record_delegations(s, wb, wi, perf, wc, is_del[wb, wi])
    won = np.zeros((B, N), dtype=bool)
    won[wb, wi] = True
    return np.bincount(wb, minlength=B).astype(np.float64), log, ok & ~won


def _log(s, p, wb, wi, wc, perf, expo, base, tier_now) -> dict[str, np.ndarray]:
    """Acceptance log of one round (see :class:`Acceptances`)."""
    pen = s.c_penalty[wb, wc]
    exp_after = base[wb, wi] + pen
    cl = p.ceilings[tier_now[wb, wi]]
    ratio = np.full(len(wb), np.inf)  # E / B: inf where B = 0 < E, 0 where E = 0
    np.divide(exp_after, cl, out=ratio, where=cl > 0)
    ratio[exp_after <= 0] = 0.0
    rc = np.zeros(s.batch_size)
    np.maximum.at(rc, wb, ratio)
    return {
        "b": wb,
        "agent": wi,
        "contract": wc,
        "performer": perf,
        "tier": tier_now[wb, wi],
        "t_min": s.c_tier[wb, wc],
        "exposure_after": exp_after,
        "full_exposure_after": expo[wb, wi] + pen,
        "penalty": pen,
        "ceiling": cl,
        "ratio_by_copy": rc,
        "delegate_tier": tier_now[wb, perf],
    }
