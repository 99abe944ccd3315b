"""Base class shared by every mechanism family.

A mechanism is a plain object callable on NumPy arrays. It declares the properties it *claims*
(``claims``); audits in ``coopsim.analysis`` test the claims instead of trusting them.
"""

from __future__ import annotations

from typing import Any, ClassVar

#: property names used in ``claims`` across families
KNOWN_CLAIMS = frozenset(
    {
        "strategyproof",
        "anonymous",
        "range_respecting",
        "unanimous",
        "IFS",
        "UFS",
        "PF",
        "proportional",
        "deterministic",
        "randomized",
        "budget_balanced",
        "individually_rational",
        "efficient",
        "strictly_proper",
        "proper",
        "monotone",
        "truthful_in_expectation",
        "incentive_compatible",
    }
)


class Mechanism:
    """Common base: a registry name, declared claims and the parameters it was built with."""

    registry_name: ClassVar[str | None] = None
    #: the family whose games, audits and report card apply ("facility", "auctions", "scoring",
    #: "gates", "budget", "information"); each family's base class sets it
    family: ClassVar[str] = "unknown"
    #: a class attribute; a parameterised rule may narrow it per instance (e.g. a non-strict rule)
    claims: frozenset[str] = frozenset()

    def params(self) -> dict[str, Any]:
        """Constructor parameters (for reports and experiment records)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"
