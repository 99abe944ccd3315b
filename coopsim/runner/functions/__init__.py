"""Registered unit functions for the reproduction experiments (``[function] name = ...`` in a spec).

Each function follows the runner's protocol ``fn(params, seed_sequence, rounds, batch, record_every)
-> {metric: (R,) array, optional "round": (R,)}`` and wraps library code (envs, mechanisms,
dynamics); none imports from ``experiments/``. Functions that compute one number per unit (an LP,
a table entry) record a single "round" (0, or the horizon ``T`` for regret curves) and ignore
``rounds``/``batch`` unless documented. Randomness comes only from ``seed_sequence``.

Registered here (see ``docs/specs.md``):

* ``info_cost_of_effort``   expected payment needed to induce effort, scaled scoring rules vs the LP;
* ``info_correlation_value`` value of correlated vs deterministic vs uncorrelated recommendations;
* ``info_online_regret``    regret R_T of the explore-then-commit principal at horizon T;
* ``info_belief_learning``  learners reporting a belief under a (proper or linear) scoring rule;
* ``info_effort_learning``  Hedge learners choosing effort and reports under LP / eps-LP / scoring plug-ins;
* ``aigc_comparison``       VCG under the true click model vs separable GSP, truthful bids;
* ``economy_incentive``     robustness vs capability-only investors (agent economy);
* ``facility_best_response`` exact best-response dynamics of a facility rule vs a reference rule.
* ``design_scoring_shapes``  optimal bounded scoring rule vs scaled quadratic/spherical/log (shapes, gains);
* ``design_phantoms``        phantom search vs Uniform Phantom (positions, expected costs, IFS verdict).
* ``design_myerson_net``, ``design_rochet_net``, ``design_regret_net``  learned auctions (training
  curves, held-out revenue and regret, audit), from ``coopsim.design.units``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from coopsim.runner.units import register_function

_Out = dict[str, np.ndarray]


def _one(values: Mapping[str, Any], round_: int = 0) -> _Out:
    """One recorded point: ``{"round": [round_], metric: [value], ...}``."""
    out: _Out = {"round": np.array([round_], dtype=np.int64)}
    out.update({k: np.array([float(v)], dtype=np.float64) for k, v in values.items()})
    return out


# ----------------------------------------------------------------------------------------------
# information acquisition
# ----------------------------------------------------------------------------------------------
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
    "info_belief_learning", params=("rule", "belief", "learner", "learner_params", "grid", "log_eps", "feedback")
)
def info_belief_learning(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """A learner reports a probability on a ``grid``-point grid for a private belief ``belief`` and is
    paid the realised score under ``rule`` (a scoring-rule name, or "linear": S(p, w) = p_w, improper;
    the logarithmic rule is truncated at ``log_eps``). ``learner`` (registry name, default "hedge")
    with hyper-parameters ``learner_params``; ``feedback`` "full" or "bandit". Runs
    ``coopsim.dynamics.run`` on ``BeliefElicitation`` for ``rounds`` x ``batch`` copies.

    Metrics per record point, from the learners' average policies: ``mode_report`` (argmax of the
    copy-mean policy), ``mean_report``, ``mass_near_target`` (mass within one grid step of the
    target), ``distance_to_target`` |mode - target| and the ``target`` (the belief clipped to the
    report range for proper rules, the corner 1[f > 1/2] for the linear rule), plus ``regret``.
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
    pol = np.asarray(res.policy_snapshots)[:, :, 0, :].mean(axis=1)  # (R, K) copy-mean average policy
    mode = grid[np.argmax(pol, axis=1)]
    step = float(np.median(np.diff(grid)))
    near = np.abs(grid - target) <= step + 1e-9
    return {
        "round": np.asarray(res.rounds),
        "mode_report": mode,
        "mean_report": pol @ grid,
        "mass_near_target": pol[:, near].sum(axis=1),
        "distance_to_target": np.abs(mode - target),
        "target": np.full(len(mode), target),
        "regret": np.asarray(res["regret"]).mean(axis=(1, 2)),
    }


