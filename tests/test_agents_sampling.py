"""Sampling primitives of coopsim.agents (learning spec §2): cumsum sampling, masks, exact ties."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from coopsim.agents.sampling import (
    argmax_random,
    masked_softmax,
    maximiser_policy,
    sample_categorical,
    sample_uniform_valid,
)


def test_sample_categorical_frequencies_match_policy():
    rng = np.random.default_rng(1)
    p = np.array([0.5, 0.2, 0.0, 0.25, 0.05])
    M = 200_000
    a = sample_categorical(np.broadcast_to(p, (M, 5)), rng)
    counts = np.bincount(a, minlength=5)
    assert counts[2] == 0  # zero-probability action never sampled
    keep = p > 0
    chi2 = stats.chisquare(counts[keep], M * p[keep])
    assert chi2.pvalue > 1e-4
    assert np.abs(counts / M - p).max() < 0.005


def test_sample_categorical_is_count_of_cdf_below_u():
    """Against a hand-rolled inverse CDF with the same uniforms."""
    rng = np.random.default_rng(7)
    p = rng.dirichlet(np.ones(6), size=(50, 4))
    a = sample_categorical(p, np.random.default_rng(3))
    u = np.random.default_rng(3).random((50, 4))
    cdf = np.cumsum(p, -1)
    expect = np.minimum((cdf < u[..., None]).sum(-1), 5)
    np.testing.assert_array_equal(a, expect)


def test_sample_categorical_roundoff_clamps_to_last_valid_index():
    # cumulative sum ends below 1 (round-off): u above it must give the last *valid* index
    p = np.array([[[0.3, 0.3, 0.4 - 1e-12, 0.0, 0.0]]])  # valid actions 0..2, padding 3..4

    class OneRng:
        def random(self, shape):
            return np.full(shape, 1.0 - 1e-16)

    a = sample_categorical(p, OneRng(), last_valid=np.array([[2]]))
    assert a[0, 0] == 2
    a = sample_categorical(p, OneRng())  # without a mask the clamp is K - 1
    assert a[0, 0] == 4


def test_sample_uniform_valid_respects_per_agent_counts():
    rng = np.random.default_rng(0)
    n_valid = np.array([[1, 3, 7]])
    a = sample_uniform_valid((40_000, 3), n_valid, rng)
    assert (a >= 0).all() and (a < n_valid).all()
    for i, k in enumerate([1, 3, 7]):
        freq = np.bincount(a[:, i], minlength=k) / a.shape[0]
        np.testing.assert_allclose(freq, 1 / k, atol=0.01)


def test_argmax_random_ties_are_uniform_and_ignore_mask():
    rng = np.random.default_rng(5)
    v = np.array([1.0, 3.0, 3.0, 0.0, 3.0, 3.0])
    mask = np.array([True, True, True, True, True, False])  # last maximiser is padding
    a = argmax_random(np.broadcast_to(v, (60_000, 6)), rng, mask)
    counts = np.bincount(a, minlength=6)
    assert counts[0] == counts[3] == counts[5] == 0
    chi2 = stats.chisquare(counts[[1, 2, 4]])
    assert chi2.pvalue > 1e-4
    np.testing.assert_allclose(counts[[1, 2, 4]] / 60_000, 1 / 3, atol=0.01)


def test_argmax_random_exact_gaps_below_noise_scale():
    """A gap of 1e-15 must be respected (value noise of 1e-9 would break it)."""
    rng = np.random.default_rng(0)
    v = np.array([0.5, 0.5 + 1e-15, 0.5])
    a = argmax_random(np.broadcast_to(v, (10_000, 3)), rng)
    assert (a == 1).all()


def test_argmax_random_draws_fixed_shape():
    """The number of uniforms drawn never depends on the values (stream alignment)."""
    r1, r2 = np.random.default_rng(9), np.random.default_rng(9)
    argmax_random(np.zeros((4, 3, 5)), r1)
    argmax_random(np.arange(60.0).reshape(4, 3, 5), r2)
    assert r1.random() == r2.random()


def test_masked_softmax_values():
    logits = np.array([[1.0, 2.0, 3.0, 50.0]])
    mask = np.array([[True, True, True, False]])
    p = masked_softmax(logits, mask)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(p[0, :3], e / e.sum(), rtol=1e-15)
    assert p[0, 3] == 0.0
    # log-space stability
    p = masked_softmax(np.array([[1000.0, 1000.0, -1000.0]]))
    np.testing.assert_allclose(p, [[0.5, 0.5, 0.0]])


def test_maximiser_policy():
    p = maximiser_policy(np.array([[2.0, 1.0, 2.0, 2.0]]), np.array([[True, True, True, False]]))
    np.testing.assert_array_equal(p, [[0.5, 0.0, 0.5, 0.0]])


@settings(max_examples=60, deadline=None)
@given(
    k=st.integers(1, 9),
    n=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    scale=st.floats(0.0, 50.0),
)
def test_property_masked_sampling_never_invalid(k, n, seed, scale):
    rng = np.random.default_rng(seed)
    k_i = rng.integers(1, k + 1, size=n)
    mask = np.arange(k)[None, None, :] < k_i[None, :, None]
    logits = scale * rng.standard_normal((30, n, k))
    p = masked_softmax(logits, mask)
    assert np.all(p[~np.broadcast_to(mask, p.shape)] == 0.0)
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-12)
    a = sample_categorical(p, rng, (k_i - 1)[None, :])
    assert (a >= 0).all() and (a < k_i[None, :]).all()
    b = argmax_random(logits, rng, mask)
    assert (b < k_i[None, :]).all()
    best = np.where(mask, logits, -np.inf).max(-1)
    np.testing.assert_array_equal(np.take_along_axis(logits, b[..., None], -1)[..., 0], best)
