"""Unit functions of the information-acquisition experiments (``[function] name = info_*``)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from coopsim.runner.functions._common import Out as _Out
from coopsim.runner.functions._common import one as _one
from coopsim.runner.units import register_function

#: single-agent instances of the cost-of-effort experiment (free uninformative L, costly H)
EFFORT_INSTANCES: dict[str, dict[str, Any]] = {
    "A": {"n_states": 2, "accuracy": 0.8},
    "three_state": {"n_states": 3, "accuracy": 0.6},
    "asymmetric": {"prior": [0.5, 0.3, 0.2], "likelihood": [[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.1, 0.3, 0.6]]},
}


def effort_instance(name: str, cost: float):
    """Single agent, efforts {L (free, signal independent of theta), H (cost c)}; u(d, theta) = 1[d = theta].
    H's signal table is the named one of ``EFFORT_INSTANCES`` (symmetric: correct with prob. accuracy)."""
    if name not in EFFORT_INSTANCES:
        raise ValueError(f"function.instance: expected one of {sorted(EFFORT_INSTANCES)}, got {name!r}")
    return effort_model(EFFORT_INSTANCES[name], cost)


def effort_model(inst: Mapping[str, Any], cost: float):
    """The model of :func:`effort_instance` from an instance table: ``likelihood`` (rows theta, and
    optionally ``prior``) or a symmetric ``n_states`` signal correct with probability ``accuracy``."""
    from coopsim.mechanisms.information import InformationModel

    if "likelihood" in inst:
        high = np.asarray(inst["likelihood"], dtype=float)
        T = high.shape[0]
    else:
        T = inst["n_states"]
        high = np.full((T, T), (1 - inst["accuracy"]) / (T - 1))
        np.fill_diagonal(high, inst["accuracy"])
    prior = np.asarray(inst.get("prior", np.full(T, 1.0 / T)), dtype=float)
    q = np.stack([np.full((T, high.shape[1]), 1.0 / high.shape[1]), high])
    return InformationModel(prior, [[0.0, float(cost)]], q, np.eye(T))


def scoring_payment_per_cost(model, rule) -> dict[str, float]:
    """Expected payment per unit of effort cost that makes H incentive compatible under ``rule``.

    With ``G`` the rule's expected-score function, posteriors ``q_k`` after signal k under H and
    P(k): ``simplex`` (the shirker reports the prior mu; score shifted to pay >= 0):
    ``(sum_k P(k) G(q_k) - S_min) / (sum_k P(k) G(q_k) - G(mu))``; ``direct`` (the rule applied to
    the reported signal's posterior, shifted per state by ``m_theta = min_r S(q_r, theta)``; the
    shirker picks the best report): ``(sum_k P(k) G(q_k) - mu . m) / (sum_k P(k) G(q_k) - max_r S(q_r; mu))``.
    """
    post = model.agent_posteriors(0)[1]
    pk = model.joint[1].sum(axis=0)
    mu = model.prior
    G = float(np.sum(pk * rule.G(post)))
    gain = G - float(rule.G(mu))
    lo, _ = rule.score_range(model.n_states)
    S = rule.score_matrix(post, validate=False)
    gain_d = G - float((S @ mu).max())
    return {
        "simplex": (G - lo) / gain if gain > 1e-12 else np.inf,
        "direct": (G - float(mu @ S.min(axis=0))) / gain_d if gain_d > 1e-12 else np.inf,
    }


