"""Report cards: a mechanism's audits, ratios and figures, one module per family.

``coopsim.report.audit(name, params)`` and ``coopsim.report.report(name, params, out=...)`` look
the mechanism up in the registry, find its family (the mechanism's ``family`` attribute) and call
that family's handler. The generic machinery (:class:`Card`, :func:`register_family`, dispatch)
is :mod:`coopsim.report.card`; each family module registers its handler when this package is
imported. The runner and the CLI call report cards; nothing below them imports this layer.
"""

from coopsim.report.card import (
    FAMILIES,
    KNOWN_FAMILIES,
    Card,
    audit,
    build,
    claims_of,
    family_of,
    flag_claims,
    not_available,
    register_family,
    report,
)

# family handlers: each module registers itself when imported
from coopsim.report import auctions, budget, facility, gates, information, scoring  # noqa: E402,F401  (isort: skip)
from coopsim.report.facility import (  # noqa: E402  (isort: skip)
    FACILITY_TABLE,
    OBJECTIVE_LABEL,
    facility_audit,
    facility_axioms,
    facility_profiles,
    spec_ratio,
)

__all__ = [
    "FACILITY_TABLE",
    "FAMILIES",
    "KNOWN_FAMILIES",
    "OBJECTIVE_LABEL",
    "Card",
    "audit",
    "build",
    "claims_of",
    "facility_audit",
    "facility_axioms",
    "facility_profiles",
    "family_of",
    "flag_claims",
    "not_available",
    "register_family",
    "report",
    "spec_ratio",
]
