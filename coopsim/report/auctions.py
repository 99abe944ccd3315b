"""Report card of the position-auction family (``gsp``, ``vcg``, ``gfp``, ``first_price``,
``second_price``, ``myerson``, ``aigc_vcg``); the multi-item mechanisms of the family (``regret_net``,
``rochet_net``) get the card of :mod:`coopsim.report.multi_item`.

The mechanism runs inside :class:`coopsim.envs.position_auction.PositionAuction` (i.i.d. U[0, 1]
per-click values; separable CTRs ``q_i a_j`` with ``a_j = 0.7^j`` and ``q_i = 1``, or random AIGC
pair CTRs for the matching mechanisms ``aigc_vcg`` and non-separable ``myerson``; two slots, one for
``first_price``/``second_price``). Sections:

- **incentive audit** (``coopsim.analysis.incentive_audit``): largest gain of a unilateral bid
  ``max_{m,i,c} [v_i pi_i(c, v_-i) - t_i(c, v_-i)] - [v_i pi_i(v) - t_i(v)]`` over a bid grid plus
  random bids and a local search, at truthful bids of the others, with the witness replayed through
  ``game.play``;
- **invariants** on every audited profile, at truthful and at uniformly random bids:
  ``0 <= t_i``, ``t_i <= b_i pi_i`` (nobody pays more than its bid per click), ``t_i <= v_i pi_i`` at
  truthful bids (individual rationality), losers (no slot) have ``pi_i = 0`` and ``t_i = 0``,
  revenue ``sum_i t_i <= sum_i v_i pi_i`` (welfare) at truthful bids;
- **ratios at truthful bids** from the env's metrics: efficiency ``W / W*`` (welfare optimum over
  allocations with at most the mechanism's slots), revenue / VCG revenue, revenue / Myerson revenue,
  for each n in ``ratio_ns``;
- **equilibrium facts** where cheap: GSP revenue at the EOS bids B* equals VCG revenue and B* passes
  the (symmetric) Nash inequalities (Edelman, Ostrovsky & Schwarz 2007; Varian 2007); first price at
  the uniform BNE ``b = (n-1)/n v`` and second price at truthful bids both earn ``(n-1)/(n+1)``;
  Myerson (uniform values, one item) earns ``(n-1)/(n+1) + 2^-n/(n+1)`` (Monte Carlo with a
  standard error).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from coopsim.report.card import (
    Card,
    _fmt,
    claims_of,
    flag_claims,
    incentive_fields,
    incentive_rows,
    margin_check,
    register_family,
)

TOL = 1e-9


def auction_game(name: str, params: Mapping[str, Any], mech: Any, n_agents: int, n_slots: int | None = None):
    """The audited game: ``PositionAuction`` with the mechanism's registry name and parameters,
    i.i.d. U[0,1] values, two slots (one for single-item mechanisms), AIGC CTRs for matching
    mechanisms (the click model taken from the mechanism)."""
    from coopsim.envs.position_auction import PositionAuction
    from coopsim.mechanisms import auctions as au

    single = isinstance(mech, (au.FirstPrice, au.SecondPrice))
    slots = (1 if single else 2) if n_slots is None else n_slots
    click = getattr(mech, "click_model", "additive")
    matching = isinstance(mech, au.AIGCVCG) or (isinstance(mech, au.Myerson) and click != "separable")
    return PositionAuction(
        n_agents=n_agents,
        n_slots=slots,
        mechanism=name,
        mechanism_params=dict(params),
        ctr="aigc" if matching else "separable",
        click_model="additive" if click == "separable" else click,
        reference_metrics=True,
    )


def _heavy(game: Any) -> bool:
    """Per-instance (matching / DP) solvers: loop over the batch, so use fewer profiles."""
    return not (game.separable_mechanism and game.cheap_references)


def auction_invariants(game: Any, types: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Invariant checks at truthful and random bids: counts of violations and the worst margin."""
    truthful = game.play(types, game.truthful_actions(types))
    rand_acts = rng.uniform(game.action_low, game.action_high, truthful.bids.shape)
    rand = game.play(types, rand_acts)
    out: dict[str, Any] = {}

    def rec(key: str, margin: np.ndarray, text: str) -> None:
        out[key] = margin_check(margin, text, TOL)

    for tag, o in (("truthful", truthful), ("random", rand)):
        rec(f"payment_nonnegative[{tag}]", -o.payment, "0 <= t_i")
        rec(f"payment_le_bid[{tag}]", o.payment - o.bids * o.click_prob, "t_i <= b_i pi_i")
        lose = o.assignment < 0
        rec(f"losers_pay_zero[{tag}]", np.where(lose, np.abs(o.payment) + o.click_prob, 0.0), "no slot: pi_i = t_i = 0")
    rec("individually_rational[truthful]", truthful.payment - truthful.values * truthful.click_prob, "t_i <= v_i pi_i")
    welfare = (truthful.values * truthful.click_prob).sum(axis=1)
    rec("revenue_le_welfare[truthful]", truthful.payment.sum(axis=1) - welfare, "sum t_i <= sum v_i pi_i")
    return out


