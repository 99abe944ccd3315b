"""``AgentEconomy``: the batched env that holds an :class:`EconomyState` and runs the phases in order.

The class keeps no simulation logic of its own: ``step`` calls the phase functions (market,
population, actions, acceptance, execution, decay and audits, demotion policy, expiry) on the state
and assembles observations, rewards, flags and metrics from what they return.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
from coopsim.envs.agent_economy import (
    acceptance,
    actions,
    audits,
    delegation,
    demotion,
    execution,
    market,
    policies,
    population,
)
from coopsim.envs.agent_economy import observe as obs
from coopsim.envs.agent_economy.config import (
    KEYWORDS,
    ActionConfig,
    AuditConfig,
    EnvParams,
    MarketConfig,
    PopulationConfig,
    SettlementConfig,
    configs_from_keywords,
)
from coopsim.envs.agent_economy.population import fresh
from coopsim.envs.agent_economy.state import (
    ACTIVE,
    EMPTY,
    PENDING,
    REASONS,
    STATUS_NAMES,
    SUSPENDED,
    EconomyState,
    StepTally,
    exposure,
)
from coopsim.envs.agent_economy_archetypes import ARCHETYPE_NAMES, CIRCUMVENTIONS, N_MACROS, M
from coopsim.mechanisms import gates as G

from coopsim.core.env import BatchedEnv, metrics_option
from coopsim.core.seeding import SeedLike, seed_sequence
from coopsim.core.validation import as_array, check_action_indices, check_choice, check_int, check_size
from coopsim.interop.render import RENDER_FPS, RENDER_MODES

#: per-step counts reported in ``info["metrics"]`` as differences of the cumulative statistics
_STEP_COUNTS = (
    "undetected_gaming",
    "gaming_exposed",
    "audits",
    "audit_demotions",
    "decay_drops",
    "insolvencies",
    "unwinds",
    "false_passes",
)
METRICS = (
    "t",
    "n_active",
    "mean_tier",
    "safety_active",
    "safety_potential",
    "max_exposure_ratio_accept",
    "max_exposure_ratio_end",
    "accepted",
    "blocked",
    *(f"blocked_{r}" for r in REASONS),
    *_STEP_COUNTS,
    "gini",
    "welfare",
    "surplus",
    "losses",
    "audit_costs",
    "total_balance",
)

_CIRCUMVENTION_CODES = frozenset(M[name] for name in CIRCUMVENTIONS)
_INVEST_CODES = frozenset(
    M[name] for name in ("invest_cc", "invest_er", "invest_as", "invest_weakest", "invest_capability")
)
_GAMING_CODES = frozenset((M["game_audit"], M["self_modify"]))
#: statuses that pay upkeep (ACTIVE, PENDING), indexed by status code
_PAYS_UPKEEP = np.isin(np.arange(len(STATUS_NAMES)), (ACTIVE, PENDING))


@functools.lru_cache(maxsize=8)
def _upkeep_by_status(upkeep: float) -> np.ndarray:
    """Upkeep per status code: ``upkeep`` for ACTIVE and PENDING, 0 for the others (read-only)."""
    out = _PAYS_UPKEEP * upkeep
    out.flags.writeable = False
    return out


def _chosen_macros(macro: np.ndarray) -> set[int]:
    """The macro-action codes that occur in ``macro`` (a Python set: cheap membership tests)."""
    if macro.size <= 64:
        return set(macro.ravel().tolist())
    return set(np.flatnonzero(np.bincount(macro.ravel(), minlength=N_MACROS)).tolist())


#: 8-byte words of state per agent slot and per contract (EconomyState), for the size guard
_SLOT_WORDS = 48
_CONTRACT_WORDS = 16


class AgentEconomy(BatchedEnv):
    """``B`` economies x ``N`` agent slots of the comprehension-gated agent economy.

    Arguments: ``n_agents``, ``batch_size``, ``horizon``; grouped configs ``population``
    (:class:`PopulationConfig`), ``gate`` (a gate name, a ``Gate`` object or a :class:`GateConfig`),
    ``audits`` (:class:`AuditConfig`), ``market`` (:class:`MarketConfig`), ``settlement``
    (:class:`SettlementConfig`), ``actions`` (:class:`ActionConfig`); ``metrics``: "all" (default:
    every per-step metric in ``info["metrics"]``), "none" (``info`` is empty; fastest) or a list of
    names from ``METRICS`` (plus ``tier_k``); ``render_mode`` None, "ansi" or "rgb_array". Every field of the
    configs is also accepted as a flat keyword (``AgentEconomy(decay_rate=0.005)``), as before.

    The state is ``self.economy`` (an :class:`EconomyState`); its fields read as attributes of the
    env too (``env.balance is env.economy.balance``). ``self.params`` holds the configs and what is
    derived from them.
    """

    metadata = {
        "render_modes": RENDER_MODES,
        "name": "agent_economy_v0",
        "is_parallelizable": True,
        "render_fps": RENDER_FPS,
    }

    def __init__(
        self,
        n_agents: int = 5,
        batch_size: int = 1,
        horizon: int = 500,
        *,
        population: PopulationConfig | None = None,
        gate: Any = None,
        audits: AuditConfig | None = None,
        market: MarketConfig | None = None,
        settlement: SettlementConfig | None = None,
        actions: ActionConfig | None = None,
        metrics: Any = "all",
        render_mode: str | None = None,
        **keywords: Any,
    ) -> None:
        groups = {"population": population, "gate": gate, "audits": audits, "market": market}
        groups.update(settlement=settlement, actions=actions)
        cfg = configs_from_keywords(groups, keywords)
        n_agents, batch_size = check_int(n_agents, "n_agents", lo=1), check_int(batch_size, "batch_size", lo=1)
        check_size("n_agents", n_agents, _SLOT_WORDS, copies=2, what="one economy's agent slots")
        check_size("batch_size", batch_size, n_agents, _SLOT_WORDS, copies=2, what="the economies' agent slots")
        self.params = EnvParams(
            n_agents=n_agents,
            batch_size=batch_size,
            horizon=check_int(horizon, "horizon", lo=1),
            population=cfg["population"],
            gate_config=cfg["gate"],
            audits=cfg["audits"],
            market_config=cfg["market"],
            settlement=cfg["settlement"],
            actions=cfg["actions"],
        )
        per_copy = n_agents * _SLOT_WORDS + self.params.n_contracts * _CONTRACT_WORDS
        check_size("batch_size", batch_size, per_copy, copies=2, what="the economies' state")
        self.n_agents, self.batch_size, self.horizon = n_agents, batch_size, self.params.horizon
        self.metrics = _metric_names(metrics, self.params.K)  # None: all; (): none; else the names
        self.render_mode = check_choice(render_mode, "render_mode", (None, *RENDER_MODES))
        size = obs._slices(self.params.K)["time"].stop
        self._obs_space = gym.spaces.Box(-obs.OBS_BOUND, obs.OBS_BOUND, (size,), np.float32)
        self._act_space = gym.spaces.Discrete(N_MACROS)
        self.state_space = gym.spaces.Box(-obs.OBS_BOUND, obs.OBS_BOUND, (n_agents * 4 + 1,), np.float32)
        self.schedule = G.ThresholdSchedule(self.params.thresholds)
        self.last_acceptances: dict[str, np.ndarray] = {}
        self._rng = np.random.default_rng(0)
        self._policy_rng = np.random.default_rng(1)
        p = self.params
        self.economy = EconomyState.zeros(batch_size, n_agents, p.n_contracts, p.K)
        fresh(self.economy, p, self._rng, np.ones(batch_size, dtype=bool))

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: int) -> gym.Space:
        return self._obs_space

    def action_space(self, agent: int) -> gym.Space:
        return self._act_space

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
        fresh(self.economy, self.params, self._rng, mask)
        return obs.observe(self.economy, self.params), {}

    def step(self, actions_: Any):
        """Advance every economy one step; returns obs, rewards, terminated, truncated, info.

        Step order: (1) market posts contracts, pending registrations are audited, entrants arrive;
        (2) actions: investments, gaming, self-modification, spawns, upgrade requests, then gate
        checks and allocation of bids and delegations; (3) execution and settlement; (4) decay and
        the demotion policy; (5) spot audits and IH re-audits; (6) upkeep and insolvency;
        (7) expiry; (8) flags and metrics.
        """
        s, p, rng = self.economy, self.params, self._rng
        macro = np.where(s.done, M["idle"], self._action_indices(actions_))
        want = self.metrics != ()
        s.t += 1
        bal0 = s.balance.copy()
        pre = {k: v.copy() for k, v in s.cum.items() if v.ndim == 1 or k == "blocked"} if want else {}
        tally = StepTally.zeros(self.batch_size, self.n_agents)
        self._market_and_entry(tally)
        acc = self._act(macro, tally)
        self.last_acceptances = acc.log
        mid = obs.safety(s, p, audits.effective_tier(s, p) if acc.tier is None else acc.tier) if want else {}
        surplus, losses = execution.execute(s, p, rng)
        audits.decay(s, p, tally, acc.tier)
        demotion.apply_demotions(s, p, tally)
        if p.robustness_gate:
            audits.spot_audits(s, p, rng, tally)
            demotion.apply_demotions(s, p, tally)
        occupied = self._upkeep_and_insolvency(tally)
        market.expire(s, p)
        rewards = s.balance - bal0 - tally.endowed
        terminated, truncated = self._flags(occupied)
        welfare = surplus - losses - tally.fees
        s.cum["welfare"] += welfare
        info = {}
        if want:
            m = self._metrics(pre, acc, mid, occupied, welfare, surplus, losses, tally.fees)
            info["metrics"] = m if self.metrics is None else {k: m[k] for k in self.metrics}
        return obs.observe(s, p, tally.scores), rewards, terminated, truncated, info

    def _action_indices(self, actions_: Any) -> np.ndarray:
        """The macro-action indices ``(B, N)`` int64, checked once here (the boundary): an int64 array
        of the right shape and range passes with one comparison, anything else goes through
        ``check_action_indices`` (conversions and the error messages)."""
        a = actions_
        if type(a) is np.ndarray and a.dtype == np.int64 and a.shape == (self.batch_size, self.n_agents):
            if not np.count_nonzero(a.view(np.uint64) >= N_MACROS):  # negatives wrap to huge unsigned values
                return a
        return check_action_indices(a, self.batch_size, self.n_agents, N_MACROS)

    def _market_and_entry(self, tally: StepTally) -> None:
        s, p, rng = self.economy, self.params, self._rng
        market.post_contracts(s, p, rng)
        pend = s.status == PENDING
        if np.count_nonzero(pend):
            audits.audit(s, p, rng, tally, pend, p.audits.sigma_reg, kind="registration")
        if p.population.entrant_rate > 0:
            population.entrants(s, p, rng, tally)

    def _act(self, macro: np.ndarray, tally: StepTally) -> acceptance.Acceptances:
        """Phase (2). A phase whose macro-actions nobody chose this step is a no-op and is skipped."""
        s, p, rng = self.economy, self.params, self._rng
        chosen = _chosen_macros(macro)
        if not chosen.isdisjoint(_CIRCUMVENTION_CODES):
            actions.count_circumventions(s, macro)
        if not chosen.isdisjoint(_INVEST_CODES):
            actions.investments(s, p, rng, tally, macro)
        if not chosen.isdisjoint(_GAMING_CODES):
            actions.gaming_and_modify(s, p, rng, macro)
        if M["spawn_subagent"] in chosen:
            delegation.spawns(s, p, rng, tally, macro)
        if M["request_upgrade"] in chosen:
            actions.upgrades(s, p, rng, tally, macro)
        return acceptance.accept_bids(s, p, rng, tally, macro)

    def _upkeep_and_insolvency(self, tally: StepTally) -> np.ndarray:
        """Phase (6): upkeep from ACTIVE and PENDING agents; balance <= 0 suspends for good. Returns
        the occupied slots."""
        s, p = self.economy, self.params
        up = _upkeep_by_status(p.settlement.upkeep)[s.status]  # ACTIVE and PENDING pay (1 x upkeep), others 0
        s.balance -= up
        s.acct["fees"] += np.add.reduce(up, axis=1)
        occupied = s.status != EMPTY
        broke = occupied & ~s.insolvent & (s.balance <= 0)
        if np.count_nonzero(broke):
            s.insolvent |= broke
            s.status[broke] = SUSPENDED
            s.tier[broke] = 0
            s.cum["insolvencies"] += broke.sum(axis=1)
            tally.demoted |= broke
            demotion.apply_demotions(s, p, tally)
        return occupied

    def _flags(self, occupied: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Terminated: insolvent, or suspended without recovery, or the whole economy is over (no
        live agent and no entrants); truncated at the horizon."""
        s, p = self.economy, self.params
        if p.audits.suspension_recovery == "none":
            s.done |= occupied & (s.insolvent | (s.status == SUSPENDED))
        else:
            s.done |= occupied & s.insolvent
        if p.population.entrant_rate == 0:
            alive = np.logical_or.reduce(occupied & ~s.done, axis=1)  # (B,): some live agent
            if np.count_nonzero(alive) < len(alive):
                s.done |= ~alive[:, None]
        terminated = s.done.copy()
        at_horizon = s.t >= self.horizon
        if not np.count_nonzero(at_horizon):
            return terminated, np.zeros(terminated.shape, dtype=bool)
        return terminated, at_horizon[:, None] & ~terminated

    def _metrics(self, pre, acc, mid, occupied, welfare, surplus, losses, fees) -> dict[str, np.ndarray]:
        """Per-copy metrics ``(B,)`` of this step (``METRICS`` plus ``tier_k``)."""
        s, p = self.economy, self.params
        d = {k: s.cum[k] - pre[k] for k in pre}
        counts = obs.tier_counts(s, p.K)
        n_act = counts.sum(axis=1)
        f = np.float64
        m = {
            "t": s.t.astype(f),
            "n_active": (s.status == ACTIVE).sum(axis=1).astype(f),
            "mean_tier": np.where(n_act > 0, (counts * np.arange(p.K + 1)).sum(1) / np.maximum(n_act, 1), 0.0),
            **mid,
            "max_exposure_ratio_accept": acc.log["ratio_by_copy"],
            "max_exposure_ratio_end": obs.exposure_ratio(exposure(s), p.ceilings[s.tier]).max(axis=1),
            "accepted": acc.accepted.astype(f),
            "blocked": d["blocked"].sum(axis=1).astype(f),
            **{f"blocked_{r}": d["blocked"][:, j].astype(f) for j, r in enumerate(REASONS)},
            **{k: d[k].astype(f) for k in _STEP_COUNTS},
            "gini": obs.gini(s.balance, occupied),
            "welfare": welfare,
            "surplus": surplus,
            "losses": losses,
            "audit_costs": fees.copy(),
            "total_balance": np.where(occupied, s.balance, 0).sum(axis=1),
        }
        m.update({f"tier_{k}": counts[:, k].astype(f) for k in range(p.K + 1)})
        return m

    # ------------------------------------------------------------------ queries
    def ledger_total(self) -> np.ndarray:
        """Sum over every account (agents, escrow, issuer, fees, investment, burn, external), ``(B,)``.

        Double entry: it is 0 at every step (external funding of agents is booked as negative)."""
        s = self.economy
        return s.balance.sum(axis=1) + sum(s.acct.values())

    def exposure(self, grandfathered_only: bool = False, tier: np.ndarray | None = None) -> np.ndarray:
        """``E(A)``: sum of penalties of A's active contracts, ``(B, N)`` (see ``state.exposure``)."""
        return exposure(self.economy, grandfathered_only, tier)

    def _effective(self) -> tuple[np.ndarray, np.ndarray]:
        """Decayed certified scores ``(R_eff (B, N, 3), IH*_eff (B, N))``."""
        return audits.effective(self.economy, self.params)

    def effective_tier(self) -> np.ndarray:
        """``f(R_eff(t))`` of every slot (0 for non-ACTIVE agents)."""
        return audits.effective_tier(self.economy, self.params)

    def needs_reaudit(self) -> np.ndarray:
        """Agents that can only act again after a re-audit: ACTIVE at T0, or recoverably SUSPENDED."""
        return audits.needs_reaudit(self.economy, self.params)

    def default_actions(self) -> np.ndarray:
        """Macro-actions of the scripted archetypes (``policies.scripted_actions``)."""
        return policies.scripted_actions(self.economy, self.params, self._policy_rng)

    def context(self) -> dict[str, np.ndarray]:
        """Learner context: ``state`` = tier + (K + 1) * [not ACTIVE], in ``0 .. 2K + 1``."""
        s = self.economy
        return {"state": (s.tier + (self.params.K + 1) * (s.status != ACTIVE)).astype(np.int64)}

    @property
    def n_states(self) -> int:
        return 2 * (self.params.K + 1)

    def state(self) -> np.ndarray:
        """Global state per copy: tiers, statuses, balances, exposures of every slot, then t / horizon."""
        return obs.global_state(self.economy, self.params)

    def render(self) -> str | np.ndarray | None:
        """Render copy 0 according to ``render_mode`` ("ansi": one line per agent slot;
        "rgb_array": balances coloured by tier, ``uint8 (H, W, 3)``, see ``agent_economy.render``)."""
        s = self.economy
        if self.render_mode == "ansi":
            return _render_ansi(s)
        if self.render_mode == "rgb_array":
            from coopsim.envs.agent_economy.render import render_agent_economy

            status = [STATUS_NAMES[k] for k in s.status[0]]
            archetype = [ARCHETYPE_NAMES[a] for a in s.archetype[0]]
            return render_agent_economy(s.tier[0], s.balance[0], status, archetype, title=f"t={int(s.t[0])}")
        return None

    # ------------------------------------------------------------------ threshold schedule
    def raise_thresholds(self, thresholds: Any) -> None:
        """Raise the gate's thresholds from the current step on (a decrease raises ``ValueError``;
        Monotonic Safety's valid form) and re-certify every ACTIVE agent against the new table at its
        current effective scores; agents that fall are demoted (``on_demotion`` applies)."""
        p, s = self.params, self.economy
        if not isinstance(p.gate, G.WeakestLinkGate):
            raise TypeError("thresholds: only the weakest-link gate has a robustness threshold schedule")
        self.schedule.update(int(s.t.max()), thresholds)
        p.gate.thresholds = self.schedule.current
        new = audits.gate_tier(s, p, audits.effective_scores(s, p))
        active = s.status == ACTIVE
        tally = StepTally.zeros(self.batch_size, self.n_agents)
        tally.demoted |= active & (new < s.tier)
        s.tier[...] = np.where(active, np.minimum(new, s.tier), s.tier)
        demotion.apply_demotions(s, p, tally)

    # ------------------------------------------------------------------ convenience
    def archetype_earnings(self) -> dict[str, np.ndarray]:
        """Final balance minus initial funding per archetype present, averaged over its agents, ``(B,)`` each."""
        s, out = self.economy, {}
        occupied = s.status != EMPTY
        for a, name in enumerate(ARCHETYPE_NAMES):
            m = occupied & (s.archetype == a)
            if np.count_nonzero(m):
                out[name] = np.where(m, s.balance, 0).sum(1) / np.maximum(m.sum(1), 1)
        return out

    def arch_hash(self, b: int, i: int) -> str:
        """The 16-hex-character architecture hash of agent ``i`` in copy ``b``."""
        return f"{int(self.economy.cur_hash[b, i]):016x}"

    # the configs' fields and the derived tables read as attributes (env.audit_cost, env.ceilings, ...)
    def __getattr__(self, name: str) -> Any:
        if name in ("params", "economy") or name.startswith("__"):
            raise AttributeError(name)
        if name in KEYWORDS:
            group, fld = KEYWORDS[name]
            cfg = {"gate": "gate_config", "market": "market_config"}.get(group, group)
            return getattr(getattr(self.params, cfg), fld)
        for target in (self.economy, self.params):
            if hasattr(target, name):
                return getattr(target, name)
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")


