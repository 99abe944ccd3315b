"""Equilibrium gaps of normal-form games: NashConv, exploitability, CE and CCE gaps.

Works on anything with a ``payoff_tensor`` attribute of shape ``(N, A_1, ..., A_N)``
(``P[i, a]`` = player i's payoff at profile ``a``), e.g. ``coopsim.envs.matrix_games.MatrixGame``,
or on such a tensor directly. This module never imports ``coopsim.envs``. Everything is exact by
enumeration (the tensor is contracted with the policies) and batched over leading axes.

Definitions (CE/CCE gaps: Hart and Mas-Colell, Econometrica 2000; NashConv: Lanctot et al., NeurIPS 2017):

- ``u_i(k, π_{-i}) = Σ_{a_-i} P_i(k, a_-i) Π_{j≠i} π_j(a_j)``, ``u_i(π) = Σ_k π_i(k) u_i(k, π_{-i})``;
- ``NashConv(π) = Σ_i [max_k u_i(k, π_{-i}) - u_i(π)]``; ``exploitability = NashConv / N``
  (OpenSpiel convention; Lanctot et al., "OpenSpiel", arXiv 1908.09453);
- for a joint distribution μ over profiles, ``CCE gap = max_i max_k Σ_a μ(a) [P_i(k, a_-i) - P_i(a)]``
  and ``CE gap = max_i Σ_j max_k Σ_{a_-i} μ(j, a_-i) [P_i(k, a_-i) - P_i(j, a_-i)]``
  (swap regret; zero iff μ is a correlated equilibrium, Aumann 1974; Hart & Mas-Colell 2000).
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from coopsim.core.validation import ParameterError, ParameterTypeError, as_array

__all__ = [
    "payoff_tensor",
    "split_policy",
    "action_values",
    "nash_conv",
    "exploitability",
    "ce_gap",
    "cce_gap",
    "best_response_gains",
]

_MAX_ENTRIES = 10**6


def payoff_tensor(game: Any) -> np.ndarray:
    """The ``(N, A_1, ..., A_N)`` payoff tensor of ``game`` (its ``payoff_tensor`` attribute, or
    ``game`` itself when it is an array). Raises ``TypeError`` when there is none."""
    P = getattr(game, "payoff_tensor", game)
    if callable(P) and not isinstance(P, np.ndarray):
        P = P()
    try:
        # booleans, strings, objects and complex numbers are refused (as_array), not read as numbers
        P = as_array(P, "game", allow_nan=True)
    except (TypeError, ValueError) as err:
        raise ParameterTypeError(
            "game",
            f"game: expected a normal-form game with a payoff_tensor attribute or a numeric payoff tensor, "
            f"got {type(game).__name__} ({err})",
        ) from None
    if P.ndim < 2 or P.ndim != P.shape[0] + 1:
        raise ParameterTypeError(
            "game",
            f"game: expected a payoff tensor of shape (N, A_1, ..., A_N), got shape {P.shape} "
            f"from {type(game).__name__}",
        )
    if P[0].size > _MAX_ENTRIES:
        raise ParameterError("game", f"game: exact enumeration needs at most {_MAX_ENTRIES} profiles, got {P[0].size}")
    if not np.all(np.isfinite(P)):
        raise ParameterError("game", "game: payoff tensor has non-finite entries")
    return P


def split_policy(P: np.ndarray, policy: Any, name: str = "policy", atol: float = 1e-9) -> list[np.ndarray]:
    """Per-player probability arrays ``(..., A_i)`` from ``policy`` given as an array
    ``(..., N, max A)`` (entries beyond ``A_i`` must be 0) or a list of N arrays ``(..., A_i)``."""
    N = P.shape[0]
    n_actions = P.shape[1:]
    if isinstance(policy, (list, tuple)):
        if len(policy) != N:
            raise ValueError(f"{name}: expected {N} player distributions, got {len(policy)}")
        parts = [as_array(p, f"{name}[{i}]", lo=0.0) for i, p in enumerate(policy)]
    else:
        arr = as_array(policy, name, lo=0.0)
        if arr.ndim < 2 or arr.shape[-2] != N:
            raise ValueError(f"{name}: expected shape (..., {N}, {max(n_actions)}), got {arr.shape}")
        parts = [arr[..., i, :] for i in range(N)]
    out = []
    for i, (p, a) in enumerate(zip(parts, n_actions)):
        if p.ndim < 1 or p.shape[-1] < a:
            raise ValueError(f"{name}: player {i} has {a} actions, got a distribution of shape {p.shape}")
        if np.any(p[..., a:] != 0):
            raise ValueError(f"{name}: player {i} puts probability on padding entries beyond its {a} actions")
        p = p[..., :a]
        tot = p.sum(axis=-1)
        bad = np.abs(tot - 1.0) > atol
        if np.any(bad):
            raise ValueError(f"{name}: player {i}'s probabilities must sum to 1, got {np.asarray(tot)[bad].flat[0]!r}")
        out.append(p)
    lead = np.broadcast_shapes(*(p.shape[:-1] for p in out))
    return [np.broadcast_to(p, (*lead, p.shape[-1])) for p in out]


def action_values(game: Any, policy: Any) -> list[np.ndarray]:
    """``[u_i(·, π_{-i})]_i``: each player's expected payoff of every own action against the others'
    mixed strategies, a list of N arrays ``(..., A_i)``."""
    P = payoff_tensor(game)
    sig = split_policy(P, policy)
    N = P.shape[0]
    axes = string.ascii_letters[:N]
    vals = []
    for i in range(N):
        operands: list[np.ndarray] = [P[i]]
        subs = [axes]
        for j in range(N):
            if j != i:
                operands.append(sig[j])
                subs.append("..." + axes[j])
        vals.append(np.einsum(",".join(subs) + "->..." + axes[i], *operands))
    return vals


def best_response_gains(game: Any, policy: Any) -> np.ndarray:
    """Per-player gains ``max_k u_i(k, π_{-i}) - u_i(π)``, shape ``(..., N)`` (each ≥ 0)."""
    P = payoff_tensor(game)
    sig = split_policy(P, policy)
    vals = action_values(P, sig)
    gains = [v.max(axis=-1) - (v * s).sum(axis=-1) for v, s in zip(vals, sig)]
    return np.maximum(np.stack(gains, axis=-1), 0.0)


def nash_conv(game: Any, policy: Any) -> np.ndarray | float:
    """``NashConv(π) = Σ_i [max_k u_i(k, π_{-i}) - u_i(π)]`` (exact; batched over leading axes of
    ``policy``, which is ``(..., N, max A)`` or a list of per-player ``(..., A_i)`` arrays)."""
    out = best_response_gains(game, policy).sum(axis=-1)
    return float(out) if out.ndim == 0 else out


def exploitability(game: Any, policy: Any) -> np.ndarray | float:
    """``exploitability(π) = NashConv(π) / N`` (OpenSpiel convention); 0 exactly at a Nash equilibrium."""
    P = payoff_tensor(game)
    return nash_conv(P, policy) / P.shape[0]


def _joint(P: np.ndarray, joint: Any, name: str = "joint") -> np.ndarray:
    mu = as_array(joint, name, lo=0.0)
    shape = P.shape[1:]
    if mu.ndim < len(shape) or mu.shape[mu.ndim - len(shape) :] != shape:
        raise ValueError(f"{name}: expected shape (..., {', '.join(map(str, shape))}), got {mu.shape}")
    tot = mu.reshape(*mu.shape[: mu.ndim - len(shape)], -1).sum(axis=-1)
    bad = np.abs(tot - 1.0) > 1e-9
    if np.any(bad):
        raise ValueError(
            f"{name}: expected probabilities summing to 1 over profiles, got {np.asarray(tot)[bad].flat[0]!r}"
        )
    return mu


def _gain_matrices(P: np.ndarray, mu: np.ndarray) -> list[np.ndarray]:
    """``G_i[..., j, k] = Σ_{a_-i} μ(j, a_-i) [P_i(k, a_-i) - P_i(j, a_-i)]`` for every player i."""
    N = P.shape[0]
    lead = mu.shape[: mu.ndim - N]
    out = []
    for i in range(N):
        A = P.shape[1 + i]
        Pi = np.moveaxis(P[i], i, 0).reshape(A, -1)  # (A, M)
        mui = np.moveaxis(mu, len(lead) + i, len(lead)).reshape(*lead, A, -1)  # (..., A, M)
        cross = mui @ Pi.T  # (..., j, k)
        own = (mui * Pi).sum(axis=-1)  # (..., j)
        out.append(cross - own[..., :, None])
    return out


def ce_gap(game: Any, joint: Any) -> np.ndarray | float:
    """``CE gap(μ) = max_i Σ_j max_k Σ_{a_-i} μ(j, a_-i) [P_i(k, a_-i) - P_i(j, a_-i)]`` for a joint
    distribution ``joint`` of shape ``(..., A_1, ..., A_N)``; 0 iff μ is a correlated equilibrium."""
    P = payoff_tensor(game)
    mu = _joint(P, joint)
    gaps = [np.maximum(G.max(axis=-1), 0.0).sum(axis=-1) for G in _gain_matrices(P, mu)]
    out = np.max(np.stack(gaps, axis=-1), axis=-1)
    return float(out) if out.ndim == 0 else out


def cce_gap(game: Any, joint: Any) -> np.ndarray | float:
    """``CCE gap(μ) = max_i max_k Σ_a μ(a) [P_i(k, a_-i) - P_i(a)]`` (≥ 0); 0 iff μ is a coarse
    correlated equilibrium. ``joint`` has shape ``(..., A_1, ..., A_N)``."""
    P = payoff_tensor(game)
    mu = _joint(P, joint)
    gaps = [np.maximum(G.sum(axis=-2).max(axis=-1), 0.0) for G in _gain_matrices(P, mu)]
    out = np.max(np.stack(gaps, axis=-1), axis=-1)
    return float(out) if out.ndim == 0 else out
