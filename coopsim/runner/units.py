"""Executing one unit: build the game, mechanism and learners from a resolved config and run it.

Three kinds of unit, chosen from the config:

- **game** (``[env]`` names a module with ``make_game(**params)``): the runner builds the
  mechanism from the registry, calls ``make_game(mechanism=..., **env params)``, builds one
  learner per ``[[agents]]`` group from ``coopsim.agents`` and calls
  ``coopsim.dynamics.run(game, learners, rounds=, batch=, seed=, feedback=, grid=, redraw=,
  record_every=)``; the result's ``to_frame()`` is the unit's table.
- **native** (the module has no ``make_game`` but a ``simulate`` function)::

      simulate(params, seed_sequence, rounds, batch, record_every) -> dict[str, array (R,)] | DataFrame

  ``params`` is the ``[env]`` table without ``name``; if the spec has a ``[mechanism]`` table,
  ``params["mechanism"]`` is the built mechanism; if it has ``[[agents]]``, ``params["agents"]``
  is the list of group tables as written.
- **function** (``[function] name = ...``): a function registered with
  :func:`register_function` under that name, same protocol as ``simulate`` with ``params`` the
  ``[function]`` table without ``name``. Only registered names run: a spec never names code.

Every kind returns a tidy frame ``round, metric, value`` (plus any id columns, e.g. ``agent``).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import os
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from coopsim.core.validation import ParameterTypeError
from coopsim.runner.spec import env_module, unit_seed

#: name -> unit function (the ``[function]`` kind)
FUNCTIONS: dict[str, Callable[..., Any]] = {}
#: name -> the ``[function]`` keys the unit function accepts (None: not declared)
FUNCTION_PARAMS: dict[str, tuple[str, ...] | None] = {}


def register_function(
    name: str,
    fn: Callable[..., Any] | None = None,
    *,
    params: Iterable[str] | None = None,
    replace: bool = False,
):
    """Register a unit function ``fn(params, seed_sequence, rounds, batch, record_every)``.

    ``params``: the names of the keys it accepts. Declared names are checked when a spec is loaded
    (``load_spec``, before any unit runs) and by the registered entry ``FUNCTIONS[name]`` itself.
    Registering the same function twice is a no-op; another function under a taken name raises
    ``ValueError`` unless ``replace=True``.

    Workers of the process pool inherit the registry (fork); for Ray or spawn-started workers,
    register the function at import time of a module the workers import.
    """

    if not isinstance(name, str) or not name:
        raise ParameterTypeError("name", f"name: expected a non-empty string, got {name!r}")

    def add(f):
        old = FUNCTIONS.get(name)
        if old is not None and getattr(old, "__wrapped__", old) is not f and not replace:
            raise ValueError(f"unit function {name!r} is already registered (pass replace=True to override)")
        FUNCTION_PARAMS[name] = None if params is None else tuple(params)
        if params is None:
            FUNCTIONS[name] = f
        else:

            @functools.wraps(f)
            def checked(p: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
                check_function_params(name, p)
                return f(p, *args, **kwargs)

            FUNCTIONS[name] = checked
        return f

    return add if fn is None else add(fn)


def check_function_params(name: str, params: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming ``function.<key>`` for a key ``name`` does not declare."""
    allowed = FUNCTION_PARAMS.get(name)
    if allowed is None:
        return
    unknown = sorted(set(params) - set(allowed) - {"name"})
    if unknown:
        raise ValueError(
            f"function.{unknown[0]}: unknown parameter of {name} (unknown: {unknown}); "
            f"expected a subset of {list(allowed)}"
        )


# ----------------------------------------------------------------------------------------------
# building blocks
# ----------------------------------------------------------------------------------------------
def build_mechanism(cfg: Mapping[str, Any]):
    """The mechanism of ``cfg["mechanism"]`` built from the registry, or ``None``."""
    if "mechanism" not in cfg:
        return None
    from coopsim import mechanisms

    params = {k: v for k, v in cfg["mechanism"].items() if k != "name"}
    return mechanisms.get(cfg["mechanism"]["name"], **params)


def build_game(cfg: Mapping[str, Any], mechanism=None):
    """``coopsim.envs.<env.name>.make_game(mechanism=..., **env params)``."""
    mod = env_module(cfg["env"]["name"])
    params = {k: v for k, v in cfg["env"].items() if k != "name"}
    if mechanism is not None:
        params["mechanism"] = mechanism
    return mod.make_game(**params)