@register_function("info_cost_of_effort", params=("instance", "cost", "rules", "log_eps"))
def info_cost_of_effort(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Cost of inducing effort at cost ``cost`` on ``instance`` (one of ``EFFORT_INSTANCES``).

    Metrics: ``payment_lp``, ``utility_lp`` (LP optimum value), ``effort_lp`` (1 if H is recommended);
    for each rule of ``rules`` (default quadratic, spherical, logarithmic (truncated at ``log_eps``),
    decision) and mode (simplex, direct): ``payment_<rule>_<mode>`` = per-unit payment x cost,
    ``utility_<rule>_<mode>`` = max(V(L), V(H) - payment) and ``effort_<rule>_<mode>`` (V(H) - payment
    >= V(L)). Deterministic (no randomness).
    """
    from coopsim import mechanisms
    from coopsim.mechanisms.information import optimal_mechanism
    from coopsim.mechanisms.scoring import DecisionRule, LogarithmicRule

    c = float(params.get("cost", 0.05))
    if c < 0:
        raise ValueError(f"function.cost: expected a number >= 0, got {c}")
    model = effort_instance(params.get("instance", "A"), c)
    lp = optimal_mechanism(model)
    pay_lp = float(np.sum(model.joint[1] * lp.payments[0, 1])) if c > 0 else 0.0
    out = {"payment_lp": pay_lp, "utility_lp": lp.value, "effort_lp": float(lp.recommendation[1] > 0.5)}
    vL, vH = model.values
    for name in params.get("rules", ["quadratic", "spherical", "logarithmic", "decision"]):
        rule = (
            DecisionRule(model.utility)
            if name == "decision"
            else LogarithmicRule(eps=float(params.get("log_eps", 0.01)))
            if name == "logarithmic"
            else mechanisms.get(name)
        )
        for mode, k in scoring_payment_per_cost(model, rule).items():
            pay = k * c
            out[f"payment_{name}_{mode}"] = pay
            out[f"utility_{name}_{mode}"] = max(vL, vH - pay)
            out[f"effort_{name}_{mode}"] = float(vH - pay >= vL)
    return _one(out)


def monitoring_instance(c_work: float = 0.1, c_mon: float = 0.05):
    """Two agents: agent 0 works (binary signal, accuracy 0.8, cost ``c_work``); agent 1's costly action
    (cost ``c_mon``) reveals whether agent 0 shirked; u(d, theta) = 1[d = theta]."""
    from coopsim.mechanisms.information import InformationModel

    q1 = np.array([[[0.5, 0.5], [0.5, 0.5]], [[0.8, 0.2], [0.2, 0.8]]])  # [a0, theta, s0]
    mon = np.zeros((2, 2, 2))  # [a0, a1, s1]
    mon[:, 0] = 0.5
    mon[1, 1] = [1.0, 0.0]
    mon[0, 1] = [0.0, 1.0]
    return InformationModel([0.5, 0.5], [[0.0, c_work], [0.0, c_mon]], np.einsum("ats,abk->abtsk", q1, mon), np.eye(2))


@register_function("info_correlation_value", params=("instance", "cap", "grid", "max_cost"))
def info_correlation_value(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Principal's optimal value over three mechanism classes at payment cap ``cap`` (0: uncapped).

    ``instance``: "monitoring" (:func:`monitoring_instance`), "B" (two symmetric agents) or "random"
    (a random 2-agent model with correlated signals drawn from the unit's seed). Metrics: ``full``
    (correlated LP optimum), ``deterministic`` (best single profile), ``uncorrelated`` (product
    recommendations on a ``grid``, profile-free payments), ``gap_deterministic``, ``gap_uncorrelated``,
    ``full_attained`` (1 unless the uncapped value is virtual) and ``phi_last`` (probability of the
    last profile, the monitoring profile (H, M))."""
    from coopsim.mechanisms.information import instance_b, optimal_mechanism, random_model

    name = params.get("instance", "monitoring")
    if name == "monitoring":
        model = monitoring_instance()
    elif name == "B":
        model = instance_b()
    elif name == "random":
        model = random_model(
            np.random.default_rng(seed_sequence),
            n_agents=2,
            n_actions=2,
            n_signals=2,
            n_states=2,
            product=False,
            max_cost=float(params.get("max_cost", 0.1)),
        )
    else:
        raise ValueError(f"function.instance: expected one of ['monitoring', 'B', 'random'], got {name!r}")
    cap = float(params.get("cap", 0.0)) or None
    grid = int(params.get("grid", 20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        full = optimal_mechanism(model, cap=cap, attain=False)  # the LP value itself (a supremum when virtual)
    det = optimal_mechanism(model, cap=cap, restriction="deterministic")
    unc = optimal_mechanism(model, cap=cap, restriction="uncorrelated", grid=grid)
    return _one(
        {
            "full": full.value,
            "deterministic": det.value,
            "uncorrelated": unc.value,
            "gap_deterministic": full.value - det.value,
            "gap_uncorrelated": full.value - unc.value,
            "full_attained": float(bool(full.attained)),
            "phi_last": float(np.asarray(full.recommendation).ravel()[-1]),
        }
    )


@register_function("info_online_regret", params=("instance", "horizon", "cap", "kappa", "delta", "rho", "margin_scale"))
def info_online_regret(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Explore-then-commit principal (``coopsim.mechanisms.online_principal.run_online``) for ``horizon``
    T rounds on ``instance`` "A" or "B"; recorded at "round" T: ``regret`` R_T (vs the capped LP
    optimum), ``avg_regret`` R_T / T, ``regret_uncapped``, ``ic_violation`` of the committed mechanism,
    ``deviation_rounds`` (expected rounds with a deviating agent), ``explore_rounds`` T0, ``feasible``.
    Parameters ``cap`` (1), ``kappa`` (1), ``delta`` (0.05), ``rho`` (0.01), ``margin_scale`` (1)."""
    from coopsim.mechanisms.information import instance_a, instance_b
    from coopsim.mechanisms.information.online_principal import regret_benchmarks, run_online

    name = params.get("instance", "A")
    if name not in ("A", "B"):
        raise ValueError(f"function.instance: expected 'A' or 'B', got {name!r}")
    T = int(params.get("horizon", 10_000))
    if T < 1:
        raise ValueError(f"function.horizon: expected an integer >= 1, got {T}")
    model = instance_a() if name == "A" else instance_b()
    cap = float(params.get("cap", 1.0))
    opt = regret_benchmarks(model, cap)
    r = run_online(
        model,
        T,
        np.random.default_rng(seed_sequence),
        cap=cap,
        kappa=float(params.get("kappa", 1.0)),
        delta=float(params.get("delta", 0.05)),
        rho=float(params.get("rho", 0.01)),
        margin_scale=float(params.get("margin_scale", 1.0)),
        opt=opt,
    )
    return _one(
        {
            "regret": r.regret,
            "avg_regret": r.regret / T,
            "regret_uncapped": r.regret_uncapped,
            "ic_violation": r.ic_violation,
            "deviation_rounds": r.deviation_rounds,
            "explore_rounds": r.explore_rounds,
            "feasible": float(bool(r.feasible)),
        },
        round_=T,
    )


@register_function(
    "info_belief_learning",
    params=("rule", "belief", "learner", "learner_params", "grid", "log_eps", "feedback", "tolerance"),
)
def info_belief_learning(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """A learner reports a probability on a ``grid``-point grid for a private belief ``belief`` and is
    paid the realised score under ``rule`` (a scoring-rule name, or "linear": S(p, w) = p_w, improper;
    the logarithmic rule is truncated at ``log_eps``). ``learner`` (registry name, default "hedge")
    with hyper-parameters ``learner_params``; ``feedback`` "full" or "bandit". Runs
    ``coopsim.dynamics.run`` on ``BeliefElicitation`` for ``rounds`` x ``batch`` copies.

    Metrics per record point, from the learners' average policies: ``mode_report`` (argmax of the
    copy-mean policy), ``mean_report``, ``mass_near_target`` (mass within ``tolerance`` of the
    target; default one grid step), ``share_copies_at_target`` (copies whose own modal report is
    within ``tolerance``), ``distance_to_target`` |mode - target| and the ``target`` (the belief
    clipped to the report range for proper rules, the corner 1[f > 1/2] for the linear rule), plus
    ``regret``.
    """
    from coopsim import agents, dynamics
    from coopsim.envs.information_acquisition import BeliefElicitation

    rule = params.get("rule", "quadratic")
    f = float(params.get("belief", 0.3))
    K = int(params.get("grid", 21))
    rp = {"eps": float(params.get("log_eps", 0.025))} if rule == "logarithmic" else None
    game = BeliefElicitation(rule=rule, rule_params=rp, belief=f, utility="realised")
    learner = agents.get(params.get("learner", "hedge"), n_actions=K, **dict(params.get("learner_params", {})))
    res = dynamics.run(
        game,
        learner,
        rounds=rounds,
        batch=batch,
        seed=seed_sequence,
        feedback=params.get("feedback", "full"),
        grid=K,
        redraw="round",
        game_metrics="none",
        record_every=record_every,
        snapshots=True,
        swap_regret=False,
    )
    grid = np.asarray(res.grid, dtype=np.float64).reshape(-1)
    target = (
        float(np.clip(f, game.action_low, game.action_high))
        if rule != "linear"
        else float(grid[-1] if f > 0.5 else grid[0])
    )
    per_copy = np.asarray(res.policy_snapshots)[:, :, 0, :]  # (R, B, K) average policies
    pol = per_copy.mean(axis=1)  # (R, K) copy mean
    mode = grid[np.argmax(pol, axis=1)]
    tol = float(params.get("tolerance", np.median(np.diff(grid))))
    near = np.abs(grid - target) <= tol + 1e-9
    return {
        "round": np.asarray(res.rounds),
        "mode_report": mode,
        "mean_report": pol @ grid,
        "mass_near_target": pol[:, near].sum(axis=1),
        "share_copies_at_target": near[np.argmax(per_copy, axis=2)].mean(axis=1),
        "distance_to_target": np.abs(mode - target),
        "target": np.full(len(mode), target),
        "regret": np.asarray(res["regret"]).mean(axis=(1, 2)),
    }


@register_function(
    "info_effort_learning", params=("instance", "cost", "mechanism", "eps", "rho", "bound", "eta", "threshold")
)
def info_effort_learning(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Hedge learners choose effort and reports (plans of ``EffortReportGame``) for ``rounds`` x ``batch``
    copies on ``instance`` "A" or "B" (effort cost ``cost``, default 0.05) under ``mechanism``: "lp" (the
    LP optimum: the hired agent is exactly indifferent), "lp_eps_mix" (eps-strict LP, ``eps`` 0.02, with
    a strictly proper score mixed in at weight ``rho`` 0.05) or "scoring" (a scaled quadratic rule,
    ``bound`` 1). Metrics per record point: ``mass_agent_<i>`` = mass of agent i's average policy on the
    obedient plans (obedient and truthful at the recommended costly effort for a hired agent), mean
    over copies, with ``min_mass_agent_<i>`` (the smallest over copies) and ``share_learned_agent_<i>``
    (the share of copies with mass >= ``threshold``, default 0.9); the window means of ``obedience_rate``, ``truthful_rate``, ``principal_utility``, and the
    mechanism's expected value ``mechanism_value``."""
    from coopsim import agents, dynamics
    from coopsim.mechanisms.information import TablePlugin

    model, game, value = _effort_game(params)
    pl = game.plugin
    assert isinstance(pl, TablePlugin)  # the lp and scoring plug-ins are tables
    K = max(game.n_plans)
    eta: float | str = float(params["eta"]) if "eta" in params else "auto"
    hedge = agents.Hedge(n_actions=K, eta=eta)
    res = dynamics.run(
        game,
        hedge,
        rounds=rounds,
        batch=batch,
        seed=seed_sequence,
        grid=K,
        redraw="round",
        record_every=record_every,
        game_metrics="round",
        snapshots=True,
        swap_regret=False,
    )
    snaps = np.asarray(res.policy_snapshots)  # (R, B, N, K) average policies
    rec = np.unravel_index(int(np.argmax(pl.phi)), model.n_actions)
    out: _Out = {"round": np.asarray(res.rounds)}
    for i in range(model.n_agents):
        eff, rmap = game.plan_table(i)
        a_i = rec[i]
        good = eff[:, a_i] == a_i
        if model.costs[i][a_i] > 0:  # a hired agent must also report truthfully
            good &= (rmap[:, a_i] == np.arange(rmap.shape[2])).all(1)
        mass = snaps[:, :, i, : len(eff)][..., good].sum(-1)  # (R, B)
        out[f"mass_agent_{i}"] = mass.mean(axis=1)
        out[f"min_mass_agent_{i}"] = mass.min(axis=1)
        out[f"share_learned_agent_{i}"] = (mass >= float(params.get("threshold", 0.9))).mean(axis=1)
    for k in ("obedience_rate", "truthful_rate", "principal_utility"):
        out[k] = np.asarray(res[k]).mean(axis=1)
    out["mechanism_value"] = np.full(len(out["round"]), float(value))
    return out


def _effort_game(params: Mapping[str, Any]) -> tuple[Any, Any, float]:
    """``(model, EffortReportGame, the mechanism's expected value)`` of ``info_effort_learning``'s
    ``instance``, ``cost`` and ``mechanism`` parameters."""
    from coopsim.envs.information_acquisition import EffortReportGame
    from coopsim.mechanisms.information import (
        InformationMechanism,
        TablePlugin,
        instance_a,
        instance_b,
        mix_proper_score,
        optimal_mechanism,
        principal_utility,
    )

    name, c = params.get("instance", "A"), float(params.get("cost", 0.05))
    if name not in ("A", "B"):
        raise ValueError(f"function.instance: expected 'A' or 'B', got {name!r}")
    model = instance_a(c) if name == "A" else instance_b(c)
    kind = params.get("mechanism", "lp")
    if kind == "lp":
        game = EffortReportGame(model, optimal_mechanism(model))
    elif kind == "lp_eps_mix":
        mech = mix_proper_score(
            model, optimal_mechanism(model, eps=float(params.get("eps", 0.02))), float(params.get("rho", 0.05))
        )
        game = EffortReportGame(model, mech)
    elif kind == "scoring":
        game = EffortReportGame(model, "scoring", bound=float(params.get("bound", 1.0)))
    else:
        raise ValueError(f"function.mechanism: expected one of ['lp', 'lp_eps_mix', 'scoring'], got {kind!r}")
    pl = game.plugin
    assert isinstance(pl, TablePlugin)  # the lp and scoring plug-ins are tables
    value = principal_utility(
        model,
        InformationMechanism(
            pl.phi.reshape(model.n_actions),
            pl.payments.reshape(model.payments_shape()),
            pl.decision.reshape(*model.n_actions, *model.n_signals),
        ),
    )
    return model, game, float(value)
