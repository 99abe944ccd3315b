"""Runner unit functions for the auction-design experiments (registered by ``coopsim.runner.functions``).

Each follows the runner's protocol ``fn(params, seed_sequence, rounds, batch, record_every) ->
{"round": (R,), metric: (R,)}``: one recorded "round" per logged training step (``revenue`` and,
for RegretNet, ``regret``), plus constant columns with the exported mechanism's held-out figures.
``rounds`` and ``batch`` are unused (the training sizes are the ``[function]`` keys). Torch is
imported only when a unit runs. ``export`` (optional) writes the trained weights as ``.npz``.

- ``design_myerson_net``: MyersonNet for ``n_bidders`` i.i.d. U[0, 1]; ``test_revenue`` of the
  exported auction, ``optimal_revenue`` ``1 - (2^(n+1) - 1) / ((n + 1) 2^n)`` (Myerson, reserve 1/2),
  ``reserve`` (mean ``phi_i^{-1}(0)``) and the ``audit_gain`` of :func:`coopsim.analysis.incentive_audit`;
- ``design_rochet_net``: RochetNet for two items i.i.d. U[0, 1]; ``test_revenue`` (midpoint grid),
  ``optimal_revenue`` (Manelli–Vincent menu) and ``audit_gain``;
- ``design_regret_net``: RegretNet for ``n_bidders`` x ``n_items``; ``test_revenue`` and
  ``test_regret`` (gradient-ascent misreports on held-out samples) and ``audit_regret`` (mean best
  misreport gain found by :func:`coopsim.analysis.incentive_audit` in the multi-item game).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

_Out = dict[str, np.ndarray]

MYERSON_PARAMS = ("n_bidders", "groups", "units", "iterations", "lr", "kappa", "eval_samples", "device", "export")
ROCHET_PARAMS = ("options", "iterations", "lr", "kappa", "kappa_final", "eval_grid", "device", "export")
REGRET_PARAMS = (
    "n_bidders",
    "n_items",
    "hidden",
    "iterations",
    "train_batch",
    "n_train",
    "lr",
    "misreport_steps",
    "rho_step",
    "rho_every",
    "lambda_init",
    "eval_samples",
    "device",
    "export",
)


def myerson_optimal_revenue(n: int) -> float:
    """Myerson's optimal revenue for ``n`` i.i.d. U[0, 1] bidders, one item (second price, reserve 1/2):
    ``E[max_i (2 v_i - 1)^+] = int_0^1 1 - ((1 + t) / 2)^n dt = 1 - (2^(n+1) - 1) / ((n + 1) 2^n)``."""
    return 1.0 - (2.0 ** (n + 1) - 1.0) / ((n + 1) * 2.0**n)


def manelli_vincent_revenue() -> float:
    """Revenue of the optimal menu for one additive bidder, two items i.i.d. U[0, 1] (Manelli & Vincent,
    JET 2006): each item at 2/3, the bundle at ``p = (4 - sqrt 2) / 3``. With ``a = p - 2/3``, an item
    alone sells on ``[2/3, 1] x [0, a]`` (probability ``a / 3`` each), nothing sells where
    ``v1 + v2 <= p`` and ``v1, v2 <= 2/3`` (probability ``p^2 / 2 - a^2``), the bundle elsewhere."""
    p = (4.0 - np.sqrt(2.0)) / 3.0
    a = p - 2.0 / 3.0
    single = a / 3.0
    bundle = 1.0 - (p * p / 2.0 - a * a) - 2.0 * single
    return float(2.0 * (2.0 / 3.0) * single + p * bundle)


def _seed(seed_sequence: Any) -> int:
    """A torch/NumPy seed in [0, 2^31) drawn from the unit's seed sequence."""
    return int(np.random.default_rng(seed_sequence).integers(2**31))


def _curves(history: Mapping[str, np.ndarray], keys: tuple[str, ...], **constants: float) -> _Out:
    steps = np.asarray(history["step"], dtype=np.int64)
    out: _Out = {"round": steps}
    for k in keys:
        out[k] = np.asarray(history[k], dtype=np.float64)
    for k, v in constants.items():
        out[k] = np.full(len(steps), float(v))
    return out


