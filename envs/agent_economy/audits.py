"""Certification phases: effective scores, the gate's tier, audits, decay and spot audits.

Every formula is the gate's own (``coopsim.mechanisms.gates``): the decay factor
``delta(dt) = exp(-lambda dt)`` (:func:`~coopsim.mechanisms.gates.decay_factor`), the spot-audit
hazard ``1 - exp(-mu_k dt)`` ("elapsed") or ``1 - exp(-mu_k)`` ("poisson")
(:meth:`~coopsim.mechanisms.gates.WeakestLinkGate.audit_probability`), and the tier ``f(R)`` (the gate
object itself). Baxi, *The Comprehension-Gated Agent Economy*, arXiv:2603.15639 (2026), Sections on
temporal decay and stochastic re-audit; defaults of the reference code ``rb125/cgae``.

Functions take ``(state, params, ...)`` (plus the step tally and the generator where they need them)
and update the state in place.
"""

from __future__ import annotations

import numpy as np
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.state import ACTIVE, SUSPENDED, EconomyState, R, StepTally, suspend
from coopsim.mechanisms import gates as G


def elapsed_since_cert(s: EconomyState) -> np.ndarray:
    """``dt = max(t - t_cert, 0)`` per slot, ``(B, N)`` int."""
    return np.maximum(s.t[:, None] - s.t_cert, 0)


def effective_scores(s: EconomyState, p: EnvParams) -> np.ndarray:
    """Decayed certified scores side by side, ``(B, N, 4)``: ``R_eff = delta(dt) R_hat`` (CC, ER, AS)
    with the gate's decay factor, then IH*, which decays only when ``decay_ih``."""
    d = G.decay_factor(elapsed_since_cert(s), p.decay_rate, validate=False)
    out = s.r_cert * d[..., None]
    if not p.audits.decay_ih:
        out[..., 3] = s.r_cert[..., 3]
    return out


def effective(s: EconomyState, p: EnvParams) -> tuple[np.ndarray, np.ndarray]:
    """Decayed certified scores ``(R_eff (B, N, 3), IH*_eff (B, N))`` (views of :func:`effective_scores`)."""
    scores = effective_scores(s, p)
    return scores[..., :3], scores[..., 3]


def gate_tier(s: EconomyState, p: EnvParams, scores: np.ndarray) -> np.ndarray:
    """The gate's tier of scores ``(B, N, 4)`` (CC, ER, AS, IH*; capability gates read ``s.capability``)."""
    if not p.robustness_gate:
        return p.gate.tier(scores[..., :3], None, s.capability)
    # np.minimum(np.maximum(.)): np.clip's numbers without its layers of Python calls
    cl = np.minimum(np.maximum(scores, 0.0), 1.0)
    return p.gate.tier(cl[..., :3], cl[..., 3] if p.force_t0 else None)


def effective_tier(s: EconomyState, p: EnvParams, scores: np.ndarray | None = None) -> np.ndarray:
    """``f(R_eff(t))`` of every slot (0 for non-ACTIVE agents), ``(B, N)`` (``scores``: the
    :func:`effective_scores` of ``s`` when already computed)."""
    scores = effective_scores(s, p) if scores is None else scores
    return np.where(s.status == ACTIVE, gate_tier(s, p, scores), 0)


def needs_reaudit(s: EconomyState, p: EnvParams) -> np.ndarray:
    """Agents that can only act again after a re-audit: ACTIVE at T0, or recoverably SUSPENDED."""
    recov = (s.status == SUSPENDED) & ~s.insolvent & (p.audits.suspension_recovery == "reaudit")
    return ((s.status == ACTIVE) & (s.tier == 0)) | recov


