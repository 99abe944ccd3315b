"""The docs, the library and the printed report cards cite papers, not material a user cannot see.

Forbidden anywhere in README.md, docs/ (pages and notebook cells), experiments/ (notes, scripts,
specs), the library source (coopsim/, envs/, mechanisms/) and the printed output of
``coopsim audit`` / ``coopsim report`` for one mechanism per family:

- internal specification sections ("spec §6.2", "learning spec §8.5", "spec section 9.3");
- a "§" that is not part of a paper citation (allowed right after a year: "Moulin (1980), §3");
- issue numbers ("issue 2", "issues 2–7");
- paths outside the repository ("../shared", "shared/specs", "/work/...") and Markdown file
  names that exist nowhere in the repository (the internal specification files).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {".git", ".venv", "build", "site", "results", "__pycache__", ".pytest_cache", ".hypothesis", "node_modules"}

#: (name, pattern) of every forbidden reference
RULES: list[tuple[str, re.Pattern[str]]] = [
    ("internal spec section", re.compile(r"\bspec(?:'s)?\s*(?:§|section\b|\d+\.\d+|\d+\b)|\bspecs?/[\w-]+\.md", re.I)),
    (
        "internal spec by name",
        re.compile(
            r"\b(?:facility|learning|auction|position[- ]auctions?|agent[- ]economy|information[- ]acquisition|"
            r"interop)\s+spec\b|\bspecification's\b|\bthe spec's\s+(?:table|values?|formulas?|closed forms?|"
            r"verdicts?|tolerances?|targets?|rule|SP)\b|\bas in the spec\b",
            re.I,
        ),
    ),
    ("issue number", re.compile(r"\b[Ii]ssues?\s+#?\d|\(#\d+\)|\bthe issue's\b|\bthe issues? (?:put|asks?|says)\b")),
    ("path outside the repository", re.compile(r"\.\./shared\b|(?<![\w.-])shared/|/work/")),
]
#: a "§" is part of a paper citation when it follows a year: "Moulin (1980), §3", "Sutton & Barto 2018, §2.8"
_CITED_SECTION = re.compile(r"(?:19|20)\d\d[a-z]?\)?,?\s*$")
_MD_NAME = re.compile(r"(?<![\w/.-])([\w.-]+\.md)\b")


def repo_markdown_names() -> set[str]:
    names = set()
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        names.update(f for f in filenames if f.endswith(".md"))
    return names


def violations(text: str, md_names: set[str]) -> list[tuple[str, str]]:
    """``(rule, excerpt)`` for every forbidden reference in ``text``."""
    found = []
    for rule, pattern in RULES:
        for m in pattern.finditer(text):
            found.append((rule, text[max(0, m.start() - 50) : m.end() + 30].replace("\n", " ")))
    for m in re.finditer("§", text):
        if not _CITED_SECTION.search(text[max(0, m.start() - 12) : m.start()]):
            found.append(("section sign outside a paper citation", text[max(0, m.start() - 50) : m.end() + 20]))
    for m in _MD_NAME.finditer(text):
        if m.group(1) not in md_names and not m.group(1).startswith(("report.", "README.")):
            found.append(("Markdown file not in the repository", text[max(0, m.start() - 50) : m.end() + 10]))
    return found


def scanned_files() -> list[Path]:
    """README.md, docs/, experiments/ and the library source (coopsim/, envs/, mechanisms/)."""
    out = [ROOT / "README.md"]
    for top, exts in (
        ("docs", (".md", ".ipynb", ".py")),
        ("experiments", (".md", ".py", ".toml")),
        ("coopsim", (".py",)),
        ("envs", (".py",)),
        ("mechanisms", (".py",)),
    ):
        for dirpath, dirnames, filenames in os.walk(ROOT / top):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
            out += [Path(dirpath) / f for f in filenames if f.endswith(exts)]
    return sorted(out)


def _joined(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def file_text(path: Path) -> str:
    """The text a reader sees: a notebook's cell sources and stored text outputs (the site renders
    them), any other file whole."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    parts = []
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        parts.append(_joined(cell.get("source", [])))
        for out in cell.get("outputs", []):
            parts.append(_joined(out.get("text", [])))
            parts += [_joined(v) for k, v in out.get("data", {}).items() if k.startswith("text/") and k != "text/html"]
    return "\n".join(parts)


