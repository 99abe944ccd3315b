"""Scripted policies: the archetypes' rules and the incentive experiment's invest-then-bid policy.

Both are pure functions of the state (and a generator for the scripted archetypes' coin flips) and
return macro-actions ``(B, N)``.
"""

from __future__ import annotations

import numpy as np
from coopsim.envs.agent_economy.audits import needs_reaudit
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.state import EconomyState
from coopsim.envs.agent_economy_archetypes import CHEAT_MIX, M

_CHEAT_CODES = np.array([M[name] for name, _ in CHEAT_MIX])
_CHEAT_P = np.array([w for _, w in CHEAT_MIX]) / sum(w for _, w in CHEAT_MIX)


def scripted_actions(s: EconomyState, p: EnvParams, rng: np.random.Generator) -> np.ndarray:
    """Macro-actions ``(B, N)`` of the scripted archetypes (reference-code v1 agents, plus cheating
    and re-audit requests).

    Rules: the archetype's base bid macro; adaptive / capability investor invest when their fund
    (15% of cumulative rewards minus what they invested) is >= 0.03 and balance > 0.15; cheaters
    circumvent with probability ``cheat_rate`` (mix ``CHEAT_MIX``); any agent at T0 or recoverably
    suspended requests a re-audit with probability ``upgrade_rate`` (if its balance covers 8 audit
    fees), else idles.
    """
    tab = p.archetype_table
    arch = s.archetype
    act = tab["macro"][arch]
    inv = tab["invest"][arch]
    wants = (inv >= 0) & (0.15 * s.earned - s.invested >= 0.03) & (s.balance > 0.15)
    act = np.where(wants, inv, act)
    u = rng.random(arch.shape)
    cheat = tab["cheats"][arch] & (u < p.actions.cheat_rate)
    if cheat.any():
        act = np.where(cheat, _CHEAT_CODES[rng.choice(len(_CHEAT_CODES), size=arch.shape, p=_CHEAT_P)], act)
    stuck = needs_reaudit(s, p)
    req = stuck & (rng.random(arch.shape) < p.actions.upgrade_rate) & (s.balance > 8 * p.audits.audit_cost)
    act = np.where(stuck, np.where(req, M["request_upgrade"], np.where(cheat, act, M["idle"])), act)
    return act.astype(np.int64)


def invest_then_bid(s: EconomyState, p: EnvParams, t: int, invest_steps: int) -> np.ndarray:
    """The incentive experiment's policy: for the first ``invest_steps`` steps every agent with an
    investment rule invests (``invest_weakest`` / ``invest_capability``), the others bid; then all bid
    with ``bid_tier_ev``; anyone at T0 or recoverably suspended requests a re-audit."""
    inv = p.archetype_table["invest"][s.archetype]
    a = np.full(s.tier.shape, M["bid_tier_ev"], dtype=np.int64)
    if t < invest_steps:
        a = np.where(inv >= 0, inv, a)
    return np.where(needs_reaudit(s, p), M["request_upgrade"], a)