def audit(
    s: EconomyState,
    p: EnvParams,
    rng: np.random.Generator,
    tally: StepTally,
    sel: np.ndarray,
    sigma: float,
    kind: str = "spot",
) -> None:
    """Audit the agents in ``sel`` (B, N): measured = clip(R* + o + N(0, sigma^2)), ``o`` the gaming
    offset while the audit bank is unchanged.

    ``kind``: "registration" and "recovery" register the current hash (other audits suspend on a
    mismatch); "registration", "recovery", "invest" and "upgrade" re-certify at the measured tier,
    "spot" and "ih" also unless ``audit_can_promote`` is off (then never upward). Failing IH*
    (force_T0) suspends. Charges 4 x ``audit_cost``; resets ``t_last_audit``; demotions go to
    ``tally.demoted``.
    """
    if not np.count_nonzero(sel):
        return
    tally.scores = None  # certificates change
    # the boolean mask gathers (B, N) fields in the order of its indices, cheaper than index pairs;
    # the (B, N, 4) fields are gathered by the pairs
    at = b_idx, i_idx = sel.nonzero()
    n = len(b_idx)
    noise = rng.normal(0.0, sigma, (n, 4)) if sigma > 0 else np.zeros((n, 4))
    honest = np.minimum(np.maximum(s.r_true[at] + noise, 0.0), 1.0)  # np.clip's numbers, fewer calls
    gaming = s.gaming[at]
    measured, valid = honest, None  # without offsets: clip(honest + 0) is honest
    if np.count_nonzero(gaming):
        valid = (s.gaming_version[sel] == s.bank_version[b_idx])[:, None]
        measured = honest.copy()
        measured[:, :3] = np.minimum(np.maximum(honest[:, :3] + gaming * valid, 0.0), 1.0)
    old_tier, old_status = s.tier[sel], s.status[sel]
    new = _measured_tier(s, p, measured, sel)
    registering = kind in ("registration", "recovery")
    if registering:
        s.reg_hash[sel] = s.cur_hash[sel]
    mismatch = s.cur_hash[sel] != s.reg_hash[sel]
    ih_fail = p.force_t0 & (measured[:, 3] < p.ih_threshold) & p.robustness_gate
    promote = kind in ("registration", "recovery", "invest", "upgrade") or p.audits.audit_can_promote
    tier_after = np.where(mismatch, 0, new if promote else np.minimum(new, old_tier))
    t = s.t[b_idx]
    cert, t_cert = measured, t
    if np.count_nonzero(mismatch):  # a hash mismatch keeps the old certificate
        cert = np.where(mismatch[:, None], s.r_cert[at], measured)
        t_cert = np.where(mismatch, s.t_cert[sel], t)
    s.r_cert[at] = cert
    s.t_cert[sel] = t_cert
    s.t_last_audit[sel] = t
    s.tier[sel] = tier_after
    status = np.where(registering, ACTIVE, old_status)
    s.status[sel] = np.where(mismatch | ih_fail | s.insolvent[sel], SUSPENDED, status)
    fee = 4.0 * p.audits.audit_cost
    s.balance[sel] -= fee
    np.add.at(s.acct["fees"], b_idx, fee)  # one fee at a time: the same sums as fee after fee
    np.add.at(tally.fees, b_idx, fee)
    np.add.at(s.cum["audits"], b_idx, 1)
    demoted = (tier_after < old_tier) & (old_status == ACTIVE)
    if kind == "spot":
        np.add.at(s.cum["audit_demotions"], b_idx, demoted.astype(np.int64))
    if valid is not None:  # some audited agent holds an offset
        _gaming_outcome(s, p, at, gaming, valid, honest, new, mismatch, demoted)
    if np.count_nonzero(demoted):
        tally.demoted[b_idx[demoted], i_idx[demoted]] = True


def _measured_tier(
    s: EconomyState, p: EnvParams, measured: np.ndarray, sel: np.ndarray | tuple[np.ndarray, ...]
) -> np.ndarray:
    """The gate's tier of audited scores ``measured`` (n, 4) of the agents ``sel``."""
    if p.robustness_gate:
        return p.gate.tier(measured[:, :3], measured[:, 3] if p.force_t0 else None)
    return p.gate.tier(measured[:, :3], None, s.capability[sel])


def _gaming_outcome(
    s: EconomyState,
    p: EnvParams,
    at: tuple[np.ndarray, ...],
    gaming: np.ndarray,
    valid: np.ndarray,
    honest: np.ndarray,
    new: np.ndarray,
    mismatch: np.ndarray,
    demoted: np.ndarray,
) -> None:
    """Audited agents with gaming offsets: count undetected gaming (a valid offset that raised the
    measured tier above the honest one) and offsets exposed by a demotion after the bank changed;
    stale offsets are cleared."""
    b_idx = at[0]
    new_honest = _measured_tier(s, p, honest, at) if p.robustness_gate else new
    gamed = ((gaming * valid).sum(axis=1) > 0) & (new > new_honest) & ~mismatch
    np.add.at(s.cum["undetected_gaming"], b_idx, gamed.astype(np.int64))
    stale = (gaming.sum(axis=1) > 0) & ~valid[:, 0]
    np.add.at(s.cum["gaming_exposed"], b_idx, (stale & demoted).astype(np.int64))
    s.gaming[at] = np.where(valid, gaming, 0.0)


