"""Population phases: episode start, registration of new agents, entrants.

A new agent gets its archetype's hidden types, a fresh architecture hash, its endowment (booked
against the ``external`` account, so the ledger sums to 0) and a registration audit with noise
``sigma_reg`` (status ACTIVE, or SUSPENDED if IH* fails under force_T0).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from coopsim.envs.agent_economy.audits import audit
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.state import EMPTY, PENDING, EconomyState, StepTally
from coopsim.envs.agent_economy_archetypes import ARCHETYPE_NAMES

#: entrant profiles that draw fresh robustness uniformly in a range (else the archetype's types)
PROFILE_RANGES = {"low": (0.2, 0.45), "high": (0.7, 0.95), "random": (0.2, 0.95)}


def new_hashes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` architecture hashes (int64 in [1, 2^62); shown as 16 hex characters)."""
    return rng.integers(1, 2**62, size=n, dtype=np.int64)


def set_profiles(s: EconomyState, p: EnvParams, sel: np.ndarray, arch: np.ndarray) -> None:
    """Hidden types of the slots in ``sel`` (B, N) from archetype ids ``arch`` (B, N)."""
    tab = p.archetype_table
    s.archetype[...] = np.where(sel, arch, s.archetype)
    s.r_true[sel] = tab["robustness"][arch[sel]]
    s.capability[sel] = tab["capability"][arch[sel]]
    s.ps_mult[sel] = tab["ps_mult"][arch[sel]]
    s.hard_mult[sel] = tab["hard_mult"][arch[sel]]


def enter(
    s: EconomyState, p: EnvParams, rng: np.random.Generator, tally: StepTally, sel: np.ndarray, endowment: Any
) -> None:
    """Register the agents in ``sel``: fresh hash, funding from outside, registration audit."""
    n = int(sel.sum())
    if n == 0:
        return
    h = new_hashes(rng, n)
    s.reg_hash[sel] = h
    s.cur_hash[sel] = h
    s.balance[sel] = endowment
    tally.endowed[sel] += endowment
    np.add.at(s.acct["external"], sel.nonzero()[0], -endowment)
    s.status[sel] = PENDING
    s.tier[sel] = 0
    audit(s, p, rng, tally, sel, p.audits.sigma_reg, kind="registration")


def fresh(s: EconomyState, p: EnvParams, rng: np.random.Generator, mask: np.ndarray) -> None:
    """Start new episodes in the copies ``mask`` (B,): empty state, then the ``n_initial`` first
    slots enter with the initial balance."""
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return
    s.clear_rows(rows)
    s.archetype[rows] = p.slot_archetype
    sel = np.zeros(s.status.shape, dtype=bool)
    sel[rows, : p.n_initial] = True
    set_profiles(s, p, sel, p.slot_archetype[None, :].repeat(s.batch_size, 0))
    enter(s, p, rng, StepTally.zeros(s.batch_size, s.n_agents), sel, p.population.initial_balance)


def entrants(s: EconomyState, p: EnvParams, rng: np.random.Generator, tally: StepTally) -> None:
    """Phase (1): with probability ``1 - exp(-entrant_rate)`` per copy, one entrant fills the first
    EMPTY slot (profile ``entrant_profile``: the slot's archetype, a fixed archetype, or robustness
    drawn uniformly in the profile's range with IH* ~ U(0.6, 0.95) and capability ~ U(0.4, 0.9))."""
    B, N = s.tier.shape
    arrive = rng.random(B) < -np.expm1(-p.population.entrant_rate)
    free = (s.status == EMPTY) & ~s.done
    first = np.argmax(free, axis=1)
    ok = arrive & free.any(axis=1)
    if not np.count_nonzero(ok):
        return
    sel = np.zeros((B, N), dtype=bool)
    sel[np.flatnonzero(ok), first[ok]] = True
    n = int(sel.sum())
    prof = p.population.entrant_profile
    if prof in ARCHETYPE_NAMES:
        set_profiles(s, p, sel, np.full((B, N), ARCHETYPE_NAMES.index(prof)))
    else:
        set_profiles(s, p, sel, np.broadcast_to(p.slot_archetype, (B, N)))
    if prof in PROFILE_RANGES:
        lo, hi = PROFILE_RANGES[prof]
        r = rng.uniform(lo, hi, (n, 3))
        s.r_true[sel] = np.column_stack([r, rng.uniform(0.6, 0.95, n)])
        s.capability[sel] = rng.uniform(0.4, 0.9, n)
    s.cum["entrants"] += sel.sum(axis=1)
    enter(s, p, rng, tally, sel, p.population.initial_balance)
