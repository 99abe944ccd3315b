"""Window averages: the one accumulator for "mean over the rounds since the last record point".

Used by the dynamics recorders and by the envs' runner hooks (``simulate``). A value is summed
under its name every time it is reported; :meth:`WindowMean.flush` returns ``sum / count`` per
name, where ``count`` is the number of rounds in which *that* name was reported (a metric a game
returns only in some rounds is averaged over those rounds), and starts a new window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["WindowMean"]


class WindowMean:
    """Running sums of named values (scalars or arrays of a fixed shape per name) over one window.

    >>> w = WindowMean()
    >>> w.add("welfare", np.array([1.0, 3.0])); w.add("welfare", np.array([2.0, 5.0]))
    >>> w.flush()["welfare"]
    array([1.5, 4. ])
    """

    __slots__ = ("_sum", "_n", "_max")

    def __init__(self) -> None:
        self._sum: dict[str, np.ndarray] = {}
        self._n: dict[str, int] = {}
        self._max: dict[str, np.ndarray] = {}

    def add(self, name: str, value: Any) -> None:
        """Add one round's ``value`` of ``name`` to the window sum."""
        s = self._sum.get(name)
        if s is None:
            self._sum[name] = np.array(value, dtype=np.float64)  # a copy: callers may reuse buffers
            self._n[name] = 1
        else:
            s += value
            self._n[name] += 1

    def add_max(self, name: str, value: Any) -> None:
        """Keep the element-wise maximum of ``name`` over the window (reported as is by flush)."""
        m = self._max.get(name)
        self._max[name] = np.array(value, dtype=np.float64) if m is None else np.maximum(m, value)

    def __bool__(self) -> bool:
        return bool(self._sum or self._max)

    def flush(self) -> dict[str, np.ndarray]:
        """``{name: window mean}`` (and ``{name: window max}``), then start a new window."""
        out = {name: s / self._n[name] for name, s in self._sum.items()}
        out.update(self._max)
        self._sum, self._n, self._max = {}, {}, {}
        return out
