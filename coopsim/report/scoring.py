"""Report card of the scoring-rule family (``quadratic``, ``logarithmic``, ``spherical``,
``decision``, ``savage``; ``coopsim.mechanisms.scoring``).

For a rule ``S`` over ``m`` outcomes (the rule's ``m``, else 3) with convex ``G`` (Gneiting &
Raftery, JASA 2007):

- **propriety**: for ``profiles`` beliefs q (Dirichlet(1), plus the vertices and the uniform belief;
  only beliefs that are admissible reports are kept, e.g. ``p > 0`` for the logarithmic rule),
  ``ScoringRule.check_propriety`` searches the report set for ``max_p S(p; q) - S(q; q)``
  (uniform draws, vertices, local refinement); proper iff every gain <= 1e-9, with the worst belief
  and its best report as the witness;
- **strict propriety and Bregman loss**: at ``grid`` random misreports p per belief,
  ``D_G(q, p) = G(q) - S(p; q) >= 0`` (``rule.bregman``), compared with the Savage form
  ``G(q) - G(p) - <grad G(p), q - p>``; strictly proper iff the smallest loss among misreports with
  ``||p - q||_1 >= 0.05`` is > 1e-9 (a zero loss there is a tie with the truth);
- **score range**: the observed min and max of ``S(p, w)`` over the sampled reports and the vertices
  against the declared ``score_range``;
- figure: expected score ``S(p; q)`` against the report p for binary beliefs q in {0.2, 0.5, 0.8}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coopsim.report.card import Card, _fmt, claims_of, flag_claims, register_family

TOL = 1e-9
FAR = 0.05


def _m(mech: Any) -> int:
    return int(mech.m) if getattr(mech, "m", None) is not None else 3


def beliefs(m: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` Dirichlet(1) beliefs, then the vertices and the uniform belief: ``(k + m + 1, m)``."""
    return np.concatenate([rng.dirichlet(np.ones(m), size=k), np.eye(m), np.full((1, m), 1.0 / m)])


def scoring_checks(mech: Any, m: int, k: int, n_reports: int, seed: int) -> dict[str, Any]:
    """Propriety search, Bregman losses at random misreports and the observed score range."""
    rng = np.random.default_rng(seed)
    Q = beliefs(m, k, rng)
    Q = Q[mech.allowed(Q)]  # truthful reports must be admissible (logarithmic: p > 0, or p >= eps)
    gain_list: list[float] = []
    best: list[Any] = []
    for q in Q:
        chk = mech.check_propriety(q, rng=np.random.default_rng([seed, len(gain_list)]), n_samples=500, tol=TOL)
        gain_list.append(chk.gain)
        best.append(chk.best_report)
    gains = np.asarray(gain_list)
    w = int(np.argmax(gains))
    # Bregman losses at random misreports (from the allowed report set)
    P = mech.sample_reports(rng, len(Q) * n_reports, m).reshape(len(Q), n_reports, m)
    Qb = np.broadcast_to(Q[:, None, :], P.shape)
    D = mech.bregman(Qb, P)
    with np.errstate(invalid="ignore", divide="ignore"):
        savage = mech.G(Qb) - mech.G(P) - np.sum(mech.gradient(P) * (Qb - P), axis=-1)
    fin = np.isfinite(D) & np.isfinite(savage)
    dist = np.abs(P - Qb).sum(axis=-1)
    far = dist >= FAR
    d_far = D[far & np.isfinite(D)]
    i_min = np.unravel_index(np.argmin(np.where(far, D, np.inf)), D.shape)
    # score range over sampled reports and vertices (vertices only where allowed)
    R = np.concatenate([P.reshape(-1, m), np.eye(m)])
    R = R[mech.allowed(R)]
    S = mech.score_matrix(R)
    try:
        lo, hi = mech.score_range(m)
    except NotImplementedError:
        lo, hi = float("nan"), float("nan")
    s_fin = S[np.isfinite(S)]
    obs_lo, obs_hi = float(S.min()), float(S.max())
    in_range = bool(np.all(np.isnan([lo, hi])) or (obs_lo >= lo - 1e-12 and obs_hi <= hi + 1e-12))
    return {
        "m": m,
        "beliefs": int(len(Q)),
        "reports_per_belief": n_reports,
        "seed": seed,
        "propriety": {
            "max_gain": float(gains[w]),
            "proper": bool(gains.max() <= TOL),
            "share_profitable": float((gains > TOL).mean()),
            "witness": {"belief": Q[w].tolist(), "best_report": np.asarray(best[w]).tolist(), "gain": float(gains[w])},
        },
        "bregman": {
            "min": float(D[np.isfinite(D)].min()),
            "mean": float(D[np.isfinite(D)].mean()),
            "nonnegative": bool(D[np.isfinite(D)].min() >= -TOL),
            "savage_form_max_abs_diff": float(np.abs(D[fin] - savage[fin]).max()) if fin.any() else 0.0,
            "min_far": float(d_far.min()) if d_far.size else float("nan"),
            "far": FAR,
            "strictly_proper": bool(d_far.size and d_far.min() > TOL),
            "tie_witness": {"belief": Q[i_min[0]].tolist(), "report": P[i_min].tolist(), "loss": float(D[i_min])},
        },
        "range": {
            "declared": [lo, hi],
            "observed": [obs_lo, obs_hi],
            "finite_observed": [float(s_fin.min()), float(s_fin.max())] if s_fin.size else [],
            "within_declared": in_range,
        },
    }


