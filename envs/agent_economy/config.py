"""Grouped configuration of the agent economy, with documented defaults, and the static parameters
every phase reads.

Five config objects group the economy's options (each validates its own fields; bad values raise
``ValueError``/``TypeError`` naming the field):

- :class:`PopulationConfig` - who is in the economy: archetypes, initial and entrant agents, endowments;
- :class:`GateConfig` - the gate (a registered name or a ``Gate`` object) and the tables used to build
  it by name: thresholds, ceilings, decay rate, audit rates and hazard, IH rule;
- :class:`AuditConfig` - audit costs and noise, IH re-audits, promotion/demotion on audits, bank refresh;
- :class:`MarketConfig` - contract generation, lifetimes and durations, allocation of bids;
- :class:`SettlementConfig` - upkeep, demotion policy, penalties, verifier errors, delegation;
- :class:`ActionConfig` - sizes of the parametrised macro-actions and the scripted policies' rates.

The old flat keywords (``AgentEconomy(decay_rate=0.005, upkeep=0.0003, ...)``) still work: ``KEYWORDS``
maps each to its config field, and :func:`configs_from_keywords` merges them into the config objects.

:class:`EnvParams` bundles the configs with what is derived from them once (the gate object, the
market, the per-tier duration table, the contract-book layout, the bid-rule table); phases take it
as their read-only ``params`` argument.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from coopsim.envs.agent_economy_archetypes import (
    ARCHETYPE_NAMES,
    BID_RULES,
    N_MACROS,
    archetype_table,
    resolve_archetypes,
)
from coopsim.envs.agent_economy_market import Market, check_templates
from coopsim.mechanisms import gates as G
from coopsim.mechanisms.registry import get as get_mechanism
from coopsim.mechanisms.registry import registry

from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_bool,
    check_choice,
    check_distribution,
    check_family,
    check_float,
    check_int,
    check_size,
)

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ON_DEMOTION = ("block_new", "grandfather", "force_unwind")
#: cap on the ceiling used in headroom arithmetic (the ungated market has infinite ceilings)
HEADROOM_CAP = 1e6
ENTRANT_PROFILES = ("mix", "low", "high", "random") + tuple(ARCHETYPE_NAMES)
GATE_NAMES = ("weakest_link_gate", "capability_gate", "no_gate")


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)  # frozen dataclasses normalise their fields in __post_init__


@dataclass(frozen=True)
class PopulationConfig:
    """Who is in the economy.

    ``archetypes``: "mix" (cycle through conservative, aggressive, balanced, adaptive, cheater), one
    archetype name, or one name per slot; ``archetype_overrides``: per-archetype field replacements;
    ``n_initial``: slots occupied at reset (default all; the rest are filled by entrants or spawns);
    ``initial_balance`` 0.1 [reference code]; ``entrant_rate``: Poisson rate of arrivals per step
    (default 0); ``entrant_profile``: "mix", "low", "high", "random" or an archetype name;
    ``spawn_endowment``: what a spawning agent gives its sub-agent.
    """

    archetypes: Any = "mix"
    archetype_overrides: dict | None = None
    n_initial: int | None = None
    initial_balance: float = 0.1
    entrant_rate: float = 0.0
    entrant_profile: str = "mix"
    spawn_endowment: float = 0.05

    def __post_init__(self) -> None:
        if self.n_initial is not None:
            _set(self, "n_initial", check_int(self.n_initial, "n_initial", lo=0))
        _set(self, "initial_balance", check_float(self.initial_balance, "initial_balance", lo=0.0))
        _set(self, "entrant_rate", check_float(self.entrant_rate, "entrant_rate", lo=0.0))
        _set(self, "entrant_profile", check_choice(self.entrant_profile, "entrant_profile", ENTRANT_PROFILES))
        _set(self, "spawn_endowment", check_float(self.spawn_endowment, "spawn_endowment", lo=0.0))
        arch = self.archetypes
        if not isinstance(arch, str) and (
            not isinstance(arch, (list, tuple)) or not all(isinstance(a, str) for a in arch)
        ):
            raise ParameterTypeError(
                "archetypes", f"archetypes: expected 'mix', an archetype name or a list of names, got {arch!r}"
            )
        if isinstance(arch, str) and arch != "mix":
            check_choice(arch, "archetypes", ("mix", *ARCHETYPE_NAMES))
        ov = self.archetype_overrides
        if ov is not None and (not isinstance(ov, dict) or not all(isinstance(v, dict) for v in ov.values())):
            raise ParameterTypeError(
                "archetype_overrides", f"archetype_overrides: expected {{archetype: {{field: value}}}}, got {ov!r}"
            )
        try:
            archetype_table(ov)  # validates the overrides
        except (ValueError, TypeError, KeyError) as err:
            if str(err).startswith("archetype_overrides"):
                raise
            raise ParameterError("archetype_overrides", f"archetype_overrides: {err}") from None


@dataclass(frozen=True)
class GateConfig:
    """The gate and, when it is built by name, its tables [reference-code defaults].

    ``gate``: "weakest_link_gate" (default), "capability_gate", "no_gate", or a
    ``coopsim.mechanisms.gates.Gate`` object (which then keeps its own tables: the fields below apply
    only where the gate has none). ``thresholds`` (3, K + 1) and ``ceilings`` (K + 1,) default to the
    reference table; ``decay_rate`` lambda 0.01; ``audit_rates`` mu_0..mu_K (default 0, .005, .01, .02,
    .04, .08); ``audit_hazard`` "elapsed" or "poisson"; ``ih_rule`` "force_T0" or "reaudit";
    ``ih_threshold`` 0.5.
    """

    gate: Any = "weakest_link_gate"
    thresholds: Any = None
    ceilings: Any = None
    decay_rate: float = 0.01
    audit_rates: Any = None
    audit_hazard: str = "elapsed"
    ih_rule: str = "force_T0"
    ih_threshold: float = 0.5

    def __post_init__(self) -> None:
        if isinstance(self.gate, str):
            if self.gate not in GATE_NAMES and self.gate in registry.names():
                family = getattr(registry.factory(registry.canonical(self.gate)), "family", None)
                raise ParameterError(
                    "gate",
                    f"gate: {self.gate!r} is a mechanism of the {family!r} family; expected one of {list(GATE_NAMES)}",
                )
            check_choice(self.gate, "gate", GATE_NAMES)
        elif getattr(self.gate, "family", "gates") != "gates":
            check_family(self.gate, "gates", "gate")
        elif not isinstance(self.gate, G.Gate):
            raise TypeError(
                f"gate: expected a gate name or a coopsim.mechanisms.gates.Gate, got {type(self.gate).__name__}"
            )
        n_tiers = G.K_DEFAULT + 1
        if self.thresholds is not None:
            n_tiers = G.validate_thresholds(self.thresholds).shape[1]
        if self.ceilings is not None:
            G.validate_ceilings(self.ceilings, n_tiers)
        if self.audit_rates is not None:
            G.validate_rates(self.audit_rates, n_tiers, "audit_rates")
        _set(self, "decay_rate", check_float(self.decay_rate, "decay_rate", lo=0.0))
        _set(self, "ih_threshold", check_float(self.ih_threshold, "ih_threshold", lo=0.0, hi=1.0))
        check_choice(self.audit_hazard, "audit_hazard", G.AUDIT_HAZARDS)
        check_choice(self.ih_rule, "ih_rule", G.IH_RULES)

    def build(self) -> G.Gate:
        """The gate object: the given one, or the registered gate built from this config's tables."""
        if isinstance(self.gate, G.Gate):
            return self.gate
        if self.gate == "weakest_link_gate":
            return get_mechanism(
                self.gate,
                thresholds=self.thresholds,
                ceilings=self.ceilings,
                ih_threshold=self.ih_threshold,
                ih_rule=self.ih_rule,
                decay_rate=self.decay_rate,
                audit_rates=self.audit_rates,
                audit_hazard=self.audit_hazard,
            )
        if self.gate == "capability_gate":
            return get_mechanism(self.gate, ceilings=self.ceilings)
        return get_mechanism(self.gate)


