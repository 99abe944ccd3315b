"""What agents and the designer see: per-agent observations, the global state, per-step metrics.

Observation of agent i, float32, layout ``OBS_FIELDS`` (45 entries with K = 5): certified scores
(4), effective scores (4), tier / K, per-dimension tiers ``g_i(R_eff) / K`` (3), gap to the next tier
per dimension ``max(0, theta_i^{tier+1} - R_eff,i)`` (0 at the top) (3), binding dimension one-hot (3),
balance, exposure, headroom ``min(B_tier, 1e6) - E``, status one-hot (6), open contracts and their
mean reward per tier T1..TK (K + K), share of ACTIVE agents per tier T0..TK (K + 1), own pass rate,
``t / horizon``. Money-valued entries are clipped to +-``OBS_BOUND``. Never observed: true scores,
capability, the audit schedule, others' balances.
"""

from __future__ import annotations

import functools

import numpy as np
from coopsim.envs.agent_economy.audits import effective, effective_scores
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.state import ACTIVE, C_OPEN, EMPTY, EconomyState, exposure, row_offsets
from coopsim.mechanisms import gates as G

OBS_FIELDS = (
    ("certified", 4),
    ("effective", 4),
    ("tier", 1),
    ("dimension_tiers", 3),
    ("gap", 3),
    ("binding", 3),
    ("balance", 1),
    ("exposure", 1),
    ("headroom", 1),
    ("status", 6),
    ("open_per_tier", 5),
    ("mean_reward_per_tier", 5),
    ("tier_shares", 6),
    ("pass_rate", 1),
    ("time", 1),
)
OBS_SIZE = sum(n for _, n in OBS_FIELDS)
#: observation bound: money-valued entries (balance, exposure, headroom) are clipped to +-OBS_BOUND
OBS_BOUND = 1e6
_EYE3, _EYE6 = np.eye(3), np.eye(6)
#: up to this many slots the whole observation is clipped in one call; above, only unbounded entries
CLIP_ALL_MAX = 4096


@functools.lru_cache(maxsize=8)
def _slices(K: int) -> dict[str, slice]:
    sizes = dict(OBS_FIELDS)
    sizes.update(open_per_tier=K, mean_reward_per_tier=K, tier_shares=K + 1)
    out, i = {}, 0
    for name, _ in OBS_FIELDS:
        out[name] = slice(i, i + sizes[name])
        i += sizes[name]
    return out


def tier_counts(s: EconomyState, K: int) -> np.ndarray:
    """ACTIVE agents per tier T0..TK, ``(B, K + 1)``."""
    B = s.batch_size
    idx = (row_offsets(B, K + 1) + s.tier)[s.status == ACTIVE]
    return np.bincount(idx, minlength=B * (K + 1)).reshape(B, K + 1)


def observe(s: EconomyState, p: EnvParams, scores: np.ndarray | None = None) -> np.ndarray:
    """Observations ``(B, N, OBS_SIZE)`` float32 (layout in the module docstring); ``scores``: the
    :func:`effective_scores` of ``s`` when already computed (``StepTally.scores``)."""
    B, N, K = s.batch_size, s.n_agents, p.K
    sl = _slices(K)
    # float32 from the start: rounding then clipping to the (float32-exact) bound equals clipping then rounding
    out = np.empty((B, N, sl["time"].stop), dtype=np.float32)
    r_ih = effective_scores(s, p) if scores is None else scores
    r_cl = np.minimum(np.maximum(r_ih[..., :3], 0.0), 1.0)  # np.clip's numbers, one layer of calls less
    th = p.thresholds
    g = G.dimension_tiers(r_cl, th, validate=False)
    binding = g.argmin(axis=-1)  # the first dimension at the lowest tier
    expo = exposure(s)
    by_tier = _tier_table(th.tobytes(), p.capped_ceilings.tobytes(), K)[s.tier]  # (B, N, 5)
    e = sl["effective"].start
    out[..., sl["certified"]] = s.r_cert
    out[..., e : e + 4] = r_ih
    out[..., sl["tier"].start] = by_tier[..., 0]
    out[..., sl["dimension_tiers"]] = _fractions(K)[g]  # k / K by table lookup (the same divisions, done once)
    out[..., sl["gap"]] = np.maximum(0.0, by_tier[..., 1:4] - r_cl)
    out[..., sl["binding"]] = _EYE3[binding]
    out[..., sl["balance"].start] = s.balance
    out[..., sl["exposure"].start] = expo
    out[..., sl["headroom"].start] = by_tier[..., 4] - expo
    out[..., sl["status"]] = _EYE6[s.status]
    if np.count_nonzero(s.c_state == C_OPEN):
        n_open, mean_r = _open_per_tier(s, K)
        out[..., sl["open_per_tier"]] = n_open[:, None, :]
        out[..., sl["mean_reward_per_tier"]] = mean_r[:, None, :]
    else:  # no open posting (the usual state between steps when postings live one step): both 0
        out[..., sl["open_per_tier"].start : sl["mean_reward_per_tier"].stop] = 0.0
    out[..., sl["tier_shares"]] = _fractions(N)[tier_counts(s, K)][:, None, :]
    out[..., sl["pass_rate"].start] = s.passes / np.maximum(s.settled, 1)
    out[..., sl["time"].start] = (s.t / p.horizon)[:, None]
    if B * N <= CLIP_ALL_MAX:  # small: clip everything in place at once (np.clip's numbers)
        return np.minimum(np.maximum(out, -OBS_BOUND, out=out), OBS_BOUND, out=out)
    # large: clip only the unbounded entries (the others are scores, tiers / K, one-hots, shares in [0, 1])
    for name in ("balance", "exposure", "headroom", "open_per_tier", "mean_reward_per_tier", "time"):
        np.clip(out[..., sl[name]], -OBS_BOUND, OBS_BOUND, out=out[..., sl[name]])
    return out


