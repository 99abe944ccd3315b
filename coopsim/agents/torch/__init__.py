"""Optional PyTorch policies for continuous reports and bids (REINFORCE; PPO-lite after Schulman et al. 2017).

Install with ``pip install 'coopsim[torch]'``. ``import coopsim`` and every NumPy learner work
without torch: this package imports torch only when one of its names is first used, and then
raises ``ImportError`` naming the extra if torch is missing.

- :class:`ContinuousPolicy` — N per-agent MLPs (weights stacked ``(N, in, out)``, one einsum per
  layer) giving a Gaussian on an unconstrained ``z`` mapped to ``lo + (hi - lo)·sigmoid(z)`` (or a
  fraction of an observed value: ``b = v·sigmoid(z)``), or a Beta head; a value head ``V_φ(obs)``.
- :class:`PolicyGradientTrainer` — batched rollouts against any ``MechanismGame`` and REINFORCE
  with a value baseline or the PPO clipped objective (Schulman et al. 2017, arXiv 1707.06347).
- :func:`resolve_device` — ``"auto"`` -> ``cuda`` when available, else ``cpu``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ContinuousPolicy", "PolicyGradientTrainer", "resolve_device", "require_torch"]

_LAZY = {
    "ContinuousPolicy": "coopsim.agents.torch.policy",
    "PolicyGradientTrainer": "coopsim.agents.torch.trainer",
    "resolve_device": "coopsim.agents.torch.device",
}


def require_torch() -> Any:
    """Import and return ``torch``, or raise ``ImportError`` naming the ``coopsim[torch]`` extra."""
    try:
        import torch
    except ImportError as err:  # pragma: no cover - exercised only without torch
        raise ImportError(
            "coopsim.agents.torch needs PyTorch: install the extra with pip install 'coopsim[torch]'"
        ) from err
    return torch


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        require_torch()
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'coopsim.agents.torch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
