"""Experiment specs: TOML files (read with ``tomllib``) validated into plain dicts and expanded into units.

A spec is data, never code: it is parsed with ``tomllib`` (or given as a dict), environment names
are plain identifiers looked up under ``coopsim.envs``, mechanisms, learners and unit functions
are looked up in their registries. Nothing in a spec is imported by path, evaluated or unpickled.

Layout (see ``docs/specs.md`` for every key)::

    [experiment]  name, seed, seeds, rounds, batch, record_every, metrics, feedback, action_grid, redraw
    [env]         name + environment parameters            (coopsim.envs.<name>)
    [mechanism]   name + mechanism parameters              (coopsim.mechanisms registry)
    [[agents]]    learner + agents + learner parameters    (coopsim.agents registry)
    [function]    name + parameters                        (runner unit-function registry)
    [grid]        "dotted.key.path" = [values ...]          Cartesian product
    [zip]         "dotted.key.path" = [values ...]          zipped (equal lengths); [[zip]] for several groups

A unit is one resolved config (grid point) times one replicate seed. Its ``SeedSequence`` is
``derived_seed(experiment.seed, semantic config)``: a function of the spec seed and the unit's
resolved config only, so every executor produces identical numbers.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import itertools
import json
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from coopsim.core.seeding import config_hash, derived_seed


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
_OMIT: Any = object()  # the expected-text already says what was found


class SpecError(ValueError):
    """A malformed experiment spec. The message starts with the offending key path."""

    def __init__(self, path: str, expected: str, found: Any = _MISSING, *, note: str = "", raw: bool = False) -> None:
        self.path = path
        self.expected = expected
        self.found = found
        msg = f"{path}: {expected}" if raw else f"{path}: expected {expected}"
        if found is _MISSING:
            msg += ", got nothing (missing key)"
        elif found is not _OMIT:
            msg += f", got {found!r}"
        if note:
            msg += f" ({note})"
        super().__init__(msg)


TOP_LEVEL = ("experiment", "env", "mechanism", "agents", "function", "grid", "zip")
#: experiment keys and their defaults (``_MISSING`` = required)
EXPERIMENT_DEFAULTS: dict[str, Any] = {
    "name": "experiment",
    "seed": 0,
    "seeds": 1,
    "rounds": 100,
    "batch": 1,
    "record_every": 1,
    "metrics": None,
    "feedback": "full",
    "action_grid": 21,
    "redraw": "episode",
    "reference": None,
    "game_metrics": "round",
    "reference_mechanism": None,
}
FEEDBACK = ("full", "bandit", "expected")
GAME_METRICS = ("round", "record", "none")
REDRAW = ("episode", "round")
#: experiment keys that do not change a unit's random numbers (excluded from its seed derivation)
NON_SEMANTIC = ("name", "metrics", "record_every", "seeds")
#: learner constructor arguments filled by the runner/dynamics, not by the spec
LEARNER_RESERVED = ("n_actions", "batch", "n_agents", "utility_range")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# ----------------------------------------------------------------------------------------------
# small type checks that raise SpecError with the key path
# ----------------------------------------------------------------------------------------------
def _is_int(v: Any) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _int(v: Any, path: str, lo: int | None = None) -> int:
    if not _is_int(v):
        raise SpecError(path, "an integer" + (f" >= {lo}" if lo is not None else ""), v)
    if lo is not None and v < lo:
        raise SpecError(path, f"an integer >= {lo}", v)
    return v


def _str(v: Any, path: str) -> str:
    if not isinstance(v, str) or not v:
        raise SpecError(path, "a non-empty string", v)
    return v


def _table(v: Any, path: str) -> dict:
    if not isinstance(v, Mapping):
        raise SpecError(path, "a table", v)
    return dict(v)


def _choice(v: Any, path: str, choices: tuple) -> Any:
    if v not in choices:
        raise SpecError(path, f"one of {list(choices)}", v)
    return v


def _check_value(v: Any, path: str) -> None:
    """Parameter values must be plain data (TOML scalars, lists and tables of them)."""
    if isinstance(v, (bool, int, str)):
        return
    if isinstance(v, float):
        if not math.isfinite(v):
            raise SpecError(path, "a finite number", v)
        return
    if isinstance(v, list):
        for i, x in enumerate(v):
            _check_value(x, f"{path}[{i}]")
        return
    if isinstance(v, Mapping):
        for k, x in v.items():
            _check_value(x, f"{path}.{k}")
        return
    raise SpecError(path, "a string, number, boolean, list or table", v)


# ----------------------------------------------------------------------------------------------
# registries and hooks (imported lazily so that the runner stays cheap to import)
# ----------------------------------------------------------------------------------------------
def env_module(name: str, path: str = "env.name"):
    """The module of the registered environment ``name`` (:mod:`coopsim.envs`'s registry: a name,
    case-insensitive when unique, or a Gymnasium id such as ``coopsim/FacilityLocation-v0``).

    Only registered names are accepted, so a spec can never name an arbitrary import path.
    """
    _str(name, path)
    from coopsim import envs

    try:
        entry = envs.env_entry(name)
    except ValueError as err:
        hint = str(err).split("; ", 1)[-1]
        raise SpecError(path, f"a registered environment ({hint})", name, note="no such environment") from None
    mod = importlib.import_module(entry.module)
    if not (hasattr(mod, "make_game") or hasattr(mod, "simulate")):
        raise SpecError(
            path,
            "an environment module exposing make_game(**params) or simulate(...)",
            name,
            note=f"{entry.module} exposes neither",
        )
    return mod


def _registered(name: str, names: list[str], path: str, what: str) -> str:
    """The registered name ``name`` designates (itself, or its unique case-insensitive match);
    otherwise a ``SpecError`` with "did you mean" suggestions, or the known names if none is close."""
    from coopsim.core.registry import did_you_mean, resolve

    try:
        return resolve(name, names, what)
    except ValueError:
        hint = did_you_mean(name, names)
        expected = f"a registered {what} name" if hint else f"one of {sorted(names)}"
        raise SpecError(path, expected, name, note=f"unknown {what}" + (f"; {hint}" if hint else "")) from None


def available_envs() -> list[str]:
    """Names of the registered environments the runner can drive (``make_game`` or ``simulate``)."""
    from coopsim import envs

    names = []
    for entry in envs.registered_envs():
        try:
            mod = importlib.import_module(entry.module)
        except Exception:  # a broken module is not listed  # noqa: BLE001
            continue
        if hasattr(mod, "make_game") or hasattr(mod, "simulate"):
            names.append(entry.name)
    return names


def game_factory(mod):
    """What ``make_game`` really builds: when it only forwards ``**kwargs``, the class named by its
    return annotation in the module (so unknown ``[env]`` keys are still caught by name)."""
    fn = mod.make_game
    names, var_kw = _signature_params(fn)
    if var_kw:
        ann = inspect.signature(fn).return_annotation
        cls = getattr(mod, ann, None) if isinstance(ann, str) else ann
        if isinstance(cls, type):
            return cls
    return fn


def _mechanism_registry():
    from coopsim import mechanisms

    return mechanisms.registry


def _learner_registry():
    from coopsim import agents

    reg = getattr(agents, "registry", None)
    if reg is None:
        raise SpecError("agents", "a learner registry in coopsim.agents", None, note="coopsim.agents has none yet")
    return reg


def _signature_params(factory, reserved: tuple[str, ...] = ()) -> tuple[list[str], bool]:
    """(named parameters, accepts **kwargs) of a factory."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return [], True
    names, var_kw = [], False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind is not p.VAR_POSITIONAL and p.name not in reserved and p.name != "self":
            names.append(p.name)
    return names, var_kw


