"""Report card of the budget-aggregation family (``independent_markets``,
``welfare_maximizing_phantoms``; ``coopsim.mechanisms.budget``; Freeman, Pennock, Peters & Wortman
Vaughan, arXiv 1905.00457).

``n`` voters (``n_agents``, default 5) report divisions ``p_i`` of a unit budget over ``m = 3``
alternatives; disutility ``||A(p) - p_i||_1``. Checks on ``profiles`` random profiles (Dirichlet(1)
rows, a third of them sparse with single-minded voters mixed in):

- **sum to one**: ``max_b |sum_j A(p)_j - 1|``;
- **incentive check**: every voter deviates to ``grid`` random reports (Dirichlet(1), Dirichlet(0.2)
  and the vertices); gain ``||A(p) - p_i||_1 - ||A(p'_i, p_-i) - p_i||_1``; largest gain with its
  witness (moving-phantom mechanisms are incentive compatible, so it should be <= 1e-9);
- **m = 2 equals Uniform Phantom**: ``max |A(x, 1 - x)_1 - UP(x)|`` on random two-alternative profiles;
- **proportionality on single-minded profiles**: ``A_j`` = share of voters whose favourite is j;
  largest error with its witness;
- figure: voter 0's disutility against its reported share of alternative 1 (m = 2), others fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coopsim.report.card import Card, _fmt, claims_of, flag_claims, register_family

TOL = 1e-9


def random_profiles(M: int, n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    """``(M, n, m)`` votes: Dirichlet(1) rows; in a third of the profiles half the voters single-minded."""
    V = rng.dirichlet(np.ones(m), size=(M, n))
    sm = rng.random((M, n)) < 0.5
    sm[: 2 * M // 3] = False
    V[sm] = np.eye(m)[rng.integers(0, m, sm.sum())]
    return V


def budget_checks(mech: Any, n: int, m: int, M: int, K: int, seed: int) -> dict[str, Any]:
    """Sum-to-one, random-deviation incentive check, m = 2 vs Uniform Phantom, proportionality."""
    from coopsim import mechanisms
    from coopsim.mechanisms.facility.budget import l1_disutility

    rng = np.random.default_rng(seed)
    V = random_profiles(M, n, m, rng)
    A = mech(V)
    out: dict[str, Any] = {"n": n, "m": m, "profiles": M, "deviations_per_voter": K, "seed": seed}
    out["sum_to_one"] = {"max_abs_error": float(np.abs(A.sum(-1) - 1).max())}
    out["sum_to_one"]["holds"] = out["sum_to_one"]["max_abs_error"] <= TOL
    # deviations: (M, n, K) rows
    D = np.concatenate(
        [
            rng.dirichlet(np.ones(m), size=(M, n, K - K // 2 - m)),
            rng.dirichlet(np.full(m, 0.2), size=(M, n, K // 2)),
            np.broadcast_to(np.eye(m), (M, n, m, m)),
        ],
        axis=2,
    )
    Kt = D.shape[2]
    rows = np.repeat(V[:, None, None], n, axis=1).repeat(Kt, axis=2)  # (M, n, Kt, n, m)
    idx = np.arange(n)
    rows[:, idx, :, idx, :] = np.moveaxis(D, 1, 0)
    A_dev = mech(rows.reshape(-1, n, m)).reshape(M, n, Kt, m)
    base = l1_disutility(V, A)  # (M, n)
    dev = np.abs(A_dev - V[:, :, None, :]).sum(-1)  # true preferences p_i
    gain = base[:, :, None] - dev
    b, i, k = np.unravel_index(int(np.argmax(gain)), gain.shape)
    out["incentive"] = {
        "max_gain": float(gain[b, i, k]),
        "share_profitable": float((gain.max(axis=(1, 2)) > TOL).mean()),
        "holds": bool(gain.max() <= TOL),
        "witness": {
            "votes": V[b].tolist(),
            "voter": int(i),
            "misreport": D[b, i, k].tolist(),
            "allocation": A[b].tolist(),
            "allocation_deviation": A_dev[b, i, k].tolist(),
            "gain": float(gain[b, i, k]),
        },
    }
    # m = 2 vs Uniform Phantom
    x = rng.random((M, n))
    x[: M // 4] = rng.integers(0, 3, (M // 4, n)) / 2
    two = mech(np.stack([x, 1 - x], axis=-1))
    up = np.asarray(mechanisms.get("uniform_phantom")(x), dtype=float)
    diff = np.abs(two[:, 0] - up)
    j = int(np.argmax(diff))
    out["uniform_phantom_m2"] = {
        "max_abs_diff": float(diff[j]),
        "holds": bool(diff[j] <= TOL),
        "witness": {"shares": x[j].tolist(), "mechanism": float(two[j, 0]), "uniform_phantom": float(up[j])},
    }
    # proportionality on single-minded profiles
    fav = rng.integers(0, m, (M, n))
    S = np.eye(m)[fav]
    target = S.mean(axis=1)
    err = np.abs(mech(S) - target).max(axis=1)
    j = int(np.argmax(err))
    out["proportionality"] = {
        "max_abs_error": float(err[j]),
        "holds": bool(err[j] <= TOL),
        "share_of_profiles_ok": float((err <= TOL).mean()),
        "witness": {
            "favourites": fav[j].tolist(),
            "allocation": mech(S[j]).tolist(),
            "proportional": target[j].tolist(),
        },
    }
    return out


def _incentive_section(card: Card, res: Mapping[str, Any], claims: list[str]) -> None:
    """The claims the checks contradict and the incentive-check section (largest gain of a random
    misreport, verdict, and the witness when a misreport gains)."""
    n, m, M, seed = res["n"], res["m"], res["profiles"], res["seed"]
    inc = res["incentive"]
    note = flag_claims(
        card,
        claims,
        {
            "strategyproof": inc["holds"],
            "incentive_compatible": inc["holds"],
            "proportional": res["proportionality"]["holds"],
        },
    )
    w = inc["witness"]
    body = [
        f"{M} random profiles of n = {n} voters over m = {m} alternatives (seed {seed}); every voter tries "
        f"{res['deviations_per_voter']} random misreports (Dirichlet(1), Dirichlet(0.2), the vertices). Gain = "
        f"reduction of its l1 distance to its true proposal.",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| max gain | {_fmt(inc['max_gain'])} |",
        f"| share of profiles with a gain > {TOL:g} | {_fmt(inc['share_profitable'])} |",
        f"| verdict | {'no profitable misreport found' if inc['holds'] else '**manipulable**'} |",
        f"| claims | {', '.join(claims) or '—'} |",
    ]
    if not inc["holds"]:
        body += [
            "",
            f"**Witness**: voter {w['voter']} of {_fmt(w['votes'])} reports {_fmt(w['misreport'])}; allocation "
            f"{_fmt(w['allocation'])} -> {_fmt(w['allocation_deviation'])}, gain {_fmt(w['gain'])}.",
        ]
    card.sections.append((f"Incentive check (n = {n}, m = {m})", "\n".join(body) + note))


def _yn(ok: bool) -> str:
    """'yes', or a bold 'no' for a failed check."""
    return "yes" if ok else "**no**"


def _property_section(card: Card, res: Mapping[str, Any]) -> None:
    """The properties section: sum to one, m = 2 equals Uniform Phantom, proportionality on
    single-minded profiles, each with its measure and witness."""
    up, pr, st = res["uniform_phantom_m2"], res["proportionality"], res["sum_to_one"]
    card.sections.append(
        (
            "Properties",
            "\n".join(
                [
                    "| property | holds | measure | witness |",
                    "|---|---|---|---|",
                    f"| allocation sums to 1 | {_yn(st['holds'])} | max abs error {_fmt(st['max_abs_error'])} | — |",
                    f"| m = 2 equals Uniform Phantom | {_yn(up['holds'])} | max abs difference {_fmt(up['max_abs_diff'])} | "
                    f"shares {_fmt(up['witness']['shares'])}: {_fmt(up['witness']['mechanism'])} vs UP {_fmt(up['witness']['uniform_phantom'])} |",
                    f"| proportional on single-minded profiles | {_yn(pr['holds'])} | max abs error {_fmt(pr['max_abs_error'])} "
                    f"(share of profiles ok {_fmt(pr['share_of_profiles_ok'])}) | favourites {_fmt(pr['witness']['favourites'])}: "
                    f"{_fmt(pr['witness']['allocation'])} vs {_fmt(pr['witness']['proportional'])} |",
                ]
            ),
        )
    )


def _figure(card: Card, mech: Any, n: int, seed: int) -> None:
    """The deviation figure (m = 2, shares of the n voters U[0, 1] with seed ``seed + 3``): voter 0's
    l1 disutility ``2 |A(r)_1 - x_0|`` and the allocation to alternative 1 against its report r."""
    from coopsim import plotting

    rng = np.random.default_rng(seed + 3)
    x = rng.random(n)
    r = np.linspace(0, 1, 401)
    rows = np.repeat(np.stack([x, 1 - x], axis=-1)[None], len(r), axis=0)
    rows[:, 0, 0], rows[:, 0, 1] = r, 1 - r
    alloc = mech(rows)
    dis = 2 * np.abs(alloc[:, 0] - x[0])
    fig, ax = plotting.subplots(figsize=(6.4, 4.0))
    ax.plot(r, dis, label="voter 0: l1 distance to its true proposal")
    ax.axvline(x[0], color="k", ls="--", lw=1, label="true share")
    ax.plot(r, alloc[:, 0], ls=":", label="allocation to alternative 1")
    ax.set_xlabel("voter 0's reported share of alternative 1 (m = 2)")
    ax.set_title(f"{card.mechanism}: one voter's report, others fixed")
    ax.grid(alpha=0.3)
    plotting.legend_outside(ax)
    card.data["figure_profile"] = {
        "shares": x.tolist(),
        "min_disutility": float(dis.min()),
        "disutility_at_truth": float(2 * abs(float(mech(np.stack([x, 1 - x], -1))[0]) - x[0])),
    }
    card.figures["deviation.png"] = fig
    card.data["figure_captions"] = {
        "deviation.png": "Voter 0's l1 disutility and the allocation to alternative 1 against "
        "its reported share (two alternatives, the other voters fixed)."
    }


def budget_audit(
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
    """Audit (and, with ``full``, the report card) of a budget aggregator; ``profiles`` capped at 256 and
    ``grid`` deviations per voter at 32."""
    if unknown:
        raise TypeError(f"budget audit: unknown options {sorted(unknown)}; expected n_agents, profiles, grid, seed")
    n = 5 if n_agents is None else int(n_agents)
    m = 3
    M, K = min(profiles, 256), max(min(grid, 32), 2 * m)
    card = Card(name, "budget", dict(params))
    res = budget_checks(mech, n, m, M, K, seed)
    card.data.update(res)
    _incentive_section(card, res, claims_of(mech))
    _property_section(card, res)
    if full:
        _figure(card, mech, n, seed)
    return card


register_family("budget", audit=budget_audit)