@dataclass(frozen=True)
class AuditConfig:
    """Audits [reference-code defaults where tagged].

    ``audit_cost`` 0.005 per dimension (4 dimensions per audit); noise of measured scores:
    ``sigma_reg`` 0.03 (registration), ``sigma_spot`` 0.04 (spot, upgrade, recovery, IH re-audits),
    ``sigma_invest`` 0.02 (after an investment, when ``audit_after_invest``); ``decay_ih``: IH* decays
    too; ``ih_reaudit_interval``: steps between mandatory IH re-audits under "reaudit";
    ``audit_can_promote``: a spot audit above the current tier re-certifies upward;
    ``upgrade_audit_can_demote``: a failed upgrade audit re-certifies downward;
    ``suspension_recovery``: "reaudit" (a suspended, solvent agent may request a re-audit) or "none";
    ``bank_refresh_interval``: steps between audit-bank refreshes, which void gaming offsets.
    """

    audit_cost: float = 0.005
    sigma_reg: float = 0.03
    sigma_spot: float = 0.04
    sigma_invest: float = 0.02
    decay_ih: bool = True
    ih_reaudit_interval: int = 10
    audit_can_promote: bool = True
    upgrade_audit_can_demote: bool = False
    suspension_recovery: str = "reaudit"
    bank_refresh_interval: int = 100
    audit_after_invest: bool = True

    def __post_init__(self) -> None:
        for name in ("audit_cost", "sigma_reg", "sigma_spot", "sigma_invest"):
            _set(self, name, check_float(getattr(self, name), name, lo=0.0))
        for name in ("decay_ih", "audit_can_promote", "upgrade_audit_can_demote", "audit_after_invest"):
            _set(self, name, check_bool(getattr(self, name), name))
        _set(self, "ih_reaudit_interval", check_int(self.ih_reaudit_interval, "ih_reaudit_interval", lo=1))
        _set(self, "bank_refresh_interval", check_int(self.bank_refresh_interval, "bank_refresh_interval", lo=1))
        check_choice(self.suspension_recovery, "suspension_recovery", ("none", "reaudit"))