# ----------------------------------------------------------------------------------------------
# the spec
# ----------------------------------------------------------------------------------------------
@dataclass
class Unit:
    """One resolved config times one replicate; ``key`` names its results file."""

    key: str
    config: dict[str, Any]
    index: int = 0

    @property
    def seed_sequence(self) -> np.random.SeedSequence:
        return unit_seed(self.config)

    def params(self) -> dict[str, Any]:
        """The unit's parameters flattened to dotted column names (lists/tables as JSON)."""
        return flatten_config(self.config)


def semantic_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a resolved config that determines its random numbers."""
    cfg = copy.deepcopy(dict(config))
    exp = cfg.get("experiment", {})
    for key in NON_SEMANTIC:
        exp.pop(key, None)
    return cfg


def unit_seed(config: Mapping[str, Any]) -> np.random.SeedSequence:
    """``SeedSequence`` of a unit: ``derived_seed(experiment.seed, semantic_config(config))``."""
    return derived_seed(int(config["experiment"]["seed"]), semantic_config(config))


def unit_key(config: Mapping[str, Any]) -> str:
    """Hash of a resolved unit config (replicate included) naming its results file."""
    return config_hash(dict(config), length=20)


def flatten_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten ``{"env": {"n_agents": 3}, "agents": [{"learner": "hedge"}]}`` to dotted keys.

    Lists of tables (``agents``) get their index in the path (``agents.0.learner``); other lists
    and tables become JSON strings so every value is a Parquet scalar.
    """
    out: dict[str, Any] = {}
    for section, body in config.items():
        if section == "agents":
            for i, group in enumerate(body):
                for k, v in group.items():
                    out[f"agents.{i}.{k}"] = _scalar(v)
        elif isinstance(body, Mapping):
            for k, v in body.items():
                out[f"{section}.{k}"] = _scalar(v)
        else:
            out[section] = _scalar(body)
    return out


