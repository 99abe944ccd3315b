"""Bad inputs refused at the boundary: the faults a user found, each a named error."""

from __future__ import annotations

import time

import numpy as np
import pytest
from coopsim.envs.facility_location import FacilityLocation
from coopsim.envs.position_auction import PositionAuction

from coopsim.core import set_memory_budget
from coopsim.core.validation import ParameterError, ParameterTypeError, as_array, check_size, memory_budget


@pytest.mark.parametrize(
    ("types", "match"),
    [
        (np.full((1, 3), 7.0), r"types: expected values <= 1.0, got 7.0"),
        (np.full((1, 3), np.nan), r"types: expected finite values"),
        (np.full((2, 2), 0.5), r"types: expected shape \(B, 3\), got \(2, 2\)"),
    ],
)
def test_facility_play_refuses_bad_types(types: np.ndarray, match: str) -> None:
    game = FacilityLocation(n_agents=3, mechanism="median")
    with pytest.raises(ValueError, match=match) as err:
        game.play(types, np.full((1, 3), 0.5))
    assert err.value.param == "types"


def test_facility_deviation_refuses_nan_actions_and_keeps_values() -> None:
    game = FacilityLocation(n_agents=3, mechanism="median")
    with pytest.raises(ValueError, match="actions: expected finite values"):
        game.deviation_utilities(np.full((1, 3), 0.5), np.full((1, 3), np.nan), np.linspace(0, 1, 5))
    # others report 0.2, 0.2: the median is 0.2 whatever agent i reports, utility 1 - |0.2 - 0.5|
    u = game.deviation_utilities(np.full((1, 3), 0.5), np.full((1, 3), 0.2), np.linspace(0, 1, 3))
    np.testing.assert_allclose(u, np.full((1, 3, 3), 0.7))


@pytest.mark.parametrize("value", [np.nan, -1.0])
def test_position_auction_play_refuses_bad_values(value: float) -> None:
    game = PositionAuction(n_agents=3)
    with pytest.raises(ValueError, match="types: expected"):
        game.play(np.full((1, 3), value), np.full((1, 3), 0.5))


def test_wrong_family_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="mechanism: expected a mechanism of the 'auctions' family"):
        PositionAuction(mechanism="median")
    with pytest.raises(ValueError, match="mechanism: expected a mechanism of the 'facility' family"):
        FacilityLocation(mechanism="gsp")


def test_sample_types_refuses_int_rng_and_huge_batch() -> None:
    game = FacilityLocation(n_agents=3)
    with pytest.raises(TypeError, match="rng: expected a numpy.random.Generator"):
        game.sample_types(5, 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="batch: expected an integer"):
        game.sample_types(np.random.default_rng(0), 1e8)  # type: ignore[arg-type]
    previous = set_memory_budget("1M")
    try:
        with pytest.raises(ValueError, match="batch: this call would allocate") as err:
            game.sample_types(np.random.default_rng(0), 10**8)
        assert err.value.param == "batch"
    finally:
        set_memory_budget(previous)


@pytest.mark.parametrize(
    ("value", "what"),
    [([True, False, True], "booleans"), (["a"], "strings"), ([1 + 2j], "complex"), ([None, 1.0], "objects")],
)
def test_as_array_refuses_non_numbers(value: object, what: str) -> None:
    with pytest.raises(ParameterTypeError, match=f"x: expected a numeric array, got .*{what}"):
        as_array(value, "x")


def test_as_array_integer_dtype_refuses_fractions() -> None:
    with pytest.raises(ParameterError, match="tier: expected integers, got 1.7"):
        as_array(1.7, "tier", dtype=np.int64)
    assert as_array(2.0, "tier", dtype=np.int64) == 2


def test_broadcast_view_checked_without_copy() -> None:
    view = np.broadcast_to(np.array([0.1, 0.2, 0.3]), (10**9, 3))
    t0 = time.perf_counter()
    out = as_array(view, "types", lo=0.0, hi=1.0)
    assert time.perf_counter() - t0 < 1.0
    assert out.shape == (10**9, 3)
    bad = np.broadcast_to(np.array([0.1, np.nan, 0.3]), (10**9, 3))
    with pytest.raises(ValueError, match="types: expected finite values"):
        as_array(bad, "types")


def test_size_guard_budget_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COOPSIM_MEMORY_BUDGET", "2K")
    assert memory_budget() == 2048
    assert check_size("batch", 256) == 2048
    with pytest.raises(ValueError, match="batch: this call would allocate"):
        check_size("batch", 257)
    previous = set_memory_budget(4096)
    try:
        assert memory_budget() == 4096
    finally:
        set_memory_budget(previous)
