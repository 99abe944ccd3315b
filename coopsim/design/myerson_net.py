"""MyersonNet: a strategyproof single-item auction learned from value samples.

Dütting, Feng, Narasimhan, Parkes & Ravindranath, "Optimal Auctions through Deep Learning"
(ICML 2019; JACM 2024), Section 3.3. Each bidder ``i`` has a monotone virtual-value network

    phi_i(b) = min_{k <= K} max_{l <= L} (w_ikl b + beta_ikl),   w_ikl = exp(alpha_ikl) > 0,

strictly increasing with inverse ``phi_i^{-1}(y) = max_k min_l (y - beta_ikl) / w_ikl``. The
auction is second price with reserve 0 on virtual values: the highest positive ``phi_i(b_i)``
wins and pays ``phi_i^{-1}(max(0, max_{j != i} phi_j(b_j)))``, the threshold bid, so truthful
bidding is dominant for any weights (Myerson, MOR 1981). Training maximises the empirical revenue
with the allocation relaxed to ``softmax(kappa * [phi_1, ..., phi_n, 0])`` (the last entry is
"no sale"); the exported mechanism uses the exact argmax. For i.i.d. U[0, 1] values the optimum is
``phi(v) = 2 v - 1`` up to a common increasing transform: second price with reserve 1/2.
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

__all__ = ["MyersonNet", "MyersonNetConfig", "MyersonNetResult", "train_myerson_net"]


class MyersonNet(torch.nn.Module):
    """Per-bidder min-max virtual values ``phi_i`` and the relaxed second price on them."""

    def __init__(self, n_bidders: int, groups: int, units: int, gen: torch.Generator, dtype: torch.dtype) -> None:
        super().__init__()
        shape = (n_bidders, groups, units)
        self.alpha = torch.nn.Parameter(uniform(shape, -0.5, 0.5, gen, dtype=dtype))
        # phi_i(0) < 0 at the start: a reserve inside (0, 1), where revenue has a gradient in it
        # (with phi_i(0) > 0 every bidder is eligible and the reserve is flat: a plateau)
        self.beta = torch.nn.Parameter(uniform(shape, -1.0, 0.0, gen, dtype=dtype))

    def virtual_values(self, bids: torch.Tensor) -> torch.Tensor:
        """``phi_i(b_i)``, (B, n) from bids (B, n)."""
        return (self.alpha.exp() * bids[:, :, None, None] + self.beta).amax(dim=3).amin(dim=2)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        """``phi_i^{-1}(y_i)``, (B, n) from y (B, n)."""
        return ((y[:, :, None, None] - self.beta) / self.alpha.exp()).amin(dim=3).amax(dim=2)

    def revenue(self, bids: torch.Tensor, kappa: float) -> torch.Tensor:
        """Relaxed revenue per auction, (B,): ``sum_i softmax(kappa [phi, 0])_i phi_i^{-1}(c_i^+)``."""
        phi = self.virtual_values(bids)
        B, n = phi.shape
        z = torch.softmax(kappa * torch.cat([phi, phi.new_zeros(B, 1)], dim=1), dim=1)[:, :n]
        # c_i = max_{j != i} phi_j: mask the own entry with -inf
        own = torch.eye(n, dtype=torch.bool, device=phi.device)
        comp = phi[:, None, :].masked_fill(own, -torch.inf).amax(dim=2) if n > 1 else phi.new_zeros(B, 1)
        return (z * self.inverse(comp.clamp(min=0.0))).sum(dim=1)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "w": self.alpha.detach().exp().cpu().double().numpy(),
            "beta": self.beta.detach().cpu().double().numpy(),
        }


@dataclass
class MyersonNetConfig:
    """Hyperparameters of :func:`train_myerson_net` (values i.i.d. U[0, 1] unless a sampler is given)."""

    n_bidders: int = 2
    groups: int = 5
    units: int = 5
    iterations: int = 1500
    batch: int = 2048
    lr: float = 0.01
    kappa: float = 200.0
    log_every: int = 50
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        for name in ("n_bidders", "groups", "units", "iterations", "batch", "log_every"):
            setattr(self, name, check_int(getattr(self, name), name, lo=1))
        self.seed = check_int(self.seed, "seed", lo=0)
        for name in ("lr", "kappa"):
            setattr(self, name, check_float(getattr(self, name), name, lo=0.0, lo_open=True))


@dataclass
class MyersonNetResult:
    """A trained MyersonNet with its config and training curves."""

    net: MyersonNet
    config: MyersonNetConfig
    history: dict[str, np.ndarray]
    extra: dict[str, Any] = field(default_factory=dict)

    def export(self, path: str | os.PathLike, **summary: Any) -> None:
        """Save as a ``myerson_net`` weights file (served by ``coopsim.mechanisms.get("myerson_net", weights=path)``)."""
        cfg = self.config
        header = {
            "n_bidders": cfg.n_bidders,
            "groups": cfg.groups,
            "units": cfg.units,
            "training": asdict(cfg),
            "summary": summary,
        }
        save_weights(path, "myerson_net", header, self.net.arrays())


def train_myerson_net(
    config: MyersonNetConfig | None = None,
    sampler: Any = None,
    progress_bar: bool | None = None,
    **overrides: Any,
) -> MyersonNetResult:
    """Maximise MyersonNet's relaxed empirical revenue by Adam on fresh samples each iteration.

    ``sampler(gen, B) -> (B, n)`` tensor of values (default i.i.d. U[0, 1]) draws from the run's
    seeded torch generator: on CPU the same config gives the same weights bit for bit.
    """
    check_train_args(config, MyersonNetConfig, progress_bar)
    cfg = MyersonNetConfig(**{**(asdict(config) if config else {}), **overrides})
    device = resolve_device(cfg.device)
    with deterministic():
        gen = make_generator(cfg.seed, device)
        net = MyersonNet(cfg.n_bidders, cfg.groups, cfg.units, gen, torch.float64).to(device)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        hist = History()
        for t in progress(range(cfg.iterations), cfg.iterations, "MyersonNet", progress_bar):
            if sampler is None:
                v = uniform((cfg.batch, cfg.n_bidders), 0.0, 1.0, gen, dtype=torch.float64)
            else:
                v = sampler(gen, cfg.batch)
            rev = net.revenue(v, cfg.kappa).mean()
            opt.zero_grad(set_to_none=True)
            (-rev).backward()
            opt.step()
            if t % cfg.log_every == 0 or t == cfg.iterations - 1:
                hist.log(t, revenue=rev.item())
    return MyersonNetResult(net=net, config=cfg, history=hist.arrays())