def action_grid(exp: Mapping[str, Any]) -> int | np.ndarray:
    g = exp["action_grid"]
    return np.asarray(g, dtype=np.float64) if isinstance(g, list) else int(g)


def build_learner(group: Mapping[str, Any], exp: Mapping[str, Any], game) -> Any:
    """The learner of one ``[[agents]]`` group, with the arguments the runner fills in (``n_actions``
    from the action grid, ``batch``, the group's ``n_agents``, the game's ``utility_range``) where the
    learner takes them and the spec does not set them."""
    from coopsim import agents as agents_mod

    grid = action_grid(exp)
    params = {key: v for key, v in group.items() if key not in ("learner", "agents")}
    which = range(game.n_agents) if group["agents"] == "all" else group["agents"]
    accepted = set(inspect.signature(agents_mod.registry.factory(group["learner"])).parameters)
    fills = {
        "n_actions": grid if isinstance(grid, int) else len(grid),
        "batch": exp["batch"],
        "n_agents": len(which),
        "utility_range": tuple(getattr(game, "utility_range", (0.0, 1.0))),
    }
    for key, v in fills.items():
        if key in accepted and key not in params:
            params[key] = v
    return agents_mod.get(group["learner"], **params)


def build_learners(cfg: Mapping[str, Any], game) -> Any:
    """One learner per ``[[agents]]`` group: a single learner for ``agents = "all"``, else a dict
    ``{tuple(agent indices): learner}`` as ``coopsim.dynamics.play_dynamics`` expects."""
    out = {}
    for g in cfg["agents"]:
        which = tuple(range(game.n_agents)) if g["agents"] == "all" else tuple(g["agents"])
        out[which] = build_learner(g, cfg["experiment"], game)
    if len(out) == 1 and cfg["agents"][0]["agents"] == "all":
        return next(iter(out.values()))
    return out


def reference_outcome(exp: Mapping[str, Any]):
    """``experiment.reference_mechanism`` as a callable ``types (B, N) -> (B,)``: the outcome that
    mechanism would choose on the true types (its expected location for lotteries), or ``None``."""
    name = exp.get("reference_mechanism")
    if not name:
        return None
    from coopsim import mechanisms

    ref = mechanisms.get(name)
    fn = getattr(ref, "expected_location", ref)
    return lambda types: np.asarray(fn(np.asarray(types, dtype=np.float64)), dtype=np.float64)


# ----------------------------------------------------------------------------------------------
# tidy tables
# ----------------------------------------------------------------------------------------------
def default_rounds(rounds: int, record_every: int, n: int) -> np.ndarray:
    """Recorded rounds: after rounds ``record_every, 2*record_every, ...`` (1-based, ``n`` of them)."""
    return record_every * np.arange(1, n + 1, dtype=np.int64)


def tidy(result: Any, rounds: int, record_every: int) -> pd.DataFrame:
    """Normalise a unit's output to columns ``round, metric, value`` (+ id columns).

    Accepted: a dict of equal-length ``(R,)`` arrays (an optional ``"round"`` entry gives the
    recorded rounds, else ``record_every * (1..R)``); a tidy DataFrame with ``metric`` and
    ``value`` columns; a wide DataFrame with a ``round`` column and one column per metric; or an
    object with ``to_frame()`` returning one of those.
    """
    if hasattr(result, "to_frame") and not isinstance(result, (pd.DataFrame, pd.Series)):
        result = result.to_frame()
    if isinstance(result, Mapping):
        data = {k: np.asarray(v) for k, v in result.items()}
        rnd = data.pop("round", None)
        if not data:
            raise ValueError("unit result: expected at least one metric array, got none")
        lengths = {k: v.shape for k, v in data.items()}
        if len({s for s in lengths.values()}) != 1 or len(next(iter(lengths.values()))) != 1:
            raise ValueError(f"unit result: expected equal-length 1-D arrays, got shapes {lengths}")
        n = next(iter(data.values())).shape[0]
        rnd = default_rounds(rounds, record_every, n) if rnd is None else np.asarray(rnd, dtype=np.int64)
        if rnd.shape != (n,):
            raise ValueError(f"unit result: expected 'round' of shape ({n},), got {rnd.shape}")
        names = [str(k) for k in data]
        df = pd.DataFrame(
            {
                "round": np.tile(rnd, len(names)),
                "metric": np.repeat(np.array(names, dtype=object), n),
                "value": np.concatenate([v.astype(np.float64) for v in data.values()]),
            }
        )
        return df
    elif isinstance(result, pd.DataFrame):
        df = result.reset_index() if not isinstance(result.index, pd.RangeIndex) else result
        if "metric" in df.columns and "value" in df.columns:
            df = df.copy()
        elif "round" in df.columns:
            ids = [c for c in df.columns if c == "round" or not pd.api.types.is_float_dtype(df[c])]
            df = df.melt(id_vars=ids, var_name="metric", value_name="value")
        else:
            raise ValueError(
                f"unit result: expected a tidy (metric, value) or wide (round, ...) frame, "
                f"got columns {list(df.columns)}"
            )
        if "round" not in df.columns:
            raise ValueError(f"unit result: expected a 'round' column, got {list(df.columns)}")
    else:
        raise TypeError(f"unit result: expected a dict of arrays or a DataFrame, got {type(result).__name__}")
    df["round"] = df["round"].astype(np.int64)
    df["metric"] = df["metric"].astype(str)
    df["value"] = df["value"].astype(np.float64)
    return df.reset_index(drop=True)


