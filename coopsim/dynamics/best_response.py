"""Exact best-response dynamics on scalar (continuous) actions.

Best response of agent i in a report game (Aziz, Lam, Lee and Walsh, arXiv:2111.01566):
``BR_i(x) = argmax_y u_i(y, x_{-i})`` over ``[action_low, action_high]``, found by
:func:`best_response_search` (a grid of ``points`` candidates, then repeated zooming into the
bracket around the best candidate until the bracket is narrower than ``xtol``; exact for
single-peaked / quasi-concave utilities such as ``-|f(r) - t_i|`` with f continuous and monotone), or by a user-supplied closed form.

Dynamics (:func:`best_response_dynamics`): Gauss-Seidel (``order="sequential"``, agents update in
index order, each seeing the latest actions) or Jacobi (``"simultaneous"``, documented as possibly
cycling). An agent moves only on a strict improvement ``> improve_tol`` (1e-12). A copy has
converged when the largest action change in a sweep is ``< tol`` (1e-7); sweeps are capped at
``max_sweeps`` and the censored copies are reported. Batched over copies; the loops run over
sweeps, agents and zoom steps only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.seeding import SeedLike, make_rng
from coopsim.core.validation import ParameterError, as_array, check_choice, check_float, check_int, check_size

__all__ = ["best_response_search", "best_response_dynamics", "BestResponseResult"]


def _utility_of(
    game: MechanismGame, types: np.ndarray, actions: np.ndarray, agent: int, cand: np.ndarray
) -> np.ndarray:
    """``u_agent(cand[b, g], x_{-agent})`` for every copy b and candidate g: shape ``(B, G)``."""
    B, G = cand.shape
    rows = np.repeat(actions[:, None, :], G, axis=1)  # (B, G, N)
    rows[:, :, agent] = cand
    rep_types = np.repeat(types[:, None], G, axis=1).reshape(B * G, *types.shape[1:])
    out = game.play(rep_types, rows.reshape(B * G, -1))
    return np.asarray(out.utility, dtype=np.float64)[:, agent].reshape(B, G)


def best_response_search(
    game: MechanismGame,
    types: np.ndarray,
    actions: np.ndarray,
    agent: int,
    *,
    points: int = 41,
    xtol: float = 1e-13,
    max_zoom: int = 60,
) -> tuple[np.ndarray, np.ndarray]:
    """Best response of ``agent`` in every copy by grid search plus zooming.

    Round 0 evaluates ``points`` equally spaced candidates on ``[action_low, action_high]``; each
    further round replaces the interval by ``[c_{m-1}, c_{m+1}]`` around the best candidate ``c_m``
    (first maximiser) and stops when it is narrower than ``xtol``. Returns ``(best (B,), value (B,))``.
    """
    if game.action_shape != ():
        raise ValueError(f"game: best_response_search needs scalar actions, got action shape {game.action_shape}")
    points = check_int(points, "points", lo=3)
    types, actions = game.check_profile(types, actions)
    agent = check_int(agent, "agent", lo=0, hi=game.n_agents - 1)
    xtol = check_float(xtol, "xtol", lo=0.0)
    max_zoom = check_int(max_zoom, "max_zoom", lo=0)
    B = actions.shape[0]
    check_size("points", B, points, game.n_agents, copies=4, what="the (B, points) candidate profiles")
    lo = np.full(B, float(game.action_low))
    hi = np.full(B, float(game.action_high))
    frac = np.linspace(0.0, 1.0, points)
    best = lo.copy()
    val = np.full(B, -np.inf)
    for _ in range(max_zoom):
        cand = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
        cand[:, -1] = hi  # exact end points
        u = _utility_of(game, types, actions, agent, cand)
        m = u.argmax(axis=1)
        rows = np.arange(B)
        best = cand[rows, m]
        val = u[rows, m]
        if np.max(hi - lo) < xtol:
            break
        lo, hi = cand[rows, np.maximum(m - 1, 0)], cand[rows, np.minimum(m + 1, points - 1)]
    return best, val


@dataclass
class BestResponseResult:
    """Outcome of :func:`best_response_dynamics`.

    ``actions`` ``(B, N)`` final profile; ``outcome`` the game's ``Outcome`` at it; ``sweeps``
    ``(B,)`` sweeps until convergence (``max_sweeps`` for censored copies); ``converged`` ``(B,)``;
    ``max_change`` ``(S, B)`` the largest action change of each sweep (0 after convergence).
    """

    actions: np.ndarray
    outcome: Outcome
    sweeps: np.ndarray
    converged: np.ndarray
    max_change: np.ndarray

    @property
    def censored_fraction(self) -> float:
        """Share of copies that hit ``max_sweeps`` without converging."""
        return float(1.0 - self.converged.mean())


def _initial_profile(game: MechanismGame, types: np.ndarray, init: Any, seed: Any) -> np.ndarray:
    """The ``(B, N)`` starting profile of :func:`best_response_dynamics` (clipped to the action range)."""
    B, N = types.shape[0], game.n_agents
    if isinstance(init, str):
        check_choice(init, "init", ("truthful", "random"))
        if init == "truthful":
            x = np.array(game.truthful_actions(types), dtype=np.float64).reshape(B, N)
        else:
            x = make_rng(seed).uniform(game.action_low, game.action_high, (B, N))
    else:
        x0 = as_array(init, "init", lo=game.action_low, hi=game.action_high)
        try:
            x = np.array(np.broadcast_to(x0, (B, N)))
        except ValueError:
            raise ParameterError(
                "init", f"init: expected a profile broadcastable to ({B}, {N}), got shape {x0.shape}"
            ) from None
    return np.clip(x, game.action_low, game.action_high)


def best_response_dynamics(
    game: MechanismGame,
    types: Any,
    *,
    init: Any = "truthful",
    order: str = "sequential",
    tol: float = 1e-7,
    max_sweeps: int = 10_000,
    best_response: Callable[[np.ndarray, np.ndarray, int], np.ndarray] | None = None,
    points: int = 41,
    improve_tol: float = 1e-12,
    seed: SeedLike | np.random.Generator = None,
) -> BestResponseResult:
    """Run best-response dynamics from ``init`` on the types ``types`` ``(B, N)``.

    ``init``: "truthful" (``game.truthful_actions``), "random" (uniform on the action range, drawn
    from ``seed``) or a ``(B, N)`` profile. ``best_response(types, actions, agent) -> (B,)`` is an
    optional closed form (e.g. the average rule's ``clip(n t_i - Σ_{j≠i} r_j, 0, 1)``); the default
    is :func:`best_response_search`. Sequential sweep: for i = 0..N-1, ``x_i <- BR_i(x)`` when
    ``u_i(BR_i) > u_i(x_i) + improve_tol``.
    """
    if not isinstance(game, MechanismGame):
        raise TypeError(f"game: expected a MechanismGame, got {type(game).__name__}")
    if game.action_shape != ():
        raise ValueError(f"game: best-response dynamics need scalar actions, got action shape {game.action_shape}")
    types = game.check_types(types)
    order = check_choice(order, "order", ("sequential", "simultaneous"))
    tol = check_float(tol, "tol", lo=0.0, lo_open=True)
    max_sweeps = check_int(max_sweeps, "max_sweeps", lo=1)
    improve_tol = check_float(improve_tol, "improve_tol", lo=0.0)
    if best_response is not None and not callable(best_response):
        raise TypeError(
            f"best_response: expected a callable (types, actions, agent) -> (B,) or None, got {best_response!r}"
        )
    B, N = types.shape[0], game.n_agents
    if best_response is None:
        points = check_int(points, "points", lo=3)
        check_size("points", B, points, N, copies=4, what="the (B, points) candidate profiles")
    x = _initial_profile(game, types, init, seed)

    def br(ty: np.ndarray, xs: np.ndarray, i: int) -> np.ndarray:
        if best_response is not None:
            cand = np.asarray(best_response(ty, xs, i), dtype=np.float64).reshape(-1)
        else:
            cand, _ = best_response_search(game, ty, xs, i, points=points)
        both = np.stack([xs[:, i], cand], axis=1)
        u = _utility_of(game, ty, xs, i, both)
        return np.where(u[:, 1] > u[:, 0] + improve_tol, cand, xs[:, i])

    converged = np.zeros(B, dtype=bool)
    sweeps = np.full(B, max_sweeps, dtype=np.int64)
    changes = []
    for s in range(1, max_sweeps + 1):
        act = np.flatnonzero(~converged)
        if act.size == 0:
            break
        ty, xs = types[act], x[act]
        old = xs.copy()
        if order == "sequential":
            for i in range(N):
                xs[:, i] = br(ty, xs, i)
        else:
            new = np.stack([br(ty, old, i) for i in range(N)], axis=1)
            xs = new
        x[act] = xs
        ch = np.zeros(B)
        ch[act] = np.abs(xs - old).max(axis=1)
        changes.append(ch)
        done = act[ch[act] < tol]
        converged[done] = True
        sweeps[done] = s
    return BestResponseResult(
        actions=x,
        outcome=game.play(types, x),
        sweeps=sweeps,
        converged=converged,
        max_change=np.stack(changes) if changes else np.zeros((0, B)),
    )
