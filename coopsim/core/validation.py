"""Input validation shared by every layer.

Each helper raises ``ValueError`` or ``TypeError`` whose message names the parameter, what was
expected and what came, e.g. ``reports: expected values in [0, 1], got 1.3 at index (0, 2)``.
Nothing is clipped silently.

The errors are :class:`ParameterError` (a ``ValueError``) and :class:`ParameterTypeError` (a
``TypeError``), which also carry the parameter's name as ``.param``, so callers such as the spec
validator can point at the right key without reading the message.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np


class ParameterError(ValueError):
    """A ``ValueError`` about one parameter; ``param`` is its name (as the message starts with)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class ParameterTypeError(TypeError):
    """A ``TypeError`` about one parameter; ``param`` is its name (as the message starts with)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def _where(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)[0]
    return str(tuple(int(i) for i in idx)) if idx.size else "()"


#: dtype kinds that are not numbers, refused wherever a number is expected
_NON_NUMERIC = {
    "b": "booleans",
    "U": "strings",
    "S": "bytes",
    "O": "Python objects",
    "c": "complex numbers",
    "V": "raw records",
    "M": "datetimes",
    "m": "timedeltas",
}


def _compact(arr: np.ndarray) -> np.ndarray:
    """The distinct memory of ``arr``: a view with every zero-stride (broadcast) axis cut to length 1.

    A ``(1e9, 3)`` view of a ``(3,)`` array is checked through its ``(1, 3)`` compact view, so
    validation costs O(stored entries), not O(broadcast size), and copies nothing.
    """
    if arr.ndim == 0 or all(s != 0 for s in arr.strides):
        return arr
    return arr[tuple(slice(0, 1) if st == 0 and n > 1 else slice(None) for st, n in zip(arr.strides, arr.shape))]


def _raw_array(value: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged nested lists, objects NumPy cannot read
        raise ParameterTypeError(
            name, f"{name}: expected a numeric array, got {type(value).__name__} ({err})"
        ) from None


def _converted(raw: np.ndarray, name: str, dtype: Any) -> np.ndarray:
    """``raw`` as ``dtype`` with no silent change of value: booleans, strings, objects and complex
    numbers are refused as numbers, and fractional or non-finite values as integers."""
    want = np.dtype(dtype)
    kind = raw.dtype.kind
    if want.kind == "b":
        if kind == "b":
            return raw
        if kind in "iu":
            c = _compact(raw)
            if not ((c != 0) & (c != 1)).any():  # 0/1 integers read as flags
                return raw.astype(bool)
        raise ParameterTypeError(name, f"{name}: expected booleans (True/False), got dtype {raw.dtype}")
    if kind in _NON_NUMERIC:
        shown = repr(raw.flat[0].item() if hasattr(raw.flat[0], "item") else raw.flat[0]) if raw.size else "empty"
        raise ParameterTypeError(
            name, f"{name}: expected a numeric array, got {_NON_NUMERIC[kind]} (dtype {raw.dtype}, e.g. {shown})"
        )
    if want.kind in "iu" and kind == "f":
        c = _compact(raw)
        bad = ~np.isfinite(c) | (c != np.round(c))
        if bad.any():
            raise ParameterError(name, f"{name}: expected integers, got {c[bad].flat[0]} at index {_where(bad)}")
    if raw.dtype == want:
        return raw
    if raw.ndim and any(st == 0 for st in raw.strides):
        # a broadcast view: convert its distinct entries only, then broadcast back (no huge copy)
        return np.broadcast_to(_compact(raw).astype(want), raw.shape)
    return raw.astype(want)


def as_array(
    value: Any,
    name: str,
    *,
    ndim: int | Iterable[int] | None = None,
    dtype: Any = np.float64,
    lo: float | None = None,
    hi: float | None = None,
    allow_nan: bool = False,
) -> np.ndarray:
    """Convert ``value`` to an array of ``dtype`` and check its rank, finiteness and range.

    Strict about what counts as a number: booleans, strings, bytes, Python objects and complex
    numbers raise ``TypeError`` (NumPy would read ``True`` as 1.0 and drop an imaginary part);
    for an integer ``dtype`` a fractional float such as 1.7 raises instead of truncating; for
    ``dtype=bool`` only booleans (or 0/1 integers) pass. ``lo``/``hi`` are inclusive bounds.
    A wrong rank, NaN/inf or a value out of range raises ``ValueError``. Every message starts
    with ``name``. Cost: O(stored entries) -- a broadcast view is checked through its distinct
    memory (see :func:`_compact`) and not copied.
    """
    raw = _raw_array(value, name)
    arr = _converted(raw, name, dtype)  # what the entries are (a TypeError) before how many (a ValueError)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ParameterError(name, f"{name}: expected an array with {want} dimension(s), got shape {arr.shape}")
    if arr.dtype.kind == "b":
        return arr
    chk = _compact(arr)
    if chk.dtype == np.float64 and chk.size and not allow_nan and lo is not None and hi is not None:
        # fast path (one min and one max): finite bounds reject inf, and NaN fails both comparisons;
        # anything else falls through to the checks below, which name the offending entry
        if np.isfinite(lo) and np.isfinite(hi) and lo <= chk.min() and chk.max() <= hi:
            return arr
    if np.issubdtype(chk.dtype, np.floating) and not allow_nan:
        bad = ~np.isfinite(chk)
        if bad.any():
            raise ParameterError(name, f"{name}: expected finite values, got {chk[bad].flat[0]} at index {_where(bad)}")
    if lo is not None:
        bad = chk < lo
        if bad.any():
            raise ParameterError(
                name, f"{name}: expected values >= {lo}, got {chk[bad].flat[0]} at index {_where(bad)}"
            )
    if hi is not None:
        bad = chk > hi
        if bad.any():
            raise ParameterError(
                name, f"{name}: expected values <= {hi}, got {chk[bad].flat[0]} at index {_where(bad)}"
            )
    return arr


def check_shape(arr: np.ndarray, name: str, shape: tuple[int | None, ...]) -> None:
    """Check ``arr.shape`` against ``shape`` (``None`` entries match any length)."""
    ok = arr.ndim == len(shape) and all(s is None or s == a for s, a in zip(shape, arr.shape))
    if not ok:
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ParameterError(name, f"{name}: expected shape {want}, got {arr.shape}")


def check_int(value: Any, name: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking type and inclusive range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterTypeError(name, f"{name}: expected an integer, got {value!r} ({type(value).__name__})")
    number = int(value)
    if lo is not None and number < lo:
        raise ParameterError(name, f"{name}: expected an integer >= {lo}, got {number}")
    if hi is not None and number > hi:
        raise ParameterError(name, f"{name}: expected an integer <= {hi}, got {number}")
    return number


def check_action_indices(actions: Any, batch: int, n_agents: int, n_actions: Any, name: str = "actions") -> np.ndarray:
    """Discrete actions as a ``(batch, n_agents)`` int64 array.

    Accepts ``(B, N)`` or ``(B, N, 1)`` arrays of integers (or of integral finite floats); agent i's
    index must lie in ``[0, n_actions[i])`` (``n_actions`` an int shared by all agents or ``(N,)``).
    Errors name ``name``, the expected shape or range and the offending agent.
    """
    arr = _raw_array(actions, name)
    if arr.dtype.kind in _NON_NUMERIC:
        raise ParameterTypeError(
            name, f"{name}: expected integer action indices, got {_NON_NUMERIC[arr.dtype.kind]} (dtype {arr.dtype})"
        )
    if arr.shape == (batch, n_agents, 1):
        arr = arr[..., 0]
    if arr.shape != (batch, n_agents):
        raise ParameterError(
            name, f"{name}: expected integer action indices of shape ({batch}, {n_agents}), got {arr.shape}"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ParameterTypeError(name, f"{name}: expected integer action indices, got dtype {arr.dtype}")
    hi = np.broadcast_to(np.asarray(n_actions, dtype=np.int64), (n_agents,))
    bad = (arr < 0) | (arr >= hi[None, :])
    if bad.any():
        b, i = np.argwhere(bad)[0]
        raise ParameterError(name, f"{name}: expected agent {i}'s action in [0, {hi[i] - 1}], got {arr[b, i]}")
    return arr.astype(np.int64, copy=False)


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` as a ``bool``; only ``True``/``False`` (or NumPy booleans) are accepted, so a
    config string such as ``"false"`` is an error rather than a silently true flag."""
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterTypeError(name, f"{name}: expected True or False, got {value!r} ({type(value).__name__})")
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
        raise ParameterTypeError(name, f"{name}: expected a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not np.isfinite(number):
        raise ParameterError(name, f"{name}: expected a finite number, got {number}")
    if lo is not None and (number <= lo if lo_open else number < lo):
        raise ParameterError(name, f"{name}: expected a number {'>' if lo_open else '>='} {lo}, got {number}")
    if hi is not None and (number >= hi if hi_open else number > hi):
        raise ParameterError(name, f"{name}: expected a number {'<' if hi_open else '<='} {hi}, got {number}")
    return number


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them."""
    choices = tuple(choices)
    try:
        known = any(
            value is c or (isinstance(value, bool) == isinstance(c, bool) and bool(value == c)) for c in choices
        )
    except (TypeError, ValueError):  # e.g. an array compared with a string
        known = False
    if not known:
        raise ParameterError(name, f"{name}: expected one of {list(choices)}, got {value!r}")
    return value


def check_distribution(p: Any, name: str, *, axis: int = -1, atol: float = 1e-9) -> np.ndarray:
    """Check that ``p`` holds probabilities (non-negative, finite) summing to 1 along ``axis``."""
    arr = as_array(p, name, lo=0.0)
    total = arr.sum(axis=axis)
    bad = np.abs(total - 1.0) > atol
    if np.any(bad):
        raise ParameterError(
            name,
            f"{name}: expected probabilities summing to 1 along axis {axis}, "
            f"got sum {np.asarray(total)[bad].flat[0]!r} at index {_where(np.atleast_1d(bad))}",
        )
    return arr


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator`` (an int seed or ``RandomState`` is an
    error: functions that sample take a Generator, so that one stream is threaded through)."""
    if not isinstance(rng, np.random.Generator):
        raise ParameterTypeError(
            name,
            f"{name}: expected a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
            f"got {rng!r} ({type(rng).__name__})",
        )
    return rng


def check_family(mechanism: Any, family: str | Iterable[str], name: str = "mechanism") -> Any:
    """Return ``mechanism`` if its ``family`` class attribute is ``family`` (or one of them).

    Refused at construction, so that a game never meets a mechanism of another family later with
    a misleading error (a facility rule called with an auction's arguments). A plain callable
    with no ``family`` attribute is accepted (user-written mechanisms are duck-typed).
    """
    wanted = (family,) if isinstance(family, str) else tuple(family)
    got = getattr(mechanism, "family", None)
    if got is not None and got not in wanted:
        label = getattr(mechanism, "registry_name", None) or type(mechanism).__name__
        need = " or ".join(repr(f) for f in wanted)
        raise ParameterError(
            name, f"{name}: expected a mechanism of the {need} family, got {label!r} of the {got!r} family"
        )
    return mechanism


# -- the size guard -------------------------------------------------------------------------------

#: environment variable holding the memory budget (bytes, or a number with K/M/G/T suffix)
MEMORY_BUDGET_ENV = "COOPSIM_MEMORY_BUDGET"
_budget_override: int | None = None
_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _parse_bytes(value: Any, name: str) -> int:
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([KMGT]?)(?:I?B)?\s*", value.upper())
        if not m:
            raise ParameterError(name, f"{name}: expected bytes such as 8000000000, '8G' or '512MiB', got {value!r}")
        number = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        number = check_float(value, name, lo=0.0, lo_open=True)
    if number < 1:
        raise ParameterError(name, f"{name}: expected at least 1 byte, got {value!r}")
    return int(number)


@functools.cache  # the machine's memory does not change while it runs; sysconf per call showed in step profiles
def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a modest 8 GiB machine
        return 8 * 2**30


def memory_budget() -> int:
    """Bytes one call may allocate before :func:`check_size` refuses it.

    In order: the value given to :func:`set_memory_budget`; the ``COOPSIM_MEMORY_BUDGET``
    environment variable (``"8G"``, ``"512MiB"`` or plain bytes); half the machine's physical
    memory (``os.sysconf``).
    """
    if _budget_override is not None:
        return _budget_override
    env = os.environ.get(MEMORY_BUDGET_ENV)
    if env:
        return _parse_bytes(env, MEMORY_BUDGET_ENV)
    return _physical_memory() // 2


def set_memory_budget(nbytes: int | float | str | None) -> int | None:
    """Set the size guard's budget (bytes, or ``"4G"``-style); ``None`` restores the default.

    Returns the previous override (``None`` if there was none), so a caller can restore it.
    """
    global _budget_override
    previous = _budget_override
    _budget_override = None if nbytes is None else _parse_bytes(nbytes, "nbytes")
    return previous


def _human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"  # pragma: no cover


def check_size(name: str, *dims: int, itemsize: int = 8, copies: float = 1, what: str = "") -> int:
    """Refuse a call whose arrays would exceed the memory budget, before anything is allocated.

    The estimate is ``prod(dims) * itemsize * copies`` bytes (Python integers: no overflow),
    e.g. ``check_size("batch", B, N, K, what="(B, N, K) deviation utilities")``. Past
    :func:`memory_budget` it raises ``ValueError`` naming ``name`` -- the parameter the user can
    lower -- with the estimate and the budget; a named error instead of a ``MemoryError`` or the
    OOM killer. Returns the estimate in bytes.
    """
    count = 1
    for d in dims:
        count *= max(int(d), 0)
    nbytes = int(count * itemsize * copies)
    budget = memory_budget()
    if nbytes > budget:
        detail = f" for {what}" if what else ""
        raise ParameterError(
            name,
            f"{name}: this call would allocate about {_human(nbytes)}{detail}, over the memory budget of "
            f"{_human(budget)}; lower {name}, or raise the budget with coopsim.core.set_memory_budget(...) "
            f"or the {MEMORY_BUDGET_ENV} environment variable",
        )
    return nbytes


def check_sizes(
    dims: Mapping[str, int], *, extra: int = 1, itemsize: int = 8, copies: float = 1, what: str = ""
) -> int:
    """:func:`check_size` over named dimensions, naming the largest one when the budget is exceeded.

    ``check_sizes({"batch": B, "n_agents": N, "n_actions": K}, copies=4, what="(B, N, K) tables")``
    estimates ``B * N * K * extra * itemsize * copies`` bytes (``extra``: an unnamed factor, e.g. a
    second K) and, past the budget, raises naming the parameter with the largest value -- the one
    worth lowering. Returns the estimate in bytes.
    """
    if not dims:
        raise ValueError("dims: expected at least one named dimension")
    largest = max(dims, key=lambda k: int(dims[k]))
    return check_size(largest, *dims.values(), extra, itemsize=itemsize, copies=copies, what=what)
