"""Name -> factory registries (mechanisms, learners, environments) with entry-point plugins.

``Registry.get(name, **params)`` builds an instance. Names are looked up once, here, for every
kind of named thing (mechanisms, learners, environments, unit functions): an exact name wins, a
name that differs only in case is accepted when it picks one entry (``"GSP"`` finds ``"gsp"``),
and an unknown name raises ``ValueError`` with "did you mean" suggestions
(:func:`difflib.get_close_matches`), or the list of known names when nothing is close.
Parameters are checked against the factory's signature before it is called, so a missing or
unknown parameter is named plainly. Third-party packages add entries through the registry's
entry-point group (e.g. ``coopsim.mechanisms``), loaded lazily on the first lookup that misses.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import metadata
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def suggest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` entries of ``choices`` close to ``name``, closest first, compared case-insensitively.

    Close means a :func:`difflib.get_close_matches` ratio >= 0.6, or (for names of 3+ characters)
    containing ``name`` as a substring (``"phantom"`` -> ``"uniform_phantom"``).
    """
    by_lower: dict[str, list[str]] = {}
    for c in sorted(set(choices)):
        by_lower.setdefault(c.lower(), []).append(c)
    key = name.lower()
    close = difflib.get_close_matches(key, list(by_lower), n=n, cutoff=0.6)
    if len(key) >= 3:
        close += sorted(c for c in by_lower if key in c and c not in close)
    return [orig for c in close for orig in by_lower[c]][:n]


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """``"did you mean 'gsp'?"`` (``"'a', 'b' or 'c'?"`` for several) for the close matches of ``name``; else ``""``."""
    close = [repr(c) for c in suggest(name, choices)]
    if not close:
        return ""
    return "did you mean " + (", ".join(close[:-1]) + " or " if len(close) > 1 else "") + close[-1] + "?"


def resolve(name: object, choices: Iterable[str], kind: str) -> str:
    """The entry of ``choices`` that ``name`` designates: itself, or its unique case-insensitive match.

    Raises ``TypeError`` for a non-string and ``ValueError`` for an unknown name, e.g.
    ``"mechanism: unknown name 'gsq'; did you mean 'gsp'?"`` or, when nothing is close,
    ``"...; expected one of [...]"``.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"{kind}: expected a non-empty name (string), got {name!r}")
    known = sorted(set(choices))
    if name in known:
        return name
    folded = [c for c in known if c.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    hint = did_you_mean(name, known)
    raise ValueError(f"{kind}: unknown name {name!r}; " + (hint or f"expected one of {known}"))


def check_parameters(factory: Callable[..., Any], params: Mapping[str, Any], what: str) -> None:
    """Raise ``TypeError`` naming the parameter when ``factory(**params)`` cannot bind.

    ``what`` names the thing being built (``"mechanism 'gsp'"``). Messages read
    ``"missing required parameter 'n_agents' for environment 'facility_location'"`` and
    ``"unknown parameter 'q' for mechanism 'gsp'; did you mean 'reserve'? (parameters: [...])"``.
    Factories without an introspectable signature are not checked.
    """
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins and some extension types have none
        return
    accepted = [p for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    names = [p.name for p in accepted if p.kind is not p.POSITIONAL_ONLY]
    if not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        for key in params:
            if key not in names:
                hint = did_you_mean(key, names)
                raise TypeError(
                    f"unknown parameter {key!r} for {what}; " + (f"{hint} " if hint else "") + f"(parameters: {names})"
                )
    missing = [p.name for p in accepted if p.default is p.empty and p.name not in params]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise TypeError(f"missing required parameter{plural} {', '.join(map(repr, missing))} for {what}")


class Registry:
    """A mapping from names to factories (classes or functions); see the module docstring for lookup."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, Callable[..., Any]] = {}
        self._plugins_loaded = False

    def register(self, name: str, factory: F | None = None, *, replace: bool = False) -> Any:
        """Register ``factory`` under ``name``; usable as a decorator when ``factory`` is omitted."""

        if not isinstance(replace, bool):
            raise TypeError(f"replace: expected True or False, got {replace!r}")

        def add(obj: F) -> F:
            if not isinstance(name, str) or not name:
                raise ValueError(f"name: expected a non-empty string, got {name!r}")
            if name in self._entries and self._entries[name] is not obj and not replace:
                raise ValueError(f"{self.kind} {name!r} is already registered (pass replace=True to override)")
            self._entries[name] = obj
            if isinstance(obj, type) and not getattr(obj, "registry_name", None):
                obj.registry_name = name  # type: ignore[attr-defined]
            return obj

        return add if factory is None else add(factory)

    def _load_plugins(self) -> None:
        if self._plugins_loaded or not self.entry_point_group:
            return
        self._plugins_loaded = True
        for ep in metadata.entry_points(group=self.entry_point_group):
            if ep.name not in self._entries:
                self._entries[ep.name] = ep.load()

    def canonical(self, name: object) -> str:
        """The registered name ``name`` designates (exact, or a unique case-insensitive match).

        Raises ``ValueError`` with "did you mean" suggestions for an unknown name.
        """
        if isinstance(name, str) and name in self._entries:
            return name
        return resolve(name, self.names(), self.kind)

    def factory(self, name: str) -> Callable[..., Any]:
        """The registered factory for ``name`` (see :meth:`canonical`)."""
        return self._entries[self.canonical(name)]

    def get(self, name: str, **params: Any) -> Any:
        """Build the entry ``name`` with ``params``; a missing or unknown parameter raises ``TypeError``."""
        key = self.canonical(name)
        factory = self._entries[key]
        check_parameters(factory, params, f"{self.kind} {key!r}")
        return factory(**params)

    def names(self) -> list[str]:
        """Sorted registered names (plugins included)."""
        self._load_plugins()
        return sorted(self._entries)

    def parameters(self, name: str) -> dict[str, Any]:
        """Constructor parameters of ``name`` and their defaults (``inspect.Parameter.empty`` if none)."""
        sig = inspect.signature(self.factory(name))
        return {p.name: p.default for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def __contains__(self, name: object) -> bool:
        """Exact membership (``"GSP" in registry`` is False; :meth:`canonical` accepts it)."""
        return isinstance(name, str) and name in self.names()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
