"""Independent incentive-compatibility checker for information-acquisition mechanisms.

For agent i recommended a_i (with P(a_i) = sum_{a_-i} phi(a_i, a_-i) > 0), every effort b_i and every
reporting map r = phi_i(s_i), the deviation value pooled over the others' recommendations is

    Dev(a_i, b_i, phi_i) = sum_{a_-i} phi(a) [ sum_{theta,s} mu(theta) q_{(b_i,a_-i)}(s|theta)
                                               gamma_i(a, (phi_i(s_i), s_-i), theta) - c_i(b_i) ]

and obedience + truth is Dev(a_i, a_i, id). The reported violation is the largest
(Dev(a_i, b_i, phi_i) - Dev(a_i, a_i, id)) / P(a_i): the agent's gain conditional on its
recommendation. ``method="enumerate"`` walks all |S_i|^|S_i| reporting maps explicitly;
``"decomposed"`` picks the best report per signal (exactly equivalent, polynomial).
``mode="per_profile"`` conditions on the whole recommended profile instead (a stricter notion).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
from coopsim.mechanisms.information.model import InformationMechanism, InformationModel, check_mechanism

from coopsim.core.validation import check_choice, check_float

__all__ = ["ic_violation", "ic_report", "ICReport", "best_responses", "deviation_table"]


@dataclass(frozen=True)
class ICReport:
    """Largest IC violation and a witness deviation.

    ``violation``: max conditional gain of any joint (effort, reporting map) deviation (<= 0 means
    IC; 0 when nothing can be gained). ``witness``: (agent, recommended a_i [or profile],
    effort b_i, reporting map as a tuple) of the worst deviation. ``obedience``: the largest gain
    of pure shirking (b_i != a_i) with truthful reports (``-inf`` if no agent has a second
    action); ``truthfulness``: of pure lying with obedient effort (0 = the identity map).
    """

    violation: float
    witness: tuple
    obedience: float
    truthfulness: float
    mode: str

    def ok(self, tol: float = 1e-7) -> bool:
        return self.violation <= tol


def deviation_table(
    model: InformationModel, mechanism: InformationMechanism, agent: int, mode: str = "pooled"
) -> tuple[np.ndarray, np.ndarray]:
    """``E[a, b, s_i, r]`` (pooled) or ``E[a, am, b, s_i, r]`` (per profile) and P(a) / phi(a).

    E = sum_{a_-i, s_-i, theta} phi(a) mu(theta) q_{(b,a_-i)}((s_i, s_-i)|theta) gamma_i(a, (r, s_-i), theta):
    the expected payment of recommended-a, effort-b agent i that sees s_i and reports r.
    """
    from coopsim.mechanisms.information.lp import _agent_view

    n = model.n_agents
    phi = np.asarray(mechanism.recommendation, dtype=np.float64)
    pay = np.asarray(mechanism.payments, dtype=np.float64)[agent]
    Ji = _agent_view(model.joint, agent, n)  # [b, am, t, si, sm]
    Gi = _agent_view(pay, agent, n)  # [a, am, t, r, sm]
    Phi = np.moveaxis(phi, agent, 0).reshape(model.n_actions[agent], -1)  # [a, am]
    if mode == "pooled":
        E = np.einsum("am,bmtsk,amtrk->absr", Phi, Ji, Gi, optimize=True)
        return E, Phi.sum(axis=1)
    E = np.einsum("am,bmtsk,amtrk->ambsr", Phi, Ji, Gi, optimize=True)
    return E, Phi


def _maps(S: int) -> np.ndarray:
    return np.array(list(itertools.product(range(S), repeat=S)), dtype=np.int64).reshape(-1, S)


def ic_report(
    model: InformationModel,
    mechanism: InformationMechanism,
    mode: str = "pooled",
    method: str = "auto",
    tol: float = 1e-9,
) -> ICReport:
    """Enumerate every joint shirk-and-lie deviation of every agent; see the module docstring.

    Recommendations with probability <= ``tol`` are skipped (they never happen).
    """
    check_mechanism(model, mechanism)
    check_choice(mode, "mode", ("pooled", "per_profile"))
    check_choice(method, "method", ("auto", "enumerate", "decomposed"))
    tol = check_float(tol, "tol", lo=0.0)
    worst: tuple[float, tuple[Any, ...]] = (-np.inf, ())
    obey_worst, truth_worst = -np.inf, -np.inf
    for i in range(model.n_agents):
        Ai, Si = model.n_actions[i], model.n_signals[i]
        E, P = deviation_table(model, mechanism, i, mode)
        c = model.costs[i]
        if mode == "per_profile":  # fold (a, am) into one "information" axis
            Am = E.shape[1]
            E = E.reshape(Ai * Am, Ai, Si, Si)
            P = P.reshape(-1)
            rec: list[Any] = [(a, m) for a in range(Ai) for m in range(Am)]
            own = np.repeat(np.arange(Ai), Am)
        else:
            rec = list(range(Ai))
            own = np.arange(Ai)
        live = P > tol
        if not live.any():
            continue
        Ps = np.where(live, P, 1.0)
        sig = np.arange(Si)
        obey = E[np.arange(len(own)), own][:, sig, sig].sum(-1) - c[own] * P  # [k]
        use_enum = method == "enumerate" or (method == "auto" and Si**Si <= 4096)
        if use_enum:
            maps = _maps(Si)  # (K, Si)
            dev = E[:, :, sig[None, :], maps].sum(-1)  # [k, b, K]
        else:
            best_r = E.argmax(axis=-1)  # [k, b, si]
            dev = E.max(axis=-1).sum(-1)[..., None]  # [k, b, 1]
            maps = None
        dev = dev - c[None, :, None] * P[:, None, None]
        gain = (dev - obey[:, None, None]) / Ps[:, None, None]
        gain[~live] = -np.inf
        k, b, m = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if gain[k, b, m] > worst[0]:
            rmap = tuple(int(v) for v in (maps[m] if maps is not None else best_r[k, b]))
            worst = (float(gain[k, b, m]), (i, rec[k], int(b), rmap))
        # obedience only: truthful report, any effort
        truth_dev = E[:, :, sig, sig].sum(-1) - c[None, :] * P[:, None]
        og = (truth_dev - obey[:, None]) / Ps[:, None]
        og[np.arange(len(own)), own] = -np.inf  # b_i != a_i only
        obey_worst = max(obey_worst, float(og[live].max()))
        # truthfulness only: obedient effort, best report per signal
        Eo = E[np.arange(len(own)), own]  # [k, si, r]
        tg = (Eo.max(-1).sum(-1) - c[own] * P - obey) / Ps
        truth_worst = max(truth_worst, float(tg[live].max()))
    if worst[0] == -np.inf:
        return ICReport(0.0, (), 0.0, 0.0, mode)
    return ICReport(worst[0], worst[1], obey_worst, truth_worst, mode)


def ic_violation(
    model: InformationModel, mechanism: InformationMechanism, mode: str = "pooled", method: str = "auto"
) -> float:
    """Largest gain (conditional on the recommendation) of any joint shirk-and-lie deviation.

    ``<= 1e-7`` means the mechanism is incentive compatible; see :func:`ic_report` for a witness.
    """
    return ic_report(model, mechanism, mode=mode, method=method).violation


def best_responses(model: InformationModel, mechanism: InformationMechanism, tol: float = 1e-7) -> dict:
    """Each agent's best (effort, reporting map) per recommendation, others obedient and truthful.

    Ties within ``tol`` of obedience + truth are broken in favour of obeying (``tie_break="obey"``).
    Returns ``{"effort": [ (A_i,) ], "report": [ (A_i, S_i) ], "gain": [ (A_i,) ]}`` usable as
    ``strategies`` in :func:`principal_utility`.
    """
    check_mechanism(model, mechanism)
    tol = check_float(tol, "tol", lo=0.0)
    effort, report, gains = [], [], []
    for i in range(model.n_agents):
        Ai, Si = model.n_actions[i], model.n_signals[i]
        E, P = deviation_table(model, mechanism, i)
        c = model.costs[i]
        sig = np.arange(Si)
        obey = E[np.arange(Ai), np.arange(Ai)][:, sig, sig].sum(-1) - c * P
        # best report per (a, b, s_i), preferring the truthful report on ties
        Eb = E.copy()
        Eb[:, :, sig, sig] += 1e-12
        best_r = Eb.argmax(-1)  # [a, b, si]
        dev = np.take_along_axis(E, best_r[..., None], -1)[..., 0].sum(-1) - c[None, :] * P[:, None]
        Ps = np.where(P > 0, P, 1.0)
        gain = (dev - obey[:, None]) / Ps[:, None]
        b = gain.argmax(1)
        g = gain[np.arange(Ai), b]
        dev_ok = (g > tol) & (P > 0)
        eff = np.where(dev_ok, b, np.arange(Ai))
        rep = np.where(dev_ok[:, None], best_r[np.arange(Ai), b], sig[None, :])
        effort.append(eff)
        report.append(rep)
        gains.append(np.where(dev_ok, g, 0.0))
    return {"effort": effort, "report": report, "gain": gains}
