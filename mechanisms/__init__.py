"""Mechanism plugins, usable standalone on NumPy arrays and registered by name.

>>> from coopsim import mechanisms
>>> up = mechanisms.get("uniform_phantom")
>>> float(up([0.1, 0.5, 0.9]))
0.5
"""

# Families register themselves on import.
from coopsim.mechanisms import (
    auctions,  # noqa: E402,F401
    budget,  # noqa: E402,F401
    facility,  # noqa: E402,F401
    gates,  # noqa: E402,F401
    information,  # noqa: E402,F401
    scoring,  # noqa: E402,F401
)
from coopsim.mechanisms.registry import available, get, register, registry

__all__ = ["available", "get", "register", "registry"]
