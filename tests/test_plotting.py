"""Figures: closed-form reference lines, readable ticks, legends outside the data, one style."""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pandas as pd
import pytest

from coopsim import plotting

MECHS = ("average", "median", "midpoint", "uniform_phantom")
NS = range(2, 11)


def _closed_forms(mech: str, n: int) -> dict[str, float]:
    """Worst-case SW/TC/MC ratios of the four rules (Procaccia & Tennenholtz, EC 2009; Aziz et al.,
    arXiv:2111.01566), the values the facility_compare sweep stores next to the measured ones."""
    sw_avg = {2: 1.0, 5: 1.176471, 7: 1.206897, 10: 1.206897}.get(n, 1.2)
    return {
        "average": {"SW": sw_avg, "TC": 2 - 2 / n, "MC": 2 - 2 / n},
        "median": {"SW": 1.0, "TC": 1.0, "MC": 2.0},
        "midpoint": {"SW": 2 - 2 / n, "TC": n / 2, "MC": 1.0},
        "uniform_phantom": {"SW": sw_avg, "TC": n - 1.0, "MC": 2.0},
    }[mech]


def facility_compare_table() -> pd.DataFrame:
    """A tidy table shaped like ``coopsim.runner.load("results/facility_compare")``: one unit per
    (mechanism, n), metrics ``audit_gain``, ``ratio_*`` (measured) and ``spec_*`` (closed form)."""
    rows = []
    for u, (mech, n) in enumerate(itertools.product(MECHS, NS)):
        cf = _closed_forms(mech, n)
        gain = 0.0 if mech in ("median", "uniform_phantom") else 0.5 / n
        values = {"audit_gain": gain, **{f"ratio_{k}": v for k, v in cf.items()}}
        values.update({f"spec_{k}": v for k, v in cf.items()})
        for metric, value in values.items():
            rows.append(
                {"unit": f"u{u}", "round": 0, "metric": metric, "value": value, "function.mechanism": mech,
                 "function.n_agents": n}
            )  # fmt: skip
    return pd.DataFrame(rows)


def readme_figure() -> matplotlib.figure.Figure:
    """The README's figure: ``coopsim plot results/facility_compare --metric audit_gain ratio_SW
    ratio_TC ratio_MC --x function.n_agents --by function.mechanism`` (what ``cmd_plot`` calls)."""
    df = facility_compare_table()
    metrics = ["audit_gain", "ratio_SW", "ratio_TC", "ratio_MC"]
    return plotting.plot_metrics(df, metrics, by=["function.mechanism"], x="function.n_agents")


def _boxes(fig, axis_name: str):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = []
    for ax in fig.axes:
        axis = ax.xaxis if axis_name == "x" else ax.yaxis
        out.append([t.get_window_extent(r) for t in axis.get_ticklabels() if t.get_visible() and t.get_text()])
    return out


def _no_overlap(fig) -> None:
    for name in ("x", "y"):
        for boxes in _boxes(fig, name):
            assert len(boxes) >= 2
            for a, b in zip(boxes, boxes[1:]):
                assert not a.overlaps(b), f"{name} tick labels overlap: {a} and {b}"


def test_readme_figure_draws_the_closed_forms_as_dashed_lines():
    fig = readme_figure()
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["audit_gain", "ratio_SW", "ratio_TC", "ratio_MC"]
    assert not [ln for ln in axes[0].get_lines() if ln.get_gid() == "reference"]  # no closed form for the gain
    for ax, obj in zip(axes[1:], ("SW", "TC", "MC")):
        refs = [ln for ln in ax.get_lines() if ln.get_gid() == "reference"]
        measured = [ln for ln in ax.get_lines() if ln.get_gid() != "reference"]
        assert len(refs) == len(measured) == len(MECHS)
        for ref, meas in zip(refs, measured):
            assert ref.get_linestyle() == "--" and meas.get_linestyle() == "None"  # markers only
            assert ref.get_color() == meas.get_color()
            mech = meas.get_label()
            np.testing.assert_allclose(ref.get_xdata(), list(NS))
            np.testing.assert_allclose(ref.get_ydata(), [_closed_forms(mech, n)[obj] for n in NS])
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == [*MECHS, "measured", "closed form"]
    matplotlib.pyplot.close(fig)


