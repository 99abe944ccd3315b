"""Boundary checks shared by the game modules: keyword dicts, outcomes and mechanism parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coopsim.core.game import Outcome
from coopsim.core.registry import check_parameters
from coopsim.core.validation import ParameterError, ParameterTypeError


def check_params(value: Any, name: str) -> dict[str, Any]:
    """A copy of the keyword dict ``value`` (``None`` for none); anything else is refused naming ``name``."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ParameterTypeError(name, f"{name}: expected a dict of keyword arguments, got {value!r}")
    return dict(value)


def check_outcome(outcome: Any, batch: int, name: str = "outcome") -> Outcome:
    """``outcome`` if it is an :class:`Outcome` of ``batch`` copies (what ``play`` returned for the types)."""
    if not isinstance(outcome, Outcome):
        raise ParameterTypeError(name, f"{name}: expected the Outcome returned by play, got {type(outcome).__name__}")
    if outcome.utility.shape[0] != batch:
        raise ParameterError(
            name, f"{name}: expected an outcome of {batch} copies (as types), got {outcome.utility.shape[0]}"
        )
    return outcome


def check_mechanism_params(factory: Callable[..., Any], params: dict[str, Any], what: str) -> None:
    """Refuse ``params`` that ``factory`` cannot take (an unknown or missing keyword), naming ``mechanism_params``."""
    try:
        check_parameters(factory, params, what)
    except TypeError as err:
        raise ParameterTypeError("mechanism_params", f"mechanism_params: {err}") from None
