"""Report card of the gate family (``weakest_link_gate``, ``capability_gate``, ``no_gate``;
``coopsim.mechanisms.gates`` and ``gate_properties``; Baxi, arXiv:2603.15639: Bounded Exposure, Incentive-Compatible Robustness Investment, Monotonic Safety).

On ``profiles`` random agents (robustness (CC, ER, AS) and IH* i.i.d. U[0, 1], capability U[0, 1]):

- **Bounded Exposure** T1a (every acceptance) and T1b (end of every step) in a short
  ``AgentEconomy`` run with this gate (``gate_properties.check_t1a``, ``check_t1b``);
- **gate properties** of the mechanism itself: determinism (two calls agree), monotonicity
  (``R <= R'``, ``IH* <= IH*'``, ``c <= c'`` componentwise gives ``f <= f'``), capability invariance
  T2a (``gate_properties.check_t2a``), collusion resistance P1 (chain tier ``min_j f(R(A_j))`` equals
  ``min_{i,j} g_i(R_i(A_j))`` on random 3-member chains), and the safety floors T3b/T3d computed from
  the gate's own tiers against the default robustness table (``check_t3b``, ``check_t3d``: every
  agent the gate admits at tier >= T1 has weakest-link robustness >= ``min_i theta_i^1``);
- **weakest-link propositions** (``weakest_link_gate``): T1c decay (``check_t1c``), T2b per dimension,
  T2c at every crossing j -> j+1, T3a and T3c on random populations, and the documented
  counterexample to Monotonic Safety (``monotonic_safety_counterexample``; the row holds when the
  counterexample is reproduced, i.e. S falls when a weaker agent enters);
- **tier table**: thresholds, budget ceilings, spot-audit rates and the exact expected time to the
  first audit per tier (``expected_time_to_audit``; default rates for the counterfactual gates);
- figure: tier against each robustness dimension (others at 0.95) and, for the weakest-link gate,
  the decay curve ``f(exp(-lambda dt) R_hat)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coopsim.report.card import Card, _fmt, claims_of, flag_claims, register_family


def _tiers(gate: Any, R: np.ndarray, ih: np.ndarray | None, cap: np.ndarray) -> np.ndarray:
    return np.asarray(gate(R, ih, cap))


def _record(chk: Any, note: str, **extra: Any) -> dict[str, Any]:
    """A check result ``chk`` (``holds``, ``worst``) as the card's ``{"holds", "worst", "note", ...}`` row."""
    return {"holds": bool(chk.holds), "worst": float(chk.worst), "note": note, **extra}


def _mechanism_checks(
    gate: Any, R: np.ndarray, ih: np.ndarray, cap: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, Any], np.ndarray]:
    """Determinism, monotonicity, capability invariance T2a and collusion resistance P1 of the gate on
    the agents ``(R (M, 3), ih (M,), cap (M,))``; draws from ``rng``. Returns the rows and the tiers ``(M,)``."""
    from coopsim.mechanisms import gates as gm
    from coopsim.mechanisms.gates import properties as gp

    M = R.shape[0]
    out: dict[str, Any] = {}
    t = _tiers(gate, R, ih, cap)
    out["deterministic"] = {
        "holds": bool(np.array_equal(t, _tiers(gate, R, ih, cap))),
        "worst": 0.0,
        "note": "two calls on the same inputs give the same tiers",
    }
    up = lambda x, hi=1.0: x + rng.random(x.shape) * (hi - x)  # noqa: E731
    t2 = _tiers(gate, up(R), up(ih), up(cap))
    out["monotone"] = {
        "holds": bool(np.all(t <= t2)),
        "worst": float(np.max(t - t2, initial=0)),
        "note": "raising robustness, IH* and capability never lowers the tier",
    }
    out["T2a"] = _record(gp.check_t2a(gate, R, ih, cap, rng.random(M)), "tier invariant to capability")
    members = rng.random((M, 3, 3))
    chain = _tiers(gate, members, None, rng.random((M, 3))).min(axis=-1)
    th = getattr(gate, "thresholds", gm.DEFAULT_THRESHOLDS)
    brute = gm.dimension_tiers(members, th).min(axis=(-1, -2))
    out["collusion_resistance"] = {
        "holds": bool(np.array_equal(chain, brute)),
        "worst": float(np.abs(chain - brute).max()),
        "note": "chain tier = min over members and dimensions of g_i",
    }
    return out, t