def _verdict(pr: Mapping[str, Any], br: Mapping[str, Any]) -> str:
    """'strictly proper', 'proper, not strictly proper' or '**not proper**' from the two checks."""
    if pr["proper"] and br["strictly_proper"]:
        return "strictly proper"
    return "proper, not strictly proper" if pr["proper"] else "**not proper**"


def _propriety_section(card: Card, res: Mapping[str, Any], claims: list[str], seed: int) -> None:
    """The claims the checks contradict, ``card.data["verdict"]`` and the propriety section."""
    m, pr, br = res["m"], res["propriety"], res["bregman"]
    note = flag_claims(
        card, claims, {"proper": pr["proper"] and br["nonnegative"], "strictly_proper": br["strictly_proper"]}
    )
    verdict = _verdict(pr, br)
    card.data["verdict"] = verdict
    wit = pr["witness"]
    body = [
        f"{res['beliefs']} beliefs over m = {m} outcomes (Dirichlet(1) draws, the {m} vertices and the uniform "
        f"belief, keeping those that are admissible reports; seed {seed}). For each, `check_propriety` searches the report set "
        f"(500 uniform reports, the vertices and a local refinement) for max_p S(p; q) - S(q; q).",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| verdict | {verdict} |",
        f"| largest gain of a misreport | {_fmt(pr['max_gain'])} |",
        f"| share of beliefs with a gain > {TOL:g} | {_fmt(pr['share_profitable'])} |",
        f"| worst belief -> best report | {_fmt(wit['belief'])} -> {_fmt(wit['best_report'])} |",
        f"| claims | {', '.join(claims) or '—'} |",
    ]
    card.sections.append(("Propriety", "\n".join(body) + note))


def _bregman_section(card: Card, res: Mapping[str, Any]) -> None:
    """The section on Bregman losses at random misreports (against the Savage form) and the score range."""
    br, rg = res["bregman"], res["range"]
    tie = br["tie_witness"]
    lo, hi = rg["declared"]
    card.sections.append(
        (
            "Bregman loss and score range",
            "\n".join(
                [
                    f"{res['reports_per_belief']} random misreports p per belief: loss D_G(q, p) = G(q) - S(p; q).",
                    "",
                    "| quantity | value |",
                    "|---|---|",
                    f"| min loss (all misreports) | {_fmt(br['min'])} |",
                    f"| mean loss | {_fmt(br['mean'])} |",
                    f"| loss >= 0 everywhere | {'yes' if br['nonnegative'] else '**no**'} |",
                    f"| max abs difference to G(q) - G(p) - <grad G(p), q - p> | {_fmt(br['savage_form_max_abs_diff'])} |",
                    f"| min loss with abs(p - q)_1 >= {FAR} | {_fmt(br['min_far'])} (belief {_fmt(tie['belief'])}, report "
                    f"{_fmt(tie['report'])}) |",
                    f"| strictly proper (that min > {TOL:g}) | {'yes' if br['strictly_proper'] else 'no'} |",
                    f"| declared score range | [{_fmt(lo)}, {_fmt(hi)}] |",
                    f"| observed score range | [{_fmt(rg['observed'][0])}, {_fmt(rg['observed'][1])}] |",
                    f"| observed within declared | {'yes' if rg['within_declared'] else '**no**'} |",
                ]
            ),
        )
    )


