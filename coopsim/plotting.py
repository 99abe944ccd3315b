"""Headless matplotlib figures for results tables, report cards and experiment scripts (``Agg``).

One style for every figure the project draws: :data:`STYLE` (rcParams) applied by :func:`style`
(a context, used inside every figure function here) or :func:`use_style` (global, for scripts);
:func:`subplots` makes a figure in that style; :func:`legend_outside` puts the legend beside the
data, never over it; :func:`tidy_ticks` (run by :func:`save`) switches large or small tick values to
scientific notation and thins labels until none overlap.

``plot_metric(df, metric, by=...)`` draws one line per group of a tidy results table (as returned
by ``coopsim.runner.load``): for each x value (``round`` by default) the mean over units
(replicates, and agents unless ``agent`` is a grouping column) with a band of +- 1.96 standard
errors, ``se = std(ddof=1) / sqrt(m)`` over the ``m`` units averaged. When the table also holds a
closed-form value for the metric (:func:`reference_metric`: ``ratio_SW`` -> ``closed_form_SW`` or
``spec_SW``, or ``<metric>_closed_form``), it is drawn as a dashed line in the group's colour.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import matplotlib
import matplotlib.layout_engine

# Headless by default (CLI, scripts, workers); a Jupyter kernel keeps its inline backend and an
# explicit MPLBACKEND is respected.
if "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator, ScalarFormatter  # noqa: E402

#: the project's figure style (rcParams): small serif-free type sized for a two-column paper,
#: light grid, no top/right spines, constrained layout so outside legends get their room
STYLE: dict[str, Any] = {
    "figure.constrained_layout.use": True,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.title_fontsize": 8,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "lines.markersize": 5,
    "axes.formatter.limits": (-3, 4),  # scientific notation outside 1e-3 .. 1e4
    "axes.formatter.use_mathtext": True,
}
#: one marker per group, so groups whose lines coincide stay distinguishable
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
#: how reference (closed-form) lines are drawn
REFERENCE_STYLE: dict[str, Any] = {"ls": (0, (4, 2)), "lw": 1.1, "alpha": 1.0, "zorder": 4}
#: metric-name patterns of closed-form columns, tried in order for a metric ``<prefix><obj>``
_REFERENCE_PATTERNS = ("closed_form_{obj}", "spec_{obj}", "{metric}_closed_form")


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context in which figures are drawn in :data:`STYLE` (the global rcParams are restored after)."""
    with matplotlib.rc_context(cast(Any, STYLE)):
        yield


def use_style() -> None:
    """Apply :data:`STYLE` globally (for experiment scripts: call once before drawing)."""
    matplotlib.rcParams.update(cast(Any, STYLE))


def subplots(nrows: int = 1, ncols: int = 1, panel: tuple[float, float] = (4.2, 3.2), **kw: Any) -> tuple[Any, Any]:
    """``plt.subplots`` in :data:`STYLE`, sized ``panel`` inches per panel unless ``figsize`` is given."""
    kw.setdefault("figsize", (panel[0] * ncols, panel[1] * nrows))
    with style():
        return plt.subplots(nrows, ncols, **kw)


def label(column: str) -> str:
    """Axis or legend label of a results column: ``function.n_agents`` -> ``n_agents``,
    ``mechanism.name`` -> ``mechanism``."""
    parts = column.split(".")
    return parts[-2] if len(parts) > 1 and parts[-1] == "name" else parts[-1]


def legend_outside(target: Any, handles: Sequence[Any] | None = None, title: str | None = None, **kw: Any) -> Any:
    """Legend to the right of the data: of one ``Axes`` (beside it) or of a ``Figure`` (beside all
    panels, one shared legend). ``handles`` default to the labelled artists of the target."""
    if isinstance(target, plt.Figure):
        if handles is None:
            handles = [h for ax in target.axes for h in ax.get_legend_handles_labels()[0]]
            handles = list({h.get_label(): h for h in handles}.values())
        if isinstance(target.get_layout_engine(), matplotlib.layout_engine.ConstrainedLayoutEngine):
            return target.legend(handles=handles, loc="outside right upper", title=title, **kw)
        # without constrained layout: anchored right of the figure (saved with bbox "tight")
        return target.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), title=title, **kw)
    handles = handles if handles is not None else target.get_legend_handles_labels()[0]
    return target.legend(
        handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, title=title, **kw
    )


