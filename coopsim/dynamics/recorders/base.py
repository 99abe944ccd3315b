"""What every recorder sees: the round's data, the series store, and the recorder protocol."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Recorder", "RoundData", "SeriesStore"]


class RoundData:
    """The current round, filled in by the loop (one reused object; read, never keep).

    ``t`` (1-based), ``types``, ``actions (B, N)`` grid indices, ``x (B, N, ...)`` the played
    actions, ``outcome``, ``r (B, N)`` realised utilities, ``U (B, N, K)`` deviation utilities
    (None unless a learner or a recorder needs them), ``policy (B, N, K)`` the policies that
    chose ``actions`` (None unless needed this round), ``field`` the scalar outcome field's
    name (or None), ``population`` (for ``average_policy`` at record points) and ``setup`` (the
    run's resolved arguments).
    """

    __slots__ = ("t", "types", "actions", "x", "outcome", "r", "U", "policy", "field", "population", "setup")

    def __init__(self, setup: Any, population: Any) -> None:
        self.setup, self.population = setup, population
        self.t = 0
        # arrays of the current round (None before the first round; U / policy when not needed)
        self.types: Any = None
        self.actions: Any = None
        self.x: Any = None
        self.outcome: Any = None
        self.r: Any = None
        self.U: Any = None
        self.policy: Any = None
        self.field: str | None = None

    def field_value(self) -> np.ndarray:
        """The scalar outcome field of this round, ``(B,)`` float64."""
        return np.asarray(self.outcome.fields[self.field], dtype=np.float64)


class SeriesStore:
    """Series values by record index; :meth:`stack` gives ``(R, ...)`` arrays with NaN where a
    series was not reported at a record point."""

    def __init__(self, n_records: int) -> None:
        self.n_records = n_records
        self.index = 0  # the record point being written
        self._values: dict[str, dict[int, np.ndarray]] = {}

    def put(self, name: str, value: np.ndarray) -> None:
        self._values.setdefault(name, {})[self.index] = value

    def put_all(self, values: dict[str, np.ndarray]) -> None:
        for name, v in values.items():
            self.put(name, v)

    def stack(self) -> dict[str, np.ndarray]:
        out = {}
        for name, by_index in self._values.items():
            first = np.asarray(next(iter(by_index.values())), dtype=np.float64)
            arr = np.full((self.n_records, *first.shape), np.nan)
            for r, v in by_index.items():
                arr[r] = v
            out[name] = arr
        return out


class Recorder:
    """One metric family. The loop calls ``new_types(types)`` when the types change,
    ``observe(rd)`` after every round's update (only when ``per_round``), ``record(rd, store)``
    at record points and ``finish(result)`` once (to add result fields such as snapshots)."""

    #: the family name accepted by ``metrics=``
    name: str = ""
    #: needs ``rd.U`` every round / ``rd.policy`` every round / ``observe`` every round
    needs_U = False
    needs_policy = False
    per_round = True

    def new_types(self, types: np.ndarray) -> None:
        return None

    def observe(self, rd: RoundData) -> None:
        return None

    def record(self, rd: RoundData, store: SeriesStore) -> None:
        return None

    def finish(self, result: dict[str, Any]) -> None:
        return None
