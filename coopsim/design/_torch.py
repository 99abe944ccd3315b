"""Torch plumbing shared by the design networks: seeding, device, dense stacks, export to arrays.

Only the training modules of :mod:`coopsim.design` import this module (and with it torch); the
exported mechanisms under :mod:`coopsim.mechanisms.learned` replay the same arithmetic in NumPy.
Device selection is the one of the torch policies (:func:`coopsim.agents.torch.resolve_device`):
``"auto"`` -> ``cuda`` when available, else ``cpu``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from coopsim.agents.torch import require_torch
from coopsim.agents.torch.device import resolve_device
from coopsim.core.validation import check_int

if TYPE_CHECKING:  # the module itself, for the annotations
    import torch
else:
    torch = require_torch()  # an ImportError naming the extra when torch is missing

__all__ = ["Dense", "deterministic", "resolve_device", "make_generator", "check_hidden", "uniform"]


def make_generator(seed: int, device: torch.device) -> torch.Generator:
    """A torch generator on ``device`` seeded with ``seed`` (every draw of a training run uses it)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(check_int(seed, "seed", lo=0))
    return gen


@contextmanager
def deterministic() -> Iterator[None]:
    """Run a block with ``torch.use_deterministic_algorithms(True)`` (restored afterwards).

    With the same seed, device and thread count, a training run then gives the same weights bit for bit.
    """
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)


def uniform(shape: Sequence[int], lo: float, hi: float, gen: torch.Generator, **kw: Any) -> torch.Tensor:
    """``lo + (hi - lo) * U[0, 1)`` of ``shape`` drawn from ``gen``."""
    return lo + (hi - lo) * torch.rand(*shape, generator=gen, device=gen.device, **kw)


def check_hidden(hidden: Any, name: str = "hidden") -> tuple[int, ...]:
    """Hidden layer widths: a non-empty sequence of positive ints."""
    if isinstance(hidden, (int, np.integer)):
        hidden = (hidden,)
    if not isinstance(hidden, (list, tuple)) or not hidden:
        raise TypeError(f"{name}: expected a non-empty sequence of positive ints, got {hidden!r}")
    return tuple(check_int(h, f"{name}[{k}]", lo=1) for k, h in enumerate(hidden))


class Dense(torch.nn.Module):
    """A tanh multilayer perceptron ``x -> W_L(...tanh(x W_0 + b_0)...) + b_L``.

    Weights are stored ``(in, out)`` (``y = x @ W + b``), as in the exported NumPy arrays, and
    initialised Glorot-uniform from ``gen`` (biases 0), so a seed fixes the initial network.
    """

    def __init__(self, n_in: int, hidden: Sequence[int], n_out: int, gen: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        sizes = [n_in, *hidden, n_out]
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for a, b in zip(sizes[:-1], sizes[1:]):
            bound = float(np.sqrt(6.0 / (a + b)))
            self.weights.append(torch.nn.Parameter(uniform((a, b), -bound, bound, gen, dtype=dtype)))
            self.biases.append(torch.nn.Parameter(torch.zeros(b, dtype=dtype, device=gen.device)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w + b
            if k < last:
                x = torch.tanh(x)
        return x

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Float64 copies of the layers, named ``{prefix}.W{k}`` and ``{prefix}.b{k}``."""
        out: dict[str, np.ndarray] = {}
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            out[f"{prefix}.W{k}"] = w.detach().cpu().double().numpy()
            out[f"{prefix}.b{k}"] = b.detach().cpu().double().numpy()
        return out
