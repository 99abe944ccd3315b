"""Designed mechanisms: optimised or learned, handed back as ordinary mechanisms.

Public names load lazily (``__getattr__``), so ``import coopsim.design`` imports neither scipy's
LP solver nor torch until a name is used. Modules:

- :mod:`~coopsim.design.scoring` -- optimal bounded proper scoring rules for effort (Li, Hartline,
  Shan, Wu, EC 2022; Hartline, Shan, Li, Wu, COLT 2023): an LP over a menu of score vectors,
  returned as a :class:`~coopsim.mechanisms.scoring.DecisionRule`;
- :mod:`~coopsim.design.phantoms` -- phantom search for generalized medians (Moulin 1980) under
  fairness axioms, returned as a :class:`~coopsim.mechanisms.facility.GeneralizedMedian`.
- :mod:`~coopsim.design.myerson_net`, :mod:`~coopsim.design.rochet_net`,
  :mod:`~coopsim.design.regret_net` -- differentiable auction design (Dütting, Feng, Narasimhan,
  Parkes, Ravindranath, "Optimal Auctions through Deep Learning", ICML 2019 / JACM 2024) in torch
  (``coopsim[torch]``; ``cuda`` when available, else CPU): MyersonNet (one item, strategyproof by
  construction), RochetNet (one additive bidder, a menu: IC by construction) and RegretNet
  (additive bidders and items, ex-post regret trained down by the augmented Lagrangian). Trained
  networks are saved as plain ``.npz`` and served by the NumPy mechanisms ``myerson_net``,
  ``rochet_net`` and ``regret_net`` of :mod:`coopsim.mechanisms.learned`.

>>> from coopsim.design import optimal_scoring_rule
>>> round(optimal_scoring_rule([0.5, 0.5], [[0.8, 0.2], [0.2, 0.8]]).gain, 6)
0.3
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> defining module (add an entry per exported name)
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        [
            "OptimalScoringRule",
            "optimal_scoring_rule",
            "binary_optimal_gain",
            "binary_optimal_rule",
            "standard_rules",
            "scale_to_range",
        ],
        "coopsim.design.scoring",
    ),
    **dict.fromkeys(
        [
            "PHANTOM_AXIOMS",
            "PhantomSearch",
            "sample_peaks",
            "phantom_bounds",
            "search_phantoms",
            "optimal_phantoms",
            "phantom_report",
            "format_report",
        ],
        "coopsim.design.phantoms",
    ),
    **dict.fromkeys(["MyersonNetConfig", "train_myerson_net"], "coopsim.design.myerson_net"),
    **dict.fromkeys(["RochetNetConfig", "train_rochet_net"], "coopsim.design.rochet_net"),
    **dict.fromkeys(["RegretNetConfig", "train_regret_net", "regret_estimate"], "coopsim.design.regret_net"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'coopsim.design' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
