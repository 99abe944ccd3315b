"""The mechanism registry: ``coopsim.mechanisms.get(name, **params)``.

Built-in families register themselves on import; third-party packages add mechanisms through
the entry-point group ``coopsim.mechanisms`` (name -> class or factory).
"""

from coopsim.core.registry import Registry

registry = Registry("mechanism", entry_point_group="coopsim.mechanisms")
register = registry.register


def get(name: str, **params):
    """Build the registered mechanism ``name`` with ``params`` (``ValueError`` if unknown)."""
    return registry.get(name, **params)


def available() -> list[str]:
    """Sorted names of every registered mechanism (plugins included)."""
    return registry.names()