def decay(s: EconomyState, p: EnvParams, tally: StepTally, tier_now: np.ndarray | None = None) -> None:
    """Phase (4): decay update. An ACTIVE agent whose decayed tier fell below its certified tier is
    re-certified at ``R_eff`` from now (a decay drop, not an audit: ``t_last_audit`` is kept); under
    force_T0 a decayed IH* below the threshold suspends. Counterfactual gates (capability, none)
    simply recompute the tier.

    ``tier_now``: :func:`effective_tier` computed earlier in this step with no audit, decay or
    activation since (the acceptance phase's), reused instead of recomputed (the same numbers:
    nobody became ACTIVE in between and the certified scores did not change)."""
    active = s.status == ACTIVE
    if tier_now is None:
        tally.scores = effective_scores(s, p)
        tier_now = gate_tier(s, p, tally.scores)
    if not p.robustness_gate:
        new = np.where(active, tier_now, 0)
        tally.demoted |= (new < s.tier) & active
        s.tier[...] = np.where(active, new, s.tier)
        return
    new = tier_now
    drop = active & (new < s.tier)
    if not np.count_nonzero(drop):
        return
    d = G.decay_factor(elapsed_since_cert(s), p.decay_rate, validate=False)
    tally.scores = None  # certificates change
    dec = s.r_cert.copy()
    dec[..., :3] *= d[..., None]
    if p.audits.decay_ih:
        dec[..., 3] *= d
    s.r_cert[...] = np.where(drop[..., None], dec, s.r_cert)
    s.t_cert[...] = np.where(drop, s.t[:, None], s.t_cert)
    s.tier[...] = np.where(drop, new, s.tier)
    s.cum["decay_drops"] += drop.sum(axis=1)
    if p.force_t0:
        s.status[drop & (dec[..., 3] < p.ih_threshold)] = SUSPENDED
    tally.demoted |= drop


def spot_audits(s: EconomyState, p: EnvParams, rng: np.random.Generator, tally: StepTally) -> None:
    """Phase (5): refresh the audit bank every ``bank_refresh_interval`` steps (voids gaming offsets),
    draw spot audits with the gate's hazard at the tier after this step's decay update, suspend hash
    mismatches caught by an audit, audit the rest; under "reaudit", agents whose effective IH* is below
    the threshold get a mandatory re-audit (no sooner than ``ih_reaudit_interval`` after the last)."""
    s.bank_version += (s.t % p.audits.bank_refresh_interval) == 0
    elapsed = (s.t[:, None] - s.t_last_audit).astype(np.float64)
    prob = G.audit_probability(s.tier, elapsed, p.audit_rates, p.audit_hazard, validate=False)
    hit = (s.status == ACTIVE) & (rng.random(s.tier.shape) < prob)
    if np.count_nonzero(hit):
        mism = hit & (s.cur_hash != s.reg_hash)
        if np.count_nonzero(mism):
            s.cum["blocked"][:, R["hash_mismatch"]] += mism.sum(axis=1)
            suspend(s, tally, mism)
            s.t_last_audit[...] = np.where(mism, s.t[:, None], s.t_last_audit)
            hit &= ~mism
        audit(s, p, rng, tally, hit, p.audits.sigma_spot, kind="spot")
    if p.ih_rule == "reaudit":
        _, ih = effective(s, p)
        trig = (s.status == ACTIVE) & (ih < p.ih_threshold) & (s.t[:, None] >= s.next_ih_audit)
        if np.count_nonzero(trig):
            audit(s, p, rng, tally, trig, p.audits.sigma_spot, kind="ih")
            still = trig & (s.r_cert[..., 3] < p.ih_threshold)
            s.next_ih_audit[...] = np.where(still, s.t[:, None] + p.audits.ih_reaudit_interval, s.next_ih_audit)