def execute(config: Mapping[str, Any]) -> pd.DataFrame:
    """Run one unit (a resolved config with its replicate) and return its tidy table."""
    exp = config["experiment"]
    seed = unit_seed(config)
    rounds, batch, every = exp["rounds"], exp["batch"], exp["record_every"]
    if "function" in config:
        from coopsim.core.registry import resolve

        fn_name = resolve(config["function"]["name"], FUNCTIONS, "function.name: unit function")
        params = {k: v for k, v in config["function"].items() if k != "name"}
        out = FUNCTIONS[fn_name](params, seed, rounds, batch, every)
    else:
        mod = env_module(config["env"]["name"])
        mech = build_mechanism(config)
        if hasattr(mod, "make_game"):
            from coopsim import dynamics

            game = build_game(config, mech)
            learners = build_learners(config, game)
            out = dynamics.run(
                game,
                learners,
                rounds=rounds,
                batch=batch,
                seed=seed,
                feedback=exp["feedback"],
                grid=action_grid(exp),
                redraw=exp["redraw"],
                record_every=every,
                reference=exp.get("reference"),
                reference_outcome=reference_outcome(exp),
                game_metrics=exp.get("game_metrics", "round"),
            )
        else:
            params = {k: v for k, v in config["env"].items() if k != "name"}
            if mech is not None:
                params["mechanism"] = mech
            if "agents" in config:
                params["agents"] = [dict(g) for g in config["agents"]]
            out = mod.simulate(params, seed, rounds, batch, every)
    df = tidy(out, rounds, every)
    wanted = exp.get("metrics")
    if wanted:
        have = set(df["metric"].unique())
        missing = [m for m in wanted if m not in have]
        if missing:
            raise ValueError(
                f"experiment.metrics: expected metric names the unit produces, one of {sorted(have)}; got {missing}"
            )
        df = df[df["metric"].isin(wanted)].reset_index(drop=True)
    return df


# ----------------------------------------------------------------------------------------------
# built-in unit functions (small, deterministic; used by tests, docs and benchmarks)
# ----------------------------------------------------------------------------------------------
@register_function("random_walk", params=("drift", "scale", "fail", "sleep"))
def random_walk(
    params: Mapping[str, Any], seed_sequence: np.random.SeedSequence, rounds: int, batch: int, record_every: int
) -> dict[str, np.ndarray]:
    """A batched Gaussian random walk ``x_t = x_{t-1} + drift + scale * eps_t`` over ``batch`` copies.

    Records ``mean`` (batch mean of ``x_t``) and ``abs_mean`` (batch mean of ``|x_t|``) every
    ``record_every`` rounds. Parameters: ``drift`` (0.0), ``scale`` (1.0), ``fail`` (False: raise
    ``RuntimeError`` when true), ``sleep`` (0.0 seconds of wall time per unit, for tests).
    """
    drift = float(params.get("drift", 0.0))
    scale = float(params.get("scale", 1.0))
    if params.get("sleep"):
        time.sleep(float(params["sleep"]))
    if params.get("fail"):
        raise RuntimeError("random_walk: failing on purpose (fail = true)")
    rng = np.random.default_rng(seed_sequence)
    x = np.cumsum(drift + scale * rng.standard_normal((rounds, batch)), axis=0)
    rec = x[record_every - 1 :: record_every]
    return {"mean": rec.mean(axis=1), "abs_mean": np.abs(rec).mean(axis=1)}


