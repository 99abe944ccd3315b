"""Information acquisition: a principal hires agents to learn a state, pays them for their reports.

=====================  ================================================================
What it models          A principal commits to a mechanism (effort recommendations, a decision
                        rule, non-negative payments). Each round it privately recommends an effort
                        a_i to every agent; agents choose a costly effort b_i, observe a private
                        signal s_i drawn from q_b(s | theta), report r_i; the principal decides
                        d(a, r), the state theta is revealed and agents are paid gamma_i(a, r, theta).
                        A round takes two env steps: **phase 0 (effort)**, **phase 1 (report)**.
Agents                  ``agent_0 .. agent_{n-1}`` of an :class:`InformationModel`.
Types                   the recommendation a_i (phase 0), then the own effort and signal (phase 1).
Actions                 ``Discrete(max(A_i, S_i))``: phase 0, effort = action mod A_i; phase 1,
                        report = action mod S_i (documented wrap-around, so one space serves both
                        phases).
Observations            float32 ``[is_effort_phase, is_report_phase, onehot(a_i) (max A),
                        onehot(b_i) (max A), onehot(s_i) (max S), t / horizon]`` (the effort and
                        signal blocks are zero in phase 0).
Rewards                 phase 0: ``-c_i(b_i)``; phase 1: ``gamma_i(a, r, theta)``; a round's sum is
                        the agent's utility. The principal's utility ``u(d, theta) - sum_i gamma_i``
                        is in ``info["metrics"]["principal_utility"]``.
Mechanisms              ``mechanism="lp"`` (default): the optimal IC mechanism of
                        ``coopsim.mechanisms.information.optimal_mechanism`` (``cap``, ``eps``);
                        ``"scoring"``: a scoring rule (``rule``, ``rule_params``) scaled into
                        [0, ``bound``] and applied to the posterior P(theta | a, r_i) implied by the
                        report, with a fixed recommended ``profile`` (default: every agent's most
                        costly effort); ``"decision"``: the decision-induced rule u(d*(post), theta)
                        scaled by ``bound``; or any :class:`InformationMechanism`.
Policies                ``default_actions()`` obedient and truthful; ``best_response_actions()``
                        best-responding agents (IC checker, ties obey); learners via the PettingZoo /
                        Gymnasium views or :class:`EffortReportGame` (plans) with ``coopsim.dynamics``.
Metrics (per copy,      ``principal_utility``, ``payments`` (sum over agents), ``decision_accuracy``
at phase 1)             (u(d, theta) equals the best ex-post utility), ``effort_rate`` (share of agents
                        above their cheapest effort), ``obedience_rate``, ``truthful_rate`` (r_i = s_i),
                        ``utility_agent_<i>``.
Arguments               ``model`` (an InformationModel or "A", "B", "random"; default "B"),
                        ``mechanism``, ``cap``, ``eps``, ``rule``, ``rule_params``, ``bound``,
                        ``profile``, ``model_params`` (for "random"), ``batch_size``, ``rounds``
                        (per episode), ``render_mode`` ("ansi"); views take ``max_cycles`` (env
                        steps; two per round, even) in place of ``rounds``.
Runner hook             ``simulate(params, seed_sequence, rounds, batch, record_every)`` for ``coopsim run``:
                        scripted agent policies (``POLICIES``), window means of the metrics.
References              Cacciamani, Castiglioni, Gatti, *Online Information Acquisition: Hiring
                        Multiple Agents*, arXiv:2307.06210 (ICLR 2024); Chen, Wu, Wu, Yang,
                        arXiv:2303.08613; Gneiting & Raftery, JASA 2007 (scoring rules).
=====================  ================================================================

Also here: :class:`BeliefElicitation`, a one-shot ``MechanismGame`` in which agents hold a private
belief about a binary outcome and report a probability scored by a rule (``"linear"`` S = p_w is
the improper baseline); used by the learning experiments.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from coopsim.mechanisms.information import (
    InformationMechanism,
    InformationModel,
    MechanismPlugin,
    OptimalPlugin,
    TablePlugin,
    best_responses,
    decision_plugin,
    instance_a,
    instance_b,
    lp_plugin,
    random_model,
    scoring_plugin,
)
from coopsim.mechanisms.information.ic import ic_violation  # noqa: F401  (re-exported for env users)
from coopsim.mechanisms.information.plugins import resolve_rule
from coopsim.mechanisms.registry import registry as mechanism_registry
from coopsim.mechanisms.scoring import ScoringRule

from coopsim.core.env import BatchedEnv
from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.seeding import SeedLike, seed_sequence
from coopsim.core.spaces import BoundedBox
from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_action_indices,
    check_choice,
    check_float,
    check_int,
    check_size,
)
from coopsim.dynamics.recorders.window import WindowMean
from coopsim.interop.render import RENDER_FPS, RENDER_MODES, label_agents, render_rgb
from coopsim.interop.views import env_views

__all__ = [
    "InformationModel",
    "InformationMechanism",
    "InformationAcquisitionEnv",
    "MechanismPlugin",
    "TablePlugin",
    "lp_plugin",
    "scoring_plugin",
    "decision_plugin",
    "BeliefElicitation",
    "EffortReportGame",
    "make_batched_env",
    "simulate",
    "POLICIES",
    "env",
    "raw_env",
    "parallel_env",
    "gym_env",
    "gym_vector_env",
]


#: short names of the built-in plug-ins (any registered mechanism of the information family works too)
PLUGIN_ALIASES = {"lp": "information_lp", "scoring": "information_scoring", "decision": "information_decision"}


def _resolve_plugin(
    model: InformationModel,
    mechanism: Any,
    cap: float | None,
    eps: float,
    rule: Any,
    rule_params: dict | None,
    bound: float,
    profile: tuple[int, ...] | None,
) -> MechanismPlugin:
    """The plug-in ``mechanism`` designates: an instance, an :class:`InformationMechanism`'s tables,
    or a registered information-family mechanism by name (``"lp"``, ``"scoring"``, ``"decision"``
    are short for ``information_lp``, ``information_scoring``, ``information_decision``)."""
    if isinstance(mechanism, MechanismPlugin):
        return mechanism
    if isinstance(mechanism, InformationMechanism):
        return OptimalPlugin(model, mechanism)
    if not isinstance(mechanism, str):
        raise TypeError(f"mechanism: expected a name, a MechanismPlugin or an InformationMechanism, got {mechanism!r}")
    name = mechanism_registry.canonical(PLUGIN_ALIASES.get(mechanism, mechanism))
    factory = mechanism_registry.factory(name)
    if getattr(factory, "family", None) != "information":
        raise ValueError(
            f"mechanism: {mechanism!r} belongs to the {getattr(factory, 'family', 'unknown')!r} family; this game "
            f"needs one of the information family: {sorted(PLUGIN_ALIASES)} or {information_mechanisms()}"
        )
    options = {
        "information_lp": {"cap": cap, "eps": eps},
        "information_scoring": {"rule": rule, "bound": bound, "profile": profile, "rule_params": rule_params},
        "information_decision": {"bound": bound, "profile": profile},
    }.get(name, {})
    return mechanism_registry.get(name, model=model, **options)


def information_mechanisms() -> list[str]:
    """Registered mechanisms of the information family."""
    return [
        n for n in mechanism_registry.names() if getattr(mechanism_registry.factory(n), "family", None) == "information"
    ]


def _resolve_model(model: Any, params: dict | None) -> InformationModel:
    if isinstance(model, InformationModel):
        return model
    if not isinstance(model, str):
        raise ParameterTypeError("model", f"model: expected 'A', 'B', 'random' or an InformationModel, got {model!r}")
    name = check_choice(model, "model", ("A", "B", "random"))
    if params is not None and not isinstance(params, dict):
        raise ParameterTypeError("model_params", f"model_params: expected a dict of options, got {params!r}")
    params = dict(params or {})
    factories: dict[str, Callable[..., InformationModel]] = {"A": instance_a, "B": instance_b, "random": random_model}
    factory = factories[name]
    known = set(inspect.signature(factory).parameters) - {"rng"} | ({"seed"} if name == "random" else set())
    unknown = sorted(set(params) - known)
    if unknown:
        raise ParameterError(
            "model_params", f"model_params: unknown option(s) {unknown} for model {name!r}; expected {sorted(known)}"
        )
    if name == "A":
        return instance_a(**params)
    if name == "B":
        return instance_b(**params)
    seed = params.pop("seed", 0)
    return random_model(np.random.default_rng(seed), **params)


# -------------------------------------------------------------------------------------------------
# the two-phase batched environment
# -------------------------------------------------------------------------------------------------
class InformationAcquisitionEnv(BatchedEnv):
    """Two-phase batched information-acquisition game (see the module card)."""

    metadata = {
        "render_modes": RENDER_MODES,
        "name": "information_acquisition_v0",
        "is_parallelizable": True,
        "render_fps": RENDER_FPS,
    }

    def __init__(
        self,
        model: Any = "B",
        mechanism: Any = "lp",
        batch_size: int = 1,
        rounds: int = 1,
        render_mode: str | None = None,
        cap: float | None = None,
        eps: float = 0.0,
        rule: str | ScoringRule = "quadratic",
        rule_params: dict | None = None,
        bound: float = 1.0,
        profile: tuple[int, ...] | None = None,
        model_params: dict | None = None,
    ) -> None:
        batch_size = check_int(batch_size, "batch_size", lo=1)  # the cheap checks before the plug-in's LP
        rounds = check_int(rounds, "rounds", lo=1)
        check_choice(render_mode, "render_mode", (None, *RENDER_MODES))
        self.model = _resolve_model(model, model_params)
        m = self.model
        self.plugin = _resolve_plugin(m, mechanism, cap, eps, rule, rule_params, bound, profile)
        self.n_agents = m.n_agents
        self.batch_size = batch_size
        check_size("batch_size", self.batch_size, self.n_agents, copies=16, what="the per-copy state and observations")
        self.rounds = check_int(rounds, "rounds", lo=1)
        self.horizon = 2 * self.rounds
        self.render_mode = check_choice(render_mode, "render_mode", (None, *RENDER_MODES))
        self._maxA, self._maxS = max(m.n_actions), max(m.n_signals)
        self._obs_size = 2 + 2 * self._maxA + self._maxS + 1
        self._obs_space = BoundedBox(0.0, 1.0, (self._obs_size,), np.float32)
        self._act_spaces = [gym.spaces.Discrete(max(A, S)) for A, S in zip(m.n_actions, m.n_signals)]
        self.state_space = BoundedBox(0.0, 1.0, (self.n_agents * self._obs_size + m.n_states,), np.float32)
        self._nA = np.array(m.n_actions)
        self._nS = np.array(m.n_signals)
        self._costs = np.zeros((self.n_agents, self._maxA))
        for i, c in enumerate(m.costs):
            self._costs[i, : c.size] = c
        self._min_cost = np.array([c.min() for c in m.costs])
        self._cdf_prior = np.cumsum(m.prior)
        self._cdf_q = np.cumsum(m.q_flat, axis=-1)  # (nA, T, nS)
        self._best_u = m.utility.max(axis=0)  # (T,)
        self._rng = np.random.default_rng(0)
        self._br: tuple[np.ndarray, np.ndarray] | None = None
        self._alloc()

    def _alloc(self) -> None:
        B, N = self.batch_size, self.n_agents
        self.t = np.zeros(B, dtype=np.int64)
        self.phase = np.zeros(B, dtype=np.int64)
        self.profile = np.zeros(B, dtype=np.int64)
        self.rec = np.zeros((B, N), dtype=np.int64)
        self.effort = np.zeros((B, N), dtype=np.int64)
        self.signal = np.zeros((B, N), dtype=np.int64)
        self.theta = np.zeros(B, dtype=np.int64)
        self.has_theta = np.zeros(B, dtype=bool)
        # the last finished round (rec, effort, signal, reports, payments; -1 / 0 where a copy did
        # not report), kept for render(): the next round's draw overwrites rec, effort and signal
        self._last_round: tuple[np.ndarray, ...] | None = None

    # -- spaces -------------------------------------------------------------------------------------
    def observation_space(self, agent: int) -> gym.Space:
        return self._obs_space

    def action_space(self, agent: int) -> gym.Space:
        return self._act_spaces[agent]

    # -- helpers ------------------------------------------------------------------------------------
    def _new_round(self, idx: np.ndarray) -> None:
        if idx.size == 0:
            return
        prof = self.plugin.recommend(self._rng, idx.size)
        self.profile[idx] = prof
        self.rec[idx] = np.stack(np.unravel_index(prof, self.model.n_actions), axis=1)
        self.phase[idx] = 0
        self.effort[idx] = 0
        self.signal[idx] = 0
        self.has_theta[idx] = False

    def _observe(self) -> np.ndarray:
        B, N, A = self.batch_size, self.n_agents, self._maxA
        obs = np.zeros((B, N, self._obs_size), dtype=np.float32)
        rep = self.phase == 1
        obs[:, :, 0] = ~rep[:, None]
        obs[:, :, 1] = rep[:, None]
        b_idx, n_idx = np.indices((B, N))
        obs[b_idx, n_idx, 2 + self.rec] = 1.0
        rb, rn = b_idx[rep], n_idx[rep]
        obs[rb, rn, 2 + A + self.effort[rep]] = 1.0
        obs[rb, rn, 2 + 2 * A + self.signal[rep]] = 1.0
        obs[:, :, -1] = np.minimum(self.t / self.horizon, 1.0)[:, None]
        return obs

    # -- contract ------------------------------------------------------------------------------------
    def reset(self, seed: SeedLike = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed_sequence(seed))
        mask = None if not options else options.get("reset_mask")
        if mask is None:
            self._alloc()
            idx = np.arange(self.batch_size)
        else:
            mask = as_array(mask, "reset_mask", dtype=bool)
            if mask.shape != (self.batch_size,):
                raise ValueError(f"reset_mask: expected shape ({self.batch_size},), got {mask.shape}")
            idx = np.flatnonzero(mask)
            self.t[idx] = 0
        self._new_round(idx)
        return self._observe(), {}

    def _check_actions(self, actions: Any) -> np.ndarray:
        return check_action_indices(actions, self.batch_size, self.n_agents, [sp.n for sp in self._act_spaces])

    def step(self, actions: Any):
        if np.any(self.t >= self.horizon):
            raise RuntimeError("step() called after the episode ended; call reset() first")
        act = self._check_actions(actions)
        B, N = self.batch_size, self.n_agents
        m = self.model
        rewards = np.zeros((B, N))
        info: dict[str, Any] = {}
        eff = np.flatnonzero(self.phase == 0)
        rep = np.flatnonzero(self.phase == 1)
        if eff.size:  # phase 0: efforts, then nature draws theta and the signals
            b = act[eff] % self._nA[None, :]
            self.effort[eff] = b
            rewards[eff] = -self._costs[np.arange(N)[None, :], b]
            b_flat = np.ravel_multi_index(tuple(b.T), m.n_actions)
            u = self._rng.random((eff.size, 2))
            th = np.minimum(np.searchsorted(self._cdf_prior, u[:, 0], side="right"), m.n_states - 1)
            s = np.minimum((u[:, 1:2] >= self._cdf_q[b_flat, th]).sum(-1), m.n_signal_profiles - 1)
            self.theta[eff] = th
            self.has_theta[eff] = True
            self.signal[eff] = np.stack(np.unravel_index(s, m.n_signals), axis=1)
            self.phase[eff] = 1
        if rep.size:  # phase 1: reports, decision, payments
            r = act[rep] % self._nS[None, :]
            r_flat = np.ravel_multi_index(tuple(r.T), m.n_signals)
            prof, th = self.profile[rep], self.theta[rep]
            d = self.plugin.decide(prof, r_flat)
            pay = self.plugin.pay(prof, r, r_flat, th)
            rewards[rep] = pay
            u_p = m.utility[d, th]
            eff_b = self.effort[rep]
            cost = self._costs[np.arange(N)[None, :], eff_b]
            # copies that did not report at this step (another phase, in a batch whose copies are out
            # of step): sums over no round are 0, shares 1 (0/0 := 1), state and decision -1
            total = lambda v: self._full(rep, v, 0.0)  # noqa: E731
            share = lambda v: self._full(rep, v, 1.0)  # noqa: E731
            metrics = {
                "principal_utility": total(u_p - pay.sum(1)),
                "payments": total(pay.sum(1)),
                "decision_accuracy": share((u_p >= self._best_u[th] - 1e-12).astype(float)),
                "effort_rate": share((cost > self._min_cost[None, :] + 1e-12).mean(1)),
                "obedience_rate": share((eff_b == self.rec[rep]).mean(1)),
                "truthful_rate": share((r == self.signal[rep]).mean(1)),
            }
            for i in range(N):
                metrics[f"utility_agent_{i}"] = total(pay[:, i] - cost[:, i])
            payments = np.zeros((B, N))
            payments[rep] = pay
            reports = np.full((B, N), -1, dtype=np.int64)
            reports[rep] = r
            self._last_round = (self.rec.copy(), self.effort.copy(), self.signal.copy(), reports, payments)
            info = {
                "metrics": metrics,
                "payments": payments,
                "state": self._full(rep, th.astype(float), -1.0),
                "decision": self._full(rep, d.astype(float), -1.0),
                "round_finished": self._full(rep, np.ones(rep.size, dtype=bool), False),
            }
        self.t += 1
        done = self.t >= self.horizon
        nxt = rep[~done[rep]]
        self._new_round(nxt)
        truncated = np.broadcast_to(done[:, None], (B, N)).copy()
        terminated = np.zeros((B, N), dtype=bool)
        return self._observe(), rewards, terminated, truncated, info

    def _full(self, idx: np.ndarray, values: np.ndarray, fill: float | bool) -> np.ndarray:
        """``(B,)``: ``values`` at the copies ``idx``, ``fill`` elsewhere (never NaN)."""
        out = np.full(self.batch_size, fill)
        out[idx] = values
        return out

    def default_actions(self) -> np.ndarray:
        """Obedient and truthful: the recommendation in phase 0, the observed signal in phase 1."""
        return np.where((self.phase == 1)[:, None], self.signal, self.rec).astype(np.int64)

    def mechanism(self) -> InformationMechanism:
        """The plug-in's tables as an :class:`InformationMechanism` (``TablePlugin`` only)."""
        if not isinstance(self.plugin, TablePlugin):
            raise TypeError(f"mechanism: plug-in {type(self.plugin).__name__} has no tables")
        return self.plugin.as_mechanism()

    def best_response_actions(self, tol: float = 1e-7) -> np.ndarray:
        """Best-responding agents (others obedient and truthful; ties obey), from the IC checker:
        phase 0 the best effort for the recommendation, phase 1 the best report of the signal."""
        if self._br is None:
            br = best_responses(self.model, self.mechanism(), tol=tol)
            A, S = self._maxA, self._maxS
            eff = np.zeros((self.n_agents, A), dtype=np.int64)
            rep = np.zeros((self.n_agents, A, S), dtype=np.int64)
            for i in range(self.n_agents):
                eff[i, : len(br["effort"][i])] = br["effort"][i]
                r = br["report"][i]
                rep[i, : r.shape[0], : r.shape[1]] = r
            self._br = (eff, rep)
        eff, rep = self._br
        agents = np.arange(self.n_agents)[None, :]
        phase0 = eff[agents, self.rec]
        phase1 = rep[agents, self.rec, self.signal]
        return np.where((self.phase == 1)[:, None], phase1, phase0).astype(np.int64)

    def state(self) -> np.ndarray:
        th = np.zeros((self.batch_size, self.model.n_states), dtype=np.float32)
        rows = np.flatnonzero(self.has_theta)
        th[rows, self.theta[rows]] = 1.0
        return np.concatenate([self._observe().reshape(self.batch_size, -1), th], axis=1)

    def render(self) -> str | np.ndarray | None:
        """``ansi``: one line; ``rgb_array``: :func:`draw_information` of copy 0, ``uint8 (H, W, 3)``."""
        ph = "effort" if self.phase[0] == 0 else "report"
        if self.render_mode == "ansi":
            return (
                f"step {self.t[0]}/{self.horizon} phase={ph} rec={self.rec[0].tolist()} "
                f"effort={self.effort[0].tolist()} signal={self.signal[0].tolist()}"
            )
        if self.render_mode != "rgb_array":
            return None
        title = f"step {self.t[0]}/{self.horizon}, next: {ph}"
        if self.phase[0] == 1:  # efforts made, signals seen, reports pending
            arrays: tuple[Any, ...] = (self.rec[0], self.effort[0], self.signal[0], None, None)
        elif self._last_round is not None and self._last_round[3][0, 0] >= 0:  # the round just finished
            arrays = tuple(a[0] for a in self._last_round)
            title = f"step {self.t[0]}/{self.horizon}, round finished"
        else:  # a fresh episode: the recommendation only
            arrays = (self.rec[0], None, None, None, None)
        rec, effort, signal, reports, payments = arrays
        return render_rgb(lambda ax: draw_information(ax, rec, effort, signal, reports, payments, title=title))


