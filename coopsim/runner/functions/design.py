"""Unit functions of the mechanism-design experiments (``coopsim.design``)."""

from __future__ import annotations

import numpy as np

from coopsim.runner.functions._common import Out as _Out
from coopsim.runner.units import register_function


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
