"""Information-acquisition mechanisms as registered plug-ins: what the two-phase environment runs.

A plug-in samples a recommended effort profile, maps a recommended profile and reported signals to
a decision, and pays the agents — all on batched arrays. Every plug-in is a registered mechanism of
the ``information`` family, built from a model::

    plugin = mechanisms.get("information_lp", model=instance_b())        # the optimal IC mechanism
    plugin = mechanisms.get("information_scoring", model=m, rule="log")   # a scaled proper scoring rule

Registered names:

- ``information_lp``: the optimal incentive-compatible mechanism of the model — recommendation
  phi, decision rule and limited-liability payments from the linear program of Cacciamani,
  Castiglioni & Gatti, *Online Information Acquisition: Hiring Multiple Agents* (arXiv:2307.06210),
  or the tables of a given :class:`InformationMechanism`;
- ``information_scoring``: a fixed recommended profile, each agent paid ``bound`` times a proper
  scoring rule of the posterior its report induces, ``S(P(theta | a, s_i), theta)``;
- ``information_decision``: the same with the decision-induced rule ``u(d*(post), theta)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from coopsim.mechanisms.base import Mechanism
from coopsim.mechanisms.information.lp import optimal_mechanism
from coopsim.mechanisms.information.model import InformationMechanism, InformationModel, check_model
from coopsim.mechanisms.registry import register, registry
from coopsim.mechanisms.scoring.rules import DecisionRule, ScoringRule

from coopsim.core.validation import ParameterError, ParameterTypeError, as_array, check_float

__all__ = [
    "MechanismPlugin",
    "TablePlugin",
    "OptimalPlugin",
    "ScoringPlugin",
    "DecisionPlugin",
    "lp_plugin",
    "scoring_plugin",
    "decision_plugin",
]


class MechanismPlugin(Mechanism):
    """What the env needs from a mechanism: ``recommend``, ``decide`` and ``pay`` on batched arrays."""

    family: ClassVar[str] = "information"
    name = "mechanism"

    def recommend(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """Flat recommended profile indices ``(batch,)``."""
        raise NotImplementedError

    def decide(self, profile: np.ndarray, report: np.ndarray) -> np.ndarray:
        """Decision indices ``(B,)`` for flat recommended profiles and flat reported signal profiles."""
        raise NotImplementedError

    def pay(self, profile: np.ndarray, reports: np.ndarray, report: np.ndarray, state: np.ndarray) -> np.ndarray:
        """Payments ``(B, N)`` given flat profiles, per-agent reports ``(B, N)``, flat reports and states."""
        raise NotImplementedError


class TablePlugin(MechanismPlugin):
    """A mechanism given by tables: phi ``(n_profiles,)``, decisions ``(n_profiles, n_signal_profiles)``
    and payments ``(n, n_profiles, n_states, n_signal_profiles)`` (gamma_i(a, s, theta))."""

    def __init__(
        self, model: InformationModel, phi: np.ndarray, decision: np.ndarray, payments: np.ndarray, name: str = "table"
    ) -> None:
        self.model = model = check_model(model)
        self.phi = _table(phi, "phi", (model.n_profiles,), model.n_actions, lo=0.0, hi=1.0)
        if abs(self.phi.sum() - 1.0) > 1e-7:
            raise ParameterError("phi", f"phi: expected probabilities summing to 1, got sum {self.phi.sum()!r}")
        self._cdf = np.cumsum(self.phi)
        self.decision = _table(
            decision,
            "decision",
            (model.n_profiles, model.n_signal_profiles),
            (*model.n_actions, *model.n_signals),
            dtype=np.int64,
            lo=0,
            hi=model.n_decisions - 1,
        )
        pay_shape = (model.n_agents, model.n_profiles, model.n_states, model.n_signal_profiles)
        self.payments = _table(payments, "payments", pay_shape, model.payments_shape(), lo=0.0)
        if not isinstance(name, str):
            raise ParameterTypeError("name", f"name: expected a string, got {name!r}")
        self.name = name

    def as_mechanism(self) -> InformationMechanism:
        """The tables as an :class:`InformationMechanism` (for the IC checker and utilities)."""
        m = self.model
        return InformationMechanism(
            self.phi.reshape(m.n_actions),
            self.payments.reshape(m.payments_shape()),
            self.decision.reshape(*m.n_actions, *m.n_signals),
        )

    def params(self) -> dict[str, Any]:
        """The model and the plug-in's name (the tables are derived from them)."""
        return {"model": self.model, "name": self.name}

    def recommend(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        idx = np.searchsorted(self._cdf, rng.random(batch) * self._cdf[-1], side="right")
        return np.minimum(idx, self.phi.size - 1)

    def decide(self, profile, report):
        return self.decision[profile, report]

    def pay(self, profile, reports, report, state):
        return self.payments[:, profile, state, report].T


def _check_model(model: Any) -> InformationModel:
    return check_model(model)


def _table(
    value: Any, name: str, flat: tuple[int, ...], full: tuple[int, ...], dtype: Any = np.float64, **bounds: Any
) -> np.ndarray:
    """A plug-in table of numbers in range, in the flat layout ``flat`` or the model's ``full`` one
    (read as ``flat``)."""
    arr = as_array(value, name, dtype=dtype, **bounds)
    if arr.shape not in (flat, full):
        raise ParameterError(name, f"{name}: expected shape {flat} or {full}, got {arr.shape}")
    return arr.reshape(flat)


def check_profile(model: InformationModel, profile: Any, name: str = "profile") -> tuple[int, ...]:
    """``profile`` as a tuple of n effort indices, ``profile[i]`` in ``[0, A_i - 1]``."""
    arr = as_array(profile, name, ndim=1, dtype=np.int64, lo=0)
    if arr.shape != (model.n_agents,):
        raise ParameterError(name, f"{name}: expected {model.n_agents} effort indices (one per agent), got {arr.shape}")
    hi = np.array(model.n_actions) - 1
    if np.any(arr > hi):
        i = int(np.argmax(arr > hi))
        raise ParameterError(name, f"{name}: expected agent {i}'s effort in [0, {hi[i]}], got {arr[i]}")
    return tuple(int(x) for x in arr)


def resolve_rule(rule: Any, rule_params: Any = None, name: str = "rule") -> ScoringRule:
    """A scoring rule from a registered name (with ``rule_params``) or a :class:`ScoringRule` instance;
    a name of another family (a facility rule, a gate) is refused naming ``name``."""
    if rule_params is not None and not isinstance(rule_params, dict):
        raise ParameterTypeError("rule_params", f"rule_params: expected a dict of options, got {rule_params!r}")
    if isinstance(rule, str):
        try:
            canonical = registry.canonical(rule)
        except (ValueError, TypeError) as err:  # the registry's message names "mechanism"
            raise ParameterError(name, f"{name}: {str(err).removeprefix('mechanism: ')}") from None
        family = getattr(registry.factory(canonical), "family", None)
        if family != "scoring":
            raise ParameterError(
                name, f"{name}: {rule!r} is a mechanism of the {family!r} family; expected a scoring rule"
            )
        try:
            base = registry.get(canonical, **(rule_params or {}))
        except (ValueError, TypeError) as err:
            raise ParameterError("rule_params", f"rule_params: {err}") from None
    else:
        base = rule
    if not isinstance(base, ScoringRule):
        raise ParameterTypeError(
            name,
            f"{name}: expected a scoring rule name or ScoringRule, got {type(base).__name__} "
            f"(family {getattr(base, 'family', None)!r})",
        )
    return base


def _posterior_payments(model: InformationModel, rule: ScoringRule, profile: tuple[int, ...]) -> np.ndarray:
    """gamma_i(a, s, theta) = rule(P(theta | a, s_i), theta) on the fixed profile (zero elsewhere)."""
    n = model.n_agents
    pay = np.zeros((n, model.n_profiles, model.n_states, model.n_signal_profiles))
    a = model.profile_index(profile)
    own = np.indices(model.n_signals).reshape(n, -1)  # own signal of each flat signal profile
    for i in range(n):
        post = model.agent_posteriors(i)[profile]  # (S_i, T)
        score = rule.score_matrix(post, validate=False)  # (S_i, T): S(post(r_i), theta)
        pay[i, a] = score[own[i]].T  # (T, nS)
    return pay


def _default_profile(model: InformationModel) -> tuple[int, ...]:
    return tuple(int(np.argmax(c)) for c in model.costs)


@register("information_lp")
class OptimalPlugin(TablePlugin):
    """The tables of an :class:`InformationMechanism`: the LP optimum of ``model`` (with payment cap
    ``cap`` and strictness margin ``eps``) when ``mechanism`` is None, else the given mechanism."""

    claims = frozenset({"incentive_compatible"})

    def __init__(
        self,
        model: InformationModel,
        mechanism: InformationMechanism | None = None,
        cap: float | None = None,
        eps: float = 0.0,
    ) -> None:
        model = _check_model(model)
        mech = optimal_mechanism(model, cap=cap, eps=eps) if mechanism is None else mechanism
        if not isinstance(mech, InformationMechanism):
            raise TypeError(f"mechanism: expected an InformationMechanism or None, got {type(mech).__name__}")
        if mech.status == "infeasible":
            raise ValueError(f"mechanism: the LP is infeasible for this model (eps={eps}); lower eps")
        mech.check(model)
        super().__init__(model, mech.recommendation, mech.decision_flat(model), mech.payments, name="lp")


@register("information_scoring")
class ScoringPlugin(TablePlugin):
    """Recommend ``profile`` (default: each agent's costliest effort) always and pay each agent
    ``bound`` times the proper scoring rule ``rule`` (a registered name or a :class:`ScoringRule`)
    of the posterior its report induces."""

    def __init__(
        self,
        model: InformationModel,
        rule: str | ScoringRule = "quadratic",
        bound: float = 1.0,
        profile: tuple[int, ...] | None = None,
        rule_params: dict | None = None,
    ) -> None:
        model = _check_model(model)
        base = resolve_rule(rule, rule_params)
        scaled = base.scaled(check_float(bound, "bound", lo=0.0, lo_open=True), model.n_states)
        profile = _default_profile(model) if profile is None else check_profile(model, profile)
        pay = _posterior_payments(model, scaled, profile)
        super().__init__(model, _point_mass(model, profile), model.decision_flat, pay, name="scoring")


@register("information_decision")
class DecisionPlugin(TablePlugin):
    """Recommend ``profile`` always and pay ``bound * u(d*(post(r_i)), theta)``: the scoring rule
    induced by the principal's own decision problem."""

    def __init__(self, model: InformationModel, bound: float = 1.0, profile: tuple[int, ...] | None = None) -> None:
        model = _check_model(model)
        scale = check_float(bound, "bound", lo=0.0, lo_open=True)
        profile = _default_profile(model) if profile is None else check_profile(model, profile)
        pay = scale * _posterior_payments(model, DecisionRule(model.utility), profile)
        super().__init__(model, _point_mass(model, profile), model.decision_flat, pay, name="decision")


def _point_mass(model: InformationModel, profile: tuple[int, ...]) -> np.ndarray:
    phi = np.zeros(model.n_profiles)
    phi[model.profile_index(profile)] = 1.0
    return phi


# function spellings kept for callers from before the plug-ins were registered mechanisms
lp_plugin = OptimalPlugin
scoring_plugin = ScoringPlugin
decision_plugin = DecisionPlugin
