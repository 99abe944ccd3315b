"""RegretNet: multi-bidder, multi-item additive auctions learned under an ex-post regret constraint.

Dütting, Feng, Narasimhan, Parkes & Ravindranath, "Optimal Auctions through Deep Learning"
(ICML 2019; JACM 2024), Sections 3.1 and 4. For ``n`` additive bidders and ``m`` items, bids
``b`` (B, n, m):

- allocation ``z_ij = softmax_{i in bidders + dummy}(s_ij(b))``: each item goes to at most one
  bidder (the dummy row is "no one"), feasible by construction;
- payment ``p_i = sigmoid(q_i(b)) * sum_j z_ij b_ij``: ex-post individually rational;
- utility ``u_i(v; b) = sum_j v_ij z_ij(b) - p_i(b)``; ex-post regret
  ``rgt_i = E_v[max_{b'_i} u_i(v_i; (b'_i, v_-i)) - u_i(v_i; v)]``.

Training minimises the augmented Lagrangian ``-E[sum_i p_i] + sum_i lambda_i rgt_i +
(rho / 2) sum_i rgt_i^2`` by Adam, with ``rgt_i`` estimated on each minibatch from misreports
found by gradient ascent on ``u_i``: several inits per sample kept across iterations (the fixed
training set of the paper), a few projected ascent steps per iteration, misreports clipped to
the value support [0, 1]. Every ``lagrange_every`` iterations ``lambda_i += rho * rgt_i``; every
``rho_every`` iterations ``rho += rho_step``. With a ``regret_target`` ``r*`` (fine-tuning) the
multiplier update is ``lambda_i <- max(0, lambda_i + rho * (rgt_i - r*))`` instead, the dual ascent
of the constraint ``rgt_i <= r*``: the multiplier settles where the minibatch regret sits at the target.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from coopsim.core.validation import check_float, check_int
from coopsim.design._torch import Dense, check_hidden, deterministic, make_generator, resolve_device, torch, uniform
from coopsim.design._train import History, check_train_args, progress
from coopsim.mechanisms.learned import load_weights, save_weights

__all__ = ["RegretNet", "RegretNetConfig", "RegretNetResult", "train_regret_net", "regret_estimate"]


class RegretNet(torch.nn.Module):
    """Allocation and payment networks of RegretNet for ``n`` additive bidders and ``m`` items."""

    def __init__(
        self, n_bidders: int, n_items: int, hidden: tuple[int, ...], gen: torch.Generator, dtype: torch.dtype
    ) -> None:
        super().__init__()
        self.n, self.m = n_bidders, n_items
        self.alloc_net = Dense(self.n * self.m, hidden, (self.n + 1) * self.m, gen, dtype)
        self.pay_net = Dense(self.n * self.m, hidden, self.n, gen, dtype)

    def forward(self, bids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``bids`` (..., n, m) -> allocation (..., n, m), payment (..., n)."""
        lead = bids.shape[:-2]
        x = bids.reshape(*lead, self.n * self.m)
        scores = self.alloc_net(x).reshape(*lead, self.n + 1, self.m)
        alloc = torch.softmax(scores, dim=-2)[..., : self.n, :]
        pay = torch.sigmoid(self.pay_net(x)) * (alloc * bids).sum(-1)
        return alloc, pay

    def utility(self, values: torch.Tensor, bids: torch.Tensor) -> torch.Tensor:
        """``u_i(v_i; bids)`` (..., n) for values and bids (..., n, m)."""
        alloc, pay = self(bids)
        return (alloc * values).sum(-1) - pay

    def deviation_utility(self, values: torch.Tensor, mis: torch.Tensor) -> torch.Tensor:
        """``u[b, r, i]``: bidder i's utility when it alone reports ``mis[b, r, i]`` (others truthful).

        ``values`` (B, n, m), ``mis`` (B, R, n, m); one forward pass on the B*R*n profiles.
        """
        n = self.n
        eye = torch.eye(n, dtype=values.dtype, device=values.device)[:, :, None]  # (i, k, 1)
        prof = (1 - eye) * values[:, None, None] + eye * mis[:, :, :, None, :]  # (B, R, i, k, m)
        alloc, pay = self(prof)
        own_alloc = torch.diagonal(alloc, dim1=2, dim2=3).transpose(-1, -2)  # (B, R, i, m)
        own_pay = torch.diagonal(pay, dim1=2, dim2=3)  # (B, R, i)
        return (own_alloc * values[:, None]).sum(-1) - own_pay

    def arrays(self) -> dict[str, np.ndarray]:
        return {**self.alloc_net.arrays("alloc"), **self.pay_net.arrays("pay")}

    @classmethod
    def from_weights(cls, path: str | os.PathLike, dtype: torch.dtype = torch.float64) -> RegretNet:
        """A network holding the arrays of a ``regret_net`` weights file (to measure or fine-tune it)."""
        from coopsim.mechanisms.learned import RegretNetAuction

        mech = RegretNetAuction(weights=path)  # validates kind, sizes and shapes
        hidden = tuple(int(h) for h in mech.header["hidden"])
        net = cls(mech.n_bidders, mech.n_items, hidden, torch.Generator().manual_seed(0), dtype)
        arrays = load_weights(path, "regret_net")[1]
        with torch.no_grad():
            for mod, prefix in ((net.alloc_net, "alloc"), (net.pay_net, "pay")):
                for k, (w, b) in enumerate(zip(mod.weights, mod.biases)):
                    w.copy_(torch.as_tensor(arrays[f"{prefix}.W{k}"], dtype=dtype))
                    b.copy_(torch.as_tensor(arrays[f"{prefix}.b{k}"], dtype=dtype))
        return net


