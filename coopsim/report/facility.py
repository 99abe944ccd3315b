"""Facility report card (Aziz, Lam, Lee and Walsh, arXiv:2111.01566; Procaccia and Tennenholtz, EC 2009):

- **incentive audit** (``coopsim.analysis.incentive_audit``) on ``profiles`` random and grid type
  profiles, every unilateral misreport on a 101-point grid plus random candidates and a local
  search: largest gain ``max_{m,i,c} u_i(t_i; f(c, t_-i)) - u_i(t_i; f(t))`` with its witness;
- **axioms** IFS, UFS, PF, proportionality, unanimity (``coopsim.mechanisms.facility.satisfies``,
  ex ante for lotteries): the share of profiles satisfying each, on uniform random profiles, grid
  profiles (multiples of 1/n, so ties occur), {0,1} profiles and unanimous profiles;
- **worst-case ratios** ``rho_SW = sup OPT/ALG``, ``rho_TC``, ``rho_MC = sup ALG/OPT``
  (``coopsim.analysis.worst_case_ratio``, exhaustive over the grid of step 1/(2n) then local search)
  for each n, next to the closed form where one is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from coopsim.report.card import Card, _fmt, incentive_fields, incentive_rows, register_family


def _R(n: int) -> Fraction:
    from coopsim.mechanisms.facility import welfare_ratio_bound

    return Fraction(welfare_ratio_bound(n))


_T = {  # closed-form ratios as functions of n
    "1": lambda n: Fraction(1),
    "2": lambda n: Fraction(2),
    "3/2": lambda n: Fraction(3, 2),
    "n-1": lambda n: Fraction(n - 1),
    "n/2": lambda n: Fraction(n, 2),
    "2-2/n": lambda n: 2 - Fraction(2, n),
    "R(n)": _R,
}
#: published verdicts (Aziz, Lam, Lee and Walsh, arXiv:2111.01566; Procaccia and Tennenholtz, EC 2009): SP,
#: ratio formulas (TC, MC, SW) and axioms (IFS, UFS, PF, Prop, Unan); values without a proof in those
#: papers are exact worst cases found by the grid search for n = 2..6
FACILITY_TABLE: dict[str, dict[str, Any]] = {
    "median": {
        "SP": "yes",
        "TC": "1",
        "MC": "2",
        "SW": "1",
        "axioms": {"IFS": "no", "UFS": "no", "PF": "no", "proportionality": "no", "unanimity": "yes"},
    },
    "uniform_phantom": {
        "SP": "yes",
        "TC": "n-1",
        "MC": "2",
        "SW": "R(n)",
        "axioms": {"IFS": "yes", "UFS": "yes", "PF": "yes", "proportionality": "yes", "unanimity": "yes"},
    },
    "leftmost": {
        "SP": "yes",
        "TC": "n-1",
        "MC": "2",
        "SW": "n-1",
        "axioms": {"IFS": "no", "UFS": "no", "PF": "no", "proportionality": "no", "unanimity": "yes"},
    },
    "average": {
        "SP": "no",
        "TC": "2-2/n",
        "MC": "2-2/n",
        "SW": "R(n)",
        "axioms": {"IFS": "yes", "UFS": "yes", "PF": "yes", "proportionality": "yes", "unanimity": "yes"},
    },
    "midpoint": {
        "SP": "no",
        "TC": "n/2",
        "MC": "1",
        "SW": "2-2/n",
        "axioms": {"IFS": "yes", "UFS": "no", "PF": "no", "proportionality": "no", "unanimity": "yes"},
    },
    "random_dictator": {
        "SP": "universally",
        "TC": "2-2/n",
        "MC": "2",
        "SW": "R(n)",
        "axioms": {
            "IFS": "ex ante",
            "UFS": "ex ante",
            "PF": "ex ante",
            "proportionality": "in expectation",
            "unanimity": "yes",
        },
    },
    "lrm": {
        "SP": "in expectation",
        "TC": "n/2",
        "MC": "3/2",
        "SW": "2-2/n",
        "axioms": {"IFS": "ex ante", "UFS": "no", "PF": "no", "proportionality": "no", "unanimity": "yes"},
    },
}
FACILITY_TABLE["rightmost"] = FACILITY_TABLE["leftmost"]
FACILITY_TABLE["random_rank"] = FACILITY_TABLE["random_dictator"]
OBJECTIVE_LABEL = {"SW": "social welfare (OPT/ALG)", "TC": "total cost (ALG/OPT)", "MC": "max cost (ALG/OPT)"}


def spec_ratio(name: str, objective: str, n: int) -> Fraction | None:
    """The closed-form worst-case ratio of mechanism ``name`` for ``objective`` and n >= 2 (or None)."""
    row = FACILITY_TABLE.get(name)
    if row is None or n < 2:
        return None
    return _T[row[objective]](n)


def facility_profiles(n: int, m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Profile classes for the axiom checks, each ``(m, n)``: ``uniform`` i.i.d. U[0,1];
    ``grid`` i.i.d. on {0, 1/n, ..., 1} (ties, extremal families); ``binary`` i.i.d. on {0, 1}
    (proportionality); ``unanimous`` one common peak (unanimity)."""
    return {
        "uniform": rng.random((m, n)),
        "grid": rng.integers(0, n + 1, (m, n)) / n,
        "binary": rng.integers(0, 2, (m, n)).astype(np.float64),
        "unanimous": np.repeat(rng.random((m, 1)), n, axis=1),
    }


