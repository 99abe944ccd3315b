"""Report card of multi-item auctions with additive bidders (``regret_net``, ``rochet_net``).

The mechanism runs inside :class:`coopsim.envs.multi_item_auction.MultiItemAuction` with the sizes it
was built for (RegretNet: its ``n_bidders`` x ``n_items``; a RochetNet menu: one bidder) and values
i.i.d. U[0, ``value_high``] per bidder and item. Sections:

- **ex-post regret** (``coopsim.analysis.incentive_audit`` on the multi-item env): for each held-out
  value profile the best unilateral misreport of any bidder over a product grid of reports per item,
  random reports and a local search; the card reports the largest gain with its witness, the mean
  over profiles of the best bidder's gain and, per bidder, the mean of its best gain found by the
  same search with only that bidder deviating, ``rgt_i = E_v[max_b' u_i(v_i; b', v_-i) - u_i(v_i; v)]``
  (Dütting, Feng, Narasimhan, Parkes & Ravindranath, "Optimal Auctions through Deep Learning",
  ICML 2019 / JACM 2024, Section 2);
- **invariants** at truthful and at random reports: allocation probabilities in [0, 1] with each item
  allocated at most once (``sum_i z_ij <= 1``), payments ``p_i >= 0``, ex-post individual
  rationality ``u_i(v_i; v) >= 0`` at truthful reports, revenue <= welfare;
- **revenue and welfare at truthful reports** on fresh profiles, with the standard error, the
  efficiency ``W / W*`` (``W* = sum_j max_i v_ij``) and the known benchmarks for i.i.d. U[0, h]
  values: VCG per item (a second-price auction per item) earning ``m h (n-1)/(n+1)``, separate
  Myerson auctions per item (reserve h/2) earning ``m h [(n-1)/(n+1) + 2^-n/(n+1)]`` and, for one
  bidder and two items, the optimal menu of Manelli & Vincent (JET 2006): each item at 2h/3, the
  bundle at (4 - sqrt 2) h / 3 (revenue about 0.549 h), each by Monte Carlo on the same values. The
  paper reports about 0.878 for RegretNet on two bidders and two U[0, 1] items (quoted, not
  computed).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coopsim.report.card import Card, _fmt, claims_of, flag_claims, incentive_fields, incentive_rows, margin_check

TOL = 1e-9

#: revenue Dütting et al. report for RegretNet on two additive bidders, two items i.i.d. U[0, 1]
PAPER_REGRETNET_2X2 = 0.878


def is_multi_item(mech: Any) -> bool:
    """A multi-item mechanism (``mech(bids (B, n, m)) -> MultiItemResult``): it declares ``n_items``."""
    return isinstance(getattr(mech, "n_items", None), (int, np.integer))


def multi_item_game(mech: Any) -> Any:
    """The audited game: ``MultiItemAuction`` with the mechanism's sizes and value range."""
    from coopsim.envs.multi_item_auction import MultiItemAuction

    n = int(getattr(mech, "n_bidders", 1))
    high = float(getattr(mech, "value_high", 1.0))
    return MultiItemAuction(n_agents=n, n_items=int(mech.n_items), mechanism=mech, value_params={"high": high})


