"""The optimal incentive-compatible information-acquisition mechanism as a linear program.

Variables: phi(a) >= 0 (recommendation), y_i(a, theta, s) = phi(a) gamma_i(a, s, theta)
>= 0 (probability-weighted payments), w_i(a_i, b_i, s_i) free (epigraph of the best report after
signal s_i when recommended a_i and exerting b_i). With J_a(theta, s) = mu(theta) q_a(s | theta):

    max   sum_a phi(a) V(a) - sum_i sum_{a,theta,s} J_a(theta, s) y_i(a, theta, s)
    s.t.  sum_a phi(a) = 1
    (W)   w_i(a_i,b_i,s_i) >= sum_{a_-i, s_-i, theta} J_{(b_i,a_-i)}(theta, (s_i,s_-i))
                                   * y_i((a_i,a_-i), theta, (r_i,s_-i))
              for all i, a_i, b_i, s_i and reports r_i
    (O)   sum_{a_-i} [sum_{theta,s} J_a y_i(a,theta,s) - c_i(a_i) phi(a)]
              >= sum_{s_i} w_i(a_i,b_i,s_i) - c_i(b_i) P(a_i) + eps [b_i != a_i] P(a_i),
          with P(a_i) = sum_{a_-i} phi(a_i, a_-i)
    (cap) y_i(a, theta, s) <= B phi(a)                     (optional)
    (IR)  sum_{a_-i} [sum J_a y_i - c_i(a_i) phi(a)] >= 0   (agents without a zero-cost action)

The IC constraints are pooled over the others' recommendations and cover every joint shirk-and-lie
deviation exactly (the best reporting map decomposes per signal). Solved with HiGHS through
``scipy.optimize.linprog`` on a sparse constraint matrix. Sizes: |A| (1 + n |S| |Theta|) + sum_i
|A_i|^2 |S_i| variables and sum_i |A_i|^2 (|S_i|^2 + 1) + 1 constraints (plus n |A||S||Theta| cap
rows). Reference: Cacciamani, Castiglioni, Gatti, arXiv:2307.06210 (ICLR 2024) -- the formulation
here is the project's reconstruction (see docs/mechanisms/information.md).
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from coopsim.mechanisms.information.model import InformationMechanism, InformationModel
from scipy.optimize import linprog

from coopsim.core.validation import (
    ParameterTypeError,
    as_array,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_size,
)

__all__ = ["optimal_mechanism", "build_lp", "LinearProgram", "lp_size", "best_deterministic", "uncorrelated_mechanism"]

PHI_TOL = 1e-9
#: largest conditional IC violation accepted as incentive compatible (the checker's threshold)
IC_TOL = 1e-7
#: recommendation probability below which a capped solution's profile is dropped and the LP re-solved
DEAD_PHI = 1e-6
#: number of caps B_0 4^k tried when the uncapped value is not attained
ATTAIN_CAPS = 12


@dataclass
class LinearProgram:
    """A built LP in ``linprog`` form (minimise ``c @ x``) plus the variable layout."""

    c: np.ndarray
    A_ub: sp.csr_matrix
    b_ub: np.ndarray
    A_eq: sp.csr_matrix
    b_eq: np.ndarray
    bounds: np.ndarray  # (n_var, 2)
    n_phi: int
    y_offsets: list[int]
    w_offsets: list[int]
    n_ic_rows: int
    build_time: float

    @property
    def n_variables(self) -> int:
        return int(self.c.size)

    @property
    def n_constraints(self) -> int:
        return int(self.A_ub.shape[0] + self.A_eq.shape[0])


def lp_size(
    n_actions: tuple[int, ...], n_signals: tuple[int, ...], n_states: int, capped: bool = False, ic_mode: str = "pooled"
) -> tuple[int, int]:
    """(variables, constraints) of the LP: |A|(1 + n|S||Theta|) + sum_i |A_i|^2|S_i| and
    sum_i |A_i|^2(|S_i|^2 + 1) + 1 (+ n|A||S||Theta| cap rows). Per-profile IC multiplies the
    w variables and (W)/(O) rows of agent i by |A_-i| = |A|/|A_i|."""
    n_actions = tuple(int(a) for a in as_array(n_actions, "n_actions", ndim=1, dtype=np.int64, lo=1))
    n_signals = tuple(int(s) for s in as_array(n_signals, "n_signals", ndim=1, dtype=np.int64, lo=1))
    if len(n_signals) != len(n_actions):
        raise ValueError(f"n_signals: expected {len(n_actions)} entries (one per agent), got {len(n_signals)}")
    n_states = check_int(n_states, "n_states", lo=1)
    capped = check_bool(capped, "capped")
    check_choice(ic_mode, "ic_mode", ("pooled", "per_profile"))
    nA, nS, n = math.prod(n_actions), math.prod(n_signals), len(n_actions)
    k = [nA // A if ic_mode == "per_profile" else 1 for A in n_actions]
    nvar = nA * (1 + n * nS * n_states) + sum(A * A * S * ki for A, S, ki in zip(n_actions, n_signals, k))
    ncon = sum(A * A * (S * S + 1) * ki for A, S, ki in zip(n_actions, n_signals, k)) + 1
    if capped:
        ncon += n * nA * nS * n_states
    return nvar, ncon


def _agent_view(arr: np.ndarray, i: int, n: int) -> np.ndarray:
    """Move agent i's effort axis first and its signal axis right after theta; flatten the others.

    ``arr`` has shape (A..., T, S...); returns (A_i, prod A_-i, T, S_i, prod S_-i).
    """
    v = np.moveaxis(arr, [i, n + 1 + i], [0, n + 1])
    Ai, T, Si = v.shape[0], v.shape[n], v.shape[n + 1]
    return v.reshape(Ai, -1, T, Si, int(np.prod(v.shape[n + 2 :], dtype=int)))


def _layout(model: InformationModel, per_profile: bool, use_z: bool) -> tuple[list[int], list[int], int, int]:
    """Column offsets of the LP's variable blocks: ``(y_off, w_off, z_off, n_var)``. Columns are
    phi (|A|), then y_i (|A| |Theta| |S| each), then w_i (|A_i|^2 |S_i| each, times |A_-i| per
    profile), then z_i (|A| each, only with a payment margin)."""
    n, nA = model.n_agents, model.n_profiles
    A, S = model.n_actions, model.n_signals
    ny = nA * model.n_states * model.n_signal_profiles
    y_off = [nA + i * ny for i in range(n)]
    w_off, pos = [], nA + n * ny
    for i in range(n):
        w_off.append(pos)
        pos += (nA if per_profile else A[i]) * A[i] * S[i]
    z_off = pos
    if use_z:
        pos += n * nA
    return y_off, w_off, z_off, pos


def _ir_agents(model: InformationModel, require_ir: bool | None) -> list[int]:
    """Agents with an (IR) row: all or none when ``require_ir`` is given, else those without a zero-cost action."""
    n = model.n_agents
    if require_ir is None:
        return [i for i in range(n) if not model.zero_cost[i]]
    return list(range(n)) if require_ir else []


def _pooled_rows(rows, cols, vals, row0, Ji, Yi, Phi_i, c_i, w0, margin_total, payment_margin, z0) -> int:
    """(W) rows (a, b, s_i, r) and (O) rows (a, b) of one agent, pooled over the others' recommendations.

    (W): sum J_i[b, am, t, si, sm] y_i[a, am, t, r, sm] - w_i(a, b, si) <= 0;
    (O): -sum J_a y + sum_si w(a, b, si) + (c(a) - c(b) + margin [b != a]) P(a)
    (+ payment_margin sum_am z_i(a, am) when b != a and ``z0`` is given) <= 0.
    """
    Ai, Am, T, Si, Sm = Ji.shape
    M = Am * T * Sm
    coef = Ji.transpose(0, 3, 1, 2, 4).reshape(Ai, Si, M)  # [b, si, M]
    col = Yi.transpose(0, 3, 1, 2, 4).reshape(Ai, Si, M)  # [a, r, M]
    d = np.broadcast_to(coef[None, :, :, None, :], (Ai, Ai, Si, Si, M))
    cc = np.broadcast_to(col[:, None, None, :, :], (Ai, Ai, Si, Si, M))
    rr = np.broadcast_to((row0 + np.arange(Ai * Ai * Si * Si)).reshape(Ai, Ai, Si, Si, 1), d.shape)
    nz = d != 0
    rows.append(rr[nz])
    cols.append(cc[nz])
    vals.append(d[nz])
    wcol = w0 + np.arange(Ai * Ai * Si).reshape(Ai, Ai, Si)
    rows.append(row0 + np.arange(Ai * Ai * Si * Si))
    cols.append(np.broadcast_to(wcol[..., None], (Ai, Ai, Si, Si)).ravel())
    vals.append(np.full(Ai * Ai * Si * Si, -1.0))
    row0 += Ai * Ai * Si * Si
    # (O) rows (a, b)
    Jflat = Ji.reshape(Ai, -1)
    Yflat = Yi.reshape(Ai, -1)
    K = Jflat.shape[1]
    orow = (row0 + np.arange(Ai * Ai)).reshape(Ai, Ai)
    dd = np.broadcast_to(-Jflat[:, None, :], (Ai, Ai, K))
    nz = dd != 0
    rows.append(np.broadcast_to(orow[..., None], (Ai, Ai, K))[nz])
    cols.append(np.broadcast_to(Yflat[:, None, :], (Ai, Ai, K))[nz])
    vals.append(dd[nz])
    rows.append(np.broadcast_to(orow[..., None], (Ai, Ai, Si)).ravel())
    cols.append(wcol.ravel())
    vals.append(np.ones(Ai * Ai * Si))
    pc = (c_i[:, None] - c_i[None, :]) + margin_total * (1 - np.eye(Ai))  # [a, b]
    pv = np.broadcast_to(pc[..., None], (Ai, Ai, Am))
    rows.append(np.broadcast_to(orow[..., None], (Ai, Ai, Am)).ravel())
    cols.append(np.broadcast_to(Phi_i[:, None, :], (Ai, Ai, Am)).ravel())
    vals.append(pv.ravel())
    if z0 is not None:
        Z_i = z0 + Phi_i  # z_i(a) shares phi's profile layout
        zmask = ~np.eye(Ai, dtype=bool)  # rows with b != a
        zr = np.broadcast_to(orow[..., None], (Ai, Ai, Am))[zmask]
        rows.append(zr.ravel())
        cols.append(np.broadcast_to(Z_i[:, None, :], (Ai, Ai, Am))[zmask].ravel())
        vals.append(np.full(zr.size, float(payment_margin)))
    return row0 + Ai * Ai


def _payment_rows(rows, cols, vals, row0, model: InformationModel, bound: float, z_off: int | None) -> int:
    """One row per payment variable y_i(a, theta, s): ``y - bound phi(a) <= 0`` (the cap, ``z_off``
    None) or ``y - z_i(a) <= 0`` (the largest-payment variables starting at column ``z_off``)."""
    n, nA = model.n_agents, model.n_profiles
    TS = model.n_states * model.n_signal_profiles
    ny = nA * TS
    ycols = np.arange(nA, nA + n * ny)
    prow = row0 + np.arange(n * ny)
    if z_off is None:
        other = np.tile(np.repeat(np.arange(nA), TS), n)
        coef = np.full(n * ny, -bound)
    else:
        other = z_off + np.repeat(np.arange(n * nA), TS)
        coef = -np.ones(n * ny)
    rows += [prow, prow]
    cols += [ycols, other]
    vals += [np.ones(n * ny), coef]
    return row0 + n * ny


def _objective_and_bounds(
    model: InformationModel, nvar: int, y_off: list[int], z_off: int
) -> tuple[np.ndarray, np.ndarray]:
    """``c`` (minimise -sum phi V + sum_i J y_i) and the ``(n_var, 2)`` bounds: phi, y, z >= 0,
    w free, and y = 0 where J = 0 (no payment on impossible outcomes: safe pruning)."""
    nA = model.n_profiles
    ny = nA * model.n_states * model.n_signal_profiles
    c = np.zeros(nvar)
    c[:nA] = -model.values_flat
    Jf = model.joint_flat.ravel()
    bounds = np.zeros((nvar, 2))
    bounds[:, 1] = np.inf
    for yo in y_off:
        c[yo : yo + ny] = Jf
        bounds[yo : yo + ny, 1] = np.where(Jf > 0, np.inf, 0.0)
    bounds[nA + model.n_agents * ny : z_off, 0] = -np.inf  # w free; z >= 0
    return c, bounds


def build_lp(
    model: InformationModel,
    cap: float | None = None,
    eps: float = 0.0,
    require_ir: bool | None = None,
    margin: float = 0.0,
    payment_margin: float = 0.0,
    ic_mode: str = "pooled",
) -> LinearProgram:
    """Build the sparse LP of the module docstring.

    ``margin`` adds a further ``margin * P(a_i)`` to every obedience row with b_i != a_i, like ``eps``.
    ``payment_margin`` (k > 0) adds variables z_i(a) >= y_i(a, theta, s) (the probability-weighted
    largest payment of profile a) and the term ``k * sum_{a_-i} z_i(a_i, a_-i)`` to those rows: a
    payment-dependent robustness margin (with z <= B phi it is at most ``k B P(a_i)``). Both are used
    by the online principal. ``ic_mode="per_profile"`` writes one (W)/(O) block per whole
    recommended profile a = (a_i, a_-i) instead of pooling over a_-i (w_i(a, b_i, s_i) variables).
    Rows: per agent its (W)/(O) block then its (IR) rows, then the cap rows, then the z rows.
    """
    _check_model(model)
    per_profile = check_choice(ic_mode, "ic_mode", ("pooled", "per_profile")) == "per_profile"
    cap = None if cap is None else check_float(cap, "cap", lo=0.0)
    eps = check_float(eps, "eps", lo=0.0)
    margin = check_float(margin, "margin", lo=0.0)
    payment_margin = check_float(payment_margin, "payment_margin", lo=0.0)
    if require_ir is not None:
        check_bool(require_ir, "require_ir")
    t0 = time.perf_counter()
    n, T, nA = model.n_agents, model.n_states, model.n_profiles
    A, S = model.n_actions, model.n_signals
    use_z = payment_margin > 0
    y_off, w_off, z_off, nvar = _layout(model, per_profile, use_z)
    phi_idx = np.arange(nA).reshape(A)
    y_local = np.arange(nA * T * model.n_signal_profiles).reshape(*A, T, *S)
    rows: list[np.ndarray] = []  # sparse (COO) blocks, concatenated at the end
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    row0 = 0
    ir_agents = _ir_agents(model, require_ir)
    margin_total = float(eps) + float(margin)
    ic_rows = _per_profile_rows if per_profile else _pooled_rows
    for i in range(n):
        Ji = _agent_view(model.joint, i, n)  # (Ai, Am, T, Si, Sm)
        Yi = _agent_view(y_local, i, n) + y_off[i]
        Phi_i = np.moveaxis(phi_idx, i, 0).reshape(A[i], -1)  # [a, am]
        z0 = z_off + i * nA if use_z else None
        row0 = ic_rows(
            rows, cols, vals, row0, Ji, Yi, Phi_i, model.costs[i], w_off[i], margin_total, payment_margin, z0
        )
        if i in ir_agents:
            row0 = _ir_rows(rows, cols, vals, row0, Ji, Yi, Phi_i, model.costs[i])
    n_ic = row0
    if cap is not None:
        row0 = _payment_rows(rows, cols, vals, row0, model, check_float(cap, "cap", lo=0.0), None)
    if use_z:
        row0 = _payment_rows(rows, cols, vals, row0, model, 0.0, z_off)
    A_ub = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(row0, nvar))
    A_eq = sp.csr_matrix((np.ones(nA), (np.zeros(nA, dtype=np.int64), np.arange(nA))), shape=(1, nvar))
    c, bounds = _objective_and_bounds(model, nvar, y_off, z_off)
    return LinearProgram(
        c, A_ub, np.zeros(row0), A_eq, np.ones(1), bounds, nA, y_off, w_off, n_ic, time.perf_counter() - t0
    )


def _check_model(model: Any, name: str = "model") -> InformationModel:
    if not isinstance(model, InformationModel):
        raise ParameterTypeError(name, f"{name}: expected an InformationModel, got {type(model).__name__}")
    return model


def _grid_points(model: InformationModel, grid: int) -> None:
    """Size guard of the uncorrelated search: ``prod_i (grid + 1)^{A_i}`` grid tuples are enumerated."""
    count = 1
    for A in model.n_actions:
        count *= (grid + 1) ** min(A, 8) if count < 2**64 else 1
    check_size("grid", count, what="the enumerated product recommendations")


def _ir_rows(rows, cols, vals, row0, Ji, Yi, Phi_i, c_i) -> int:
    """(IR) rows a_i: -sum_{a_-i} sum J_a y_i + c_i(a_i) P(a_i) <= 0."""
    Ai = Ji.shape[0]
    Jflat, Yflat = Ji.reshape(Ai, -1), Yi.reshape(Ai, -1)
    irow = row0 + np.arange(Ai)
    nz = Jflat != 0
    rows.append(np.broadcast_to(irow[:, None], Jflat.shape)[nz])
    cols.append(Yflat[nz])
    vals.append(-Jflat[nz])
    rows.append(np.broadcast_to(irow[:, None], Phi_i.shape).ravel())
    cols.append(Phi_i.ravel())
    vals.append(np.broadcast_to(c_i[:, None], Phi_i.shape).ravel())
    return row0 + Ai


def _per_profile_rows(rows, cols, vals, row0, Ji, Yi, Phi_i, c_i, w0, margin_total, payment_margin, z0) -> int:
    """(W) rows (a, am, b, s_i, r) and (O) rows (a, am, b) conditioned on the whole profile (a, am)."""
    Ai, Am, T, Si, Sm = Ji.shape
    M1 = T * Sm
    coefP = Ji.transpose(1, 0, 3, 2, 4).reshape(Am, Ai, Si, M1)  # [am, b, si, M1]
    colP = Yi.transpose(1, 0, 3, 2, 4).reshape(Am, Ai, Si, M1)  # [am, a, r, M1]
    shape = (Ai, Am, Ai, Si, Si, M1)
    d = np.broadcast_to(coefP[None, :, :, :, None, :], shape)
    cc = np.broadcast_to(colP.transpose(1, 0, 2, 3)[:, :, None, None, :, :], shape)
    nrow = Ai * Am * Ai * Si * Si
    rr = np.broadcast_to((row0 + np.arange(nrow)).reshape(*shape[:5], 1), shape)
    nz = d != 0
    rows.append(rr[nz])
    cols.append(cc[nz])
    vals.append(d[nz])
    wcol = w0 + np.arange(Ai * Am * Ai * Si).reshape(Ai, Am, Ai, Si)
    rows.append(row0 + np.arange(nrow))
    cols.append(np.broadcast_to(wcol[..., None], shape[:5]).ravel())
    vals.append(np.full(nrow, -1.0))
    row0 += nrow
    # (O) rows (a, am, b)
    orow = (row0 + np.arange(Ai * Am * Ai)).reshape(Ai, Am, Ai)
    Jg = Ji.reshape(Ai, Am, T, Si * Sm).transpose(0, 1, 2, 3).reshape(Ai, Am, -1)  # [a, am, K1]
    Yg = Yi.reshape(Ai, Am, -1)
    K1 = Jg.shape[2]
    dd = np.broadcast_to(-Jg[:, :, None, :], (Ai, Am, Ai, K1))
    nz = dd != 0
    rows.append(np.broadcast_to(orow[..., None], dd.shape)[nz])
    cols.append(np.broadcast_to(Yg[:, :, None, :], dd.shape)[nz])
    vals.append(dd[nz])
    rows.append(np.broadcast_to(orow[..., None], (Ai, Am, Ai, Si)).ravel())
    cols.append(wcol.ravel())
    vals.append(np.ones(wcol.size))
    pc = (c_i[:, None] - c_i[None, :]) + margin_total * (1 - np.eye(Ai))  # [a, b]
    rows.append(orow.ravel())
    cols.append(np.broadcast_to(Phi_i[:, :, None], (Ai, Am, Ai)).ravel())
    vals.append(np.broadcast_to(pc[:, None, :], (Ai, Am, Ai)).ravel())
    if z0 is not None:
        off = ~np.eye(Ai, dtype=bool)[:, None, :].repeat(Am, axis=1)  # b != a
        rows.append(orow[off])
        cols.append(np.broadcast_to((z0 + Phi_i)[:, :, None], (Ai, Am, Ai))[off])
        vals.append(np.full(int(off.sum()), float(payment_margin)))
    return row0 + Ai * Am * Ai


def _highs(c, A_ub, b_ub, bounds, A_eq=None, b_eq=None):
    """``linprog`` with HiGHS (minimise ``c @ x``); returns ``(result, seconds)``."""
    t0 = time.perf_counter()
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
    return res, time.perf_counter() - t0


def _solve(lp: LinearProgram, c=None, A_ub=None, b_ub=None, bounds=None):
    """Solve ``lp``, with any of its objective, inequality rows or bounds replaced; ``(result, seconds)``."""
    return _highs(
        lp.c if c is None else c,
        lp.A_ub if A_ub is None else A_ub,
        lp.b_ub if b_ub is None else b_ub,
        lp.bounds if bounds is None else bounds,
        lp.A_eq,
        lp.b_eq,
    )


def _recover(model: InformationModel, x: np.ndarray, tol: float = PHI_TOL):
    n, nA, T, nS = model.n_agents, model.n_profiles, model.n_states, model.n_signal_profiles
    phi = np.clip(x[:nA], 0.0, None)
    phi = phi / phi.sum()
    y = np.clip(x[nA : nA + n * nA * T * nS], 0.0, None).reshape(n, nA, T, nS)
    live = phi > tol
    gamma = np.where(live[None, :, None, None], y / np.where(live, phi, 1.0)[None, :, None, None], 0.0)
    virtual = float(np.sum(model.joint_flat[None, ~live] * y[:, ~live]))
    return phi.reshape(model.n_actions), gamma.reshape(model.payments_shape()), virtual


def optimal_mechanism(
    model: InformationModel,
    cap: float | None = None,
    *,
    eps: float = 0.0,
    restriction: str = "none",
    require_ir: bool | None = None,
    margin: float = 0.0,
    payment_margin: float = 0.0,
    ic_mode: str = "pooled",
    payment_scope: str = "full_profile",
    grid: int = 4,
    uncorrelated_payments: str = "profile_free",
    verify: bool = True,
    tol: float = PHI_TOL,
    attain: bool = True,
) -> InformationMechanism:
    """Optimal IC mechanism of ``model`` (the LP of the module docstring), solved with HiGHS.

    ``cap``: payment cap B. Uncapped (``None``), the LP's value can be a supremum that no mechanism
    attains (the solver then puts "virtual" payments on never-recommended profiles, and those payments
    are not a mechanism). With ``attain=True`` (default) such a solution is never returned: the LP is
    re-solved with caps ``B_0 4^k`` (``B_0`` = twice the largest real payment, at least 1), dropping
    profiles recommended with probability below ``1e-6`` when the solver's tolerance leaves a conditional
    IC violation, and the verified incentive-compatible mechanism of highest value is returned. If it
    reaches the LP value (within ``1e-9 (1 + |value|)``) the value is attained and ``status`` is
    ``"optimal"``; otherwise the value is only a supremum and the result is an attained
    epsilon-optimal mechanism: ``status == "epsilon_optimal"``, ``info["supremum"]`` the LP value and
    ``info["epsilon"]`` the gap ``supremum - value``. With ``verify=False`` a raw solution without
    virtual payments is returned unchecked (the IC re-solve needs the checker). ``attain=False`` returns the raw LP solution
    (flagged ``attained=False`` with a warning when payments are virtual). ``eps``: epsilon-strict obedience
    (each deviation b_i != a_i loses at least eps conditional on the recommendation).
    ``restriction``: ``"none"`` (correlated, the full LP), ``"deterministic"`` (best single profile),
    or ``"uncorrelated"`` (product recommendations on a ``grid``, payments independent of the
    recommended profile, or of the others' recommendations with ``uncorrelated_payments="own_rec"``).
    ``margin`` / ``payment_margin``: robustness margins on obedience rows (see :func:`build_lp`).
    ``ic_mode="per_profile"``: IC conditional on the whole recommended profile (can only lower the
    value). ``payment_scope="own_report"``: gamma_i(a, r, theta) may depend on the recommended
    profile and agent i's own report only, not on the others' reports.
    Returns an :class:`InformationMechanism` with ``value`` (principal's expected utility),
    ``recommendation``, ``payments``, ``status`` ("optimal", "epsilon_optimal" or "infeasible") and ``ic`` (the
    independent checker's largest violation, when ``verify``).
    """
    _check_model(model)
    check_choice(restriction, "restriction", ("none", "deterministic", "uncorrelated"))
    eps = check_float(eps, "eps", lo=0.0)
    margin = check_float(margin, "margin", lo=0.0)
    payment_margin = check_float(payment_margin, "payment_margin", lo=0.0)
    check_choice(ic_mode, "ic_mode", ("pooled", "per_profile"))
    check_choice(payment_scope, "payment_scope", ("full_profile", "own_report"))
    check_choice(uncorrelated_payments, "uncorrelated_payments", ("profile_free", "own_rec"))
    grid = check_int(grid, "grid", lo=1)
    verify = check_bool(verify, "verify")
    attain = check_bool(attain, "attain")
    tol = check_float(tol, "tol", lo=0.0)
    if cap is not None:
        cap = check_float(cap, "cap", lo=0.0)
    if require_ir is not None:
        check_bool(require_ir, "require_ir")
    if restriction == "deterministic":
        return best_deterministic(model, cap, eps=eps, require_ir=require_ir, verify=verify)
    if restriction == "uncorrelated":
        return uncorrelated_mechanism(
            model, cap, eps=eps, grid=grid, payments=uncorrelated_payments, require_ir=require_ir, verify=verify
        )
    build = dict(eps=eps, require_ir=require_ir, margin=margin, payment_margin=payment_margin, ic_mode=ic_mode)
    mech = _solve_correlated(model, cap, build, payment_scope == "own_report", attain, verify, tol)
    mech.info.update(ic_mode=ic_mode, payment_scope=payment_scope)
    return mech


def _solve_correlated(
    model: InformationModel,
    cap: float | None,
    build: dict[str, Any],
    own: bool,
    attain: bool,
    verify: bool,
    tol: float,
) -> InformationMechanism:
    """The full (correlated) LP of :func:`optimal_mechanism` on checked arguments; ``build``: the
    keyword arguments of :func:`build_lp` (``eps``, ``require_ir``, margins, ``ic_mode``), ``own``:
    payments depend on the agent's own report only. Uncapped with ``attain``: re-solved under
    growing caps when the raw solution is not an attained, verified mechanism."""
    lp = build_lp(model, cap, **build)
    res, t_solve = _solve_own_report(model, lp) if own else _solve(lp)
    if cap is None and attain and res.status == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            raw = _finish(model, lp, res, t_solve, cap, build["eps"], verify, tol)
        mech = raw if raw.attained and (not verify or raw.ic <= IC_TOL) else None
        if mech is None:
            mech = _attain(raw, _capped_solver(model, own, tol, dict(build)))
    else:
        mech = _finish(model, lp, res, t_solve, cap, build["eps"], verify, tol)
    return mech


def _capped_solver(model: InformationModel, own: bool, tol: float, build: dict):
    """``solve(B, dead)``: the verified mechanism of the LP with cap ``B`` and phi = 0 on the mask ``dead``."""

    def solve(B: float, dead: np.ndarray | None) -> InformationMechanism:
        lp = build_lp(model, B, **build)
        if dead is not None:
            lp.bounds[: lp.n_phi][dead] = 0.0
        res, t = _solve_own_report(model, lp) if own else _solve(lp)
        return _finish(model, lp, res, t, B, build["eps"], True, tol)

    return solve


def _attain(raw: InformationMechanism, solve) -> InformationMechanism:
    """The verified IC mechanism of highest value over a ladder of caps (see :func:`optimal_mechanism`).

    ``solve(B, dead)`` solves the LP with cap ``B`` and recommendation probability forced to 0 on the
    boolean profile mask ``dead``. Returns the first candidate reaching ``raw.value`` (attained), else
    the best verified one flagged ``status="epsilon_optimal"``.
    """
    sup = raw.value  # raw.ic may be None (verify=False): the ladder's candidates are always verified
    live = np.asarray(raw.recommendation).ravel() > PHI_TOL
    pay = np.asarray(raw.payments)
    real = float(pay.reshape(pay.shape[0], live.size, -1)[:, live].max(initial=0.0))
    B, best = max(1.0, 2.0 * real), None
    for _ in range(ATTAIN_CAPS):
        with warnings.catch_warnings():  # capped solutions with leftover virtual mass are skipped below
            warnings.simplefilter("ignore", RuntimeWarning)
            cand = solve(B, None)
            if cand.status == "optimal" and cand.ic > IC_TOL:  # solver tolerance on tiny probabilities
                cand = solve(B, np.asarray(cand.recommendation).ravel() < DEAD_PHI)
        if cand.status == "optimal" and cand.attained and cand.ic <= IC_TOL:
            if best is None or cand.value > best.value:
                best = cand
            if sup - cand.value <= 1e-9 * (1.0 + abs(sup)):
                break
        B *= 4.0
    if best is None:  # pragma: no cover - the smallest cap is always feasible for these LPs
        raise RuntimeError("optimal_mechanism: no incentive-compatible capped solution verified")
    gap = max(0.0, sup - best.value)
    best.info.update(supremum=sup, epsilon=gap, attain_cap=best.cap)
    best.cap = None
    if gap > 1e-9 * (1.0 + abs(sup)):
        best.status = "epsilon_optimal"
    return best


def _solve_own_report(model: InformationModel, lp: LinearProgram):
    """Solve with y_i(a, theta, s) = g_i(a, theta, s_i): agent i's payment ignores the others' reports."""
    n, nA, T, nS = model.n_agents, model.n_profiles, model.n_states, model.n_signal_profiles
    ny = nA * T * nS
    own = np.indices(model.n_signals).reshape(n, -1)  # own[i, s] = s_i
    rows, cols = [np.arange(nA)], [np.arange(nA)]
    off = nA
    r = np.arange(ny)
    a_t = r // nS  # (a, theta) cell
    s = r % nS
    for i in range(n):
        Si = model.n_signals[i]
        rows.append(nA + i * ny + r)
        cols.append(off + a_t * Si + own[i][s])
        off += nA * T * Si
    nw = lp.n_variables - nA - n * ny
    rows.append(nA + n * ny + np.arange(nw))
    cols.append(off + np.arange(nw))
    nz = off + nw
    Tm = sp.csr_matrix(
        (np.ones(sum(len(x) for x in rows)), (np.concatenate(rows), np.concatenate(cols))), shape=(lp.n_variables, nz)
    )
    bnds = np.zeros((nz, 2))
    bnds[:, 1] = np.inf
    bnds[:nA] = lp.bounds[:nA]
    bnds[off:] = lp.bounds[nA + n * ny :]
    res, t = _highs(Tm.T @ lp.c, (lp.A_ub @ Tm).tocsr(), lp.b_ub, bnds, (lp.A_eq @ Tm).tocsr(), lp.b_eq)
    if res.status == 0:
        res.x = Tm @ res.x
    return res, t


def _finish(model, lp, res, t_solve, cap, eps, verify, tol, status_extra: dict | None = None):
    """The :class:`InformationMechanism` of a solver result: NaN tables when infeasible (status 2),
    else phi and gamma recovered from x (warning when payments are virtual), IC-checked with ``verify``."""
    common = dict(
        cap=cap,
        eps=eps,
        n_variables=lp.n_variables,
        n_constraints=lp.n_constraints,
        build_time=lp.build_time,
        solve_time=t_solve,
    )
    if res.status == 2:
        return InformationMechanism(
            np.full(model.n_actions, np.nan),
            np.full(model.payments_shape(), np.nan),
            value=float("nan"),
            status="infeasible",
            attained=False,
            **common,
        )
    if res.status != 0:
        raise RuntimeError(f"optimal_mechanism: HiGHS failed with status {res.status}: {res.message}")
    phi, gamma, virtual = _recover(model, res.x, tol)
    attained = virtual <= 1e-7
    if not attained:
        warnings.warn(
            f"optimal_mechanism: virtual payments of mass {virtual:.3g} on never-recommended profiles; "
            "the LP value is not attained by the recovered mechanism (set a payment cap)",
            RuntimeWarning,
            stacklevel=3,
        )
    mech = InformationMechanism(
        phi,
        gamma,
        None,
        value=float(-res.fun),
        status="optimal",
        attained=attained,
        virtual_mass=virtual,
        info=dict(status_extra or {}),
        **common,
    )
    if verify:
        from coopsim.mechanisms.information.ic import ic_violation

        mech.ic = ic_violation(model, mech)
    return mech


def best_deterministic(
    model: InformationModel,
    cap: float | None = None,
    *,
    eps: float = 0.0,
    require_ir: bool | None = None,
    verify: bool = True,
) -> InformationMechanism:
    """Best mechanism recommending one fixed profile (phi = delta_a, no payments elsewhere), over all a."""
    verify = check_bool(verify, "verify")
    lp = build_lp(model, cap, eps=eps, require_ir=require_ir)
    nA, n, T, nS = model.n_profiles, model.n_agents, model.n_states, model.n_signal_profiles
    best, best_res, total = 0, None, 0.0
    for a in range(nA):
        bounds = lp.bounds.copy()
        bounds[:nA] = 0.0
        bounds[a] = 1.0
        yb = bounds[nA : nA + n * nA * T * nS].reshape(n, nA, T * nS, 2)
        mask = np.ones(nA, dtype=bool)
        mask[a] = False
        yb[:, mask, :, 1] = 0.0
        res, t = _solve(lp, bounds=bounds)
        total += t
        if res.status == 0 and (best_res is None or -res.fun > -best_res.fun + 1e-12):
            best, best_res = a, res
    if best_res is None:
        res.status = 2
        return _finish(model, lp, res, total, cap, eps, verify, PHI_TOL)
    mech = _finish(
        model,
        lp,
        best_res,
        total,
        cap,
        eps,
        verify,
        PHI_TOL,
        {"profile": tuple(int(v) for v in np.unravel_index(best, model.n_actions))},
    )
    return mech


def _simplex_grid(k: int, grid: int) -> np.ndarray:
    pts = [c for c in itertools.product(range(grid + 1), repeat=k) if sum(c) == grid]
    return np.array(pts, dtype=np.float64) / grid


@dataclass
class _Result:
    """The fields of a ``linprog`` result that :func:`_finish` reads (status 0: solved, 2: infeasible)."""

    status: int
    fun: float = float("nan")
    x: np.ndarray | None = None


def _product_phi(combo: tuple[np.ndarray, ...]) -> np.ndarray:
    """The product recommendation phi(a) = prod_i phi_i(a_i), flattened to ``(|A|,)``."""
    phi = combo[0]
    for g in combo[1:]:
        phi = np.multiply.outer(phi, g)
    return phi.ravel()


def _fixed_phi_map(
    model: InformationModel, phi: np.ndarray, own_rec: bool, n_variables: int
) -> tuple[sp.csr_matrix, int]:
    """The substitution x = Tm z + x0 of the LP for a fixed product ``phi``: z = [g, w] with
    y_i(a, theta, s) = phi(a) g_i(., theta, s), where g_i is indexed by nothing (profile-free) or by
    a_i (``own_rec``); w passes through. Returns ``(Tm (n_variables, n_g + n_w), n_g)``."""
    n, nA, T, nS = model.n_agents, model.n_profiles, model.n_states, model.n_signal_profiles
    ny = nA * T * nS
    nw = n_variables - nA - n * ny
    own = np.indices(model.n_actions).reshape(n, -1)  # own[i, a] = a_i
    r = np.arange(ny)
    prof = r // (T * nS)
    cell = r % (T * nS)
    rows, cols, vals = [], [], []
    g0 = 0
    for i in range(n):
        Gi = model.n_actions[i] if own_rec else 1
        gi = own[i] if own_rec else np.zeros(nA, dtype=np.int64)
        rows.append(nA + i * ny + r)
        cols.append(g0 + gi[prof] * T * nS + cell)
        vals.append(phi[prof])
        g0 += Gi * T * nS
    rows.append(nA + n * ny + np.arange(nw))
    cols.append(g0 + np.arange(nw))
    vals.append(np.ones(nw))
    Tm = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n_variables, g0 + nw)
    )
    return Tm, g0


def _solve_fixed_phi(
    lp: LinearProgram, A_ub: sp.csc_matrix, Tm: sp.csr_matrix, n_g: int, phi: np.ndarray, cap: float | None
) -> tuple[Any, np.ndarray, float]:
    """Solve the LP in z = [g, w] for a fixed phi: g in [0, cap] (or >= 0), w free. Returns the
    ``linprog`` result, x0 (phi in the first |A| entries) and the solve time."""
    x0 = np.zeros(lp.n_variables)
    x0[: lp.n_phi] = phi
    nzw = Tm.shape[1]
    bnds = np.zeros((nzw, 2))
    bnds[:n_g, 1] = np.inf if cap is None else float(cap)
    bnds[n_g:, 0], bnds[n_g:, 1] = -np.inf, np.inf
    res, t = _highs(Tm.T @ lp.c, (A_ub @ Tm).tocsr(), lp.b_ub - A_ub @ x0, bnds)
    return res, x0, t


def uncorrelated_mechanism(
    model: InformationModel,
    cap: float | None = None,
    *,
    eps: float = 0.0,
    grid: int = 4,
    payments: str = "profile_free",
    require_ir: bool | None = None,
    verify: bool = True,
) -> InformationMechanism:
    """Best uncorrelated mechanism over a grid of product recommendations phi = (x)_i phi_i.

    For a fixed product phi the problem is an LP in gamma (substituting y_i(a, .) = phi(a) g_i(.)):
    ``payments="profile_free"``: gamma_i(r, theta); ``"own_rec"``: gamma_i(a_i, r, theta). Each
    phi_i ranges over the points of the simplex with denominator ``grid`` (small instances only).
    """
    check_choice(payments, "payments", ("profile_free", "own_rec"))
    grid = check_int(grid, "grid", lo=1)
    verify = check_bool(verify, "verify")
    _grid_points(_check_model(model), grid)
    lp = build_lp(model, cap, eps=eps, require_ir=require_ir)
    A_ub = lp.A_ub.tocsc()
    best = None
    total = 0.0
    for combo in itertools.product(*[_simplex_grid(Ai, grid) for Ai in model.n_actions]):
        phi = _product_phi(combo)
        Tm, n_g = _fixed_phi_map(model, phi, payments == "own_rec", lp.n_variables)
        res, x0, t = _solve_fixed_phi(lp, A_ub, Tm, n_g, phi, cap)
        total += t
        if res.status != 0:
            continue
        val = -(res.fun + lp.c @ x0)
        if best is None or val > best[0] + 1e-12:
            best = (val, Tm @ res.x + x0, phi)
    if best is None:  # infeasible everywhere on the grid
        return _finish(model, lp, _Result(2), total, cap, eps, verify, PHI_TOL)
    extra = {"restriction": "uncorrelated", "payments": payments, "grid": grid}
    return _finish(model, lp, _Result(0, -best[0], best[1]), total, cap, eps, verify, PHI_TOL, extra)