@register_function("info_effort_learning", params=("instance", "cost", "mechanism", "eps", "rho", "bound", "eta"))
def info_effort_learning(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Hedge learners choose effort and reports (plans of ``EffortReportGame``) for ``rounds`` x ``batch``
    copies on ``instance`` "A" or "B" (effort cost ``cost``, default 0.05) under ``mechanism``: "lp" (the
    LP optimum: the hired agent is exactly indifferent), "lp_eps_mix" (eps-strict LP, ``eps`` 0.02, with
    a strictly proper score mixed in at weight ``rho`` 0.05) or "scoring" (a scaled quadratic rule,
    ``bound`` 1). Metrics per record point: ``mass_agent_<i>`` = mass of agent i's average policy on the
    obedient plans (obedient and truthful at the recommended costly effort for a hired agent),
    the window means of ``obedience_rate``, ``truthful_rate``, ``principal_utility``, and the
    mechanism's expected value ``mechanism_value``."""
    from coopsim import agents, dynamics
    from coopsim.envs.information_acquisition import EffortReportGame
    from coopsim.mechanisms.information import (
        InformationMechanism,
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
    value = principal_utility(
        model,
        InformationMechanism(
            pl.phi.reshape(model.n_actions),
            pl.payments.reshape(model.payments_shape()),
            pl.decision.reshape(*model.n_actions, *model.n_signals),
        ),
    )
    K = max(game.n_plans)
    hedge = agents.Hedge(n_actions=K, **({"eta": float(params["eta"])} if "eta" in params else {}))
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
        out[f"mass_agent_{i}"] = snaps[:, :, i, : len(eff)][..., good].sum(-1).mean(axis=1)
    for k in ("obedience_rate", "truthful_rate", "principal_utility"):
        out[k] = np.asarray(res[k]).mean(axis=1)
    out["mechanism_value"] = np.full(len(out["round"]), float(value))
    return out


# ----------------------------------------------------------------------------------------------
# position auctions
# ----------------------------------------------------------------------------------------------
@register_function(
    "aigc_comparison",
    params=("click_model", "cascade", "continuation", "K", "n_agents", "n_slots", "ctr_low", "ctr_high", "decay"),
)
def aigc_comparison(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """VCG under the true click model (``aigc_vcg``, at most ``K`` ads) against GSP on the separable
    approximation of the CTRs (at most ``K`` slots), both at truthful bids on the same ``batch``
    instances ``p_ij ~ U[ctr_low, ctr_high] decay^j``, values U[0, 1].

    Parameters: ``click_model`` ("additive", "mnl", "cascade"), ``cascade``, ``continuation``, ``K``,
    ``n_agents`` (6), ``n_slots`` (4), ``ctr_low`` (0.05), ``ctr_high`` (0.5), ``decay`` (0.8).
    Metrics ``welfare_<m>``, ``efficiency_<m>`` (welfare / optimum with at most K ads), ``revenue_<m>``
    for m in (vcg, gsp), means over the instances.
    """
    from coopsim.envs.position_auction import PositionAuction

    cm = params.get("click_model", "additive")
    ctr = {
        "low": float(params.get("ctr_low", 0.05)),
        "high": float(params.get("ctr_high", 0.5)),
        "decay": float(params.get("decay", 0.8)),
    }
    if cm == "cascade":
        ctr["cascade"] = params.get("cascade", "stop")
        if ctr["cascade"] == "continuation":
            ctr["continuation"] = float(params.get("continuation", 0.8))
    K = int(params.get("K", 2))
    common = dict(
        n_agents=int(params.get("n_agents", 6)),
        n_slots=int(params.get("n_slots", 4)),
        ctr="aigc",
        click_model=cm,
        ctr_params=ctr,
        reference_metrics=False,
    )
    vcg = PositionAuction(mechanism="aigc_vcg", mechanism_params={"max_ads": K}, **common)
    gsp = PositionAuction(mechanism="gsp", mechanism_params={"max_slots": K}, **common)
    types = vcg.sample_types(np.random.default_rng(seed_sequence), batch)
    opt = vcg.optimum(types)["welfare"]
    out = {}
    for name, game in (("vcg", vcg), ("gsp", gsp)):
        m = game.metrics(types, game.play(types, game.truthful_actions(types)))
        out[f"welfare_{name}"] = m["welfare"].mean()
        out[f"efficiency_{name}"] = np.where(opt > 0, m["welfare"] / np.where(opt > 0, opt, 1.0), 1.0).mean()
        out[f"revenue_{name}"] = m["revenue"].mean()
    return _one(out)


# ----------------------------------------------------------------------------------------------
# agent economy
# ----------------------------------------------------------------------------------------------
#: reference synthetic testbed (the v1 synthetic agents of the reference code ``rb125/cgae``)
TESTBED = dict(initial_balance=0.5, decay_rate=0.005, audit_cost=0.002, upkeep=0.0003, contracts_per_step=12)


@register_function("economy_incentive", params=("m", "n", "t1_share", "invest_steps"))
def economy_incentive(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Robustness investment vs capability-only investment (Baxi: Incentive-Compatible Robustness Investment).

    ``m`` robustness investors (archetype ``adaptive``) and ``n - m`` capability-only investors, both
    with capability 0.7, invest for the first ``invest_steps`` steps (``invest_amount`` 0.1 per step),
    then bid with the same rule (policy ``invest_then_bid`` of ``agent_economy.simulate``); testbed
    economics with ``initial_balance`` 5. ``t1_share``: the T1 share of demand (the rest of the
    default tier weights rescaled; 0.40 is the default market). Metrics: everything
    ``agent_economy.simulate`` records plus ``gap_net`` (earnings of robustness minus capability
    investors), ``gap_operating`` (the same with the investment spend added back) and ``gap_tier``.
    """
    from coopsim.envs.agent_economy import simulate
    from coopsim.envs.agent_economy_market import DEFAULT_TIER_WEIGHTS

    n, m = int(params.get("n", 8)), int(params.get("m", 4))
    if not 0 < m < n:
        raise ValueError(f"function.m: expected 0 < m < n = {n}, got {m}")
    c = float(params.get("t1_share", 0.40))
    if not 0.0 <= c <= 1.0:
        raise ValueError(f"function.t1_share: expected a number in [0, 1], got {c}")
    rest = DEFAULT_TIER_WEIGHTS[1:] / DEFAULT_TIER_WEIGHTS[1:].sum()
    env = {
        **TESTBED,
        "initial_balance": 5.0,
        "invest_amount": 0.1,
        "n_agents": n,
        "archetypes": ["adaptive"] * m + ["capability_investor"] * (n - m),
        "archetype_overrides": {"adaptive": {"capability": 0.7}, "capability_investor": {"capability": 0.7}},
        "tier_weights": np.concatenate([[c], (1 - c) * rest]),
        "policy": "invest_then_bid",
        "invest_steps": int(params.get("invest_steps", 12)),
    }
    out = simulate(env, seed_sequence, rounds, batch, record_every)
    out["gap_net"] = out["earnings_adaptive"] - out["earnings_capability_investor"]
    out["gap_operating"] = out["operating_adaptive"] - out["operating_capability_investor"]
    out["gap_tier"] = out["mean_tier_adaptive"] - out["mean_tier_capability_investor"]
    return out


# ----------------------------------------------------------------------------------------------
# facility location
# ----------------------------------------------------------------------------------------------
@register_function("facility_best_response", params=("n_agents", "mechanism", "reference"))
def facility_best_response(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Exact Gauss-Seidel best-response dynamics (``coopsim.dynamics.best_response_dynamics``, one sweep
    per "round") from truthful reports on ``batch`` random instances of ``n_agents`` peaks under
    ``mechanism`` (default "average"); records ``abs_outcome_minus_reference`` = mean |f(r) - g(t)| with
    g = ``reference`` (default "uniform_phantom": every pure NE of the average rule places the
    facility at UP(t))."""
    from coopsim.dynamics import best_response_dynamics
    from coopsim.envs.facility_location import FacilityLocation
    from coopsim.mechanisms import get as get_mechanism

    game = FacilityLocation(n_agents=int(params.get("n_agents", 5)), mechanism=params.get("mechanism", "average"))
    ref = get_mechanism(params.get("reference", "uniform_phantom"))
    peaks = game.sample_types(np.random.default_rng(seed_sequence), batch)
    target = np.asarray(ref(peaks), dtype=np.float64)
    x = game.truthful_actions(peaks)
    rec: dict[str, list] = {"round": [], "abs_outcome_minus_reference": []}
    for s in range(1, rounds + 1):
        br = best_response_dynamics(game, peaks, init=x, max_sweeps=1)
        x = br.actions
        if s % record_every == 0 or s == rounds:
            rec["round"].append(s)
            rec["abs_outcome_minus_reference"].append(float(np.abs(br.outcome.location - target).mean()))
    return {k: np.asarray(v) for k, v in rec.items()}


# ----------------------------------------------------------------------------------------------
# mechanism design (coopsim.design)
# ----------------------------------------------------------------------------------------------
@register_function("design_scoring_shapes", params=("prior", "accuracy", "lo", "hi", "points", "log_eps"))
def design_scoring_shapes(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Binary-state optimal bounded scoring rule (``coopsim.design.optimal_scoring_rule``) against the
    quadratic, spherical and logarithmic rules scaled to the same range ``[lo, hi]``, for prior
    ``P(w = 1) = prior`` and a symmetric signal of ``accuracy``. One recorded "round" per report
    ``f = P(w = 1)`` on a grid of ``points`` in [0, 1]: ``report``, the expected-score functions
    ``G_<rule>(f)`` and the scores ``S1_<rule> = S(f, w = 1)``, ``S0_<rule> = S(f, w = 0)``, plus each
    rule's effort gain ``gain_<rule>`` (constant over rounds). No randomness."""
    from coopsim.design.scoring import optimal_scoring_rule, standard_rules
    from coopsim.mechanisms.scoring import posteriors

    mu1, acc = float(params.get("prior", 0.5)), float(params.get("accuracy", 0.8))
    lo, hi = float(params.get("lo", 0.0)), float(params.get("hi", 1.0))
    pts = int(params.get("points", 101))
    prior, lik = np.array([1.0 - mu1, mu1]), np.array([[acc, 1.0 - acc], [1.0 - acc, acc]])
    eps = float(params.get("log_eps", 0.01))
    rules = {"optimal": optimal_scoring_rule(prior, lik, lo, hi).rule, **standard_rules(2, lo, hi, log_eps=eps)}
    f = np.linspace(eps, 1.0 - eps, pts)  # inside the truncated log rule's report set
    rep = np.stack([1.0 - f, f], axis=1)
    post, probs = posteriors(prior, lik)
    out: _Out = {"round": np.arange(pts, dtype=np.int64), "report": f}
    for name, rule in rules.items():
        s = rule.score_matrix(rep)
        out[f"G_{name}"] = rule.G(rep)
        out[f"S1_{name}"], out[f"S0_{name}"] = s[:, 1], s[:, 0]
        out[f"gain_{name}"] = np.full(pts, float(rule.effort_gain(post, probs)))
    return out


@register_function("design_phantoms", params=("n_agents", "a", "b", "axiom", "objective", "weight", "samples"))
def design_phantoms(params, seed_sequence, rounds, batch, record_every) -> _Out:
    """Phantom search (``coopsim.design.search_phantoms``) for ``n_agents`` peaks i.i.d. Beta(``a``, ``b``)
    under ``axiom`` ("none", "IFS", "UFS", ...) and ``objective`` ("social", "max", "mix" with ``weight``),
    on ``samples`` profiles seeded by the unit. One recorded "round" per phantom rank k = 0..n:
    ``phantom`` (searched), ``phantom_up`` (Uniform Phantom's k/n), and constant columns with the
    expected social and maximum cost of both rules on a fresh paired sample (``sc``, ``sc_up``, ``mc``,
    ``mc_up``) and the IFS verdict of the searched rule (``ifs``, 1 or 0)."""
    from coopsim.design.phantoms import phantom_report, search_phantoms
    from coopsim.mechanisms.facility import UniformPhantom

    n = int(params.get("n_agents", 5))
    dist = ("beta", float(params.get("a", 2.0)), float(params.get("b", 5.0)))
    axiom = str(params.get("axiom", "IFS"))
    seed = int(np.random.default_rng(seed_sequence).integers(2**31))
    res = search_phantoms(
        n,
        dist,
        objective=str(params.get("objective", "social")),
        weight=float(params.get("weight", 0.5)),
        axioms=() if axiom == "none" else (axiom,),
        samples=int(params.get("samples", 20000)),
        seed=seed,
    )
    rows = phantom_report(n, dist, {"searched": res.mechanism, "up": UniformPhantom()}, seed=seed + 1)
    k = np.arange(n + 1)
    const = {
        "sc": rows[0]["social_cost"],
        "sc_up": rows[1]["social_cost"],
        "mc": rows[0]["max_cost"],
        "mc_up": rows[1]["max_cost"],
        "ifs": float(rows[0]["IFS"]),
    }
    out: _Out = {"round": k.astype(np.int64), "phantom": res.phantoms, "phantom_up": k / n}
    out.update({name: np.full(n + 1, value) for name, value in const.items()})
    return out


# learned auctions: the functions live in coopsim.design.units (torch is imported only when one runs)
from coopsim.design import units as _design_units  # noqa: E402

register_function("design_myerson_net", _design_units.myerson_net_unit, params=_design_units.MYERSON_PARAMS)
register_function("design_rochet_net", _design_units.rochet_net_unit, params=_design_units.ROCHET_PARAMS)
register_function("design_regret_net", _design_units.regret_net_unit, params=_design_units.REGRET_PARAMS)
