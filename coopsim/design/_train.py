"""Training-loop plumbing shared by the design networks: progress bars and the logged history."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np


def progress(it: Iterable[Any], total: int, desc: str, enabled: bool | None = None) -> Iterator[Any]:
    """Wrap ``it`` in a tqdm bar, shown only when stderr is a terminal (``enabled=None``)."""
    from tqdm.auto import tqdm

    if enabled is not None and not isinstance(enabled, (bool, np.bool_)):
        raise TypeError(f"progress_bar: expected True, False or None, got {enabled!r}")
    show = sys.stderr.isatty() if enabled is None else bool(enabled)
    return iter(tqdm(it, total=total, desc=desc, disable=not show, leave=False))


def check_train_args(config: Any, config_type: type, progress_bar: Any) -> None:
    """A trainer's ``config`` (None or a ``config_type``) and ``progress_bar`` (None, True or False)."""
    if config is not None and not isinstance(config, config_type):
        raise TypeError(f"config: expected a {config_type.__name__} or None, got {type(config).__name__}")
    if progress_bar is not None and not isinstance(progress_bar, (bool, np.bool_)):
        raise TypeError(f"progress_bar: expected True, False or None, got {progress_bar!r}")


class History:
    """Named training curves: ``log(step, revenue=..., regret=...)`` then ``arrays()``."""

    def __init__(self) -> None:
        self._rows: dict[str, list[float]] = {}

    def log(self, step: int, **values: float) -> None:
        self._rows.setdefault("step", []).append(float(step))
        for k, v in values.items():
            self._rows.setdefault(k, []).append(float(v))

    def arrays(self) -> dict[str, np.ndarray]:
        """Each curve as a float64 array (one entry per logged step)."""
        return {k: np.asarray(v, dtype=np.float64) for k, v in self._rows.items()}

    def last(self, key: str) -> float:
        return self._rows[key][-1]