def facility_axioms(mech: Any, n: int, m: int, seed: int) -> dict[str, Any]:
    """Satisfaction rate of each axiom per profile class and overall, with the first failing profile."""
    from coopsim.mechanisms import facility as fm

    classes = facility_profiles(n, m, np.random.default_rng(seed))
    out: dict[str, Any] = {}
    for axiom in fm.AXIOMS:
        per, fails, total_ok, total = {}, None, 0, 0
        for cname, prof in classes.items():
            support, probs = mech.distribution(prof)
            chk = fm.check(axiom, prof, support, probs)
            ok = np.asarray(chk.ok, dtype=bool)
            per[cname] = float(ok.mean())
            total_ok += int(ok.sum())
            total += ok.size
            if fails is None and not ok.all():
                b = int(np.argmin(ok))
                fails = {
                    "class": cname,
                    "profile": prof[b].tolist(),
                    "expected_location": float((support[b] * probs[b]).sum()),
                    "slack": float(np.asarray(chk.slack)[b]),
                }
        out[axiom] = {"rate": total_ok / total, "per_class": per, "witness": fails}
    return out


def _fixed_n(name: str, mech: Any, n_agents: int | None, ratio_ns: Sequence[int]) -> tuple[int, Sequence[int]]:
    """The audited n and the ns of the ratio table: a mechanism defined for one n only (e.g. a
    generalized median with n + 1 given phantoms) forces both; otherwise ``n_agents`` (default 5)."""
    fixed_n = getattr(mech, "n_agents", None)
    if isinstance(fixed_n, int):
        if n_agents is not None and n_agents != fixed_n:
            raise ValueError(
                f"n_agents: {name} with these parameters is defined for n = {fixed_n} only, got {n_agents}"
            )
        return fixed_n, (fixed_n,)
    return (5 if n_agents is None else n_agents), ratio_ns


def _incentive_section(
    card: Card, mech: Any, aud: Any, n_agents: int, profiles: int, grid: int, seed: int, claims: list[str]
) -> None:
    """``card.data["audit"]`` and the incentive-audit section: the largest misreport gain, the verdict
    against the strategyproofness claim and, when manipulable, the witness with both locations."""
    table = FACILITY_TABLE.get(card.mechanism, {})
    w = aud.witness
    n_profiles = 2 * profiles  # uniform + grid profiles
    card.data["audit"] = {
        "n_agents": n_agents,
        "profiles": n_profiles,
        "grid": grid,
        "seed": seed,
        **incentive_fields(aud),
        "witness": w.to_dict(),
        "claims": claims,
        "spec_SP": table.get("SP"),
    }
    manipulable = f"**manipulable**: agent {w.agent} gains {_fmt(aud.max_gain)} by misreporting"
    body = [
        f"Audit of unilateral misreports on {n_profiles} type profiles (n = {n_agents}: "
        f"{profiles} uniform + {profiles} on the grid {{0, 1/n, ..., 1}}), candidates: a {grid}-point grid "
        f"plus 64 random reports and a local search (seed {seed}).",
        "",
        *incentive_rows(aud, manipulable, claims),
        f"| SP, published (Aziz et al. 2023) | {table.get('SP', '—')} |",
    ]
    if not aud.strategyproof:
        y_truth = float(np.asarray(mech.expected_location(w.actions[None]))[0])
        dev = np.asarray(w.actions, dtype=float).copy()
        dev[w.agent] = float(np.asarray(w.deviation))
        y_dev = float(np.asarray(mech.expected_location(dev[None]))[0])
        card.data["audit"]["witness"].update(location_truthful=y_truth, location_deviation=y_dev)
        body += [
            "",
            "**Witness** (the misreport with the largest gain):",
            "",
            "| peaks (types) | agent | true peak | misreport | location (truthful) | location (misreport) | gain |",
            "|---|---|---|---|---|---|---|",
            f"| {_fmt(w.types)} | {w.agent} | {_fmt(float(w.types[w.agent]))} | {_fmt(float(np.asarray(w.deviation)))} "
            f"| {_fmt(y_truth)} | {_fmt(y_dev)} | {_fmt(w.gain)} |",
        ]
    card.sections.append((f"Incentive audit (n = {n_agents})", "\n".join(body)))


