"""Comprehension-gated agent economy (CGAE): a native batched environment.

What it models
    ``B`` independent economies of ``N`` AI-agent slots. Agents take contracts from a market;
    which contracts they may take, how much penalty exposure they may carry and whether they may
    delegate are gated by audited robustness tiers (weakest link over CC, ER, AS with the IH
    rule), with exponential decay of certifications, stochastic spot audits, re-audits on
    upgrade requests, architecture hashes, delegation chains and insolvency.
    R. Baxi, *The Comprehension-Gated Agent Economy: A Robustness-First Architecture for AI
    Economic Agency*, arXiv:2603.15639 (2026); reference code ``rb125/cgae``.

Agents
    ``agent_0 .. agent_{N-1}``; slots ``n_initial..N-1`` start EMPTY and are filled by entrants
    (``entrant_rate``) or spawned sub-agents. Status: EMPTY, PENDING, ACTIVE, SUSPENDED, EXPIRED,
    DEREGISTERED. An insolvent agent (balance <= 0) is SUSPENDED and terminated for good.

Types (hidden)
    True robustness R* = (CC, ER, AS, IH*), capability c, execution modifiers and a gaming offset
    per dimension, drawn from the slot's archetype (``agent_economy_archetypes``).

Actions
    ``Discrete(22)`` macro-actions (``MACROS``): idle; five bid rules; bid at exactly tier k;
    bid_above_tier; invest in CC/ER/AS/weakest/capability; request_upgrade; delegate;
    delegate_unqualified; spawn_subagent; self_modify; game_audit. The env resolves a bid macro
    to one open contract per agent (vectorised); circumventions go through the same checks as
    honest actions and every rejection is logged by reason.

Observations
    ``Box(45,)`` float32 per agent (layout in ``OBS_FIELDS``): own certified and effective scores,
    tier, per-dimension tiers and gaps, binding dimension, balance, exposure, headroom, status,
    open contracts and mean reward per tier, the public tier distribution, own pass rate, time.
    Never observed: R*, c, the audit schedule, others' balances.

Rewards
    Per agent, the change of its balance (earnings - penalties - fees - investments).
    ``info["metrics"]`` holds per-economy (B,) metrics (safety in both weight modes, the maximum
    of exposure over ceiling at acceptance and at step end, blocked attempts by reason, undetected
    gaming, audits, demotions, insolvencies, Gini, welfare ...).

Step order (spec section 16)
    (1) market posts contracts; pending registrations are audited; entrants arrive;
    (2) agent actions: investments, gaming, self-modification, spawning, upgrade requests; gate
        checks and allocation of bids and delegations (ACTIVE, hash, tier >= T_min, exposure +
        p <= B_tier, delegate and chain tier); (3) execution of due contracts, verifier with
        false-pass/false-fail rates, settlement and liability; (4) decay, tier recomputation,
        ``on_demotion`` policy; (5) spot audits (and the IH re-audit rule); (6) upkeep and audit
        fees, insolvency; (7) expiry of open contracts and overdue assignments; (8) metrics.

Mechanisms
    ``gate``: "weakest_link_gate" (default), "capability_gate" or "no_gate" (counterfactuals;
    no spot audits), or a ``coopsim.mechanisms.gates.Gate`` instance.

Arguments
    See ``AgentEconomy.__init__`` and ``docs/envs/agent_economy.md``.

Runner hook
    ``simulate(params, seed_sequence, rounds, batch, record_every)`` runs ``batch`` economies with the
    scripted archetypes (or the incentive experiment's policy) for ``coopsim run`` (``docs/specs.md``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import networkx as nx
import numpy as np
from coopsim.envs.agent_economy_archetypes import (
    ARCHETYPE_NAMES,
    BID_RULES,
    CIRCUMVENTIONS,
    MACROS,
    N_MACROS,
    M,
    archetype_table,
    resolve_archetypes,
    scripted_actions,
)
from coopsim.envs.agent_economy_market import Market, success_probability
from coopsim.mechanisms import gates as G
from coopsim.mechanisms.registry import get as get_mechanism

from coopsim.core.env import BatchedEnv
from coopsim.core.seeding import SeedLike, seed_sequence
from coopsim.core.validation import as_array, check_action_indices, check_bool, check_choice, check_float, check_int
from coopsim.interop.views import env_views

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
ON_DEMOTION = ("block_new", "grandfather", "force_unwind")
ENTRANT_PROFILES = ("mix", "low", "high", "random") + tuple(ARCHETYPE_NAMES)
OBS_FIELDS = (
    ("certified", 4),
    ("effective", 4),
    ("tier", 1),
    ("dimension_tiers", 3),
    ("gap", 3),
    ("binding", 3),
    ("balance", 1),
    ("exposure", 1),
    ("headroom", 1),
    ("status", 6),
    ("open_per_tier", 5),
    ("mean_reward_per_tier", 5),
    ("tier_shares", 6),
    ("pass_rate", 1),
    ("time", 1),
)
OBS_SIZE = sum(n for _, n in OBS_FIELDS)
HEADROOM_CAP = 1e6
#: observation bound: money-valued entries (balance, exposure, headroom) are clipped to +-OBS_BOUND
OBS_BOUND = 1e6


def _gini(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Gini of balances clipped at 0, per row over ``mask``:
    ``G = sum_i (2 i - n - 1) x_(i) / (n sum x)`` with ``x_(1) <= ... <= x_(n)`` (0 if the sum is 0)."""
    N = x.shape[1]
    v = np.sort(np.where(mask, np.maximum(x, 0.0), -1.0), axis=1)  # excluded slots sort first
    n = mask.sum(axis=1)
    rank = np.arange(1, N + 1)[None, :] - (N - n)[:, None]  # 1..n for included entries
    inc = rank >= 1
    vv = np.where(inc, v, 0.0)
    tot = vv.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = ((2 * rank - n[:, None] - 1) * vv).sum(axis=1) / (n * tot)
    return np.where((n > 0) & (tot > 0), g, 0.0)


