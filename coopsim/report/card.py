"""Mechanism audits and report cards, dispatched on the mechanism's family.

``audit(name, params, ...)`` and ``report(name, params, out=...)`` look the mechanism up in the
registry, find its family (:func:`family_of`) and call the family's handler. Families register a
handler with :func:`register_family`; the facility family is built in. A family without a
handler gets a card saying which analyses are not available yet, never a crash.

Family handlers live in their own modules of :mod:`coopsim.report`, each registered when the
package is imported: ``facility`` (facility location), ``auctions`` (position auctions),
``scoring`` (scoring rules), ``gates`` (comprehension gates) and ``budget`` (budget aggregation).
See ``docs/report_card.md``.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

#: family name -> handler(mechanism name, params, options) -> FamilyReport
FAMILIES: dict[str, dict[str, Callable[..., Any]]] = {}
KNOWN_FAMILIES = ("facility", "auctions", "scoring", "gates", "budget", "information")


def register_family(name: str, *, audit: Callable[..., Any], report: Callable[..., Any] | None = None) -> None:
    """Register the audit (and report) handler of a mechanism family."""
    FAMILIES[name] = {"audit": audit, "report": report or audit}


def build(name: str, params: Mapping[str, Any] | None = None):
    """The registered mechanism ``name`` built with ``params``."""
    from coopsim import mechanisms

    return mechanisms.get(name, **dict(params or {}))


def family_of(mech: Any) -> str:
    """The family of a mechanism: its ``family`` attribute, else the ``coopsim.mechanisms`` module it
    lives in (``facility``, ``auctions``, ...), else ``"unknown"``."""
    fam = getattr(mech, "family", None)
    if isinstance(fam, str):
        return fam
    from coopsim.mechanisms.facility import FacilityMechanism

    if isinstance(mech, FacilityMechanism):
        return "facility"
    module = type(mech).__module__
    if module.startswith("coopsim.mechanisms."):
        return module.split(".")[2]
    return "unknown"


@dataclass
class Card:
    """A report card: structured results (``data``), Markdown sections and figures to write."""

    mechanism: str
    family: str
    params: dict[str, Any]
    data: dict[str, Any] = field(default_factory=dict)
    sections: list[tuple[str, str]] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    available: bool = True

    def markdown(self, command: str | None = None) -> str:
        from coopsim import __version__

        lines = [f"# Report card: `{self.mechanism}`", ""]
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        lines += [
            f"- family: **{self.family}**",
            f"- mechanism: `{self.mechanism}({args})`",
            f"- coopsim {__version__}, generated {_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M} UTC",
        ]
        if command:
            lines.append(f"- command: `{command}`")
        lines.append("")
        for title, body in self.sections:
            lines += [f"## {title}", "", body.rstrip(), ""]
        if self.figures:
            lines += ["## Figures", ""]
            for fname, caption in self.data.get("figure_captions", {}).items():
                lines += [f"![{caption}]({fname})", "", f"*{caption}*", ""]
        return "\n".join(lines)


def not_available(name: str, family: str, params: Mapping[str, Any], what: str) -> Card:
    card = Card(name, family, dict(params), available=False)
    supported = sorted(FAMILIES)
    card.sections.append(
        (
            what,
            f"Not available yet for the **{family}** family (supported: "
            f"{', '.join(supported)}). The mechanism is registered and usable in "
            f"experiment specs; its domain checks have not been wired into the "
            f"report card.",
        )
    )
    card.data["available"] = False
    return card


def audit(name: str, params: Mapping[str, Any] | None = None, **options: Any) -> Card:
    """Incentive audit plus the family's property checks (no ratios, no figures)."""
    params = dict(params or {})
    mech = build(name, params)
    fam = family_of(mech)
    handler = FAMILIES.get(fam)
    if handler is None:
        return not_available(name, fam, params, "Audit")
    return handler["audit"](name, params, mech, **options)


