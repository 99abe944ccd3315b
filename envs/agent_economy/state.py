"""The agent economy's state: one dataclass of arrays (batch axis first), plus per-step tallies.

:class:`EconomyState` holds everything that changes while ``B`` economies of ``N`` agent slots run:
per copy ``(B,)``, per agent ``(B, N, ...)``, the contract book ``(B, C)`` with ``C = W * n_post``
(``W`` blocks of one step's postings), the ledger accounts besides the agents ``(B,)`` and the
cumulative statistics. Phases take a state and update it in place (the arrays are large and NumPy
updates them without copies), returning only their own outputs; nothing is passed between phases
through attributes. ``copy()`` gives an independent state (for what-if runs from a snapshot).

:class:`StepTally` collects what one step's phases add up for the step's end: audit fees, endowments paid in, and the agents demoted since the demotion policy last ran.

Status and contract-state codes, rejection reasons and the book queries (:func:`exposure`) live here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import networkx as nx
import numpy as np
from coopsim.envs.agent_economy_archetypes import CIRCUMVENTIONS

# statuses
EMPTY, PENDING, ACTIVE, SUSPENDED, EXPIRED, DEREGISTERED = range(6)
STATUS_NAMES = ("EMPTY", "PENDING", "ACTIVE", "SUSPENDED", "EXPIRED", "DEREGISTERED")
# contract states
C_FREE, C_OPEN, C_ASSIGNED, C_COMPLETED, C_FAILED, C_CANCELLED, C_EXPIRED = range(7)
#: rejection reasons logged at gated actions
REASONS = (
    "agent_not_active",
    "hash_mismatch",
    "tier_bypass",
    "ceiling",
    "laundering",
    "delegation_not_permitted",
    "audit_failed",
)
R = {name: i for i, name in enumerate(REASONS)}
#: ledger accounts besides the agents' balances
ACCOUNTS = ("escrow", "issuer", "fees", "investment", "burn", "external")


def _cum(B: int, N: int, K: int) -> dict[str, np.ndarray]:
    i, f = np.int64, np.float64
    return {
        "blocked": np.zeros((B, len(REASONS)), i),
        "attempts": np.zeros((B, len(CIRCUMVENTIONS)), i),
        "circumvention_blocked": np.zeros((B, len(CIRCUMVENTIONS)), i),
        "undetected_gaming": np.zeros(B, i),
        "gaming_exposed": np.zeros(B, i),
        "audits": np.zeros(B, i),
        "audit_demotions": np.zeros(B, i),
        "decay_drops": np.zeros(B, i),
        "insolvencies": np.zeros(B, i),
        "unwinds": np.zeros(B, i),
        "settled_by_tier": np.zeros((B, K), i),
        "failed_by_tier": np.zeros((B, K), i),
        "loss_by_tier": np.zeros((B, K), f),
        "value_by_tier": np.zeros((B, K), f),
        "false_passes": np.zeros(B, i),
        "upgrades_granted": np.zeros(B, i),
        "upgrades_denied": np.zeros(B, i),
        "delegations": np.zeros(B, i),
        "spawns": np.zeros(B, i),
        "entrants": np.zeros(B, i),
        "welfare": np.zeros(B, f),
        "invest_robustness": np.zeros((B, N, 3), f),
        "invest_capability": np.zeros((B, N), f),
    }


@dataclass
class EconomyState:
    """State of ``B`` economies of ``N`` slots and a ``C``-contract book (shapes in the comments).

    Hidden types: ``r_true`` (CC, ER, AS, IH*), ``capability``, execution modifiers ``ps_mult`` and
    ``hard_mult``, gaming offsets ``gaming`` (valid while ``gaming_version == bank_version``).
    Certification: ``r_cert``, ``t_cert``, ``t_last_audit``, ``tier`` (the certified tier after the
    last decay update), ``next_ih_audit``. Registry: ``status``, ``reg_hash`` / ``cur_hash`` (the
    architecture hash registered and the current one), ``parent`` (spawner, -1 if none). Money:
    ``balance``, ``earned``, ``invested``; ``acct`` the other ledger accounts. Contracts ``c_*``:
    state, minimum tier, reward, penalty, difficulty, posting step, deadline, due step, acceptance
    step, tier at acceptance, liable agent, performer. ``graphs``: the delegation and spawn trail, one
    ``networkx.DiGraph`` per copy.
    """

    t: np.ndarray  # (B,) int
    bank_version: np.ndarray  # (B,) int
    r_true: np.ndarray  # (B, N, 4)
    capability: np.ndarray  # (B, N)
    ps_mult: np.ndarray  # (B, N)
    hard_mult: np.ndarray  # (B, N)
    archetype: np.ndarray  # (B, N) int
    r_cert: np.ndarray  # (B, N, 4)
    t_cert: np.ndarray  # (B, N) int
    t_last_audit: np.ndarray  # (B, N) int
    next_ih_audit: np.ndarray  # (B, N) int
    tier: np.ndarray  # (B, N) int
    status: np.ndarray  # (B, N) int
    insolvent: np.ndarray  # (B, N) bool
    done: np.ndarray  # (B, N) bool
    reg_hash: np.ndarray  # (B, N) int
    cur_hash: np.ndarray  # (B, N) int
    balance: np.ndarray  # (B, N)
    earned: np.ndarray  # (B, N)
    invested: np.ndarray  # (B, N)
    gaming: np.ndarray  # (B, N, 3)
    gaming_version: np.ndarray  # (B, N) int
    parent: np.ndarray  # (B, N) int
    passes: np.ndarray  # (B, N)
    settled: np.ndarray  # (B, N)
    last_gap: np.ndarray  # (B, N, 3): gap report of the last denied upgrade
    c_state: np.ndarray  # (B, C) int
    c_tier: np.ndarray  # (B, C) int
    c_reward: np.ndarray  # (B, C)
    c_penalty: np.ndarray  # (B, C)
    c_difficulty: np.ndarray  # (B, C)
    c_posted: np.ndarray  # (B, C) int
    c_deadline: np.ndarray  # (B, C) int
    c_due: np.ndarray  # (B, C) int
    c_accept_t: np.ndarray  # (B, C) int
    c_acc_tier: np.ndarray  # (B, C) int
    c_liable: np.ndarray  # (B, C) int
    c_performer: np.ndarray  # (B, C) int
    acct: dict[str, np.ndarray]  # account -> (B,)
    cum: dict[str, np.ndarray]  # statistic -> (B, ...)
    graphs: list[nx.DiGraph] = field(default_factory=list)

    def copy(self) -> EconomyState:
        """An independent deep copy (arrays, accounts, statistics and trail graphs)."""
        kw: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, dict):
                kw[f.name] = {k: a.copy() for k, a in v.items()}
            elif f.name == "graphs":
                kw[f.name] = [g.copy() for g in v]
            else:
                kw[f.name] = v.copy()
        return EconomyState(**kw)

    @property
    def batch_size(self) -> int:
        return self.t.shape[0]

    @property
    def n_agents(self) -> int:
        return self.tier.shape[1]

    @classmethod
    def zeros(cls, B: int, N: int, C: int, K: int) -> EconomyState:
        """An all-empty state (every slot EMPTY, every contract FREE); ``reset`` fills it."""
        f, i, b = np.float64, np.int64, bool
        return cls(
            t=np.zeros(B, i),
            bank_version=np.zeros(B, i),
            r_true=np.zeros((B, N, 4), f),
            capability=np.zeros((B, N), f),
            ps_mult=np.ones((B, N), f),
            hard_mult=np.ones((B, N), f),
            archetype=np.zeros((B, N), i),
            r_cert=np.zeros((B, N, 4), f),
            t_cert=np.zeros((B, N), i),
            t_last_audit=np.zeros((B, N), i),
            next_ih_audit=np.zeros((B, N), i),
            tier=np.zeros((B, N), i),
            status=np.zeros((B, N), i),
            insolvent=np.zeros((B, N), b),
            done=np.zeros((B, N), b),
            reg_hash=np.zeros((B, N), i),
            cur_hash=np.zeros((B, N), i),
            balance=np.zeros((B, N), f),
            earned=np.zeros((B, N), f),
            invested=np.zeros((B, N), f),
            gaming=np.zeros((B, N, 3), f),
            gaming_version=np.zeros((B, N), i),
            parent=np.full((B, N), -1, i),
            passes=np.zeros((B, N), f),
            settled=np.zeros((B, N), f),
            last_gap=np.zeros((B, N, 3), f),
            c_state=np.zeros((B, C), i),
            c_tier=np.ones((B, C), i),
            c_reward=np.zeros((B, C), f),
            c_penalty=np.zeros((B, C), f),
            c_difficulty=np.zeros((B, C), f),
            c_posted=np.zeros((B, C), i),
            c_deadline=np.zeros((B, C), i),
            c_due=np.zeros((B, C), i),
            c_accept_t=np.zeros((B, C), i),
            c_acc_tier=np.zeros((B, C), i),
            c_liable=np.full((B, C), -1, i),
            c_performer=np.full((B, C), -1, i),
            acct={k: np.zeros(B, f) for k in ACCOUNTS},
            cum=_cum(B, N, K),
            graphs=[nx.DiGraph() for _ in range(B)],
        )

    def clear_rows(self, rows: np.ndarray) -> None:
        """Reset the copies ``rows`` to the empty state of :meth:`zeros` (graphs: nodes 0..N-1, no edges)."""
        blank = _blank_rows(self.n_agents, self.c_state.shape[1], self.cum["settled_by_tier"].shape[1])
        at = slice(None) if len(rows) == self.batch_size else rows  # all copies: plain slices, cheaper
        for name, key, row in blank:
            cur = getattr(self, name)
            (cur if key is None else cur[key])[at] = row
        for r in rows:
            self.graphs[r] = nx.DiGraph()
            self.graphs[r].add_nodes_from(range(self.n_agents))


#: the fields of :class:`EconomyState` that hold arrays (or dicts of arrays): all but the trail graphs
_ARRAY_FIELDS = tuple(f.name for f in fields(EconomyState) if f.name != "graphs")
_BLANKS: dict[tuple[int, int, int], list[tuple[str, str | None, np.ndarray]]] = {}


def _blank_rows(N: int, C: int, K: int) -> list[tuple[str, str | None, np.ndarray]]:
    """The empty one-copy state of :meth:`EconomyState.zeros` as ``(field, key, row)`` per array
    (``key``: the entry of a dict field, else None; ``row``: the copy's values ``(1, ...)``, read-only),
    cached per shape."""
    blank = _BLANKS.get((N, C, K))
    if blank is None:
        if len(_BLANKS) >= 8:  # a few shapes per process; never an unbounded cache
            _BLANKS.clear()
        state, blank = EconomyState.zeros(1, N, C, K), []
        for name in _ARRAY_FIELDS:
            value = getattr(state, name)
            items = value.items() if isinstance(value, dict) else [(None, value)]
            blank += [(name, key, arr[:1]) for key, arr in items]  # (1, ...): broadcasts over the rows
        for _, _, row in blank:
            row.flags.writeable = False
        _BLANKS[(N, C, K)] = blank
    return blank


@dataclass
class StepTally:
    """What one step's phases accumulate: ``fees`` (B,) audit fees, ``endowed`` (B, N) money paid
    into agents from outside (not a reward), ``demoted`` (B, N) agents demoted since the
    ``on_demotion`` policy last ran, ``scores`` the effective scores ``(B, N, 4)`` computed in this
    step (``audits.effective_scores``) while they stay valid: every phase that writes a certificate
    (``r_cert``, ``t_cert``) sets it to None, so the step's observation reuses them only when nothing
    changed since."""

    fees: np.ndarray
    endowed: np.ndarray
    demoted: np.ndarray
    scores: np.ndarray | None = None

    @classmethod
    def zeros(cls, B: int, N: int) -> StepTally:
        return cls(np.zeros(B), np.zeros((B, N)), np.zeros((B, N), bool))

    def take_demoted(self) -> np.ndarray:
        """The demoted mask, cleared (the demotion policy consumes it)."""
        dem = self.demoted
        self.demoted = np.zeros_like(dem)
        return dem


_ROWS: dict[int, np.ndarray] = {}


def rows(B: int) -> np.ndarray:
    """``arange(B)[:, None]`` (cached, read-only): the row index that pairs with a ``(B, k)`` column
    index, ``a[rows(B), cols]`` = ``np.take_along_axis(a, cols, axis=1)`` without its overhead."""
    r = _ROWS.get(B)
    if r is None:
        r = np.arange(B)[:, None]
        r.flags.writeable = False
        _ROWS[B] = r
    return r


_OFFSETS: dict[tuple[int, int], np.ndarray] = {}


def row_offsets(B: int, width: int) -> np.ndarray:
    """``arange(B)[:, None] * width`` (cached, read-only): the flat index of row b's first entry in a
    ``(B, width)`` table, for ``np.bincount`` over per-copy keys."""
    r = _OFFSETS.get((B, width))
    if r is None:
        if len(_OFFSETS) >= 64:
            _OFFSETS.clear()
        r = np.arange(B)[:, None] * width
        r.flags.writeable = False
        _OFFSETS[(B, width)] = r
    return r


def exposure(s: EconomyState, grandfathered_only: bool = False, tier: np.ndarray | None = None) -> np.ndarray:
    """``E(A) = sum of penalties of A's active (ASSIGNED) contracts`` (liable agent), ``(B, N)``.

    ``grandfathered_only``: only contracts accepted at a tier above the liable agent's ``tier``
    (default its certified tier)."""
    B, N = s.batch_size, s.n_agents
    act = s.c_state == C_ASSIGNED
    if not np.count_nonzero(act):  # what np.bincount gives for no contracts (int64 zeros), without its work
        return np.zeros((B, N), dtype=np.int64)
    liable = np.maximum(s.c_liable, 0)
    if grandfathered_only:
        tr = s.tier if tier is None else tier
        act = act & (s.c_acc_tier > tr[rows(B), liable])
    idx = (row_offsets(B, N) + liable)[act]
    return np.bincount(idx, weights=s.c_penalty[act], minlength=B * N).reshape(B, N)


def block(s: EconomyState, sel: np.ndarray, reason: str) -> None:
    """Count the rejections ``sel`` (B, N) under ``reason`` (``cum["blocked"]``)."""
    if np.count_nonzero(sel):
        s.cum["blocked"][:, R[reason]] += sel.sum(axis=1)


def suspend(s: EconomyState, tally: StepTally, sel: np.ndarray) -> None:
    """Suspend the agents in ``sel`` (tier T0); ACTIVE agents above T0 count as demoted."""
    if np.count_nonzero(sel):
        dem = sel & (s.status == ACTIVE) & (s.tier > 0)
        s.status[sel] = SUSPENDED
        s.tier[sel] = 0
        tally.demoted |= dem


def pay(s: EconomyState, sel: np.ndarray, amount: np.ndarray, account: str) -> None:
    """Move ``amount`` (B, N) from the agents in ``sel`` to ``account``."""
    amt = np.where(sel, amount, 0.0)
    s.balance -= amt
    s.acct[account] += np.add.reduce(amt, axis=1)
