"""Name -> factory registries (mechanisms, learners, environments) with entry-point plugins.

``Registry.get(name, **params)`` builds an instance; an unknown name raises ``ValueError`` listing
the known ones. Third-party packages add entries through the registry's entry-point group
(e.g. ``coopsim.mechanisms``), loaded lazily on the first lookup that misses.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib import metadata
from typing import Any


class Registry:
    """A mapping from names to factories (classes or functions)."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._entries: dict[str, Callable[..., Any]] = {}
        self._plugins_loaded = False

    def register(self, name: str, factory: Callable[..., Any] | None = None, *, replace: bool = False):
        """Register ``factory`` under ``name``; usable as a decorator when ``factory`` is omitted."""

        def add(obj: Callable[..., Any]) -> Callable[..., Any]:
            if not isinstance(name, str) or not name:
                raise ValueError(f"name: expected a non-empty string, got {name!r}")
            if name in self._entries and self._entries[name] is not obj and not replace:
                raise ValueError(f"{self.kind} {name!r} is already registered (pass replace=True to override)")
            self._entries[name] = obj
            if isinstance(obj, type) and not getattr(obj, "registry_name", None):
                obj.registry_name = name
            return obj

        return add if factory is None else add(factory)

    def _load_plugins(self) -> None:
        if self._plugins_loaded or not self.entry_point_group:
            return
        self._plugins_loaded = True
        for ep in metadata.entry_points(group=self.entry_point_group):
            if ep.name not in self._entries:
                self._entries[ep.name] = ep.load()

    def factory(self, name: str) -> Callable[..., Any]:
        """The registered factory for ``name`` (``ValueError`` naming the known ones if absent)."""
        if name not in self._entries:
            self._load_plugins()
        if name not in self._entries:
            raise ValueError(f"{self.kind}: unknown name {name!r}; expected one of {self.names()}")
        return self._entries[name]

    def get(self, name: str, **params: Any) -> Any:
        """Build the entry ``name`` with ``params``; unknown parameters raise ``TypeError``."""
        factory = self.factory(name)
        try:
            inspect.signature(factory).bind(**params)
        except TypeError as err:
            raise TypeError(f"{self.kind} {name!r}: bad parameters {sorted(params)} ({err})") from None
        except ValueError:  # builtins without a signature
            pass
        return factory(**params)

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._entries)

    def parameters(self, name: str) -> dict[str, Any]:
        """Constructor parameters of ``name`` and their defaults (``inspect.Parameter.empty`` if none)."""
        sig = inspect.signature(self.factory(name))
        return {p.name: p.default for p in sig.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def __iter__(self):
        return iter(self.names())