@dataclass
class RegretNetConfig:
    """Hyperparameters of :func:`train_regret_net` (defaults: a short CPU run on 2 x 2)."""

    n_bidders: int = 2
    n_items: int = 2
    hidden: tuple[int, ...] = (100, 100)
    iterations: int = 2000
    batch: int = 256
    n_train: int = 8192
    lr: float = 1e-3
    lr_final: float | None = None  # cosine decay to this learning rate (None: constant)
    misreport_inits: int = 2
    misreport_steps: int = 5
    misreport_lr: float = 0.1
    rho: float = 1.0
    rho_step: float = 1.0
    rho_every: int = 500
    lambda_init: float = 1.0
    lagrange_every: int = 100
    # None: lambda_i += rho rgt_i; else lambda_i += rho (rgt_i - regret_target), floored at 0
    regret_target: float | None = None
    log_every: int = 50
    seed: int = 0
    device: str = "auto"
    dtype: str = "float32"
    init_weights: str | None = None  # start from a regret_net weights file (fine-tuning) instead of Glorot

    def __post_init__(self) -> None:
        self.n_bidders = check_int(self.n_bidders, "n_bidders", lo=1)
        self.n_items = check_int(self.n_items, "n_items", lo=1)
        self.hidden = check_hidden(self.hidden)
        for name in ("iterations", "batch", "n_train", "misreport_inits", "rho_every", "lagrange_every", "log_every"):
            setattr(self, name, check_int(getattr(self, name), name, lo=1))
        self.misreport_steps = check_int(self.misreport_steps, "misreport_steps", lo=0)
        self.seed = check_int(self.seed, "seed", lo=0)
        for name in ("lr", "misreport_lr", "rho"):
            setattr(self, name, check_float(getattr(self, name), name, lo=0.0, lo_open=True))
        if self.lr_final is not None:
            self.lr_final = check_float(self.lr_final, "lr_final", lo=0.0, hi=self.lr)
        self.rho_step = check_float(self.rho_step, "rho_step", lo=0.0)
        self.lambda_init = check_float(self.lambda_init, "lambda_init", lo=0.0)
        if self.regret_target is not None:
            self.regret_target = check_float(self.regret_target, "regret_target", lo=0.0)
        if self.batch > self.n_train:
            raise ValueError(f"batch: expected <= n_train ({self.n_train}), got {self.batch}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype: expected 'float32' or 'float64', got {self.dtype!r}")


