"""The coopsim CLI: exit codes, malformed specs, list/audit/report/plot, report numbers vs analyses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from coopsim.cli import main, parse_params

GOOD = """
[experiment]
name = "cli"
rounds = 20
batch = 4
record_every = 5
seeds = 2

[env]
name = "facility_location"
n_agents = 3

[mechanism]
name = "uniform_phantom"

[[agents]]
learner = "hedge"

[grid]
"env.n_agents" = [2, 3]
"""


def write(tmp_path, text, name="spec.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


@pytest.mark.parametrize(
    "old, new, path",
    [
        ("rounds = 20", "rounds = 20\nwarmup = 3", "experiment.warmup"),  # unknown key
        ("n_agents = 3", 'n_agents = 3\ncolour = "red"', "env.colour"),  # unknown env key
        ("rounds = 20", 'rounds = "twenty"', "experiment.rounds"),  # wrong type
        ("rounds = 20", "rounds = -3", "experiment.rounds"),  # negative rounds
        ('name = "uniform_phantom"', 'name = "uniform_fantom"', "mechanism.name"),  # unknown mechanism
        ('learner = "hedge"', 'learner = "hedgehog"', "agents.0.learner"),  # unknown learner
        ("[2, 3]", "[]", 'grid."env.n_agents"'),  # empty grid
        ("[2, 3]", "[2, -1]", 'grid."env.n_agents"[1] (env.n_agents)'),
    ],
)
def test_malformed_spec_exits_2_naming_the_key_path(tmp_path, capsys, old, new, path):
    assert old in GOOD
    spec = write(tmp_path, GOOD.replace(old, new, 1))
    code = main(["run", str(spec), "--out", str(tmp_path / "o"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"bad spec: {path}:" in err, err
    assert not (tmp_path / "o").exists()  # nothing ran


def test_run_success_progress_and_check(tmp_path, capsys, monkeypatch):
    spec = write(tmp_path, GOOD)
    assert main(["run", str(spec), "--check"]) == 0
    assert "4 units (2 configs x 2 seeds)" in capsys.readouterr().out
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the bar is drawn
    code = main(["run", str(spec), "--executor", "serial", "--out", str(tmp_path / "o")])
    cap = capsys.readouterr()
    assert code == 0
    assert "4 done, 0 failed, 0 skipped of 4 units" in cap.out
    assert "4/4" in cap.err and "failed=0" in cap.err  # the tqdm bar
    monkeypatch.undo()
    assert (
        main(["run", str(spec), "--executor", "serial", "--out", str(tmp_path / "o"), "--resume", "--no-progress"]) == 0
    )
    assert "0 done, 0 failed, 4 skipped" in capsys.readouterr().out


def test_failed_units_exit_1(tmp_path, capsys):
    spec = write(
        tmp_path,
        """
        [experiment]
        rounds = 10
        seeds = 2
        [function]
        name = "random_walk"
        [grid]
        "function.fail" = [false, true]
    """,
    )
    code = main(
        ["run", str(spec), "--executor", "serial", "--retries", "1", "--out", str(tmp_path / "o"), "--no-progress"]
    )
    cap = capsys.readouterr()
    assert code == 1
    assert "2 done, 2 failed" in cap.out and "failing on purpose" in cap.err


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["run"],
        ["run", "x.toml", "--executor", "threads"],
        ["run", "x.toml", "--workers", "two"],
    ],
)
def test_bad_usage_exits_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_bad_option_values_exit_2(tmp_path, capsys):
    spec = write(tmp_path, GOOD)
    assert main(["run", str(spec), "--workers", "0"]) == 2
    assert main(["run", str(spec), "--address", "auto"]) == 2
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert main(["audit", "no_such_mechanism"]) == 2
    assert main(["audit", "average", "bogus=1"]) == 2
    assert main(["audit", "average", "novalue"]) == 2
    assert main(["plot", str(tmp_path / "nothing"), "--metric", "SW"]) == 2
    err = capsys.readouterr().err
    assert "--workers" in err and "--address" in err and "mechanism:" in err


def test_parse_params_reads_toml_literals_only():
    p = parse_params(["k=3", "x=0.5", "flag=true", "phantoms=[0, 0.5, 1]", "name=abc", 'q="__import__(1)"'])
    assert p == {"k": 3, "x": 0.5, "flag": True, "phantoms": [0, 0.5, 1], "name": "abc", "q": "__import__(1)"}


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("facility_location", "uniform_phantom", "[facility]", "hedge", "eta=", "random_walk"):
        assert word in out
    assert main(["list", "learners"]) == 0
    out = capsys.readouterr().out
    assert "hedge" in out and "uniform_phantom" not in out


def test_console_script_is_installed():
    exe = shutil.which("coopsim")
    if exe is None:
        pytest.skip("console script not on PATH")
    res = subprocess.run([exe, "list", "functions"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "random_walk" in res.stdout


# ----------------------------------------------------------------------------------------------
def _R(n):
    return max(Fraction(n * k, n * n - 2 * n * k + 2 * k * k) for k in range(n + 1))


def test_report_uniform_phantom_matches_analyses(tmp_path, capsys):
    from coopsim.envs.facility_location import FacilityLocation
    from coopsim.runner.report import facility_profiles

    from coopsim import mechanisms
    from coopsim.analysis import incentive_audit, worst_case_ratio

    out = tmp_path / "up"
    code = main(
        ["report", "uniform_phantom", "--out", str(out), "--n", "2", "3", "4", "--profiles", "128", "--n-agents", "4"]
    )
    assert code == 0
    md = (out / "report.md").read_text()
    data = json.loads((out / "report.json").read_text())
    for fig in ("ratios.png", "axioms.png", "deviation.png"):
        assert (out / fig).stat().st_size > 1000 and f"]({fig})" in md
    # audit: gain 0, recomputed independently with the same inputs
    up = mechanisms.get("uniform_phantom")
    game = FacilityLocation(n_agents=4, mechanism=up)
    cls = facility_profiles(4, 128, np.random.default_rng(0))
    aud = incentive_audit(game, np.concatenate([cls["uniform"], cls["grid"]]), grid=101, rng=0)
    assert data["audit"]["max_gain"] == pytest.approx(aud.max_gain, abs=0)
    assert abs(data["audit"]["max_gain"]) <= 1e-12 and data["audit"]["strategyproof"] is True
    assert "no profitable misreport found" in md
    # axioms hold on every profile
    assert all(r["rate"] == 1.0 for r in data["axioms"].values())
    assert "Holds on every profile checked: IFS, UFS, PF, proportionality, unanimity" in md
    # ratios as in the facility spec: TC n-1, MC 2, SW R(n); and equal to worst_case_ratio
    for r in data["ratios"]:
        n, obj = r["n"], r["objective"]
        expect = {"TC": Fraction(n - 1), "MC": Fraction(2), "SW": _R(n)}[obj]
        assert r["found"] == pytest.approx(float(expect), abs=1e-9) and r["match"] is True
        wc = worst_case_ratio(FacilityLocation(n_agents=n, mechanism=up), obj, rng=0)
        assert r["found"] == wc.ratio
    assert "| 4 | TC | 3 | 3 = 3 | yes |" in md
    assert "| 3 | SW | 1.2 | 6/5 = 1.2 | yes |" in md


def test_report_average_shows_the_witness(tmp_path, capsys):
    from coopsim import mechanisms

    out = tmp_path / "avg"
    assert main(["report", "average", "--out", str(out), "--n", "2", "3", "--profiles", "64", "--n-agents", "3"]) == 0
    md = (out / "report.md").read_text()
    data = json.loads((out / "report.json").read_text())
    w = data["audit"]["witness"]
    assert data["audit"]["max_gain"] > 0.1 and data["audit"]["strategyproof"] is False
    assert "**manipulable**" in md and "**Witness**" in md
    # the witness is a real manipulation: recompute its gain from the mechanism
    avg = mechanisms.get("average")
    t = np.array(w["types"])
    dev = t.copy()
    dev[w["agent"]] = w["deviation"]
    gain = (1 - abs(float(avg(dev)) - t[w["agent"]])) - (1 - abs(float(avg(t)) - t[w["agent"]]))
    assert gain == pytest.approx(w["gain"], abs=1e-12)
    assert w["location_deviation"] == pytest.approx(float(avg(dev)))
    # the AVG ratios of the spec: TC = MC = 2 - 2/n, SW = R(n)
    for r in data["ratios"]:
        assert r["match"] is True, r


def test_audit_prints_card_and_unsupported_family_says_not_available(capsys, monkeypatch):
    from coopsim.runner import report as rep

    assert main(["audit", "midpoint", "n_agents=3", "--profiles", "64"]) == 0
    out = capsys.readouterr().out
    assert "**manipulable**" in out and "| UFS | no | no |" in out
    assert "- command: `coopsim audit midpoint n_agents=3 --profiles 64`" in out  # main's argv, not sys.argv
    assert main(["audit", "no_gate"]) == 0
    out = capsys.readouterr().out
    assert "## Gate properties" in out and "Not available" not in out
    monkeypatch.delitem(rep.FAMILIES, "gates")
    assert main(["audit", "no_gate"]) == 0
    assert "Not available yet for the **gates** family" in capsys.readouterr().out


def test_plot_writes_a_figure(tmp_path, capsys):
    spec = write(tmp_path, GOOD)
    assert main(["run", str(spec), "--executor", "serial", "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assert main(["plot", str(tmp_path / "o"), "--metric", "SW", "--by", "env.n_agents"]) == 0
    fig = tmp_path / "o" / "figures" / "SW_by_env-n_agents.png"
    assert fig.stat().st_size > 1000
    assert (
        main(["plot", str(tmp_path / "o"), "--metric", "regret", "--by", "agent", "--out", str(tmp_path / "r.pdf")])
        == 0
    )
    assert (tmp_path / "r.pdf").exists()
    assert main(["plot", str(tmp_path / "o"), "--metric", "nope"]) == 2
    assert main(["plot", str(tmp_path / "o"), "--metric", "SW", "--by", "nocolumn"]) == 2
    assert "by: expected columns" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "o"), "--metric", "SW", "--x", "nocolumn"]) == 2
    assert "x: expected columns" in capsys.readouterr().err


def test_audit_of_a_mechanism_built_for_one_n(capsys):
    assert main(["audit", "generalized_median", "phantoms=[0, 0.5, 0.5, 1]", "--profiles", "32"]) == 0
    out = capsys.readouterr().out
    assert "Incentive audit (n = 3)" in out and "| max gain | 0 |" in out
    assert main(["audit", "generalized_median", "phantoms=[0, 0.5, 0.5, 1]", "--n-agents", "4"]) == 2


def test_family_dispatch_uses_registered_handlers(monkeypatch):
    from coopsim.runner import report as rep

    seen = {}

    def gates_audit(name, params, mech, **options):
        seen.update(name=name, options=options, family=rep.family_of(mech))
        card = rep.Card(name, "gates", dict(params))
        card.sections.append(("Invariants", "checked"))
        return card

    monkeypatch.setitem(rep.FAMILIES, "gates", {"audit": gates_audit, "report": gates_audit})
    card = rep.audit("no_gate", {}, seed=3)
    assert seen == {"name": "no_gate", "options": {"seed": 3}, "family": "gates"}
    assert card.available and "## Invariants" in card.markdown()
    assert rep.family_of(rep.build("uniform_phantom")) == "facility"
    assert rep.family_of(rep.build("gsp")) == "auctions"


def test_run_set_overrides(tmp_path, capsys):
    spec = write(tmp_path, GOOD)
    assert main(["run", str(spec), "--check", "--set", "experiment.seeds=3", "--set", 'env.types="beta"']) == 0
    assert "6 units (2 configs x 3 seeds)" in capsys.readouterr().out
    assert main(["run", str(spec), "--check", "--set", "experiment.rounds=-1"]) == 2
    assert "bad spec: experiment.rounds:" in capsys.readouterr().err
    assert main(["run", str(spec), "--check", "--set", "nowhere.x=1"]) == 2
    assert "--set nowhere.x" in capsys.readouterr().err


def test_plot_against_a_parameter_at_the_last_round(tmp_path, capsys):
    spec = write(tmp_path, GOOD)
    assert main(["run", str(spec), "--executor", "serial", "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assert main(["plot", str(tmp_path / "o"), "--metric", "SW_ratio", "--x", "env.n_agents", "--at-round", "last"]) == 0
    assert (tmp_path / "o" / "figures" / "SW_ratio_vs_env-n_agents.png").stat().st_size > 1000
    assert main(["plot", str(tmp_path / "o"), "--metric", "SW", "--at-round", "7"]) == 2
    assert main(["plot", str(tmp_path / "o"), "--metric", "SW", "--at-round", "first"]) == 2
    assert main(["run", str(tmp_path)]) == 2  # a folder is not a spec


def test_unreachable_ray_address_exits_2_fast(tmp_path, capsys):
    pytest.importorskip("ray")
    spec = write(tmp_path, GOOD)
    assert (
        main(
            [
                "run",
                str(spec),
                "--executor",
                "ray",
                "--address",
                "127.0.0.1:1",
                "--out",
                str(tmp_path / "o"),
                "--no-progress",
            ]
        )
        == 2
    )
    assert "no Ray cluster reachable at 127.0.0.1:1" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                str(spec),
                "--executor",
                "ray",
                "--address",
                "nonsense",
                "--out",
                str(tmp_path / "o"),
                "--no-progress",
            ]
        )
        == 2
    )


# ----------------------------------------------------------------------------------------------
# --version, list, examples, names, help
# ----------------------------------------------------------------------------------------------
def test_version(capsys):
    import coopsim

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"coopsim {coopsim.__version__}"


def test_list_envs_shows_gym_ids_parameters_and_full_sentences(capsys):
    assert main(["list", "envs"]) == 0
    out = capsys.readouterr().out
    for env_id in ("coopsim/FacilityLocation-v0", "coopsim/PositionAuction-v0", "coopsim/AgentEconomy-v0"):
        assert env_id in out
    assert "n_agents=5, mechanism='uniform_phantom'" in out  # facility_location's constructor defaults
    assert "One-dimensional facility location under a designed mechanism." in out
    assert "[native]" in out and "[game]" in out


def test_list_descriptions_are_whole_sentences_without_markup(capsys):
    from coopsim import listing

    entries = [e for f in (listing.environments, listing.mechanisms, listing.learners, listing.functions) for e in f()]
    assert len(entries) > 40
    for e in entries:
        assert e.description, e.name
        assert "``" not in e.description and ":class:" not in e.description and "**" not in e.description, e
        assert e.description[-1] in ".?!)" or e.description.endswith(tuple("0123456789")), e
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "``" not in out and ":mod:" not in out and ":class:" not in out


@pytest.mark.parametrize(
    "doc, first",
    [
        ("Hedge / weights: ``p = softmax(eta U)``. More text.", "Hedge / weights: p = softmax(eta U)."),
        ("A :class:`~coopsim.core.MechanismGame` (see e.g. Smith). Then.", "A MechanismGame (see e.g. Smith)."),
        ("Two lines\n    of one sentence.\n\n    Next paragraph.", "Two lines of one sentence."),
        ("Values i.i.d. U[0,1] per round. Next.", "Values i.i.d. U[0,1] per round."),
        ("Ends at (FPPV). IC, proportional.", "Ends at (FPPV)."),
        ("x w.p. 1/4, y w.p. 3/4. Then 4 more.", "x w.p. 1/4, y w.p. 3/4."),
        ("No full stop at all", "No full stop at all"),
        ("A **bold** [link](https://x.org) and *emphasis*.", "A bold link and emphasis."),
        ("Version 1.5 of (a. b) stays whole. Next.", "Version 1.5 of (a. b) stays whole."),
        (None, ""),
    ],
)
def test_first_sentence(doc, first):
    from coopsim.listing import first_sentence

    assert first_sentence(doc) == first


def test_unknown_names_get_suggestions_and_case_is_accepted(capsys):
    assert main(["audit", "gsq"]) == 2
    err = capsys.readouterr().err
    assert "unknown name 'gsq'; did you mean 'gsp'?" in err and "aigc_vcg" not in err  # no 33-name list
    assert main(["audit", "GSP", "--profiles", "8", "--grid", "5"]) == 0
    assert "Report card: `gsp`" in capsys.readouterr().out
    assert main(["audit", "generalized_median"]) == 2
    assert "missing required parameter 'phantoms' for mechanism 'generalized_median'" in capsys.readouterr().err
    assert main(["audit", "gsp", "reserv=0.1"]) == 2
    assert "did you mean 'reserve'?" in capsys.readouterr().err


def test_run_a_packaged_example_by_name(tmp_path, capsys, monkeypatch):
    from coopsim.cli import spec_path
    from coopsim.listing import example_specs

    monkeypatch.chdir(tmp_path)  # no file called smoke here
    assert spec_path("smoke") == spec_path("smoke.toml") == spec_path("SMOKE") == Path(str(example_specs()["smoke"]))
    assert main(["run", "facility_compare", "--check"]) == 0
    assert capsys.readouterr().out.startswith("facility_compare: 36 units")
    assert main(["run", "facility_compre", "--check"]) == 2
    assert "did you mean 'facility_compare'" in capsys.readouterr().err
    (tmp_path / "smoke.toml").write_text('[experiment]\nname = "mine"\n[function]\nname = "random_walk"\n')
    assert spec_path("smoke") == Path(str(example_specs()["smoke"]))  # no file "smoke": still the example
    assert spec_path("smoke.toml") == Path("smoke.toml")  # an existing file wins over the example
    assert spec_path("sub/x.toml") == Path("sub/x.toml")  # a path goes to the loader as given
    assert main(["run", "sub/x.toml"]) == 2


def test_examples_copy_out_and_list(tmp_path, capsys):
    names = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "experiments" / "specs").glob("*.toml"))
    assert main(["examples", str(tmp_path / "ex")]) == 0
    assert sorted(p.stem for p in (tmp_path / "ex").glob("*.toml")) == names
    assert f"{len(names)} example specs written" in capsys.readouterr().out
    (tmp_path / "ex" / "smoke.toml").write_text("# mine\n")
    assert main(["examples", str(tmp_path / "ex")]) == 2  # never overwrites silently
    assert "already exist" in capsys.readouterr().err and (tmp_path / "ex" / "smoke.toml").read_text() == "# mine\n"
    assert main(["examples", str(tmp_path / "ex"), "--force"]) == 0
    assert "random_walk" in (tmp_path / "ex" / "smoke.toml").read_text()
    assert main(["examples"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in names)


def _subparsers(parser):
    import argparse

    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sub.choices


def test_help_documents_every_flag_of_every_subcommand(capsys):
    import argparse

    from coopsim.cli import build_parser

    parser = build_parser()
    commands = {"": parser, **_subparsers(parser)}
    assert {"run", "list", "examples", "audit", "report", "plot"} <= set(commands)
    for name, sub in commands.items():
        with pytest.raises(SystemExit):
            main([name, "--help"] if name else ["--help"])
        text = " ".join(capsys.readouterr().out.split())
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            assert action.help, f"coopsim {name}: {action.option_strings or action.dest} has no help text"
            for opt in action.option_strings:
                assert opt in text, f"coopsim {name} --help omits {opt}"
            shown = action.help.split("%")[0].split()[:4]
            assert " ".join(shown) in text, f"coopsim {name} --help omits the help of {action.dest}"


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    exe = shutil.which("coopsim")
    if exe is None:
        pytest.skip("console script not on PATH")
    res = subprocess.run(
        [exe, "run", "smoke", "--executor", "serial", "--out", str(tmp_path / "o"), "--set", "experiment.rounds=20"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "9 done" in res.stdout
    assert "\r" not in res.stderr and "unit/s" not in res.stderr and "it/s" not in res.stderr


def test_spec_names_case_insensitive_and_suggested(tmp_path, capsys):
    spec = write(
        tmp_path,
        """
        [experiment]
        name = "case"
        rounds = 4
        [function]
        name = "Random_Walk"
        """,
    )
    assert main(["run", str(spec), "--executor", "serial", "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    assert "1 done, 0 failed" in capsys.readouterr().out
    typo = GOOD.replace('learner = "hedge"', 'learner = "hegde"').replace('"uniform_phantom"', '"Uniform_Phantom"')
    assert main(["run", str(write(tmp_path, typo, "typo.toml")), "--check"]) == 2
    err = capsys.readouterr().err
    assert "agents.0.learner: expected a registered learner name, got 'hegde'" in err
    assert "did you mean 'hedge'?" in err and "mechanism.name" not in err  # the mechanism's case is accepted