def reference_ratios(game: Any, types: np.ndarray) -> dict[str, Any]:
    """Efficiency and revenue ratios at truthful bids (``game.metrics`` with reference metrics)."""
    outcome = game.play(types, game.truthful_actions(types))
    met = game.metrics(types, outcome)
    row: dict[str, Any] = {"instances": int(types.shape[0])}
    for key in ("efficiency", "revenue_vs_vcg", "revenue_vs_myerson"):
        x = np.asarray(met[key], dtype=float)
        x = x[np.isfinite(x)]
        row[key] = {
            "mean": float(x.mean()) if x.size else float("nan"),
            "min": float(x.min()) if x.size else float("nan"),
            "max": float(x.max()) if x.size else float("nan"),
        }
    for key in ("welfare", "opt_welfare", "revenue", "vcg_revenue", "myerson_revenue"):
        row[key] = float(np.mean(met[key]))
    row["efficiency_values"] = np.asarray(met["efficiency"], dtype=float)
    return row


def equilibrium_facts(
    name: str, params: Mapping[str, Any], mech: Any, n: int, m: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Cheap equilibrium facts for the separable mechanisms (see the module docstring)."""
    from coopsim.mechanisms import auctions as au

    facts: list[dict[str, Any]] = []
    if type(mech) is au.GSP and mech.reserve == 0 and mech.rank_by == "score":
        alpha = 0.7 ** np.arange(2)
        v = rng.random((m, max(n, 3)))
        q = np.ones_like(v)
        bstar = au.eos_bids(v, alpha)
        rev_gsp = au.GSP()(bstar, quality=q, position=alpha).revenue
        rev_vcg = au.VCG()(v, quality=q, position=alpha).revenue
        diff = float(np.abs(rev_gsp - rev_vcg).max())
        sne = au.gsp_equilibrium_check(v, bstar, alpha, symmetric=True)
        nash = au.gsp_equilibrium_check(v, bstar, alpha, symmetric=False)
        facts.append(
            {
                "fact": f"GSP revenue at the EOS bids B* = VCG revenue ({m} instances, n = {v.shape[1]}, "
                f"alpha = (1, 0.7))",
                "value": diff,
                "measure": "max abs difference of the revenues",
                "holds": diff <= 1e-9,
            }
        )
        facts.append(
            {
                "fact": "B* satisfies the symmetric-Nash (envy-free) inequalities",
                "value": float(np.mean(sne.ok)),
                "measure": "share of instances",
                "holds": bool(np.all(sne.ok)),
            }
        )
        facts.append(
            {
                "fact": "B* satisfies the Nash inequalities",
                "value": float(np.mean(nash.ok)),
                "measure": "share of instances",
                "holds": bool(np.all(nash.ok)),
            }
        )
    elif isinstance(mech, (au.FirstPrice, au.SecondPrice)) and mech.reserve == 0:
        v = rng.random((m, n))
        if isinstance(mech, au.FirstPrice):
            bids, label = au.first_price_bne_bid(v, n), "first price at the BNE bids (n-1)/n v"
        else:
            bids, label = v, "second price at truthful bids"
        rev = mech(bids).revenue
        target = au.first_price_bne_revenue(n)
        se = float(rev.std(ddof=1) / np.sqrt(m))
        facts.append(
            {
                "fact": f"{label}: expected revenue = (n-1)/(n+1) = {target:.6g} (n = {n}, U[0,1], {m} draws)",
                "value": float(rev.mean()),
                "se": se,
                "measure": "Monte Carlo mean",
                "holds": abs(float(rev.mean()) - target) <= 4 * se + 1e-12,
            }
        )
    elif isinstance(mech, au.Myerson) and mech.click_model == "separable" and mech.distribution == "uniform":
        v = rng.random((m, n))
        rev = mech(v).revenue
        target = au.myerson_uniform_revenue(n)
        se = float(rev.std(ddof=1) / np.sqrt(m))
        facts.append(
            {
                "fact": f"one item, U[0,1] values: expected revenue = (n-1)/(n+1) + 2^-n/(n+1) = {target:.6g} "
                f"(n = {n}, {m} draws)",
                "value": float(rev.mean()),
                "se": se,
                "measure": "Monte Carlo mean",
                "holds": abs(float(rev.mean()) - target) <= 4 * se + 1e-12,
            }
        )
    return facts


def _audit_sizes(game: Any, profiles: int, grid: int) -> tuple[int, int, int, bool, bool]:
    """``(profiles M, grid G, random bids R, slow, heavy)`` of the audit: per-instance solvers
    (``heavy``) get fewer profiles and candidates, matching Myerson (threshold payments by bisection
    per winner, the slowest case: ``slow``) fewer still."""
    heavy = _heavy(game)
    slow = heavy and not game.separable_mechanism and type(game.mechanism).__name__ == "Myerson"
    M = min(profiles, 12 if slow else 32) if heavy else profiles
    G = min(grid, 11 if slow else 21) if heavy else grid
    R = 4 if slow else (8 if heavy else 64)
    return M, G, R, slow, heavy


def _replay_witness(game: Any, w: Any) -> tuple[dict[str, Any], np.ndarray, Any, np.ndarray]:
    """The audit's witness replayed through ``game.play``: the witness dict plus the replayed gain and
    the deviating bidder's slot, payment and click probability at truthful bids and at its deviation.
    Also returns the truthful bid profile ``(1, n)``, the truthful outcome and the values ``(1, n)``."""
    base = game.truthful_actions(w.types[None])
    dev = base.copy()
    dev[0, w.agent] = float(np.asarray(w.deviation))
    o_t, o_d = game.play(w.types[None], base), game.play(w.types[None], dev)
    wd = w.to_dict()
    values, _ctr = game.split(w.types[None])
    wd.update(
        values=values[0].tolist(),
        replayed_gain=float(o_d.utility[0, w.agent] - o_t.utility[0, w.agent]),
        slot_truthful=int(o_t.assignment[0, w.agent]),
        slot_deviation=int(o_d.assignment[0, w.agent]),
        payment_truthful=float(o_t.payment[0, w.agent]),
        payment_deviation=float(o_d.payment[0, w.agent]),
        click_truthful=float(o_t.click_prob[0, w.agent]),
        click_deviation=float(o_d.click_prob[0, w.agent]),
    )
    return wd, base, o_t, values


def _incentive_section(
    card: Card, game: Any, aud: Any, wd: dict[str, Any], values: np.ndarray, claims: list[str], sizes: tuple, seed: int
) -> None:
    """``card.data["audit"]`` and the incentive-audit section: largest gain, verdict against the
    strategyproofness claim and, when a deviation gains, the replayed witness. ``sizes`` = (M, G, R)."""
    M, G, R = sizes
    n, w = game.n_agents, aud.witness
    card.data["audit"] = {
        "n_agents": n,
        "n_slots": game.n_slots,
        "ctr": game.ctr_kind,
        "click_model": game.click_model,
        "profiles": M,
        "grid": G,
        "n_random": R,
        "seed": seed,
        **incentive_fields(aud),
        "witness": wd,
        "claims": claims,
    }
    manipulable = (
        f"**manipulable**: bidder {w.agent} gains {_fmt(aud.max_gain)} by bidding "
        f"{_fmt(float(np.asarray(w.deviation)))} instead of its value {_fmt(float(values[0, w.agent]))}"
    )
    body = [
        f"Unilateral bid deviations on {M} value profiles (n = {n} bidders, {game.n_slots} slot(s), "
        f"{game.ctr_kind} CTRs, {game.click_model} clicks, values i.i.d. U[0, 1]); candidates: a {G}-point "
        f"bid grid on [0, {_fmt(game.action_high)}], {R} random bids and a local search (seed {seed}). "
        f"Utility v_i pi_i - t_i (expected).",
        "",
        *incentive_rows(aud, manipulable, claims),
    ]
    if not aud.strategyproof:
        body += [
            "",
            "**Witness** (the deviation with the largest gain, replayed through the game):",
            "",
            "| values | bidder | value | bid | slot (truthful -> bid) | clicks | payment | gain (replayed) |",
            "|---|---|---|---|---|---|---|---|",
            f"| {_fmt(values[0])} | {w.agent} | {_fmt(float(values[0, w.agent]))} | "
            f"{_fmt(float(np.asarray(w.deviation)))} | {wd['slot_truthful']} -> {wd['slot_deviation']} | "
            f"{_fmt(wd['click_truthful'])} -> {_fmt(wd['click_deviation'])} | {_fmt(wd['payment_truthful'])} -> "
            f"{_fmt(wd['payment_deviation'])} | {_fmt(wd['replayed_gain'])} |",
        ]
    card.sections.append((f"Incentive audit (n = {n})", "\n".join(body)))


def _invariant_sections(
    card: Card, game: Any, types: np.ndarray, seed: int, strategyproof: bool, claims: list[str]
) -> np.ndarray:
    """``card.data["invariants"]`` and ``["ratios_truthful"]``, the claims the checks contradict, and
    the invariants and truthful-ratio sections. Returns the per-instance efficiencies (for a figure)."""
    M = types.shape[0]
    inv = auction_invariants(game, types, np.random.default_rng(seed + 1))
    card.data["invariants"] = inv
    rows = ["| invariant | bids | holds | violations / checked | worst margin |", "|---|---|---|---|---|"]
    for key, r in inv.items():
        tag = key[:-1].split("[")[1]
        rows.append(
            f"| {r['text']} | {tag} | {'yes' if r['holds'] else '**no**'} | {r['violations']} / {r['checked']} | "
            f"{_fmt(r['worst'])} |"
        )
    refs = reference_ratios(game, types)
    eff_vals = refs.pop("efficiency_values")
    card.data["ratios_truthful"] = refs
    ir_ok = all(r["holds"] for k, r in inv.items() if k.startswith(("individually_rational", "payment_nonnegative")))
    efficient = refs["efficiency"]["min"] >= 1 - 1e-9
    note = flag_claims(
        card,
        claims,
        {"strategyproof": bool(strategyproof), "individually_rational": ir_ok, "efficient": bool(efficient)},
    )
    held = [k for k, r in inv.items() if r["holds"]]
    card.sections.append(
        (
            "Invariants",
            f"Checked on the {M} audited profiles at truthful bids and at bids drawn "
            f"uniformly from [0, {_fmt(game.action_high)}]; margin = amount by which the "
            f"inequality fails (tolerance {TOL:g}). {len(held)} of {len(inv)} hold."
            f"{note}\n\n" + "\n".join(rows),
        )
    )
    card.sections.append(
        (
            "Efficiency and revenue at truthful bids",
            f"Per instance ({M} profiles): efficiency = welfare / optimal welfare (at most "
            f"{game.ad_budget} ads), revenue / VCG revenue and revenue / Myerson revenue (truthful bids "
            f"under VCG and Myerson; 0/0 := 1). Truthful bidding is an equilibrium only for the "
            f"strategyproof mechanisms.\n\n"
            "| ratio | mean | min | max |\n|---|---|---|---|\n"
            + "\n".join(
                f"| {k} | {_fmt(refs[k]['mean'])} | {_fmt(refs[k]['min'])} | {_fmt(refs[k]['max'])} |"
                for k in ("efficiency", "revenue_vs_vcg", "revenue_vs_myerson")
            ),
        )
    )
    return eff_vals


def _ratio_section(card: Card, mech: Any, game: Any, ratio_ns: Sequence[int], mk: int, seed: int) -> list[dict]:
    """``card.data["ratios"]`` and its section: :func:`reference_ratios` at truthful bids on ``mk``
    fresh instances (seed ``[seed, n]``) for each n in ``ratio_ns``, with the audited game's slots."""
    ratio_rows = []
    for k in ratio_ns:
        g = auction_game(card.mechanism, card.params, mech, int(k), game.n_slots)
        r = reference_ratios(g, g.sample_types(np.random.default_rng([seed, int(k)]), mk))
        r.pop("efficiency_values")
        ratio_rows.append({"n": int(k), **r})
    card.data["ratios"] = ratio_rows
    lines = [
        "| n | instances | efficiency mean (min) | revenue / VCG mean | revenue / Myerson mean | revenue | VCG revenue "
        "| Myerson revenue |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in ratio_rows:
        lines.append(
            f"| {r['n']} | {r['instances']} | {_fmt(r['efficiency']['mean'])} ({_fmt(r['efficiency']['min'])}) | "
            f"{_fmt(r['revenue_vs_vcg']['mean'])} | {_fmt(r['revenue_vs_myerson']['mean'])} | "
            f"{_fmt(r['revenue'])} | {_fmt(r['vcg_revenue'])} | {_fmt(r['myerson_revenue'])} |"
        )
    card.sections.append(
        (
            "Ratios against the optimum by number of bidders",
            "Truthful bids, fresh random instances per n (means over instances; revenue columns are "
            "expected revenue per auction).\n\n" + "\n".join(lines),
        )
    )
    return ratio_rows


def _equilibrium_section(card: Card, facts: list[dict[str, Any]]) -> None:
    """``card.data["equilibrium"]`` and, when there are facts, their section."""
    card.data["equilibrium"] = facts
    if facts:
        lines = ["| fact | measure | value | holds |", "|---|---|---|---|"]
        for f in facts:
            val = _fmt(f["value"]) + (f" ± {_fmt(f['se'], 2)} (s.e.)" if "se" in f else "")
            lines.append(f"| {f['fact']} | {f['measure']} | {val} | {'yes' if f['holds'] else '**no**'} |")
        card.sections.append(("Equilibrium facts", "\n".join(lines)))


def _figures(
    card: Card, game: Any, w: Any, base: np.ndarray, o_t: Any, eff_vals: np.ndarray, ratio_rows: list[dict]
) -> None:
    """The card's figures and captions: the witness bidder's utility against its own bid (201 bids,
    others truthful), and the efficiency histogram next to the mean ratios against n."""
    from coopsim import plotting

    name, n = card.mechanism, game.n_agents
    bids = np.linspace(game.action_low, game.action_high, 201)
    prof = np.repeat(base, len(bids), axis=0)
    prof[:, w.agent] = bids
    util = game.play(np.repeat(w.types[None], len(bids), axis=0), prof).utility[:, w.agent]
    card.figures["deviation.png"] = plotting.deviation_figure(
        bids,
        util,
        float(base[0, w.agent]),
        float(o_t.utility[0, w.agent]),
        w.agent,
        f"{name}: bidder {w.agent}'s utility vs its bid",
    )
    fig, ax = plotting.subplots(1, 2, figsize=(9.6, 3.6))
    ax[0].hist(eff_vals[np.isfinite(eff_vals)], bins=30, color="C0")
    ax[0].set_xlabel("efficiency W / W* (truthful bids)")
    ax[0].set_ylabel("instances")
    ax[0].set_title(f"{name}: efficiency, n = {n}")
    ns = [r["n"] for r in ratio_rows]
    for key, lab in (
        ("efficiency", "efficiency"),
        ("revenue_vs_vcg", "revenue / VCG"),
        ("revenue_vs_myerson", "revenue / Myerson"),
    ):
        ax[1].plot(ns, [r[key]["mean"] for r in ratio_rows], marker="o", label=lab)
    ax[1].set_xticks(ns)
    ax[1].set_xlabel("n (bidders)")
    ax[1].set_ylabel("mean ratio")
    ax[1].grid(alpha=0.3)
    plotting.legend_outside(ax[1])
    card.figures["ratios.png"] = fig
    card.data["figure_captions"] = {
        "deviation.png": f"Bidder {w.agent}'s expected utility against its own bid at the audit's witness profile "
        f"(others truthful); the star is its best bid.",
        "ratios.png": "Left: distribution of efficiency over the audited instances at truthful bids. Right: mean "
        "efficiency and revenue ratios against the number of bidders.",
    }


def auction_audit(
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
    """Audit (and, with ``full``, the report card) of a position-auction mechanism: the incentive audit
    with its replayed witness, the invariants and truthful ratios, and with ``full`` the ratios against
    n, the equilibrium facts (separable mechanisms) and the figures. Multi-item mechanisms
    (``regret_net``, ``rochet_net``) get the multi-item card (:mod:`coopsim.report.multi_item`)."""
    from coopsim.report.multi_item import is_multi_item, multi_item_audit

    if is_multi_item(mech):
        return multi_item_audit(
            name, params, mech, n_agents=n_agents, profiles=profiles, grid=grid, seed=seed, full=full, **unknown
        )
    if unknown:
        raise TypeError(f"auction audit: unknown options {sorted(unknown)}; expected n_agents, profiles, grid, seed")
    from coopsim.analysis import incentive_audit

    n = 3 if n_agents is None else int(n_agents)
    card = Card(name, "auctions", dict(params))
    game = auction_game(name, params, mech, n)
    M, G, R, slow, heavy = _audit_sizes(game, profiles, grid)
    types = game.sample_types(np.random.default_rng(seed), M)
    aud = incentive_audit(game, types, grid=G, n_random=R, rng=seed)
    claims = claims_of(mech)
    wd, base, o_t, values = _replay_witness(game, aud.witness)
    _incentive_section(card, game, aud, wd, values, claims, (M, G, R), seed)
    eff_vals = _invariant_sections(card, game, types, seed, aud.strategyproof, claims)
    if not full:
        return card
    mk = min(profiles, 6 if slow else 16) if heavy else min(profiles, 256)
    ratio_rows = _ratio_section(card, mech, game, ratio_ns, mk, seed)
    facts = [] if heavy else equilibrium_facts(name, params, mech, n, 4096, np.random.default_rng(seed + 2))
    _equilibrium_section(card, facts)
    _figures(card, game, aud.witness, base, o_t, eff_vals, ratio_rows)
    return card


register_family("auctions", audit=auction_audit)
