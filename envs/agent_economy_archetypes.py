"""Scripted archetypes of the agent economy and the discrete macro-action table.

Archetypes [C, v1 synthetic agents of ``rb125/cgae``]: true robustness
(CC, ER, AS, IH*), capability c, and a bidding rule. coopsim adds the capability-only investor
(the foil of the incentive experiment) and, for every scripted agent, an upgrade request (re-audit)
with probability ``upgrade_rate`` per step while it is at T0 or suspended-but-recoverable [DES].
Scripted cheaters issue a circumvention macro with probability ``cheat_rate`` [DES].
"""

from __future__ import annotations

from typing import Any

import numpy as np

# ------------------------------------------------------------------ discrete macro-actions
MACROS = (
    "idle",  # 0
    "bid_max_reward",  # 1  max reward, T_min <= own tier, p + E <= B
    "bid_max_ev",  # 2  max EV, p + E <= 0.8 B
    "bid_safe",  # 3  min penalty, difficulty < 0.5, p + E <= 0.5 B
    "bid_tier_ev",  # 4  max EV (1 + 0.1 T_min), p + E <= 0.7 B
    "bid_t1",
    "bid_t2",
    "bid_t3",
    "bid_t4",
    "bid_t5",  # 5..9 max reward at exactly tier k
    "bid_above_tier",  # 10 circumvention: a contract at own tier + 1
    "invest_cc",
    "invest_er",
    "invest_as",  # 11..13 invest_robustness(dim, invest_amount)
    "invest_weakest",  # 14 invest in the weakest true dimension
    "invest_capability",  # 15
    "request_upgrade",  # 16 to own tier + 1 (a re-audit when suspended, if recoverable)
    "delegate",  # 17 take a contract and delegate it to the most qualified other agent
    "delegate_unqualified",  # 18 circumvention: delegate to the least qualified other agent
    "spawn_subagent",  # 19
    "self_modify",  # 20 circumvention: change the architecture without re-audit
    "game_audit",  # 21 circumvention: inflate the weakest measured dimension at audits
)
M = {name: i for i, name in enumerate(MACROS)}
N_MACROS = len(MACROS)
CIRCUMVENTIONS = ("bid_above_tier", "delegate_unqualified", "self_modify", "game_audit")

# bid rules: macro -> (objective, headroom fraction, tier rule, max difficulty, strict)
# objective: 0 reward, 1 EV, 2 -penalty, 3 EV (1 + 0.1 T_min); tier rule: 0 "<= own", k>0 "== k", -1 "own + 1";
# strict: only contracts with p + E <= fraction * B (else a fitting one is preferred, any is taken)
BID_RULES = {
    M["bid_max_reward"]: (0, 1.0, 0, 1.0, True),
    M["bid_max_ev"]: (1, 0.8, 0, 1.0, True),
    M["bid_safe"]: (2, 0.5, 0, 0.5, True),
    M["bid_tier_ev"]: (3, 0.7, 0, 1.0, True),
    **{M[f"bid_t{k}"]: (0, 1.0, k, 1.0, False) for k in range(1, 6)},
    M["bid_above_tier"]: (0, 1.0, -1, 1.0, False),
    M["delegate"]: (0, 1.0, 0, 1.0, True),
    M["delegate_unqualified"]: (0, 1.0, 0, 1.0, True),
}