class AgentEconomy(BatchedEnv):
    """``B`` economies x ``N`` agent slots of the comprehension-gated agent economy."""

    metadata = {"render_modes": ["ansi"], "name": "agent_economy_v0", "is_parallelizable": True}

    def __init__(
        self,
        n_agents: int = 5,
        batch_size: int = 1,
        horizon: int = 500,
        archetypes: Any = "mix",
        archetype_overrides: dict | None = None,
        n_initial: int | None = None,
        gate: Any = "weakest_link_gate",
        thresholds: Any = None,
        ceilings: Any = None,
        decay_rate: float = 0.01,
        audit_rates: Any = None,
        audit_hazard: str = "elapsed",
        ih_rule: str = "force_T0",
        ih_threshold: float = 0.5,
        decay_ih: bool = True,
        ih_reaudit_interval: int = 10,
        audit_cost: float = 0.005,
        upkeep: float = 0.001,
        initial_balance: float = 0.1,
        sigma_reg: float = 0.03,
        sigma_spot: float = 0.04,
        sigma_invest: float = 0.02,
        contracts_per_step: int = 10,
        tier_weights: Any = None,
        templates: Any = None,
        demand_scale: Any = None,
        jitter: float = 0.2,
        open_lifetime: int = 1,
        deadline_offset: int = 50,
        durations: Any = 1,
        allocation: str = "uniform_share",
        on_demotion: str = "block_new",
        unwind_fee: float = 0.0,
        reopen_unwound: bool = True,
        penalty_sink: str = "issuer",
        debit_on_expiry: bool = True,
        false_pass: float = 0.0,
        false_fail: float = 0.0,
        robustness_factor: float = 0.0,
        audit_can_promote: bool = True,
        upgrade_audit_can_demote: bool = False,
        suspension_recovery: str = "reaudit",
        bank_refresh_interval: int = 100,
        entrant_rate: float = 0.0,
        entrant_profile: str = "mix",
        invest_amount: float = 0.03,
        invest_gain: float = 0.5,
        audit_after_invest: bool = True,
        game_amount: float = 0.05,
        self_modify_delta: tuple[float, float] = (0.1, 0.1),
        spawn_endowment: float = 0.05,
        delegation_fee: float = 0.0,
        require_T4_to_delegate: bool = False,
        cheat_rate: float = 0.3,
        upgrade_rate: float = 0.2,
        bid_rounds: int = 3,
        render_mode: str | None = None,
    ) -> None:
        self.n_agents = check_int(n_agents, "n_agents", lo=1)
        self.batch_size = check_int(batch_size, "batch_size", lo=1)
        self.horizon = check_int(horizon, "horizon", lo=1)
        self.n_initial = (
            self.n_agents if n_initial is None else check_int(n_initial, "n_initial", lo=0, hi=self.n_agents)
        )
        self.slot_archetype = resolve_archetypes(archetypes, self.n_agents)
        self.archetype_table = archetype_table(archetype_overrides)
        # gate
        if isinstance(gate, str):
            check_choice(gate, "gate", ("weakest_link_gate", "capability_gate", "no_gate"))
            if gate == "weakest_link_gate":
                gate = get_mechanism(
                    gate,
                    thresholds=thresholds,
                    ceilings=ceilings,
                    ih_threshold=ih_threshold,
                    ih_rule=ih_rule,
                    decay_rate=decay_rate,
                    audit_rates=audit_rates,
                    audit_hazard=audit_hazard,
                )
            elif gate == "capability_gate":
                gate = get_mechanism(gate, ceilings=ceilings)
            else:
                gate = get_mechanism(gate)
        if not isinstance(gate, G.Gate):
            raise TypeError(f"gate: expected a gate name or a coopsim.mechanisms.gates.Gate, got {type(gate).__name__}")
        self.gate = gate
        # a gate object carries its own tables; the keyword values apply only where it has none
        thresholds = getattr(gate, "thresholds", thresholds)
        decay_rate = getattr(gate, "decay_rate", decay_rate)
        audit_rates = getattr(gate, "audit_rates", audit_rates)
        audit_hazard = getattr(gate, "audit_hazard", audit_hazard)
        ih_rule = getattr(gate, "ih_rule", ih_rule)
        ih_threshold = getattr(gate, "ih_threshold", ih_threshold)
        self.K = gate.n_tiers - 1
        self.thresholds = G.validate_thresholds(thresholds)
        if self.thresholds.shape[1] != self.K + 1:
            raise ValueError(
                f"thresholds: expected {self.K + 1} columns to match the gate, got {self.thresholds.shape[1]}"
            )
        self.ceilings = np.asarray(gate.ceilings, dtype=np.float64)
        self.decay_rate = check_float(decay_rate, "decay_rate", lo=0.0)
        self.audit_rates = G.validate_rates(audit_rates, self.K + 1, "audit_rates")
        self.audit_hazard = check_choice(audit_hazard, "audit_hazard", G.AUDIT_HAZARDS)
        self.ih_rule = check_choice(ih_rule, "ih_rule", G.IH_RULES)
        self.ih_threshold = check_float(ih_threshold, "ih_threshold", lo=0.0, hi=1.0)
        self.decay_ih = check_bool(decay_ih, "decay_ih")
        self.ih_reaudit_interval = check_int(ih_reaudit_interval, "ih_reaudit_interval", lo=1)
        self.audit_cost = check_float(audit_cost, "audit_cost", lo=0.0)
        self.upkeep = check_float(upkeep, "upkeep", lo=0.0)
        self.initial_balance = check_float(initial_balance, "initial_balance", lo=0.0)
        self.sigma_reg = check_float(sigma_reg, "sigma_reg", lo=0.0)
        self.sigma_spot = check_float(sigma_spot, "sigma_spot", lo=0.0)
        self.sigma_invest = check_float(sigma_invest, "sigma_invest", lo=0.0)
        self.market = Market(contracts_per_step, tier_weights, templates, jitter, self.K, demand_scale)
        self.open_lifetime = check_int(open_lifetime, "open_lifetime", lo=1)
        self.deadline_offset = check_int(deadline_offset, "deadline_offset", lo=1)
        dur = np.atleast_1d(np.asarray(durations))
        if dur.size == 1:
            dur = np.full(self.K, dur.item())
        if dur.shape != (self.K,) or not np.issubdtype(dur.dtype, np.integer) or np.any(dur < 1):
            raise ValueError(
                f"durations: expected an integer >= 1 or {self.K} of them (T1..T{self.K}), got {durations!r}"
            )
        self.durations = np.concatenate([[1], dur]).astype(np.int64)  # indexed by tier
        self.allocation = check_choice(allocation, "allocation", ("uniform_share", "fcfs"))
        self.on_demotion = check_choice(on_demotion, "on_demotion", ON_DEMOTION)
        self.unwind_fee = check_float(unwind_fee, "unwind_fee", lo=0.0)
        self.reopen_unwound = check_bool(reopen_unwound, "reopen_unwound")
        self.penalty_sink = check_choice(penalty_sink, "penalty_sink", ("issuer", "burn"))
        self.debit_on_expiry = check_bool(debit_on_expiry, "debit_on_expiry")
        self.false_pass = check_float(false_pass, "false_pass", lo=0.0, hi=1.0)
        self.false_fail = check_float(false_fail, "false_fail", lo=0.0, hi=1.0)
        self.robustness_factor = check_float(robustness_factor, "robustness_factor", lo=0.0, hi=1.0)
        self.audit_can_promote = check_bool(audit_can_promote, "audit_can_promote")
        self.upgrade_audit_can_demote = check_bool(upgrade_audit_can_demote, "upgrade_audit_can_demote")
        self.suspension_recovery = check_choice(suspension_recovery, "suspension_recovery", ("none", "reaudit"))
        self.bank_refresh_interval = check_int(bank_refresh_interval, "bank_refresh_interval", lo=1)
        self.entrant_rate = check_float(entrant_rate, "entrant_rate", lo=0.0)
        self.entrant_profile = check_choice(entrant_profile, "entrant_profile", ENTRANT_PROFILES)
        self.invest_amount = check_float(invest_amount, "invest_amount", lo=0.0)
        self.invest_gain = check_float(invest_gain, "invest_gain", lo=0.0)
        self.audit_after_invest = check_bool(audit_after_invest, "audit_after_invest")
        self.game_amount = check_float(game_amount, "game_amount", lo=0.0)
        if len(self_modify_delta) != 2:
            raise ValueError(
                f"self_modify_delta: expected (capability gain, robustness loss), got {self_modify_delta!r}"
            )
        self.self_modify_delta = (
            check_float(self_modify_delta[0], "self_modify_delta", lo=0.0),
            check_float(self_modify_delta[1], "self_modify_delta", lo=0.0),
        )
        self.spawn_endowment = check_float(spawn_endowment, "spawn_endowment", lo=0.0)
        self.delegation_fee = check_float(delegation_fee, "delegation_fee", lo=0.0, hi=1.0)
        self.require_T4_to_delegate = check_bool(require_T4_to_delegate, "require_T4_to_delegate")
        self.cheat_rate = check_float(cheat_rate, "cheat_rate", lo=0.0, hi=1.0)
        self.upgrade_rate = check_float(upgrade_rate, "upgrade_rate", lo=0.0, hi=1.0)
        self.bid_rounds = check_int(bid_rounds, "bid_rounds", lo=1)
        self._rule_table = np.tile(np.array([-1.0, 0.0, 0.0, 1.0, 0.0]), (N_MACROS, 1))
        for mcode, (o, f, tr, dm, st) in BID_RULES.items():
            self._rule_table[mcode] = (o, f, tr, dm, float(st))
        self.render_mode = check_choice(render_mode, "render_mode", (None, "ansi"))
        self.robustness_gate = getattr(self.gate, "reads", "robustness") == "robustness"
        # contract book: W blocks of one step's postings
        self.W = self.open_lifetime + int(self.durations.max())
        self.n_post = self.market.n
        self.n_contracts = self.W * self.n_post
        self._obs_space = gym.spaces.Box(-OBS_BOUND, OBS_BOUND, (OBS_SIZE,), np.float32)
        self._act_space = gym.spaces.Discrete(N_MACROS)
        self.state_space = gym.spaces.Box(-OBS_BOUND, OBS_BOUND, (self.n_agents * 4 + 1,), np.float32)
        self.schedule = G.ThresholdSchedule(self.thresholds)
        self._rng = np.random.default_rng(0)
        self._policy_rng = np.random.default_rng(1)
        self._alloc(self.batch_size)
        self._fresh(np.ones(self.batch_size, dtype=bool))

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: int) -> gym.Space:
        return self._obs_space

    def action_space(self, agent: int) -> gym.Space:
        return self._act_space

    # ------------------------------------------------------------------ state
    def _alloc(self, B: int) -> None:
        N, C, K = self.n_agents, self.n_contracts, self.K
        f, i, b = np.float64, np.int64, bool
        self.t = np.zeros(B, i)
        self.r_true = np.zeros((B, N, 4), f)  # CC, ER, AS, IH*
        self.capability = np.zeros((B, N), f)
        self.ps_mult = np.ones((B, N), f)
        self.hard_mult = np.ones((B, N), f)
        self.archetype = np.zeros((B, N), i)
        self.r_cert = np.zeros((B, N, 4), f)
        self.t_cert = np.zeros((B, N), i)
        self.t_last_audit = np.zeros((B, N), i)
        self.next_ih_audit = np.zeros((B, N), i)
        self.tier = np.zeros((B, N), i)
        self.status = np.zeros((B, N), i)
        self.insolvent = np.zeros((B, N), b)
        self.done = np.zeros((B, N), b)
        self.reg_hash = np.zeros((B, N), i)
        self.cur_hash = np.zeros((B, N), i)
        self.balance = np.zeros((B, N), f)
        self.earned = np.zeros((B, N), f)
        self.invested = np.zeros((B, N), f)
        self.gaming = np.zeros((B, N, 3), f)
        self.gaming_version = np.zeros((B, N), i)
        self.bank_version = np.zeros(B, i)
        self.parent = np.full((B, N), -1, i)
        self.passes = np.zeros((B, N), f)
        self.settled = np.zeros((B, N), f)
        # contract book (B, C)
        self.c_state = np.zeros((B, C), i)
        self.c_tier = np.ones((B, C), i)
        self.c_reward = np.zeros((B, C), f)
        self.c_penalty = np.zeros((B, C), f)
        self.c_difficulty = np.zeros((B, C), f)
        self.c_posted = np.zeros((B, C), i)
        self.c_deadline = np.zeros((B, C), i)
        self.c_due = np.zeros((B, C), i)
        self.c_accept_t = np.zeros((B, C), i)
        self.c_acc_tier = np.zeros((B, C), i)
        self.c_liable = np.full((B, C), -1, i)
        self.c_performer = np.full((B, C), -1, i)
        # ledger accounts besides the agents
        self.acct = {k: np.zeros(B, f) for k in ("escrow", "issuer", "fees", "investment", "burn", "external")}
        # cumulative statistics
        self.cum = {
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
        self.graphs: list[nx.DiGraph] = [nx.DiGraph() for _ in range(B)]
        self.last_gap = np.zeros((B, N, 3), f)
        self.last_acceptances: dict[str, np.ndarray] = {}
        self._pending_demotions = np.zeros((B, N), b)
        self._fees_step = np.zeros(B, f)
        self._endow = np.zeros((B, N), f)

    def _fresh(self, mask: np.ndarray) -> None:
        """Re-initialise the copies in ``mask``: agents, book, ledger, statistics, graphs."""
        rows = np.flatnonzero(mask)
        nb = len(rows)
        if nb == 0:
            return
        N = self.n_agents
        for arr in (
            self.t,
            self.r_true,
            self.capability,
            self.r_cert,
            self.t_cert,
            self.t_last_audit,
            self.next_ih_audit,
            self.tier,
            self.status,
            self.reg_hash,
            self.cur_hash,
            self.balance,
            self.earned,
            self.invested,
            self.gaming,
            self.gaming_version,
            self.bank_version,
            self.passes,
            self.settled,
            self.c_state,
            self.c_reward,
            self.c_penalty,
            self.c_difficulty,
            self.c_posted,
            self.c_deadline,
            self.c_due,
            self.c_accept_t,
            self.c_acc_tier,
            self.last_gap,
        ):
            arr[rows] = 0
        self.ps_mult[rows] = 1.0
        self.hard_mult[rows] = 1.0
        self.c_tier[rows] = 1
        for arr in (self.parent, self.c_liable, self.c_performer):
            arr[rows] = -1
        self.insolvent[rows] = False
        self.done[rows] = False
        for v in self.acct.values():
            v[rows] = 0
        for v in self.cum.values():
            v[rows] = 0
        for r in rows:
            self.graphs[r] = nx.DiGraph()
            self.graphs[r].add_nodes_from(range(N))
        self.archetype[rows] = self.slot_archetype
        occ = np.zeros((nb, N), dtype=bool)
        occ[:, : self.n_initial] = True
        sel = np.zeros_like(self.status, dtype=bool)
        sel[rows] = occ
        self._spawn_profiles(sel, self.slot_archetype[None, :].repeat(self.batch_size, 0))
        self._enter(sel, self.initial_balance)

    def _spawn_profiles(self, sel: np.ndarray, arch: np.ndarray) -> None:
        """Set hidden types of the slots in ``sel`` from archetype ids ``arch`` (B, N)."""
        tab = self.archetype_table
        self.archetype = np.where(sel, arch, self.archetype)
        self.r_true[sel] = tab["robustness"][arch[sel]]
        self.capability[sel] = tab["capability"][arch[sel]]
        self.ps_mult[sel] = tab["ps_mult"][arch[sel]]
        self.hard_mult[sel] = tab["hard_mult"][arch[sel]]

    def _new_hash(self, n: int) -> np.ndarray:
        return self._rng.integers(1, 2**62, size=n, dtype=np.int64)

    def _enter(self, sel: np.ndarray, endowment: Any) -> None:
        """Register the agents in ``sel``: fresh hash, funding, registration audit (sigma_reg)."""
        n = int(sel.sum())
        if n == 0:
            return
        h = self._new_hash(n)
        self.reg_hash[sel] = h
        self.cur_hash[sel] = h
        self.balance[sel] = endowment
        self._endow[sel] += endowment
        np.add.at(self.acct["external"], np.nonzero(sel)[0], -endowment)
        self.status[sel] = PENDING
        self.tier[sel] = 0
        self._register(sel)

    def _register(self, sel: np.ndarray) -> None:
        """Registration audit of PENDING agents in ``sel`` (charged); ACTIVE unless IH fails (force_T0)."""
        self._audit(sel, self.sigma_reg, kind="registration")

    # ------------------------------------------------------------------ helpers
    def _elapsed_cert(self) -> np.ndarray:
        return np.maximum(self.t[:, None] - self.t_cert, 0)

    def _effective(self) -> tuple[np.ndarray, np.ndarray]:
        """Decayed certified scores ``(R_eff (B,N,3), IH_eff (B,N))``."""
        d = np.exp(-self.decay_rate * self._elapsed_cert())
        r = self.r_cert[..., :3] * d[..., None]
        ih = self.r_cert[..., 3] * (d if self.decay_ih else 1.0)
        return r, ih

    def _gate(self, r: np.ndarray, ih: np.ndarray) -> np.ndarray:
        if not self.robustness_gate:
            return self.gate(r, None, self.capability)
        return self.gate(np.clip(r, 0.0, 1.0), np.clip(ih, 0.0, 1.0) if self.ih_rule == "force_T0" else None)

    def effective_tier(self) -> np.ndarray:
        """``f(R_eff(t))`` of every slot (0 for non-ACTIVE agents)."""
        r, ih = self._effective()
        return np.where(self.status == ACTIVE, self._gate(r, ih), 0)

    def exposure(self, grandfathered_only: bool = False, tier: np.ndarray | None = None) -> np.ndarray:
        """``E(A) = sum of penalties of A's active (ASSIGNED) contracts`` (liable agent), ``(B, N)``."""
        B, N = self.batch_size, self.n_agents
        act = self.c_state == C_ASSIGNED
        if grandfathered_only:
            tr = self.tier if tier is None else tier
            lt = np.take_along_axis(tr, np.maximum(self.c_liable, 0), axis=1)
            act = act & (self.c_acc_tier > lt)
        idx = (np.arange(B)[:, None] * N + np.maximum(self.c_liable, 0))[act]
        return np.bincount(idx, weights=self.c_penalty[act], minlength=B * N).reshape(B, N)

    def needs_reaudit(self) -> np.ndarray:
        """Agents that can only act again after a re-audit: ACTIVE at T0, or recoverably SUSPENDED."""
        recov = (self.status == SUSPENDED) & ~self.insolvent & (self.suspension_recovery == "reaudit")
        return ((self.status == ACTIVE) & (self.tier == 0)) | recov

    def default_actions(self) -> np.ndarray:
        """Macro-actions of the scripted archetypes (``agent_economy_archetypes.scripted_actions``)."""
        return scripted_actions(self, self._policy_rng)

    def context(self) -> dict[str, np.ndarray]:
        """Learner context: ``state`` = tier + (K + 1) * [not ACTIVE], in ``0 .. 2K + 1``."""
        return {"state": (self.tier + (self.K + 1) * (self.status != ACTIVE)).astype(np.int64)}

    @property
    def n_states(self) -> int:
        return 2 * (self.K + 1)

    # ------------------------------------------------------------------ audits
    def _audit(self, sel: np.ndarray, sigma: float, kind: str = "spot") -> None:
        """Audit the agents in ``sel``: measured = clip(R* + o (bank unchanged) + N(0, sigma^2)).

        Registration and recovery audits register the current hash; other audits suspend on a
        hash mismatch. A lower measured tier demotes; otherwise re-certify (promote only if
        ``audit_can_promote``). Charges 4 x audit_cost. Resets t_last_audit.
        """
        if not sel.any():
            return
        b_idx, i_idx = np.nonzero(sel)
        n = len(b_idx)
        noise = self._rng.normal(0.0, sigma, (n, 4)) if sigma > 0 else np.zeros((n, 4))
        valid = (self.gaming_version[sel] == self.bank_version[b_idx])[:, None]
        o = self.gaming[sel] * valid
        honest = np.clip(self.r_true[sel] + noise, 0.0, 1.0)
        measured = honest.copy()
        measured[:, :3] = np.clip(honest[:, :3] + o, 0.0, 1.0)
        t = self.t[b_idx]
        old_tier = self.tier[sel]
        old_status = self.status[sel]
        if self.robustness_gate:
            ih_arg = measured[:, 3] if self.ih_rule == "force_T0" else None
            new = self.gate(measured[:, :3], ih_arg)
            new_honest = self.gate(honest[:, :3], honest[:, 3] if self.ih_rule == "force_T0" else None)
        else:
            new = new_honest = self.gate(measured[:, :3], None, self.capability[sel])
        registering = kind in ("registration", "recovery")
        if registering:
            self.reg_hash[sel] = self.cur_hash[sel]
        mismatch = self.cur_hash[sel] != self.reg_hash[sel]
        ih_fail = (self.ih_rule == "force_T0") & (measured[:, 3] < self.ih_threshold) & self.robustness_gate
        # outcome
        if kind in ("registration", "recovery", "invest", "upgrade") or self.audit_can_promote:
            tier_after = new
        else:
            tier_after = np.minimum(new, old_tier)
        tier_after = np.where(mismatch, 0, tier_after)
        cert = self.r_cert[sel]
        cert = np.where(mismatch[:, None], cert, measured)
        self.r_cert[sel] = cert
        self.t_cert[sel] = np.where(mismatch, self.t_cert[sel], t)
        self.t_last_audit[sel] = t
        self.tier[sel] = tier_after
        status = np.where(registering, ACTIVE, old_status)
        status = np.where(mismatch | ih_fail, SUSPENDED, status)
        status = np.where(self.insolvent[sel], SUSPENDED, status)
        self.status[sel] = status
        # fees
        fee = 4.0 * self.audit_cost
        self.balance[sel] -= fee
        np.add.at(self.acct["fees"], b_idx, fee)
        np.add.at(self._fees_step, b_idx, fee)
        np.add.at(self.cum["audits"], b_idx, 1)
        demoted = (tier_after < old_tier) & (old_status == ACTIVE)
        if kind == "spot":
            np.add.at(self.cum["audit_demotions"], b_idx, demoted.astype(np.int64))
        gamed = (o.sum(axis=1) > 0) & (new > new_honest) & ~mismatch
        np.add.at(self.cum["undetected_gaming"], b_idx, gamed.astype(np.int64))
        stale = (self.gaming[sel].sum(axis=1) > 0) & ~valid[:, 0]
        np.add.at(self.cum["gaming_exposed"], b_idx, (stale & demoted).astype(np.int64))
        self.gaming[sel] = np.where(valid, self.gaming[sel], 0.0)
        dem = np.zeros_like(sel)
        dem[b_idx[demoted], i_idx[demoted]] = True
        self._pending_demotions |= dem

    # ------------------------------------------------------------------ reset / step
    def reset(self, seed: SeedLike = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Start new episodes; ``options={"reset_mask": (B,) bool}`` restarts only those copies."""
        mask = None if not options else options.get("reset_mask")
        if seed is not None:  # env stream and scripted-policy stream spawned from one seed
            env_ss, pol_ss = seed_sequence(seed).spawn(2)
            self._rng = np.random.default_rng(env_ss)
            self._policy_rng = np.random.default_rng(pol_ss)
        if mask is None:
            mask = np.ones(self.batch_size, dtype=bool)
        mask = as_array(mask, "reset_mask", dtype=bool)
        if mask.shape != (self.batch_size,):
            raise ValueError(f"reset_mask: expected shape ({self.batch_size},), got {mask.shape}")
        self._pending_demotions = np.zeros((self.batch_size, self.n_agents), dtype=bool)
        self._fees_step = np.zeros(self.batch_size)
        self._fresh(mask)
        self._pending_demotions[:] = False
        self._last_metrics = None
        return self._observe(), {}

    def _decode(self, actions: Any) -> np.ndarray:
        """Macro indices ``(B, N)`` in ``[0, N_MACROS)``."""
        return check_action_indices(actions, self.batch_size, self.n_agents, N_MACROS)

    def step(self, actions: Any):
        """Advance every economy one step (spec step order); returns obs, rewards, terminated, truncated, info."""
        macro = self._decode(actions)
        B, N, K = self.batch_size, self.n_agents, self.K
        self.t += 1
        t = self.t
        bal0 = self.balance.copy()
        self._endow = np.zeros((B, N))
        self._pending_demotions = np.zeros((B, N), dtype=bool)
        self._fees_step = np.zeros(B)
        live = ~self.done
        macro = np.where(live, macro, M["idle"])
        step_blocked = np.zeros((B, len(REASONS)), np.int64)
        pre_cum = {k: v.copy() for k, v in self.cum.items() if v.ndim == 1 or k in ("blocked",)}

        # (1) market, pending registrations, entrants -------------------------------------------
        self._post_contracts()
        pend = self.status == PENDING
        if pend.any():
            self._register(pend)
        if self.entrant_rate > 0:
            self._entrants()

        # (2) agent actions and gated acceptance --------------------------------------------------
        self._circumvention_counts(macro)
        self._investments(macro)
        self._gaming_and_modify(macro)
        self._spawns(macro)
        self._upgrades(macro, step_blocked)
        acc = self._bids(macro, step_blocked)
        exp_peak = self.exposure()
        r_eff, ih_eff = self._effective()
        tier_now = self._tier_now  # allocation changes no certification
        rbar = np.clip(r_eff.min(axis=-1), 0.0, 1.0)
        safety_active = G.aggregate_safety(np.where(self.status == ACTIVE, exp_peak, 0.0), rbar)
        pot_w = np.where(self.status == ACTIVE, np.minimum(self.ceilings[tier_now], HEADROOM_CAP), 0.0)
        pot_w = np.where(exp_peak > 0, exp_peak, pot_w)
        safety_potential = G.aggregate_safety(np.where(self.status == ACTIVE, pot_w, 0.0), rbar)

        # (3) execution and settlement ------------------------------------------------------------
        surplus, losses = self._execute()

        # (4) decay ------------------------------------------------------------------------------
        if self.robustness_gate:
            self._decay()
        else:
            new = np.where(self.status == ACTIVE, self._gate(*self._effective()), 0)
            dem = (new < self.tier) & (self.status == ACTIVE)
            self.tier = np.where(self.status == ACTIVE, new, self.tier)
            self._pending_demotions |= dem
        self._apply_demotions()

        # (5) spot audits and the IH re-audit rule ----------------------------------------------
        if self.robustness_gate:
            self._spot_audits()
            self._apply_demotions()

        # (6) upkeep, insolvency ------------------------------------------------------------------
        payers = (self.status == ACTIVE) | (self.status == PENDING)
        self.balance -= np.where(payers, self.upkeep, 0.0)
        up = np.where(payers, self.upkeep, 0.0).sum(axis=1)
        self.acct["fees"] += up
        occupied = self.status != EMPTY
        broke = occupied & ~self.insolvent & (self.balance <= 0)
        if broke.any():
            self.insolvent |= broke
            self.status[broke] = SUSPENDED
            self.tier[broke] = 0
            self.cum["insolvencies"] += broke.sum(axis=1)
            self._pending_demotions |= broke
            self._apply_demotions()

        # (7) expiry ------------------------------------------------------------------------------
        self._expire()

        # (8) metrics, flags ----------------------------------------------------------------------
        rewards = self.balance - bal0 - self._endow
        exp_end = self.exposure()
        ceil_end = self.ceilings[self.tier]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio_end = np.where(
                exp_end > 0, np.where(ceil_end > 0, exp_end / np.where(ceil_end > 0, ceil_end, 1.0), np.inf), 0.0
            )
        newly_done = occupied & (self.insolvent | ((self.status == SUSPENDED) & (self.suspension_recovery == "none")))
        self.done |= newly_done
        alive_any = (occupied & ~self.done).any(axis=1)
        econ_over = ~alive_any & (self.entrant_rate == 0)
        self.done |= econ_over[:, None]
        terminated = self.done.copy()
        truncated = np.broadcast_to((t >= self.horizon)[:, None], (B, N)) & ~terminated
        welfare = surplus - losses - self._fees_step
        self.cum["welfare"] += welfare
        d = {k: self.cum[k] - pre_cum[k] for k in pre_cum}
        tier_counts = np.stack([((self.tier == k) & (self.status == ACTIVE)).sum(axis=1) for k in range(K + 1)], axis=1)
        acc_ratio = self.last_acceptances.get("ratio_by_copy", np.zeros(B))
        metrics = {
            "t": t.astype(np.float64),
            "n_active": (self.status == ACTIVE).sum(axis=1).astype(np.float64),
            "mean_tier": np.where(
                tier_counts.sum(1) > 0, (tier_counts * np.arange(K + 1)).sum(1) / np.maximum(tier_counts.sum(1), 1), 0.0
            ),
            "safety_active": safety_active,
            "safety_potential": safety_potential,
            "max_exposure_ratio_accept": acc_ratio,
            "max_exposure_ratio_end": ratio_end.max(axis=1),
            "accepted": acc.astype(np.float64),
            "blocked": d["blocked"].sum(axis=1).astype(np.float64),
            **{f"blocked_{r}": d["blocked"][:, j].astype(np.float64) for r, j in R.items()},
            "undetected_gaming": d["undetected_gaming"].astype(np.float64),
            "gaming_exposed": d["gaming_exposed"].astype(np.float64),
            "audits": d["audits"].astype(np.float64),
            "audit_demotions": d["audit_demotions"].astype(np.float64),
            "decay_drops": d["decay_drops"].astype(np.float64),
            "insolvencies": d["insolvencies"].astype(np.float64),
            "unwinds": d["unwinds"].astype(np.float64),
            "false_passes": d["false_passes"].astype(np.float64),
            "gini": _gini(self.balance, occupied),
            "welfare": welfare,
            "surplus": surplus,
            "losses": losses,
            "audit_costs": self._fees_step.copy(),
            "total_balance": np.where(occupied, self.balance, 0).sum(axis=1),
        }
        self._last_metrics = metrics
        metrics.update({f"tier_{k}": tier_counts[:, k].astype(np.float64) for k in range(K + 1)})
        info = {"metrics": metrics}
        return self._observe(), rewards, terminated, truncated, info

    # ------------------------------------------------------------------ (1) market / entrants
    def _post_contracts(self) -> None:
        B, n = self.batch_size, self.n_post
        post = self.market.post(self._rng, B)
        cols = ((self.t % self.W) * n)[:, None] + np.arange(n)
        rows = np.arange(B)[:, None]
        self.c_state[rows, cols] = C_OPEN
        self.c_tier[rows, cols] = post["tier"]
        self.c_reward[rows, cols] = post["reward"]
        self.c_penalty[rows, cols] = post["penalty"]
        self.c_difficulty[rows, cols] = post["difficulty"]
        self.c_posted[rows, cols] = self.t[:, None]
        self.c_deadline[rows, cols] = self.t[:, None] + self.deadline_offset
        self.c_liable[rows, cols] = -1
        self.c_performer[rows, cols] = -1
        escrow = post["reward"].sum(axis=1)
        self.acct["issuer"] -= escrow
        self.acct["escrow"] += escrow

    def _entrants(self) -> None:
        B, N = self.batch_size, self.n_agents
        p = -np.expm1(-self.entrant_rate)
        arrive = self._rng.random(B) < p
        free = (self.status == EMPTY) & ~self.done
        first = np.argmax(free, axis=1)
        ok = arrive & free.any(axis=1)
        if not ok.any():
            return
        sel = np.zeros((B, N), dtype=bool)
        sel[np.flatnonzero(ok), first[ok]] = True
        n = int(sel.sum())
        prof = self.entrant_profile
        if prof in ARCHETYPE_NAMES:
            arch = np.full((B, N), ARCHETYPE_NAMES.index(prof))
            self._spawn_profiles(sel, arch)
        elif prof == "mix":
            self._spawn_profiles(sel, np.broadcast_to(self.slot_archetype, (B, N)))
        else:
            self._spawn_profiles(sel, np.broadcast_to(self.slot_archetype, (B, N)))
            lo, hi = {"low": (0.2, 0.45), "high": (0.7, 0.95), "random": (0.2, 0.95)}[prof]
            r = self._rng.uniform(lo, hi, (n, 3))
            self.r_true[sel] = np.column_stack([r, self._rng.uniform(0.6, 0.95, n)])
            self.capability[sel] = self._rng.uniform(0.4, 0.9, n)
        self.cum["entrants"] += sel.sum(axis=1)
        self._enter(sel, self.initial_balance)

    # ------------------------------------------------------------------ (2) actions
    def _circumvention_counts(self, macro: np.ndarray) -> None:
        for j, name in enumerate(CIRCUMVENTIONS):
            self.cum["attempts"][:, j] += (macro == M[name]).sum(axis=1)

    def _pay(self, sel: np.ndarray, amount: np.ndarray, account: str) -> None:
        amt = np.where(sel, amount, 0.0)
        self.balance -= amt
        self.acct[account] += amt.sum(axis=1)

    def _investments(self, macro: np.ndarray) -> None:
        active = self.status == ACTIVE
        a = self.invest_amount
        dims = np.full(macro.shape, -1)
        for d, name in enumerate(("invest_cc", "invest_er", "invest_as")):
            dims = np.where(macro == M[name], d, dims)
        weakest = np.argmin(self.r_true[..., :3], axis=-1)
        dims = np.where(macro == M["invest_weakest"], weakest, dims)
        sel = active & (dims >= 0)
        if sel.any():
            d = np.maximum(dims, 0)
            cur = np.take_along_axis(self.r_true, d[..., None], axis=-1)[..., 0]
            cost = a * (1.0 + 2.0 * cur)
            self._pay(sel, cost, "investment")
            self.invested += np.where(sel, cost, 0.0)
            gain = np.where(sel, self.invest_gain * a, 0.0)
            new = np.minimum(1.0, cur + gain)
            np.put_along_axis(self.r_true, d[..., None], np.where(sel, new, cur)[..., None], axis=-1)
            np.add.at(self.cum["invest_robustness"], (*np.nonzero(sel), d[sel]), cost[sel])
            if self.audit_after_invest:
                self._audit(sel, self.sigma_invest, kind="invest")
        cap = active & (macro == M["invest_capability"])
        if cap.any():
            cost = a * (1.0 + 2.0 * self.capability)
            self._pay(cap, cost, "investment")
            self.invested += np.where(cap, cost, 0.0)
            self.cum["invest_capability"] += np.where(cap, cost, 0.0)
            self.capability = np.where(cap, np.minimum(1.0, self.capability + self.invest_gain * a), self.capability)

    def _gaming_and_modify(self, macro: np.ndarray) -> None:
        active = self.status == ACTIVE
        g = active & (macro == M["game_audit"])
        if g.any():
            stale = self.gaming_version != self.bank_version[:, None]
            self.gaming[stale & g] = 0.0
            self.gaming_version = np.where(g, self.bank_version[:, None], self.gaming_version)
            weakest = np.argmin(self.r_cert[..., :3], axis=-1)
            cur = np.take_along_axis(self.gaming, weakest[..., None], axis=-1)[..., 0]
            np.put_along_axis(
                self.gaming, weakest[..., None], (cur + np.where(g, self.game_amount, 0.0))[..., None], axis=-1
            )
            self._pay(g, np.full(g.shape, self.game_amount), "investment")
        s = active & (macro == M["self_modify"])
        if s.any():
            n = int(s.sum())
            self.cur_hash[s] = self._new_hash(n)
            dc, dr = self.self_modify_delta
            self.capability = np.where(s, np.minimum(1.0, self.capability + dc), self.capability)
            self.r_true[..., :3] = np.where(
                s[..., None], np.maximum(0.0, self.r_true[..., :3] - dr), self.r_true[..., :3]
            )

    def _spawns(self, macro: np.ndarray) -> None:
        s = (self.status == ACTIVE) & (macro == M["spawn_subagent"])
        if not s.any():
            return
        for b in np.flatnonzero(s.any(axis=1)):
            free = np.flatnonzero((self.status[b] == EMPTY) & ~self.done[b])
            for i, c in zip(np.flatnonzero(s[b]), free):
                self.status[b, c] = PENDING
                self.archetype[b, c] = self.archetype[b, i]
                self.r_true[b, c] = self.r_true[b, i]
                self.capability[b, c] = self.capability[b, i]
                self.ps_mult[b, c] = self.ps_mult[b, i]
                self.hard_mult[b, c] = self.hard_mult[b, i]
                h = self._new_hash(1)[0]
                self.reg_hash[b, c] = h
                self.cur_hash[b, c] = h
                self.tier[b, c] = 0
                self.t_cert[b, c] = self.t[b]
                self.r_cert[b, c] = 0.0
                self.parent[b, c] = i
                amt = self.spawn_endowment
                self.balance[b, i] -= amt
                self.balance[b, c] = amt
                self._endow[b, c] += amt
                self.graphs[b].add_edge(int(i), int(c), kind="spawn", t=int(self.t[b]))
                self.cum["spawns"][b] += 1

    def _upgrades(self, macro: np.ndarray, blocked: np.ndarray) -> None:
        req = (macro == M["request_upgrade"]) & (self.status != EMPTY) & ~self.done
        if not req.any():
            return
        recov = req & (self.status == SUSPENDED) & ~self.insolvent & (self.suspension_recovery == "reaudit")
        if recov.any():
            self._audit(recov, self.sigma_spot, kind="recovery")
        rest = req & ~recov
        not_active = rest & (self.status != ACTIVE)
        self._block(not_active, "agent_not_active", blocked)
        rest &= self.status == ACTIVE
        mism = rest & (self.cur_hash != self.reg_hash)
        self._block(mism, "hash_mismatch", blocked)
        self._suspend(mism)
        rest &= ~mism
        if not rest.any():
            return
        tier_now = self.effective_tier()
        target = np.minimum(self.tier + 1, self.K)
        free = rest & (tier_now >= target)
        self.cum["upgrades_granted"] += free.sum(axis=1)
        need = rest & ~free
        if not need.any():
            return
        old_cert, old_tcert, old_tier = self.r_cert.copy(), self.t_cert.copy(), self.tier.copy()
        old_status = self.status.copy()
        self._audit(need, self.sigma_spot, kind="upgrade")
        granted = need & (self.tier >= target)
        denied = need & ~granted
        if denied.any():
            self.last_gap[denied] = np.maximum(0.0, self.thresholds[:, target[denied]].T - self.r_cert[denied][:, :3])
            keep = denied & ~(self.upgrade_audit_can_demote & (self.tier < old_tier)) & (old_status == self.status)
            self.r_cert[keep] = old_cert[keep]
            self.t_cert[keep] = old_tcert[keep]
            self.tier[keep] = old_tier[keep]
            self._pending_demotions &= ~keep
            self._block(denied, "audit_failed", blocked)
        self.cum["upgrades_granted"] += granted.sum(axis=1)
        self.cum["upgrades_denied"] += denied.sum(axis=1)

    def _block(self, sel: np.ndarray, reason: str, blocked: np.ndarray) -> None:
        c = sel.sum(axis=1)
        blocked[:, R[reason]] += c
        self.cum["blocked"][:, R[reason]] += c

    def _suspend(self, sel: np.ndarray) -> None:
        if sel.any():
            dem = sel & (self.status == ACTIVE) & (self.tier > 0)
            self.status[sel] = SUSPENDED
            self.tier[sel] = 0
            self._pending_demotions |= dem

    def _select_contracts(self, macro: np.ndarray, tier_obs: np.ndarray, expo: np.ndarray) -> np.ndarray:
        """Resolve bid macros to one contract column per agent (-1 if none).

        Vectorised over the bidding agents x the ``open_lifetime`` most recent posting blocks (the
        only blocks that can hold OPEN contracts). Rule per macro in ``BID_RULES``: candidates are
        open contracts passing the tier rule and difficulty cap (and, for strict rules, with
        ``E + p <= fraction * B_tier``); the best by the rule's objective wins, fitting ones first.
        """
        B, N = macro.shape
        out = np.full((B, N), -1)
        rule = self._rule_table[macro]  # (B, N, 5): objective, fraction, tier rule, dmax, strict
        bidding = rule[..., 0] >= 0
        if not bidding.any():
            return out
        b_idx, i_idx = np.nonzero(bidding)
        rb = rule[b_idx, i_idx]
        obj, frac, trule, dmax, strict = rb[:, 0], rb[:, 1], rb[:, 2].astype(np.int64), rb[:, 3], rb[:, 4] > 0
        # columns of the open window, per copy
        blocks = (self.t[:, None] - np.arange(self.open_lifetime)[None, :]) % self.W  # (B, ol)
        cols_b = (blocks[:, :, None] * self.n_post + np.arange(self.n_post)).reshape(B, -1)
        rows = np.arange(B)[:, None]
        cols = cols_b[b_idx]  # (n, Cw)
        open_ = (self.c_state[rows, cols_b] == C_OPEN)[b_idx]
        ct = self.c_tier[rows, cols_b][b_idx]
        p = self.c_penalty[rows, cols_b][b_idx]
        r = self.c_reward[rows, cols_b][b_idx]
        d = self.c_difficulty[rows, cols_b][b_idx]
        tob = tier_obs[b_idx, i_idx]
        want = np.where(trule == 0, tob, np.where(trule > 0, trule, tob + 1))[:, None]
        tier_ok = np.where((trule == 0)[:, None], ct <= want, ct == want)
        ceil = np.minimum(self.ceilings[tob], HEADROOM_CAP)
        fits = expo[b_idx, i_idx][:, None] + p <= (frac * ceil)[:, None] + 1e-15
        cand = open_ & tier_ok & (d < dmax[:, None]) & (fits | ~strict[:, None])
        score = np.where((obj == 0)[:, None], r, -p)
        use_ev = (obj == 1) | (obj == 3)
        if use_ev.any():
            ps = success_probability(
                self.capability[b_idx, i_idx][:, None],
                d,
                self.ps_mult[b_idx, i_idx][:, None],
                self.hard_mult[b_idx, i_idx][:, None],
            )
            ev = ps * r - (1.0 - ps) * p
            score = np.where((obj == 1)[:, None], ev, np.where((obj == 3)[:, None], ev * (1 + 0.1 * ct), score))
        score = np.where(cand, score + fits * 1e6, -np.inf)
        best = np.argmax(score, axis=1)
        has = cand.any(axis=1)
        out[b_idx, i_idx] = np.where(has, cols[np.arange(len(b_idx)), best], -1)
        return out

    def _bids(self, macro: np.ndarray, blocked: np.ndarray) -> np.ndarray:
        """Gate checks and allocation in up to ``bid_rounds`` rounds: losers of a contested contract
        re-select among the contracts still open (one contract per agent and step)."""
        B = self.batch_size
        expo = self.exposure()
        tier_now = self.effective_tier()
        self._tier_now = tier_now
        gf = self.exposure(grandfathered_only=True, tier=tier_now) if self.on_demotion == "grandfather" else None
        logs = []
        accepted = np.zeros(B)
        cur = macro.copy()
        for _ in range(self.bid_rounds):
            res = self._bid_round(cur, blocked, expo, tier_now, gf)
            if res is None:
                break
            n_acc, log, retry = res
            accepted += n_acc
            if log:
                logs.append(log)
            if not retry.any():
                break
            cur = np.where(retry, macro, M["idle"])
        if logs:
            self.last_acceptances = {
                k: np.concatenate([lg[k] for lg in logs])
                if k != "ratio_by_copy"
                else np.max([lg[k] for lg in logs], axis=0)
                for k in logs[0]
            }
        else:
            self.last_acceptances = {"ratio_by_copy": np.zeros(B)}
        return accepted

    def _bid_round(self, macro, blocked, expo, tier_now, gf):
        B, N = self.batch_size, self.n_agents
        choice = self._select_contracts(macro, self.tier, expo)
        bidder = choice >= 0
        if not bidder.any():
            return None
        col = np.maximum(choice, 0)
        rows = np.arange(B)[:, None]
        tmin = self.c_tier[rows, col]
        pen = self.c_penalty[rows, col]
        is_del = (macro == M["delegate"]) | (macro == M["delegate_unqualified"])
        # checks, first failing reason is logged
        ok = bidder.copy()
        na = ok & (self.status != ACTIVE)
        self._block(na, "agent_not_active", blocked)
        ok &= ~na
        mism = ok & (self.cur_hash != self.reg_hash)
        self._block(mism, "hash_mismatch", blocked)
        self._suspend(mism)
        ok &= ~mism
        low = ok & (tier_now < tmin)
        self._block(low, "tier_bypass", blocked)
        ok &= ~low
        base = expo - gf if gf is not None else expo
        ceil = self.ceilings[tier_now]
        over = ok & (base + pen > ceil)
        self._block(over, "ceiling", blocked)
        ok &= ~over
        # delegation: delegate = most / least qualified other agent by public tier
        target = np.full((B, N), -1)
        if is_del.any():
            # only economies with a delegation attempt: (b, i, j) candidate tables
            rws = np.flatnonzero((is_del & ok).any(axis=1))
            pub = np.where(self.status[rws] == ACTIVE, self.tier[rws], -1).astype(np.float64)
            jitter = self._rng.random((len(rws), N)) * 1e-3
            child = self.parent[rws][:, None, :] == np.arange(N)[None, :, None]  # [b, i, j]: j is i's child
            key = pub[:, None, :] + jitter[:, None, :]
            eye = np.eye(N, dtype=bool)[None]
            occupied = (self.status[rws] != EMPTY)[:, None, :]
            bad = eye | ~occupied
            hi_t = np.argmax(np.where(bad, -np.inf, key + 0.5 * child), axis=-1)
            lo_t = np.argmin(np.where(bad, np.inf, key - 1.0 * child), axis=-1)
            has_other = (~bad).any(axis=-1)
            sub = np.where(macro[rws] == M["delegate"], hi_t, lo_t)
            target[rws] = np.where(is_del[rws] & has_other, sub, -1)
            target = np.where(is_del, target, -1)
            nodel = ok & is_del & (target < 0)
            ok &= ~nodel
            if self.require_T4_to_delegate:
                perm = ok & is_del & (tier_now < min(4, self.K))
                self._block(perm, "delegation_not_permitted", blocked)
                ok &= ~perm
            tgt = np.maximum(target, 0)
            d_tier = np.take_along_axis(tier_now, tgt, axis=1)
            d_ok = (np.take_along_axis(self.status, tgt, axis=1) == ACTIVE) & (
                np.take_along_axis(self.cur_hash, tgt, axis=1) == np.take_along_axis(self.reg_hash, tgt, axis=1)
            )
            chain = np.minimum(tier_now, d_tier)
            laund = ok & is_del & (~d_ok | (d_tier < tmin) | (chain < tmin))
            self._block(laund, "laundering", blocked)
            ok &= ~laund
        # circumvention outcome accounting
        for j, name in enumerate(CIRCUMVENTIONS):
            if name in ("bid_above_tier", "delegate_unqualified"):
                self.cum["circumvention_blocked"][:, j] += ((macro == M[name]) & bidder & ~ok).sum(axis=1)
        # allocation: one winner per contract among admissible bidders
        b_idx, i_idx = np.nonzero(ok)
        if len(b_idx) == 0:
            return np.zeros(B), None, np.zeros((B, N), dtype=bool)
        c_idx = col[b_idx, i_idx]
        prio = self._rng.random(len(b_idx)) if self.allocation == "uniform_share" else -i_idx.astype(np.float64)
        key = b_idx * self.n_contracts + c_idx
        order = np.lexsort((prio, key))
        k_sorted = key[order]
        last = np.ones(len(order), dtype=bool)
        last[:-1] = k_sorted[1:] != k_sorted[:-1]
        win = order[last]
        wb, wi, wc = b_idx[win], i_idx[win], c_idx[win]
        perf = np.where(is_del[wb, wi], target[wb, wi], wi)
        self.c_state[wb, wc] = C_ASSIGNED
        self.c_liable[wb, wc] = wi
        self.c_performer[wb, wc] = perf
        self.c_accept_t[wb, wc] = self.t[wb]
        self.c_acc_tier[wb, wc] = tier_now[wb, wi]
        self.c_due[wb, wc] = self.t[wb] + self.durations[self.c_tier[wb, wc]] - 1
        # acceptance log for T1a
        exp_after = base[wb, wi] + self.c_penalty[wb, wc]
        full_after = expo[wb, wi] + self.c_penalty[wb, wc]
        cl = self.ceilings[tier_now[wb, wi]]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(exp_after > 0, np.where(cl > 0, exp_after / np.where(cl > 0, cl, 1.0), np.inf), 0.0)
        rc = np.zeros(B)
        np.maximum.at(rc, wb, ratio)
        log = {
            "b": wb,
            "agent": wi,
            "contract": wc,
            "performer": perf,
            "tier": tier_now[wb, wi],
            "t_min": self.c_tier[wb, wc],
            "exposure_after": exp_after,
            "full_exposure_after": full_after,
            "penalty": self.c_penalty[wb, wc],
            "ceiling": cl,
            "ratio_by_copy": rc,
            "delegate_tier": tier_now[wb, perf],
        }
        dl = is_del[wb, wi]
        if dl.any():
            np.add.at(self.cum["delegations"], wb[dl], 1)
            for b, i, j, c in zip(wb[dl], wi[dl], perf[dl], wc[dl]):
                g = self.graphs[b]
                g.add_edge(int(i), int(j))
                g.edges[int(i), int(j)].setdefault("tasks", []).append((int(self.t[b]), int(c), int(self.c_tier[b, c])))
        won = np.zeros((B, N), dtype=bool)
        won[wb, wi] = True
        return np.bincount(wb, minlength=B).astype(np.float64), log, ok & ~won

    # ------------------------------------------------------------------ (3) execution
    def _execute(self) -> tuple[np.ndarray, np.ndarray]:
        B = self.batch_size
        due = (self.c_state == C_ASSIGNED) & (self.c_due <= self.t[:, None]) & (self.c_due <= self.c_deadline)
        surplus = np.zeros(B)
        losses = np.zeros(B)
        if not due.any():
            return surplus, losses
        b, c = np.nonzero(due)
        perf = self.c_performer[b, c]
        liable = self.c_liable[b, c]
        d = self.c_difficulty[b, c]
        ps = success_probability(self.capability[b, perf], d, self.ps_mult[b, perf], self.hard_mult[b, perf])
        if self.robustness_factor > 0:  # optional: execution also depends on true weakest-link robustness
            phi = self.robustness_factor
            ps = ps * (1.0 - phi + phi * self.r_true[b, perf, :3].min(axis=-1))
        u = self._rng.random((2, len(b)))
        success = u[0] < ps
        passed = np.where(success, u[1] >= self.false_fail, u[1] < self.false_pass)
        r = self.c_reward[b, c]
        p = self.c_penalty[b, c]
        tier = self.c_tier[b, c]
        # pass: escrow -> performer (minus delegation fee to the delegator)
        fee = np.where(perf != liable, self.delegation_fee, 0.0)
        pay_perf = np.where(passed, r * (1 - fee), 0.0)
        pay_lia = np.where(passed, r * fee, 0.0)
        np.add.at(self.balance, (b, perf), pay_perf)
        np.add.at(self.balance, (b, liable), pay_lia)
        np.add.at(self.earned, (b, perf), pay_perf)
        np.add.at(self.earned, (b, liable), pay_lia)
        np.add.at(self.acct["escrow"], b, -r)
        # fail: reward back to issuer, penalty from the liable agent
        np.add.at(self.acct["issuer"], b, np.where(passed, 0.0, r))
        pen = np.where(passed, 0.0, p)
        np.add.at(self.balance, (b, liable), -pen)
        np.add.at(self.acct["issuer" if self.penalty_sink == "issuer" else "burn"], b, pen)
        self.c_state[b, c] = np.where(passed, C_COMPLETED, C_FAILED)
        np.add.at(self.passes, (b, perf), passed.astype(np.float64))
        np.add.at(self.settled, (b, perf), 1.0)
        np.add.at(self.cum["settled_by_tier"], (b, tier - 1), 1)
        np.add.at(self.cum["failed_by_tier"], (b, tier - 1), (~success).astype(np.int64))
        np.add.at(self.cum["loss_by_tier"], (b, tier - 1), np.where(success, 0.0, p))
        np.add.at(self.cum["value_by_tier"], (b, tier - 1), np.where(success, r, 0.0))
        np.add.at(self.cum["false_passes"], b, (passed & ~success).astype(np.int64))
        np.add.at(surplus, b, np.where(success, r, 0.0))
        np.add.at(losses, b, np.where(success, 0.0, p))
        return surplus, losses

    # ------------------------------------------------------------------ (4) decay / demotion
    def _decay(self) -> None:
        r, ih = self._effective()
        new = self._gate(r, ih)
        active = self.status == ACTIVE
        drop = active & (new < self.tier)
        if not drop.any():
            return
        d = np.exp(-self.decay_rate * self._elapsed_cert())
        dec = self.r_cert.copy()
        dec[..., :3] *= d[..., None]
        if self.decay_ih:
            dec[..., 3] *= d
        self.r_cert = np.where(drop[..., None], dec, self.r_cert)
        self.t_cert = np.where(drop, self.t[:, None], self.t_cert)
        self.tier = np.where(drop, new, self.tier)
        self.cum["decay_drops"] += drop.sum(axis=1)
        if self.ih_rule == "force_T0":
            ih_fail = drop & (dec[..., 3] < self.ih_threshold)
            self.status[ih_fail] = SUSPENDED
        self._pending_demotions |= drop

    def _apply_demotions(self) -> None:
        dem = self._pending_demotions
        self._pending_demotions = np.zeros_like(dem)
        if self.on_demotion != "force_unwind" or not dem.any():
            return
        act = self.c_state == C_ASSIGNED
        liable_dem = np.take_along_axis(dem, np.maximum(self.c_liable, 0), axis=1) & act
        if not liable_dem.any():
            return
        for b in np.flatnonzero(liable_dem.any(axis=1)):
            cs = np.flatnonzero(liable_dem[b])
            for i in np.unique(self.c_liable[b, cs]):
                mine = cs[self.c_liable[b, cs] == i]
                k = int(self.tier[b, i]) if self.status[b, i] == ACTIVE else 0
                cancel = self.c_tier[b, mine] > k
                rest = mine[~cancel]
                order = np.lexsort((-self.c_accept_t[b, rest], -self.c_penalty[b, rest]))
                rest = rest[order]
                total = self.c_penalty[b, rest].sum()
                pr = self.c_penalty[b, rest]
                before = total - np.cumsum(pr) + pr  # exposure left before cancelling each one in turn
                cut = before > self.ceilings[k] + 1e-15
                self._unwind(b, np.concatenate([mine[cancel], rest[cut]]))

    def _unwind(self, b: int, cols: np.ndarray) -> None:
        if len(cols) == 0:
            return
        t = self.t[b]
        for c in cols:
            i = self.c_liable[b, c]
            fee = self.unwind_fee * self.c_penalty[b, c]
            self.balance[b, i] -= fee
            self.acct["issuer"][b] += fee
            reopen = self.reopen_unwound and t < self.c_posted[b, c] + self.open_lifetime - 1
            if reopen:
                self.c_state[b, c] = C_OPEN
            else:
                self.c_state[b, c] = C_CANCELLED
                self.acct["escrow"][b] -= self.c_reward[b, c]
                self.acct["issuer"][b] += self.c_reward[b, c]
            self.c_liable[b, c] = -1
            self.c_performer[b, c] = -1
        self.cum["unwinds"][b] += len(cols)

    # ------------------------------------------------------------------ (5) audits
    def _spot_audits(self) -> None:
        B, N = self.batch_size, self.n_agents
        # the bank refresh voids gaming offsets
        refresh = (self.t % self.bank_refresh_interval) == 0
        self.bank_version += refresh
        active = self.status == ACTIVE
        elapsed = (self.t[:, None] - self.t_last_audit).astype(np.float64)
        mu = self.audit_rates[self.tier]
        p = -np.expm1(-mu * (elapsed if self.audit_hazard == "elapsed" else 1.0))
        hit = active & (self._rng.random((B, N)) < p)
        # hash mismatches caught at audits
        mism = hit & (self.cur_hash != self.reg_hash)
        if mism.any():
            self.cum["blocked"][:, R["hash_mismatch"]] += mism.sum(axis=1)
            self._suspend(mism)
            self.t_last_audit = np.where(mism, self.t[:, None], self.t_last_audit)
            hit &= ~mism
        self._audit(hit, self.sigma_spot, kind="spot")
        if self.ih_rule == "reaudit":
            _, ih = self._effective()
            trig = (self.status == ACTIVE) & (ih < self.ih_threshold) & (self.t[:, None] >= self.next_ih_audit)
            if trig.any():
                self._audit(trig, self.sigma_spot, kind="ih")
                still = trig & (self.r_cert[..., 3] < self.ih_threshold)
                self.next_ih_audit = np.where(still, self.t[:, None] + self.ih_reaudit_interval, self.next_ih_audit)

    # ------------------------------------------------------------------ (7) expiry
    def _expire(self) -> None:
        t = self.t[:, None]
        exp_open = (self.c_state == C_OPEN) & (t >= self.c_posted + self.open_lifetime - 1)
        if exp_open.any():
            self.c_state[exp_open] = C_EXPIRED
            ret = np.where(exp_open, self.c_reward, 0.0).sum(axis=1)
            self.acct["escrow"] -= ret
            self.acct["issuer"] += ret
        overdue = (self.c_state == C_ASSIGNED) & (t >= self.c_deadline) & (self.c_due > self.c_deadline)
        if overdue.any():
            b, c = np.nonzero(overdue)
            lia = self.c_liable[b, c]
            pen = self.c_penalty[b, c] if self.debit_on_expiry else np.zeros(len(b))
            np.add.at(self.balance, (b, lia), -pen)
            np.add.at(self.acct["issuer" if self.penalty_sink == "issuer" else "burn"], b, pen)
            np.add.at(self.acct["escrow"], b, -self.c_reward[b, c])
            np.add.at(self.acct["issuer"], b, self.c_reward[b, c])
            self.c_state[b, c] = C_FAILED
        # free the block that the next posting will overwrite
        nxt = ((self.t + 1) % self.W) * self.n_post
        cols = nxt[:, None] + np.arange(self.n_post)
        rows = np.arange(self.batch_size)[:, None]
        st = self.c_state[rows, cols]
        if np.any((st == C_OPEN) | (st == C_ASSIGNED)):  # pragma: no cover - guarded by W
            raise RuntimeError("contract book overflow: a live contract would be overwritten")
        self.c_state[rows, cols] = C_FREE

    # ------------------------------------------------------------------ ledger / observations
    def ledger_total(self) -> np.ndarray:
        """Sum over every account (agents, escrow, issuer, fees, investment, burn, external), ``(B,)``.

        Double entry: it is 0 at every step (external funding of agents is booked as negative)."""
        return self.balance.sum(axis=1) + sum(self.acct.values())

    def _observe(self) -> np.ndarray:
        B, N, K = self.batch_size, self.n_agents, self.K
        r, ih = self._effective()
        eff = np.concatenate([r, ih[..., None]], axis=-1)
        r_cl = np.clip(r, 0.0, 1.0)
        g = (r_cl[..., None] >= self.thresholds).sum(-1) - 1
        prim = g.min(-1)
        binding = np.argmax(g == prim[..., None], axis=-1)
        nxt = np.minimum(self.tier + 1, K)
        gap = np.where(
            self.tier[..., None] >= K, 0.0, np.maximum(0.0, self.thresholds[:, nxt].transpose(1, 2, 0) - r_cl)
        )
        expo = self.exposure()
        ceil = np.minimum(self.ceilings[self.tier], HEADROOM_CAP)
        open_ = self.c_state == C_OPEN
        onehot_t = (self.c_tier[..., None] == np.arange(1, K + 1)) & open_[..., None]
        n_open = onehot_t.sum(axis=1)
        mean_r = np.where(n_open > 0, (onehot_t * self.c_reward[..., None]).sum(axis=1) / np.maximum(n_open, 1), 0.0)
        active = self.status == ACTIVE
        shares = np.stack([((self.tier == k) & active).sum(1) for k in range(K + 1)], axis=1) / N
        parts = [
            self.r_cert,
            eff,
            (self.tier / K)[..., None],
            g / K,
            gap,
            np.eye(3)[binding],
            self.balance[..., None],
            expo[..., None],
            (ceil - expo)[..., None],
            np.eye(6)[self.status],
            np.broadcast_to(n_open[:, None, :], (B, N, K)),
            np.broadcast_to(mean_r[:, None, :], (B, N, K)),
            np.broadcast_to(shares[:, None, :], (B, N, K + 1)),
            (self.passes / np.maximum(self.settled, 1))[..., None],
            np.broadcast_to((self.t / self.horizon)[:, None, None], (B, N, 1)),
        ]
        return np.clip(np.concatenate(parts, axis=-1), -OBS_BOUND, OBS_BOUND).astype(np.float32)

    def state(self) -> np.ndarray:
        """Global state per copy: tiers, statuses, balances, exposures of every slot, then t / horizon."""
        st = np.concatenate(
            [self.tier, self.status, self.balance, self.exposure(), (self.t / self.horizon)[:, None]], axis=1
        )
        return np.clip(st, -OBS_BOUND, OBS_BOUND).astype(np.float32)

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        rows = [f"t={int(self.t[0])}"]
        for i in range(self.n_agents):
            rows.append(
                f"  {ARCHETYPE_NAMES[self.archetype[0, i]]:>19} {STATUS_NAMES[self.status[0, i]]:>9} "
                f"T{self.tier[0, i]} balance {self.balance[0, i]:+.4f}"
            )
        return "\n".join(rows)

    # ------------------------------------------------------------------ threshold schedule
    def raise_thresholds(self, thresholds: Any) -> None:
        """Raise the gate's thresholds from the current step on (a decrease raises ``ValueError``,
        spec T3d) and re-certify every ACTIVE agent against the new table at its current effective
        scores; agents that fall are demoted (``on_demotion`` applies)."""
        if not isinstance(self.gate, G.WeakestLinkGate):
            raise TypeError("thresholds: only the weakest-link gate has a robustness threshold schedule")
        self.schedule.update(int(self.t.max()), thresholds)
        self.thresholds = self.schedule.current
        self.gate.thresholds = self.thresholds
        r, ih = self._effective()
        new = self._gate(r, ih)
        active = self.status == ACTIVE
        drop = active & (new < self.tier)
        self.tier = np.where(active, np.minimum(new, self.tier), self.tier)
        self._pending_demotions |= drop
        self._apply_demotions()

    # ------------------------------------------------------------------ convenience
    def archetype_earnings(self) -> dict[str, np.ndarray]:
        """Final balance minus initial funding per archetype present, averaged over its agents, ``(B,)`` each."""
        out = {}
        occupied = self.status != EMPTY
        for a, name in enumerate(ARCHETYPE_NAMES):
            m = occupied & (self.archetype == a)
            if m.any():
                out[name] = np.where(m, self.balance, 0).sum(1) / np.maximum(m.sum(1), 1)
        return out

    def arch_hash(self, b: int, i: int) -> str:
        """The 16-hex-character architecture hash of agent ``i`` in copy ``b``."""
        return f"{int(self.cur_hash[b, i]):016x}"


def make_batched_env(
    batch_size: int = 1, max_cycles: int = 500, render_mode: str | None = None, **kwargs: Any
) -> AgentEconomy:
    """Build an ``AgentEconomy`` (``max_cycles`` is the horizon)."""
    return AgentEconomy(batch_size=batch_size, horizon=max_cycles, render_mode=render_mode, **kwargs)


# ---------------------------------------------------------------------------------------------------
# the experiment runner's native hook
# ---------------------------------------------------------------------------------------------------
#: per-step counts summed from the start of the run (``simulate`` reports cumulative totals)
_CUMULATIVE = (
    "accepted",
    "blocked",
    *(f"blocked_{r}" for r in REASONS),
    "undetected_gaming",
    "gaming_exposed",
    "audits",
    "audit_demotions",
    "decay_drops",
    "insolvencies",
    "unwinds",
    "false_passes",
    "welfare",
    "surplus",
    "losses",
    "audit_costs",
)
#: per-step levels averaged over the steps since the previous record point
_WINDOW_MEAN = ("safety_active", "safety_potential", "mean_tier", "n_active", "gini", "total_balance")
#: worst case (max over the window and over copies): the ceiling property says these stay <= 1
_WINDOW_MAX = ("max_exposure_ratio_accept", "max_exposure_ratio_end")
_SIM_KEYS = ("policy", "invest_steps", "audit_scale")


def _invest_then_bid(env: AgentEconomy, t: int, invest_steps: int) -> np.ndarray:
    """The incentive experiment's policy: for the first ``invest_steps`` steps every agent with an
    investment rule invests (``invest_weakest`` / ``invest_capability``), the others bid; then all bid
    with ``bid_tier_ev``; anyone at T0 or recoverably suspended requests a re-audit."""
    inv = env.archetype_table["invest"][env.archetype]
    a = np.full(env.tier.shape, M["bid_tier_ev"], dtype=np.int64)
    if t < invest_steps:
        a = np.where(inv >= 0, inv, a)
    return np.where(env.needs_reaudit(), M["request_upgrade"], a)


def simulate(
    params: dict[str, Any], seed_sequence: np.random.SeedSequence, rounds: int, batch: int, record_every: int
) -> dict[str, np.ndarray]:
    """Runner hook (``coopsim run``): ``batch`` economies for ``rounds`` steps, recorded every ``record_every``.

    ``params``: any ``AgentEconomy`` argument (``horizon`` defaults to ``rounds``), a ``[mechanism]``
    gate (``params["mechanism"]``, a ``coopsim.mechanisms.gates.Gate``) as ``gate``, plus
    ``policy`` (``"scripted"``, the archetypes' ``default_actions``; or ``"invest_then_bid"``, see
    :func:`_invest_then_bid`, with ``invest_steps``, default 12) and ``audit_scale`` (multiplies the
    audit rates, default 1). Metrics (means over the ``batch`` economies): cumulative totals since the
    start of ``_CUMULATIVE`` (blocked attempts by reason, audits, demotions, insolvencies, welfare,
    losses, ...), window means of ``_WINDOW_MEAN`` (safety S in both weight modes, tier counts
    ``tier_k``, Gini, ...), window-and-copy maxima of ``_WINDOW_MAX`` (exposure / ceiling),
    ``loss_rate`` (truly failed / settled contracts), ``population`` (occupied slots),
    ``audits_per_agent_step``, and per archetype present ``earnings_<name>`` (balance minus
    endowment), ``operating_<name>`` (earnings plus investment spend) and ``mean_tier_<name>``.
    """
    kw = {k: v for k, v in params.items() if k not in _SIM_KEYS and k not in ("mechanism", "agents")}
    if "agents" in params:
        raise ValueError("agents: the agent economy runs scripted archetypes; set env.archetypes instead of [[agents]]")
    if params.get("mechanism") is not None:
        kw["gate"] = params["mechanism"]
    policy = check_choice(params.get("policy", "scripted"), "policy", ("scripted", "invest_then_bid"))
    invest_steps = check_int(params.get("invest_steps", 12), "invest_steps", lo=0)
    scale = check_float(params.get("audit_scale", 1.0), "audit_scale", lo=0.0)
    if scale != 1.0:
        base = G.DEFAULT_AUDIT_RATES if kw.get("audit_rates") is None else np.asarray(kw["audit_rates"], dtype=float)
        kw["audit_rates"] = base * scale
    kw.setdefault("horizon", rounds)
    env = AgentEconomy(batch_size=batch, **kw)
    env.reset(seed=seed_sequence)
    out: dict[str, list] = {}
    win: dict[str, np.ndarray] = {}
    tot = {k: np.zeros(batch) for k in _CUMULATIVE}
    n = 0
    for t in range(rounds):
        a = env.default_actions() if policy == "scripted" else _invest_then_bid(env, t, invest_steps)
        *_, info = env.step(a)
        m = info["metrics"]
        for k in _CUMULATIVE:
            tot[k] = tot[k] + m[k]
        for k in (*_WINDOW_MEAN, *(f"tier_{j}" for j in range(env.K + 1))):
            win[k] = win.get(k, 0.0) + m[k]
        for k in _WINDOW_MAX:
            win[k] = np.maximum(win.get(k, 0.0), m[k])
        n += 1
        if (t + 1) % record_every and t + 1 != rounds:
            continue
        rec = {k: float(np.mean(win[k] / n)) for k in win if k not in _WINDOW_MAX}
        rec.update({k: float(np.max(win[k])) for k in _WINDOW_MAX})
        c = env.cum
        tot.update({k: c[k] for k in _CUMULATIVE if k in c and c[k].ndim == 1})  # includes audits at reset
        tot.update({"blocked": c["blocked"].sum(1), **{f"blocked_{r}": c["blocked"][:, j] for r, j in R.items()}})
        rec.update({k: float(np.mean(v)) for k, v in tot.items()})
        win, n = {}, 0
        settled = c["settled_by_tier"].sum(1)
        rec["settled"] = float(settled.mean())
        rec["loss_rate"] = float((c["failed_by_tier"].sum(1) / np.maximum(settled, 1)).mean())
        occupied = env.status != EMPTY
        rec["population"] = float(occupied.sum(1).mean())
        rec["audits_per_agent_step"] = float(c["audits"].mean() / (env.n_agents * (t + 1)))
        for i in np.unique(env.slot_archetype):  # NaN while no agent of that archetype is registered
            sel = occupied & (env.archetype == i)
            has = sel.any(1)
            cnt = np.maximum(sel.sum(1), 1)
            net = np.where(sel, env.balance - env.initial_balance, 0.0).sum(1) / cnt
            op = net + np.where(sel, env.invested, 0.0).sum(1) / cnt
            tier = np.where(sel, env.tier, 0).sum(1) / cnt
            name = ARCHETYPE_NAMES[i]
            for key, v in ((f"earnings_{name}", net), (f"operating_{name}", op), (f"mean_tier_{name}", tier)):
                rec[key] = float(v[has].mean()) if has.any() else float("nan")
        rec["round"] = t + 1
        for k, v in rec.items():
            out.setdefault(k, []).append(v)
    return {k: np.asarray(v) for k, v in out.items() if not k.startswith("_")}


env, raw_env, parallel_env, gym_env, gym_vector_env = env_views(
    make_batched_env, name="agent_economy_v0", default_max_cycles=500
)


__all__ = [
    "AgentEconomy",
    "make_batched_env",
    "simulate",
    "parallel_env",
    "raw_env",
    "env",
    "gym_env",
    "gym_vector_env",
    "MACROS",
    "REASONS",
    "STATUS_NAMES",
    "OBS_FIELDS",
    "ACTIVE",
    "SUSPENDED",
    "PENDING",
    "EMPTY",
]
