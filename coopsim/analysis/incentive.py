"""Empirical incentive audit of any ``MechanismGame`` (strategyproofness with a witness).

For type profiles theta^(m), m = 1..M, and every agent i, the audit evaluates every unilateral
misreport c in a candidate set C (a uniform grid of G actions plus R uniform random ones):

    gain(m, i, c) = u_i(theta_i; f(c, a_{-i})) - u_i(theta_i; f(a)),   a = truthful(theta^(m)),

in one vectorised ``deviation_utilities`` call of shape (M, N, G + R), then refines the best
deviation of each profile by a shrinking local random search. It reports the largest gain with the
profile, agent and misreport that achieve it (the witness), the mean over profiles of the best
gain, and the share of profiles with a gain above ``tol`` (the empirical ex-post regret of
Dütting et al., ICML 2019; the grid plus random search is mandatory since gradient-only
estimators underestimate regret, You et al., arXiv:2601.13489).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coopsim.core.game import MechanismGame
from coopsim.core.seeding import make_rng
from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_float,
    check_int,
    check_size,
)

#: most local-search rounds an audit or a worst-case search takes (each is a batched play)
MAX_STEPS = 100_000


def check_seed_or_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """A ``Generator`` from ``rng``: a Generator, a non-negative int seed or None (fresh entropy);
    anything else is refused naming ``name``."""
    if isinstance(rng, np.random.Generator) or rng is None:
        return make_rng(rng)
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)):
        raise ParameterTypeError(
            name, f"{name}: expected a numpy.random.Generator, a non-negative integer seed or None, got {rng!r}"
        )
    return make_rng(check_int(rng, name, lo=0))


@dataclass
class Witness:
    """A profitable (or the least unprofitable) unilateral misreport."""

    types: np.ndarray
    actions: np.ndarray
    agent: int
    deviation: np.ndarray
    gain: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "types": self.types.tolist(),
            "actions": self.actions.tolist(),
            "agent": self.agent,
            "deviation": np.asarray(self.deviation).tolist(),
            "gain": self.gain,
        }


@dataclass
class IncentiveAudit:
    """Result of ``incentive_audit``."""

    max_gain: float
    witness: Witness
    mean_gain: float
    share_profitable: float
    tol: float
    per_profile: np.ndarray = field(repr=False)

    @property
    def strategyproof(self) -> bool:
        """No misreport found that gains more than ``tol``."""
        return self.max_gain <= self.tol


def incentive_audit(
    game: MechanismGame,
    types: np.ndarray | None = None,
    grid: int | np.ndarray = 101,
    n_random: int = 64,
    refine_steps: int = 20,
    n_profiles: int = 256,
    tol: float = 1e-9,
    rng: np.random.Generator | int | None = 0,
    actions: np.ndarray | None = None,
) -> IncentiveAudit:
    """Largest utility gain of any agent from a unilateral misreport, with a witness profile.

    ``types`` are the type profiles ``(M, N, ...)`` (``n_profiles`` are sampled from the game when
    omitted); ``actions`` the baseline profile (truthful by default); ``grid`` a number of evenly
    spaced candidates or an explicit ``(G, *action_shape)`` array; ``n_random`` extra uniform
    candidates; ``refine_steps`` rounds of local search around each profile's best deviation.
    """
    if not isinstance(game, MechanismGame):
        raise ParameterTypeError("game", f"game: expected a MechanismGame, got {type(game).__name__}")
    rng = check_seed_or_rng(rng)
    tol = check_float(tol, "tol", lo=0.0)
    refine_steps = check_int(refine_steps, "refine_steps", lo=0, hi=MAX_STEPS)
    n_random = check_int(n_random, "n_random", lo=0)
    shape = game.action_shape
    # one profile's type and action entries (what the deviation rows repeat)
    per = game.n_agents * max(int(np.prod(shape, dtype=np.int64)), 1)
    if types is None:
        n_profiles = check_int(n_profiles, "n_profiles", lo=1)
        check_size("n_profiles", n_profiles, per, copies=4, what="the sampled type profiles")
        types = game.sample_types(rng, n_profiles)
    types = game.check_types(types, "types")
    M = types.shape[0]
    base = game.truthful_actions(types) if actions is None else game.check_actions(actions)
    if base.shape[0] != M:
        raise ParameterError("actions", f"actions: expected {M} profiles (as types), got {base.shape[0]}")
    cand = _candidates(game, grid, n_random, M, per, rng)
    baseline = game.play(types, base).utility  # (M, N)
    gains = game.deviation_utilities(types, base, cand) - baseline[:, :, None]  # (M, N, K)
    M, N, K = gains.shape
    flat = gains.reshape(M, N * K).argmax(axis=1)
    best_gain = gains.reshape(M, -1)[np.arange(M), flat]
    best_agent, best_k = np.divmod(flat, K)
    best_dev = cand[best_k]  # (M, *shape)

    # local refinement: perturb each profile's best deviation of its best agent
    scale = 0.5 * (game.action_high - game.action_low) / max(len(cand), 1)
    for _ in range(refine_steps):
        trial = _project(game, best_dev + scale * rng.standard_normal(best_dev.shape))
        trial_gain = _single_deviation_gain(game, types, base, best_agent, trial) - baseline[np.arange(M), best_agent]
        better = trial_gain > best_gain
        best_gain = np.where(better, trial_gain, best_gain)
        best_dev = np.where(better.reshape(-1, *[1] * len(shape)), trial, best_dev)
        scale *= 0.7

    m = int(best_gain.argmax())
    witness = Witness(
        types=types[m].copy(),
        actions=base[m].copy(),
        agent=int(best_agent[m]),
        deviation=np.asarray(best_dev[m]).copy(),
        gain=float(best_gain[m]),
    )
    return IncentiveAudit(
        max_gain=float(best_gain[m]),
        witness=witness,
        mean_gain=float(np.maximum(best_gain, 0.0).mean()),
        share_profitable=float((best_gain > tol).mean()),
        tol=tol,
        per_profile=best_gain,
    )


def _candidates(
    game: MechanismGame, grid: int | np.ndarray, n_random: int, M: int, per: int, rng: np.random.Generator
) -> np.ndarray:
    """The audit's candidate deviations: ``grid`` (a count or a ``(G, *action_shape)`` array), then
    ``n_random`` uniform ones drawn from ``rng``; size-guarded for ``M`` profiles of ``per`` entries."""
    shape = game.action_shape
    if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool):
        G = check_int(grid, "grid", lo=1)
        check_size("grid", M, game.n_agents, G, per, copies=3, what="the M*N*G deviation profiles")
        cand = game.action_grid(G)
    else:
        cand = as_array(grid, "grid", ndim=1 + len(shape), lo=game.action_low, hi=game.action_high)
        if cand.shape[1:] != shape or cand.shape[0] < 1:
            raise ParameterError("grid", f"grid: expected candidates of shape (G >= 1, {shape}), got {cand.shape}")
        check_size("grid", M, game.n_agents, len(cand), per, copies=3, what="the M*N*G deviation profiles")
    check_size("n_random", M, game.n_agents, len(cand) + n_random, per, copies=3, what="the M*N*(G+R) deviations")
    if n_random:
        extra = rng.uniform(game.action_low, game.action_high, (n_random, *shape))
        cand = np.concatenate([cand, _project(game, extra)])
    return cand


def _project(game: MechanismGame, actions: np.ndarray) -> np.ndarray:
    """Keep search candidates inside the action space (this clips search points, never inputs)."""
    if hasattr(game, "project_actions"):
        return game.project_actions(actions)
    return np.clip(actions, game.action_low, game.action_high)


def _single_deviation_gain(
    game: MechanismGame, types: np.ndarray, base: np.ndarray, agent: np.ndarray, deviation: np.ndarray
) -> np.ndarray:
    """Utility of ``agent[m]`` in profile m after it alone switches to ``deviation[m]``."""
    M = base.shape[0]
    rows = base.copy()
    rows[np.arange(M), agent] = deviation
    return game.play(types, rows).utility[np.arange(M), agent]
