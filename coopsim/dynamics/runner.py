"""Repeated play of a ``MechanismGame`` by a population of vectorised learners.

One call of :func:`run` plays ``rounds`` rounds in ``batch`` independent copies. Per round:

1. types: drawn once (``redraw="episode"``) or every round (``redraw="round"``) from the env stream;
2. every learner group acts: ``a[:, g] = learner.act(rng_g, context)`` with
   ``context = {"truthful": nearest grid index of game.truthful_actions(types)}``;
3. the game plays the grid actions ``x = grid[a]``: realised utilities ``r (B, N)``;
4. deviation utilities ``U = game.deviation_utilities(types, x, grid)`` ``(B, N, K)`` are computed
   every round: they are given to full-information learners (never to bandit learners, and to no
   learner with ``feedback="bandit"``) and always feed the regret metrics;
5. ``learner.update(a_g, r_g, full=U_g or None, context)``.

Metrics (learning spec §6), from running sums (no stored history):

- external regret ``R_i(t)/t = (max_k Σ_s U_s[i, k] - Σ_s r_s[i]) / t`` (``regret``) and the
  expected version with ``⟨p_{i,s}, U_s[i]⟩`` in place of ``r_s[i]`` (``regret_expected``);
- ``cce_gap = max_i R_i(t)/t`` (and ``cce_gap_expected``): the empirical joint play is an
  ε-CCE with ε = cce_gap (Feng et al. 2021);
- swap regret ``(1/t) Σ_j max_k Σ_s 1{a_s = j} (U_s[k] - U_s[j])`` per agent and ``ce_gap`` = its
  max over agents, from a ``(B, N, K, K)`` running sum (on by default when ``B·N·K² ≤ 2·10⁷``);
- distance to a reference profile (``reference``): report-level ``mean_i |x_i - ref_i|``
  (``report_distance``) and the share of agents within one grid step (``report_within_step``);
  outcome-level ``|f(x) - f(ref)|`` (``outcome_distance``) where the game's outcome has a scalar
  public field (e.g. the facility ``location``), and ``|mean_{s≤t} f(x_s) - f*|``
  (``avg_outcome_distance``, fixed types only);
- the game's own ``metrics``; per-agent ``reward``; for games with a ``payoff_tensor``
  (normal-form; grid = action indices), ``exploitability`` of the current policy (NaN when a
  learner without a mask puts mass on padded entries) and ``exploitability_avg`` of the
  average policy (exact, OpenSpiel convention NashConv/N).

Window averages: series of per-round quantities (game metrics, rewards, distances) are averaged
over the rounds since the previous record point in which they were reported (NaN where a metric
was not reported in the whole window); regret-type series are cumulative by definition.

Randomness: one ``SeedSequence(seed)`` spawns, in this order, the env stream (types), the
evaluator stream, then one stream per learner group (in the order the groups are given). Every
draw has a fixed shape per round, so the same ``(seed, batch)`` gives bit-identical results.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from coopsim.core.game import MechanismGame
from coopsim.core.seeding import SeedLike, seed_sequence
from coopsim.core.validation import as_array, check_choice, check_int
from coopsim.dynamics.result import DynamicsResult

__all__ = ["run", "normalize_groups"]

_SWAP_AUTO_LIMIT = 2 * 10**7
_SNAPSHOT_AUTO_LIMIT = 4 * 10**6


def normalize_groups(learners: Any, n_agents: int) -> list[tuple[tuple[int, ...], Any]]:
    """``[(agent indices, learner), ...]`` from one learner (all agents) or a mapping
    ``{agent index or tuple of indices: learner}`` that partitions ``range(n_agents)``."""
    if isinstance(learners, Mapping):
        items = list(learners.items())
    else:
        items = [(tuple(range(n_agents)), learners)]
    groups: list[tuple[tuple[int, ...], Any]] = []
    seen: dict[int, int] = {}
    for g, (key, learner) in enumerate(items):
        idx = (key,) if isinstance(key, (int, np.integer)) and not isinstance(key, bool) else key
        try:
            idx = tuple(int(check_int(i, "learners key")) for i in idx)
        except TypeError:
            raise TypeError(f"learners: keys must be agent indices or tuples of them, got {key!r}") from None
        if not idx:
            raise ValueError(f"learners: empty agent group {key!r}")
        for i in idx:
            if not 0 <= i < n_agents:
                raise ValueError(f"learners: agent index {i} out of range [0, {n_agents})")
            if i in seen:
                raise ValueError(f"learners: agent {i} appears in two groups")
            seen[i] = g
        for attr in ("bind", "act", "update"):
            if not callable(getattr(learner, attr, None)):
                raise TypeError(f"learners: {type(learner).__name__} has no {attr}() method (not a learner)")
        groups.append((idx, learner))
    missing = sorted(set(range(n_agents)) - set(seen))
    if missing:
        raise ValueError(f"learners: agents {missing} have no learner (use Truthful or Constant for fixed agents)")
    # a learner object may drive only one group (it holds that group's state)
    if len({id(learner) for _, learner in groups}) != len(groups):
        raise ValueError("learners: the same learner object is given for two groups; use one object per group")
    return groups


def _resolve_grid(game: MechanismGame, grid: Any) -> np.ndarray:
    if grid is None:
        grid = getattr(game, "default_grid_size", 21)
    if isinstance(grid, (int, np.integer)) and not isinstance(grid, bool):
        g = np.asarray(game.action_grid(check_int(grid, "grid", lo=1)), dtype=np.float64)
    else:
        g = as_array(grid, "grid")
    ev = len(game.action_shape)
    if g.ndim == 1 + ev:
        K = g.shape[0]
    elif g.ndim == 2 + ev and g.shape[0] == game.n_agents:
        K = g.shape[1]
    else:
        raise ValueError(
            f"grid: expected an int K, a (K, ...) array or an (N={game.n_agents}, K, ...) array "
            f"for action shape {game.action_shape}, got shape {g.shape}"
        )
    if K < 1:
        raise ValueError("grid: expected at least one candidate action")
    return g


def _scalar_outcome_field(outcome: Any, B: int, name: str | None) -> str | None:
    """The name of a scalar per-copy outcome field: ``name`` if given, else the first public field
    of shape ``(B,)`` (e.g. ``location``), else None."""
    fields = getattr(outcome, "fields", {})
    if name is not None:
        if name not in fields:
            raise ValueError(f"outcome_field: the game's outcome has no field {name!r}; fields: {sorted(fields)}")
        return name
    for f in tuple(getattr(outcome, "public", ())) + tuple(fields):
        v = fields.get(f)
        if v is not None and np.ndim(v) == 1 and np.shape(v)[0] == B and np.issubdtype(np.asarray(v).dtype, np.number):
            return f
    return None


def _stack_records(values: dict[int, np.ndarray], n_records: int) -> np.ndarray:
    """``(R, ...)`` array of one series; NaN at record points where the value was never reported
    (a game metric the game returns only in some rounds)."""
    first = np.asarray(next(iter(values.values())), dtype=np.float64)
    out = np.full((n_records, *first.shape), np.nan)
    for r, v in values.items():
        out[r] = v
    return out


def run(
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
    swap_regret: bool | None = None,
    snapshots: bool | None = None,
    keep_history: bool = False,
    game_metrics: str = "round",
    context_fn: Callable[..., Mapping[str, np.ndarray]] | None = None,
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
        the noise-free "expected" update of spec §4.1). Regret metrics always use the realised ``U``.
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
    swap_regret : track the ``(B, N, K, K)`` swap-regret sums (default: when ``B·N·K² ≤ 2e7``).
    snapshots : keep ``average_policy`` at every record point (default: when it fits 4e6 numbers).
    keep_history : keep per-round actions, rewards and scalar outcomes.
    game_metrics : "round" (``game.metrics`` every round, window-averaged), "record" (only at
        record points, last-iterate values; cheaper) or "none".
    context_fn : optional ``f(types=, t=, last_actions=, last_outcome=) -> {name: (B, N) ints}``
        called before every round (``last_*`` are None in round 1); its arrays join the learners'
        context next to ``"truthful"`` (sliced to each group), e.g. ``"state"`` for Q-learning.

    Returns
    -------
    DynamicsResult
    """
    t0 = time.perf_counter()
    if not isinstance(game, MechanismGame):
        raise TypeError(f"game: expected a coopsim.core.MechanismGame, got {type(game).__name__}")
    rounds = check_int(rounds, "rounds", lo=1)
    B = check_int(batch, "batch", lo=1)
    feedback = check_choice(feedback, "feedback", ("full", "bandit", "expected"))
    if feedback == "expected" and not callable(getattr(game, "expected_deviation_utilities", None)):
        raise ValueError(
            f"feedback: 'expected' needs game.expected_deviation_utilities(mixed), which "
            f"{type(game).__name__} does not provide"
        )
    redraw = check_choice(redraw, "redraw", ("episode", "round"))
    record_every = check_int(record_every, "record_every", lo=1)
    game_metrics = check_choice(game_metrics, "game_metrics", ("round", "record", "none"))
    N = game.n_agents
    groups = normalize_groups(learners, N)
    g = _resolve_grid(game, grid)
    ev = game.action_shape
    per_agent_grid = g.ndim == 2 + len(ev)
    grid_full = g if per_agent_grid else np.broadcast_to(g, (N, *g.shape))  # (N, K, *ev)
    K = grid_full.shape[1]
    agent_idx = np.arange(N)

    # bind learners and check their action counts and feedback kinds
    for idx, learner in groups:
        learner.bind(B, len(idx))
        k_l = getattr(learner, "K", None)
        if k_l is not None and int(k_l) != K:
            raise ValueError(
                f"learners: {type(learner).__name__} for agents {idx} has K = {k_l} actions, the grid has {K}"
            )
        kind = getattr(learner, "feedback", "full")
        if feedback == "bandit" and kind == "full":
            raise ValueError(
                f"feedback: 'bandit' runs never pass deviation utilities, but "
                f"{type(learner).__name__} (agents {idx}) is a full-information learner"
            )

    # randomness: env, evaluator, one stream per group
    ss = seed_sequence(seed)
    children = ss.spawn(2 + len(groups))
    env_rng = np.random.default_rng(children[0])
    _eval_rng = np.random.default_rng(children[1])  # reserved for Monte Carlo evaluators
    group_rngs = [np.random.default_rng(c) for c in children[2:]]

    if types is None:
        cur_types = game.sample_types(env_rng, B)
    else:
        cur_types = game.check_types(types)
        if cur_types.shape[0] != B:
            raise ValueError(f"types: expected {B} copies (batch), got {cur_types.shape[0]}")

    # reference handling
    if reference is not None and not (isinstance(reference, str) or callable(reference)):
        ref_fixed = np.broadcast_to(as_array(reference, "reference"), (B, N, *ev)).astype(np.float64)
    else:
        ref_fixed = None
        if isinstance(reference, str):
            check_choice(reference, "reference", ("truthful",))
    if reference_outcome is not None and not callable(reference_outcome):
        refout_fixed = np.broadcast_to(as_array(reference_outcome, "reference_outcome"), (B,)).astype(np.float64)
    else:
        refout_fixed = None

    def reference_actions(ty: np.ndarray) -> np.ndarray | None:
        if reference is None:
            return None
        if ref_fixed is not None:
            return ref_fixed
        if isinstance(reference, str):
            return np.asarray(game.truthful_actions(ty), dtype=np.float64)
        out = np.asarray(reference(ty), dtype=np.float64)
        if out.shape != (B, N, *ev):
            raise ValueError(f"reference: the callable returned shape {out.shape}, expected {(B, N, *ev)}")
        return out

    # grid step for "within one step" (scalar actions: the median spacing of each agent's grid)
    if len(ev) == 0 and K > 1:
        step = np.median(np.abs(np.diff(np.sort(grid_full, axis=1), axis=1)), axis=1)  # (N,)
    else:
        step = np.zeros(N)

    def nearest_index(x: np.ndarray) -> np.ndarray:
        d = x[:, :, None] - grid_full[None]  # (B, N, K, *ev)
        if len(ev):
            d = np.sqrt((d.reshape(B, N, K, -1) ** 2).sum(axis=-1))
        return np.abs(d).argmin(axis=2).astype(np.int64)

    # state derived from types (recomputed when they change)
    def type_state(ty: np.ndarray):
        truth_idx = nearest_index(np.asarray(game.truthful_actions(ty), dtype=np.float64).reshape(B, N, *ev))
        ref = reference_actions(ty)
        ref_out = None
        if refout_fixed is not None:
            ref_out = refout_fixed
        elif callable(reference_outcome):
            ref_out = np.broadcast_to(np.asarray(reference_outcome(ty), dtype=np.float64), (B,))
        return truth_idx, ref, ref_out

    truth_idx, ref_actions, ref_out = type_state(cur_types)

    # metric state
    payoff = getattr(game, "payoff_tensor", None)
    exploit = payoff is not None and len(ev) == 0 and K == max(np.shape(payoff)[1:])
    if exploit:
        # the grid must be the action indices (row i: 0..A_i-1, then padding) for policies to be
        # distributions over the game's actions
        n_act = np.asarray(np.shape(payoff)[1:])
        valid = np.arange(K)[None, :] < n_act[:, None]
        exploit = bool(np.all(np.where(valid, grid_full == np.arange(K)[None, :], True)))

    def exploitability_or_nan(p: np.ndarray) -> np.ndarray:
        from coopsim.analysis.equilibrium import exploitability

        try:
            return np.asarray(exploitability(game, p), dtype=np.float64)
        except ValueError:  # probability on padded grid entries (learner without a mask)
            return np.full(B, np.nan)

    if swap_regret is None:
        swap_regret = B * N * K * K <= _SWAP_AUTO_LIMIT
    rec_points = sorted({t for t in range(record_every, rounds + 1, record_every)} | {rounds})
    R = len(rec_points)
    if snapshots is None:
        snapshots = R * B * N * K <= _SNAPSHOT_AUTO_LIMIT
    cum_U = np.zeros((B, N, K))
    cum_r = np.zeros((B, N))
    cum_exp = np.zeros((B, N))
    counts = np.zeros((B, N, K))
    swap = np.zeros((B, N, K, K)) if swap_regret else None
    bi = np.arange(B)[:, None]
    ni = agent_idx[None, :]

    series: dict[str, dict[int, np.ndarray]] = {}  # name -> {record index: value}
    window: dict[str, np.ndarray] = {}
    window_n: dict[str, int] = {}
    n_rec = 0  # record points done so far
    snaps: list[np.ndarray] = []
    hist_a = np.zeros((rounds, B, N), dtype=np.int64) if keep_history else None
    hist_r = np.zeros((rounds, B, N)) if keep_history else None
    hist_o: np.ndarray | None = None
    field_name: str | None = None
    field_checked = False
    ref_field_value: np.ndarray | None = None
    cum_out = np.zeros(B)
    actions = np.zeros((B, N), dtype=np.int64)
    last_outcome = None
    policy = np.zeros((B, N, K))
    single = len(groups) == 1 and groups[0][0] == tuple(range(N))  # one learner, agents in order

    def put(name: str, value: np.ndarray) -> None:
        series.setdefault(name, {})[n_rec] = value

    def add_window(name: str, value: np.ndarray) -> None:
        window_n[name] = window_n.get(name, 0) + 1
        if name in window:
            window[name] += value
        else:
            window[name] = np.array(value, dtype=np.float64)

    def current(attr: str) -> np.ndarray:
        out = np.zeros((B, N, K))
        for idx, learner in groups:
            out[:, list(idx)] = np.asarray(getattr(learner, attr))
        return out

    for t in range(1, rounds + 1):
        if redraw == "round" and t > 1:
            cur_types = game.sample_types(env_rng, B)
            truth_idx, ref_actions, ref_out = type_state(cur_types)
            ref_field_value = None
        # 1. act
        extra: dict[str, np.ndarray] = {}
        if context_fn is not None:
            got = context_fn(
                types=cur_types, t=t, last_actions=None if t == 1 else actions.copy(), last_outcome=last_outcome
            )
            if not isinstance(got, Mapping):
                raise TypeError(f"context_fn: expected a dict of (B, N) integer arrays, got {type(got).__name__}")
            for key, v in got.items():
                v = np.asarray(v)
                if v.shape != (B, N) or not np.issubdtype(v.dtype, np.integer):
                    raise ValueError(f"context_fn: {key!r} must be a ({B}, {N}) integer array, got {v.dtype} {v.shape}")
                extra[str(key)] = v
        contexts = []
        for idx, _ in groups:
            sel = list(idx)
            ctx = {key: v[:, sel] for key, v in extra.items()}
            ctx["truthful"] = truth_idx[:, sel]
            contexts.append(ctx)
        for (idx, learner), rng, ctx in zip(groups, group_rngs, contexts):
            sel = list(idx)
            a = np.asarray(learner.act(rng, context=ctx))
            if a.shape != (B, len(idx)):
                raise ValueError(f"{type(learner).__name__}.act returned shape {a.shape}, expected {(B, len(idx))}")
            if single:
                actions = a.astype(np.int64, copy=False)
                policy = np.array(learner.policy)  # a copy: learners may reuse buffers
            else:
                actions[:, sel] = a
                policy[:, sel] = np.asarray(learner.policy)
        if actions.min() < 0 or actions.max() >= K:
            raise ValueError(f"learners returned action indices outside [0, {K})")
        x = grid_full[ni, actions] if per_agent_grid else g[actions]  # (B, N, *ev)
        # 2. play and deviation utilities
        outcome = game.play(cur_types, x)
        last_outcome = outcome
        r = np.asarray(outcome.utility, dtype=np.float64)
        U = np.asarray(game.deviation_utilities(cur_types, x, g), dtype=np.float64)
        cum_exp += np.einsum("bnk,bnk->bn", policy, U)  # <p_t, U_t> before any update
        # 3. learn
        U_give = U
        if feedback == "expected":
            U_give = np.asarray(game.expected_deviation_utilities(policy), dtype=np.float64)
        for (idx, learner), ctx in zip(groups, contexts):
            sel = list(idx)
            give = feedback != "bandit" and getattr(learner, "feedback", "full") == "full"
            learner.update(actions[:, sel], r[:, sel], full=U_give[:, sel] if give else None, context=ctx)
        # 4. metrics
        cum_U += U
        cum_r += r
        counts[bi, ni, actions] += 1.0
        if swap is not None:
            Ua = np.take_along_axis(U, actions[:, :, None], axis=2)  # (B, N, 1)
            swap[bi, ni, actions] += U - Ua
        is_record = t == rec_points[n_rec]
        if game_metrics == "round" or (game_metrics == "record" and is_record):
            for name, v in game.metrics(cur_types, outcome).items():
                v = np.asarray(v, dtype=np.float64)
                if game_metrics == "record":
                    put(name, v)
                else:
                    add_window(name, v)
        add_window("reward", r)
        if not field_checked:
            field_name = _scalar_outcome_field(outcome, B, outcome_field)
            field_checked = True
            if keep_history and field_name is not None:
                hist_o = np.zeros((rounds, B))
        f_val = None
        if field_name is not None:
            f_val = np.asarray(outcome.fields[field_name], dtype=np.float64)
            cum_out += f_val
        if keep_history:
            hist_a[t - 1] = actions
            hist_r[t - 1] = r
            if hist_o is not None:
                hist_o[t - 1] = f_val
        if ref_actions is not None:
            diff = np.abs(x - ref_actions).reshape(B, N, -1).mean(axis=2)
            add_window("report_distance", diff.mean(axis=1))
            add_window("report_within_step", (diff <= step[None, :] * (1 + 1e-9) + 1e-12).mean(axis=1))
        if field_name is not None and (ref_out is not None or ref_actions is not None):
            if ref_out is None and ref_field_value is None:
                ref_field_value = np.asarray(game.play(cur_types, ref_actions).fields[field_name], dtype=np.float64)
            target = ref_out if ref_out is not None else ref_field_value
            add_window("outcome_distance", np.abs(f_val - target))
        # 5. record
        if is_record:
            for name, v in window.items():
                put(name, v / window_n[name])
            window.clear()
            window_n.clear()
            best = cum_U.max(axis=2)
            reg = (best - cum_r) / t
            reg_e = (best - cum_exp) / t
            put("regret", reg)
            put("regret_expected", reg_e)
            put("cce_gap", reg.max(axis=1))
            put("cce_gap_expected", reg_e.max(axis=1))
            if swap is not None:
                sw = swap.max(axis=3).sum(axis=2) / t  # (B, N); diagonal term 0 => ≥ 0
                put("swap_regret", sw)
                put("ce_gap", sw.max(axis=1))
            if field_name is not None and redraw == "episode" and (ref_out is not None or ref_field_value is not None):
                target = ref_out if ref_out is not None else ref_field_value
                put("avg_outcome_distance", np.abs(cum_out / t - target))
            avg = current("average_policy")
            if exploit:
                put("exploitability", exploitability_or_nan(policy))
                put("exploitability_avg", exploitability_or_nan(avg))
            if snapshots:
                snaps.append(avg)
            n_rec += 1

    rec = np.array(rec_points, dtype=np.int64)
    out_series = {name: _stack_records(v, R) for name, v in series.items()}
    config = {
        "rounds": rounds,
        "batch": B,
        "seed": None if seed is None else (seed if isinstance(seed, int) else str(seed)),
        "feedback": feedback,
        "K": K,
        "redraw": redraw,
        "record_every": record_every,
        "groups": [[list(idx), type(lr).__name__] for idx, lr in groups],
        "reference": None if reference is None else (reference if isinstance(reference, str) else "given"),
        "outcome_field": field_name,
        "swap_regret": bool(swap_regret),
        "game": type(game).__name__,
        "game_metrics": game_metrics,
    }
    history = None
    if keep_history:
        history = {"actions": hist_a, "rewards": hist_r}
        if hist_o is not None:
            history["outcome"] = hist_o
    return DynamicsResult(
        rounds=rec,
        series=out_series,
        grid=np.array(g),
        policy=np.array(policy),
        average_policy=current("average_policy"),
        empirical_policy=counts / rounds,
        types=np.array(cur_types),
        config=config,
        policy_snapshots=np.stack(snaps) if snapshots and snaps else None,
        history=history,
        wall_time=time.perf_counter() - t0,
    )
