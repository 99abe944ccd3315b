"""Shared helpers of the position-auction experiment scripts: standard errors, one printed line per
configuration and the results table ``results/<name>.csv``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RESULTS = Path(__file__).parent / "results"


def se(x: np.ndarray) -> float:
    """Standard error of the mean of ``x`` (copies are independent)."""
    x = np.asarray(x, dtype=np.float64)
    return float(x.std(ddof=1) / np.sqrt(len(x)))


def show(row: Mapping[str, Any]) -> None:
    """Print one result row, numbers rounded to 4 decimals (progress while a script runs)."""
    print({k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v) for k, v in row.items()}, flush=True)


def write_table(rows: Sequence[Mapping[str, Any]], name: str) -> pd.DataFrame:
    """Write ``rows`` to ``results/<name>.csv`` and return them as a frame."""
    RESULTS.mkdir(exist_ok=True)
    df = pd.DataFrame(rows)
    df.to_csv(RESULTS / f"{name}.csv", index=False)
    return df
