"""The experiment runner's native hook: ``simulate(params, seed_sequence, rounds, batch, record_every)``."""

from __future__ import annotations

from typing import Any

import numpy as np
from coopsim.envs.agent_economy.economy import AgentEconomy
from coopsim.envs.agent_economy.policies import invest_then_bid
from coopsim.envs.agent_economy.state import EMPTY, REASONS, R
from coopsim.envs.agent_economy_archetypes import ARCHETYPE_NAMES
from coopsim.mechanisms import gates as G

from coopsim.core.validation import ParameterTypeError, check_choice, check_float, check_int, check_size
from coopsim.dynamics.recorders.window import WindowMean

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


def _build(params: dict[str, Any], rounds: int, batch: int) -> tuple[AgentEconomy, str, int]:
    """The env of a ``simulate`` call, its policy name and ``invest_steps``."""
    if not isinstance(params, dict):
        raise ParameterTypeError("params", f"params: expected a dict of env options, got {params!r}")
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
    return AgentEconomy(batch_size=batch, **kw), policy, invest_steps


def _record(env: AgentEconomy, window: dict, tot: dict, t: int) -> dict[str, float]:
    """One record point: window means and maxima (``window``, from ``WindowMean.flush``),
    cumulative totals, loss rate, population and per-archetype earnings (means over the economies)."""
    rec = {k: float(np.mean(v)) for k, v in window.items() if k not in _WINDOW_MAX}
    rec.update({k: float(np.max(window[k])) for k in _WINDOW_MAX})
    s = env.economy
    c = s.cum
    tot.update({k: c[k] for k in _CUMULATIVE if k in c and c[k].ndim == 1})  # includes audits at reset
    tot.update({"blocked": c["blocked"].sum(1), **{f"blocked_{r}": c["blocked"][:, j] for r, j in R.items()}})
    rec.update({k: float(np.mean(v)) for k, v in tot.items()})
    settled = c["settled_by_tier"].sum(1)
    rec["settled"] = float(settled.mean())
    rec["loss_rate"] = float((c["failed_by_tier"].sum(1) / np.maximum(settled, 1)).mean())
    occupied = s.status != EMPTY
    rec["population"] = float(occupied.sum(1).mean())
    rec["audits_per_agent_step"] = float(c["audits"].mean() / (env.n_agents * (t + 1)))
    init = env.params.population.initial_balance
    for i in np.unique(env.params.slot_archetype):  # NaN while no agent of that archetype is registered
        sel = occupied & (s.archetype == i)
        has = sel.any(1)
        cnt = np.maximum(sel.sum(1), 1)
        net = np.where(sel, s.balance - init, 0.0).sum(1) / cnt
        op = net + np.where(sel, s.invested, 0.0).sum(1) / cnt
        tier = np.where(sel, s.tier, 0).sum(1) / cnt
        name = ARCHETYPE_NAMES[i]
        for key, v in ((f"earnings_{name}", net), (f"operating_{name}", op), (f"mean_tier_{name}", tier)):
            rec[key] = float(v[has].mean()) if has.any() else float("nan")
    rec["round"] = t + 1
    return rec


def simulate(
    params: dict[str, Any], seed_sequence: np.random.SeedSequence, rounds: int, batch: int, record_every: int
) -> dict[str, np.ndarray]:
    """Runner hook (``coopsim run``): ``batch`` economies for ``rounds`` steps, recorded every ``record_every``.

    ``params``: any ``AgentEconomy`` argument (``horizon`` defaults to ``rounds``), a ``[mechanism]``
    gate (``params["mechanism"]``, a ``coopsim.mechanisms.gates.Gate``) as ``gate``, plus
    ``policy`` (``"scripted"``, the archetypes' ``default_actions``; or ``"invest_then_bid"``, see
    :func:`~coopsim.envs.agent_economy.policies.invest_then_bid`, with ``invest_steps``, default 12)
    and ``audit_scale`` (multiplies the audit rates, default 1). Metrics (means over the ``batch``
    economies): cumulative totals since the start of ``_CUMULATIVE`` (blocked attempts by reason,
    audits, demotions, insolvencies, welfare, losses, ...), window means of ``_WINDOW_MEAN`` (safety S
    in both weight modes, tier counts ``tier_k``, Gini, ...), window-and-copy maxima of
    ``_WINDOW_MAX`` (exposure / ceiling), ``loss_rate`` (truly failed / settled contracts),
    ``population`` (occupied slots), ``audits_per_agent_step``, and per archetype present
    ``earnings_<name>`` (balance minus endowment), ``operating_<name>`` (earnings plus investment
    spend) and ``mean_tier_<name>``.
    """
    rounds = check_int(rounds, "rounds", lo=1)
    batch = check_int(batch, "batch", lo=1)
    record_every = check_int(record_every, "record_every", lo=1)
    check_size("batch", batch, 64, what="the economies' state")
    env, policy, invest_steps = _build(params, rounds, batch)
    env.reset(seed=seed_sequence)
    out: dict[str, list] = {}
    win = WindowMean()
    tot = {k: np.zeros(batch) for k in _CUMULATIVE}
    for t in range(rounds):
        a = env.default_actions() if policy == "scripted" else invest_then_bid(env.economy, env.params, t, invest_steps)
        *_, info = env.step(a)
        m = info["metrics"]
        for k in _CUMULATIVE:
            tot[k] = tot[k] + m[k]
        for k in (*_WINDOW_MEAN, *(f"tier_{j}" for j in range(env.params.K + 1))):
            win.add(k, m[k])
        for k in _WINDOW_MAX:  # ratios >= 0: the window maximum
            win.add_max(k, m[k])
        if (t + 1) % record_every and t + 1 != rounds:
            continue
        for k, v in _record(env, win.flush(), tot, t).items():
            out.setdefault(k, []).append(v)
    return {k: np.asarray(v) for k, v in out.items() if not k.startswith("_")}
