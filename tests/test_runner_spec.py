"""Experiment specs: validation naming key paths, grid/zip expansion, seeding, data-only parsing."""

from __future__ import annotations

import copy
import textwrap

import numpy as np
import pytest

from coopsim import runner
from coopsim.runner import SpecError, load_spec
from coopsim.runner.spec import flatten_config, unit_seed
from coopsim.runner.units import execute


def game_spec(**over):
    spec = {
        "experiment": {"name": "t", "rounds": 20, "batch": 4, "record_every": 5},
        "env": {"name": "facility_location", "n_agents": 3},
        "mechanism": {"name": "uniform_phantom"},
        "agents": [{"learner": "hedge"}],
    }
    for k, v in over.items():
        spec[k] = v
    return spec


def fn_spec(**over):
    spec = {
        "experiment": {"name": "rw", "rounds": 30, "batch": 3, "record_every": 10, "seeds": 2},
        "function": {"name": "random_walk"},
    }
    spec.update(over)
    return spec


def err(spec) -> SpecError:
    with pytest.raises(SpecError) as info:
        load_spec(spec)
    return info.value


@pytest.mark.parametrize(
    "mutate, path, words",
    [
        (lambda s: s["env"].update(foo=1), "env.foo", ["unknown key", "n_agents"]),
        (lambda s: s["experiment"].update(rounds=-5), "experiment.rounds", ["integer >= 1", "-5"]),
        (lambda s: s["experiment"].update(rounds="10"), "experiment.rounds", ["integer", "'10'"]),
        (lambda s: s["experiment"].update(batch=2.5), "experiment.batch", ["integer", "2.5"]),
        (lambda s: s["experiment"].update(seedz=1), "experiment.seedz", ["unknown key", "seeds"]),
        (lambda s: s["experiment"].update(feedback="partial"), "experiment.feedback", ["'full'", "'partial'"]),
        (lambda s: s["experiment"].update(record_every=50), "experiment.record_every", ["<= experiment.rounds"]),
        (lambda s: s["experiment"].update(seeds=0), "experiment.seeds", [">= 1"]),
        (lambda s: s["experiment"].update(seeds=[1, 1]), "experiment.seeds", ["distinct"]),
        (lambda s: s["mechanism"].update(name="nope"), "mechanism.name", ["unknown mechanism", "uniform_phantom"]),
        (lambda s: s["mechanism"].update(c=0.3), "mechanism.c", ["unknown key"]),
        (lambda s: s["agents"][0].update(learner="nope"), "agents.0.learner", ["unknown learner", "hedge"]),
        (lambda s: s["agents"][0].update(etaa=0.1), "agents.0.etaa", ["unknown key", "eta"]),
        (lambda s: s["agents"][0].update(n_actions=3), "agents.0.n_actions", ["filled in by the runner"]),
        (lambda s: s["agents"][0].update(agents=[0, 1]), "agents", ["agents [2] have no learner"]),
        (lambda s: s["agents"][0].update(agents=[0, 7]), "agents.0.agents", ["[0, 3)"]),
        (lambda s: s.update(bogus={}), "bogus", ["unknown key", "experiment"]),
        (lambda s: s["env"].update(name="os.path"), "env.name", ["no such environment", "registered environment"]),
        (lambda s: s["env"].update(name="nonexistent"), "env.name", ["no such environment"]),
        (lambda s: s["env"].update(types="weird"), "env.types", ["'uniform'", "'weird'"]),
        (lambda s: s["env"].update(n_agents=0), "env.n_agents", [">= 1"]),
        (lambda s: s.update(grid={"env.n_agents": []}), 'grid."env.n_agents"', ["empty grid"]),
        (lambda s: s.update(grid={"env.n_agents": 3}), 'grid."env.n_agents"', ["a list"]),
        (lambda s: s.update(grid={"env.n_agents": [2, -1]}), 'grid."env.n_agents"[1] (env.n_agents)', [">= 1"]),
        (
            lambda s: s.update(grid={"mechanism.name": ["average", "bogus"]}),
            'grid."mechanism.name"[1] (mechanism.name)',
            ["unknown mechanism"],
        ),
        (
            lambda s: s.update(grid={"experiment.rounds": [5, -1]}),
            'grid."experiment.rounds"[1] (experiment.rounds)',
            [">= 1"],
        ),
        (lambda s: s.update(grid={"agents.3.eta": [0.1]}), 'grid."agents.3.eta"', ["i < 1"]),
        (lambda s: s.update(grid={"nowhere.x": [1]}), 'grid."nowhere.x"', ["dotted key path"]),
        (lambda s: s.update(zip={"env.n_agents": [2, 3], "experiment.rounds": [5]}), "zip", ["equal length"]),
        (
            lambda s: s.update(grid={"env.n_agents": [2]}, zip={"env.n_agents": [3]}),
            'zip[0]."env.n_agents"',
            ["varied only once"],
        ),
        (lambda s: s.pop("agents"), "agents", ["[[agents]]"]),
        (lambda s: s.update(agents=[]), "agents", ["non-empty"]),
        (lambda s: s["env"].pop("name"), "env.name", ["missing key"]),
        # found by building each distinct game and its learners (nothing runs)
        (lambda s: s["agents"][0].update(eta=-1.0), "agents.0.eta", ["> 0", "-1.0"]),
        (lambda s: s["agents"][0].update(eta=True), "agents.0.eta", ["a number", "True"]),
        (lambda s: s["env"].update(n_agents=2.5), "env.n_agents", ["an integer", "2.5"]),
        (lambda s: s["mechanism"].update(name="gsp", tie_break=1), "mechanism.tie_break", ["a string"]),
        (lambda s: s["experiment"].update(feedback="bandit"), "experiment.feedback", ["full-information learner"]),
    ],
)
def test_malformed_specs_name_the_key_path(mutate, path, words):
    spec = game_spec()
    mutate(spec)
    e = err(spec)
    assert str(e).startswith(path + ":"), str(e)
    for w in words:
        assert w in str(e), (w, str(e))
    assert isinstance(e, ValueError)


