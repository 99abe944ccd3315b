"""Seeding helpers: every stream comes from a ``numpy.random.SeedSequence``.

A simulation owns one ``SeedSequence``; the environment, each learner group and the evaluator get
spawned children, so their draws never interfere and a copy's trajectory never depends on the
scheduling order of an executor. The global ``np.random`` state is never used.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from coopsim.core.validation import ParameterError, check_int, check_size

SeedLike = int | np.random.SeedSequence | None


def seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Return ``seed`` as a ``SeedSequence`` (a fresh entropy-based one for ``None``)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ParameterError("seed", f"seed: expected a non-negative integer, a SeedSequence or None, got {seed!r}")
    return np.random.SeedSequence(seed)


def make_rng(seed: SeedLike | np.random.Generator) -> np.random.Generator:
    """Return a ``Generator``: passed through if it is one, else built from ``seed``."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed_sequence(seed))


def spawn_rngs(seed: SeedLike, n: int) -> list[np.random.Generator]:
    """Return ``n`` independent generators spawned from one seed."""
    n = check_int(n, "n", lo=0)
    check_size("n", n, itemsize=2048, what="the generators")
    return [np.random.default_rng(s) for s in seed_sequence(seed).spawn(n)]


def config_hash(config: Any, length: int = 16) -> str:
    """A stable hex digest of a JSON-serialisable config (key order does not matter)."""
    length = check_int(length, "length", lo=1, hi=64)
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def derived_seed(root: int, config: Any) -> np.random.SeedSequence:
    """A ``SeedSequence`` determined by a root seed and a config, never by execution order.

    The config's hash is folded into the entropy: ``SeedSequence([root, *words(hash(config))])``.
    """
    root = check_int(root, "root", lo=0)
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).digest()
    words = [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]
    return np.random.SeedSequence([root, *words])
