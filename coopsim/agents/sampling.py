"""Vectorised sampling primitives shared by every learner.

All functions work on arrays whose last axis holds the K actions and whose leading axes are any
batch shape (usually (B, N)). None of them loops over B, N or K in Python.

- :func:`masked_softmax` — softmax in log space, masked entries exactly 0.
- :func:`sample_categorical` — inverse-CDF sampling by cumulative sums: action = number of entries
  of the row's cumulative sum that are ``< u``, clamped to the last valid index (round-off may leave
  the cumulative sum at ``1 - 1e-16``). The "first index where cdf > u" variant is not used: on
  round-off it silently returns 0.
- :func:`argmax_random` — exact uniform tie-breaking: (is-a-maximiser mask) * i.i.d. uniforms,
  then argmax. No value noise is ever added.
- :func:`sample_uniform_valid` — a uniform valid action per row.
- :func:`one_hot` — point masses on given indices (deterministic policies).

Every sampling function takes a ``numpy.random.Generator`` and draws a fixed-shape batch of
uniforms that does not depend on the values, so a copy's stream never depends on other copies.
"""

from __future__ import annotations

import numpy as np


def masked_softmax(logits: np.ndarray, mask: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Softmax along the last axis: p_k = exp(z_k - max_j z_j) / sum_j exp(z_j - max_j z_j).

    Entries where ``mask`` is False get logit -inf, hence probability exactly 0. ``mask`` broadcasts
    against ``logits``; every row must hold at least one valid entry. ``out`` (same shape as
    ``logits``) is reused when given; ``logits`` itself is never modified unless ``out is logits``.
    """
    if out is None:
        out = np.empty(logits.shape, dtype=np.float64)
    if mask is not None:
        np.copyto(out, logits)
        np.copyto(out, -np.inf, where=~np.broadcast_to(mask, out.shape))
        z = out
    else:
        z = logits
    m = z.max(axis=-1, keepdims=True)
    np.subtract(z, m, out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)
    return out


def sample_categorical(
    p: np.ndarray, rng: np.random.Generator, last_valid: np.ndarray | int | None = None
) -> np.ndarray:
    """Sample one index per row of ``p`` (shape (..., K)) by cumulative sums.

    a = #{k : cdf_k < u}, u ~ U[0, 1) one per row, then a = min(a, last_valid) where ``last_valid``
    is the last valid index of each row (default K - 1; broadcastable to ``p.shape[:-1]``).
    Returns int64 indices of shape ``p.shape[:-1]``.
    """
    cdf = np.cumsum(p, axis=-1)
    u = rng.random(p.shape[:-1])
    a = np.count_nonzero(cdf < u[..., None], axis=-1).astype(np.int64, copy=False)
    if last_valid is None:
        last_valid = p.shape[-1] - 1
    np.minimum(a, last_valid, out=a)
    return a


def argmax_random(
    values: np.ndarray, rng: np.random.Generator, mask: np.ndarray | None = None, *, atol: float = 0.0
) -> np.ndarray:
    """Argmax along the last axis with exact uniform random tie-breaking among valid entries.

    is_max_k = valid_k and values_k >= max_{valid j} values_j - atol; then
    a = argmax_k is_max_k * v_k with v_k ~ U(0, 1] i.i.d. (uniforms drawn for every entry, so the
    number of draws never depends on the values). ``mask`` (broadcastable, True = valid) excludes
    padded actions; ``atol`` = 0 means exact ties only.
    """
    if mask is not None:
        masked = np.where(mask, values, -np.inf)
    else:
        masked = values
    best = masked.max(axis=-1, keepdims=True)
    is_max = masked >= (best - atol) if atol else masked == best
    noise = rng.random(values.shape)
    np.subtract(1.0, noise, out=noise)  # U(0, 1]: a maximiser never scores 0
    noise *= is_max
    return noise.argmax(axis=-1).astype(np.int64, copy=False)


def maximiser_policy(values: np.ndarray, mask: np.ndarray | None = None, *, atol: float = 0.0) -> np.ndarray:
    """The uniform distribution over the (valid) maximisers of ``values`` along the last axis."""
    masked = np.where(mask, values, -np.inf) if mask is not None else values
    best = masked.max(axis=-1, keepdims=True)
    is_max = (masked >= best - atol) if atol else (masked == best)
    p = is_max.astype(np.float64)
    p /= p.sum(axis=-1, keepdims=True)
    return p


def one_hot(a: np.ndarray, K: int) -> np.ndarray:
    """The point masses on the indices ``a`` (any shape): float64 of shape ``a.shape + (K,)``."""
    p = np.zeros(a.shape + (K,))
    np.put_along_axis(p, a[..., None], 1.0, axis=-1)
    return p


def sample_uniform_valid(shape: tuple[int, ...], n_valid: np.ndarray | int, rng: np.random.Generator) -> np.ndarray:
    """A uniform action in {0, ..., K_i - 1} per row: a = min(floor(u * K_i), K_i - 1), u ~ U[0, 1).

    ``n_valid`` broadcasts against ``shape`` (e.g. (1, N) per-agent counts K_i).
    """
    u = rng.random(shape)
    a = np.floor(u * n_valid).astype(np.int64)
    np.minimum(a, np.asarray(n_valid) - 1, out=a)
    return a
