"""RochetNet: an incentive-compatible menu for one additive bidder, learned from value samples.

Dütting, Feng, Narasimhan, Parkes & Ravindranath, "Optimal Auctions through Deep Learning"
(ICML 2019; JACM 2024), Section 3.2. The mechanism is a menu of ``K`` options
``(x_k, p_k)``, ``x_k = sigmoid(a_k) in [0, 1]^m`` (item probabilities) and price ``p_k``, plus the
zero option ``(0, 0)``; the bidder with values ``v`` (m,) takes

    k*(v) = argmax_{k in {0, 1..K}} u_k(v),   u_k(v) = x_k . v - p_k,

so its utility ``max_k u_k(v)`` is convex with gradient the allocation (Rochet, JME 1987): IC and
IR by construction. Training maximises the revenue with the choice relaxed to
``softmax(kappa * u(v))``, ``kappa`` annealed geometrically towards ``kappa_final``; the exported mechanism (:class:`coopsim.mechanisms.learned.RochetNetMenu`)
uses the exact argmax. For two items i.i.d. U[0, 1] the optimum (Manelli & Vincent, JET 2006) sells
each item at 2/3 and the bundle at (4 - sqrt 2)/3, for revenue about 0.5492.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from coopsim.core.validation import check_float, check_int
from coopsim.design._torch import deterministic, make_generator, resolve_device, torch, uniform
from coopsim.design._train import History, check_train_args, progress
from coopsim.mechanisms.learned import save_weights

__all__ = ["RochetNet", "RochetNetConfig", "RochetNetResult", "train_rochet_net"]


class RochetNet(torch.nn.Module):
    """A menu of ``K`` lotteries ``x_k = sigmoid(a_k)`` with prices ``p_k``, plus the zero option."""

    def __init__(self, n_items: int, options: int, gen: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        self.logits = torch.nn.Parameter(uniform((options, n_items), -3.0, 3.0, gen, dtype=dtype))
        self.price = torch.nn.Parameter(uniform((options,), 0.0, float(n_items), gen, dtype=dtype))

    def menu(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Allocations (K, m) and prices (K,)."""
        return torch.sigmoid(self.logits), self.price

    def revenue(self, values: torch.Tensor, kappa: float) -> torch.Tensor:
        """Relaxed revenue per bidder (B,): ``sum_k softmax(kappa [u_1..u_K, 0])_k p_k``."""
        x, p = self.menu()
        u = values @ x.T - p  # (B, K)
        z = torch.softmax(kappa * torch.cat([u, u.new_zeros(u.shape[0], 1)], dim=1), dim=1)[:, :-1]
        return z @ p

    def arrays(self) -> dict[str, np.ndarray]:
        x, p = self.menu()
        return {"alloc": x.detach().cpu().double().numpy(), "price": p.detach().cpu().double().numpy()}


@dataclass
class RochetNetConfig:
    """Hyperparameters of :func:`train_rochet_net` (values i.i.d. U[0, 1] unless a sampler is given)."""

    n_items: int = 2
    options: int = 64
    iterations: int = 3000
    batch: int = 2048
    lr: float = 0.005
    kappa: float = 100.0
    kappa_final: float | None = 1000.0  # geometric anneal of kappa to this value (None: constant)
    log_every: int = 50
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("n_items", "options", "iterations", "batch", "log_every"):
            setattr(self, name, check_int(getattr(self, name), name, lo=1))
        self.seed = check_int(self.seed, "seed", lo=0)
        for name in ("lr", "kappa"):
            setattr(self, name, check_float(getattr(self, name), name, lo=0.0, lo_open=True))
        if self.kappa_final is not None:
            self.kappa_final = check_float(self.kappa_final, "kappa_final", lo=0.0, lo_open=True)

    def kappa_at(self, t: int) -> float:
        """``kappa (kappa_final / kappa)^(t / (iterations - 1))``: soft choices early, near-argmax late."""
        if self.kappa_final is None or self.iterations == 1:
            return self.kappa
        return self.kappa * (self.kappa_final / self.kappa) ** (t / (self.iterations - 1))


@dataclass
class RochetNetResult:
    """A trained RochetNet menu with its config and training curves."""

    net: RochetNet
    config: RochetNetConfig
    history: dict[str, np.ndarray]
    extra: dict[str, Any] = field(default_factory=dict)

    def export(self, path: str | os.PathLike, **summary: Any) -> None:
        """Save as a ``rochet_net`` weights file (served by ``coopsim.mechanisms.get("rochet_net", weights=path)``)."""
        cfg = self.config
        header = {
            "n_items": cfg.n_items,
            "n_options": cfg.options,
            "value_high": 1.0,
            "training": asdict(cfg),
            "summary": summary,
        }
        save_weights(path, "rochet_net", header, self.net.arrays())


def train_rochet_net(
    config: RochetNetConfig | None = None,
    sampler: Any = None,
    progress_bar: bool | None = None,
    **overrides: Any,
) -> RochetNetResult:
    """Maximise RochetNet's relaxed empirical revenue by Adam on fresh samples each iteration.

    ``sampler(gen, B) -> (B, m)`` tensor of values (default i.i.d. U[0, 1]) draws from the run's
    seeded torch generator: on CPU the same config gives the same menu bit for bit.
    """
    check_train_args(config, RochetNetConfig, progress_bar)
    cfg = RochetNetConfig(**{**(asdict(config) if config else {}), **overrides})
    device = resolve_device(cfg.device)
    with deterministic():
        gen = make_generator(cfg.seed, device)
        net = RochetNet(cfg.n_items, cfg.options, gen, torch.float64).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        hist = History()
        for t in progress(range(cfg.iterations), cfg.iterations, "RochetNet", progress_bar):
            if sampler is None:
                v = uniform((cfg.batch, cfg.n_items), 0.0, 1.0, gen, dtype=torch.float64)
            else:
                v = sampler(gen, cfg.batch)
            rev = net.revenue(v, cfg.kappa_at(t)).mean()
            opt.zero_grad(set_to_none=True)
            (-rev).backward()
            opt.step()
            if t % cfg.log_every == 0 or t == cfg.iterations - 1:
                hist.log(t, revenue=rev.item())
    return RochetNetResult(net=net, config=cfg, history=hist.arrays())
