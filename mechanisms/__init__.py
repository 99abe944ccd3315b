"""Mechanism plugins, usable standalone on NumPy arrays and registered by name.

One sub-package per mechanism family, each ``__init__`` its public face:

- :mod:`~coopsim.mechanisms.facility` — the phantom/median family, fairness axioms, budget aggregation;
- :mod:`~coopsim.mechanisms.auctions` — position auctions, their solvers, equilibria and Myerson;
- :mod:`~coopsim.mechanisms.information` — information acquisition: model, optimal LP, IC verifier,
  online principal;
- :mod:`~coopsim.mechanisms.scoring` — proper scoring rules;
- :mod:`~coopsim.mechanisms.gates` — tier gates with decay and audit schedules, and their properties.

>>> from coopsim import mechanisms
>>> up = mechanisms.get("uniform_phantom")
>>> float(up([0.1, 0.5, 0.9]))
0.5
"""

import importlib as _importlib
import sys as _sys

from coopsim.mechanisms.registry import available, get, register, registry

# Families register themselves on import.
from coopsim.mechanisms import facility  # noqa: E402,F401  (isort: skip)
from coopsim.mechanisms import auctions  # noqa: E402,F401  (isort: skip)
from coopsim.mechanisms import scoring  # noqa: E402,F401  (isort: skip)
from coopsim.mechanisms import gates  # noqa: E402,F401  (isort: skip)
from coopsim.mechanisms import information  # noqa: E402,F401  (isort: skip)
from coopsim.mechanisms import learned  # noqa: E402,F401  (isort: skip)

# Module paths from before the families became sub-packages: ``coopsim.mechanisms.budget`` and the
# others stay importable (``import``, ``from ... import``, attribute access) as the same module objects.
_MOVED = {
    "budget": "facility.budget",
    "facility_axioms": "facility.axioms",
    "auction_solvers": "auctions.solvers",
    "auction_equilibria": "auctions.equilibria",
    "myerson": "auctions.myerson",
    "information_model": "information.model",
    "information_lp": "information.lp",
    "information_ic": "information.ic",
    "online_principal": "information.online_principal",
    "gate_properties": "gates.properties",
}
for _old, _new in _MOVED.items():
    _module = _importlib.import_module(f"{__name__}.{_new}")
    _sys.modules[f"{__name__}.{_old}"] = _module
    globals()[_old] = _module

__all__ = ["available", "get", "register", "registry"]