def draw_information(
    ax: Any,
    recommended: np.ndarray,
    effort: np.ndarray | None = None,
    signal: np.ndarray | None = None,
    reports: np.ndarray | None = None,
    payments: np.ndarray | None = None,
    title: str = "",
) -> None:
    """Grouped bars per agent (indices into its own action / signal sets): recommended effort,
    effort chosen, signal observed, signal reported; each payment (score) under the agent."""
    rec = np.asarray(recommended).reshape(-1)
    n = rec.size
    x = np.arange(n)
    series = [("recommended", rec), ("effort", effort), ("signal", signal), ("report", reports)]
    width = 0.2
    for k, (label, vals) in enumerate(series):
        if vals is not None:
            # +0.05 keeps index 0 visible as a sliver
            ax.bar(x + (k - 1.5) * width, np.asarray(vals).reshape(-1) + 0.05, width, color=f"C{k}", label=label)
    label_agents(ax, n)
    if payments is not None and n <= 6:
        ax.set_xticks(x, [f"agent {i}\npays {float(payments[i]):.3g}" for i in x])
    ax.set_ylabel("index (effort level / signal)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, loc="left", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


# -------------------------------------------------------------------------------------------------
# one-shot belief elicitation (for learners)
# -------------------------------------------------------------------------------------------------
class BeliefElicitation(MechanismGame):
    """Agents hold a private belief f = P(w = 1) of a binary outcome and report a probability r.

    Types ``(B, N, 2)``: ``[f, w]`` with the agent's outcome w ~ Bernoulli(f) drawn with the type
    (so counterfactual reports are scored at the same outcome). Utility = expected score
    S((1 - r, r); (1 - f, f)) (``utility="expected"``) or the realised score S((1 - r, r), w)
    (``"realised"``). ``rule``: a scoring-rule registry name (scaled into [0, 1]) or ``"linear"``
    (S(p, w) = p_w, improper: the best report is a corner). A truncated logarithmic rule
    (``rule_params={"eps": e}``) restricts reports to [e, 1 - e]. Beliefs are drawn from
    Beta(``a``, ``b``) or fixed at ``belief``.
    """

    action_shape = ()
    type_shape = (2,)
    utility_range = (0.0, 1.0)

    def __init__(
        self,
        n_agents: int = 1,
        rule: str = "quadratic",
        rule_params: dict | None = None,
        belief: float | None = None,
        a: float = 2.0,
        b: float = 2.0,
        utility: str = "expected",
    ) -> None:
        self.n_agents = check_int(n_agents, "n_agents", lo=1)
        self.rule_name = rule
        self.utility_mode = check_choice(utility, "utility", ("expected", "realised"))
        if isinstance(rule, str) and rule == "linear":
            self._scores = lambda p: p  # S(p, w) = p_w
        else:
            base = resolve_rule(rule, rule_params)
            scaled = base.scaled(1.0, 2)
            self._scores = lambda p: scaled.score_matrix(p)
            eps = getattr(base, "eps", None)
            if eps:  # truncated log rule: reports live in [eps, 1 - eps]
                self.action_low, self.action_high = float(eps), 1.0 - float(eps)
        self.belief = None if belief is None else check_float(belief, "belief", lo=0.0, hi=1.0)
        self.a = check_float(a, "a", lo=0.0, lo_open=True)
        self.b = check_float(b, "b", lo=0.0, lo_open=True)

    def sample_types(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        shape = (self.check_sample_args(rng, batch), self.n_agents)
        f = np.full(shape, self.belief) if self.belief is not None else rng.beta(self.a, self.b, size=shape)
        w = (rng.random(shape) < f).astype(np.float64)
        return np.stack([f, w], axis=-1)

    def truthful_actions(self, types: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(types, dtype=np.float64)[..., 0], self.action_low, self.action_high)

    def score_table(self, reports: np.ndarray) -> np.ndarray:
        """S((1 - r, r), w) for w in {0, 1}: shape ``(..., 2)``."""
        r = np.asarray(reports, dtype=np.float64)
        return self._scores(np.stack([1.0 - r, r], axis=-1))

    def play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        types, r = self.check_profile(types, actions)
        f, w = types[..., 0], types[..., 1]
        if np.any((w != 0) & (w != 1)):
            raise ParameterError("types", "types: expected the outcome w (types[..., 1]) in {0, 1}")
        w = w.astype(np.int64)
        s = self.score_table(r)
        if self.utility_mode == "expected":
            util = (1 - f) * s[..., 0] + f * s[..., 1]
        else:
            util = np.take_along_axis(s, w[..., None], -1)[..., 0]
        return Outcome(util, report=r, error=np.abs(r - f))

    def metrics(self, types: np.ndarray, outcome: Outcome) -> dict[str, np.ndarray]:
        return {
            "mean_abs_error": outcome.error.mean(1),
            "mean_utility": outcome.utility.mean(1),
            "corner_rate": ((outcome.report <= 0.0) | (outcome.report >= 1.0)).mean(1).astype(float),
        }


class EffortReportGame(MechanismGame):
    """One round of the information-acquisition game as a one-shot ``MechanismGame`` over *plans*.

    Agent i's action indexes a plan: for every recommendation a_i an effort b_i and a reporting map
    phi_i : S_i -> S_i, i.e. ``(A_i * S_i^S_i)^A_i`` plans (``plan_table(i)`` decodes them; at most
    ``max_plans``). Types ``(B, N, 3)`` carry the round's common random numbers (u_rec, u_theta,
    u_signal), identical for all agents, so counterfactual plans are evaluated on the same draws:
    a ~ phi, theta ~ mu, s ~ q_b(. | theta) by inverse CDF. Utility gamma_i(a, r, theta) - c_i(b_i),
    shifted into [0, 1] by ``utility_range``; ``metrics``: obedience, truthfulness, principal utility.
    Used to let learners choose effort and reports under a mechanism plug-in.
    """

    type_shape = (3,)
    action_shape = ()

    def __init__(
        self,
        model: Any = "A",
        mechanism: Any = "lp",
        max_plans: int = 4096,
        cap: float | None = None,
        eps: float = 0.0,
        rule: str | ScoringRule = "quadratic",
        rule_params: dict | None = None,
        bound: float = 1.0,
        profile: tuple[int, ...] | None = None,
        model_params: dict | None = None,
    ) -> None:
        max_plans = check_int(max_plans, "max_plans", lo=1)
        shell = InformationAcquisitionEnv(
            model,
            mechanism,
            cap=cap,
            eps=eps,
            rule=rule,
            rule_params=rule_params,
            bound=bound,
            profile=profile,
            model_params=model_params,
        )
        self.model, self.plugin = shell.model, shell.plugin
        m = self.model
        self.n_agents = m.n_agents
        self._plans = []
        for i in range(m.n_agents):
            A, S = m.n_actions[i], m.n_signals[i]
            per = A * S**S
            k = per**A
            if k > max_plans:
                raise ValueError(f"model: agent {i} has {k} plans (> max_plans={max_plans}); use a smaller instance")
            maps = np.array(np.unravel_index(np.arange(S**S), [S] * S)).T  # (S^S, S)
            choice = np.array(np.unravel_index(np.arange(k), [per] * A)).T  # (k, A): per-rec behaviour
            effort = choice // (S**S)  # (k, A)
            rmap = maps[choice % (S**S)]  # (k, A, S)
            self._plans.append((effort, rmap))
        self.n_plans = tuple(len(e) for e, _ in self._plans)
        # padded (N, K_max, A_max[, S_max]) plan and cost tables: play() indexes them for all agents at once
        k_max, a_max, s_max = max(self.n_plans), max(m.n_actions), max(m.n_signals)
        self._effort_tab = np.zeros((m.n_agents, k_max, a_max), dtype=np.int64)
        self._rmap_tab = np.zeros((m.n_agents, k_max, a_max, s_max), dtype=np.int64)
        self._cost_tab = np.zeros((m.n_agents, a_max))
        for i, (eff, rmap) in enumerate(self._plans):
            self._effort_tab[i, : eff.shape[0], : eff.shape[1]] = eff
            self._rmap_tab[i, : rmap.shape[0], : rmap.shape[1], : rmap.shape[2]] = rmap
            self._cost_tab[i, : len(m.costs[i])] = m.costs[i]
        self.action_low, self.action_high = 0.0, float(max(self.n_plans) - 1)
        pay_max = float(np.max(getattr(self.plugin, "payments", np.ones(1))))
        self._shift = float(max(c.max() for c in m.costs))
        self._scale = max(pay_max + self._shift, 1e-12)
        self.utility_range = (0.0, 1.0)
        self._cdf_prior = np.cumsum(m.prior)
        self._cdf_q = np.cumsum(m.q_flat, axis=-1)

    def plan_table(self, agent: int) -> tuple[np.ndarray, np.ndarray]:
        """``(effort (K, A_i), report_map (K, A_i, S_i))`` of agent ``agent``'s plans."""
        return self._plans[agent]

    def obedient_truthful_plan(self, agent: int) -> int:
        """Index of the plan that obeys every recommendation and reports truthfully."""
        eff, rmap = self._plans[agent]
        A, S = rmap.shape[1], rmap.shape[2]
        ok = (eff == np.arange(A)).all(1) & (rmap == np.arange(S)).all((1, 2))
        return int(np.flatnonzero(ok)[0])

    def sample_types(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        batch = self.check_sample_args(rng, batch)
        u = rng.random((batch, 1, 3))
        return np.broadcast_to(u, (batch, self.n_agents, 3)).copy()

    def truthful_actions(self, types: np.ndarray) -> np.ndarray:
        B = np.asarray(types).shape[0]
        return np.tile([float(self.obedient_truthful_plan(i)) for i in range(self.n_agents)], (B, 1))

    def action_grid(self, k: int) -> np.ndarray:
        return np.arange(max(self.n_plans), dtype=np.float64)

    def _check_plans(self, actions: Any) -> np.ndarray:
        arr = as_array(actions, "actions")  # numbers, finite; the range per agent below
        if arr.ndim != 2 or arr.shape[1] != self.n_agents:
            raise ParameterError(
                "actions", f"actions: expected plan indices of shape (B, {self.n_agents}), got {arr.shape}"
            )
        k = np.round(arr).astype(np.int64)
        hi = np.array(self.n_plans)
        bad = (np.abs(arr - k) > 1e-9) | (arr < 0) | (arr > hi[None, :] - 1)
        if bad.any():
            b, i = np.argwhere(bad)[0]
            raise ValueError(
                f"actions: expected agent {i}'s plan index as an integer in [0, {hi[i] - 1}], got {arr[b, i]}"
            )
        return k

    def _decode(self, types: np.ndarray, actions: np.ndarray):
        m = self.model
        u = np.asarray(types, dtype=np.float64)[:, 0, :]
        plugin = self.plugin
        if not isinstance(plugin, TablePlugin):
            raise TypeError(f"mechanism: plug-in {type(plugin).__name__} has no tables")
        prof = np.minimum(np.searchsorted(plugin._cdf, u[:, 0] * plugin._cdf[-1], side="right"), m.n_profiles - 1)
        rec = np.stack(np.unravel_index(prof, m.n_actions), axis=1)  # (B, N)
        k = self._check_plans(actions)
        ni = np.arange(self.n_agents)[None, :]
        effort = self._effort_tab[ni, k, rec]  # (B, N)
        maps = self._rmap_tab[ni, k, rec]  # (B, N, S_max)
        b_flat = np.ravel_multi_index(tuple(effort.T), m.n_actions)
        th = np.minimum(np.searchsorted(self._cdf_prior, u[:, 1], side="right"), m.n_states - 1)
        s_flat = np.minimum((u[:, 2:3] >= self._cdf_q[b_flat, th]).sum(-1), m.n_signal_profiles - 1)
        s = np.stack(np.unravel_index(s_flat, m.n_signals), axis=1)
        r = np.take_along_axis(maps, s[:, :, None], axis=2)[:, :, 0]
        return prof, rec, effort, th, s, r

    def play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        types = self.check_types(types)
        if np.shape(actions)[:1] != types.shape[:1]:
            raise ParameterError(
                "actions", f"actions: expected batch size {types.shape[0]} (that of types), got {np.shape(actions)}"
            )
        return self._play(types, actions)

    def _play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        m = self.model
        prof, rec, effort, th, s, r = self._decode(types, actions)
        r_flat = np.ravel_multi_index(tuple(r.T), m.n_signals)
        d = self.plugin.decide(prof, r_flat)
        pay = self.plugin.pay(prof, r, r_flat, th)
        cost = self._cost_tab[np.arange(self.n_agents)[None, :], effort]
        util = (pay - cost + self._shift) / self._scale
        return Outcome(
            util,
            obey=(effort == rec).astype(float),
            truthful=(r == s).astype(float),
            principal=m.utility[d, th] - pay.sum(1),
            payment=pay.sum(1),
        )

    def metrics(self, types: np.ndarray, outcome: Outcome) -> dict[str, np.ndarray]:
        return {
            "obedience_rate": outcome.obey.mean(1),
            "truthful_rate": outcome.truthful.mean(1),
            "principal_utility": outcome.principal,
            "payments": outcome.payment,
        }


# -------------------------------------------------------------------------------------------------
# the experiment runner's native hook
# -------------------------------------------------------------------------------------------------
#: scripted agent policies a spec's ``[[agents]]`` groups may name (``learner = ...``)
POLICIES = ("obedient", "best_response", "shirk", "random")


def _policy_actions(env: InformationAcquisitionEnv, who: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Actions ``(B, N)`` when agent i follows ``POLICIES[who[i]]``: obedient and truthful; best
    response (the IC checker's); shirk (cheapest effort, truthful report); uniformly random."""
    act = env.default_actions()
    if np.any(who == 1):
        act = np.where(who[None, :] == 1, env.best_response_actions(), act)
    if np.any(who == 2):
        cheap = np.array([int(np.argmin(c)) for c in env.model.costs])
        act = np.where((who[None, :] == 2) & (env.phase == 0)[:, None], cheap[None, :], act)
    hi = np.array([sp.n for sp in env._act_spaces])
    rand = np.floor(rng.random(act.shape) * hi[None, :]).astype(np.int64)  # drawn every step: fixed stream
    return np.where(who[None, :] == 3, rand, act)


def simulate(
    params: dict[str, Any], seed_sequence: np.random.SeedSequence, rounds: int, batch: int, record_every: int
) -> dict[str, np.ndarray]:
    """Runner hook (``coopsim run``): ``batch`` copies of the two-phase game for ``rounds`` rounds.

    ``params``: ``InformationAcquisitionEnv`` arguments (``model``, ``mechanism`` = "lp" / "scoring" /
    "decision", ``cap``, ``eps``, ``rule``, ``rule_params``, ``bound``, ``profile``, ``model_params``).
    A ``[mechanism]`` table naming a scoring rule (e.g. ``quadratic``) selects the scoring plug-in with
    that rule. ``[[agents]]`` groups set agent policies by ``learner`` name, one of ``POLICIES``
    (default: everyone obedient and truthful). Metrics: window means over the rounds since the
    previous record point (and over copies) of the env's phase-1 metrics (principal utility,
    payments, decision accuracy, effort, obedience and truthful rates, ``utility_agent_<i>``).
    """
    if not isinstance(params, dict):
        raise ParameterTypeError("params", f"params: expected a dict of env options, got {params!r}")
    rounds = check_int(rounds, "rounds", lo=1)
    batch = check_int(batch, "batch", lo=1)
    record_every = check_int(record_every, "record_every", lo=1)
    kw = {k: v for k, v in params.items() if k != "agents"}
    mech = kw.get("mechanism")
    if isinstance(mech, ScoringRule):
        kw["mechanism"], kw["rule"] = "scoring", mech
    if kw.get("profile") is not None:
        kw["profile"] = tuple(kw["profile"])
    check_size("batch", batch, 16, what="the copies' state")
    env = InformationAcquisitionEnv(batch_size=batch, rounds=rounds, **kw)
    who = np.zeros(env.n_agents, dtype=np.int64)
    for j, g in enumerate(params.get("agents") or []):
        pol = check_choice(g["learner"], f"agents.{j}.learner", POLICIES)
        idx = (
            np.arange(env.n_agents)
            if g.get("agents", "all") == "all"
            else as_array(g["agents"], f"agents.{j}.agents", dtype=np.int64, lo=0, hi=env.n_agents - 1)
        )
        who[idx] = POLICIES.index(pol)
    env_ss, pol_ss = seed_sequence.spawn(2)
    rng = np.random.default_rng(pol_ss)
    env.reset(seed=env_ss)
    out: dict[str, list] = {}
    win = WindowMean()  # means over copies, averaged over the rounds since the last record point
    for t in range(rounds):
        env.step(_policy_actions(env, who, rng))  # phase 0: efforts
        *_, info = env.step(_policy_actions(env, who, rng))  # phase 1: reports, decision, payments
        for k, v in info["metrics"].items():
            win.add(k, float(np.mean(v)))
        if (t + 1) % record_every == 0 or t + 1 == rounds:
            for k, v in win.flush().items():
                out.setdefault(k, []).append(float(v))
            out.setdefault("round", []).append(t + 1)
    return {k: np.asarray(v) for k, v in out.items()}


# -------------------------------------------------------------------------------------------------
# factories (PettingZoo / Gymnasium)
# -------------------------------------------------------------------------------------------------
def make_batched_env(
    batch_size: int = 1, max_cycles: int = 2, render_mode: str | None = None, **kwargs: Any
) -> InformationAcquisitionEnv:
    """``InformationAcquisitionEnv`` with ``max_cycles`` env steps (two per round; must be even)."""
    steps = check_int(max_cycles, "max_cycles", lo=2)
    if steps % 2:
        raise ValueError(f"max_cycles: expected an even number of steps (two per round), got {steps}")
    return InformationAcquisitionEnv(batch_size=batch_size, rounds=steps // 2, render_mode=render_mode, **kwargs)


env, raw_env, parallel_env, gym_env, gym_vector_env = env_views(
    make_batched_env, name="information_acquisition_v0", default_max_cycles=2
)
