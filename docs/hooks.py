"""MkDocs hook: lay out the ``coopsim`` import namespace for mkdocstrings before the build starts.

mkdocstrings resolves its search paths when it is configured, before mkdocs-gen-files runs, so
the symbolic-link tree of ``docs/gen_ref_pages.py`` must exist by then (a clean checkout has none).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

_spec = importlib.util.spec_from_file_location("coopsim_gen_ref_pages", Path(__file__).with_name("gen_ref_pages.py"))
assert _spec is not None and _spec.loader is not None
gen_ref_pages = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_ref_pages)


def on_startup(**kwargs: Any) -> None:
    gen_ref_pages.stage_sources()


def on_config(config: Any, **kwargs: Any) -> Any:
    gen_ref_pages.stage_sources()  # `mkdocs serve` rebuilds call on_config again
    return config
