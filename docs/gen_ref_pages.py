"""Generate one API reference page per public module (run by mkdocs-gen-files at every build).

The distribution maps several source folders into one import namespace (``coopsim/`` ->
``coopsim``, ``envs/`` -> ``coopsim.envs``, ``mechanisms/`` -> ``coopsim.mechanisms``: the
``[tool.setuptools] package-dir`` table of pyproject.toml, read here). mkdocstrings reads sources statically, so
the build first lays out that namespace as a tree of symbolic links under ``build/apisrc/``
(the handler's search path in mkdocs.yml; ``docs/hooks.py`` calls :func:`stage_sources` when the
build starts), then this script writes ``reference/<module path>.md`` pages and
the ``reference/SUMMARY.md`` navigation. A module or package whose name starts with ``_`` is
private and gets no page; a module added later gets its page at the next build.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGE = ROOT / "build" / "apisrc"


def _package_dirs() -> dict[str, Path]:
    """Import-name prefix -> source folder, from ``[tool.setuptools] package-dir`` of pyproject.toml."""
    with open(ROOT / "pyproject.toml", "rb") as fh:
        mapping = tomllib.load(fh)["tool"]["setuptools"]["package-dir"]
    return {name: ROOT / folder for name, folder in mapping.items() if name.split(".")[0] == "coopsim"}


#: import-name prefix -> source folder (``coopsim``, ``coopsim.envs``, ``coopsim.mechanisms``, ...)
SOURCES = _package_dirs()


def public_modules() -> list[str]:
    """Dotted names of every public module and package of the three source folders, sorted."""
    names: set[str] = set()
    for prefix, folder in SOURCES.items():
        if not (folder / "__init__.py").exists():
            continue  # a data-only package (example specs) has no API
        names.add(prefix)
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if any(p.startswith("_") or p == "__pycache__" for p in parts):
                continue
            if not all((folder.joinpath(*parts[:i]) / "__init__.py").exists() for i in range(1, len(parts))):
                continue  # a folder without __init__.py is not a package of the distribution
            names.add(".".join([prefix, *parts]))
    return sorted(names)


def stage_sources() -> Path:
    """Lay out the import namespace as symbolic links under ``build/apisrc`` and return it."""
    if STAGE.exists():
        shutil.rmtree(STAGE)
    top = STAGE / "coopsim"
    top.mkdir(parents=True)
    # sub-packages mapped to their own folders, e.g. {"envs": ROOT/"envs"} (one level below coopsim)
    mounted = {name.split(".", 1)[1]: folder for name, folder in SOURCES.items() if name.count(".") == 1}
    for entry in SOURCES["coopsim"].iterdir():
        if entry.name not in mounted:
            os.symlink(entry, top / entry.name)
    for name, folder in mounted.items():
        os.symlink(folder, top / name)
    return STAGE


def is_package(name: str) -> bool:
    """Whether the dotted ``name`` is a package (a folder with ``__init__.py``)."""
    prefix = max((p for p in SOURCES if name == p or name.startswith(p + ".")), key=len)
    rest = name[len(prefix) :].lstrip(".").split(".") if name != prefix else []
    return (SOURCES[prefix].joinpath(*rest) / "__init__.py").exists()


def write_pages() -> None:
    """Write the reference pages and their literate-nav summary through mkdocs-gen-files."""
    import mkdocs_gen_files

    nav = mkdocs_gen_files.Nav()
    for name in public_modules():
        parts = name.split(".")
        doc = (
            Path("reference", *parts, "index.md")
            if is_package(name)
            else Path("reference", *parts[:-1], f"{parts[-1]}.md")
        )
        nav[tuple(parts)] = doc.relative_to("reference").as_posix()
        with mkdocs_gen_files.open(doc, "w") as fh:
            fh.write(f"# `{name}`\n\n::: {name}\n")
    with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as fh:
        fh.writelines(nav.build_literate_nav())


if __name__ in ("__main__", "<run_path>"):  # run by mkdocs-gen-files; docs/hooks.py stages the sources
    write_pages()
