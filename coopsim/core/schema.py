"""Declared parameter schemas: what a factory (an env's game, a mechanism, a learner) accepts.

The schema of a factory is its signature: parameter names, defaults, and the type annotations
it declares (``n_agents: int = 3``, ``reserve: float = 0.0``, ``tie_break: Literal["index",
"random"]``, ``max_slots: int | None = None``). Experiment specs are checked against it before
anything is built or run, so a misspelt or ill-typed key is reported by its key path.

Annotations that say nothing checkable (``Any``, classes, callables, arrays) accept any value; an
``int`` is a valid ``float`` (TOML writes ``1`` for ``1.0``); ``bool`` is never a number.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Declared", "declared_parameters", "type_problem"]

_EMPTY = inspect.Parameter.empty


@dataclass(frozen=True)
class Declared:
    """One declared parameter: its ``annotation`` (``None`` if undeclared), ``default`` and whether
    it is ``required`` (no default)."""

    annotation: Any
    default: Any
    required: bool


def declared_parameters(factory: Callable[..., Any]) -> tuple[dict[str, Declared], bool]:
    """``(parameters, accepts **kwargs)`` of ``factory`` (a class: its ``__init__``), with resolved
    annotations; unresolvable annotations count as undeclared."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return {}, True
    target = getattr(factory, "__init__") if isinstance(factory, type) else factory  # noqa: B009
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # noqa: BLE001  (a forward reference the module cannot resolve)
        hints = {}
    params, var_kw = {}, False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind is not p.VAR_POSITIONAL and p.name != "self":
            params[p.name] = Declared(hints.get(p.name), p.default, p.default is _EMPTY)
    return params, var_kw


def type_problem(annotation: Any, value: Any) -> str | None:
    """What ``value`` should have been for ``annotation`` (e.g. ``"an integer"``), or ``None`` if it fits
    (or the annotation declares nothing checkable)."""
    if annotation is None or annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        problems = [type_problem(a, value) for a in options]
        if any(p is None for p in problems):
            return None
        return " or ".join(dict.fromkeys(p for p in problems if p))
    if origin is typing.Literal:
        choices = typing.get_args(annotation)
        fits = any(value == c and type(value) is type(c) for c in choices)  # True is not 1
        return None if fits else f"one of {list(choices)}"
    if annotation is bool:
        return None if isinstance(value, bool) else "true or false"
    if annotation is int:
        return None if isinstance(value, int) and not isinstance(value, bool) else "an integer"
    if annotation is float:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else "a number"
    if annotation is str:
        return None if isinstance(value, str) else "a string"
    if annotation is type(None):
        return None if value is None else "none"
    base = origin or annotation
    if isinstance(base, type):
        if issubclass(base, Mapping):
            return None if isinstance(value, Mapping) else "a table"
        if issubclass(base, (list, tuple)) or base is Sequence:
            return None if isinstance(value, (list, tuple)) else "an array"
    return None  # classes, callables, arrays: not checkable from a config value
