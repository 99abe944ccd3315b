"""Gymnasium spaces of the envs.

:class:`BoundedBox` is a ``gymnasium.spaces.Box`` (``isinstance`` holds, so every checker, wrapper
and RL library treats it as one) whose ``sample()`` is cheaper when every coordinate has a finite
lower and upper bound and the dtype is floating point, the case of every continuous action space
here. Gymnasium's ``Box.sample`` classifies the coordinates by interval type with boolean masks
and draws each class separately; with one class only, that is a single call

    ``np_random.uniform(low, high, shape).astype(dtype)``

which draws the same numbers in the same (C) order from the same generator, so a seeded space
samples bit for bit what a plain ``Box`` samples (tested). It is about five times cheaper, which
matters when a MARL loop samples random actions for every agent at every step. Any other case
(integer dtype, an unbounded coordinate, ``mask``/``probability`` given) is Gymnasium's own
``sample``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class BoundedBox(gym.spaces.Box):
    """``gymnasium.spaces.Box`` with a one-call ``sample()`` for finite float boxes (same draws)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # fixed at construction, as Gymnasium fixes bounded_below/bounded_above
        self._uniform_only = self.dtype.kind == "f" and bool(np.all(self.bounded_below & self.bounded_above))

    def sample(self, mask: None = None, probability: None = None) -> np.ndarray:
        if not self._uniform_only or mask is not None or probability is not None:
            return super().sample(mask, probability)
        return self.np_random.uniform(self.low, self.high, self.shape).astype(self.dtype)