def _scalar(v: Any) -> Any:
    if isinstance(v, (list, dict)):
        return json.dumps(v, sort_keys=True)
    return v


@dataclass
class Spec:
    """A validated spec: the base config, the grid axes and the replicate seeds."""

    base: dict[str, Any]
    grid: dict[str, list] = field(default_factory=dict)
    zips: list[dict[str, list]] = field(default_factory=list)
    replicates: list[int] = field(default_factory=lambda: [0])
    raw: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    #: seconds a unit may run (``experiment.timeout``); ``None``: no limit
    timeout: float | None = None

    @property
    def name(self) -> str:
        return self.base["experiment"]["name"]

    def points(self) -> list[tuple[dict[str, Any], dict[str, str]]]:
        """Resolved configs (without replicate) and, for each, the origin of every gridded path."""
        axes: list[list[tuple[dict[str, Any], dict[str, str]]]] = []
        for path, values in self.grid.items():
            axes.append([({path: v}, {path: f'grid."{path}"[{i}]'}) for i, v in enumerate(values)])
        for z, group in enumerate(self.zips):
            length = len(next(iter(group.values())))
            label = "zip" if len(self.zips) == 1 and not self.raw.get("_zip_is_array") else f"zip[{z}]"
            axes.append(
                [
                    ({p: vals[i] for p, vals in group.items()}, {p: f'{label}."{p}"[{i}]' for p in group})
                    for i in range(length)
                ]
            )
        out = []
        for combo in itertools.product(*axes) if axes else [()]:
            cfg = copy.deepcopy(self.base)
            origin: dict[str, str] = {}
            for assign, org in combo:
                for path, value in assign.items():
                    _set_path(cfg, path, copy.deepcopy(value))
                origin.update(org)
            out.append((cfg, origin))
        return out

    def units(self) -> list[Unit]:
        """Every unit: each grid point times each replicate, in a deterministic order."""
        units: list[Unit] = []
        for cfg, _ in self.points():
            for r in self.replicates:
                c = copy.deepcopy(cfg)
                c["replicate"] = r
                units.append(Unit(key=unit_key(c), config=c, index=len(units)))
        return units


