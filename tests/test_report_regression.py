"""Regression pins for the report cards and the information LP: the numbers each card computes and
the LP's matrices and solutions, for fixed seeds, must not change when the code is restructured.

Each pin is a SHA-256 digest over every numeric leaf of a card's ``data`` (key path and value to 12
significant digits; strings are left out, so renaming a table column or a note does not break it),
or over an LP's arrays, plus a few readable numbers. The digests were taken from the code before the
report cards and ``build_lp``/``uncorrelated_mechanism`` were split into named steps. If a change is
meant to alter a card's numbers, recompute the digest with :func:`numeric_digest` and say why in the
commit.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from coopsim.mechanisms.information import instance_a, instance_b, random_model
from coopsim.mechanisms.information.lp import build_lp, optimal_mechanism, uncorrelated_mechanism

import coopsim.report as report


def _leaves(x: Any, path: str = ""):
    """(path, text) for every numeric or boolean leaf of nested dicts, lists and arrays, in order."""
    if isinstance(x, Mapping):
        for k, v in x.items():
            yield from _leaves(v, f"{path}/{k}")
    elif isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim > 0):
        for i, v in enumerate(x):
            yield from _leaves(v, f"{path}[{i}]")
    elif isinstance(x, (bool, np.bool_)):
        yield path, str(bool(x))
    elif isinstance(x, (int, float, np.integer, np.floating)):
        yield path, f"{float(x):.12g}"
    elif x is None:
        yield path, "None"


def numeric_digest(x: Any) -> str:
    """SHA-256 (first 16 hex digits) of the numeric leaves of ``x`` (see the module docstring)."""
    h = hashlib.sha256()
    for p, v in _leaves(x):
        h.update(f"{p}={v};".encode())
    return h.hexdigest()[:16]


OPTS = {
    "facility": dict(profiles=24, grid=21, seed=3, ratio_ns=(2, 3)),
    "auctions": dict(profiles=16, grid=11, seed=1, ratio_ns=(2, 3)),
    "scoring": dict(profiles=16, grid=16, seed=2),
    "budget": dict(profiles=24, grid=12, seed=4),
    "gates": dict(profiles=128, seed=5),
}

# (family, mechanism, params) -> digest of the full card's data
CARDS = {
    ("facility", "median", ()): "92640229c6913897",
    ("facility", "average", ()): "c58e0d6b72460254",
    ("facility", "generalized_median", (("phantoms", (0.2, 0.5, 0.8)),)): "1c8a729882bef774",
    ("auctions", "gsp", ()): "3670b13ac702cb6f",
    ("auctions", "gfp", ()): "22420ca54ee24831",
    ("auctions", "aigc_vcg", ()): "1225e6fa90e48500",
    ("scoring", "quadratic", ()): "67ca0df58d7523a1",
    ("scoring", "logarithmic", ()): "1510ef7badb2ad63",
    ("budget", "independent_markets", ()): "01a2edd737081311",
    ("budget", "piecewise_uniform", ()): "59c86fa89fb3b275",
    ("gates", "weakest_link_gate", ()): "1827fa22a02f2adc",
    ("gates", "capability_gate", ()): "aded318cddc2fbde",
}


def full_card(family: str, name: str, params: Mapping[str, Any]) -> report.Card:
    mech = report.build(name, params)
    card = report.FAMILIES[family]["report"](name, dict(params), mech, full=True, **OPTS[family])
    import matplotlib.pyplot as plt

    for fig in card.figures.values():
        plt.close(fig)
    return card


@pytest.mark.parametrize("key", list(CARDS), ids=lambda k: k[1])
def test_card_numbers_are_pinned(key):
    family, name, params = key
    card = full_card(family, name, {k: list(v) for k, v in params})
    assert numeric_digest(card.data) == CARDS[key]


def test_card_readable_pins():
    med = full_card("facility", "median", {})
    assert med.data["audit"]["max_gain"] == 0.0
    assert [r["found"] for r in med.data["ratios"]] == pytest.approx([1.0, 1.0, 2.0, 1.0, 1.0, 2.0], rel=1e-12)
    gfp = full_card("auctions", "gfp", {})
    assert gfp.data["audit"]["max_gain"] == pytest.approx(0.6919834496802622, rel=1e-12)
    assert gfp.data["audit"]["witness"]["agent"] == 2
    wl = full_card("gates", "weakest_link_gate", {})
    assert all(c["holds"] for c in wl.data["checks"].values())
    ms = wl.data["checks"]["monotonic_safety_counterexample"]
    assert (ms["before"], ms["after"]) == pytest.approx((0.9, 0.6), abs=1e-12)
    assert ms["after_default"] == pytest.approx(0.8940594059405941, rel=1e-12)
    times = [r["expected_time_to_audit"] for r in wl.data["tiers"]]
    assert times[0] == np.inf and times[1:] == pytest.approx(
        [17.735619808168572, 12.548817595469217, 8.884452645348576, 6.2979820028608815, 4.475668270640234], rel=1e-12
    )


MODELS = {
    "A": lambda: instance_a(),
    "B": lambda: instance_b(),
    "r0": lambda: random_model(np.random.default_rng(0), n_agents=2, n_actions=2, n_signals=2),
    "r2": lambda: random_model(np.random.default_rng(2), n_agents=2, n_actions=2, n_signals=3, product=False),
}
LP_OPTIONS = {
    "plain": dict(),
    "cap_ir": dict(cap=2.0, require_ir=True),
    "margins": dict(cap=3.0, eps=0.01, margin=0.02, payment_margin=0.1),
    "per_profile": dict(ic_mode="per_profile", cap=2.0, payment_margin=0.1, margin=0.01, require_ir=True),
}


def lp_arrays(lp) -> dict[str, Any]:
    return {
        "c": lp.c,
        "A_ub": [lp.A_ub.data, lp.A_ub.indices, lp.A_ub.indptr, lp.A_ub.shape],
        "b_ub": lp.b_ub,
        "A_eq": [lp.A_eq.data, lp.A_eq.indices, lp.A_eq.indptr],
        "bounds": np.where(np.isinf(lp.bounds), np.sign(lp.bounds) * 1e300, lp.bounds),
        "layout": [lp.n_phi, lp.y_offsets, lp.w_offsets, lp.n_ic_rows],
    }


LP_PINS = {
    ("A", "plain"): "4764903c8f582909",
    ("A", "cap_ir"): "afa7b843a7a31341",
    ("A", "margins"): "9304e5065fe3dfc9",
    ("A", "per_profile"): "9cb7a24d29bb597d",
    ("B", "plain"): "8e4c54c03b559340",
    ("B", "cap_ir"): "60bac0261058fcd7",
    ("B", "margins"): "bb2e4f7d845c1b54",
    ("B", "per_profile"): "c3c16d2faef0962d",
    ("r0", "plain"): "7fe43c8b979d7012",
    ("r0", "cap_ir"): "9c025746dcddd398",
    ("r0", "margins"): "28f6d1e3c6a50524",
    ("r0", "per_profile"): "cac7ab3303f02b5e",
    ("r2", "plain"): "cad37378fc7db103",
    ("r2", "cap_ir"): "b2d0ed56deaf16c0",
    ("r2", "margins"): "96f3ab8e2464938e",
    ("r2", "per_profile"): "5f8df668fcb25c08",
}


@pytest.mark.parametrize("key", list(LP_PINS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_lp_matrices_are_pinned(key):
    model = MODELS[key[0]]()
    opts = dict(LP_OPTIONS[key[1]])
    lp = build_lp(model, opts.pop("cap", None), **opts)
    assert numeric_digest(lp_arrays(lp)) == LP_PINS[key]


def test_lp_solutions_are_pinned():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = optimal_mechanism(instance_a())
        b = optimal_mechanism(instance_b(), 2.0, ic_mode="per_profile")
        u = uncorrelated_mechanism(instance_b(), 2.0, grid=3)
        u_own = uncorrelated_mechanism(MODELS["r0"](), None, grid=2, payments="own_rec", eps=0.01)
    assert a.value == pytest.approx(8 / 15, abs=1e-9)  # the stated optimum of instance A at c = 0.1
    assert b.value == pytest.approx(0.5333333333333334, rel=1e-9)
    assert u.value == pytest.approx(0.5333333333333334, rel=1e-9)
    assert u.recommendation.ravel().tolist() == pytest.approx([0.0, 0.0, 1.0, 0.0], abs=1e-12)
    assert u_own.value == pytest.approx(0.5560298077144892, rel=1e-9)
    assert (a.status, b.status, u.status, u_own.status) == ("optimal", "optimal", "optimal", "optimal")
