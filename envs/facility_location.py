"""One-dimensional facility location under a designed mechanism.

=====================  ================================================================
What it models          n agents with single-peaked preferences on [0, 1] report their peaks;
                        a mechanism places one public facility. Misreports can pay under
                        manipulable rules (average, midpoint), never under generalized medians.
Agents                  ``agent_0 .. agent_{n-1}``; ``n_agents >= 1``.
Types                   private peak ``t_i`` in [0, 1], drawn i.i.d. ``uniform``, ``beta(a, b)``,
                        ``clustered`` (a mixture of Gaussians around ``centers``, truncated to
                        [0, 1] by rejection) or a ``fixed`` profile.
Actions                 a report ``r_i`` in [0, 1]: ``Box(0, 1, (1,))`` or, with
                        ``action_mode="grid"``, an index into a ``grid_size``-point report grid
                        (``Discrete(grid_size)``).
Observations            own peak, last round's facility location, fraction of the episode elapsed.
Rewards                 utility ``u_i = 1 - |y - t_i|`` (cost view ``c_i = |y - t_i|`` in the outcome);
                        expected utility for lotteries.
Mechanisms              any facility mechanism of ``coopsim.mechanisms`` by registry name
                        (``uniform_phantom``, ``median``, ``generalized_median``, ``average``,
                        ``midpoint``, ``random_dictator``, ``lrm``, ...).
Metrics (per copy)      ``location``, ``SW``, ``TC``, ``MC``; ratios to the optimum ``SW_ratio``
                        (OPT/ALG), ``TC_ratio``, ``MC_ratio`` (ALG/OPT, 0/0 := 1); axiom verdicts
                        ``IFS``, ``UFS``, ``PF``, ``proportionality``, ``unanimity`` as 0/1.
Arguments               ``n_agents``, ``mechanism``, ``mechanism_params``, ``types``,
                        ``type_params``; env views add ``max_cycles``, ``action_mode``,
                        ``grid_size``, ``redraw``, ``render_mode``.
References              Aziz, Lam, Lee, Walsh, "Strategyproof and proportionally fair facility
                        location" (arXiv:2111.01566); Moulin, "On strategy-proofness and single
                        peakedness", Public Choice 35 (1980); Procaccia & Tennenholtz, EC 2009.
=====================  ================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
from coopsim.envs._checks import check_mechanism_params, check_outcome, check_params
from coopsim.mechanisms import facility as fm
from coopsim.mechanisms import get as get_mechanism
from coopsim.mechanisms.registry import registry as mechanism_registry

from coopsim.analysis.ratios import ratio_to_optimum
from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_choice,
    check_family,
    check_float,
    check_int,
    check_size,
)
from coopsim.interop.render import label_agents
from coopsim.interop.views import env_views, repeated_game_factory

TYPE_DISTRIBUTIONS = ("uniform", "beta", "clustered", "fixed")
AXIOMS = ("IFS", "UFS", "PF", "proportionality", "unanimity")


class FacilityLocation(MechanismGame):
    """The facility-location ``MechanismGame``: types are peaks, actions are reports in [0, 1]."""

    objectives = {"SW": "max", "TC": "min", "MC": "min"}
    public_low, public_high = 0.0, 1.0

    def __init__(
        self,
        n_agents: int = 5,
        mechanism: str | Any = "uniform_phantom",
        mechanism_params: dict[str, Any] | None = None,
        types: str = "uniform",
        type_params: dict[str, Any] | None = None,
    ) -> None:
        self.n_agents = check_int(n_agents, "n_agents", lo=1)
        params = check_params(mechanism_params, "mechanism_params")
        if isinstance(mechanism, str):
            # refuse another family's mechanism before building it with this game's parameters
            factory = mechanism_registry.factory(mechanism_registry.canonical(mechanism))
            check_family(factory, "facility")
            check_mechanism_params(factory, params, f"mechanism {mechanism!r}")
            self.mechanism = check_family(get_mechanism(mechanism, **params), "facility")
        elif callable(mechanism):
            self.mechanism = check_family(mechanism, "facility")
        else:
            raise ParameterTypeError(
                "mechanism", f"mechanism: expected a registry name or a facility mechanism, got {mechanism!r}"
            )
        self.mechanism_name = mechanism if isinstance(mechanism, str) else type(mechanism).__name__
        self.types = check_choice(types, "types", TYPE_DISTRIBUTIONS)
        self.type_params = check_params(type_params, "type_params")
        self._check_type_params()
        self.randomized = not getattr(self.mechanism, "deterministic", True)

    # -- types --------------------------------------------------------------------------------
    def _check_type_params(self) -> None:
        p = self.type_params
        allowed = {"uniform": set(), "beta": {"a", "b"}, "clustered": {"centers", "spread"}, "fixed": {"profile"}}
        unknown = set(p) - allowed[self.types]
        if unknown:
            raise ParameterError(
                "type_params",
                f"type_params: unknown keys {sorted(unknown)} for types={self.types!r}; "
                f"expected a subset of {sorted(allowed[self.types])}",
            )
        if self.types == "beta":
            p["a"] = check_float(p.get("a", 2.0), "type_params.a", lo=0.0, lo_open=True)
            p["b"] = check_float(p.get("b", 2.0), "type_params.b", lo=0.0, lo_open=True)
        elif self.types == "clustered":
            p["centers"] = as_array(p.get("centers", [0.2, 0.8]), "type_params.centers", ndim=1, lo=0.0, hi=1.0)
            p["spread"] = check_float(p.get("spread", 0.05), "type_params.spread", lo=0.0, lo_open=True)
        elif self.types == "fixed":
            if "profile" not in p:
                raise ParameterError("type_params.profile", "type_params.profile: required for types='fixed'")
            prof = as_array(p["profile"], "type_params.profile", ndim=1, lo=0.0, hi=1.0)
            if prof.shape != (self.n_agents,):
                raise ParameterError(
                    "type_params.profile",
                    f"type_params.profile: expected {self.n_agents} peaks, got shape {prof.shape}",
                )
            p["profile"] = prof

    def sample_types(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """Peaks ``(batch, N)`` from the configured distribution."""
        shape = (self.check_sample_args(rng, batch), self.n_agents)
        p = self.type_params
        if self.types == "uniform":
            return rng.random(shape)
        if self.types == "beta":
            return rng.beta(p["a"], p["b"], shape)
        if self.types == "fixed":
            return np.broadcast_to(p["profile"], shape).copy()
        # clustered: a fixed number of rounds of rejection sampling keeps the draw count
        # independent of the outcome; the rare leftovers fall back to uniform draws
        centers = p["centers"][rng.integers(len(p["centers"]), size=shape)]
        out = np.full(shape, np.nan)
        for _ in range(16):
            draw = centers + p["spread"] * rng.standard_normal(shape)
            ok = np.isnan(out) & (draw >= 0.0) & (draw <= 1.0)
            out[ok] = draw[ok]
        fallback = rng.random(shape)
        return np.where(np.isnan(out), fallback, out)

    # -- play ---------------------------------------------------------------------------------
    def locate(self, reports: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Support ``(B, S)`` and probabilities ``(B, S)`` of the facility location (S = 1 if deterministic)."""
        if self.randomized:
            support, probs = self.mechanism.distribution(reports)
            return np.asarray(support, dtype=np.float64), np.asarray(probs, dtype=np.float64)
        y = np.asarray(self.mechanism(reports), dtype=np.float64)
        return y[:, None], np.ones_like(y)[:, None]

    def play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        """Place the facility on the reports; ``utility = E[1 - |y - t_i|]``.

        ``types`` (peaks) and ``actions`` (the reports) are validated: shape ``(B, N)``, finite, in [0, 1];
        errors name ``types`` or ``actions``.
        """
        peaks, reports = self.check_profile(types, actions)
        if 0 in peaks.strides or 0 in reports.strides:
            # a broadcast view can stand for far more rows than its memory holds; an array that
            # exists in memory already bounds the outcome (a few arrays of its size)
            check_size("types", *peaks.shape, copies=8, what="the outcome arrays")
        return self._play(peaks, reports)

    def _play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        peaks, reports = types, actions
        mech = self.mechanism
        if type(mech).__call__ is fm.FacilityMechanism.__call__ and mech.deterministic:
            # built-in deterministic rule on reports validated just above: its location directly
            # (same numbers as the lottery path below with one support point of probability 1)
            mech._check_n(reports.shape[1])
            y = np.asarray(mech._locate(reports), dtype=np.float64)
            cost = np.abs(y[:, None] - peaks)
            support, probs = y[:, None], np.ones((y.shape[0], 1))
            return Outcome(1.0 - cost, public=("location",), location=y, cost=cost, support=support, probs=probs)
        support, probs = self.locate(reports)
        # expected cost E|y - t_i| over the lottery: (B, N, S) weighted by (B, 1, S)
        cost = np.einsum("bns,bs->bn", np.abs(support[:, None, :] - peaks[:, :, None]), probs)
        location = (support * probs).sum(axis=1)
        return Outcome(1.0 - cost, public=("location",), location=location, cost=cost, support=support, probs=probs)

    def deviation_utilities(self, types: np.ndarray, actions: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """``U[b, i, k]``; closed forms for generalized medians and the average, else the generic path.

        Generalized median with phantoms p: with z the sorted union of the other n-1 reports and
        the n+1 phantoms, agent i reporting c gets ``y = clip(c, z_(n-1), z_(n))`` (0-based).
        Average: ``y = (sum_{j != i} r_j + c) / n``.
        """
        phantoms = getattr(self.mechanism, "phantom_positions", None)
        is_average = isinstance(self.mechanism, fm.Average)
        raw = np.asarray(candidates) if isinstance(candidates, np.ndarray) else candidates
        if np.ndim(raw) != 1 or (phantoms is None and not is_average):
            return super().deviation_utilities(types, actions, candidates)
        peaks, r, full = self.check_deviation_args(types, actions, candidates)
        cand = full[0, 0]  # the shared (K,) candidates
        B, n = r.shape
        if is_average:
            others = r.sum(axis=1, keepdims=True) - r  # (B, N)
            y = (others[:, :, None] + cand) / n
        else:
            assert phantoms is not None  # not the average, so a generalized median (see the return above)
            ph = np.broadcast_to(np.asarray(phantoms(n), dtype=np.float64), (B, n + 1))
            # others' reports for each i: drop column i -> (B, N, N-1)
            keep = ~np.eye(n, dtype=bool)
            others = np.broadcast_to(r[:, None, :], (B, n, n))[:, keep].reshape(B, n, n - 1)
            z = np.sort(np.concatenate([others, np.broadcast_to(ph[:, None, :], (B, n, n + 1))], axis=2), axis=2)
            y = np.clip(cand, z[:, :, n - 1 : n], z[:, :, n : n + 1])
        return 1.0 - np.abs(y - peaks[:, :, None])

    # -- metrics ------------------------------------------------------------------------------
    def optimum(self, types: np.ndarray) -> dict[str, np.ndarray]:
        """Optimal SW (n - TC at a median), TC and MC (half the range) per copy."""
        peaks = self.check_types(types)
        srt = np.sort(peaks, axis=1)
        med = srt[:, (peaks.shape[1] - 1) // 2]
        tc = np.abs(peaks - med[:, None]).sum(axis=1)
        return {"SW": peaks.shape[1] - tc, "TC": tc, "MC": (srt[:, -1] - srt[:, 0]) / 2}

    def metrics(self, types: np.ndarray, outcome: Outcome) -> dict[str, np.ndarray]:
        """Objectives, their ratios to the optimum (>= 1, 0/0 := 1) and ex-post axiom verdicts."""
        peaks = self.check_types(types)
        check_outcome(outcome, peaks.shape[0])
        opt = self.optimum(peaks)
        # expected TC/SW; MC in expectation over the lottery (ratio of expectations)
        dist = np.abs(outcome.support[:, None, :] - peaks[:, :, None])  # (B, N, S)
        tc = outcome.cost.sum(axis=1)
        mc = (dist.max(axis=1) * outcome.probs).sum(axis=1)
        out = {
            "location": outcome.location,
            "SW": peaks.shape[1] - tc,
            "TC": tc,
            "MC": mc,
            "SW_ratio": ratio_to_optimum(peaks.shape[1] - tc, opt["SW"], "max"),
            "TC_ratio": ratio_to_optimum(tc, opt["TC"], "min"),
            "MC_ratio": ratio_to_optimum(mc, opt["MC"], "min"),
        }
        for axiom in AXIOMS:  # lotteries are judged ex ante: expected distances, as in Aziz, Lam, Lee and Walsh's table
            verdict = (
                fm.satisfies(axiom, peaks, outcome.support, outcome.probs)
                if self.randomized
                else fm.satisfies(axiom, peaks, outcome.location)
            )
            out[axiom] = verdict.astype(np.float64)
        return out

    # -- rendering ----------------------------------------------------------------------------
    def draw(self, ax: Any, types: np.ndarray, actions: np.ndarray | None, outcome: Outcome | None) -> None:
        """Copy 0 on ``ax`` (the env's ``rgb_array`` frame): see :func:`draw_facility`."""
        support = probs = None
        if outcome is not None:
            support, probs = outcome.support[0], outcome.probs[0]
        draw_facility(ax, types[0], None if actions is None else actions[0], support, probs, self.mechanism_name)


def draw_facility(
    ax: Any,
    peaks: np.ndarray,
    reports: np.ndarray | None = None,
    support: np.ndarray | None = None,
    probs: np.ndarray | None = None,
    title: str = "",
) -> None:
    """The line [0, 1], one row per agent: peak (circle), report (cross, joined to the peak) and
    the facility (a vertical line per support point, width and opacity by probability)."""
    peaks = np.asarray(peaks, dtype=np.float64).reshape(-1)
    rows = np.arange(peaks.size)
    ax.scatter(peaks, rows, marker="o", s=40, color="C0", label="peak", zorder=3)
    if reports is not None:
        reports = np.asarray(reports, dtype=np.float64).reshape(-1)
        ax.hlines(rows, np.minimum(peaks, reports), np.maximum(peaks, reports), color="0.6", lw=1)
        ax.scatter(reports, rows, marker="x", s=40, color="C1", label="report", zorder=3)
    if support is not None and probs is not None:
        for y, p in zip(np.asarray(support).reshape(-1), np.asarray(probs).reshape(-1)):
            if p > 0:
                ax.axvline(y, color="C3", lw=1 + 2 * p, alpha=0.3 + 0.7 * p)
        ax.plot([], [], color="C3", lw=2, label="facility")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.6, peaks.size - 0.4)
    label_agents(ax, peaks.size, axis="y")
    ax.set_xlabel("position on [0, 1]")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title, loc="left", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def average_best_response(peaks: np.ndarray, reports: np.ndarray, agent: int) -> np.ndarray:
    """Closed-form best response under the average rule (Aziz, Lam, Lee and Walsh, arXiv:2111.01566):
    ``r_i = clip(n t_i - sum_{j != i} r_j, 0, 1)``, shape ``(B,)``. Pass it as ``best_response`` to
    ``coopsim.dynamics.best_response_dynamics`` to skip the generic search."""
    n = reports.shape[1]
    return np.clip(n * peaks[:, agent] - (reports.sum(axis=1) - reports[:, agent]), 0.0, 1.0)


def make_game(**kwargs: Any) -> FacilityLocation:
    """Build the one-shot game (the runner's hook)."""
    return FacilityLocation(**kwargs)


NAME = "facility_location_v0"
make_batched_env = repeated_game_factory(FacilityLocation, default_max_cycles=25, name=NAME)
env, raw_env, parallel_env, gym_env, gym_vector_env = env_views(make_batched_env, name=NAME)