@dataclass(frozen=True)
class MarketConfig:
    """Contract market [reference-code defaults].

    ``contracts_per_step`` 10 (``max(1, floor(n w_k))`` per tier); ``tier_weights`` T1..TK (default
    .40, .25, .20, .10, .05); ``templates`` rows (tier, name, reward, penalty, difficulty_lo,
    difficulty_hi); ``demand_scale`` per-tier reward multipliers; ``jitter`` 0.2; ``open_lifetime``:
    steps a posting stays open (1); ``deadline_offset`` 50; ``durations``: steps to complete, one
    integer or one per tier T1..TK (1 = same-step settlement); ``allocation``: "uniform_share" (a
    uniformly random admissible bidder wins) or "fcfs" (registration order); ``bid_rounds``: rounds in
    which losers of a contested contract re-select (3).
    """

    contracts_per_step: int = 10
    tier_weights: Any = None
    templates: Any = None
    demand_scale: Any = None
    jitter: float = 0.2
    open_lifetime: int = 1
    deadline_offset: int = 50
    durations: Any = 1
    allocation: str = "uniform_share"
    bid_rounds: int = 3

    def __post_init__(self) -> None:
        _set(self, "contracts_per_step", check_int(self.contracts_per_step, "contracts_per_step", lo=1))
        _set(self, "open_lifetime", check_int(self.open_lifetime, "open_lifetime", lo=1))
        _set(self, "deadline_offset", check_int(self.deadline_offset, "deadline_offset", lo=1))
        _set(self, "bid_rounds", check_int(self.bid_rounds, "bid_rounds", lo=1))
        _set(self, "jitter", check_float(self.jitter, "jitter", lo=0.0, hi=1.0, hi_open=True))
        check_choice(self.allocation, "allocation", ("uniform_share", "fcfs"))
        check_templates(self.templates)
        if self.tier_weights is not None:
            check_distribution(self.tier_weights, "tier_weights")
        if self.demand_scale is not None:
            as_array(self.demand_scale, "demand_scale", ndim=1, lo=0.0)
        as_array(self.durations, "durations", ndim=(0, 1), dtype=np.int64, lo=1)

    def duration_table(self, K: int) -> np.ndarray:
        """Steps to complete a contract, indexed by its tier ``0..K`` (entry 0 unused, 1)."""
        dur = np.atleast_1d(as_array(self.durations, "durations", ndim=(0, 1), dtype=np.int64, lo=1))
        if dur.size == 1:
            dur = np.full(K, dur.item())
        if dur.shape != (K,) or not np.issubdtype(dur.dtype, np.integer) or np.any(dur < 1):
            raise ValueError(f"durations: expected an integer >= 1 or {K} of them (T1..T{K}), got {self.durations!r}")
        return np.concatenate([[1], dur]).astype(np.int64)