def _report_slice(mech: Any, m: int, p: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Reports ``(len(p), m)`` on the edge between outcomes 1 and 2 (probability p of outcome 1),
    mixed with the least share ``mix`` of the uniform belief that leaves more than 10 of them
    admissible (for m > 2 at least 0.01, e.g. the logarithmic rule with eps). Returns (reports, admissible, mix)."""
    E = np.zeros((len(p), m))
    E[:, 0], E[:, 1] = p, 1 - p
    for mix in ((0.0,) if m == 2 else ()) + (0.01, 0.05, 0.2, 0.5):
        R = (1 - mix) * E + mix / m
        ok = mech.allowed(R)
        if ok.sum() > 10:
            break
    return R, ok, mix


def _figure(card: Card, mech: Any, m: int) -> None:
    """The expected-score figure: S(p; q) against the reported probability of outcome 1 for beliefs
    q_1 in {0.2, 0.5, 0.8} on the slice of :func:`_report_slice`, with each curve's best report."""
    from coopsim import plotting

    p = np.linspace(0.0, 1.0, 401)
    R, ok, mix = _report_slice(mech, m, p)
    fig, ax = plotting.subplots(figsize=(6.4, 4.0))
    curves = {}
    for qb in (0.2, 0.5, 0.8):
        q = np.zeros(m)
        q[0], q[1] = qb, 1 - qb
        q = (1 - mix) * q + mix / m
        e = np.full(len(p), np.nan)
        e[ok] = mech.expected(R[ok], np.broadcast_to(q, R[ok].shape))
        (line,) = ax.plot(p, e, label=f"belief q_1 = {qb}")
        ax.axvline(qb, color=line.get_color(), ls=":", lw=1)
        j = int(np.nanargmax(e))
        ax.plot([p[j]], [e[j]], marker="*", ms=10, color=line.get_color())
        curves[str(qb)] = {"argmax_report": float(p[j]), "max": float(e[j])}
    ax.set_xlabel("reported probability of outcome 1")
    ax.set_ylabel("expected score S(p; q)")
    ax.set_title(f"{card.mechanism}: expected score vs report")
    ax.grid(alpha=0.3)
    plotting.legend_outside(ax)
    card.data["figure_curves"] = curves
    card.figures["expected_score.png"] = fig
    slice_txt = ("binary beliefs" if m == 2 else f"beliefs on the edge between outcomes 1 and 2 (m = {m})") + (
        f", mixed with {mix:g} of the uniform belief" if mix else ""
    )
    card.data["figure_captions"] = {
        "expected_score.png": f"Expected score against the reported probability of outcome 1 "
        f"for {slice_txt}; dotted lines mark the true belief, stars "
        f"the best report on the grid."
    }


def scoring_audit(
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
    """Audit (and, with ``full``, the report card) of a scoring rule. ``profiles`` beliefs are capped
    at 128 and ``grid`` random misreports per belief at 256 (keeps the card fast)."""
    if unknown:
        raise TypeError(f"scoring audit: unknown options {sorted(unknown)}; expected profiles, grid, seed")
    if n_agents is not None:
        raise ValueError(
            f"n_agents: a scoring rule scores one forecaster; set the number of outcomes with m=..., "
            f"got n_agents={n_agents}"
        )
    m = _m(mech)
    card = Card(name, "scoring", dict(params))
    res = scoring_checks(mech, m, min(profiles, 128), min(grid, 256), seed)
    card.data.update(res)
    _propriety_section(card, res, claims_of(mech), seed)
    _bregman_section(card, res)
    if full:
        _figure(card, mech, m)
    return card


register_family("scoring", audit=scoring_audit)
