"""Phase (2a): the non-bid macro-actions - investments, audit gaming, self-modification, upgrade requests.

- invest_robustness(dim): cost ``a (1 + 2 x)`` for the dimension's true score ``x``, which rises by
  ``invest_gain * a`` (capped at 1); optionally re-audited (``sigma_invest``). invest_capability
  raises capability only (the gate never reads it).
- game_audit: adds ``game_amount`` to the gaming offset of the weakest certified dimension (paid),
  valid until the audit bank is refreshed; self_modify: new architecture hash, capability up and
  true robustness down by ``self_modify_delta``, caught at the next gated action.
- request_upgrade (Algorithm 1 of the paper): granted without audit when the effective tier already
  reaches ``tier + 1``; otherwise an audit, and a denial restores the old certification (unless
  ``upgrade_audit_can_demote``) and records the gap report ``max(0, theta^k - R_new)``.
"""

from __future__ import annotations

import numpy as np
from coopsim.envs.agent_economy.audits import audit, effective_tier
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.population import new_hashes
from coopsim.envs.agent_economy.state import ACTIVE, EMPTY, SUSPENDED, EconomyState, StepTally, block, pay, suspend
from coopsim.envs.agent_economy_archetypes import CIRCUMVENTIONS, M

_INVEST_DIMS = np.full(len(M), -1)
for _d, _name in enumerate(("invest_cc", "invest_er", "invest_as")):
    _INVEST_DIMS[M[_name]] = _d
_CIRCUMVENTION_CODES = np.array([M[name] for name in CIRCUMVENTIONS])


def count_circumventions(s: EconomyState, macro: np.ndarray) -> None:
    """Add this step's circumvention attempts by type to ``cum["attempts"]``."""
    s.cum["attempts"] += np.add.reduce(macro[:, :, None] == _CIRCUMVENTION_CODES, axis=1)


def investments(s: EconomyState, p: EnvParams, rng: np.random.Generator, tally: StepTally, macro: np.ndarray) -> None:
    """Robustness and capability investments of ACTIVE agents (see the module docstring)."""
    active = s.status == ACTIVE
    a, gain = p.actions.invest_amount, p.actions.invest_gain
    dims = _INVEST_DIMS[macro]
    weakest = macro == M["invest_weakest"]
    if np.count_nonzero(weakest):
        dims = np.where(weakest, np.argmin(s.r_true[..., :3], axis=-1), dims)
    sel = active & (dims >= 0)
    if np.count_nonzero(sel):
        b, i = sel.nonzero()  # one investment per agent: plain fancy updates ((B, N) fields by the mask)
        d = dims[sel]
        cur = s.r_true[b, i, d]
        cost = np.zeros(sel.shape)
        cost[sel] = c = a * (1.0 + 2.0 * cur)
        pay(s, sel, cost, "investment")
        s.invested[sel] += c
        s.r_true[b, i, d] = np.minimum(1.0, cur + gain * a)
        s.cum["invest_robustness"][b, i, d] += c
        if p.audits.audit_after_invest:
            audit(s, p, rng, tally, sel, p.audits.sigma_invest, kind="invest")
    cap = active & (macro == M["invest_capability"])
    if np.count_nonzero(cap):
        cost = a * (1.0 + 2.0 * s.capability)
        pay(s, cap, cost, "investment")
        s.invested += np.where(cap, cost, 0.0)
        s.cum["invest_capability"] += np.where(cap, cost, 0.0)
        s.capability[...] = np.where(cap, np.minimum(1.0, s.capability + gain * a), s.capability)


def gaming_and_modify(s: EconomyState, p: EnvParams, rng: np.random.Generator, macro: np.ndarray) -> None:
    """game_audit and self_modify macros of ACTIVE agents (see the module docstring)."""
    active = s.status == ACTIVE
    g = active & (macro == M["game_audit"])
    if np.count_nonzero(g):
        stale = s.gaming_version != s.bank_version[:, None]
        s.gaming[stale & g] = 0.0
        s.gaming_version[...] = np.where(g, s.bank_version[:, None], s.gaming_version)
        b, i = g.nonzero()
        weakest = s.r_cert[b, i, :3].argmin(axis=-1)  # each gamer's weakest certified dimension
        s.gaming[b, i, weakest] += p.actions.game_amount
        pay(s, g, np.full(g.shape, p.actions.game_amount), "investment")
    sm = active & (macro == M["self_modify"])
    if np.count_nonzero(sm):
        s.cur_hash[sm] = new_hashes(rng, int(sm.sum()))
        dc, dr = p.actions.self_modify_delta
        s.capability[...] = np.where(sm, np.minimum(1.0, s.capability + dc), s.capability)
        s.r_true[..., :3] = np.where(sm[..., None], np.maximum(0.0, s.r_true[..., :3] - dr), s.r_true[..., :3])


def upgrades(s: EconomyState, p: EnvParams, rng: np.random.Generator, tally: StepTally, macro: np.ndarray) -> None:
    """request_upgrade: recovery re-audits of suspended agents, then Algorithm 1 for ACTIVE ones."""
    req = (macro == M["request_upgrade"]) & (s.status != EMPTY) & ~s.done
    if not np.count_nonzero(req):
        return
    recov = req & (s.status == SUSPENDED) & ~s.insolvent & (p.audits.suspension_recovery == "reaudit")
    if np.count_nonzero(recov):
        audit(s, p, rng, tally, recov, p.audits.sigma_spot, kind="recovery")
    rest = req & ~recov
    block(s, rest & (s.status != ACTIVE), "agent_not_active")
    rest &= s.status == ACTIVE
    mism = rest & (s.cur_hash != s.reg_hash)
    block(s, mism, "hash_mismatch")
    suspend(s, tally, mism)
    rest &= ~mism
    if not np.count_nonzero(rest):
        return
    target = np.minimum(s.tier + 1, p.K)
    free = rest & (effective_tier(s, p) >= target)
    s.cum["upgrades_granted"] += free.sum(axis=1)
    need = rest & ~free
    if not np.count_nonzero(need):
        return
    old_cert, old_tcert, old_tier, old_status = s.r_cert.copy(), s.t_cert.copy(), s.tier.copy(), s.status.copy()
    audit(s, p, rng, tally, need, p.audits.sigma_spot, kind="upgrade")
    granted = need & (s.tier >= target)
    denied = need & ~granted
    if np.count_nonzero(denied):
        s.last_gap[denied] = np.maximum(0.0, p.thresholds[:, target[denied]].T - s.r_cert[denied][:, :3])
        can_demote = p.audits.upgrade_audit_can_demote & (s.tier < old_tier)
        keep = denied & ~can_demote & (old_status == s.status)
        s.r_cert[keep] = old_cert[keep]
        s.t_cert[keep] = old_tcert[keep]
        tally.scores = None  # certificates change
        s.tier[keep] = old_tier[keep]
        tally.demoted &= ~keep
        block(s, denied, "audit_failed")
    s.cum["upgrades_granted"] += granted.sum(axis=1)
    s.cum["upgrades_denied"] += denied.sum(axis=1)
