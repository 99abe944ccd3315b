"""What ships with coopsim, for ``coopsim list`` and ``coopsim examples``: one entry per name.

Each :class:`Entry` carries a name, a tag (environment kind, mechanism family), Gymnasium ids for
environments, a one-line description (the first sentence of the docstring with reST/Markdown markup
removed — never cut mid-sentence) and the constructor parameters with their defaults, found by
introspection so they cannot drift from the code.

The example experiment specs live in the repository's ``experiments/specs/`` and are installed as
the package data ``coopsim.examples``; :func:`example_spec` finds one by name
(``coopsim run facility_compare``) and :func:`copy_examples` writes them out.
"""

from __future__ import annotations

import inspect
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from types import ModuleType
from typing import Any

from coopsim.core.registry import resolve

EMPTY = inspect.Parameter.empty


@dataclass(frozen=True)
class Entry:
    """One listed name: ``tag`` is the kind or family, ``params`` maps names to defaults (``EMPTY`` = required)."""

    name: str
    description: str
    tag: str = ""
    ids: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# descriptions: the first sentence of a docstring, markup removed
# ----------------------------------------------------------------------------------------------
_MARKUP = [
    (re.compile(r":[\w:.-]+:`([^`<]*?)\s*<[^`>]*>`"), r"\1"),  # :role:`text <target>` -> text
    (re.compile(r":[\w:.-]+:`~?(?:[\w.]*\.)?([^`]*)`"), r"\1"),  # :class:`~a.b.C` -> C
    (re.compile(r"``([^`]*)``"), r"\1"),  # ``code``
    (re.compile(r"`([^`]*)`_?"), r"\1"),  # `code` / `link`_
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\*\*([^*]+)\*\*"), r"\1"),  # **bold**
    (re.compile(r"(?<![\w*])\*(\S[^*]*?)\*(?![\w*])"), r"\1"),  # *emphasis*
]
#: words ending in a period that do not end a sentence
_ABBREVIATIONS = (
    "e.g.", "i.e.", "i.i.d.", "w.p.", "a.s.", "cf.", "vs.", "etc.", "al.", "resp.", "approx.",
    "Fig.", "Eq.", "Sec.", "Thm.", "Prop.", "No.",
)  # fmt: skip


def strip_markup(text: str) -> str:
    """``text`` with reST roles, inline literals, Markdown links and emphasis reduced to their words."""
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    return text


def first_sentence(doc: str | None) -> str:
    """The first sentence of the first paragraph of ``doc``, on one line, markup removed.

    A sentence ends at ``.``, ``!`` or ``?`` outside brackets, followed by the end of the paragraph
    or by a space and a capital letter or digit, unless the word is an abbreviation (``e.g.``, ``et al.``).
    A first paragraph that never ends a sentence is returned whole (never cut mid-sentence).
    """
    if not doc:
        return ""
    paragraph = re.split(r"\n\s*\n", inspect.cleandoc(doc).strip(), maxsplit=1)[0]
    text = strip_markup(" ".join(paragraph.split()))
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(depth - 1, 0)
        elif ch in ".!?" and depth == 0:
            rest = text[i + 1 :]
            if rest and not re.match(r"\s+[A-Z0-9]", rest):
                continue
            word = text[: i + 1].rsplit(" ", 1)[-1]
            if word in _ABBREVIATIONS:
                continue
            return text[: i + 1]
    return text