def _floor_checks(gate: Any, R: np.ndarray, t: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Safety floors T3b, T3d and T3a with the gate's own tiers ``t`` against the default robustness
    table, on populations of 8 of the agents ``R`` with random exposures under their ceilings."""
    from coopsim.mechanisms import gates as gm
    from coopsim.mechanisms.gates import properties as gp

    M = R.shape[0]
    weakest = R.min(axis=-1)
    ceil = np.where(np.isfinite(gate.ceilings[t]), gate.ceilings[t], 1.0)
    pop = 8
    Mp = (M // pop) * pop
    exposure = (ceil[:Mp] * rng.random(Mp)).reshape(-1, pop)
    return {
        "T3b": _record(
            gp.check_t3b(exposure, weakest[:Mp].reshape(-1, pop), t[:Mp].reshape(-1, pop), gm.DEFAULT_THRESHOLDS),
            "populations of 8 at tier >= T1 (weight > 0): S >= min_i theta_i^1",
        ),
        "T3d": _record(
            gp.check_t3d(weakest, t, gm.DEFAULT_THRESHOLDS), "agents at tier >= T1 have min(R) >= min_i theta_i^1"
        ),
        "T3a": _record(
            gp.check_t3a(exposure, weakest[:Mp].reshape(-1, pop)), "0 <= S <= 1, S = exposure-weighted mean of min(R)"
        ),
    }


def _weakest_link_checks(gate: Any, R: np.ndarray, ih: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """The weakest-link propositions: T1c decay, T2b per dimension, T2c at every crossing, T3c on 200
    random entrants, and the Monotonic Safety counterexample (holds when reproduced)."""
    from coopsim.mechanisms.gates import properties as gp

    out: dict[str, Any] = {}
    out["T1c"] = _record(
        gp.check_t1c(R[:64], ih[:64], gate.decay_rate, 500, gate.thresholds, gate.ceilings, gate.ih_threshold),
        f"decay lambda = {gate.decay_rate:g}, dt = 0..500: tier and ceiling non-increasing, T0 after the bound",
    )
    ok, worst = True, 0.0
    m2b = min(R.shape[0], 128)
    for d in range(3):
        c = gp.check_t2b(R[:m2b], d, rng.random(m2b) * 0.3, gate.thresholds, others=rng.integers(0, gate.n_tiers, 10))
        ok, worst = ok and c.holds, max(worst, c.worst)
    out["T2b"] = {
        "holds": ok,
        "worst": worst,
        "note": "profit non-decreasing in each R_i; a non-binding raise keeps the tier",
    }
    K = gate.n_tiers - 1
    oks, diffs = [], []
    for j in range(K):
        c = gp.check_t2c(j, rng.integers(0, K + 1, 10), np.ones(K), np.arange(1.0, K + 1))
        oks.append(c.holds)
        diffs.append(abs(c.worst))
    out["T2c"] = {
        "holds": all(oks),
        "worst": max(diffs),
        "note": f"gain at each crossing j -> j+1 (j = 0..{K - 1}) = D_(j+1) E[r_(j+1)] / N_(j+1) > 0",
    }
    n3c = 200
    res = [
        gp.check_t3c(rng.random(5), rng.random(5), float(rng.random()), float(rng.random())).holds for _ in range(n3c)
    ]
    out["T3c"] = {
        "holds": all(res),
        "worst": float(n3c - sum(res)),
        "note": f"{n3c} random entrants: S rises iff min(R) >= S",
    }
    b, a = gp.monotonic_safety_counterexample()
    bd, ad = gp.monotonic_safety_counterexample(default_table=True)
    out["monotonic_safety_counterexample"] = {
        "holds": bool(a < b and ad < bd),
        "worst": float(a - b),
        "note": f"reproduced when S falls: S {b:.6g} -> {a:.6g} (two agents), default table S {bd:.7g} -> {ad:.7g} "
        f"(Monotonic Safety is false as stated; T3a-T3d are the valid forms)",
        "before": b,
        "after": a,
        "before_default": bd,
        "after_default": ad,
    }
    return out


def gate_checks(gate: Any, M: int, seed: int) -> dict[str, Any]:
    """Every property check of the card as ``{name: {"holds", "worst", "note"}}``, on ``M`` random
    agents (robustness ``(M, 3)``, IH* and capability i.i.d. U[0, 1]) drawn from one generator seeded
    ``seed`` that the steps below consume in turn (so their order is part of the result)."""
    from coopsim.mechanisms import gates as gm

    rng = np.random.default_rng(seed)
    R, ih, cap = rng.random((M, 3)), rng.random(M), rng.random(M)
    out, t = _mechanism_checks(gate, R, ih, cap, rng)
    out.update(_floor_checks(gate, R, t, rng))
    if isinstance(gate, gm.WeakestLinkGate):
        out.update(_weakest_link_checks(gate, R, ih, rng))
    return out


def economy_checks(gate: Any, seed: int, steps: int = 40) -> dict[str, Any]:
    """T1a at every acceptance and T1b at the end of every step of a short ``AgentEconomy`` run with
    this gate (4 copies x 6 scripted agents, ``on_demotion="force_unwind"``, default actions).
    Empty when the env cannot host the gate (e.g. a tier count other than its threshold table's)."""
    from coopsim.envs import agent_economy as ae
    from coopsim.mechanisms.gates import properties as gp

    try:
        env = ae.AgentEconomy(
            n_agents=6,
            batch_size=4,
            gate=gate,
            thresholds=getattr(gate, "thresholds", None),
            on_demotion="force_unwind",
            initial_balance=0.5,
        )
    except (ValueError, TypeError):
        return {}
    env.reset(seed=seed)
    n_acc, bad_a, worst_a, bad_b, worst_b = 0, 0, -np.inf, 0, -np.inf
    with np.errstate(invalid="ignore"):  # infinite ceilings (no_gate): inf - inf in the margins
        for _ in range(steps):
            env.step(env.default_actions())
            acc = env.last_acceptances
            if "agent" in acc and len(acc["agent"]):
                c = gp.check_t1a(acc["exposure_after"], acc["tier"], acc["t_min"], env.ceilings)
                n_acc += len(acc["agent"])
                bad_a += not c.holds
                worst_a = max(worst_a, np.nan_to_num(c.worst, nan=-np.inf, neginf=-np.inf))
            c = gp.check_t1b(env.exposure(), np.where(env.status == ae.ACTIVE, env.tier, 0), env.ceilings)
            bad_b += not c.holds
            worst_b = max(worst_b, np.nan_to_num(c.worst, nan=-np.inf, neginf=-np.inf))
    run = f"{steps}-step AgentEconomy run, 4 x 6 scripted agents, force_unwind"
    return {
        "T1a": {
            "holds": bad_a == 0,
            "worst": float(worst_a),
            "acceptances": n_acc,
            "note": f"{run}: every one of {n_acc} acceptances has E_after <= B_tier and tier >= T_min",
        },
        "T1b": {
            "holds": bad_b == 0,
            "worst": float(worst_b),
            "note": f"{run}: E <= B_tier for every agent at the end of every step",
        },
    }


def tier_table(gate: Any) -> list[dict[str, Any]]:
    """Per tier: thresholds (CC, ER, AS) or capability threshold, ceiling, audit rate, E[time to audit]."""
    from coopsim.mechanisms import gates as gm

    rates = getattr(gate, "audit_rates", None)
    hazard = getattr(gate, "audit_hazard", "elapsed")
    default_rates = rates is None
    if rates is None:
        rates = gm.DEFAULT_AUDIT_RATES if gate.n_tiers == len(gm.DEFAULT_AUDIT_RATES) else None
    rows = []
    for k in range(gate.n_tiers):
        row: dict[str, Any] = {"tier": k, "ceiling": float(gate.ceilings[k])}
        if hasattr(gate, "thresholds"):
            row["thresholds"] = gate.thresholds[:, k].tolist()
        elif hasattr(gate, "capability_thresholds"):
            row["thresholds"] = [float(gate.capability_thresholds[k])]
        if rates is not None:
            row["audit_rate"] = float(rates[k])
            row["expected_time_to_audit"] = float(gm.expected_time_to_audit(k, rates, hazard))
            row["default_rates"] = default_rates
        rows.append(row)
    return rows


def _property_section(card: Card, checks: Mapping[str, Any], claims: list[str], M: int, seed: int) -> None:
    """The claims the checks contradict and the gate-properties section (one row per check)."""
    note = flag_claims(
        card, claims, {"monotone": checks["monotone"]["holds"], "deterministic": checks["deterministic"]["holds"]}
    )
    rows = ["| property | holds | worst margin | what is checked |", "|---|---|---|---|"]
    for k, c in checks.items():
        rows.append(f"| {k} | {'yes' if c['holds'] else '**no**'} | {_fmt(c['worst'])} | {c['note']} |")
    holds = [k for k, c in checks.items() if c["holds"]]
    fails = [k for k, c in checks.items() if not c["holds"]]
    card.sections.append(
        (
            "Gate properties",
            f"T1a and T1b from a short agent-economy run with this gate; the rest on "
            f"{M} random agents (robustness, IH* and capability i.i.d. U[0, 1], seed "
            f"{seed}). Claims: {', '.join(claims) or '—'}. Hold: "
            f"{', '.join(holds) or 'none'}. Fail: {', '.join(fails) or 'none'}.{note}"
            f"\n\n" + "\n".join(rows),
        )
    )


def _tier_section(card: Card, gate: Any) -> None:
    """``card.data["tiers"]`` (:func:`tier_table`) and the tier-table section."""
    table = tier_table(gate)
    card.data["tiers"] = table
    lines = ["| tier | thresholds | ceiling B_k | audit rate mu_k | E[steps to first audit] |", "|---|---|---|---|---|"]
    for r in table:
        lines.append(
            f"| T{r['tier']} | {_fmt(r.get('thresholds'))} | {_fmt(r['ceiling'])} | {_fmt(r.get('audit_rate'))} | "
            f"{_fmt(r.get('expected_time_to_audit'))} |"
        )
    hz = getattr(gate, "audit_hazard", "elapsed")
    src = "the gate's" if getattr(gate, "audit_rates", None) is not None else "the default"
    card.sections.append(
        (
            "Tier table",
            f"Thresholds per tier ((CC, ER, AS), or the capability threshold), ceilings, "
            f"{src} spot-audit rates and the exact expected number of steps to the first "
            f"audit (`expected_time_to_audit`, hazard {hz!r}).\n\n" + "\n".join(lines),
        )
    )


def _decay_panel(ax: Any, gate: Any) -> None:
    """Tier of decayed scores ``f(exp(-lambda dt) R_hat)`` against dt = 0..300 for three R_hat (IH* = 0.95)."""
    from coopsim import plotting

    dt = np.arange(0, 301)
    for Rhat in ([0.95, 0.92, 0.9], [0.7, 0.8, 0.66], [0.5, 0.55, 0.6]):
        tt = gate.effective_tier(np.broadcast_to(Rhat, (len(dt), 3)), np.full(len(dt), 0.95), dt.astype(float))
        ax.step(dt, tt, where="post", label=f"R_hat = {tuple(Rhat)}")
    ax.set_xlabel("steps since certification")
    ax.set_ylabel("tier")
    ax.set_title(f"decay, lambda = {gate.decay_rate:g}")
    ax.grid(alpha=0.3)
    plotting.legend_outside(ax)


def _figure(card: Card, gate: Any) -> None:
    """The tiers figure: tier against each robustness dimension (others 0.95, capability = x, 401
    points) and, for the weakest-link gate, the decay panel."""
    from coopsim import plotting
    from coopsim.mechanisms import gates as gm

    x = np.linspace(0, 1, 401)
    ncol = 2 if isinstance(gate, gm.WeakestLinkGate) else 1
    fig, axes = plotting.subplots(1, ncol, figsize=(4.8 * ncol, 3.6), squeeze=False)
    ax = axes[0, 0]
    curves = {}
    for d, dim in enumerate(gm.DIMENSIONS):
        R = np.full((len(x), 3), 0.95)
        R[:, d] = x
        t = _tiers(gate, R, np.ones(len(x)), x)
        curves[dim] = t.tolist()
        ax.step(x, t + 0.04 * (d - 1), where="post", label=dim)
    ax.set_xlabel("score of one dimension (others 0.95; capability = x)")
    ax.set_ylabel("tier")
    ax.set_title(f"{card.mechanism}: tier vs robustness")
    ax.grid(alpha=0.3)
    plotting.legend_outside(ax)
    caps = "Left: tier against each robustness dimension, the others at 0.95 (capability set to the same x)."
    if ncol == 2:
        _decay_panel(axes[0, 1], gate)
        caps += " Right: tier of decayed scores exp(-lambda dt) R_hat (IH* = 0.95, decayed too)."
    card.data["figure_curves"] = {"x": x.tolist(), "tiers": curves}
    card.figures["tiers.png"] = fig
    card.data["figure_captions"] = {"tiers.png": caps}


def gate_audit(
    name: str,
    params: Mapping[str, Any],
    mech: Any,
    *,
    n_agents: int | None = None,
    profiles: int = 512,
    grid: int = 101,
    seed: int = 0,
    full: bool = False,
    ratio_ns: Any = None,
    **unknown: Any,
) -> Card:
    """Audit (and, with ``full``, the report card) of a tier gate; ``profiles`` random agents (at least 64)."""
    if unknown:
        raise TypeError(f"gate audit: unknown options {sorted(unknown)}; expected profiles, seed")
    if n_agents is not None:
        raise ValueError(
            f"n_agents: a gate is checked on independent random agents; set their number with "
            f"--profiles, got n_agents={n_agents}"
        )
    M = max(int(profiles), 64)
    card = Card(name, "gates", dict(params))
    checks = {**economy_checks(mech, seed), **gate_checks(mech, M, seed)}
    card.data["checks"] = checks
    _property_section(card, checks, claims_of(mech), M, seed)
    _tier_section(card, mech)
    if full:
        _figure(card, mech)
    return card


register_family("gates", audit=gate_audit)
