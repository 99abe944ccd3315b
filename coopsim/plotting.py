"""Headless matplotlib figures for results tables and report cards (backend ``Agg``).

``plot_metric(df, metric, by=...)`` draws one line per group of a tidy results table (as returned
by ``coopsim.runner.load``): for each x value (``round`` by default) the mean over units
(replicates, and agents unless ``agent`` is a grouping column) with a band of +- 1.96 standard
errors, ``se = std(ddof=1) / sqrt(m)`` over the ``m`` units averaged.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

# Headless by default (CLI, scripts, workers); a Jupyter kernel keeps its inline backend and an
# explicit MPLBACKEND is respected.
if "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def summarize(df: pd.DataFrame, metric: str, by: Sequence[str] = (), x: str = "round") -> pd.DataFrame:
    """Mean and standard error of ``metric`` per ``(by..., x)`` over units.

    Per-agent rows are first averaged over agents within each unit (unless ``agent`` is in
    ``by``); then ``mean``, ``se = std(ddof=1)/sqrt(n)`` and ``n`` are taken over units.
    """
    by = list(by)
    if "metric" not in df.columns or "value" not in df.columns:
        raise ValueError(f"df: expected a tidy results table with metric/value columns, got {list(df.columns)}")
    sub = df[df["metric"] == metric]
    if sub.empty:
        raise ValueError(f"metric: expected one of {sorted(df['metric'].unique())}, got {metric!r}")
    for col in [*by, x]:
        if col not in sub.columns:
            raise ValueError(
                f"{'by' if col in by else 'x'}: expected columns of the results table, got {col!r}; "
                f"columns: {sorted(c for c in df.columns if c not in ('value', 'metric'))}"
            )
    keys = list(dict.fromkeys([*by, x, "unit"])) if "unit" in sub.columns else list(dict.fromkeys([*by, x]))
    per_unit = sub.groupby(keys, dropna=False, sort=True)["value"].mean().reset_index()
    g = per_unit.groupby(list(dict.fromkeys([*by, x])), dropna=False, sort=True)["value"]
    out = g.agg(mean="mean", std="std", n="count").reset_index()
    out["se"] = np.where(out["n"] > 1, out["std"].fillna(0.0) / np.sqrt(out["n"].clip(lower=1)), 0.0)
    return out.drop(columns="std")


def plot_metric(
    df: pd.DataFrame,
    metric: str,
    by: Sequence[str] | str | None = None,
    x: str = "round",
    ax: Any = None,
    title: str | None = None,
) -> plt.Figure:
    """Line plot of ``metric`` against ``x``, one line (with a 95% band) per value of ``by``."""
    by = [by] if isinstance(by, str) else list(by or [])
    summ = summarize(df, metric, by, x)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    else:
        fig = ax.figure
    groups = summ.groupby(by, dropna=False, sort=True) if by else [((), summ)]
    for key, part in groups:
        key = key if isinstance(key, tuple) else (key,)
        label = ", ".join(f"{b}={k}" for b, k in zip(by, key)) if by else metric
        part = part.sort_values(x)
        (line,) = ax.plot(part[x], part["mean"], label=label, lw=1.6)
        if (part["se"] > 0).any():
            ax.fill_between(
                part[x],
                part["mean"] - 1.96 * part["se"],
                part["mean"] + 1.96 * part["se"],
                color=line.get_color(),
                alpha=0.18,
                lw=0,
            )
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    ax.set_title(title or metric)
    ax.grid(alpha=0.3)
    if by:
        ax.legend(fontsize=8, frameon=False)
    return fig


def plot_metrics(
    df: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] | str | None = None, x: str = "round"
) -> plt.Figure:
    """One panel per metric (``plot_metric`` in each), side by side in one figure."""
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics: expected at least one metric name")
    if len(metrics) == 1:
        return plot_metric(df, metrics[0], by=by, x=x)
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.8), constrained_layout=True)
    for metric, ax in zip(metrics, axes):
        plot_metric(df, metric, by=by, x=x, ax=ax)
    return fig


def save(fig: plt.Figure, path: str | Path, dpi: int = 120) -> Path:
    """Write ``fig`` (PNG, PDF or SVG by suffix) and close it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=dpi)
    plt.close(fig)
    return p


def ratio_figure(rows: Sequence[Mapping[str, Any]], title: str = "Worst-case approximation ratios") -> plt.Figure:
    """Worst-case ratio found (lines) and the specification's value (crosses) against n, per objective.

    ``rows``: dicts with ``n``, ``objective``, ``found`` and ``spec`` (``None`` when unknown).
    """
    df = pd.DataFrame(list(rows))
    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    for obj, part in df.groupby("objective", sort=True):
        part = part.sort_values("n")
        finite = part[np.isfinite(part["found"].astype(float))]
        (line,) = ax.plot(finite["n"], finite["found"], marker="o", label=f"{obj} found")
        spec = part.dropna(subset=["spec"])
        if len(spec):
            ax.plot(
                spec["n"],
                spec["spec"].astype(float),
                ls="none",
                marker="x",
                ms=9,
                color=line.get_color(),
                label=f"{obj} spec",
            )
    ax.set_xlabel("n (agents)")
    ax.set_ylabel("worst-case ratio (>= 1)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, ncol=2)
    return fig


def deviation_figure(
    reports: np.ndarray,
    utility: np.ndarray,
    truthful_report: float,
    truthful_utility: float,
    agent: int,
    title: str = "Unilateral deviation of the audit witness",
) -> plt.Figure:
    """Utility of one agent against its own report, the others' reports held fixed."""
    fig, ax = plt.subplots(figsize=(6.4, 4.0), constrained_layout=True)
    ax.plot(reports, utility, lw=1.6, label=f"agent {agent}: utility vs own report")
    ax.axvline(truthful_report, color="k", ls="--", lw=1, label="truthful report")
    ax.axhline(truthful_utility, color="grey", ls=":", lw=1, label="truthful utility")
    best = int(np.argmax(utility))
    ax.plot([reports[best]], [utility[best]], marker="*", ms=12, color="C3", ls="none", label="best misreport")
    ax.set_xlabel("report")
    ax.set_ylabel("utility")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return fig


def rate_figure(rates: Mapping[str, float], title: str = "Axiom satisfaction rate") -> plt.Figure:
    """Bar chart of satisfaction rates in [0, 1] by axiom (or property)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.2), constrained_layout=True)
    names = list(rates)
    vals = [float(rates[k]) for k in names]
    ax.bar(names, vals, color=["C2" if v >= 1 - 1e-12 else "C3" for v in vals])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of profiles")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return fig
