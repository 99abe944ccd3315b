#!/usr/bin/env python3
"""Type-check coopsim as installed: ``coopsim`` plus ``coopsim.envs`` (``envs/``) and ``coopsim.mechanisms``
(``mechanisms/``), with the ``[tool.mypy]`` settings of ``pyproject.toml``.

mypy cannot follow setuptools' ``package-dir`` mapping (an editable install maps it with an import
hook, which mypy does not run), and ``mypy coopsim envs mechanisms`` would name the modules
``envs.*``. So this script mirrors the installed layout with symlinks under
``.mypy_cache/layout/`` (one per top-level entry, rebuilt every run, nothing copied), runs
``mypy -p coopsim`` there and prints error paths as repository paths.

Usage, from anywhere:  python tools/typecheck.py [extra mypy arguments]

Gate (what CI enforces): the whole library is mypy clean, ``coopsim.core`` under strict settings,
the rest under the lenient ones of ``pyproject.toml``. Exit status 0 when there is no error, 1 on any
error (2 for bad usage).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_layout(root: Path = ROOT) -> Path:
    """Symlink farm ``<root>/.mypy_cache/layout/coopsim`` mirroring the installed package tree."""
    mapping = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    layout = root / ".mypy_cache" / "layout"
    if layout.exists():
        shutil.rmtree(layout)
    pkg = layout / "coopsim"
    pkg.mkdir(parents=True)
    for entry in (root / mapping["coopsim"]).iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    for package, folder in mapping.items():
        sub = package.removeprefix("coopsim.")
        if package != "coopsim" and "." not in sub and any((root / folder).glob("*.py")):
            (pkg / sub).symlink_to(root / folder, target_is_directory=True)
    return layout


def main(argv: list[str]) -> int:
    layout = build_layout()
    mapping = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "coopsim", *argv]
    env = {**os.environ, "MYPYPATH": str(layout)}
    proc = subprocess.run(cmd, cwd=layout, env=env, capture_output=True, text=True)
    # coopsim/envs/x.py -> envs/x.py (the file to edit)
    renames = sorted(
        (
            (f"coopsim/{p.removeprefix('coopsim.').replace('.', '/')}/", f"{f}/")
            for p, f in mapping.items()
            if p != "coopsim"
        ),
        key=lambda r: -len(r[0]),
    )
    errors = 0
    for line in (proc.stdout + proc.stderr).splitlines():
        for old, new in renames:
            if line.startswith(old):
                line = new + line[len(old) :]
                break
        print(line)
        if ": error:" in line:
            errors += 1
    if proc.returncode not in (0, 1):
        return proc.returncode
    print(f"typecheck: {errors} error(s) (must be 0)")
    return 0 if errors == 0 and proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
