"""``load`` of loose unit files: constant columns rebuilt from each file's metadata give exactly the
table that parsing every column gives (types unified, missing columns null, projections, filters)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from coopsim import runner
from coopsim.runner import store


def frame(n: int = 4, **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {"round": np.arange(n), "metric": ["a", "b"] * (n // 2), "value": np.linspace(0, 1, n), **extra}
    )


def parsed(folder) -> pd.DataFrame:
    """Every file parsed in full (the reference), rows in ``load``'s file order."""
    frames = []
    for f in store.unit_files(folder):
        fr = pq.read_table(f).to_pandas()
        for c in fr.columns:
            if isinstance(fr[c].dtype, pd.CategoricalDtype):
                fr[c] = fr[c].astype(object)
        frames.append(fr)
    return pd.concat(frames, ignore_index=True)


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        x, y = a[c].tolist(), b[c].tolist()
        assert len(x) == len(y)
        for u, v in zip(x, y, strict=True):
            assert (pd.isna(u) and pd.isna(v)) or u == v, (c, u, v)


def test_units_with_one_schema(tmp_path):
    for i in range(5):
        store.write_unit(tmp_path, f"k{i}", {"p.s": f"s{i % 2}", "p.i": i, "p.f": i / 2, "p.b": i % 2 == 0}, frame())
    piece = store._read_one(tmp_path / "units" / "k1.parquet", None, None, None)
    assert sorted(piece.consts) == ["p.b", "p.f", "p.i", "p.s", "unit"]  # not parsed
    assert piece.table.column_names == ["round", "metric", "value"]
    df = runner.load(tmp_path)
    same(df, parsed(tmp_path))
    assert df["p.i"].dtype == np.int64 and df["p.b"].dtype == bool and df["p.f"].dtype == np.float64
    assert list(df.columns[:4]) == ["unit", "round", "metric", "value"]
    sub = runner.load(tmp_path, columns=["unit", "p.s"], filters=[("p.i", ">", 2)])
    assert list(sub.columns) == ["unit", "p.s"] and sorted(set(sub["unit"])) == ["k3", "k4"]
    assert runner.load(tmp_path, columns=["p.b"])["p.b"].tolist() == [i % 2 == 0 for i in range(5) for _ in range(4)]


def test_units_whose_parameters_differ(tmp_path):
    store.write_unit(tmp_path, "a", {"x": 1, "only_a": "yes"}, frame())
    store.write_unit(tmp_path, "b", {"x": 2.5}, frame())  # int in one unit, float in another
    store.write_unit(tmp_path, "c", {"x": 3, "none": None}, frame())
    df = runner.load(tmp_path)
    assert df["x"].tolist() == [1.0] * 4 + [2.5] * 4 + [3.0] * 4
    assert df["only_a"].tolist()[:4] == ["yes"] * 4 and df["only_a"][4:].isna().all()
    assert df["none"].isna().all()
    store.write_unit(tmp_path, "d", {"x": "text"}, frame())  # a string in one unit: object column
    df = runner.load(tmp_path)
    assert df["x"].tolist()[-4:] == ["text"] * 4 and df["x"].tolist()[:4] == [1, 1, 1, 1]


def test_an_id_column_named_like_a_parameter_is_parsed(tmp_path):
    # the unit's own column wins over the parameter of the same name (it is not constant)
    store.write_unit(tmp_path, "a", {"agent": 7, "q": 1}, frame(agent=[0, 1, 0, 1]))
    store.write_unit(tmp_path, "b", {"agent": 7, "q": 1}, frame(agent=[7, 7, 7, 7]))  # constant, but its own
    df = runner.load(tmp_path)
    same(df, parsed(tmp_path))
    assert df["agent"].tolist() == [0, 1, 0, 1, 7, 7, 7, 7]


@pytest.mark.parametrize("compact", [False, True])
def test_catalogued_folder_equals_parsing_every_file(tmp_path, compact):
    spec = {
        "experiment": {"name": "l", "rounds": 30, "batch": 2, "record_every": 10, "seeds": 2},
        "function": {"name": "random_walk"},
        "grid": {"function.drift": [0.0, 0.5], "function.scale": [1, 2]},
    }
    out = tmp_path / "o"
    runner.run(spec, executor="serial", out=out, progress=False, compact=compact)
    df = runner.load(out)
    assert df["unit"].nunique() == 8 and len(df) == 8 * 3 * 2
    ref = parsed(out)[list(df.columns)]
    key = ["unit", "metric", "round"]
    same(df.sort_values(key).reset_index(drop=True), ref.sort_values(key).reset_index(drop=True))


def test_folder_of_parts_and_loose_files(tmp_path):
    spec = {
        "experiment": {"name": "m", "rounds": 30, "batch": 2, "record_every": 10, "seeds": 3},
        "function": {"name": "random_walk"},
        "grid": {"function.drift": [0.0, 0.5, 1.0]},
    }
    out = tmp_path / "o"
    runner.run(spec, executor="serial", out=out, progress=False, compact=False)
    key = ["unit", "metric", "round"]
    before = runner.load(out).sort_values(key).reset_index(drop=True)
    keys = sorted(before["unit"].unique())
    assert runner.compact(out, keys=keys[:5])["units"] == 5  # mid-sweep: 1 part, 4 loose files
    assert len(list((out / "units").glob("*.parquet"))) == 4
    after = runner.load(out, strict=True)
    same(after.sort_values(key).reset_index(drop=True), before)
    sub = runner.load(out, columns=["unit", "value"], filters=[("function.drift", "=", 0.5)])
    assert sorted(set(sub["unit"])) == sorted(set(before.loc[before["function.drift"] == 0.5, "unit"]))