def _tick_labels_overlap(labels: Sequence[Any], renderer: Any) -> bool:
    boxes = [t.get_window_extent(renderer) for t in labels if t.get_visible() and t.get_text()]
    return any(a.overlaps(b) for a, b in zip(boxes, boxes[1:]))


def _integer_x(ax: Any) -> bool:
    """Whether every line on ``ax`` has integer x values (a count such as n or K)."""
    xs = [np.asarray(ln.get_xdata(), dtype=float) for ln in ax.get_lines() if len(ln.get_xdata())]
    return bool(xs) and all(np.all(np.isfinite(x)) and np.all(x == np.round(x)) for x in xs)


def tidy_ticks(fig: Any, max_tries: int = 6) -> None:
    """Readable ticks on every axis of ``fig``: numeric axes get a ``ScalarFormatter`` with scientific
    notation (offset text ``x10^k``) outside 1e-3 .. 1e4, integer x data integer ticks; then, while neighbouring tick labels
    overlap after a draw, the number of ticks is reduced (``MaxNLocator``) or, for categorical
    labels, every other label is hidden."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter):
                fmt = ScalarFormatter(useMathText=True)
                fmt.set_powerlimits((-3, 4))
                axis.set_major_formatter(fmt)
        if _integer_x(ax) and ax.get_xscale() == "linear":  # n = 2, 3, ...: no 2.5 ticks
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for _ in range(max_tries):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        crowded = [
            axis
            for ax in fig.axes
            for axis in (ax.xaxis, ax.yaxis)
            if _tick_labels_overlap(axis.get_ticklabels(), renderer)
        ]
        if not crowded:
            return
        for axis in crowded:
            shown = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            if isinstance(axis.get_major_formatter(), ScalarFormatter):
                axis.set_major_locator(MaxNLocator(nbins=max(2, len(shown) // 2), steps=[1, 2, 2.5, 5, 10]))
            else:  # categorical: keep every other label
                for t in shown[1::2]:
                    t.set_visible(False)


def reference_metric(df: pd.DataFrame, metric: str) -> str | None:
    """Name of the closed-form column for ``metric`` in a tidy results table, or ``None``:
    for ``<prefix>_<obj>`` (e.g. ``ratio_SW``) the first present of ``closed_form_<obj>``,
    ``spec_<obj>``, ``<metric>_closed_form``."""
    obj = metric.split("_", 1)[1] if "_" in metric else metric
    present = set(df["metric"].unique()) if "metric" in df.columns else set()
    for pattern in _REFERENCE_PATTERNS:
        name = pattern.format(obj=obj, metric=metric)
        if name != metric and name in present:
            return name
    return None


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


def final_values(df: pd.DataFrame, by: Sequence[str] = (), at: str | int = "last") -> pd.DataFrame:
    """A wide table from a tidy results table: one row per unit, the columns ``by`` (the unit's
    parameters, e.g. ``function.n_agents``) and ``replicate``, then one column per metric, taken at
    each unit's last recorded round (``at="last"``) or at round ``at`` (an int).

    The summary view experiment scripts print and plot: ``final_values(runner.load(folder), ["function.cost"])``.
    """
    if "metric" not in df.columns or "value" not in df.columns or "unit" not in df.columns:
        raise ValueError(f"df: expected a tidy results table (unit, round, metric, value), got {list(df.columns)}")
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise ValueError(f"by: expected columns of the results table, got {missing}; columns: {sorted(df.columns)}")
    if at == "last":
        sub = df[df["round"] == df.groupby("unit")["round"].transform("max")]
    elif isinstance(at, (int, np.integer)) and not isinstance(at, bool):
        sub = df[df["round"] == int(at)]
    else:
        raise ValueError(f"at: expected 'last' or a round number, got {at!r}")
    keys = list(dict.fromkeys(["unit", *by, *(["replicate"] if "replicate" in df.columns else [])]))
    wide = sub.groupby([*keys, "metric"], sort=True, dropna=False)["value"].mean().unstack("metric")  # agents averaged
    wide.columns.name = None
    return wide.reset_index().drop(columns="unit")


def _groups(summ: pd.DataFrame, by: list[str]) -> list[tuple[tuple[Any, ...], pd.DataFrame]]:
    if not by:
        return [((), summ)]
    return [(k if isinstance(k, tuple) else (k,), part) for k, part in summ.groupby(by, dropna=False, sort=True)]


def _group_label(by: list[str], key: tuple[Any, ...], metric: str) -> str:
    if not by:
        return metric
    return ", ".join(str(k) for k in key)  # the legend title names the columns


def plot_metric(
    df: pd.DataFrame,
    metric: str,
    by: Sequence[str] | str | None = None,
    x: str = "round",
    ax: Any = None,
    title: str | None = None,
    reference: str | None = "auto",
    legend: bool = True,
) -> plt.Figure:
    """Line plot of ``metric`` against ``x``, one line (markers, 95% band) per value of ``by``.

    ``reference``: a metric holding the closed-form value of ``metric``, drawn dashed in each
    group's colour; ``"auto"`` finds it with :func:`reference_metric`, ``None`` draws none. The
    legend (groups, then the line styles) sits outside the axes."""
    by = [by] if isinstance(by, str) else list(by or [])
    summ = summarize(df, metric, by, x)
    ref_name = reference_metric(df, metric) if reference == "auto" else reference
    ref = summarize(df, ref_name, by, x) if ref_name else None
    with style():
        if ax is None:
            fig, ax = plt.subplots(figsize=(5.6, 3.4))
        else:
            fig = ax.figure
        for k, (key, part) in enumerate(_groups(summ, by)):
            part = part.sort_values(x)
            # hollow markers shrinking with the group index stay visible where groups coincide;
            # with a closed form, short measured series are markers only and the closed form the line
            (line,) = ax.plot(
                part[x],
                part["mean"],
                label=_group_label(by, key, metric),
                marker=MARKERS[k % len(MARKERS)],
                ms=max(3.0, 8.0 - 1.2 * k),
                markevery=max(1, len(part) // 12),  # about a dozen markers on long series
                mfc="none",
                mew=1.3,
                ls="none" if ref is not None and len(part) <= 25 else "-",
            )
            if (part["se"] > 0).any():
                lo, hi = part["mean"] - 1.96 * part["se"], part["mean"] + 1.96 * part["se"]
                ax.fill_between(part[x], lo, hi, color=line.get_color(), alpha=0.18, lw=0)
            if ref is not None:
                rpart = ref
                for b, v in zip(by, key):
                    rpart = rpart[(rpart[b] == v) | (rpart[b].isna() & pd.isna(v))]
                rpart = rpart.dropna(subset=["mean"]).sort_values(x)
                if len(rpart):
                    ax.plot(rpart[x], rpart["mean"], color=line.get_color(), gid="reference", **REFERENCE_STYLE)
        ax.set_xlabel(label(x))
        ax.set_ylabel(metric)
        ax.set_title(title or metric)
        if legend and (by or ref is not None):
            legend_outside(ax, _legend_handles(ax, ref is not None), title=", ".join(label(b) for b in by) or None)
    return fig


def _legend_handles(ax: Any, references: bool) -> list[Any]:
    """The groups' lines, then (when ``references`` and one is drawn) one entry per line style."""
    handles = [h for h in ax.get_lines() if h.get_gid() != "reference" and not h.get_label().startswith("_")]
    if references:  # group entries as colour + marker (the line style is explained separately)
        handles = [
            Line2D([], [], color=h.get_color(), marker=h.get_marker(), mfc="none", ls="-", label=h.get_label())
            for h in handles
        ]
    if references and any(h.get_gid() == "reference" for h in ax.get_lines()):
        handles += _style_handles()
    return handles