def test_readme_figure_legend_is_outside_every_panel_and_ticks_do_not_overlap():
    fig = readme_figure()
    plotting.tidy_ticks(fig)
    _no_overlap(fig)
    r = fig.canvas.get_renderer()
    leg = fig.legends[0].get_window_extent(r)
    for ax in fig.axes:
        assert not leg.overlaps(ax.get_window_extent(r))
    matplotlib.pyplot.close(fig)


def test_long_rounds_axis_gets_scientific_ticks_that_do_not_overlap():
    # the auction sweeps record up to 40000 rounds in four narrow panels
    rounds = np.arange(0, 40001, 100)
    df = pd.concat(
        [
            pd.DataFrame({"unit": f"{m}{s}", "round": rounds, "metric": metric, "value": np.sin(rounds / 5e3) + s,
                          "mechanism.name": m})
            for m in ("first_price", "second_price") for s in (0, 1) for metric in ("revenue", "efficiency",
                                                                                      "regret", "report_distance")
        ]
    )  # fmt: skip
    fig = plotting.plot_metrics(df, ["revenue", "efficiency", "regret", "report_distance"], by="mechanism.name")
    plotting.tidy_ticks(fig)
    _no_overlap(fig)
    fig.canvas.draw()
    offset = fig.axes[0].xaxis.get_offset_text().get_text()
    assert "10^{4}" in offset or "10^4" in offset, offset  # 0 .. 4 x 10^4
    matplotlib.pyplot.close(fig)


def test_crowded_labels_are_thinned():
    fig, ax = plotting.subplots(panel=(2.0, 2.0))
    ax.plot(np.arange(30), np.arange(30) * 12345.678)
    ax.set_xticks(np.arange(30))
    plotting.tidy_ticks(fig)
    _no_overlap(fig)
    matplotlib.pyplot.close(fig)


def test_reference_metric_lookup_and_explicit_none():
    df = facility_compare_table()
    assert plotting.reference_metric(df, "ratio_SW") == "spec_SW"
    assert plotting.reference_metric(df, "audit_gain") is None
    renamed = df.assign(metric=df["metric"].str.replace("spec_", "closed_form_"))
    assert plotting.reference_metric(renamed, "ratio_TC") == "closed_form_TC"
    fig = plotting.plot_metric(df, "ratio_TC", by="function.mechanism", x="function.n_agents", reference=None)
    assert not [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "reference"]
    matplotlib.pyplot.close(fig)


def test_style_is_scoped_and_save_writes(tmp_path):
    before = matplotlib.rcParams["axes.spines.top"]
    fig = readme_figure()
    assert matplotlib.rcParams["axes.spines.top"] == before  # figure functions do not leak the style
    assert not fig.axes[0].spines["top"].get_visible()
    path = plotting.save(fig, tmp_path / "fig.png")
    assert path.stat().st_size > 10_000


def test_ratio_figure_draws_the_closed_form_dashed():
    rows = [
        {"n": n, "objective": o, "found": n / 2, "spec": n / 2 if o == "TC" else None} for n in NS for o in ("SW", "TC")
    ]
    fig = plotting.ratio_figure(rows)
    refs = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "reference"]
    assert len(refs) == 1 and refs[0].get_linestyle() == "--"
    np.testing.assert_allclose(refs[0].get_ydata(), [n / 2 for n in NS])
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("bad", [pd.DataFrame({"x": [1]}), pd.DataFrame({"metric": ["a"], "value": [1.0]})])
def test_plot_metric_bad_tables(bad):
    with pytest.raises(ValueError, match="df: expected|metric: expected"):
        plotting.plot_metric(bad, "ratio_SW")
