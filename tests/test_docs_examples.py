"""Every ```python block of README.md and docs/**/*.md runs as written, and prints what the page says.

The blocks of one page share a namespace and run in order, like a doctest session, in a child
process whose working directory is a fresh temporary folder (so anything a block writes stays out of
the tree, and a block that registers a plugin cannot leak into other tests); ``experiments/`` is
linked into it, so a block names a spec as a user in the repository root would. Each block has its own
timeout (``COOPSIM_DOC_BLOCK_TIMEOUT`` seconds, default 120).

Stated results are checked: a fenced block whose info string is ``output`` placed right after a
python block is that block's expected standard output, compared like a doctest (``...`` matches
anything, runs of whitespace are equal). A block opts out of execution only with the info string
``python no-run`` (for things that need a cluster); the test lists those so they stay rare.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from doctest import ELLIPSIS, NORMALIZE_WHITESPACE, OutputChecker
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
TIMEOUT = int(os.environ.get("COOPSIM_DOC_BLOCK_TIMEOUT", "120"))
#: blocks allowed to skip execution: (page, first line of the block) -> why
NO_RUN_ALLOWED: dict[tuple[str, str], str] = {}

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")


@dataclass
class Block:
    """One fenced block: its info string, code, first line number and expected output (or None)."""

    info: str
    code: str
    line: int
    expected: str | None = None

    @property
    def language(self) -> str:
        return self.info.split()[0] if self.info.split() else ""

    @property
    def runs(self) -> bool:
        return self.language == "python" and "no-run" not in self.info.split()[1:]


def fenced_blocks(text: str) -> list[Block]:
    """All fenced code blocks of a Markdown text, in order (nested fences of other lengths kept)."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent, start = m["fence"], len(m["indent"]), i
        body: list[str] = []
        i += 1
        while i < len(lines) and not re.match(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[i]):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        blocks.append(Block(m["info"].strip(), "\n".join(body) + "\n", start + 1))
        i += 1
    return blocks


def python_blocks(text: str) -> list[Block]:
    """The python blocks of a Markdown text, each with the ``output`` block that directly follows it."""
    out: list[Block] = []
    previous: Block | None = None
    for b in fenced_blocks(text):
        if b.language == "python":
            out.append(b)
        elif b.language == "output" and previous is not None and previous.language == "python":
            previous.expected = b.code
        previous = b
    return out


def page_blocks(path: Path) -> list[Block]:
    return python_blocks(path.read_text(encoding="utf-8"))


_CHILD = textwrap.dedent(
    """
    import contextlib, io, json, signal, sys, traceback
    blocks, timeout = json.load(sys.stdin), int(sys.argv[1])
    def _alarm(signum, frame):
        raise TimeoutError(f"block ran past {timeout} s")
    signal.signal(signal.SIGALRM, _alarm)
    namespace = {"__name__": "__main__"}
    results = []
    for code, name in blocks:
        buf = io.StringIO()
        signal.alarm(timeout)
        try:
            with contextlib.redirect_stdout(buf):
                exec(compile(code, name, "exec"), namespace)
            error = None
        except BaseException:
            error = traceback.format_exc(limit=-6)
        finally:
            signal.alarm(0)
        results.append({"stdout": buf.getvalue(), "error": error})
        if error:
            break
    json.dump(results, sys.__stdout__)
    """
)


def run_page(path: Path, cwd: Path, timeout: int = TIMEOUT) -> tuple[list[Block], list[dict]]:
    """Run a page's runnable blocks in one child process; return the blocks and their results."""
    blocks = [b for b in page_blocks(path) if b.runs]
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    if not (cwd / "experiments").exists():  # examples name specs as a user in the repository root does
        (cwd / "experiments").symlink_to(ROOT / "experiments", target_is_directory=True)
    payload = json.dumps([(b.code, f"{rel}:{b.line}") for b in blocks])
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(timeout)],
        input=payload,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout * max(len(blocks), 1) + 60,
    )
    assert proc.returncode == 0, f"{rel}: the runner died:\n{proc.stderr[-3000:]}"
    return blocks, json.loads(proc.stdout)


def _pages_with_python() -> list[Path]:
    return [p for p in PAGES if any(b.runs for b in page_blocks(p))]


# --- the harness itself -------------------------------------------------------------------------


def test_fence_parser_reads_info_output_and_nesting():
    text = "x\n```python\na = 1\nprint(a)\n```\n\n```output\n1\n```\n````markdown\n```python\nnot a block\n```\n````\n"
    blocks = python_blocks(text)
    assert [(b.code, b.expected, b.line) for b in blocks] == [("a = 1\nprint(a)\n", "1\n", 2)]


def test_harness_reports_a_failing_block_and_a_wrong_output(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 2\nprint(x * 3)\n```\n```output\n7\n```\n```python\nundefined_name\n```\n")
    blocks, results = run_page(page, tmp_path, timeout=30)
    assert results[0]["stdout"] == "6\n" and results[0]["error"] is None
    assert not OutputChecker().check_output(blocks[0].expected, results[0]["stdout"], ELLIPSIS)
    assert "NameError" in results[1]["error"]


def test_no_run_blocks_are_rare_and_justified():
    skipped = {
        (p.relative_to(ROOT).as_posix(), b.code.splitlines()[0] if b.code.strip() else "")
        for p in PAGES
        for b in page_blocks(p)
        if b.language == "python" and not b.runs
    }
    assert skipped <= set(NO_RUN_ALLOWED), f"python no-run blocks need a reason in NO_RUN_ALLOWED: {skipped}"


def test_there_are_examples_to_run():
    assert len(_pages_with_python()) >= 10


# --- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", _pages_with_python(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_examples_run_and_print_what_the_page_states(path, tmp_path):
    blocks, results = run_page(path, tmp_path)
    rel = path.relative_to(ROOT).as_posix()
    for block, res in zip(blocks, results):
        assert res["error"] is None, f"{rel}:{block.line} fails:\n{res['error']}"
        if block.expected is not None:
            ok = OutputChecker().check_output(block.expected, res["stdout"], ELLIPSIS | NORMALIZE_WHITESPACE)
            assert ok, f"{rel}:{block.line} prints\n{res['stdout']}\nbut the page states\n{block.expected}"
    assert len(results) == len(blocks)