def myerson_net_unit(params: Mapping[str, Any], seed_sequence: Any, rounds: int, batch: int, record_every: int) -> _Out:
    """Train MyersonNet, export it and audit it (module docstring)."""
    from coopsim.analysis import incentive_audit
    from coopsim.design.myerson_net import train_myerson_net
    from coopsim.envs.position_auction import PositionAuction
    from coopsim.mechanisms.learned import MyersonNetAuction

    n = int(params.get("n_bidders", 2))
    keys = ("groups", "units", "iterations", "lr", "kappa", "device")
    seed = _seed(seed_sequence)
    res = train_myerson_net(n_bidders=n, seed=seed, **{k: params[k] for k in keys if k in params})
    mech = _export(res, params, "myerson_net", MyersonNetAuction)
    rng = np.random.default_rng(seed)
    v = rng.random((int(params.get("eval_samples", 200_000)), n))
    game = PositionAuction(n_agents=n, n_slots=1, mechanism=mech)
    audit = incentive_audit(game, n_profiles=256, rng=rng)
    return _curves(
        res.history,
        ("revenue",),
        test_revenue=mech(v).revenue.mean(),
        optimal_revenue=myerson_optimal_revenue(n),
        reserve=mech.inverse_virtual_values(np.zeros((1, n))).mean(),
        audit_gain=max(audit.max_gain, 0.0),
    )


def rochet_net_unit(params: Mapping[str, Any], seed_sequence: Any, rounds: int, batch: int, record_every: int) -> _Out:
    """Train RochetNet (two items), export it and audit it (module docstring)."""
    from coopsim.analysis import incentive_audit
    from coopsim.design.rochet_net import train_rochet_net
    from coopsim.envs.multi_item_auction import MultiItemAuction
    from coopsim.mechanisms.learned import RochetNetMenu

    keys = ("options", "iterations", "lr", "kappa", "kappa_final", "device")
    seed = _seed(seed_sequence)
    res = train_rochet_net(n_items=2, seed=seed, **{k: params[k] for k in keys if k in params})
    mech = _export(res, params, "rochet_net", RochetNetMenu)
    g = (np.arange(int(params.get("eval_grid", 1000))) + 0.5) / int(params.get("eval_grid", 1000))
    grid = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 1, 2)
    game = MultiItemAuction(n_agents=1, n_items=2, mechanism=mech)
    audit = incentive_audit(game, grid=21, n_profiles=256, rng=np.random.default_rng(seed))
    return _curves(
        res.history,
        ("revenue",),
        test_revenue=mech(grid).revenue.mean(),
        optimal_revenue=manelli_vincent_revenue(),
        audit_gain=max(audit.max_gain, 0.0),
    )


def regret_net_unit(params: Mapping[str, Any], seed_sequence: Any, rounds: int, batch: int, record_every: int) -> _Out:
    """Train RegretNet, export it, and measure held-out revenue and regret two ways (module docstring)."""
    from coopsim.analysis import incentive_audit
    from coopsim.design._torch import torch
    from coopsim.design.regret_net import regret_estimate, train_regret_net
    from coopsim.envs.multi_item_auction import MultiItemAuction
    from coopsim.mechanisms.learned import RegretNetAuction

    rename = {"train_batch": "batch"}
    keys: tuple[str, ...] = (
        "n_bidders",
        "n_items",
        "hidden",
        "iterations",
        "train_batch",
        "n_train",
        "lr",
        "misreport_steps",
    )
    keys += ("rho_step", "rho_every", "lambda_init", "device")
    seed = _seed(seed_sequence)
    kw: dict[str, Any] = {
        rename.get(k, k): (tuple(params[k]) if k == "hidden" else params[k]) for k in keys if k in params
    }
    res = train_regret_net(seed=seed, **kw)
    mech = _export(res, params, "regret_net", RegretNetAuction)
    rng = np.random.default_rng(seed)
    n, m = res.config.n_bidders, res.config.n_items
    values = rng.random((int(params.get("eval_samples", 2000)), n, m))
    dev = next(res.net.parameters())
    ev = regret_estimate(res.net, torch.as_tensor(values, dtype=dev.dtype, device=dev.device), seed=seed)
    game = MultiItemAuction(n_agents=n, n_items=m, mechanism=mech)
    audit = incentive_audit(game, values[:500], grid=11, n_random=32, rng=rng)
    return _curves(
        res.history,
        ("revenue", "regret"),
        test_revenue=mech(values).revenue.mean(),
        test_regret=float(np.mean(ev["mean_regret"])),
        audit_regret=float(np.maximum(audit.per_profile, 0.0).mean()),
    )


def _export(res: Any, params: Mapping[str, Any], kind: str, cls: Any) -> Any:
    """Save the trained network (to ``params["export"]`` or a temporary file) and serve it in NumPy."""
    import os
    import tempfile

    path = params.get("export")
    if path:
        res.export(path)
        return cls(weights=path)
    with tempfile.TemporaryDirectory() as tmp:
        f = os.path.join(tmp, f"{kind}.npz")
        res.export(f)
        return cls(weights=f)
