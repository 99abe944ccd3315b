"""Deterministic position-auction cases shared by the regression test and its reference generator.

Every separable mechanism (GSP, VCG, GFP, first and second price, Myerson) over bidder/slot counts,
reserves, tie rules, ranking keys, slot limits, factor or matrix CTRs, with many ties and some
zero-quality bidders. The reference outputs in ``tests/data/auctions_reference.npz`` were produced
by the implementation before the separable kernel was unified (first ``ROWS`` auctions of each case).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from coopsim import mechanisms as M

B, ROWS = 64, 8
FIELDS = ("assignment", "click_prob", "payment", "price")


def cases() -> Iterator[tuple[int, str, dict[str, Any], Any]]:
    """``(case id, mechanism name, kwargs, result or exception type)`` in a fixed order."""
    rng = np.random.default_rng(0)
    case = 0
    for n, m in [(1, 1), (2, 1), (3, 1), (3, 2), (5, 3), (6, 6), (4, 7)]:
        for name in ["gsp", "vcg", "gfp", "first_price", "second_price", "myerson"]:
            for reserve in [0.0, 0.3] if name != "myerson" else [None]:
                for tie in ["index", "share", "random"] if name != "myerson" else [None]:
                    for rank_by in ["score", "bid"] if name in ("gsp", "gfp") else [None]:
                        for max_slots in [None, 1, 2]:
                            for use_ctr in [False, True]:
                                kw: dict[str, Any] = {}
                                if reserve is not None:
                                    kw["reserve"] = reserve
                                if tie is not None:
                                    kw["tie_break"] = tie
                                if rank_by is not None:
                                    kw["rank_by"] = rank_by
                                if name == "myerson":
                                    kw["max_ads"] = max_slots
                                elif max_slots is not None:
                                    kw["max_slots"] = max_slots
                                try:
                                    mech = M.get(name, **kw)
                                except Exception:  # noqa: BLE001  (a combination the mechanism refuses)
                                    continue
                                bids = np.round(rng.random((B, n)) * 4) / 4  # many ties
                                q = rng.random((B, n)) * 0.9 + 0.1
                                q[:, 0] = np.where(rng.random(B) < 0.2, 0.0, q[:, 0])
                                a = np.sort(rng.random((B, m)))[:, ::-1] if rng.random() < 0.5 else rng.random((B, m))
                                call = {"rng": np.random.default_rng(1)} if name != "myerson" else {}
                                try:
                                    if use_ctr:
                                        res = mech(bids, q[:, :, None] * a[:, None, :], **call)
                                    else:
                                        res = mech(bids, quality=q, position=a, **call)
                                except Exception as err:  # noqa: BLE001
                                    res = type(err)
                                yield case, name, kw, res
                                case += 1
