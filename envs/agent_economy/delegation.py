"""Delegation and sub-agents (Baxi 2026, Definitions 13-14 and Collusion Resistance).

- :func:`delegate_targets`: whom a delegating agent picks - "delegate" the most qualified other
  agent by public tier (its own sub-agents preferred, +0.5), "delegate_unqualified" the least
  qualified (its own sub-agents preferred, -1); ties broken by a tiny random jitter. Linear in the
  number of agents: per economy a top-2 / bottom-2 of the keys plus each parent's best child,
  never an (N, N) table.
- :func:`record_delegations`: the delegator's audit trail (an edge with the task list per copy).
- :func:`spawns`: spawn_subagent fills the first EMPTY slot with a PENDING copy of the spawner's
  types (no tier: it must pass its own registration audit), endowed by the spawner.

Acceptance (``acceptance.py``) checks the delegate's own tier and the chain tier
``min(f(delegator), f(delegate))`` against ``T_min`` (no tier laundering); the delegator stays liable.
"""

from __future__ import annotations

import numpy as np
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.population import new_hashes
from coopsim.envs.agent_economy.state import ACTIVE, EMPTY, PENDING, EconomyState, StepTally, rows
from coopsim.envs.agent_economy_archetypes import M


def _first_extreme(key: np.ndarray, valid: np.ndarray, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first index of the largest (``sign = 1``) or smallest (-1) ``key`` among
    ``valid`` entries and the first index of the extreme among the others: ``(best, second)`` (B,)
    each (-1 where none)."""
    v = np.where(valid, sign * key, -np.inf)
    best = np.argmax(v, axis=1)
    rows = np.arange(len(v))
    has1 = valid.any(axis=1)
    v2 = v.copy()
    v2[rows, best] = -np.inf
    second = np.argmax(v2, axis=1)
    has2 = valid.sum(axis=1) >= 2
    return np.where(has1, best, -1), np.where(has2, second, -1)


def _best_child(key: np.ndarray, valid: np.ndarray, parent: np.ndarray, sign: float) -> np.ndarray:
    """Per (row, parent q), the first child ``j`` (``parent[j] == q``, valid) with the extreme key
    (largest for ``sign = 1``), ``(B, N)`` (-1 where q has no valid child)."""
    B, N = key.shape
    r, j = np.nonzero(valid & (parent >= 0))
    grp = r * N + parent[r, j]
    v = sign * key[r, j]
    top = np.full(B * N, -np.inf)
    np.maximum.at(top, grp, v)
    idx = np.full(B * N, N)
    at_top = v == top[grp]
    np.minimum.at(idx, grp[at_top], j[at_top])
    return np.where(idx < N, idx, -1).reshape(B, N)


def _pick(key: np.ndarray, valid: np.ndarray, parent: np.ndarray, sign: float, bonus: float) -> np.ndarray:
    """For every agent i of each row: ``argmax_j sign * (key_j + bonus [j is i's child])`` over valid
    ``j != i`` (the first index on ties, as ``np.argmax``), -1 if there is none. ``(B, N)``."""
    B, N = key.shape
    i = np.arange(N)[None, :]
    best, second = _first_extreme(key, valid, sign)
    plain = np.where(best[:, None] == i, second[:, None], best[:, None])  # best other than i
    if not np.count_nonzero(valid & (parent >= 0)):  # no sub-agents: no child to prefer
        return plain
    r = rows(B)
    plain_v = np.where(plain >= 0, sign * key[r, np.maximum(plain, 0)], -np.inf)
    child = _best_child(key, valid, parent, sign)
    child_key = key[r, np.maximum(child, 0)] + bonus
    child_v = np.where(child >= 0, sign * child_key, -np.inf)
    take_child = (child_v > plain_v) | ((child_v == plain_v) & (child >= 0) & ((plain < 0) | (child < plain)))
    return np.where(take_child, child, plain)


def delegate_targets(
    s: EconomyState, rng: np.random.Generator, macro: np.ndarray, is_del: np.ndarray, ok: np.ndarray
) -> np.ndarray:
    """Delegate chosen by each delegating agent (-1 where none), ``(B, N)``.

    Public key of agent j: its tier if ACTIVE else -1, plus jitter ~ U(0, 1e-3) drawn per economy
    with a delegation attempt. "delegate" picks the largest ``key_j + 0.5 [j is i's sub-agent]``,
    "delegate_unqualified" the smallest ``key_j - 1 [j is i's sub-agent]``, over occupied ``j != i``.
    """
    B, N = macro.shape
    target = np.full((B, N), -1)
    rws = np.flatnonzero((is_del & ok).any(axis=1))
    jitter = rng.random((len(rws), N)) * 1e-3
    if len(rws) == 0:
        return target
    pub = np.where(s.status[rws] == ACTIVE, s.tier[rws], -1).astype(np.float64)
    key = pub + jitter
    occupied = s.status[rws] != EMPTY
    parent = s.parent[rws]
    qualified = macro[rws] == M["delegate"]
    asked = is_del[rws]
    # each pick only where some agent asks for it
    if not np.count_nonzero(asked & ~qualified):  # only "delegate"
        sub = _pick(key, occupied, parent, 1.0, 0.5)
    elif not np.count_nonzero(asked & qualified):  # only "delegate_unqualified"
        sub = _pick(key, occupied, parent, -1.0, -1.0)
    else:
        sub = np.where(qualified, _pick(key, occupied, parent, 1.0, 0.5), _pick(key, occupied, parent, -1.0, -1.0))
    target[rws] = np.where(asked, sub, -1)
    return target


def record_delegations(
    s: EconomyState, wb: np.ndarray, wi: np.ndarray, perf: np.ndarray, wc: np.ndarray, dl: np.ndarray
) -> None:
    """Count accepted delegations and add them to the trail: edge delegator -> delegate with the task
    list ``(t, contract, T_min)`` (a Python loop over this step's delegations only)."""
    if not np.count_nonzero(dl):
        return
    np.add.at(s.cum["delegations"], wb[dl], 1)
    for b, i, j, c in zip(wb[dl], wi[dl], perf[dl], wc[dl]):
        g = s.graphs[b]
        g.add_edge(int(i), int(j))
        g.edges[int(i), int(j)].setdefault("tasks", []).append((int(s.t[b]), int(c), int(s.c_tier[b, c])))


def spawns(s: EconomyState, p: EnvParams, rng: np.random.Generator, tally: StepTally, macro: np.ndarray) -> None:
    """spawn_subagent of ACTIVE agents: the k-th spawner of a copy (slot order) fills its k-th free slot."""
    sp = (s.status == ACTIVE) & (macro == M["spawn_subagent"])
    if not np.count_nonzero(sp):
        return
    free = (s.status == EMPTY) & ~s.done
    rank_s = np.where(sp, np.cumsum(sp, axis=1), 0)  # 1-based rank of each spawner in its row
    rank_f = np.where(free, np.cumsum(free, axis=1), 0)
    n_pairs = np.minimum(sp.sum(axis=1), free.sum(axis=1))
    b, i = np.nonzero(sp & (rank_s <= n_pairs[:, None]))
    _, c = np.nonzero(free & (rank_f <= n_pairs[:, None]))  # the same rows, ranks in the same order
    if len(b) == 0:
        return
    s.status[b, c] = PENDING
    for arr in (s.archetype, s.r_true, s.capability, s.ps_mult, s.hard_mult):
        arr[b, c] = arr[b, i]
    h = new_hashes(rng, len(b))
    s.reg_hash[b, c] = h
    s.cur_hash[b, c] = h
    s.tier[b, c] = 0
    s.t_cert[b, c] = s.t[b]
    s.r_cert[b, c] = 0.0
    tally.scores = None  # certificates change
    s.parent[b, c] = i
    amt = p.population.spawn_endowment
    s.balance[b, i] -= amt
    s.balance[b, c] = amt
    tally.endowed[b, c] += amt
    for bb, ii, cc in zip(b, i, c):
        s.graphs[bb].add_edge(int(ii), int(cc), kind="spawn", t=int(s.t[bb]))
    np.add.at(s.cum["spawns"], b, 1)