@register_function("flaky")
def flaky(
    params: Mapping[str, Any], seed_sequence: np.random.SeedSequence, rounds: int, batch: int, record_every: int
) -> dict[str, np.ndarray]:
    """Test helper: fails on its first ``failures`` attempts, then behaves like ``random_walk``.

    Attempts are counted with marker files in the folder named by the environment variable
    ``COOPSIM_FLAKY_DIR`` (never by the spec); without it the function refuses to run.
    ``mode = "raise"`` raises ``RuntimeError``; ``mode = "exit"`` kills the worker process
    (``os._exit``), as a crashed machine would.
    """
    folder = os.environ.get("COOPSIM_FLAKY_DIR")
    if not folder:
        raise RuntimeError("flaky: set COOPSIM_FLAKY_DIR to a scratch folder to use this test function")
    failures = int(params.get("failures", 1))
    mode = params.get("mode", "raise")
    tag = hashlib.sha256(repr(seed_sequence.entropy).encode()).hexdigest()[:16]
    marker = os.path.join(folder, f"flaky-{tag}")
    attempts = len([f for f in os.listdir(folder) if f.startswith(os.path.basename(marker))])
    if attempts < failures:
        with open(f"{marker}.{attempts}", "w") as fh:
            fh.write(str(os.getpid()))
        if mode == "exit":
            os._exit(17)
        raise RuntimeError(f"flaky: failing attempt {attempts + 1} of {failures} on purpose")
    rest = {k: v for k, v in params.items() if k in ("drift", "scale")}
    return random_walk(rest, seed_sequence, rounds, batch, record_every)


@register_function("facility_card", params=("mechanism", "n_agents", "profiles", "grid"))
def facility_card(
    params: Mapping[str, Any], seed_sequence: np.random.SeedSequence, rounds: int, batch: int, record_every: int
) -> dict[str, np.ndarray]:
    """The facility report card's numbers as one unit (one recorded "round" 0), for sweeping the
    published mechanism table (Aziz, Lam, Lee and Walsh, arXiv:2111.01566) over mechanisms and n
    with ``coopsim run``.

    Parameters: ``mechanism`` (a facility mechanism's registry name), ``n_agents`` (>= 2),
    ``profiles`` (per profile class, default 256), ``grid`` (misreport grid, default 101).
    Metrics: ``audit_gain``; the axiom satisfaction rates ``IFS``, ``UFS``, ``PF``,
    ``proportionality``, ``unanimity``; worst-case ratios ``ratio_SW``, ``ratio_TC``, ``ratio_MC``
    and the closed forms ``spec_SW``, ``spec_TC``, ``spec_MC`` (nan where the table has no entry).
    ``rounds``, ``batch`` and ``record_every`` are not used. The audit seed is drawn from the unit's
    ``SeedSequence``.
    """
    from coopsim import mechanisms, report
    from coopsim.report import facility as report_facility

    name = params.get("mechanism", "uniform_phantom")
    n = int(params.get("n_agents", 3))
    if n < 2:
        raise ValueError(f"function.n_agents: expected an integer >= 2, got {n}")
    mech = mechanisms.get(name)
    if report.family_of(mech) != "facility":
        raise ValueError(f"function.mechanism: expected a facility mechanism, got {name!r} ({report.family_of(mech)})")
    seed = int(np.random.default_rng(seed_sequence).integers(2**31))
    card = report_facility.facility_audit(
        name,
        {},
        mech,
        n_agents=n,
        profiles=int(params.get("profiles", 256)),
        grid=int(params.get("grid", 101)),
        seed=seed,
        full=False,
    )
    out: dict[str, Any] = {"round": np.array([0]), "audit_gain": [card.data["audit"]["max_gain"]]}
    for axiom, res in card.data["axioms"].items():
        out[axiom] = [res["rate"]]
    from coopsim.analysis import worst_case_ratio
    from coopsim.envs.facility_location import FacilityLocation

    game = FacilityLocation(n_agents=n, mechanism=mech)
    for obj in ("SW", "TC", "MC"):
        # exhaustive on the 1/(2n) grid up to n = 6, a 1/n grid plus local search beyond
        wc = worst_case_ratio(game, obj, n_grid=2 * n if n <= 6 else n, refine_steps=200 if n <= 6 else 300, rng=seed)
        out[f"ratio_{obj}"] = [wc.ratio]
        sv = report_facility.spec_ratio(name, obj, n)
        out[f"spec_{obj}"] = [np.nan if sv is None else float(sv)]
    return {k: np.asarray(v, dtype=np.float64 if k != "round" else np.int64) for k, v in out.items()}


from coopsim.runner import functions as _functions  # noqa: E402,F401  (registers the reproduction unit functions)
