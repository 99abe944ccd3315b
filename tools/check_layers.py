#!/usr/bin/env python3
"""Check coopsim's import layering: imports point down only (see docs/design.md, "Layers").

Usage, from the project root:  python tools/check_layers.py [ROOT]
Prints ``layers: ok``, or lists each violation as ``file:line  importer -> imported  (rule)`` and
exits 1. Every import counts, at module level or inside a function. ``from package import name``
also counts as an import of ``package.name`` when that is a module of the project.

A rule ``(importer, forbidden, why)`` matches modules by prefix: ``"a.b"`` is ``a.b`` and
everything below it, ``"a.b.*"`` only what is below ``a.b`` (not the package ``a.b`` itself) and
``"=a.b"`` the package ``a.b`` alone (its ``__init__``).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

# Folder on disk -> import package it is installed as.
FOLDERS = {"coopsim": "coopsim", "envs": "coopsim.envs", "mechanisms": "coopsim.mechanisms"}

# The layering of the packages (the shared rule set of the project's architecture).
BASE_RULES = [
    ("coopsim.mechanisms", "coopsim.envs", "mechanisms are usable without environments"),
    ("coopsim.mechanisms", "coopsim.agents", "mechanisms know nothing of learners"),
    ("coopsim.mechanisms", "coopsim.runner", "mechanisms know nothing of the runner"),
    ("coopsim.mechanisms", "coopsim.interop", "mechanisms know nothing of gym/pettingzoo"),
    ("coopsim.mechanisms", "gymnasium", "mechanisms know nothing of gym"),
    ("coopsim.mechanisms", "pettingzoo", "mechanisms know nothing of pettingzoo"),
    ("coopsim.agents", "coopsim.envs", "learners see arrays, not environments"),
    ("coopsim.agents", "coopsim.mechanisms", "learners see arrays, not mechanisms"),
    ("coopsim.agents", "gymnasium", "learners see arrays, not gym"),
    ("coopsim.agents", "pettingzoo", "learners see arrays, not pettingzoo"),
    ("coopsim.core", "coopsim.envs", "the core is below the domain games"),
    ("coopsim.core", "coopsim.mechanisms", "the core is below the mechanisms"),
    ("coopsim.core", "coopsim.runner", "the core is below the runner"),
    ("coopsim.analysis", "coopsim.envs", "generic analyses work on any game"),
    ("coopsim.analysis", "coopsim.runner", "analyses are below the runner"),
    ("coopsim.interop", "coopsim.runner", "adapters are below the runner"),
    ("coopsim.envs", "coopsim.runner", "games are below the runner"),
    ("coopsim.envs", "coopsim.cli", "games are below the CLI"),
    ("coopsim.runner", "coopsim.cli", "the runner is below the CLI"),
    ("coopsim.mechanisms", "coopsim.design", "learned mechanisms are served by numpy classes"),
    ("coopsim.mechanisms", "coopsim.report", "report cards are above the mechanisms"),
    ("coopsim.envs", "coopsim.report", "report cards are above the games"),
    ("coopsim.analysis", "coopsim.report", "report cards are above the analyses"),
    ("coopsim.report", "coopsim.runner", "report cards are below the runner"),
    ("coopsim.report", "coopsim.cli", "report cards are below the CLI"),
    ("coopsim.design", "coopsim.runner", "design is below the runner"),
    ("coopsim.design", "coopsim.cli", "design is below the CLI"),
    ("coopsim.dynamics", "coopsim.runner", "dynamics are below the runner"),
]

#: mechanism families (one sub-package each) and the other families each may import, with why
FAMILIES = ("auctions", "facility", "gates", "information", "scoring")
FAMILY_USES = {
    # information acquisition pays reports with proper scoring rules (the scoring plug-in, the
    # eps-strict mix and the online principal's quadratic score): scoring is its building block
    "information": {"scoring"},
}

#: env modules that may import other env modules (their own parts), and the env helpers all may use
ENV_PARTS = {
    "agent_economy": ("agent_economy_archetypes", "agent_economy_market"),
}
ENV_SHARED = ("_checks",)


def _family_rules() -> list[tuple[str, str, str]]:
    rules = []
    for fam in FAMILIES:
        here = f"coopsim.mechanisms.{fam}"
        for other in FAMILIES:
            if other != fam and other not in FAMILY_USES.get(fam, ()):
                rules.append((here, f"coopsim.mechanisms.{other}", "mechanism families are independent"))
        rules.append(
            (here, "=coopsim.mechanisms", "a family reaches the mechanisms package only through base/registry")
        )
        rules.append((here, "coopsim.mechanisms.learned", "learned mechanisms are above the families"))
    return rules


def _env_rules(root: Path) -> list[tuple[str, str, str]]:
    """Each env module or package imports no other env module except its own parts and the shared
    helpers (``coopsim.envs`` itself, the registry, is allowed)."""
    folder = root / "envs"
    names = sorted(
        p.stem if p.is_file() else p.name
        for p in folder.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())
    )
    rules = []
    for env in names:
        if env in ENV_SHARED or any(env in parts for parts in ENV_PARTS.values()):
            continue
        allowed = {env, *ENV_SHARED, *ENV_PARTS.get(env, ())}
        for other in names:
            if other not in allowed:
                rules.append((f"coopsim.envs.{env}", f"coopsim.envs.{other}", "env modules are independent"))
    return rules


# The rules of the packages added since: each states a layer boundary documented in docs/design.md.
EXTRA_RULES = [
    # the lowest layer
    ("coopsim.core", "coopsim.agents", "the core is below the learners"),
    ("coopsim.core", "coopsim.analysis", "the core is below the analyses"),
    ("coopsim.core", "coopsim.dynamics", "the core is below the dynamics"),
    ("coopsim.core", "coopsim.design", "the core is below design"),
    ("coopsim.core", "coopsim.report", "the core is below the report cards"),
    ("coopsim.core", "coopsim.cli", "the core is below the CLI"),
    ("coopsim.core", "coopsim.plotting", "the core is below the figures"),
    ("coopsim.core", "coopsim.listing", "the core is below the CLI"),
    ("coopsim.analysis", "coopsim.mechanisms", "generic analyses work on any mechanism"),
    ("coopsim.analysis", "coopsim.agents", "analyses are below the learners"),
    ("coopsim.analysis", "coopsim.dynamics", "analyses are below the dynamics that record them"),
    ("coopsim.analysis", "coopsim.design", "analyses are below design"),
    ("coopsim.analysis", "coopsim.cli", "analyses are below the CLI"),
    ("coopsim.analysis", "coopsim.plotting", "analyses are below the figures"),
    ("coopsim.interop", "coopsim.envs.*", "adapters read the env registry (coopsim.envs), never an env module"),
    ("coopsim.interop", "coopsim.dynamics", "adapters are below the dynamics"),
    ("coopsim.interop", "coopsim.report", "adapters are below the report cards"),
    # mechanisms and learners: pure numpy
    ("coopsim.mechanisms", "coopsim.dynamics", "mechanisms know nothing of learning dynamics"),
    ("coopsim.mechanisms", "coopsim.plotting", "mechanisms do not draw"),
    ("coopsim.agents", "coopsim.dynamics", "learners do not know the loop that drives them"),
    ("coopsim.agents", "coopsim.runner", "learners are below the runner"),
    ("coopsim.agents", "coopsim.report", "learners are below the report cards"),
    ("coopsim.agents", "coopsim.cli", "learners are below the CLI"),
    # dynamics: any game, below the runner
    ("coopsim.dynamics", "coopsim.envs", "dynamics work on any MechanismGame, not on a domain"),
    ("coopsim.dynamics", "coopsim.mechanisms", "dynamics work on any game, not on a mechanism family"),
    ("coopsim.dynamics", "coopsim.design", "dynamics are below design"),
    ("coopsim.dynamics", "coopsim.report", "dynamics are below the report cards"),
    ("coopsim.dynamics", "coopsim.cli", "dynamics are below the CLI"),
    ("coopsim.dynamics", "coopsim.listing", "dynamics are below the CLI"),
    # games: below design, the report cards and the runner
    ("coopsim.envs", "coopsim.design", "games are below design"),
    ("coopsim.envs", "coopsim.listing", "games are below the CLI"),
    # design and report cards: below the runner and the CLI
    ("coopsim.design", "coopsim.report", "design is below the report cards"),
    ("coopsim.design", "coopsim.listing", "design is below the CLI"),
    ("coopsim.report", "coopsim.listing", "report cards are below the CLI"),
    ("coopsim.plotting", "coopsim.runner", "figures are drawn from tables, below the runner"),
    ("coopsim.plotting", "coopsim.report", "figures are below the report cards"),
    ("coopsim.plotting", "coopsim.cli", "figures are below the CLI"),
    ("coopsim.runner", "coopsim.listing", "the runner is below the CLI's listings"),
]

TORCH_HOME = ("coopsim.agents.torch", "coopsim.design")  # the only place torch may be imported at module level


def rules(root: Path) -> list[tuple[str, str, str]]:
    """Every rule: the base set, the packages added since, the families and the env modules."""
    return BASE_RULES + EXTRA_RULES + _family_rules() + _env_rules(root)


def module_name(path: Path, root: Path) -> str | None:
    rel = path.relative_to(root)
    pkg = FOLDERS.get(rel.parts[0])
    if pkg is None:
        return None
    parts = list(rel.with_suffix("").parts[1:])
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join([pkg, *parts])


def imports(tree: ast.AST, here: str, is_pkg: bool, modules: set[str]) -> Iterator[tuple[int, str, bool]]:
    """Yield ``(line, imported module, at_module_level)`` for every import in the tree
    (``from p import m`` yields ``p`` and, when ``p.m`` is one of ``modules``, ``p.m``)."""
    top_level = {id(n) for n in getattr(tree, "body", [])}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, id(node) in top_level
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield node.lineno, mod, id(node) in top_level
            for alias in node.names:
                if f"{mod}.{alias.name}" in modules:
                    yield node.lineno, f"{mod}.{alias.name}", id(node) in top_level


def under(name: str, pattern: str) -> bool:
    """``name`` matches ``pattern``: ``"=p"`` exactly p, ``"p.*"`` strictly below p, ``"p"`` p or below."""
    if pattern.startswith("="):
        return name == pattern[1:]
    if pattern.endswith(".*"):
        return name.startswith(pattern[:-1])
    return name == pattern or name.startswith(pattern + ".")


def source_files(root: Path) -> Iterator[tuple[Path, str]]:
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")) if (root / folder).is_dir() else []:
            here = module_name(path, root)
            if here is not None:
                yield path, here


def violations(root: Path) -> list[str]:
    """The violations under ``root``, one line each (empty when the layering holds)."""
    files = list(source_files(root))
    modules = {here for _, here in files}
    all_rules = rules(root)
    bad = []
    for path, here in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        except SyntaxError as err:
            bad.append(f"{path.relative_to(root)}: cannot parse ({err})")
            continue
        for line, mod, top in imports(tree, here, path.name == "__init__.py", modules):
            for importer, forbidden, why in all_rules:
                if under(here, importer) and under(mod, forbidden):
                    bad.append(f"{path.relative_to(root)}:{line}  {here} -> {mod}  ({why})")
            if top and under(mod, "torch") and not any(under(here, t) for t in TORCH_HOME):
                bad.append(
                    f"{path.relative_to(root)}:{line}  {here} -> torch at import time  (torch is optional: import it lazily)"
                )
    return list(dict.fromkeys(bad))


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    bad = violations(root)
    for row in bad:
        print(row)
    print(f"{len(bad)} layering violation(s)" if bad else "layers: ok")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