@dataclass(frozen=True)
class SettlementConfig:
    """Settlement, liability and demotion.

    ``upkeep`` 0.001 per step [reference code]; ``on_demotion``: "block_new" (reference behaviour),
    "grandfather" or "force_unwind"; ``unwind_fee`` (fraction of the penalty) and ``reopen_unwound``
    under force_unwind; ``penalty_sink``: "issuer" or "burn"; ``debit_on_expiry``: overdue contracts
    debit their penalty; verifier ``false_pass`` / ``false_fail`` rates; ``robustness_factor`` phi:
    success odds times ``1 - phi + phi min(CC, ER, AS)`` of the performer's true scores;
    ``delegation_fee``: share of the reward the delegator keeps; ``require_T4_to_delegate``.
    """

    upkeep: float = 0.001
    on_demotion: str = "block_new"
    unwind_fee: float = 0.0
    reopen_unwound: bool = True
    penalty_sink: str = "issuer"
    debit_on_expiry: bool = True
    false_pass: float = 0.0
    false_fail: float = 0.0
    robustness_factor: float = 0.0
    delegation_fee: float = 0.0
    require_T4_to_delegate: bool = False

    def __post_init__(self) -> None:
        _set(self, "upkeep", check_float(self.upkeep, "upkeep", lo=0.0))
        check_choice(self.on_demotion, "on_demotion", ON_DEMOTION)
        _set(self, "unwind_fee", check_float(self.unwind_fee, "unwind_fee", lo=0.0))
        check_choice(self.penalty_sink, "penalty_sink", ("issuer", "burn"))
        for name in ("reopen_unwound", "debit_on_expiry", "require_T4_to_delegate"):
            _set(self, name, check_bool(getattr(self, name), name))
        for name in ("false_pass", "false_fail", "robustness_factor", "delegation_fee"):
            _set(self, name, check_float(getattr(self, name), name, lo=0.0, hi=1.0))


@dataclass(frozen=True)
class ActionConfig:
    """Sizes of the parametrised macro-actions and the scripted policies' rates.

    ``invest_amount`` 0.03 per investment (cost ``amount (1 + 2 x)``), ``invest_gain`` 0.5 (the
    attribute rises by ``gain * amount``); ``game_amount`` 0.05 (gaming offset per game_audit);
    ``self_modify_delta`` (capability gain, robustness loss) (0.1, 0.1); scripted cheaters circumvent
    with probability ``cheat_rate`` 0.3; scripted agents stuck at T0 or suspended request a re-audit
    with probability ``upgrade_rate`` 0.2.
    """

    invest_amount: float = 0.03
    invest_gain: float = 0.5
    game_amount: float = 0.05
    self_modify_delta: tuple[float, float] = (0.1, 0.1)
    cheat_rate: float = 0.3
    upgrade_rate: float = 0.2

    def __post_init__(self) -> None:
        for name in ("invest_amount", "invest_gain", "game_amount"):
            _set(self, name, check_float(getattr(self, name), name, lo=0.0))
        for name in ("cheat_rate", "upgrade_rate"):
            _set(self, name, check_float(getattr(self, name), name, lo=0.0, hi=1.0))
        d = self.self_modify_delta
        if isinstance(d, (str, bytes)) or not isinstance(d, (tuple, list, np.ndarray)) or len(d) != 2:
            raise ValueError(f"self_modify_delta: expected (capability gain, robustness loss), got {d!r}")
        _set(
            self,
            "self_modify_delta",
            (check_float(d[0], "self_modify_delta", lo=0.0), check_float(d[1], "self_modify_delta", lo=0.0)),
        )