@functools.lru_cache(maxsize=8)
def _tier_table(thresholds: bytes, capped_ceilings: bytes, K: int) -> np.ndarray:
    """What the observation reads per certified tier k, ``(K + 1, 5)`` (read-only): ``k / K``, the
    next tier's thresholds ``theta^{k+1}`` (CC, ER, AS; -inf above the top tier, so that its gap
    ``max(0, -inf)`` is 0) and the capped ceiling ``min(B_k, HEADROOM_CAP)``; from the ``(3, K + 1)``
    threshold table's and the ``(K + 1,)`` capped ceilings' bytes."""
    th = np.frombuffer(thresholds).reshape(3, K + 1)
    th_next = np.concatenate((th[:, 1:], np.full((3, 1), -np.inf)), axis=1).T
    out = np.column_stack([_fractions(K), th_next, np.frombuffer(capped_ceilings)])
    out.flags.writeable = False
    return out


@functools.lru_cache(maxsize=64)
def _fractions(n: int) -> np.ndarray:
    """``k / n`` for ``k = 0..n`` (read-only)."""
    out = np.arange(n + 1) / n
    out.flags.writeable = False
    return out


def _open_per_tier(s: EconomyState, K: int) -> tuple[np.ndarray, np.ndarray]:
    """OPEN contracts per tier T1..TK and their mean reward (0 where none), ``(B, K)`` each. The
    rewards of a (copy, tier) are added in book order, as a sum over the book axis would."""
    B = s.batch_size
    op = s.c_state == C_OPEN
    idx = (row_offsets(B, K) + s.c_tier - 1)[op]
    n_open = np.bincount(idx, minlength=B * K).reshape(B, K)
    total = np.bincount(idx, weights=s.c_reward[op], minlength=B * K).reshape(B, K)
    return n_open, np.where(n_open > 0, total / np.maximum(n_open, 1), 0.0)


def global_state(s: EconomyState, p: EnvParams) -> np.ndarray:
    """Global state per copy ``(B, 4 N + 1)``: tiers, statuses, balances, exposures of every slot, t / horizon."""
    st = np.concatenate([s.tier, s.status, s.balance, exposure(s), (s.t / p.horizon)[:, None]], axis=1)
    return np.clip(st, -OBS_BOUND, OBS_BOUND).astype(np.float32)


def gini(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Gini of balances clipped at 0, per row over ``mask``:
    ``G = sum_i (2 i - n - 1) x_(i) / (n sum x)`` with ``x_(1) <= ... <= x_(n)`` (0 if the sum is 0)."""
    N = x.shape[1]
    v = np.sort(np.where(mask, np.maximum(x, 0.0), -1.0), axis=1)  # excluded slots sort first
    n = mask.sum(axis=1)
    rank = np.arange(1, N + 1)[None, :] - (N - n)[:, None]  # 1..n for included entries
    vv = np.where(rank >= 1, v, 0.0)
    tot = vv.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = ((2 * rank - n[:, None] - 1) * vv).sum(axis=1) / (n * tot)
    return np.where((n > 0) & (tot > 0), g, 0.0)


def safety(s: EconomyState, p: EnvParams, tier_now: np.ndarray) -> dict[str, np.ndarray]:
    """Aggregate safety S (Baxi 2026, Definition 17) after acceptance, ``(B,)`` each:
    "active" weights = exposure of ACTIVE agents; "potential" = exposure, or the ceiling
    ``B_f(R_eff)`` where the exposure is 0; weakest link ``min(CC, ER, AS)`` of ``R_eff``."""
    expo = exposure(s)
    r_eff, _ = effective(s, p)
    rbar = np.clip(r_eff.min(axis=-1), 0.0, 1.0)
    active = s.status == ACTIVE
    pot_w = np.where(active, p.capped_ceilings[tier_now], 0.0)
    pot_w = np.where(expo > 0, expo, pot_w)
    return {
        "safety_active": G.aggregate_safety(np.where(active, expo, 0.0), rbar, validate=False),
        "safety_potential": G.aggregate_safety(np.where(active, pot_w, 0.0), rbar, validate=False),
    }


def exposure_ratio(expo: np.ndarray, ceiling: np.ndarray) -> np.ndarray:
    """``E / B`` elementwise: 0 where ``E = 0``, ``inf`` where ``E > 0 = B``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expo > 0, np.where(ceiling > 0, expo / np.where(ceiling > 0, ceiling, 1.0), np.inf), 0.0)


def occupied(s: EconomyState) -> np.ndarray:
    return s.status != EMPTY