# ----------------------------------------------------------------------------------------------
# introspection
# ----------------------------------------------------------------------------------------------
def parameters(factory: Callable[..., Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """Named parameters of ``factory`` and their defaults (``EMPTY`` if required), minus ``skip``."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return {}
    drop = set(skip) | {"self"}
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in drop
    }


def _gym_ids() -> dict[str, tuple[str, ...]]:
    """Environment name -> its Gymnasium id ``coopsim/<Name>-v0`` (from the :mod:`coopsim.envs` registry)."""
    from coopsim import envs

    return {e.name: (f"coopsim/{e.gym_id}",) for e in envs.registered_envs() if e.gym_id}


def environments() -> list[Entry]:
    """Environment modules the runner drives: ``game`` (``make_game``) or ``native`` (a ``BatchedEnv``).

    Parameters are those of the game's constructor (what ``[env]`` keys set), or for a native env
    those of the class ``make_batched_env`` builds.
    """
    from coopsim.runner.spec import available_envs, env_module, game_factory

    ids = _gym_ids()
    out = []
    for name in available_envs():
        mod = env_module(name)
        if hasattr(mod, "make_game"):
            kind, params = "game", parameters(game_factory(mod))
        else:
            kind, params = "native", _native_parameters(mod)
        out.append(Entry(name, first_sentence(mod.__doc__), kind, ids.get(name, ()), params))
    return out


def _native_parameters(mod: ModuleType) -> dict[str, Any]:
    """Constructor parameters of the class a native env's ``make_batched_env`` builds."""
    make = getattr(mod, "make_batched_env", None)
    if make is None:
        return {}
    ann = inspect.signature(make).return_annotation
    cls = getattr(mod, ann, None) if isinstance(ann, str) else ann
    return parameters(cls if isinstance(cls, type) else make, skip=("render_mode",))


def mechanisms() -> list[Entry]:
    """Registered mechanisms (plugins included), tagged with their family."""
    from coopsim import mechanisms as mech

    out = []
    for name in mech.registry.names():
        factory = mech.registry.factory(name)
        module = getattr(factory, "__module__", "") or ""
        family = module.split(".")[2] if module.startswith("coopsim.mechanisms.") else (module or "plugin")
        out.append(Entry(name, first_sentence(factory.__doc__), family, (), parameters(factory)))
    return out


def learners() -> list[Entry]:
    """Registered learners; the runner fills ``n_actions``, ``batch``, ``n_agents`` and ``utility_range``."""
    from coopsim import agents
    from coopsim.runner.spec import LEARNER_RESERVED

    out = []
    for name in agents.registry.names():
        factory = agents.registry.factory(name)
        out.append(Entry(name, first_sentence(factory.__doc__), "", (), parameters(factory, LEARNER_RESERVED)))
    return out


def functions() -> list[Entry]:
    """Registered unit functions (``[function] name = ...``) with the keys they declare."""
    from coopsim.runner.units import FUNCTION_PARAMS, FUNCTIONS

    return [
        Entry(name, first_sentence(fn.__doc__), "", (), dict.fromkeys(FUNCTION_PARAMS.get(name) or (), EMPTY))
        for name, fn in sorted(FUNCTIONS.items())
    ]


# ----------------------------------------------------------------------------------------------
# example specs (package data coopsim.examples = the repository's experiments/specs)
# ----------------------------------------------------------------------------------------------
def _examples_dir() -> Traversable:
    try:
        return resources.files("coopsim.examples")
    except ModuleNotFoundError:  # an editable install made before the mapping existed
        return Path(__file__).resolve().parents[1] / "experiments" / "specs"


def example_specs() -> dict[str, Traversable]:
    """Name (file stem) -> the packaged example spec ``<name>.toml``, sorted by name."""
    files = [f for f in _examples_dir().iterdir() if f.name.endswith(".toml") and f.is_file()]
    return {f.name.removesuffix(".toml"): f for f in sorted(files, key=lambda f: f.name)}


def example_spec(name: str) -> Traversable:
    """The packaged spec called ``name`` (``"facility_compare"`` or ``"facility_compare.toml"``).

    Names are matched like registry names (case-insensitive if unique); an unknown one raises
    ``ValueError`` with "did you mean" suggestions.
    """
    specs = example_specs()
    return specs[resolve(name.removesuffix(".toml"), specs, "example spec")]


def examples() -> list[Entry]:
    """The example specs, described by the first sentence of their leading comment block."""
    out = []
    for name, f in example_specs().items():
        lines = []
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            lines.append(line.lstrip("#").strip())
        out.append(Entry(name, first_sentence("\n".join(lines))))
    return out


def copy_examples(dest: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Copy every example spec into the folder ``dest`` (created); returns the written paths.

    An existing file is kept (``FileExistsError`` naming it) unless ``overwrite`` is true; nothing
    is written when any target exists.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"dest: expected a folder, got the file {str(dest)!r}")
    specs = example_specs()
    targets = {name: dest / f"{name}.toml" for name in specs}
    clash = [str(p) for p in targets.values() if p.exists()]
    if clash and not overwrite:
        raise FileExistsError(
            f"dest: {len(clash)} example file(s) already exist, e.g. {clash[0]!r} (overwrite=True or --force replaces them)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for name, target in targets.items():
        with resources.as_file(specs[name]) as src:
            shutil.copyfile(src, target)
    return list(targets.values())
