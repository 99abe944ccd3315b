"""What every unit-function module shares: the output type and the one-point result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: a unit function's result: ``{metric: (R,) array, optional "round": (R,) int64}``
Out = dict[str, np.ndarray]


def one(values: Mapping[str, Any], round_: int = 0) -> Out:
    """One recorded point: ``{"round": [round_], metric: [value], ...}``."""
    out: Out = {"round": np.array([round_], dtype=np.int64)}
    out.update({k: np.array([float(v)], dtype=np.float64) for k, v in values.items()})
    return out


def standard_error(x: Any, axis: int | None = None) -> Any:
    """Standard error of the mean of ``x`` over ``axis`` (all entries when ``None``): ``std(ddof=1) / sqrt(n)``;
    ``nan`` for fewer than two entries."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size if axis is None else x.shape[axis]
    if n < 2:
        return np.full(() if axis is None else np.delete(x.shape, axis), np.nan)[()]
    return x.std(axis=axis, ddof=1) / np.sqrt(n)
