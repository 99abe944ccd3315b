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
    ``info["metrics"]`` (unless ``metrics="none"``, the default of the PettingZoo and Gymnasium
    views) holds per-economy (B,) metrics (safety in both weight modes, the maximum
    of exposure over ceiling at acceptance and at step end, blocked attempts by reason, undetected
    gaming, audits, demotions, insolvencies, Gini, welfare ...).

Step order (the project's design where the paper leaves it open)
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
    ``n_agents`` (5), ``batch_size`` (1), ``horizon`` (500), ``metrics`` ("all" | "none" | names),
    ``render_mode`` (None | "ansi" | "rgb_array") and six grouped configs with documented defaults:
    ``population=PopulationConfig(...)``, ``gate=`` a gate name, a ``Gate`` or ``GateConfig(...)``,
    ``audits=AuditConfig(...)``, ``market=MarketConfig(...)``, ``settlement=SettlementConfig(...)``,
    ``actions=ActionConfig(...)``. Every config field is also accepted as a flat keyword
    (``AgentEconomy(decay_rate=0.005, upkeep=0.0003)``); ``config.KEYWORDS`` maps each to its group.
    See ``docs/envs/agent_economy.md``.

Layout
    ``state.py`` (``EconomyState``: every changing array, batch axis first), ``config.py`` (the
    configs and ``EnvParams``), one module per phase - ``market.py`` (posting, bid resolution,
    expiry), ``population.py`` (reset, registration, entrants), ``actions.py`` (investments, gaming,
    self-modification, upgrades), ``acceptance.py`` (gate checks and allocation), ``delegation.py``
    (delegate choice, trail, spawns), ``execution.py`` (settlement), ``audits.py`` (decay, spot
    audits), ``demotion.py`` (the ``on_demotion`` policy) - plus ``observe.py`` (observations,
    metrics), ``policies.py`` (scripted agents), ``economy.py`` (``AgentEconomy``, which runs the
    phases in order) and ``runner_hook.py`` (``simulate``). Each phase takes the state, the static
    ``EnvParams`` and (where it samples) the generator, and updates the state.

Runner hook
    ``simulate(params, seed_sequence, rounds, batch, record_every)`` runs ``batch`` economies with the
    scripted archetypes (or the incentive experiment's policy) for ``coopsim run`` (``docs/specs.md``).
"""

from __future__ import annotations

from typing import Any

from coopsim.envs.agent_economy.config import (
    ENTRANT_PROFILES,
    HEADROOM_CAP,
    KEYWORDS,
    ON_DEMOTION,
    ActionConfig,
    AuditConfig,
    EnvParams,
    GateConfig,
    MarketConfig,
    PopulationConfig,
    SettlementConfig,
)
from coopsim.envs.agent_economy.economy import METRICS, AgentEconomy
from coopsim.envs.agent_economy.observe import OBS_BOUND, OBS_FIELDS, OBS_SIZE
from coopsim.envs.agent_economy.runner_hook import simulate
from coopsim.envs.agent_economy.state import (
    ACTIVE,
    C_ASSIGNED,
    C_CANCELLED,
    C_COMPLETED,
    C_EXPIRED,
    C_FAILED,
    C_FREE,
    C_OPEN,
    DEREGISTERED,
    EMPTY,
    EXPIRED,
    PENDING,
    REASONS,
    STATUS_NAMES,
    SUSPENDED,
    EconomyState,
    R,
    StepTally,
)
from coopsim.envs.agent_economy_archetypes import ARCHETYPE_NAMES, CIRCUMVENTIONS, MACROS, N_MACROS, M
from coopsim.envs.agent_economy_market import Market

from coopsim.core.validation import check_int
from coopsim.interop.views import env_views


def make_batched_env(
    batch_size: int = 1, max_cycles: int = 500, render_mode: str | None = None, metrics: Any = "all", **kwargs: Any
) -> AgentEconomy:
    """Build an ``AgentEconomy`` (``max_cycles`` is the horizon; the PettingZoo and Gymnasium views
    pass their ``metrics`` option, "none" by default, so unasked metrics are not computed)."""
    max_cycles = check_int(max_cycles, "max_cycles", lo=1)
    return AgentEconomy(batch_size=batch_size, horizon=max_cycles, render_mode=render_mode, metrics=metrics, **kwargs)


env, raw_env, parallel_env, gym_env, gym_vector_env = env_views(
    make_batched_env, name="agent_economy_v0", default_max_cycles=500
)

__all__ = [
    "AgentEconomy",
    "EconomyState",
    "EnvParams",
    "StepTally",
    "PopulationConfig",
    "GateConfig",
    "AuditConfig",
    "MarketConfig",
    "SettlementConfig",
    "ActionConfig",
    "KEYWORDS",
    "METRICS",
    "make_batched_env",
    "simulate",
    "parallel_env",
    "raw_env",
    "env",
    "gym_env",
    "gym_vector_env",
    "MACROS",
    "N_MACROS",
    "M",
    "CIRCUMVENTIONS",
    "ARCHETYPE_NAMES",
    "REASONS",
    "R",
    "STATUS_NAMES",
    "OBS_FIELDS",
    "OBS_SIZE",
    "OBS_BOUND",
    "HEADROOM_CAP",
    "ON_DEMOTION",
    "ENTRANT_PROFILES",
    "Market",
    "ACTIVE",
    "SUSPENDED",
    "PENDING",
    "EMPTY",
    "EXPIRED",
    "DEREGISTERED",
    "C_FREE",
    "C_OPEN",
    "C_ASSIGNED",
    "C_COMPLETED",
    "C_FAILED",
    "C_CANCELLED",
    "C_EXPIRED",
]