def _style_handles() -> list[Any]:
    return [
        Line2D([], [], color="0.3", marker="o", mfc="none", ls="none", label="measured"),
        Line2D([], [], color="0.3", label="closed form", **REFERENCE_STYLE),
    ]


def plot_metrics(
    df: pd.DataFrame, metrics: Sequence[str], by: Sequence[str] | str | None = None, x: str = "round"
) -> plt.Figure:
    """One panel per metric (``plot_metric`` in each, closed forms drawn where the table has them),
    side by side, one shared legend to the right of the panels."""
    metrics = list(metrics)
    if not metrics:
        raise ValueError("metrics: expected at least one metric name")
    if len(metrics) == 1:
        return plot_metric(df, metrics[0], by=by, x=x)
    by_list = [by] if isinstance(by, str) else list(by or [])
    fig, axes = subplots(1, len(metrics), panel=(3.4, 3.0))
    refs = []
    for metric, ax in zip(metrics, axes):
        plot_metric(df, metric, by=by_list, x=x, ax=ax, legend=False)
        refs.append(reference_metric(df, metric))
    with style():
        handles = _legend_handles(axes[0], False) + (_style_handles() if any(refs) else [])
        if by_list or any(refs):
            legend_outside(fig, handles, title=", ".join(label(b) for b in by_list) or None)
    return fig