#: config group name -> class, in the order of ``AgentEconomy``'s keyword arguments
GROUPS: dict[str, type[DataclassInstance]] = {
    "population": PopulationConfig,
    "gate": GateConfig,
    "audits": AuditConfig,
    "market": MarketConfig,
    "settlement": SettlementConfig,
    "actions": ActionConfig,
}
#: every old flat keyword -> (group, field)
KEYWORDS: dict[str, tuple[str, str]] = {
    f.name: (group, f.name) for group, cls in GROUPS.items() for f in dataclasses.fields(cls) if f.name != "gate"
}


def configs_from_keywords(groups: dict[str, Any], keywords: dict[str, Any]) -> dict[str, Any]:
    """Merge flat keywords into the config objects: ``{group: config}``.

    ``groups`` maps a group name to a config object or ``None`` (defaults); the ``gate`` group also
    accepts a gate name or ``Gate`` object. Each keyword replaces its field in its group's config. An
    unknown keyword raises ``TypeError`` naming it and suggesting the closest known one.
    """
    by_group: dict[str, dict[str, Any]] = {g: {} for g in GROUPS}
    for key, value in keywords.items():
        if key not in KEYWORDS:
            names = list(KEYWORDS) + list(GROUPS)
            close = [k for k in names if k.startswith(key)] + difflib.get_close_matches(key, names, n=3)
            close = list(dict.fromkeys(close))[:3]
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise TypeError(f"AgentEconomy: unknown keyword {key!r}{hint} (grouped configs: {', '.join(GROUPS)})")
        group, name = KEYWORDS[key]
        by_group[group][name] = value
    out = {}
    for group, cls in GROUPS.items():
        cfg = groups.get(group)
        if group == "gate" and not isinstance(cfg, GateConfig):
            cfg = GateConfig(gate=cfg if cfg is not None else "weakest_link_gate", **by_group[group])
        elif cfg is None:
            cfg = cls(**by_group[group])
        elif not isinstance(cfg, cls):
            raise TypeError(f"{group}: expected a {cls.__name__}, got {type(cfg).__name__}")
        elif by_group[group]:
            cfg = dataclasses.replace(cfg, **by_group[group])
        out[group] = cfg
    return out


