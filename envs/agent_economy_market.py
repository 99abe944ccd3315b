"""Contract market of the agent economy: templates, the per-step generator and success odds.

Reference-code defaults [C] of ``rb125/cgae``: tier weights T1..T5 = .40, .25,
.20, .10, .05; ``n_k = max(1, floor(contracts_per_step * w_k))`` contracts per tier and step;
reward and penalty each times an independent U(1 - jitter, 1 + jitter) factor (jitter 0.2);
template uniform within its tier; difficulty uniform in the template's range.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_distribution,
    check_float,
    check_int,
    check_rng,
    check_size,
)

DEFAULT_TIER_WEIGHTS = np.array([0.40, 0.25, 0.20, 0.10, 0.05])

#: templates [C]: (tier, name, reward, penalty, difficulty_lo, difficulty_hi)
DEFAULT_TEMPLATES: tuple[tuple[int, str, float, float, float, float], ...] = (
    (1, "labeling", 0.002, 0.001, 0.1, 0.3),
    (1, "summarization", 0.003, 0.001, 0.1, 0.4),
    (2, "analysis", 0.015, 0.008, 0.3, 0.5),
    (2, "translation", 0.012, 0.006, 0.3, 0.6),
    (3, "contract_review", 0.08, 0.05, 0.5, 0.7),
    (3, "financial_analysis", 0.10, 0.06, 0.5, 0.8),
    (4, "workflow", 0.50, 0.30, 0.6, 0.85),
    (5, "system_optimization", 2.0, 1.0, 0.8, 0.95),
)


def check_templates(templates: Any) -> tuple[tuple[int, str, float, float, float, float], ...]:
    """Contract templates as rows ``(tier, name, reward, penalty, difficulty_lo, difficulty_hi)``:
    a non-empty sequence of 6-field rows, an integer tier >= 1, numbers >= 0 and
    ``0 <= difficulty_lo <= difficulty_hi <= 1`` (``None``: the reference templates)."""
    if templates is None:
        return DEFAULT_TEMPLATES
    if isinstance(templates, (str, bytes)) or not isinstance(templates, (list, tuple, np.ndarray)):
        raise ParameterTypeError(
            "templates",
            f"templates: expected rows (tier, name, reward, penalty, difficulty_lo, difficulty_hi), got {templates!r}",
        )
    if len(templates) == 0:
        raise ParameterError("templates", "templates: expected at least one template")
    rows = []
    for j, row in enumerate(templates):
        if isinstance(row, (str, bytes)) or not isinstance(row, (list, tuple, np.ndarray)) or len(row) != 6:
            raise ParameterTypeError(
                "templates",
                f"templates: expected row {j} as (tier, name, reward, penalty, difficulty_lo, difficulty_hi), got {row!r}",
            )
        tier = check_int(row[0], "templates", lo=1)
        reward, penalty, d_lo, d_hi = (check_float(v, "templates", lo=0.0) for v in row[2:])
        if not d_lo <= d_hi <= 1.0:
            raise ParameterError(
                "templates", f"templates: expected 0 <= difficulty_lo <= difficulty_hi <= 1 in row {j}, got {row!r}"
            )
        rows.append((tier, str(row[1]), reward, penalty, d_lo, d_hi))
    return tuple(rows)


def tier_counts(contracts_per_step: int, weights: Any = None) -> np.ndarray:
    """Contracts posted per tier and step: ``n_k = max(1, floor(n * w_k))`` (10 -> 10, 12 -> 11 in total).

    A tier with weight exactly 0 gets no contracts [DES] (used to switch tiers off in experiments)."""
    n = check_int(contracts_per_step, "contracts_per_step", lo=1)
    check_size("contracts_per_step", n, 16, what="one step's postings")
    w = DEFAULT_TIER_WEIGHTS if weights is None else check_distribution(weights, "tier_weights")
    return np.where(w > 0, np.maximum(1, np.floor(n * w + 1e-9)), 0).astype(np.int64)


class Market:
    """Vectorised contract generator: ``post(rng, B)`` returns per-contract arrays ``(B, n)``.

    ``templates`` rows are (tier, name, reward, penalty, difficulty_lo, difficulty_hi); every tier
    1..K with a positive count needs at least one template.
    """

    def __init__(
        self,
        contracts_per_step: int = 10,
        tier_weights: Any = None,
        templates: Any = None,
        jitter: float = 0.2,
        n_tiers: int = 5,
        demand_scale: Any = None,
    ) -> None:
        self.K = check_int(n_tiers, "n_tiers", lo=1)
        w = DEFAULT_TIER_WEIGHTS if tier_weights is None else check_distribution(tier_weights, "tier_weights")
        if len(w) != self.K:
            raise ValueError(f"tier_weights: expected {self.K} weights (T1..T{self.K}), got {len(w)}")
        self.tier_weights = np.asarray(w, dtype=np.float64)
        self.counts = tier_counts(contracts_per_step, self.tier_weights)
        self.jitter = check_float(jitter, "jitter", lo=0.0, hi=1.0, hi_open=True)
        rows = check_templates(templates)
        self.template_names = [str(r[1]) for r in rows]
        tt = np.array([int(r[0]) for r in rows])
        vals = as_array([[r[2], r[3], r[4], r[5]] for r in rows], "templates", ndim=2, lo=0.0)
        if np.any((tt < 1) | (tt > self.K)):
            raise ValueError(f"templates: expected tiers in 1..{self.K}, got {sorted(set(tt.tolist()))}")
        if np.any(vals[:, 2] > vals[:, 3]) or np.any(vals[:, 3] > 1):
            raise ValueError("templates: expected 0 <= difficulty_lo <= difficulty_hi <= 1")
        scale = np.ones(self.K) if demand_scale is None else as_array(demand_scale, "demand_scale", ndim=1, lo=0.0)
        if len(scale) != self.K:
            raise ValueError(f"demand_scale: expected {self.K} values, got {len(scale)}")
        self.template_tier = tt
        self.template_values = vals
        # slot layout of one step's posting: tier of each of the n contracts
        self.slot_tier = np.repeat(np.arange(1, self.K + 1), self.counts)
        self.n = int(self.counts.sum())
        # per slot, the indices of the templates of its tier
        self._choices = []
        for k in range(1, self.K + 1):
            idx = np.flatnonzero(tt == k)
            if idx.size == 0 and self.counts[k - 1] == 0:
                idx = np.zeros(1, dtype=np.int64)  # never used
            elif idx.size == 0:
                raise ValueError(f"templates: no template for tier T{k}")
            self._choices.append(idx)
        self._n_choices = np.array([len(self._choices[k - 1]) for k in self.slot_tier])
        width = max(len(c) for c in self._choices)
        self._choice_table = np.array([np.resize(self._choices[k - 1], width) for k in self.slot_tier])
        self.reward_scale = np.asarray(scale, dtype=np.float64)[self.slot_tier - 1]

    def mean_reward(self) -> np.ndarray:
        """Expected reward per contract at each tier, ``(K,)`` (jitter has mean 1)."""
        out = np.zeros(self.K)
        for k in range(1, self.K + 1):
            out[k - 1] = self.template_values[self._choices[k - 1], 0].mean()
        return out

    def post(self, rng: np.random.Generator, batch: int) -> dict[str, np.ndarray]:
        """Draw one step's postings: ``tier``, ``reward``, ``penalty``, ``difficulty``, ``template`` ``(batch, n)``."""
        check_rng(rng)
        B, n = check_int(batch, "batch", lo=1), self.n
        check_size("batch", B, n, copies=8, what="one step's postings")
        pick = (rng.random((B, n)) * self._n_choices).astype(np.int64)  # floor: the draws are >= 0
        tmpl = self._choice_table[np.arange(n), pick]
        v = self.template_values[tmpl]
        lo, hi = 1.0 - self.jitter, 1.0 + self.jitter
        reward = v[..., 0] * rng.uniform(lo, hi, (B, n)) * self.reward_scale
        penalty = v[..., 1] * rng.uniform(lo, hi, (B, n))
        difficulty = v[..., 2] + (v[..., 3] - v[..., 2]) * rng.random((B, n))
        return {
            "tier": self.slot_tier[None, :].repeat(B, axis=0),
            "reward": reward,
            "penalty": penalty,
            "difficulty": difficulty,
            "template": tmpl,
        }


def success_probability(capability: Any, difficulty: Any, ps_mult: Any = 1.0, hard_mult: Any = 1.0) -> np.ndarray:
    """Execution success probability [C]: ``p_s = clip(c (1 - 0.5 d), 0.05, 0.95)``, then times
    ``ps_mult`` (capped at 0.95) and times ``hard_mult`` when ``d > 0.5`` (archetype modifiers)."""
    c = np.asarray(capability, dtype=np.float64)
    d = np.asarray(difficulty, dtype=np.float64)
    p = np.minimum(np.maximum(c * (1.0 - 0.5 * d), 0.05), 0.95)
    p = np.minimum(p * ps_mult, 0.95)
    return np.where(d > 0.5, p * hard_mult, p)