def save(fig: plt.Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write ``fig`` (PNG, PDF or SVG by suffix) with tidied ticks (:func:`tidy_ticks`) and close it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with style():
        tidy_ticks(fig)
        fig.savefig(p, dpi=dpi)
    plt.close(fig)
    return p


def ratio_figure(rows: Sequence[Mapping[str, Any]], title: str = "Worst-case approximation ratios") -> plt.Figure:
    """Worst-case ratio found (markers and line) and the closed form (dashed) against n, per objective.

    ``rows``: dicts with ``n``, ``objective``, ``found`` and ``spec`` (the closed form; ``None``
    when the literature gives none).
    """
    df = pd.DataFrame(list(rows))
    fig, ax = subplots(panel=(5.6, 3.4))
    with style():
        for k, (obj, part) in enumerate(df.groupby("objective", sort=True)):
            part = part.sort_values("n")
            finite = part[np.isfinite(part["found"].astype(float))]
            ref = part.dropna(subset=["spec"])
            (line,) = ax.plot(
                finite["n"],
                finite["found"],
                marker=MARKERS[k % len(MARKERS)],
                mfc="none",
                ls="none" if len(ref) else "-",  # markers on the dashed closed form where there is one
                label=obj,
            )
            if len(ref):
                ax.plot(ref["n"], ref["spec"].astype(float), color=line.get_color(), gid="reference", **REFERENCE_STYLE)
        ax.set_xlabel("n (agents)")
        ax.set_ylabel("worst-case ratio (>= 1)")
        ax.set_title(title)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        legend_outside(ax, _legend_handles(ax, True), title="objective")
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
    fig, ax = subplots(panel=(5.6, 3.4))
    with style():
        ax.plot(reports, utility, label=f"agent {agent}: utility vs own report")
        ax.axvline(truthful_report, color="k", ls="--", lw=1, label="truthful report")
        ax.axhline(truthful_utility, color="grey", ls=":", lw=1, label="truthful utility")
        best = int(np.argmax(utility))
        ax.plot([reports[best]], [utility[best]], marker="*", ms=12, color="C3", ls="none", label="best misreport")
        ax.set_xlabel("report")
        ax.set_ylabel("utility")
        ax.set_title(title)
        legend_outside(ax)
    return fig


def rate_figure(rates: Mapping[str, float], title: str = "Axiom satisfaction rate") -> plt.Figure:
    """Bar chart of satisfaction rates in [0, 1] by axiom (or property)."""
    fig, ax = subplots(panel=(5.6, 3.0))
    with style():
        names = list(rates)
        vals = [float(rates[k]) for k in names]
        ax.bar(names, vals, color=["C2" if v >= 1 - 1e-12 else "C3" for v in vals])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("share of profiles")
        ax.set_title(title)
        ax.grid(axis="x", visible=False)
    return fig
