"""Name lookup shared by every registry: exact, case-insensitive, "did you mean", plain parameter errors."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coopsim import agents, mechanisms
from coopsim.core.registry import Registry, check_parameters, did_you_mean, resolve, suggest

NAMES = ["gsp", "vcg", "uniform_phantom", "ifs_optimal_phantom", "median", "right_median"]


def test_suggest_closest_first_and_substrings():
    assert suggest("gsq", NAMES) == ["gsp"]
    assert suggest("mediam", NAMES) == ["median"]
    assert suggest("Median", NAMES) == ["median", "right_median"]
    assert suggest("phantom", NAMES) == ["uniform_phantom", "ifs_optimal_phantom"]
    assert suggest("zzzz", NAMES) == []
    assert did_you_mean("gsq", NAMES) == "did you mean 'gsp'?"
    assert did_you_mean("phantom", NAMES) == "did you mean 'uniform_phantom' or 'ifs_optimal_phantom'?"
    assert did_you_mean("zzzz", NAMES) == ""


def test_resolve_exact_case_insensitive_and_unknown():
    assert resolve("gsp", NAMES, "mechanism") == "gsp"
    assert resolve("GSP", NAMES, "mechanism") == "gsp"
    assert resolve("Uniform_Phantom", NAMES, "mechanism") == "uniform_phantom"
    with pytest.raises(ValueError, match=r"^mechanism: unknown name 'gsq'; did you mean 'gsp'\?$"):
        resolve("gsq", NAMES, "mechanism")
    with pytest.raises(ValueError, match=r"unknown name 'zzzz'; expected one of \['gsp'"):
        resolve("zzzz", NAMES, "mechanism")
    with pytest.raises(TypeError, match="mechanism: expected a non-empty name"):
        resolve(3, NAMES, "mechanism")


def test_resolve_ambiguous_case_needs_the_exact_name():
    names = ["Gsp", "gSP"]
    assert resolve("gSP", names, "thing") == "gSP"
    with pytest.raises(ValueError, match="did you mean 'Gsp' or 'gSP'"):
        resolve("GSP", names, "thing")


@given(st.lists(st.text(alphabet="abcdefgh_", min_size=1, max_size=8), min_size=1, max_size=8, unique=True))
def test_resolve_finds_every_name_in_any_case(names):
    for name in names:
        assert resolve(name, names, "x") == name
        if sum(n.lower() == name.lower() for n in names) == 1:
            assert resolve(name.upper(), names, "x") == name


def test_check_parameters_messages():
    def f(n_agents, mechanism="up", *, seed=0):
        return n_agents

    check_parameters(f, {"n_agents": 3}, "environment 'e'")
    with pytest.raises(TypeError, match=r"^missing required parameter 'n_agents' for environment 'e'$"):
        check_parameters(f, {}, "environment 'e'")
    with pytest.raises(TypeError, match=r"unknown parameter 'sed' for environment 'e'; did you mean 'seed'\?"):
        check_parameters(f, {"n_agents": 1, "sed": 1}, "environment 'e'")
    check_parameters(lambda **kw: None, {"anything": 1}, "x")  # **kwargs accepts every key


def test_registry_get_resolves_and_names_parameters():
    reg = Registry("thing")

    @reg.register("alpha")
    class Alpha:
        def __init__(self, k: int, scale: float = 1.0):
            self.k, self.scale = k, scale

    assert reg.get("ALPHA", k=2).k == 2
    assert reg.canonical("Alpha") == "alpha"
    assert "Alpha" not in reg and "alpha" in reg  # membership stays exact
    with pytest.raises(TypeError, match="^missing required parameter 'k' for thing 'alpha'$"):
        reg.get("alpha")
    with pytest.raises(ValueError, match="did you mean 'alpha'"):
        reg.get("alpah", k=1)


def test_project_registries_accept_case_and_suggest():
    assert type(mechanisms.get("GSP")) is type(mechanisms.get("gsp"))
    assert mechanisms.registry.canonical("Uniform_Phantom") == "uniform_phantom"
    with pytest.raises(ValueError, match="did you mean 'uniform_phantom'"):
        mechanisms.get("uniform_fantom")
    with pytest.raises(TypeError, match="missing required parameter 'phantoms' for mechanism 'generalized_median'"):
        mechanisms.get("generalized_median")
    with pytest.raises(ValueError, match="did you mean 'hedge'"):
        agents.get("hegde", n_actions=3)
    with pytest.raises(TypeError, match="missing required parameter 'n_actions' for learner 'hedge'"):
        agents.get("hedge")