def multi_item_invariants(game: Any, types: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Invariant checks at truthful and random reports: violation counts and the worst margin."""
    truthful = game.play(types, game.truthful_actions(types))
    rand = game.play(types, rng.uniform(game.action_low, game.action_high, types.shape))
    out: dict[str, Any] = {}

    def rec(key: str, margin: np.ndarray, text: str) -> None:
        out[key] = margin_check(margin, text, TOL)

    for tag, o in (("truthful", truthful), ("random", rand)):
        z = o.allocation
        rec(f"allocation_in_unit_interval[{tag}]", np.maximum(-z, z - 1.0), "0 <= z_ij <= 1")
        rec(f"item_allocated_at_most_once[{tag}]", z.sum(axis=1) - 1.0, "sum_i z_ij <= 1")
        rec(f"payment_nonnegative[{tag}]", -o.payment, "p_i >= 0")
    rec("individually_rational[truthful]", -truthful.utility, "u_i(v_i; v) >= 0")
    welfare = (types * truthful.allocation).sum(axis=(1, 2))
    rec("revenue_le_welfare[truthful]", truthful.payment.sum(axis=1) - welfare, "sum_i p_i <= sum_ij v_ij z_ij")
    return out


def per_bidder_regret(game: Any, types: np.ndarray, grid: int = 11, n_random: int = 32, seed: int = 0) -> np.ndarray:
    """``rgt_i`` by the incentive audit, (n,): for each bidder i, ``incentive_audit`` (``grid`` reports
    per item, ``n_random`` random reports, local search; seed ``seed``) on the game in which only bidder i
    may deviate, and its mean over profiles of the best gain floored at 0."""
    from coopsim.analysis import incentive_audit
    from coopsim.envs.multi_item_auction import MultiItemAuction

    class OneDeviator(MultiItemAuction):
        """The multi-item game in which only bidder ``deviator`` may deviate (others get gain -inf)."""

        deviator = 0

        def deviation_utilities(self, types: np.ndarray, actions: np.ndarray, candidates: np.ndarray) -> np.ndarray:
            u = super().deviation_utilities(types, actions, candidates)
            u[:, np.arange(self.n_agents) != self.deviator, :] = -np.inf
            return u

    one = OneDeviator(
        n_agents=game.n_agents, n_items=game.n_items, mechanism=game.mechanism, value_params=game.value_params
    )
    out = np.zeros(game.n_agents)
    for i in range(game.n_agents):
        one.deviator = i
        out[i] = incentive_audit(one, types, grid=grid, n_random=n_random, rng=seed).mean_gain
    return out


def benchmarks(values: np.ndarray, high: float) -> dict[str, dict[str, float]]:
    """Revenue of the known benchmarks on ``values`` (B, n, m) i.i.d. U[0, high]: Monte Carlo mean,
    standard error and, where there is one, the closed form (module docstring)."""
    B, n, m = values.shape
    out: dict[str, dict[str, float]] = {}

    def rec(key: str, rev: np.ndarray, exact: float | None) -> None:
        out[key] = {"mean": float(rev.mean()), "se": float(rev.std(ddof=1) / np.sqrt(B)) if B > 1 else 0.0}
        if exact is not None:
            out[key]["exact"] = float(exact)

    s = np.sort(values, axis=1)
    second = s[:, -2, :] if n > 1 else np.zeros((B, m))
    rec("vcg_per_item", second.sum(axis=1), m * high * (n - 1) / (n + 1))
    reserve = high / 2
    top = s[:, -1, :]
    myerson = np.where(top >= reserve, np.maximum(second, reserve), 0.0)
    rec("myerson_per_item", myerson.sum(axis=1), m * high * ((n - 1) / (n + 1) + 2.0**-n / (n + 1)))
    if n == 1 and m == 2:
        price = np.array([0.0, 2 / 3, 2 / 3, (4 - np.sqrt(2)) / 3]) * high
        alloc = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=float)
        pick = (values[:, 0, :] @ alloc.T - price).argmax(axis=1)
        rec("manelli_vincent_optimum", price[pick], None)
    return out


BENCH_LABEL = {
    "vcg_per_item": "VCG per item (second price per item)",
    "myerson_per_item": "Myerson per item (reserve h/2)",
    "manelli_vincent_optimum": "optimal menu (Manelli & Vincent 2006)",
}


def multi_item_audit(
    name: str,
    params: Mapping[str, Any],
    mech: Any,
    *,
    n_agents: int | None = None,
    profiles: int = 512,
    grid: int = 101,
    seed: int = 0,
    full: bool = False,
    revenue_samples: int = 100_000,
    **unknown: Any,
) -> Card:
    """Audit (and, with ``full``, the report card) of a multi-item auction: the ex-post regret audit
    with its witness, the invariants, and with ``full`` revenue and welfare against the benchmarks
    and a figure. The audit uses at most 256 profiles and at most 11 reports per item on the grid
    (``grid`` and ``profiles`` cap them; 32 random reports and a local search are added); ``n_agents``
    must be the mechanism's number of bidders. ``ratio_ns`` (the position-auction option) is ignored:
    the network is built for one size."""
    unknown.pop("ratio_ns", None)
    if unknown:
        raise TypeError(f"multi-item audit: unknown options {sorted(unknown)}; expected n_agents, profiles, grid, seed")
    from coopsim.analysis import incentive_audit

    game = multi_item_game(mech)
    n, m = game.n_agents, game.n_items
    if n_agents is not None and int(n_agents) != n:
        raise ValueError(f"n_agents: expected {n} (the bidders {name} is built for), got {n_agents}")
    M, G, R = min(int(profiles), 256), min(int(grid), 11 if m <= 2 else 5), 32
    card = Card(name, "auctions", dict(params))
    types = game.sample_types(np.random.default_rng(seed), M)
    aud = incentive_audit(game, types, grid=G, n_random=R, rng=seed)
    rgt = per_bidder_regret(game, types, G, R, seed)
    claims = claims_of(mech)
    _regret_section(card, game, aud, rgt, claims, (M, G, R, seed))
    _invariants_section(card, game, types, claims, bool(aud.strategyproof), seed)
    if not full:
        return card
    _revenue_section(card, game, int(revenue_samples), seed)
    _figure(card, game, aud.witness)
    return card


def _regret_section(
    card: Card, game: Any, aud: Any, rgt: np.ndarray, claims: Any, sizes: tuple[int, int, int, int]
) -> None:
    """``card.data["audit"]`` and the ex-post regret section; ``sizes``: profiles, grid points per
    item, random reports and the seed of the audit."""
    M, G, R, seed = sizes
    n, m = game.n_agents, game.n_items
    w = aud.witness
    card.data["audit"] = {
        "n_bidders": n,
        "n_items": m,
        "value_high": game.action_high,
        "profiles": M,
        "grid": G,
        "n_random": R,
        "seed": seed,
        **incentive_fields(aud),
        "per_bidder_regret": rgt.tolist(),
        "witness": w.to_dict(),
        "claims": claims,
    }
    manipulable = (
        f"**manipulable**: bidder {w.agent} with values {_fmt(w.types[w.agent])} gains {_fmt(aud.max_gain)} by "
        f"reporting {_fmt(np.asarray(w.deviation))}"
    )
    card.sections.append(
        (
            f"Ex-post regret (n = {n} bidders, m = {m} items)",
            "\n".join(
                [
                    f"Unilateral misreports on {M} value profiles (values i.i.d. U[0, {_fmt(game.action_high)}] per "
                    f"bidder and item); candidates: a {G}-point grid per item ({G**m} reports), {R} random "
                    f"reports and a local search (seed {seed}). Utility sum_j v_ij z_ij - p_i. The mean best gain "
                    "is the mean over profiles of the best bidder's gain; rgt_i is bidder i's mean best gain (the same "
                    "search with only bidder i deviating: the empirical ex-post regret of Dütting et al.).",
                    "",
                    *incentive_rows(aud, manipulable, claims),
                    f"| per-bidder regret rgt_i | {_fmt(rgt)} |",
                ]
            ),
        )
    )


def _invariants_section(card: Card, game: Any, types: np.ndarray, claims: Any, strategyproof: bool, seed: int) -> None:
    """``card.data["invariants"]`` and the invariants section (claims flagged against the audit)."""
    M = len(types)
    inv = multi_item_invariants(game, types, np.random.default_rng(seed + 1))
    card.data["invariants"] = inv
    ir_ok = all(r["holds"] for k, r in inv.items() if k.startswith(("individually_rational", "payment_nonnegative")))
    note = flag_claims(card, claims, {"strategyproof": strategyproof, "individually_rational": ir_ok})
    rows = ["| invariant | reports | holds | violations / checked | worst margin |", "|---|---|---|---|---|"]
    for key, r in inv.items():
        rows.append(
            f"| {r['text']} | {key[:-1].split('[')[1]} | {'yes' if r['holds'] else '**no**'} | "
            f"{r['violations']} / {r['checked']} | {_fmt(r['worst'])} |"
        )
    card.sections.append(
        (
            "Invariants",
            f"Checked on the {M} audited profiles at truthful reports and at reports drawn uniformly from "
            f"[0, {_fmt(game.action_high)}]^m; margin = amount by which the inequality fails (tolerance {TOL:g})."
            f"{note}\n\n" + "\n".join(rows),
        )
    )


def _revenue_section(card: Card, game: Any, samples: int, seed: int) -> None:
    """``card.data["revenue"]`` and its section: revenue, welfare and efficiency at truthful reports on
    ``samples`` fresh profiles (seed ``[seed, 2]``) against the benchmarks."""
    n, m, h = game.n_agents, game.n_items, game.action_high
    values = game.sample_types(np.random.default_rng([seed, 2]), samples)
    met = game.metrics(values, game.play(values, game.truthful_actions(values)))
    rev, wel = met["revenue"], met["welfare"]
    opt = game.optimum(values)["welfare"]
    se = float(rev.std(ddof=1) / np.sqrt(samples))
    bench = benchmarks(values, h)
    data: dict[str, Any] = {
        "samples": samples,
        "revenue": float(rev.mean()),
        "revenue_se": se,
        "welfare": float(wel.mean()),
        "optimal_welfare": float(opt.mean()),
        "efficiency": float(wel.sum() / opt.sum()),
        "benchmarks": bench,
        # VCG earns nothing from a single bidder: no ratio then
        "revenue_vs_vcg_per_item": float(rev.mean() / bench["vcg_per_item"]["mean"]) if n > 1 else None,
    }
    if n == 2 and m == 2 and h == 1.0:
        data["paper_regretnet_revenue"] = PAPER_REGRETNET_2X2
    card.data["revenue"] = data
    lines = [
        "| mechanism | revenue (s.e.) | closed form |",
        "|---|---|---|",
        f"| **{card.mechanism}** | {_fmt(data['revenue'], 5)} ({_fmt(se, 2)}) | — |",
    ]
    for key, b in bench.items():
        lines.append(f"| {BENCH_LABEL[key]} | {_fmt(b['mean'], 5)} ({_fmt(b['se'], 2)}) | {_fmt(b.get('exact'), 5)} |")
    if "paper_regretnet_revenue" in data:
        lines.append(f"| RegretNet as reported by Dütting et al. | {PAPER_REGRETNET_2X2} | (quoted) |")
    card.sections.append(
        (
            "Revenue and welfare at truthful reports",
            f"{samples} fresh profiles (values i.i.d. U[0, {_fmt(h)}], n = {n}, m = {m}); the benchmarks run on "
            f"the same values. Welfare {_fmt(data['welfare'], 5)} against the optimum {_fmt(data['optimal_welfare'], 5)}"
            f" (efficiency {_fmt(data['efficiency'], 4)}); revenue / VCG per item "
            f"{_fmt(data['revenue_vs_vcg_per_item'], 4)}. Truthful reporting is an equilibrium only up to the "
            "regret measured above.\n\n" + "\n".join(lines),
        )
    )


def _figure(card: Card, game: Any, w: Any) -> None:
    """The witness bidder's utility over a grid of its reports (others truthful), as a heat map."""
    from coopsim import plotting

    m, i = game.n_items, w.agent
    fig, ax = plotting.subplots(1, 1, figsize=(4.8, 4.0))
    if m == 2:
        k = 61
        grid = game.action_grid(k)
        util = game.deviation_utilities(w.types[None], w.actions[None], grid)[0, i].reshape(k, k)
        im = ax.imshow(util.T, origin="lower", extent=(0, game.action_high, 0, game.action_high), aspect="auto")
        fig.colorbar(im, ax=ax, label="utility")
        ax.plot(*w.types[i], marker="o", color="w", label="truthful")
        ax.plot(*np.asarray(w.deviation), marker="*", color="r", ms=12, label="best misreport")
        ax.set_xlabel("report for item 0")
        ax.set_ylabel("report for item 1")
        plotting.legend_outside(ax)
    else:
        ax.bar(range(m), w.types[i], alpha=0.5, label="value")
        ax.bar(range(m), np.asarray(w.deviation), fill=False, label="best misreport")
        ax.set_xlabel("item")
        plotting.legend_outside(ax)
    ax.set_title(f"{card.mechanism}: bidder {i}'s utility")
    card.figures["deviation.png"] = fig
    card.data["figure_captions"] = {
        "deviation.png": f"Bidder {i}'s utility against its own report at the audit's witness profile (others "
        "truthful); the circle is the truthful report, the star the best misreport found.",
    }