def report(
    name: str,
    params: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    command: str | None = None,
    **options: Any,
) -> tuple[Card, Path | None]:
    """Build the report card of ``name`` and write ``<out>/report.md``, ``report.json`` and figures."""
    params = dict(params or {})
    mech = build(name, params)
    fam = family_of(mech)
    handler = FAMILIES.get(fam)
    card = (
        not_available(name, fam, params, "Report")
        if handler is None
        else handler["report"](name, params, mech, full=True, **options)
    )
    path = None
    if out is not None:
        from coopsim import plotting

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for fname, fig in card.figures.items():
            plotting.save(fig, out / fname)
        path = out / "report.md"
        path.write_text(card.markdown(command))
        (out / "report.json").write_text(json.dumps(_jsonable(card.data), indent=1, sort_keys=True))
    else:
        import matplotlib.pyplot as plt

        for fig in card.figures.values():
            plt.close(fig)
    return card, path


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return v if np.isfinite(v) else str(v)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, Fraction):
        return str(x)
    return x


def margin_check(margin: Any, text: str, tol: float = 1e-9) -> dict[str, Any]:
    """One invariant's verdict from its violation margins (``> tol`` violates): whether it holds,
    how many entries violate it, how many were checked, the worst margin, and the formula ``text``."""
    margin = np.asarray(margin, dtype=float)
    bad = margin > tol
    return {
        "holds": bool(not bad.any()),
        "violations": int(bad.sum()),
        "checked": int(margin.size),
        "worst": float(margin.max()) + 0.0 if margin.size else 0.0,
        "text": text,
    }


def claims_of(mech: Any) -> list[str]:
    """The mechanism's declared ``claims``, sorted."""
    return sorted(getattr(mech, "claims", ()))


def flag_claims(card: Card, claims: Sequence[str], verdicts: Mapping[str, bool]) -> str:
    """Record in ``card.data["claims_contradicted"]`` every claimed property whose check failed
    (``verdicts[claim]`` False) and return a Markdown sentence naming them ('' when none)."""
    broken = [c for c in claims if verdicts.get(c) is False]
    card.data["claims_contradicted"] = broken
    card.data["claims_checked"] = {c: bool(v) for c, v in verdicts.items() if c in claims}
    return f" **Claimed but contradicted by the checks: {', '.join(broken)}.**" if broken else ""


def incentive_fields(aud: Any) -> dict[str, Any]:
    """The summary of an ``IncentiveAudit`` that cards store: ``max_gain``, ``mean_gain``,
    ``share_profitable``, ``tol`` and ``strategyproof`` (every best gain <= tol)."""
    return {
        "max_gain": aud.max_gain,
        "mean_gain": aud.mean_gain,
        "share_profitable": aud.share_profitable,
        "tol": aud.tol,
        "strategyproof": bool(aud.strategyproof),
    }


def incentive_rows(aud: Any, manipulable: str, claims: Sequence[str]) -> list[str]:
    """The ``| quantity | value |`` table of an incentive audit: max gain, mean best gain, share of
    profiles with a gain, the verdict (``manipulable`` when a misreport gains, flagged when that
    contradicts a strategyproofness claim) and the claims."""
    verdict = "no profitable misreport found" if aud.strategyproof else manipulable
    if "strategyproof" in claims and not aud.strategyproof:
        verdict += " — **contradicts the mechanism's strategyproofness claim**"
    return [
        "| quantity | value |",
        "|---|---|",
        f"| max gain | {_fmt(aud.max_gain)} |",
        f"| mean best gain over profiles | {_fmt(aud.mean_gain)} |",
        f"| share of profiles with a gain > {aud.tol:g} | {_fmt(aud.share_profitable)} |",
        f"| verdict | {verdict} |",
        f"| claims | {', '.join(claims) or '—'} |",
    ]


def _fmt(x: Any, digits: int = 6) -> str:
    if x is None:
        return "—"
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "inf" if x > 0 else str(x)
        return f"{x:.{digits}g}"
    if isinstance(x, (list, tuple, np.ndarray)):
        return "(" + ", ".join(_fmt(v, 4) for v in np.asarray(x).ravel()) + ")"
    return str(x)
