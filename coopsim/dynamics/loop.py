"""Repeated play of a ``MechanismGame`` by a population of vectorised learners: a short loop over
play, feedback and update, with every metric a recorder (``coopsim.dynamics.recorders``).

One call of :func:`play_dynamics` plays ``rounds`` rounds in ``batch`` independent copies. Per round:

1. types: drawn once (``redraw="episode"``) or every round (``redraw="round"``) from the env stream;
2. every learner group acts: ``a[:, g] = learner.act(rng_g, context)`` with
   ``context = {"truthful": nearest grid index of game.truthful_actions(types)}`` (computed when a
   learner reads it) plus the arrays of ``context_fn``;
3. the game plays the grid actions ``x = grid[a]``: realised utilities ``r (B, N)``;
4. deviation utilities ``U = game.deviation_utilities(types, x, grid)`` ``(B, N, K)``, only when a
   full-information learner (never with ``feedback="bandit"``) or a recorder (regret, swap regret)
   needs them;
5. ``learner.update(a_g, r_g, full=U_g or None, context)``;
6. recorders observe the round (those that accumulate per round) and, at record points, write
   their series.

Randomness: one ``SeedSequence(seed)`` spawns, in this order, the env stream (types), the
evaluator stream, then one stream per learner group (in the order the groups are given). Every
draw has a fixed shape per round, so the same ``(seed, batch)`` gives bit-identical results, and
the metrics chosen never change the learners' draws. (A game with its own chance moves in
``deviation_utilities`` - none of the built-in games - would see its stream shift when no
recorder or learner asks for deviation utilities.)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from coopsim.core.game import MechanismGame
from coopsim.core.seeding import SeedLike, seed_sequence
from coopsim.core.validation import (
    ParameterTypeError,
    check_bool,
    check_choice,
    check_int,
    check_size,
    check_sizes,
)
from coopsim.dynamics import recorders as rc
from coopsim.dynamics.population import Population, normalize_groups
from coopsim.dynamics.result import DynamicsResult
from coopsim.dynamics.setup import TruthfulIndex, grid_step, resolve_grid, scalar_outcome_field

__all__ = ["play_dynamics", "select_metrics"]

_SWAP_AUTO_LIMIT = 2 * 10**7
_SNAPSHOT_AUTO_LIMIT = 4 * 10**6


def select_metrics(
    metrics: Any,
    *,
    exploit: bool,
    has_reference: bool,
    swap_regret: bool | None,
    snapshots: bool | None,
    keep_history: bool,
    game_metrics: str,
    swap_cheap: bool,
    snapshots_cheap: bool,
) -> list[str]:
    """The recorder names of a run, in run order.

    ``metrics=None`` (default): regret, swap regret (``swap_regret``; default when cheap),
    exploitability (normal-form games), reference distances (when a reference is given), game
    metrics (unless ``game_metrics="none"``), reward, snapshots (``snapshots``; default when
    cheap), history (``keep_history``). ``"none"``: nothing. A name or a list of names from
    ``METRIC_NAMES``: those; the flags ``swap_regret=True``, ``snapshots=True`` and
    ``keep_history=True`` add their recorder to any selection.
    """
    valid = rc.METRIC_NAMES
    if metrics is None:
        chosen = {"regret", "reward"}
        chosen |= {"swap_regret"} if (swap_cheap if swap_regret is None else swap_regret) else set()
        chosen |= {"exploitability"} if exploit else set()
        chosen |= {"reference"} if has_reference else set()
        chosen |= {"game"} if game_metrics != "none" else set()
        chosen |= {"snapshots"} if (snapshots_cheap if snapshots is None else snapshots) else set()
    else:
        names = [metrics] if isinstance(metrics, str) else metrics
        try:
            names = list(names)
        except TypeError:
            raise TypeError(
                f"metrics: expected None, 'none' or a list of names, got {type(metrics).__name__}"
            ) from None
        chosen = set()
        for name in names:
            if name == "none" and isinstance(metrics, str):
                continue
            if name not in valid:
                raise ValueError(f"metrics: unknown name {name!r}; expected 'none' or names from {list(valid)}")
            chosen.add(name)
        if "exploitability" in chosen and not exploit:
            raise ValueError("metrics: 'exploitability' needs a normal-form game (payoff_tensor) on its action indices")
        if "reference" in chosen and not has_reference:
            raise ValueError("metrics: 'reference' needs reference= or reference_outcome=")
        if game_metrics == "none":
            chosen.discard("game")
        chosen |= {"swap_regret"} if swap_regret else set()
        chosen |= {"snapshots"} if snapshots else set()
    chosen |= {"history"} if keep_history else set()
    order = ("regret", "swap_regret", "exploitability", "game", "reward", "reference", "snapshots", "history")
    return [name for name in order if name in chosen]


def _context_extra(context_fn: Callable, B: int, N: int, **kw: Any) -> dict[str, np.ndarray]:
    """The validated ``{name: (B, N) ints}`` of ``context_fn(types=, t=, last_actions=, last_outcome=)``."""
    got = context_fn(**kw)
    if not isinstance(got, Mapping):
        raise TypeError(f"context_fn: expected a dict of (B, N) integer arrays, got {type(got).__name__}")
    extra = {}
    for key, v in got.items():
        v = np.asarray(v)
        if v.shape != (B, N) or not np.issubdtype(v.dtype, np.integer):
            raise ValueError(f"context_fn: {key!r} must be a ({B}, {N}) integer array, got {v.dtype} {v.shape}")
        extra[str(key)] = v
    return extra


class _Progress:
    """A tqdm bar over rounds (only when asked and stderr is a terminal), updated in ~100 steps."""

    def __init__(self, on: bool, rounds: int) -> None:
        self.bar = None
        self.every = max(1, rounds // 100)
        if on and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=rounds, desc="dynamics", unit="round", leave=False)

    def tick(self, t: int) -> None:
        if self.bar is not None and (t % self.every == 0):
            self.bar.update(t - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _check_options(kw: dict[str, Any], B: int, N: int, K: int, rounds: int, record_every: int) -> None:
    """The flags, callables and sizes of a run, checked before anything is allocated: the record
    points, the ``(R, B, N)`` series, the ``(rounds, B, N)`` history, the ``(B, N, K)`` tables."""
    for flag in ("swap_regret", "snapshots"):
        if kw[flag] is not None:
            check_bool(kw[flag], flag)
    check_bool(kw["keep_history"], "keep_history")
    check_bool(kw["progress"], "progress")
    if kw["context_fn"] is not None and not callable(kw["context_fn"]):
        raise ParameterTypeError(
            "context_fn", f"context_fn: expected a callable or None, got {type(kw['context_fn']).__name__}"
        )
    if kw["outcome_field"] is not None and not isinstance(kw["outcome_field"], str):
        raise ParameterTypeError(
            "outcome_field", f"outcome_field: expected a field name (str) or None, got {kw['outcome_field']!r}"
        )
    n_rec = rounds // record_every + 1
    check_size("rounds", n_rec, itemsize=100, what=f"{n_rec} record points (record_every={record_every})")
    check_sizes({"batch": B, "n_agents": N, "n_actions": K}, copies=4, what="the (batch, n_agents, K) tables")
    if not (isinstance(kw["metrics"], str) and kw["metrics"] == "none"):
        check_sizes(
            {"rounds": n_rec, "batch": B, "n_agents": N}, copies=8, what="the (records, batch, n_agents) series"
        )
    if kw["keep_history"]:
        check_sizes(
            {"rounds": rounds, "batch": B, "n_agents": N}, itemsize=24, what="the (rounds, batch, n_agents) history"
        )


class _Run:
    """The validated, resolved arguments of one run (read by the loop and the recorders)."""

    def __init__(self, game: MechanismGame, learners: Any, kw: dict[str, Any]) -> None:
        if not isinstance(game, MechanismGame):
            raise TypeError(f"game: expected a coopsim.core.MechanismGame, got {type(game).__name__}")
        self.game = game
        self.rounds = check_int(kw["rounds"], "rounds", lo=1)
        self.B = B = check_int(kw["batch"], "batch", lo=1)
        self.feedback = check_choice(kw["feedback"], "feedback", ("full", "bandit", "expected"))
        if self.feedback == "expected" and not callable(getattr(game, "expected_deviation_utilities", None)):
            raise ValueError(
                f"feedback: 'expected' needs game.expected_deviation_utilities(mixed), which "
                f"{type(game).__name__} does not provide"
            )
        self.redraw = check_choice(kw["redraw"], "redraw", ("episode", "round"))
        self.record_every = check_int(kw["record_every"], "record_every", lo=1)
        self.game_metrics = check_choice(kw["game_metrics"], "game_metrics", ("round", "record", "none"))
        self.N = N = game.n_agents
        self.groups = normalize_groups(learners, N)
        self.grid = g = resolve_grid(game, kw["grid"])
        ev = game.action_shape
        self.per_agent_grid = g.ndim == 2 + len(ev)
        self.grid_full = g if self.per_agent_grid else np.broadcast_to(g, (N, *g.shape))  # (N, K, *ev)
        self.K = K = self.grid_full.shape[1]
        _check_options(kw, B, N, K, self.rounds, self.record_every)
        # randomness: env, evaluator (reserved for Monte Carlo evaluators), one stream per group
        children = seed_sequence(kw["seed"]).spawn(2 + len(self.groups))
        self.env_rng = np.random.default_rng(children[0])
        self.population = Population(
            self.groups, [np.random.default_rng(c) for c in children[2:]], B, N, K, self.feedback
        )
        if kw["types"] is None:
            self.types = game.sample_types(self.env_rng, B)
        else:
            self.types = game.check_types(kw["types"])
            if self.types.shape[0] != B:
                raise ValueError(f"types: expected {B} copies (batch), got {self.types.shape[0]}")
        self.resolver = rc.reference_resolver(game, kw["reference"], kw["reference_outcome"], B, N)
        self.has_reference = kw["reference"] is not None or kw["reference_outcome"] is not None
        self.rec_points = sorted(set(range(self.record_every, self.rounds + 1, self.record_every)) | {self.rounds})

    def metric_names(
        self, metrics: Any, swap_regret: bool | None, snapshots: bool | None, keep_history: bool
    ) -> list[str]:
        """:func:`select_metrics` for this run (what applies to the game and what is cheap at its size)."""
        B, N, K, R = self.B, self.N, self.K, len(self.rec_points)
        return select_metrics(
            metrics,
            exploit=rc.exploitability_applies(self.game, self.grid_full, K),
            has_reference=self.has_reference,
            swap_regret=swap_regret,
            snapshots=snapshots,
            keep_history=keep_history,
            game_metrics=self.game_metrics,
            swap_cheap=B * N * K * K <= _SWAP_AUTO_LIMIT,
            snapshots_cheap=R * B * N * K <= _SNAPSHOT_AUTO_LIMIT,
        )

    def recorders(self, names: list[str]) -> list[rc.Recorder]:
        B, N, K = self.B, self.N, self.K
        make = {
            "regret": lambda: rc.ExternalRegret(B, N, K),
            "swap_regret": lambda: rc.SwapRegret(B, N, K),
            "exploitability": lambda: rc.Exploitability(self.game, B),
            "game": lambda: rc.GameMetrics(self.game, self.game_metrics),
            "reward": rc.Reward,
            "reference": lambda: rc.ReferenceDistance(
                self.game, self.resolver, grid_step(self.grid_full, self.game.action_shape), self.redraw, B
            ),
            "snapshots": rc.Snapshots,
            "history": lambda: rc.History(self.rounds, B, N),
        }
        return [make[name]() for name in names]


def play_dynamics(
    game: MechanismGame,
    learners: Any,
    *,
    rounds: int,
    batch: int = 1,
    seed: SeedLike = None,
    feedback: str = "full",
    grid: Any = None,
    redraw: str = "episode",
    reference: Any = None,
    reference_outcome: Any = None,
    outcome_field: str | None = None,
    record_every: int = 1,
    types: Any = None,
    metrics: Any = None,
    swap_regret: bool | None = None,
    snapshots: bool | None = None,
    keep_history: bool = False,
    game_metrics: str = "round",
    context_fn: Callable[..., Mapping[str, np.ndarray]] | None = None,
    progress: bool = False,
) -> DynamicsResult:
    """Play ``game`` for ``rounds`` rounds in ``batch`` copies with a learner population.

    Parameters
    ----------
    game : MechanismGame
    learners : a learner (drives all N agents) or ``{agent index | tuple of indices: learner}``
        partitioning the agents; each learner is re-bound to ``(batch, len(group))``.
    rounds, batch : ints ≥ 1.
    seed : int, SeedSequence or None.
    feedback : "full" (full-information learners get ``U``), "bandit" (no learner gets ``U``;
        a full-information learner is then an error) or "expected" (full-information learners get
        ``game.expected_deviation_utilities(p)`` under everyone's current mixed strategies ``p``:
        the noise-free "expected" update). Regret metrics always use the realised ``U``.
    grid : int K (``game.action_grid(K)``; default ``game.default_grid_size`` or 21), a
        ``(K, ...)`` array shared by all agents or an ``(N, K, ...)`` array per agent.
    redraw : "episode" (types fixed for the run) or "round" (redrawn every round).
    reference : None, "truthful", an action profile ``(B, N, ...)`` / ``(N, ...)`` or a callable
        ``types -> (B, N, ...)`` (e.g. a known equilibrium).
    reference_outcome : None, ``(B,)`` array or callable ``types -> (B,)``: target of the scalar
        outcome; by default the outcome of ``reference``.
    outcome_field : the scalar outcome field to compare (auto: first public ``(B,)`` field).
    record_every : record every this many rounds (and always the last round).
    types : optional initial types ``(B, N, ...)`` (instead of the first draw).
    metrics : which recorders run (see ``coopsim.dynamics.recorders``): None (default: regret,
        swap regret when cheap, exploitability on normal-form games, reference distances when a
        reference is given, game metrics, reward, snapshots when cheap, history when asked),
        ``"none"`` (no series: the fastest loop) or a list of names from ``METRIC_NAMES``
        (unknown names raise ``ValueError``).
    swap_regret : track the ``(B, N, K, K)`` swap-regret sums (default: when ``B·N·K² ≤ 2e7``).
    snapshots : keep ``average_policy`` at every record point (default: when it fits 4e6 numbers).
    keep_history : keep per-round actions, rewards and scalar outcomes.
    game_metrics : "round" (``game.metrics`` every round, window-averaged), "record" (only at
        record points, last-iterate values; cheaper) or "none".
    context_fn : optional ``f(types=, t=, last_actions=, last_outcome=) -> {name: (B, N) ints}``
        called before every round (``last_*`` are None in round 1); its arrays join the learners'
        context next to ``"truthful"`` (sliced to each group), e.g. ``"state"`` for Q-learning.
    progress : show a tqdm progress bar over rounds (only when stderr is a terminal).

    Returns
    -------
    DynamicsResult
    """
    t0 = time.perf_counter()
    run = _Run(game, learners, dict(locals()))
    names = run.metric_names(metrics, swap_regret, snapshots, check_bool(keep_history, "keep_history"))
    recs = run.recorders(names)
    out = _loop(run, recs, outcome_field, context_fn, _Progress(check_bool(progress, "progress"), run.rounds))
    out["config"] = _config(run, seed, reference, names, out.pop("field"))
    return DynamicsResult(**out, wall_time=time.perf_counter() - t0)


def _config(run: _Run, seed: SeedLike, reference: Any, names: list[str], field: str | None) -> dict[str, Any]:
    """The ``config`` record of a result: the resolved arguments, the groups and the metrics run."""
    return {
        "rounds": run.rounds,
        "batch": run.B,
        "seed": None if seed is None else (seed if isinstance(seed, int) else str(seed)),
        "feedback": run.feedback,
        "K": run.K,
        "redraw": run.redraw,
        "record_every": run.record_every,
        "groups": [[list(idx), type(lr).__name__] for idx, lr in run.groups],
        "reference": None if reference is None else (reference if isinstance(reference, str) else "given"),
        "outcome_field": field,
        "swap_regret": "swap_regret" in names,
        "game": type(run.game).__name__,
        "game_metrics": run.game_metrics,
        "metrics": names,
    }


def _loop(run: _Run, recs: list, outcome_field: str | None, context_fn: Any, progress: _Progress) -> dict[str, Any]:
    """The rounds: act, play, (deviation utilities), update, observe; record at record points."""
    game, pop, B, N = run.game, run.population, run.B, run.N
    g, grid_full, ni = run.grid, run.grid_full, np.arange(N)[None, :]
    per_round = [r for r in recs if r.per_round]
    full_learners = any(pop.full)
    need_U = any(r.needs_U for r in recs) or (run.feedback == "full" and full_learners)
    need_policy = any(r.needs_policy for r in recs) or (run.feedback == "expected" and full_learners)
    expected = run.feedback == "expected" and full_learners
    expected_of: Any = getattr(game, "expected_deviation_utilities", None)  # checked by _Run for "expected"
    truthful = TruthfulIndex(game, grid_full, B)
    types = run.types
    truthful.set_types(types)
    for r in recs:
        r.new_types(types)
    rd = rc.RoundData(run, pop)
    store = rc.SeriesStore(len(run.rec_points))
    counts = np.zeros((B, N, run.K))
    count_rows, count_base = counts.reshape(-1), np.arange(B * N) * run.K  # flat (b, n, k) index
    next_record, actions, policy, outcome = run.rec_points[0], None, None, None
    for t in range(1, run.rounds + 1):
        if run.redraw == "round" and t > 1:
            types = game.sample_types(run.env_rng, B)
            truthful.set_types(types)
            for r in recs:
                r.new_types(types)
        extra = {}
        if context_fn is not None:
            last: np.ndarray | None = None if actions is None else actions.copy()
            extra = _context_extra(context_fn, B, N, types=types, t=t, last_actions=last, last_outcome=outcome)
        contexts = pop.contexts(extra, truthful)
        actions = pop.act(contexts)
        is_record = t == next_record
        if need_policy or is_record:  # the policies that chose this round's actions
            policy = pop.gather("policy")
        x = grid_full[ni, actions] if run.per_agent_grid else g[actions]  # (B, N, *ev)
        outcome = game.play(types, x)
        r = np.asarray(outcome.utility, dtype=np.float64)
        U = np.asarray(game.deviation_utilities(types, x, g), dtype=np.float64) if need_U else None
        give = np.asarray(expected_of(policy), dtype=np.float64) if expected else U
        pop.update(actions, r, give, contexts)
        if t == 1:
            rd.field = scalar_outcome_field(outcome, B, outcome_field)
        count_rows[count_base + actions.reshape(-1)] += 1.0
        rd.t, rd.types, rd.actions, rd.x, rd.outcome, rd.r, rd.U, rd.policy = (
            t,
            types,
            actions,
            x,
            outcome,
            r,
            U,
            policy,
        )
        for rec in per_round:
            rec.observe(rd)
        if is_record:
            for rec in recs:
                rec.record(rd, store)
            store.index += 1
            next_record = run.rec_points[store.index] if store.index < store.n_records else -1
        progress.tick(t)
    progress.close()
    out = {
        "rounds": np.array(run.rec_points, dtype=np.int64),
        "series": store.stack(),
        "grid": np.array(g),
        "policy": np.array(policy),
        "average_policy": pop.gather("average_policy"),
        "empirical_policy": counts / run.rounds,
        "types": np.array(types),
        "field": rd.field,
    }
    for rec in recs:
        rec.finish(out)
    return out
