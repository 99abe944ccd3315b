"""Harness of the bad-input fuzz suite: every bad input is refused, by name, in time.

A :class:`Case` is one public entry point, the parameter it feeds a bad value, and the kind of
badness (``nan``, ``out_of_range``, ``bool_array``, ``bad_flag`` ...). Its ``call`` draws the bad
value from hypothesis (``data.draw(...)``) and makes the call. :func:`check_refused` runs it under
a hard per-case time limit and asserts the outcome the library promises for bad input:

- a ``ValueError`` or ``TypeError`` (``ParameterError``/``ParameterTypeError`` are both);
- whose ``.param`` is the parameter, or whose message names it as a word;
- never silently accepted, never a hang (``SIGALRM`` after ``seconds``), never an unnamed
  ``MemoryError`` (the size guard must refuse first).

The family modules (``tests/test_fuzz_*.py``) each define ``CASES`` and one parametrised
hypothesis test over them; ``tests/test_fuzz_count.py`` checks that the suite holds at least 300
distinct cases. Strategies for the usual kinds of bad values are below, one home for them all.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: hypothesis settings of every fuzz test: a few draws per case (300+ cases), no deadline (the
#: hard limit below is the deadline), no health check on slow constructors. The draws are fixed
#: (CI sees the same values every run); ``COOPSIM_FUZZ_RANDOM=1`` draws fresh ones, to hunt for more.
FUZZ_SETTINGS = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    derandomize=os.environ.get("COOPSIM_FUZZ_RANDOM") is None,
)

#: seconds one bad call may take before it counts as a hang
CASE_SECONDS = 10.0


class CaseTimeout(Exception):
    """Raised by the alarm when a case runs past its time limit (a hang)."""


@dataclass(frozen=True)
class Case:
    """One bad input: ``call(data)`` draws the bad value and calls ``entry`` with it."""

    entry: str
    param: str
    kind: str
    call: Callable[[st.DataObject], Any]

    @property
    def id(self) -> str:
        return f"{self.entry}:{self.param}:{self.kind}"


def refusal_test(cases: Sequence[Case]) -> Callable[..., None]:
    """The test of a family module: each case in ``cases`` (one parametrisation per id) is drawn by
    hypothesis and must be refused (:func:`check_refused`). Use as
    ``test_bad_input_refused = refusal_test(CASES)``."""

    @pytest.mark.parametrize("case", list(cases), ids=case_ids(cases))
    @FUZZ_SETTINGS
    @given(data=st.data())
    def test_bad_input_refused(case: Case, data: st.DataObject) -> None:
        check_refused(case, data)

    return test_bad_input_refused


def case_ids(cases: Sequence[Case]) -> list[str]:
    """The pytest ids of ``cases`` (their ``id``), checking that none repeats."""
    ids = [c.id for c in cases]
    dup = {i for i in ids if ids.count(i) > 1}
    assert not dup, f"duplicate fuzz case ids: {sorted(dup)}"
    return ids


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the main thread after ``seconds`` (SIGALRM, POSIX)."""

    def _alarm(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def names_param(err: BaseException, param: str) -> bool:
    """Whether ``err`` names ``param``: its ``.param`` attribute, or the name as a word of the message."""
    if getattr(err, "param", None) == param:
        return True
    return re.search(rf"(?<![\w.]){re.escape(param)}(?!\w)", str(err)) is not None


def check_refused(case: Case, data: st.DataObject, seconds: float = CASE_SECONDS) -> BaseException:
    """Run ``case`` and assert it is refused with a ValueError/TypeError naming ``case.param``."""
    try:
        with time_limit(seconds):
            case.call(data)
    except CaseTimeout as err:
        raise AssertionError(f"{case.id}: hang ({err})") from None
    except MemoryError as err:
        raise AssertionError(f"{case.id}: unnamed MemoryError ({err})") from None
    except (ValueError, TypeError) as err:
        assert names_param(err, case.param), f"{case.id}: the error does not name {case.param!r}: {err}"
        return err
    raise AssertionError(f"{case.id}: silently accepted")


# -- strategies for bad values -------------------------------------------------------------------


def non_finite() -> st.SearchStrategy[float]:
    """NaN, +inf or -inf."""
    return st.sampled_from([float("nan"), float("inf"), float("-inf")])


def above(hi: float, *, strict: bool = True) -> st.SearchStrategy[float]:
    """A finite float above ``hi`` (``>= hi`` when not strict)."""
    return st.floats(min_value=hi, max_value=max(1e9, hi * 1e3), exclude_min=strict, allow_nan=False)


def below(lo: float, *, strict: bool = True) -> st.SearchStrategy[float]:
    """A finite float below ``lo``."""
    return st.floats(min_value=min(-1e9, lo * 1e3), max_value=lo, exclude_max=strict, allow_nan=False)


def fractional() -> st.SearchStrategy[float]:
    """A float with a fractional part (where an integer is meant)."""
    return st.integers(-50, 50).map(lambda k: k + 0.5)


def not_a_number(*, allow_none: bool = True) -> st.SearchStrategy[Any]:
    """A scalar that is not a real number: a bool, a string, a complex number, None or an object
    (``allow_none=False``: not None, for parameters where None is a valid "unset")."""
    values = [True, False, "0.5", "abc", 1 + 2j, None, object(), b"1"]
    return st.sampled_from([v for v in values if allow_none or v is not None])


def bad_flag() -> st.SearchStrategy[Any]:
    """A value that is not True/False although it might look like one."""
    return st.sampled_from(["yes", "no", "true", "false", "False", 1, 0, 1.0, None, [True]])


def bad_name() -> st.SearchStrategy[str]:
    """A string that is no registered name or option."""
    return st.text(alphabet="qxzjkv_", min_size=3, max_size=12).map(lambda s: "zz" + s)


def huge_count() -> st.SearchStrategy[int]:
    """A count so large that its arrays cannot fit any memory budget."""
    return st.integers(10**12, 10**15)


def with_entry(base: np.ndarray, value: Any, data: st.DataObject) -> np.ndarray:
    """A copy of ``base`` with one drawn entry set to ``value`` (the rest stay valid)."""
    out = np.array(base, dtype=float, copy=True)
    flat = data.draw(st.integers(0, out.size - 1), label="index")
    out.flat[flat] = value
    return out


def as_dtype(base: np.ndarray, kind: str) -> np.ndarray:
    """``base`` recast as a dtype that is not a real number: ``bool``, ``str``, ``complex`` or ``object``."""
    if kind == "bool":
        return np.asarray(base) > np.median(base)
    if kind == "str":
        return np.asarray(base).astype(str)
    if kind == "complex":
        return np.asarray(base) + 1j
    if kind == "object":
        out = np.empty(np.shape(base), dtype=object)
        out[...] = None
        return out
    raise KeyError(kind)


def wrong_shape(shape: tuple[int, ...], data: st.DataObject) -> tuple[int, ...]:
    """A shape differing from ``shape`` that does not broadcast to it: one axis changed, an axis dropped
    or one added (a drawn shape that would broadcast becomes ``(*shape, 2)``)."""
    how = data.draw(st.sampled_from(["grow", "shrink", "drop", "add"]), label="how")
    dims = list(shape)
    if how in ("grow", "shrink") and dims:
        axis = data.draw(st.integers(0, len(dims) - 1), label="axis")
        dims[axis] = dims[axis] + 1 if how == "grow" or dims[axis] <= 1 else dims[axis] - 1
    elif how == "drop" and len(dims) > 1:
        dims.pop(0)
    else:
        dims.append(2)
    try:
        fits = np.broadcast_shapes(tuple(dims), shape) == shape
    except ValueError:
        fits = False
    if fits:  # a shape that broadcasts to ``shape`` may be valid input (e.g. a dropped leading axis)
        dims = [*shape, 2]
    return tuple(dims)


def array_cases(
    entry: str,
    param: str,
    make: Callable[[Any], Any],
    base: np.ndarray,
    *,
    lo: float | None = None,
    hi: float | None = None,
    integer: bool = False,
    shape: bool = True,
    dtypes: Sequence[str] = ("bool", "str", "complex", "object"),
) -> list[Case]:
    """The standard bad-array cases of one array parameter.

    ``make(value)`` calls the entry point with ``value`` in place of the valid array ``base``.
    Kinds: a NaN/inf entry, an entry below ``lo`` / above ``hi``, a fractional entry (``integer``),
    a wrong shape, and each non-numeric dtype in ``dtypes``.
    """

    def entry_case(kind: str, value: Callable[[st.DataObject], Any]) -> Case:
        return Case(entry, param, kind, lambda data: make(with_entry(base, value(data), data)))

    cases = [entry_case("non_finite", lambda d: d.draw(non_finite(), label="value"))]
    if lo is not None:
        cases.append(entry_case("below_range", lambda d: d.draw(below(lo), label="value")))
    if hi is not None:
        cases.append(entry_case("above_range", lambda d: d.draw(above(hi), label="value")))
    if integer:
        cases.append(entry_case("fractional", lambda d: d.draw(fractional(), label="value")))
    if shape:
        cases.append(
            Case(entry, param, "wrong_shape", lambda d: make(np.resize(np.asarray(base), wrong_shape(base.shape, d))))
        )
    for kind in dtypes:
        cases.append(Case(entry, param, f"{kind}_dtype", lambda d, k=kind: make(as_dtype(base, k))))
    return cases


def scalar_cases(
    entry: str,
    param: str,
    make: Callable[[Any], Any],
    *,
    lo: float | None = None,
    hi: float | None = None,
    integer: bool = False,
    size: bool = False,
    optional: bool = False,
) -> list[Case]:
    """The standard bad-scalar cases of one numeric parameter (``size``: also an astronomically large
    count; ``optional``: None is valid there, so the non-numbers drawn exclude it)."""
    cases = [
        Case(entry, param, "non_finite", lambda d: make(d.draw(non_finite(), label="value"))),
        Case(
            entry,
            param,
            "not_a_number",
            lambda d: make(d.draw(not_a_number(allow_none=not optional), label="value")),
        ),
    ]
    if lo is not None:
        cases.append(Case(entry, param, "below_range", lambda d: make(d.draw(below(lo), label="value"))))
    if hi is not None:
        cases.append(Case(entry, param, "above_range", lambda d: make(d.draw(above(hi), label="value"))))
    if integer:
        cases.append(Case(entry, param, "fractional", lambda d: make(d.draw(fractional(), label="value"))))
    if size:
        cases.append(Case(entry, param, "huge", lambda d: make(d.draw(huge_count(), label="value"))))
    return cases


def flag_case(entry: str, param: str, make: Callable[[Any], Any]) -> Case:
    """A flag given a truthy or falsy non-boolean."""
    return Case(entry, param, "bad_flag", lambda d: make(d.draw(bad_flag(), label="value")))


def choice_case(entry: str, param: str, make: Callable[[Any], Any]) -> Case:
    """An option given a name outside its fixed set."""
    return Case(entry, param, "unknown_choice", lambda d: make(d.draw(bad_name(), label="value")))


#: memory budget of :func:`small_budget` (bytes): far below any real machine, so a size-guard case
#: can use modest arrays and still stay small when the library lacks the guard
SMALL_BUDGET = 2**20


def small_budget(fn: Callable[..., Any], *args: Any, nbytes: int = SMALL_BUDGET, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` under a memory budget of ``nbytes`` (the previous budget is restored).

    For size-guard cases: the call must be refused by ``check_size`` naming the parameter, while
    the arrays handed in stay small (a library without the guard then allocates megabytes, not
    gigabytes, before the case fails as silently accepted).
    """
    from coopsim.core.validation import set_memory_budget

    previous = set_memory_budget(nbytes)
    try:
        return fn(*args, **kwargs)
    finally:
        set_memory_budget(previous)