def test_function_spec_errors():
    assert str(err(fn_spec(function={"name": "os.system"}))).startswith("function.name:")
    assert "unknown unit function" in str(err(fn_spec(function={"name": "nope"})))
    e = err(fn_spec(function={"name": "random_walk", "drift": float("nan")}))
    assert str(e).startswith("function.drift:")
    # an unknown key is caught when the spec loads, for every declared function, not when a unit runs
    e = err(fn_spec(function={"name": "random_walk", "drfit": 0.5}))
    assert str(e).startswith("function.drfit:") and "unknown key" in str(e) and "drift" in str(e)
    e = err(fn_spec(function={"name": "info_online_regret", "horizn": 10}))
    assert str(e).startswith("function.horizn:") and "horizon" in str(e)


def test_toml_file_errors(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text("[experiment\nrounds = 3")
    assert "valid TOML" in str(err(p))
    assert "existing TOML file" in str(err(tmp_path / "missing.toml"))


def test_grid_and_zip_expansion_counts_and_values():
    spec = fn_spec(
        grid={"function.drift": [0.0, 0.5, 1.0], "experiment.batch": [2, 4]},
        zip={"function.scale": [1.0, 2.0], "experiment.rounds": [10, 20]},
    )
    sp = load_spec(spec)
    pts = sp.points()
    assert len(pts) == 3 * 2 * 2
    units = sp.units()
    assert len(units) == 12 * 2 and len({u.key for u in units}) == 24
    combos = {
        (c["function"]["drift"], c["experiment"]["batch"], c["function"]["scale"], c["experiment"]["rounds"])
        for c, _ in pts
    }
    assert (0.5, 4, 2.0, 20) in combos and (0.5, 4, 2.0, 10) not in combos  # zipped, not crossed
    # array of zip groups: each group zipped, groups crossed
    spec2 = fn_spec(zip=[{"function.scale": [1.0, 2.0]}, {"function.drift": [0.0, 1.0, 2.0]}])
    assert len(load_spec(spec2).points()) == 6


def test_seeds_list_and_count():
    assert [u.config["replicate"] for u in load_spec(fn_spec()).units()] == [0, 1]
    sp = load_spec(fn_spec(experiment={"rounds": 10, "seeds": [7, 3]}))
    assert [u.config["replicate"] for u in sp.units()] == [7, 3]


def test_unit_seed_depends_on_config_not_order():
    a = load_spec(fn_spec(grid={"function.drift": [0.0, 1.0, 2.0]})).units()
    b = load_spec(fn_spec(grid={"function.drift": [2.0, 0.0, 1.0]})).units()
    by_key = {u.key: u for u in b}
    assert {u.key for u in a} == set(by_key)
    for u in a:
        assert unit_seed(u.config).entropy == unit_seed(by_key[u.key].config).entropy
        np.testing.assert_array_equal(execute(u.config)["value"], execute(by_key[u.key].config)["value"])
    # different replicates and different configs get different streams
    ents = {str(unit_seed(u.config).entropy) for u in a}
    assert len(ents) == len(a)
    # the spec seed changes every stream; the name and metrics filter do not
    c = copy.deepcopy(a[0].config)
    c2 = copy.deepcopy(c)
    c2["experiment"]["seed"] = 1
    c3 = copy.deepcopy(c)
    c3["experiment"]["name"] = "other"
    c3["experiment"]["metrics"] = ["mean"]
    assert unit_seed(c2).entropy != unit_seed(c).entropy
    assert unit_seed(c3).entropy == unit_seed(c).entropy


def test_flatten_config_columns():
    u = load_spec(game_spec()).units()[0]
    flat = flatten_config(u.config)
    assert flat["env.n_agents"] == 3 and flat["mechanism.name"] == "uniform_phantom"
    assert flat["agents.0.learner"] == "hedge" and flat["agents.0.agents"] == "all"
    assert flat["replicate"] == 0


def test_spec_is_never_executed_as_code(tmp_path, monkeypatch):
    """Strings that would run code if evaluated stay strings; import-path names are rejected."""
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    short = "__import__('os').system('touch pwned')"  # relative to the cwd: no path separator
    payload = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    spec_file = tmp_path / "evil.toml"
    spec_file.write_text(
        textwrap.dedent(f"""
        [experiment]
        name = "{short}"
        rounds = 5
        [function]
        name = "random_walk"
        [grid]
        "function.drift" = ["{payload}"]
    """)
    )
    sp = load_spec(spec_file)
    assert sp.name == short
    res = runner.run(sp, executor="serial", progress=False)  # default out: results/<name>
    assert res.failed == 1 and "could not convert string to float" in next(iter(res.failures.values()))
    assert not marker.exists() and (tmp_path / "results" / short).is_dir()
    # a name cannot point the output folder elsewhere
    assert str(err(fn_spec(experiment={"name": "../../etc"}))).startswith("experiment.name:")
    for field, value in (("env", {"name": payload}), ("function", {"name": payload})):
        bad = tmp_path / "evil2.toml"
        body = {
            "env": f'[env]\nname = "{value["name"]}"\n[[agents]]\nlearner = "hedge"\n',
            "function": f'[function]\nname = "{value["name"]}"\n',
        }[field]
        bad.write_text(body)
        with pytest.raises(SpecError):
            load_spec(bad)
        assert not marker.exists()
    for name in ("os", "subprocess", "coopsim.cli", "..runner"):
        e = err(game_spec(env={"name": name}))
        assert str(e).startswith("env.name:")


def test_game_unit_executes_with_metrics_filter():
    sp = load_spec(game_spec(experiment={"rounds": 10, "batch": 4, "record_every": 5, "metrics": ["SW", "regret"]}))
    df = execute(sp.units()[0].config)
    assert set(df["metric"]) == {"SW", "regret"}
    assert sorted(df["round"].unique()) == [5, 10]
    bad = load_spec(game_spec(experiment={"rounds": 10, "metrics": ["no_such_metric"]}), build=False)
    with pytest.raises(ValueError, match="experiment.metrics"):
        execute(bad.units()[0].config)


SPECS = sorted((__import__("pathlib").Path(__file__).parent.parent / "experiments" / "specs").glob("*.toml"))


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_shipped_specs_validate_and_their_first_unit_runs(path):
    sp = load_spec(path)
    units = sp.units()
    assert units and sp.name == path.stem
    cfg = copy.deepcopy(units[-1].config)
    cfg["experiment"].update(rounds=10, record_every=5, batch=min(cfg["experiment"]["batch"], 4))
    fn = cfg.get("function", {})
    if "iterations" in fn:  # trainers (coopsim.design): a smoke run, not the full training
        fn["iterations"] = min(fn["iterations"], 20)
    df = execute(cfg)
    assert len(df) and np.isfinite(df["value"]).all()
    if cfg["experiment"]["metrics"]:
        assert set(df["metric"]) == set(cfg["experiment"]["metrics"])


def test_facility_card_unit_reproduces_the_spec_table():
    sp = load_spec(
        {
            "experiment": {"name": "card", "rounds": 1},
            "function": {"name": "facility_card", "mechanism": "average", "n_agents": 3, "profiles": 64},
            "grid": {"function.mechanism": ["average", "uniform_phantom"]},
        }
    )
    rows = {}
    for u in sp.units():
        df = execute(u.config)
        assert set(df["round"]) == {0}
        rows[u.config["function"]["mechanism"]] = dict(zip(df["metric"], df["value"]))
    avg, up = rows["average"], rows["uniform_phantom"]
    assert avg["audit_gain"] == pytest.approx(2 / 9, abs=1e-9)  # (0, 0, 1/3): the third agent reports 1
    assert avg["ratio_TC"] == pytest.approx(4 / 3, abs=1e-9) and avg["spec_TC"] == pytest.approx(4 / 3)
    assert up["audit_gain"] <= 1e-12 and up["ratio_TC"] == pytest.approx(2.0, abs=1e-9)
    assert up["ratio_SW"] == pytest.approx(6 / 5, abs=1e-9) and up["ratio_MC"] == pytest.approx(2.0, abs=1e-9)
    assert all(up[a] == 1.0 for a in ("IFS", "UFS", "PF", "proportionality", "unanimity"))
    with pytest.raises(ValueError, match="facility mechanism"):
        execute({**sp.units()[0].config, "function": {"name": "facility_card", "mechanism": "gsp"}})


def test_native_env_simulate_protocol(monkeypatch, tmp_path):
    """An env module without make_game but with simulate(params, seed_sequence, rounds, batch, record_every)."""
    import sys
    import types

    import pandas as pd

    seen = {}
    mod = types.ModuleType("coopsim.envs.native_demo")

    def simulate(params, seed_sequence, rounds, batch, record_every):
        seen.update(params=params, rounds=rounds, batch=batch, record_every=record_every)
        rng = np.random.default_rng(seed_sequence)
        r = np.arange(record_every, rounds + 1, record_every)
        if params.get("wide"):
            return pd.DataFrame({"round": r, "gdp": rng.random(len(r)), "gini": rng.random(len(r))})
        return {"gdp": rng.random(len(r)), "gini": rng.random(len(r))}

    mod.simulate = simulate
    monkeypatch.setitem(sys.modules, "coopsim.envs.native_demo", mod)
    from coopsim import envs

    monkeypatch.setitem(envs._ENVS, "native_demo", envs.EnvEntry("native_demo", "coopsim.envs.native_demo"))
    spec = {
        "experiment": {"name": "native", "rounds": 20, "batch": 3, "record_every": 5, "seeds": 2},
        "env": {"name": "native_demo", "tax": 0.1},
        "mechanism": {"name": "uniform_phantom"},
        "agents": [{"learner": "scripted_a", "agents": [0]}, {"learner": "scripted_b", "agents": [1]}],
        "grid": {"env.wide": [False, True]},
    }
    sp = load_spec(spec)  # learner names of a native env are the module's business, not the registry's
    res = runner.run(sp, executor="serial", out=tmp_path / "o", progress=False)
    assert (res.done, res.failed) == (4, 0)
    assert seen["params"]["tax"] == 0.1 and seen["params"]["agents"][1]["learner"] == "scripted_b"
    assert type(seen["params"]["mechanism"]).__name__ == "UniformPhantom"
    assert (seen["rounds"], seen["batch"], seen["record_every"]) == (20, 3, 5)
    df = runner.load(tmp_path / "o")
    assert set(df["metric"]) == {"gdp", "gini"} and sorted(df["round"].unique()) == [5, 10, 15, 20]
    # both return forms give one row per replicate x metric x recorded round
    assert (df.groupby("env.wide").size() == 2 * 2 * 4).all()
    with pytest.raises(SpecError, match="env.name"):
        load_spec({**spec, "env": {"name": "native_demo_missing"}})