# --- the rules themselves ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "the facility spec's closed forms (§6.2)",
        "learning spec §8.5",
        "spec section 9.3 (4)",
        "see `shared/specs/agent_economy.md`",
        "departs from `../shared/ARCHITECTURE.md`",
        "Every experiment of issues 2–7",
        "(issue 2's newcomer experiment)",
        "| axiom | claimed | spec §6.2 |",
        "as in the spec",
        "see the issue's closing note",
        "the spec's table (§6.2)",
        "spec `position_auctions.md`",
    ],
)
def test_rules_catch_internal_references(text):
    assert violations(text, {"facility_location.md"}), text


@pytest.mark.parametrize(
    "text",
    [
        "Moulin (1980), §3",
        "Sutton & Barto 2018, §2.8",
        "Cesa-Bianchi and Lugosi 2006, Thm 2.2",
        "an experiment spec names mechanisms; `coopsim run SPEC`",
        "range_respecting, strategyproof",
        "see [the facility page](envs/facility_location.md)",
        "the TOML spec's key path",
        "results of another spec (fingerprint 5c1e, this spec 0b7a)",
    ],
)
def test_rules_allow_paper_citations_and_experiment_specs(text):
    assert violations(text, {"facility_location.md"}) == [], text


# --- the repository ----------------------------------------------------------------------------


def test_docs_and_library_cite_papers_only():
    md_names = repo_markdown_names()
    bad = []
    for path in scanned_files():
        for rule, excerpt in violations(file_text(path), md_names):
            bad.append(f"{path.relative_to(ROOT)}: {rule}: ...{excerpt}...")
    assert not bad, "references a reader cannot follow:\n" + "\n".join(bad)


# --- printed report cards ----------------------------------------------------------------------

#: one mechanism per family the command line can build from its name alone
CLI_AUDITS = {
    "facility": ["uniform_phantom", "n_agents=3"],
    "budget": ["independent_markets"],
    "auctions": ["gsp"],
    "scoring": ["quadratic"],
    "gates": ["weakest_link_gate"],
}


_CHILD = """
import contextlib, io, json, sys
from coopsim.cli import main
out = {}
for family, args in json.loads(sys.argv[1]).items():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["audit", *args])
    out[family] = {"code": code, "stdout": buf.getvalue()}
json.dump(out, sys.__stdout__)
"""


@pytest.fixture(scope="module")
def printed_audits(tmp_path_factory) -> dict[str, dict]:
    """``coopsim audit`` for every family of ``CLI_AUDITS``, through the CLI entry point, in one child process."""
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(CLI_AUDITS)],
        cwd=tmp_path_factory.mktemp("audits"),
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("family", sorted(CLI_AUDITS))
def test_printed_audit_cites_papers_only(family, printed_audits):
    res = printed_audits[family]
    assert res["code"] == 0 and "# Report card" in res["stdout"]
    assert violations(res["stdout"], repo_markdown_names()) == []


def test_information_card_cites_papers_only():
    from coopsim.mechanisms.information import instance_b

    from coopsim import mechanisms, report

    if "information_lp" not in mechanisms.available():
        pytest.skip("no information-family mechanism registered")
    card = report.audit("information_lp", {"model": instance_b()})
    assert violations(card.markdown(), repo_markdown_names()) == []


@pytest.mark.slow
def test_printed_full_report_cites_papers_only(tmp_path):
    args = ["report", "uniform_phantom", "--profiles", "64", "--n", "2", "3", "--out", "card"]
    proc = subprocess.run(
        [sys.executable, "-m", "coopsim.cli", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=dict(os.environ, MPLBACKEND="Agg"),
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout + (tmp_path / "card" / "report.md").read_text(encoding="utf-8")
    assert "closed form" in text and "Aziz" in text  # the ratio table names its source
    assert violations(text, repo_markdown_names()) == []