def _set_path(cfg: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = cfg
    for i, part in enumerate(parts[:-1]):
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML spec file (data only)."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SpecError("spec", "an existing TOML file", str(p)) from None
    except OSError as err:
        raise SpecError("spec", "a readable TOML file", str(p), note=str(err)) from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError("spec", "valid TOML", str(p), note=str(err)) from None


def apply_overrides(raw: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set dotted key paths (``experiment.rounds``, ``env.n_agents``, ``agents.0.eta``) in a raw spec.

    Used by ``coopsim run --set``; the result is validated like any spec.
    """
    raw = copy.deepcopy(raw)
    for path, value in overrides.items():
        parts = path.split(".")
        where = f"--set {path}"
        if len(parts) < 2 or parts[0] not in ("experiment", "env", "mechanism", "agents", "function"):
            raise SpecError(
                where, "a dotted key path starting with experiment., env., mechanism., agents.<i>. or function.", path
            )
        if parts[0] == "agents":
            groups = raw.get("agents")
            if (
                len(parts) != 3
                or not parts[1].isdigit()
                or not isinstance(groups, list)
                or int(parts[1]) >= len(groups)
            ):
                raise SpecError(
                    where, f"agents.<i>.<key> with i < {len(groups) if isinstance(groups, list) else 0}", path
                )
            groups[int(parts[1])][parts[2]] = value
            continue
        if len(parts) != 2:
            raise SpecError(where, f"{parts[0]}.<key> (one level)", path)
        table = raw.setdefault(parts[0], {})
        if not isinstance(table, dict):
            raise SpecError(where, f"a path into the table [{parts[0]}]", path)
        table[parts[1]] = value
    return raw


def load_spec(
    spec: str | Path | Mapping[str, Any],
    *,
    check_names: bool = True,
    build: bool = True,
    overrides: Mapping[str, Any] | None = None,
) -> Spec:
    """Read and validate a spec (a TOML path or a dict); raise ``SpecError`` naming the key path.

    ``check_names`` looks names up in the registries; ``build`` also constructs every distinct
    game of the grid once and runs it for two rounds, so that values the constructors, learners
    or metrics reject are reported here. ``overrides`` sets dotted key paths before validation.
    """
    raw, source, default_name = _raw_spec(spec, overrides)
    exp = _experiment(raw.get("experiment", {}), default_name)
    replicates = exp.pop("_replicates")
    timeout = exp.pop("_timeout")
    base = _base_tables(raw, exp)
    grid, zips = _sweeps(raw, base)
    out = Spec(base=base, grid=grid, zips=zips, replicates=replicates, raw=raw, source=source, timeout=timeout)
    for cfg, origin in out.points():
        validate_config(cfg, origin, check_names=check_names)
    if build and check_names:
        _dry_build(out)
    return out


def _raw_spec(
    spec: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None
) -> tuple[dict[str, Any], str | None, str]:
    """``(raw tables, source path or None, default experiment name)`` of a spec, overrides applied
    and top-level keys checked."""
    source = None
    if isinstance(spec, (str, Path)):
        source = str(spec)
        raw = read_toml(spec)
        default_name = Path(spec).stem
    elif isinstance(spec, Mapping):
        raw = copy.deepcopy(dict(spec))
        default_name = "experiment"
    else:
        raise SpecError("spec", "a path to a TOML file or a dict", spec)
    if overrides:
        raw = apply_overrides(raw, overrides)
    for key in raw:
        if key not in TOP_LEVEL:
            raise SpecError(key, f"a top-level table, one of {list(TOP_LEVEL)}", key, note="unknown key")
    return raw, source, default_name


def _base_tables(raw: dict[str, Any], exp: dict[str, Any]) -> dict[str, Any]:
    """The base configuration: ``experiment`` and the ``function`` / ``env`` / ``mechanism`` tables
    and ``[[agents]]`` groups, each checked for its required name."""
    base: dict[str, Any] = {"experiment": exp}
    if "function" in raw:
        fn = _table(raw["function"], "function")
        if "name" not in fn:
            raise SpecError("function.name", "a registered unit-function name", _MISSING)
        base["function"] = fn
        if "env" in raw:
            base["env"] = _table(raw["env"], "env")
    else:
        if "env" not in raw:
            raise SpecError("env", "a table with the environment name", _MISSING)
        base["env"] = _table(raw["env"], "env")
        if "name" not in base["env"]:
            raise SpecError("env.name", "an environment name", _MISSING)
    if "mechanism" in raw:
        base["mechanism"] = _table(raw["mechanism"], "mechanism")
        if "name" not in base["mechanism"]:
            raise SpecError("mechanism.name", "a registered mechanism name", _MISSING)
    if "agents" in raw:
        groups = raw["agents"]
        if not isinstance(groups, list) or not groups:
            raise SpecError("agents", "a non-empty array of tables ([[agents]])", groups)
        base["agents"] = []
        for i, g in enumerate(groups):
            g = _table(g, f"agents[{i}]")
            if "learner" not in g:
                raise SpecError(f"agents.{i}.learner", "a registered learner name", _MISSING)
            g.setdefault("agents", "all")
            base["agents"].append(g)
    return base


def _sweeps(raw: dict[str, Any], base: dict[str, Any]) -> tuple[dict[str, list[Any]], list[dict[str, list[Any]]]]:
    """The ``[grid]`` and ``[zip]`` sweeps: zipped lists of equal length, every key path varied
    once and pointing into ``base``."""
    grid = _grid(raw.get("grid", {}), "grid")
    zips_raw = raw.get("zip", [])
    if isinstance(zips_raw, Mapping):
        zips_raw = [zips_raw] if zips_raw else []
    elif isinstance(zips_raw, list):
        raw["_zip_is_array"] = True
    else:
        raise SpecError("zip", "a table or an array of tables", zips_raw)
    zips = []
    for z, group in enumerate(zips_raw):
        label = "zip" if not raw.get("_zip_is_array") else f"zip[{z}]"
        g = _grid(_table(group, label), label)
        lengths = {p: len(v) for p, v in g.items()}
        if len(set(lengths.values())) > 1:
            raise SpecError(label, "lists of equal length", lengths)
        zips.append(g)
    seen: dict[str, str] = {}
    for label, group in [("grid", grid)] + [(f"zip[{i}]", g) for i, g in enumerate(zips)]:
        for p in group:
            if p in seen:
                raise SpecError(f'{label}."{p}"', f"a key path varied only once (already in {seen[p]})", p)
            seen[p] = label
            _check_grid_path(p, base, label)
    return grid, zips


#: longest experiment name in UTF-8 bytes (it names the output folder; file systems allow 255)
NAME_MAX_BYTES = 200


def _timeout(v: Any) -> float | None:
    """``experiment.timeout``: seconds a unit may run (an execution option, not part of any unit's key)."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v < float("inf")):
        raise SpecError("experiment.timeout", "a number of seconds > 0", v)
    return float(v)


def _experiment(exp: Any, default_name: str) -> dict[str, Any]:
    exp = _table(exp, "experiment")
    exp = dict(exp)
    timeout = _timeout(exp.pop("timeout", None))
    for key in exp:
        if key not in EXPERIMENT_DEFAULTS:
            raise SpecError(f"experiment.{key}", f"one of {list(EXPERIMENT_DEFAULTS)}", key, note="unknown key")
    out = {k: exp.get(k, v) for k, v in EXPERIMENT_DEFAULTS.items()}
    if "name" not in exp:
        out["name"] = default_name
    _str(out["name"], "experiment.name")
    if any(c in out["name"] for c in "/\\\0") or out["name"] in (".", ".."):
        raise SpecError("experiment.name", "a name without path separators (it names the output folder)", out["name"])
    if not out["name"] or len(out["name"].encode()) > NAME_MAX_BYTES:
        n = len(out["name"].encode())
        raise SpecError(
            "experiment.name",
            f"a non-empty name of at most {NAME_MAX_BYTES} bytes (it names the output folder), got {n} bytes",
            _OMIT,
        )
    seeds = out.pop("seeds")
    if _is_int(seeds):
        _int(seeds, "experiment.seeds", lo=1)
        replicates = list(range(seeds))
    elif isinstance(seeds, list):
        if not seeds:
            raise SpecError("experiment.seeds", "a count >= 1 or a non-empty list of integers >= 0", seeds)
        for i, s in enumerate(seeds):
            _int(s, f"experiment.seeds[{i}]", lo=0)
        if len(set(seeds)) != len(seeds):
            raise SpecError("experiment.seeds", "distinct replicate seeds", seeds)
        replicates = list(seeds)
    else:
        raise SpecError("experiment.seeds", "a count >= 1 or a non-empty list of integers >= 0", seeds)
    out["_replicates"] = replicates
    out["_timeout"] = timeout
    _check_experiment_values(out, {})
    return out


def _check_experiment_values(exp: Mapping[str, Any], origin: Mapping[str, str]) -> None:
    def where(k: str) -> str:
        p = f"experiment.{k}"
        return f"{origin[p]} ({p})" if p in origin else p

    _int(exp["seed"], where("seed"), lo=0)
    _int(exp["rounds"], where("rounds"), lo=1)
    _int(exp["batch"], where("batch"), lo=1)
    _int(exp["record_every"], where("record_every"), lo=1)
    if exp["record_every"] > exp["rounds"]:
        raise SpecError(
            where("record_every"), f"an integer <= experiment.rounds = {exp['rounds']}", exp["record_every"]
        )
    _choice(exp["feedback"], where("feedback"), FEEDBACK)
    _choice(exp["redraw"], where("redraw"), REDRAW)
    _choice(exp["game_metrics"], where("game_metrics"), GAME_METRICS)
    ag = exp["action_grid"]
    if _is_int(ag):
        _int(ag, where("action_grid"), lo=2)
    elif isinstance(ag, list):
        if len(ag) < 2 or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in ag):
            raise SpecError(where("action_grid"), "a grid size >= 2 or a list of >= 2 numbers", ag)
    else:
        raise SpecError(where("action_grid"), "a grid size >= 2 or a list of >= 2 numbers", ag)
    if exp.get("reference") is not None:
        _choice(exp["reference"], where("reference"), ("truthful",))
    if exp.get("reference_mechanism") is not None:
        ref = _str(exp["reference_mechanism"], where("reference_mechanism"))
        _registered(ref, _mechanism_registry().names(), where("reference_mechanism"), "mechanism")
    m = exp["metrics"]
    if m is not None:
        if not isinstance(m, list) or not m or not all(isinstance(x, str) and x for x in m):
            raise SpecError(where("metrics"), "a non-empty list of metric names", m)


def _grid(g: Any, label: str) -> dict[str, list]:
    g = _table(g, label)
    out = {}
    for path, values in g.items():
        if not isinstance(values, list):
            raise SpecError(f'{label}."{path}"', "a list of values", values)
        if not values:
            raise SpecError(f'{label}."{path}"', "a non-empty list of values", values, note="empty grid")
        for i, v in enumerate(values):
            _check_value(v, f'{label}."{path}"[{i}]')
        out[path] = values
    return out


def _check_grid_path(path: str, base: Mapping[str, Any], label: str) -> None:
    parts = path.split(".")
    where = f'{label}."{path}"'
    root = parts[0]
    if root not in ("experiment", "env", "mechanism", "agents", "function") or len(parts) < 2:
        raise SpecError(
            where, "a dotted key path starting with experiment., env., mechanism., agents.<i>. or function.", path
        )
    if root not in base:
        raise SpecError(where, f"a path into a table the spec defines ([{root}] is missing)", path)
    if root == "experiment":
        if len(parts) != 2 or parts[1] not in EXPERIMENT_DEFAULTS or parts[1] in ("seeds", "name"):
            allowed = [k for k in EXPERIMENT_DEFAULTS if k not in ("seeds", "name")]
            raise SpecError(where, f"experiment.<key> with key one of {allowed}", path)
    elif root == "agents":
        if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) >= len(base["agents"]):
            raise SpecError(where, f"agents.<i>.<key> with i < {len(base['agents'])}", path)
    elif len(parts) != 2:
        raise SpecError(where, f"{root}.<key> (one level)", path)


def validate_config(
    cfg: Mapping[str, Any], origin: Mapping[str, str] | None = None, *, check_names: bool = True
) -> None:
    """Validate one resolved config; errors name the key path (and the grid entry it came from)."""
    origin = origin or {}

    def where(p: str) -> str:
        return f"{origin[p]} ({p})" if p in origin else p

    exp = cfg["experiment"]
    _check_experiment_values(exp, origin)
    if "function" in cfg:
        _validate_function(cfg["function"], where, check_names)
        return

    env = cfg["env"]
    mod = env_module(env["name"], where("env.name")) if check_names else None
    env_params = {k: v for k, v in env.items() if k != "name"}
    for k, v in env_params.items():
        _check_value(v, where(f"env.{k}"))
    native = mod is not None and not hasattr(mod, "make_game")
    if mod is not None and not native:
        reserved = ("mechanism",) if "mechanism" in cfg else ()
        names, var_kw = _signature_params(game_factory(mod))
        for k in env_params:
            if k in reserved:
                raise SpecError(where(f"env.{k}"), "the mechanism in its own [mechanism] table", k)
            if not var_kw and k not in names:
                raise SpecError(where(f"env.{k}"), f"a known parameter, one of {sorted(names)}", k, note="unknown key")
        _check_declared_types(game_factory(mod), env_params, "env", where)

    if "mechanism" in cfg:
        mech = cfg["mechanism"]
        name = _str(mech["name"], where("mechanism.name"))
        params = {k: v for k, v in mech.items() if k != "name"}
        if check_names:
            reg = _mechanism_registry()
            name = _registered(name, reg.names(), where("mechanism.name"), "mechanism")
            names, var_kw = _signature_params(reg.factory(name))
            for k, v in params.items():
                _check_value(v, where(f"mechanism.{k}"))
                if not var_kw and k not in names:
                    raise SpecError(
                        where(f"mechanism.{k}"),
                        f"a known parameter of {name!r}, one of {sorted(names)}",
                        k,
                        note="unknown key",
                    )
            _check_declared_types(reg.factory(name), params, "mechanism", where)

    groups = cfg.get("agents")
    if groups is None:
        if not native:
            raise SpecError("agents", "at least one [[agents]] group for a game environment", _MISSING)
        return
    n_agents = env_params.get("n_agents")
    if n_agents is None and mod is not None and not native:
        default = inspect.signature(game_factory(mod)).parameters.get("n_agents")
        if default is not None and _is_int(default.default):
            n_agents = default.default
    covered = _validate_agent_groups(groups, n_agents, native, where, check_names)
    if _is_int(n_agents) and covered and len(covered) != n_agents:
        missing = sorted(set(range(n_agents)) - set(covered))
        raise SpecError(
            "agents",
            f"groups covering every agent 0..{n_agents - 1}",
            sorted(covered),
            note=f"agents {missing} have no learner",
        )


def _validate_function(fn: Mapping[str, Any], where: Any, check_names: bool) -> None:
    """``[function]``: a registered unit function and only the parameters it declares."""
    _str(fn["name"], where("function.name"))
    for k, v in fn.items():
        _check_value(v, where(f"function.{k}"))
    if check_names:
        from coopsim.runner.units import FUNCTION_PARAMS, FUNCTIONS

        fn_name = _registered(fn["name"], list(FUNCTIONS), where("function.name"), "unit function")
        allowed = FUNCTION_PARAMS.get(fn_name)
        for k in fn:
            if allowed is not None and k != "name" and k not in allowed:
                raise SpecError(
                    where(f"function.{k}"),
                    f"a parameter of {fn['name']}, one of {list(allowed)}",
                    k,
                    note="unknown key",
                )


def _validate_agent_groups(groups: list, n_agents: Any, native: bool, where: Any, check_names: bool) -> dict[int, int]:
    """``[[agents]]``: which agents each group covers (each once), and each learner's name, keys and
    declared types; returns agent -> group."""
    covered: dict[int, int] = {}
    for i, g in enumerate(groups):
        for k in g:
            _check_value(g[k], where(f"agents.{i}.{k}"))
        learner = _str(g["learner"], where(f"agents.{i}.learner"))
        which = g["agents"]
        if which == "all":
            idx = list(range(n_agents)) if _is_int(n_agents) else []
            if len(groups) > 1:
                raise SpecError(
                    where(f"agents.{i}.agents"), "a list of agent indices when there are several groups", which
                )
        elif isinstance(which, list) and which and all(_is_int(a) and a >= 0 for a in which):
            idx = which
            if _is_int(n_agents) and max(which) >= n_agents:
                raise SpecError(where(f"agents.{i}.agents"), f"agent indices in [0, {n_agents})", which)
        else:
            raise SpecError(where(f"agents.{i}.agents"), '"all" or a non-empty list of agent indices', which)
        for a in idx:
            if a in covered:
                raise SpecError(
                    where(f"agents.{i}.agents"),
                    f"agents not already in group {covered[a]}",
                    which,
                    note=f"agent {a} appears twice",
                )
            covered[a] = i
        if check_names and not native:  # a native env interprets its own agent groups
            reg = _learner_registry()
            learner = _registered(learner, reg.names(), where(f"agents.{i}.learner"), "learner")
            params = {k: v for k, v in g.items() if k not in ("learner", "agents")}
            names, var_kw = _signature_params(reg.factory(learner), LEARNER_RESERVED)
            for k in params:
                if k in LEARNER_RESERVED:
                    raise SpecError(
                        where(f"agents.{i}.{k}"),
                        "a learner hyper-parameter",
                        k,
                        note=f"{k!r} is filled in by the runner",
                    )
                if not var_kw and k not in names:
                    raise SpecError(
                        where(f"agents.{i}.{k}"),
                        f"a known parameter of {learner!r}, one of {sorted(names)}",
                        k,
                        note="unknown key",
                    )
            _check_declared_types(reg.factory(learner), params, f"agents.{i}", where)
    return covered


def _check_declared_types(factory: Any, params: Mapping[str, Any], section: str, where: Any) -> None:
    """Check each value against the type the factory declares for it (:mod:`coopsim.core.schema`)."""
    from coopsim.core.schema import declared_parameters, type_problem

    declared, _ = declared_parameters(factory)
    for key, value in params.items():
        entry = declared.get(key)
        problem = None if entry is None else type_problem(entry.annotation, value)
        if problem is not None:
            raise SpecError(where(f"{section}.{key}"), problem, value)


def _dry_build(spec: Spec) -> None:
    """Construct each distinct game (env and mechanism) and its learners once, without running
    anything, so that values the constructors reject surface as a SpecError naming the key path."""
    from coopsim.runner.units import build_game, build_learner, build_mechanism

    seen = set()
    for cfg, origin in spec.points():
        if "function" in cfg:
            continue
        key = json.dumps([cfg.get("env"), cfg.get("mechanism"), cfg.get("agents")], sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        try:
            mech = build_mechanism(cfg)
        except (ValueError, TypeError) as err:
            raise _constructor_error("mechanism", cfg["mechanism"], origin, err) from None
        mod = env_module(cfg["env"]["name"])
        if not hasattr(mod, "make_game"):
            continue
        try:
            game = build_game(cfg, mech)
        except (ValueError, TypeError) as err:
            raise _constructor_error("env", cfg["env"], origin, err) from None
        for i, group in enumerate(cfg.get("agents", [])):
            try:
                learner = build_learner(group, cfg["experiment"], game)
            except (ValueError, TypeError) as err:
                raise _constructor_error(f"agents.{i}", group, origin, err) from None
            if cfg["experiment"]["feedback"] == "bandit" and getattr(learner, "feedback", "full") == "full":
                where = origin.get("experiment.feedback", "experiment.feedback")
                raise SpecError(
                    where,
                    f"'full' or 'expected': {group['learner']!r} (agents.{i}) is a full-information learner",
                    "bandit",
                    note="bandit runs never pass deviation utilities",
                )


def _constructor_error(section: str, table: Mapping[str, Any], origin: Mapping[str, str], err: Exception) -> SpecError:
    """A SpecError for a constructor's rejection: at ``section.param`` when the error names a key of the
    table (the ``param`` of :class:`coopsim.core.validation.ParameterError`), else at the section."""
    key = getattr(err, "param", None)
    label = table.get("name", table.get("learner"))
    if key in table:
        path = f"{section}.{key}"
        where = f"{origin[path]} ({path})" if path in origin else path
        return SpecError(where, str(err), _OMIT, raw=True, note=f"{section} {label!r} rejected it")
    names = ", ".join(sorted(set(origin.values())))
    return SpecError(
        section, f"parameters {label!r} accepts", dict(table), note=f"{names + ': ' if names else ''}{err}"
    )
