"""The experiments table of experiments/README.md agrees with the specs it lists.

Every spec under ``experiments/specs/`` has exactly one row; each row's kind, rounds, batch,
seeds and unit count are those the spec resolves to (``coopsim.runner.load_spec``: defaults
applied, grids and seeds expanded), and the script it names exists. Run this file as a script to
print the generated columns for every spec::

    python tests/test_experiments_table.py
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "experiments" / "README.md"
SPECS = sorted((ROOT / "experiments" / "specs").glob("*.toml"))
COLUMNS = ("spec", "kind", "script", "what the figure shows", "rounds", "batch", "seeds", "units")


def _values(values: set[int]) -> str:
    return ", ".join(str(v) for v in sorted(values))


def expected_columns(path: Path) -> dict[str, str]:
    """The table cells the spec determines: kind, rounds, batch, seeds and units."""
    from coopsim.runner import load_spec
    from coopsim.runner.spec import env_module

    spec = load_spec(path, build=False)
    points = [cfg for cfg, _ in spec.points()]
    if "function" in spec.base:
        kind = f"function `{spec.base['function']['name']}`"
    else:
        kind = "game" if hasattr(env_module(spec.base["env"]["name"]), "make_game") else "native"
    return {
        "kind": kind,
        "rounds": _values({c["experiment"]["rounds"] for c in points}),
        "batch": _values({c["experiment"]["batch"] for c in points}),
        "seeds": str(len(spec.replicates)),
        "units": str(len(spec.units())),
    }


def table_rows(text: str) -> dict[str, dict[str, str]]:
    """Rows of every Markdown table whose header is ``COLUMNS``, keyed by the spec file name."""
    rows: dict[str, dict[str, str]] = {}
    header = "| " + " | ".join(COLUMNS) + " |"
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != header:
            continue
        for row in lines[i + 2 :]:
            if not row.startswith("|"):
                break
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]
            assert len(cells) == len(COLUMNS), f"experiments/README.md: row with {len(cells)} cells: {row}"
            name = cells[0].strip("`")
            assert name not in rows, f"experiments/README.md lists {name} twice"
            rows[name] = dict(zip(COLUMNS, cells))
    return rows


def test_table_parser_reads_rows():
    text = "| " + " | ".join(COLUMNS) + " |\n|---|---|---|---|---|---|---|---|\n"
    text += "| `a.toml` | game | – | x \\| y | 10 | 2 | 1 | 3 |\n\nafter\n"
    assert table_rows(text) == {"a.toml": dict(zip(COLUMNS, ["`a.toml`", "game", "–", "x \\| y", "10", "2", "1", "3"]))}


def test_every_spec_has_one_row_and_every_row_a_spec():
    rows = table_rows(README.read_text(encoding="utf-8"))
    names = {p.name for p in SPECS}
    assert names - set(rows) == set(), f"specs missing from experiments/README.md: {sorted(names - set(rows))}"
    assert set(rows) - names == set(), f"rows without a spec: {sorted(set(rows) - names)}"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_row_matches_the_spec(path):
    row = table_rows(README.read_text(encoding="utf-8")).get(path.name)
    if row is None:
        pytest.fail(f"{path.name} has no row in experiments/README.md")
    expected = expected_columns(path)
    got = {k: row[k] for k in expected}
    got["kind"] = re.sub(r"\s*\(.*\)$", "", got["kind"])  # a note in parentheses may follow the kind
    assert got == expected, f"experiments/README.md row for {path.name}: has {got}, the spec gives {expected}"
    for script in re.findall(r"`([\w/]+\.py)`", row["script"]):
        assert (ROOT / "experiments" / script).exists(), f"{path.name}: script experiments/{script} does not exist"


def test_no_timings_in_the_table():
    """Timings depend on the machine and drift; the table states none (the specs' sizes instead)."""
    for name, row in table_rows(README.read_text(encoding="utf-8")).items():
        assert not re.search(r"~?\d+(\.\d+)?\s*s\b", row["what the figure shows"]), f"{name}: a timing in the table"


if __name__ == "__main__":
    for p in SPECS:
        c = expected_columns(p)
        print(f"| `{p.name}` | {c['kind']} | | | {c['rounds']} | {c['batch']} | {c['seeds']} | {c['units']} |")