def _axiom_section(
    card: Card, mech: Any, n_agents: int, profiles: int, seed: int, claims: list[str], sp_broken: bool
) -> dict[str, Any]:
    """``card.data["axioms"]`` (satisfaction rates per profile class, each marked ``claimed``), the
    contradicted claims (``sp_broken``: the audit contradicted strategyproofness) and the axiom
    section. Returns the axiom results."""
    table = FACILITY_TABLE.get(card.mechanism, {})
    ax = facility_axioms(mech, n_agents, profiles, seed + 1)
    card.data["axioms"] = ax
    claim_of = {"IFS": "IFS", "UFS": "UFS", "PF": "PF", "proportionality": "proportional", "unanimity": "unanimous"}
    rows = [
        "| axiom | claimed | published (Aziz et al. 2023) | overall | uniform | grid | {0,1} | unanimous | first failure (profile -> E[y]) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    broken = []
    for axiom, res in ax.items():
        pc = res["per_class"]
        wit = res["witness"]
        claimed = claim_of.get(axiom) in claims
        res["claimed"] = claimed
        if claimed and res["rate"] < 1.0:
            broken.append(axiom)
        wtxt = "—" if wit is None else f"{_fmt(wit['profile'])} -> {_fmt(wit['expected_location'])}"
        rows.append(
            f"| {axiom} | {'yes' if claimed else 'no'} | {table.get('axioms', {}).get(axiom, '—')} | "
            f"{_fmt(res['rate'])} | {_fmt(pc['uniform'])} | {_fmt(pc['grid'])} | {_fmt(pc['binary'])} | "
            f"{_fmt(pc['unanimous'])} | {wtxt} |"
        )
    holds = [a for a, r in ax.items() if r["rate"] == 1.0]
    card.data["claims_contradicted"] = broken + (["strategyproof"] if sp_broken else [])
    note = f" **Claimed but violated: {', '.join(broken)}.**" if broken else ""
    card.sections.append(
        (
            f"Fairness axioms (n = {n_agents}, ex ante for lotteries)",
            f"Share of profiles on which each axiom holds ({profiles} profiles per class, tolerance "
            f"1e-12). Holds on every profile checked: {', '.join(holds) or 'none'}.{note}\n\n" + "\n".join(rows),
        )
    )
    return ax


def _ratio_rows(name: str, mech: Any, ratio_ns: Sequence[int], seed: int) -> list[dict[str, Any]]:
    """Per n and objective (SW, TC, MC): the worst-case ratio found (``worst_case_ratio``), its
    profile and the closed form where one is known (``spec_ratio``), with whether they match to 1e-9."""
    from coopsim.analysis import worst_case_ratio
    from coopsim.envs.facility_location import FacilityLocation

    ratio_rows = []
    for n in ratio_ns:
        g = FacilityLocation(n_agents=n, mechanism=mech)
        for obj in ("SW", "TC", "MC"):
            wc = worst_case_ratio(g, obj, rng=seed)
            sv = spec_ratio(name, obj, n)
            ratio_rows.append(
                {
                    "n": n,
                    "objective": obj,
                    "found": wc.ratio,
                    "profile": wc.profile.tolist(),
                    "spec": None if sv is None else float(sv),
                    "spec_exact": None if sv is None else str(sv),
                    "match": None if sv is None else bool(abs(wc.ratio - float(sv)) <= 1e-9),
                }
            )
    return ratio_rows


def _ratio_section(card: Card, ratio_rows: list[dict[str, Any]]) -> None:
    """``card.data["ratios"]`` and the worst-case-ratio section (found against closed form)."""
    table = FACILITY_TABLE.get(card.mechanism, {})
    card.data["ratios"] = ratio_rows
    lines = [
        "| n | objective | worst case found | closed form | match | worst profile |",
        "|---|---|---|---|---|---|",
    ]
    for r in ratio_rows:
        spec_txt = "—" if r["spec"] is None else f"{r['spec_exact']} = {_fmt(r['spec'])}"
        match = "—" if r["match"] is None else ("yes" if r["match"] else "**no**")
        lines.append(
            f"| {r['n']} | {r['objective']} | {_fmt(r['found'])} | {spec_txt} | {match} | {_fmt(r['profile'])} |"
        )
    formulas = table and (
        f" Closed forms: TC {table['TC']}, MC {table['MC']}, SW {table['SW']} (Aziz, Lam, Lee and Walsh,"
        " arXiv:2111.01566; Procaccia and Tennenholtz, EC 2009; a value neither proves is the exact"
        " worst case on the grid for n <= 6)."
    )
    card.sections.append(
        (
            "Worst-case approximation ratios",
            "Ratios >= 1: OPT/ALG for social welfare, ALG/OPT for total and maximum cost "
            "(0/0 := 1), ratio of expectations for lotteries. Exhaustive over sorted profiles "
            "on the grid of step 1/(2n), then a local search (`coopsim.analysis.worst_case_ratio`)."
            + (formulas or "")
            + "\n\n"
            + "\n".join(lines),
        )
    )


def _figures(
    card: Card, mech: Any, w: Any, ratio_rows: list[dict[str, Any]], ax: dict[str, Any], n_agents: int
) -> None:
    """The card's figures and captions: worst-case ratios against n, axiom satisfaction rates, and the
    witness agent's expected utility against its own report (401 reports on [0, 1], others fixed)."""
    from coopsim import plotting

    name = card.mechanism
    card.figures["ratios.png"] = plotting.ratio_figure(ratio_rows, f"{name}: worst-case ratios")
    card.figures["axioms.png"] = plotting.rate_figure(
        {a: r["rate"] for a, r in ax.items()}, f"{name}: axiom satisfaction (n = {n_agents})"
    )
    caps = {
        "ratios.png": "Worst-case ratios found (circles) and the closed forms (crosses) against n.",
        "axioms.png": "Share of checked profiles on which each axiom holds.",
    }
    reports = np.linspace(0, 1, 401)
    prof = np.repeat(np.asarray(w.actions, dtype=float)[None], len(reports), axis=0)
    prof[:, w.agent] = reports
    peaks = np.repeat(np.asarray(w.types, dtype=float)[None], len(reports), axis=0)
    util = mech.expected_utilities(prof, peaks)[:, w.agent]
    t_rep = float(w.actions[w.agent])
    t_util = float(
        mech.expected_utilities(np.asarray(w.actions, float)[None], np.asarray(w.types, float)[None])[0, w.agent]
    )
    card.figures["deviation.png"] = plotting.deviation_figure(
        reports, util, t_rep, t_util, w.agent, f"{name}: agent {w.agent}'s utility vs its report"
    )
    caps["deviation.png"] = (
        f"Agent {w.agent}'s utility against its own report at the audit's witness profile "
        f"(others truthful); the star is its best report."
    )
    card.data["figure_captions"] = caps


def facility_audit(
    name: str,
    params: Mapping[str, Any],
    mech: Any,
    *,
    n_agents: int | None = None,
    profiles: int = 512,
    grid: int = 101,
    seed: int = 0,
    full: bool = False,
    ratio_ns: Sequence[int] = (2, 3, 4, 5, 6),
    **unknown: Any,
) -> Card:
    """Audit (and, with ``full``, the report card) of a facility mechanism: the incentive audit on
    ``profiles`` uniform plus ``profiles`` grid profiles, the fairness axioms, and with ``full`` the
    worst-case ratios for each n in ``ratio_ns`` and the figures."""
    if unknown:
        raise TypeError(f"facility audit: unknown options {sorted(unknown)}; expected n_agents, profiles, grid, seed")
    from coopsim.analysis import incentive_audit
    from coopsim.envs.facility_location import FacilityLocation

    card = Card(name, "facility", dict(params))
    n_agents, ratio_ns = _fixed_n(name, mech, n_agents, ratio_ns)
    game = FacilityLocation(n_agents=n_agents, mechanism=mech)
    cls = facility_profiles(n_agents, profiles, np.random.default_rng(seed))
    types = np.concatenate([cls["uniform"], cls["grid"]])
    aud = incentive_audit(game, types, grid=grid, rng=seed)
    claims = sorted(getattr(mech, "claims", ()))
    _incentive_section(card, mech, aud, n_agents, profiles, grid, seed, claims)
    sp_broken = "strategyproof" in claims and not aud.strategyproof
    ax = _axiom_section(card, mech, n_agents, profiles, seed, claims, sp_broken)
    if full:
        ratio_rows = _ratio_rows(name, mech, ratio_ns, seed)
        _ratio_section(card, ratio_rows)
        _figures(card, mech, aud.witness, ratio_rows, ax, n_agents)
    return card


register_family("facility", audit=facility_audit)
