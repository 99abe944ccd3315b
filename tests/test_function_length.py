"""No function or method of the library (coopsim/, envs/, mechanisms/) is longer than 80 lines.

Length is counted from the ``def`` line to the function's last line (``end_lineno - lineno + 1``,
docstring and comments included, decorators excluded), nested functions separately. A longer
function is split into named steps, or listed in ``ALLOWED`` with the reason it stays whole.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("coopsim", "envs", "mechanisms")
MAX_LINES = 80

#: ``"path/to/module.py::qualified.name": "why it stays longer than MAX_LINES"``
ALLOWED: dict[str, str] = {}


def long_functions(root: Path = ROOT, limit: int = MAX_LINES) -> dict[str, int]:
    """``{"path::qualname": lines}`` of every function longer than ``limit`` lines under ``PACKAGES``."""
    found: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str, rel: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    n = (child.end_lineno or child.lineno) - child.lineno + 1
                    if n > limit:
                        found[f"{rel}::{name}"] = n
                visit(child, f"{name}.", rel)
            else:
                visit(child, prefix, rel)

    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            visit(ast.parse(path.read_text(encoding="utf-8"), filename=rel), "", rel)
    return found


def test_no_function_longer_than_the_limit():
    too_long = {k: n for k, n in long_functions().items() if k not in ALLOWED}
    assert not too_long, (
        f"functions longer than {MAX_LINES} lines (split them, or list them in ALLOWED with a reason): "
        + ", ".join(f"{k} ({n} lines)" for k, n in sorted(too_long.items()))
    )


def test_allow_list_is_current_and_explained():
    found = long_functions()
    stale = sorted(k for k in ALLOWED if k not in found)
    assert not stale, f"ALLOWED lists functions that are no longer too long (remove them): {stale}"
    assert all(reason.strip() for reason in ALLOWED.values())


def test_the_scan_sees_a_long_function(tmp_path):
    pkg = tmp_path / "coopsim"
    pkg.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (pkg / "m.py").write_text(f"class C:\n    def long(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n")
    (pkg / "short.py").write_text("def short():\n    return 1\n")
    assert long_functions(tmp_path) == {"coopsim/m.py::C.long": MAX_LINES + 1}