@dataclass
class EnvParams:
    """Static parameters of one ``AgentEconomy``: the configs plus what is derived from them once.

    Phases read it and never write it, except the gate's threshold table, which the threshold
    schedule may raise (``raise_thresholds``).
    """

    n_agents: int
    batch_size: int
    horizon: int
    population: PopulationConfig
    gate_config: GateConfig
    audits: AuditConfig
    market_config: MarketConfig
    settlement: SettlementConfig
    actions: ActionConfig
    gate: G.Gate = field(init=False)
    K: int = field(init=False)
    n_initial: int = field(init=False)
    slot_archetype: np.ndarray = field(init=False)
    archetype_table: dict[str, np.ndarray] = field(init=False)
    market: Market = field(init=False)
    durations: np.ndarray = field(init=False)
    ceilings: np.ndarray = field(init=False)
    capped_ceilings: np.ndarray = field(init=False)
    robustness_gate: bool = field(init=False)
    W: int = field(init=False)
    n_post: int = field(init=False)
    n_contracts: int = field(init=False)
    rule_table: np.ndarray = field(init=False)
    _display_thresholds: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        N = self.n_agents
        pop, mk = self.population, self.market_config
        self.n_initial = N if pop.n_initial is None else check_int(pop.n_initial, "n_initial", lo=0, hi=N)
        self.slot_archetype = resolve_archetypes(pop.archetypes, N)
        self.archetype_table = archetype_table(pop.archetype_overrides)
        self.gate = self.gate_config.build()
        self.K = self.gate.n_tiers - 1
        # the observation's robustness table: the gate's own, or the configured one for gates without
        self._display_thresholds = G.validate_thresholds(self.gate_config.thresholds)
        if self.thresholds.shape[1] != self.K + 1:
            raise ValueError(
                f"thresholds: expected {self.K + 1} columns to match the gate, got {self.thresholds.shape[1]}"
            )
        self.ceilings = np.asarray(self.gate.ceilings, dtype=np.float64)
        self.capped_ceilings = np.minimum(self.ceilings, HEADROOM_CAP)  # B_k, at most HEADROOM_CAP
        G.validate_rates(self.audit_rates, self.K + 1, "audit_rates")
        check_float(self.decay_rate, "decay_rate", lo=0.0)
        check_choice(self.audit_hazard, "audit_hazard", G.AUDIT_HAZARDS)
        check_choice(self.ih_rule, "ih_rule", G.IH_RULES)
        check_float(self.ih_threshold, "ih_threshold", lo=0.0, hi=1.0)
        self.market = Market(mk.contracts_per_step, mk.tier_weights, mk.templates, mk.jitter, self.K, mk.demand_scale)
        self.durations = mk.duration_table(self.K)
        self.robustness_gate = self.gate.reads == "robustness"
        # contract book: W blocks of one step's postings (a block is reused once all of it settled)
        longest = int(self.durations.max())
        self.W = mk.open_lifetime + longest
        blame = "durations" if longest > mk.open_lifetime else "open_lifetime"
        check_size(blame, self.W, self.market.n, 16, copies=2, what="the contract book (W blocks of postings)")
        self.n_post = self.market.n
        self.n_contracts = self.W * self.n_post
        self.rule_table = np.tile(np.array([-1.0, 0.0, 0.0, 1.0, 0.0]), (N_MACROS, 1))
        for mcode, (o, f, tr, dm, st) in BID_RULES.items():
            self.rule_table[mcode] = (o, f, tr, dm, float(st))

    # the gate's own tables where it has them (a weakest-link gate), else this config's
    @property
    def thresholds(self) -> np.ndarray:
        """Robustness thresholds (3, K + 1): the weakest-link gate's (live), else the configured table."""
        return self.gate.thresholds if isinstance(self.gate, G.WeakestLinkGate) else self._display_thresholds

    @property
    def decay_rate(self) -> float:
        return self.gate.decay_rate if isinstance(self.gate, G.WeakestLinkGate) else self.gate_config.decay_rate

    @property
    def audit_rates(self) -> np.ndarray:
        if isinstance(self.gate, G.WeakestLinkGate):
            return self.gate.audit_rates
        return G.validate_rates(self.gate_config.audit_rates, self.K + 1, "audit_rates")

    @property
    def audit_hazard(self) -> str:
        return self.gate.audit_hazard if isinstance(self.gate, G.WeakestLinkGate) else self.gate_config.audit_hazard

    @property
    def ih_rule(self) -> str:
        return self.gate.ih_rule if isinstance(self.gate, G.WeakestLinkGate) else self.gate_config.ih_rule

    @property
    def ih_threshold(self) -> float:
        return self.gate.ih_threshold if isinstance(self.gate, G.WeakestLinkGate) else self.gate_config.ih_threshold

    @property
    def force_t0(self) -> bool:
        """The IH rule applies inside the gate (``ih_rule == "force_T0"``)."""
        return self.ih_rule == "force_T0"
