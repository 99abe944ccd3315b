"""Report card of the information-acquisition family (``information_lp``, ``information_scoring``,
``information_decision``; Cacciamani, Castiglioni & Gatti, *Online Information Acquisition: Hiring
Multiple Agents*, arXiv:2307.06210).

The mechanism is built on a model (``model`` parameter; instance B of the paper when none is
given). Checks, exact (by enumeration, no sampling):

- **incentive compatibility**: the largest gain of any agent from a joint shirk-and-lie deviation,
  conditional on its recommendation, with the witness deviation (obedience and truthfulness gains
  reported separately);
- **principal's utility** and each agent's expected utility (limited liability: payments >= 0;
  individual rationality: expected utility >= 0 under obedience);
- the largest payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coopsim.report.card import Card, _fmt, claims_of, flag_claims, register_family

TOL = 1e-7


def information_checks(plugin: Any) -> dict[str, Any]:
    """IC report, principal and agent utilities and payment bounds of a table plug-in."""
    from coopsim.mechanisms.information import agent_utilities, ic_report, principal_utility

    model, mech = plugin.model, plugin.as_mechanism()
    rep = ic_report(model, mech)
    agents = agent_utilities(model, mech)
    return {
        "ic": {
            "violation": float(rep.violation),
            "obedience": float(rep.obedience),
            "truthfulness": float(rep.truthfulness),
            "witness": [x if isinstance(x, (int, float)) else list(np.ravel(x)) for x in rep.witness],
            "holds": bool(rep.violation <= TOL),
        },
        "principal_utility": float(principal_utility(model, mech)),
        "agent_utilities": agents.tolist(),
        "individually_rational": bool((agents >= -TOL).all()),
        "max_payment": float(np.max(plugin.payments)),
        "limited_liability": bool(np.min(plugin.payments) >= -1e-9),
    }


def information_audit(name: str, params: Mapping[str, Any], mech: Any, *, full: bool = False, **unknown: Any) -> Card:
    """Audit (and report card) of an information-acquisition mechanism: exact IC check and utilities."""
    if unknown:
        raise TypeError(f"information audit: unknown options {sorted(unknown)}; expected none")
    card = Card(name, "information", dict(params))
    res = information_checks(mech)
    card.data.update(res)
    claims = claims_of(mech)
    note = flag_claims(card, claims, {"incentive_compatible": res["ic"]["holds"]})
    ic = res["ic"]
    body = [
        "Every joint deviation (effort b_i, reporting map) of every agent, enumerated exactly; gain "
        "conditional on the recommendation.",
        "",
        "| quantity | value |",
        "|---|---|",
        f"| largest IC gain | {_fmt(ic['violation'])} |",
        f"| obedience gain (shirk, report truthfully) | {_fmt(ic['obedience'])} |",
        f"| truthfulness gain (obey, lie) | {_fmt(ic['truthfulness'])} |",
        f"| verdict | {'incentive compatible' if ic['holds'] else '**not incentive compatible**'} |",
        f"| witness (agent, recommendation, effort, reporting map) | {ic['witness']} |",
        f"| principal's utility | {_fmt(res['principal_utility'])} |",
        f"| agents' utilities | {_fmt(res['agent_utilities'])} |",
        f"| largest payment | {_fmt(res['max_payment'])} |",
        f"| claims | {', '.join(claims) or '—'} |",
    ]
    if note:
        body += ["", note]
    card.sections.append(("Incentive compatibility and utilities", "\n".join(body)))
    return card


register_family("information", audit=information_audit)