def _state_property(name: str) -> property:
    def get(self: AgentEconomy) -> Any:
        return getattr(self.economy, name)

    def set_(self: AgentEconomy, value: Any) -> None:
        setattr(self.economy, name, value)

    return property(get, set_, doc=f"``self.economy.{name}`` (see :class:`EconomyState`).")


for _f in EconomyState.__dataclass_fields__:
    setattr(AgentEconomy, _f, _state_property(_f))


def _param_property(name: str) -> property:
    def get(self: AgentEconomy) -> Any:
        return getattr(self.params, name)

    return property(get)


for _name in ("thresholds", "ceilings", "K", "decay_rate", "audit_rates", "audit_hazard", "ih_rule", "ih_threshold"):
    setattr(AgentEconomy, _name, _param_property(_name))


def _metric_names(metrics: Any, K: int) -> tuple[str, ...] | None:
    """``None`` for "all", ``()`` for "none", else the tuple of names, checked against ``METRICS``."""
    names = metrics_option(metrics)
    if not names:
        return names
    known = (*METRICS, *(f"tier_{k}" for k in range(K + 1)))
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"metrics: expected 'all', 'none' or names from {list(known)}, got unknown {bad}")
    return names


def _render_ansi(s: EconomyState) -> str:
    rows = [f"t={int(s.t[0])}"]
    for i in range(s.n_agents):
        rows.append(
            f"  {ARCHETYPE_NAMES[s.archetype[0, i]]:>19} {STATUS_NAMES[s.status[0, i]]:>9} "
            f"T{s.tier[0, i]} balance {s.balance[0, i]:+.4f}"
        )
    return "\n".join(rows)