@dataclass
class RegretNetResult:
    """A trained network, its config, the training curves and the final multipliers."""

    net: RegretNet
    config: RegretNetConfig
    history: dict[str, np.ndarray]
    lambdas: np.ndarray
    rho: float
    extra: dict[str, Any] = field(default_factory=dict)

    def export(self, path: str | os.PathLike, **summary: Any) -> None:
        """Save the network as a ``regret_net`` weights file (served by ``coopsim.mechanisms``)."""
        cfg = asdict(self.config)
        header = {
            "n_bidders": self.config.n_bidders,
            "n_items": self.config.n_items,
            "hidden": list(self.config.hidden),
            "value_low": 0.0,
            "value_high": 1.0,
            "training": {k: v for k, v in cfg.items() if k not in ("n_bidders", "n_items", "hidden")},
            "summary": summary,
        }
        save_weights(path, "regret_net", header, self.net.arrays())


def _ascend(net: RegretNet, values: torch.Tensor, mis: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """``steps`` projected gradient-ascent steps on each deviator's utility from misreports ``mis``."""
    for _ in range(steps):
        mis = mis.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(net.deviation_utility(values, mis).sum(), mis)
        mis = (mis + lr * grad).clamp_(0.0, 1.0)
    return mis.detach()


def regret_estimate(
    net: RegretNet,
    values: torch.Tensor,
    inits: int = 10,
    steps: int = 200,
    lr: float = 0.1,
    seed: int = 0,
    chunk: int = 4096,
) -> dict[str, np.ndarray]:
    """Revenue and ex-post regret of ``net`` on ``values`` (S, n, m) by gradient-ascent misreports.

    For every sample and bidder: the truthful report plus ``inits - 1`` uniform random reports,
    each improved by ``steps`` projected ascent steps; regret is the best gain found, floored at 0.
    Returns ``revenue`` (S,), ``regret`` (S, n) and their means ``mean_revenue``,
    ``mean_regret`` (n,).
    """
    inits = check_int(inits, "inits", lo=1)
    steps = check_int(steps, "steps", lo=0)
    gen = make_generator(seed, values.device)
    rev, rgt = [], []
    for start in range(0, values.shape[0], check_int(chunk, "chunk", lo=1)):
        v = values[start : start + chunk]
        rand = uniform((v.shape[0], inits - 1, *v.shape[1:]), 0.0, 1.0, gen, dtype=v.dtype)
        mis = _ascend(net, v, torch.cat([v[:, None], rand], dim=1), steps, lr)
        with torch.no_grad():
            alloc, pay = net(v)
            truth = (alloc * v).sum(-1) - pay
            best = net.deviation_utility(v, mis).max(dim=1).values
            rev.append(pay.sum(-1).double().cpu().numpy())
            rgt.append((best - truth).clamp(min=0.0).double().cpu().numpy())
    revenue, regret = np.concatenate(rev), np.concatenate(rgt)
    return {"revenue": revenue, "regret": regret, "mean_revenue": revenue.mean(), "mean_regret": regret.mean(axis=0)}


def _lr_at(cfg: RegretNetConfig, t: int) -> float:
    if cfg.lr_final is None:
        return cfg.lr
    return cfg.lr_final + 0.5 * (cfg.lr - cfg.lr_final) * (1 + math.cos(math.pi * t / cfg.iterations))


def train_regret_net(
    config: RegretNetConfig | None = None,
    progress_bar: bool | None = None,
    callback: Callable[[int, RegretNet, History], None] | None = None,
    **overrides: Any,
) -> RegretNetResult:
    """Train RegretNet by the augmented Lagrangian on empirical ex-post regret (module docstring).

    ``config`` (or keyword overrides of :class:`RegretNetConfig`) fixes everything, the seed
    included: on CPU the same config gives the same weights bit for bit. Values are i.i.d.
    U[0, 1]; the device is ``cuda`` when available unless ``device`` says otherwise.
    ``callback(step, net, history)`` runs after each logged step (checkpoints, live curves).
    """
    check_train_args(config, RegretNetConfig, progress_bar)
    cfg = RegretNetConfig(**{**(asdict(config) if config else {}), **overrides})
    device = resolve_device(cfg.device)
    dtype = getattr(torch, cfg.dtype)
    with deterministic():
        return _train(cfg, device, dtype, progress_bar, callback)


def _train(
    cfg: RegretNetConfig,
    device: torch.device,
    dtype: torch.dtype,
    progress_bar: bool | None,
    callback: Callable[[int, RegretNet, History], None] | None,
) -> RegretNetResult:
    gen = make_generator(cfg.seed, device)
    n, m = cfg.n_bidders, cfg.n_items
    net = RegretNet(n, m, cfg.hidden, gen, dtype).to(device)
    if cfg.init_weights is not None:
        start = RegretNet.from_weights(cfg.init_weights, dtype)
        if (start.n, start.m) != (n, m) or [w.shape[1] for w in start.alloc_net.weights][:-1] != list(cfg.hidden):
            raise ValueError(
                f"init_weights: expected a {n} x {m} network with hidden {cfg.hidden}, got {cfg.init_weights!r}"
            )
        net.load_state_dict(start.state_dict())
    data = uniform((cfg.n_train, n, m), 0.0, 1.0, gen, dtype=dtype)
    mis_all = uniform((cfg.n_train, cfg.misreport_inits, n, m), 0.0, 1.0, gen, dtype=dtype)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    lam = torch.full((n,), cfg.lambda_init, dtype=dtype, device=device)
    rho = cfg.rho
    hist = History()
    per_epoch = cfg.n_train // cfg.batch
    order = torch.randperm(cfg.n_train, generator=gen, device=device)
    for t in progress(range(cfg.iterations), cfg.iterations, "RegretNet", progress_bar):
        k = t % per_epoch
        if k == 0 and t > 0:
            order = torch.randperm(cfg.n_train, generator=gen, device=device)
        idx = order[k * cfg.batch : (k + 1) * cfg.batch]
        v = data[idx]
        mis = _ascend(net, v, mis_all[idx], cfg.misreport_steps, cfg.misreport_lr)
        mis_all[idx] = mis
        alloc, pay = net(v)
        truth = (alloc * v).sum(-1) - pay
        gain = (net.deviation_utility(v, mis).max(dim=1).values - truth).clamp(min=0.0)
        rgt = gain.mean(0)
        revenue = pay.sum(-1).mean()
        loss = -revenue + (lam * rgt).sum() + 0.5 * rho * (rgt**2).sum()
        for g in opt.param_groups:
            g["lr"] = _lr_at(cfg, t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (t + 1) % cfg.lagrange_every == 0:
            if cfg.regret_target is None:
                lam = lam + rho * rgt.detach()
            else:
                lam = (lam + rho * (rgt.detach() - cfg.regret_target)).clamp(min=0.0)
        if (t + 1) % cfg.rho_every == 0:
            rho += cfg.rho_step
        if t % cfg.log_every == 0 or t == cfg.iterations - 1:
            r = rgt.detach().double().cpu().numpy()
            hist.log(t, revenue=revenue.item(), regret=r.mean(), regret_max=r.max(), rho=rho, lam=lam.mean().item())
            if callback is not None:
                callback(t, net, hist)
    return RegretNetResult(net=net, config=cfg, history=hist.arrays(), lambdas=lam.double().cpu().numpy(), rho=rho)
