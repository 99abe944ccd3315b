"""``BoundedBox``: a Gymnasium ``Box`` whose ``sample()`` draws exactly what ``Box.sample`` draws."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from coopsim.envs import facility_location, position_auction
from hypothesis import given, settings
from hypothesis import strategies as st

from coopsim.core.spaces import BoundedBox


@settings(max_examples=150, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    lo=st.floats(-1e30, 1e30),
    width=st.floats(1e-6, 1e30),
    seed=st.integers(0, 2**32 - 1),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_samples_equal_gymnasium_box_bit_for_bit(shape, lo, width, seed, dtype):
    rng = np.random.default_rng(seed)
    low = (lo + rng.uniform(-1, 1, shape)).astype(dtype)
    high = (low.astype(np.float64) + width).astype(dtype)
    fast, plain = BoundedBox(low, high, dtype=dtype), gym.spaces.Box(low, high, dtype=dtype)
    fast.seed(seed)
    plain.seed(seed)
    for _ in range(5):
        a, b = fast.sample(), plain.sample()
        assert a.dtype == b.dtype == np.dtype(dtype) and a.shape == b.shape == shape
        np.testing.assert_array_equal(a, b)
        assert fast.contains(a)


@pytest.mark.parametrize(
    "low, high, dtype",
    [
        (0, 10, np.int64),  # integer box: Gymnasium's floor-and-clip path
        (-np.inf, 1.0, np.float32),  # unbounded below: exponential draws
        (np.array([0.0, -np.inf]), np.array([1.0, np.inf]), np.float64),  # mixed interval types
        (-1e308, 1e308, np.float64),  # range overflows float64: Gymnasium's (NumPy's) error
    ],
)
def test_other_boxes_fall_back_to_gymnasium(low, high, dtype):
    shape = None if np.ndim(low) else (3,)
    fast, plain = BoundedBox(low, high, shape, dtype), gym.spaces.Box(low, high, shape, dtype)
    fast.seed(7)
    plain.seed(7)
    assert not fast._uniform_only
    with np.errstate(over="ignore"):  # Gymnasium's subtraction overflows before NumPy refuses the range
        try:
            expected = plain.sample()
        except OverflowError:
            with pytest.raises(OverflowError):
                fast.sample()
            return
        np.testing.assert_array_equal(fast.sample(), expected)


def test_mask_is_refused_like_gymnasium():
    with pytest.raises(gym.error.Error, match="mask"):
        BoundedBox(0.0, 1.0, (2,)).sample(mask=np.ones(2, dtype=np.int8))


def test_env_action_spaces_are_boxes_with_the_fast_sample():
    for env in (facility_location.parallel_env(n_agents=3), position_auction.parallel_env(n_agents=3)):
        space = env.action_space(env.possible_agents[0])
        assert isinstance(space, gym.spaces.Box) and isinstance(space, BoundedBox) and space._uniform_only
        assert space == gym.spaces.Box(space.low, space.high, space.shape, space.dtype)