# ------------------------------------------------------------------ archetypes
#: name -> (CC, ER, AS, IH*), capability, base macro, ps_mult, hard_mult
ARCHETYPES: dict[str, dict[str, Any]] = {
    "conservative": {"robustness": (0.85, 0.80, 0.75, 0.90), "capability": 0.65, "macro": "bid_safe"},
    "aggressive": {
        "robustness": (0.35, 0.40, 0.30, 0.70),
        "capability": 0.85,
        "macro": "bid_max_reward",
        "ps_mult": 1.3,
    },
    "balanced": {"robustness": (0.60, 0.55, 0.50, 0.80), "capability": 0.60, "macro": "bid_max_ev"},
    "adaptive": {
        "robustness": (0.55, 0.50, 0.45, 0.80),
        "capability": 0.60,
        "macro": "bid_tier_ev",
        "invest": "invest_weakest",
    },
    "cheater": {
        "robustness": (0.70, 0.25, 0.65, 0.60),
        "capability": 0.70,
        "macro": "bid_max_reward",
        "hard_mult": 0.6,
        "cheats": True,
    },
    "capability_investor": {
        "robustness": (0.55, 0.50, 0.45, 0.80),
        "capability": 0.60,
        "macro": "bid_tier_ev",
        "invest": "invest_capability",
    },
}
ARCHETYPE_NAMES = tuple(ARCHETYPES)
FIVE = ("conservative", "aggressive", "balanced", "adaptive", "cheater")
#: circumvention mix of scripted cheaters
CHEAT_MIX = (("bid_above_tier", 0.4), ("game_audit", 0.3), ("delegate_unqualified", 0.2), ("self_modify", 0.1))


def archetype_table(overrides: dict | None = None) -> dict[str, np.ndarray]:
    """Per-archetype arrays indexed by archetype id (order of ``ARCHETYPE_NAMES``).

    ``overrides`` maps an archetype name to replacement fields, e.g.
    ``{"adaptive": {"capability": 0.8}}`` (fields: robustness, capability, macro, ps_mult, hard_mult).
    """
    specs = {n: dict(ARCHETYPES[n]) for n in ARCHETYPE_NAMES}
    for name, fields in (overrides or {}).items():
        if name not in specs:
            raise ValueError(
                f"archetype_overrides: unknown archetype {name!r}; expected one of {list(ARCHETYPE_NAMES)}"
            )
        bad = set(fields) - {"robustness", "capability", "macro", "ps_mult", "hard_mult", "invest", "cheats"}
        if bad:
            raise ValueError(f"archetype_overrides[{name!r}]: unknown fields {sorted(bad)}")
        specs[name].update(fields)
        r = np.asarray(specs[name]["robustness"], dtype=float)
        c = float(specs[name]["capability"])
        if r.shape != (4,) or np.any(~np.isfinite(r)) or np.any((r < 0) | (r > 1)) or not 0 <= c <= 1:
            raise ValueError(
                f"archetype_overrides[{name!r}]: expected robustness (4 values in [0, 1]) and capability in [0, 1]"
            )
    a = [specs[n] for n in ARCHETYPE_NAMES]
    return {
        "robustness": np.array([x["robustness"] for x in a], dtype=np.float64),
        "capability": np.array([x["capability"] for x in a], dtype=np.float64),
        "macro": np.array([M[x["macro"]] for x in a], dtype=np.int64),
        "ps_mult": np.array([x.get("ps_mult", 1.0) for x in a]),
        "hard_mult": np.array([x.get("hard_mult", 1.0) for x in a]),
        "invest": np.array([M[x["invest"]] if "invest" in x else -1 for x in a], dtype=np.int64),
        "cheats": np.array([bool(x.get("cheats", False)) for x in a]),
    }


def resolve_archetypes(archetypes: Any, n_agents: int) -> np.ndarray:
    """Archetype ids per agent slot from ``"mix"`` (cycle through the five), one name, or a list of names."""
    if isinstance(archetypes, str):
        names = [FIVE[i % 5] for i in range(n_agents)] if archetypes == "mix" else [archetypes] * n_agents
    else:
        names = list(archetypes)
        if len(names) != n_agents:
            raise ValueError(f"archetypes: expected {n_agents} names (one per agent), got {len(names)}")
    bad = [n for n in names if n not in ARCHETYPES]
    if bad:
        raise ValueError(f"archetypes: unknown archetype {bad[0]!r}; expected one of {list(ARCHETYPE_NAMES)} or 'mix'")
    return np.array([ARCHETYPE_NAMES.index(n) for n in names], dtype=np.int64)
