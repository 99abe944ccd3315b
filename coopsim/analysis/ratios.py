"""Approximation ratios against the exact optimum, and a worst-case ratio search.

Ratios are reported as numbers >= 1: ``OPT / ALG`` for objectives to maximise (welfare) and
``ALG / OPT`` for objectives to minimise (costs), with the per-profile convention 0/0 := 1 and
x/0 := +inf for x > 0. A game names its objectives and their direction in ``game.objectives``
(e.g. ``{"SW": "max", "TC": "min", "MC": "min"}``); ``game.metrics`` gives ALG and
``game.optimum`` gives OPT. Randomised mechanisms are rated by the ratio of expectations.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from coopsim.analysis.incentive import MAX_STEPS, check_seed_or_rng
from coopsim.core.game import MechanismGame
from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_size,
)


def ratio_to_optimum(alg: np.ndarray, opt: np.ndarray, direction: str, tol: float = 1e-12) -> np.ndarray:
    """Per-profile ratio >= 1: ``opt/alg`` (maximise) or ``alg/opt`` (minimise); 0/0 := 1, x/0 := inf."""
    check_choice(direction, "direction", ("max", "min"))
    num, den = (opt, alg) if direction == "max" else (alg, opt)
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    return np.where(den <= tol, np.where(num <= tol, 1.0, np.inf), r)


def _direction(game: MechanismGame, objective: str) -> str:
    if not isinstance(game, MechanismGame):
        raise ParameterTypeError("game", f"game: expected a MechanismGame, got {type(game).__name__}")
    objectives = getattr(game, "objectives", None)
    if not objectives:
        raise ParameterTypeError("game", f"game: {type(game).__name__} declares no `objectives` to rate")
    check_choice(objective, "objective", tuple(objectives))
    return objectives[objective]


def approximation_ratio(
    game: MechanismGame, types: np.ndarray, objective: str, actions: np.ndarray | None = None
) -> np.ndarray:
    """Per-profile ratio ``(B,)`` of ``objective`` under the mechanism (truthful play by default)."""
    direction = _direction(game, objective)
    types = game.check_types(types, "types")
    acts = game.truthful_actions(types) if actions is None else game.check_actions(actions)
    if acts.shape[0] != types.shape[0]:
        raise ParameterError("actions", f"actions: expected {types.shape[0]} profiles (as types), got {acts.shape[0]}")
    alg = game.metrics(types, game.play(types, acts))[objective]
    return ratio_to_optimum(alg, game.optimum(types)[objective], direction)


@dataclass
class WorstCase:
    """Result of ``worst_case_ratio``: the largest ratio found and the profile attaining it."""

    ratio: float
    profile: np.ndarray
    objective: str
    evaluated: int


def grid_profiles(
    n_agents: int, n_grid: int, low: float = 0.0, high: float = 1.0, sorted_only: bool = True
) -> np.ndarray:
    """Every profile on the grid ``{low + j (high-low)/n_grid}``: sorted ones (anonymous
    mechanisms; ``C(n_grid + n, n)`` rows) or the full product ((n_grid+1)^n rows)."""
    n_agents = check_int(n_agents, "n_agents", lo=1)
    n_grid = check_int(n_grid, "n_grid", lo=1)
    low = check_float(low, "low")
    high = check_float(high, "high", lo=low)
    sorted_only = check_bool(sorted_only, "sorted_only")
    rows = comb(n_grid + n_agents, n_agents) if sorted_only else (n_grid + 1) ** n_agents
    check_size("n_grid", rows, n_agents, copies=3, what="the grid profiles")
    pts = np.linspace(low, high, n_grid + 1)
    if not sorted_only:
        idx = np.indices((n_grid + 1,) * n_agents).reshape(n_agents, -1).T
        return pts[idx]
    # non-decreasing index tuples via stars and bars: row r of sorted combos of n from n_grid+n
    m = n_grid + n_agents
    if comb(m, n_agents) > 5_000_000:
        raise ValueError(f"n_grid: {comb(m, n_agents)} sorted profiles is too many; use a coarser grid")
    combos = _combinations(m, n_agents)
    return pts[combos - np.arange(n_agents)]


def _combinations(m: int, k: int) -> np.ndarray:
    """All k-subsets of range(m) in lexicographic order, as an array (built column by column)."""
    rows = np.arange(m)[:, None]
    for _ in range(k - 1):
        last = rows[:, -1]
        counts = m - 1 - last
        rep = np.repeat(rows, counts, axis=0)
        starts = np.repeat(last + 1, counts)
        offs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = np.concatenate([rep, (starts + offs)[:, None]], axis=1)
    return rows


def worst_case_ratio(
    game: MechanismGame,
    objective: str,
    n_grid: int | None = None,
    sorted_only: bool = True,
    refine_steps: int = 200,
    population: int = 64,
    rng: np.random.Generator | int | None = 0,
) -> WorstCase:
    """Largest per-profile ratio over the type space, with the worst profile.

    Exhaustive over the grid with step ``1/n_grid`` (default ``2 n``, so multiples of 1/n and small
    epsilons are present), then a local random search that perturbs
    the ``population`` worst profiles with a shrinking step and keeps improvements.
    """
    _direction(game, objective)  # rejects an unknown objective before any work
    n = game.n_agents
    n_grid = check_int(2 * n if n_grid is None else n_grid, "n_grid", lo=1)
    sorted_only = check_bool(sorted_only, "sorted_only")
    refine_steps = check_int(refine_steps, "refine_steps", lo=0, hi=MAX_STEPS)
    population = check_int(population, "population", lo=1)
    rng = check_seed_or_rng(rng)
    profiles = grid_profiles(n, n_grid, game.type_low, game.type_high, sorted_only)
    ratios = approximation_ratio(game, profiles, objective)
    evaluated = len(profiles)
    order = np.argsort(-ratios, kind="stable")[:population]
    pop, pop_r = profiles[order], ratios[order]
    scale = (game.type_high - game.type_low) / n_grid
    for _ in range(refine_steps):
        trial = np.clip(pop + scale * rng.standard_normal(pop.shape), game.type_low, game.type_high)
        if sorted_only:
            trial = np.sort(trial, axis=1)
        tr = approximation_ratio(game, trial, objective)
        better = tr > pop_r
        pop = np.where(better[:, None], trial, pop)
        pop_r = np.where(better, tr, pop_r)
        evaluated += len(trial)
        scale *= 0.98
    best = int(np.argmax(pop_r))
    return WorstCase(ratio=float(pop_r[best]), profile=pop[best].copy(), objective=objective, evaluated=evaluated)
