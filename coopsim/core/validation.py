"""Input validation shared by every layer.

Each helper raises ``ValueError`` or ``TypeError`` whose message names the parameter, what was
expected and what came, e.g. ``reports: expected values in [0, 1], got 1.3 at index (0, 2)``.
Nothing is clipped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def _where(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)[0]
    return str(tuple(int(i) for i in idx)) if idx.size else "()"


def as_array(
    value: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    dtype: type = np.float64,
    lo: float | None = None,
    hi: float | None = None,
    allow_nan: bool = False,
) -> np.ndarray:
    """Convert ``value`` to an array of ``dtype`` and check its rank, finiteness and range.

    ``lo``/``hi`` are inclusive bounds. Raises ``TypeError`` for non-numeric input and
    ``ValueError`` naming ``name`` for a wrong rank, NaN/inf, or a value out of range.
    """
    try:
        arr: np.ndarray = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name}: expected a numeric array, got {type(value).__name__} ({err})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ValueError(f"{name}: expected an array with {want} dimension(s), got shape {arr.shape}")
    if arr.dtype == np.float64 and arr.size and not allow_nan and lo is not None and hi is not None:
        # fast path (one min and one max): finite bounds reject inf, and NaN fails both comparisons;
        # anything else falls through to the checks below, which name the offending entry
        if np.isfinite(lo) and np.isfinite(hi) and lo <= arr.min() and arr.max() <= hi:
            return arr
    if np.issubdtype(arr.dtype, np.floating) and not allow_nan:
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"{name}: expected finite values, got {arr[bad].flat[0]} at index {_where(bad)}")
    if lo is not None:
        bad = arr < lo
        if bad.any():
            raise ValueError(f"{name}: expected values >= {lo}, got {arr[bad].flat[0]} at index {_where(bad)}")
    if hi is not None:
        bad = arr > hi
        if bad.any():
            raise ValueError(f"{name}: expected values <= {hi}, got {arr[bad].flat[0]} at index {_where(bad)}")
    return arr


def check_shape(arr: np.ndarray, name: str, shape: tuple[int | None, ...]) -> None:
    """Check ``arr.shape`` against ``shape`` (``None`` entries match any length)."""
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
    if not ok:
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {arr.shape}")


def check_int(value: Any, name: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking type and inclusive range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    number = int(value)
    if lo is not None and number < lo:
        raise ValueError(f"{name}: expected an integer >= {lo}, got {number}")
    if hi is not None and number > hi:
        raise ValueError(f"{name}: expected an integer <= {hi}, got {number}")
    return number


def check_action_indices(actions: Any, batch: int, n_agents: int, n_actions: Any, name: str = "actions") -> np.ndarray:
    """Discrete actions as a ``(batch, n_agents)`` int64 array.

    Accepts ``(B, N)`` or ``(B, N, 1)`` arrays of integers (or of integral finite floats); agent i's
    index must lie in ``[0, n_actions[i])`` (``n_actions`` an int shared by all agents or ``(N,)``).
    Errors name ``name``, the expected shape or range and the offending agent.
    """
    arr = np.asarray(actions)
    if arr.shape == (batch, n_agents, 1):
        arr = arr[..., 0]
    if arr.shape != (batch, n_agents):
        raise ValueError(f"{name}: expected integer action indices of shape ({batch}, {n_agents}), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name}: expected integer action indices, got dtype {arr.dtype}")
    hi = np.broadcast_to(np.asarray(n_actions, dtype=np.int64), (n_agents,))
    bad = (arr < 0) | (arr >= hi[None, :])
    if bad.any():
        b, i = np.argwhere(bad)[0]
        raise ValueError(f"{name}: expected agent {i}'s action in [0, {hi[i] - 1}], got {arr[b, i]}")
    return arr.astype(np.int64, copy=False)


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` as a ``bool``; only ``True``/``False`` (or NumPy booleans) are accepted, so a
    config string such as ``"false"`` is an error rather than a silently true flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_float(
    value: Any,
    name: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` in the given range (closed unless ``*_open``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: expected a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name}: expected a finite number, got {number}")
    if lo is not None and (number <= lo if lo_open else number < lo):
        raise ValueError(f"{name}: expected a number {'>' if lo_open else '>='} {lo}, got {number}")
    if hi is not None and (number >= hi if hi_open else number > hi):
        raise ValueError(f"{name}: expected a number {'<' if hi_open else '<='} {hi}, got {number}")
    return number


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")
    return value


def check_distribution(p: Any, name: str, *, axis: int = -1, atol: float = 1e-9) -> np.ndarray:
    """Check that ``p`` holds probabilities (non-negative, finite) summing to 1 along ``axis``."""
    arr = as_array(p, name, lo=0.0)
    total = arr.sum(axis=axis)
    bad = np.abs(total - 1.0) > atol
    if np.any(bad):
        raise ValueError(
            f"{name}: expected probabilities summing to 1 along axis {axis}, "
            f"got sum {np.asarray(total)[bad].flat[0]!r} at index {_where(np.atleast_1d(bad))}"
        )
    return arr
