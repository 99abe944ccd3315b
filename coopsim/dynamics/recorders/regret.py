"""External and swap regret (and the CCE / CE gaps) from running sums; no stored history.

External regret of agent i after t rounds (Feng et al. 2021 for the CCE reading):
``R_i(t)/t = (max_k Σ_s U_s[i, k] - Σ_s r_s[i]) / t`` (``regret``), and ``regret_expected`` with
``⟨p_{i,s}, U_s[i]⟩`` in place of ``r_s[i]``; ``cce_gap = max_i R_i(t)/t``: the empirical joint
play is an ε-CCE with ε = cce_gap. Swap regret ``(1/t) Σ_j max_k Σ_s 1{a_s = j}(U_s[k] - U_s[j])``
per agent from a ``(B, N, K, K)`` running sum, and ``ce_gap`` = its maximum over agents.
"""

from __future__ import annotations

import numpy as np

from coopsim.dynamics.recorders.base import Recorder, RoundData, SeriesStore

__all__ = ["ExternalRegret", "SwapRegret"]


class ExternalRegret(Recorder):
    """``regret``, ``regret_expected`` ``(R, B, N)``; ``cce_gap``, ``cce_gap_expected`` ``(R, B)``."""

    name = "regret"
    needs_U = True
    needs_policy = True

    def __init__(self, B: int, N: int, K: int) -> None:
        self.cum_U = np.zeros((B, N, K))
        self.cum_r = np.zeros((B, N))
        self.cum_exp = np.zeros((B, N))

    def observe(self, rd: RoundData) -> None:
        self.cum_exp += np.einsum("bnk,bnk->bn", rd.policy, rd.U)  # <p_t, U_t> of the policy played
        self.cum_U += rd.U
        self.cum_r += rd.r

    def record(self, rd: RoundData, store: SeriesStore) -> None:
        best = self.cum_U.max(axis=2)
        reg = (best - self.cum_r) / rd.t
        reg_e = (best - self.cum_exp) / rd.t
        store.put("regret", reg)
        store.put("regret_expected", reg_e)
        store.put("cce_gap", reg.max(axis=1))
        store.put("cce_gap_expected", reg_e.max(axis=1))


class SwapRegret(Recorder):
    """``swap_regret`` ``(R, B, N)`` and ``ce_gap`` ``(R, B)``; memory ``B·N·K²`` floats."""

    name = "swap_regret"
    needs_U = True

    def __init__(self, B: int, N: int, K: int) -> None:
        self.swap = np.zeros((B, N, K, K))
        self._rows = self.swap.reshape(B * N * K, K)  # row (b, n, j) of the running sum
        self._base = np.arange(B * N) * K  # flat index of row (b, n, 0); also of U[b, n, 0]
        self._shape = (B * N, K)
        # per-round scratch rows, reused: no (B*N, K) allocation per round
        self._gain = np.empty(self._shape)
        self._picked = np.empty(self._shape)

    def observe(self, rd: RoundData) -> None:
        # swap[b, n, a_bn, :] += U[b, n, :] - U[b, n, a_bn], through flat row indices (faster than
        # three broadcast index arrays; the (b, n) rows are distinct, so += is exact)
        a = rd.actions.reshape(-1)
        U = rd.U.reshape(self._shape)
        r = self._base + a
        gain = np.subtract(U, U.reshape(-1).take(r)[:, None], out=self._gain)  # U[b, n, :] - U[b, n, a_bn]
        rows = self._rows.take(r, axis=0, out=self._picked)  # take / add / put: faster than rows[r] += ...
        rows += gain
        self._rows[r] = rows

    def record(self, rd: RoundData, store: SeriesStore) -> None:
        sw = self.swap.max(axis=3).sum(axis=2) / rd.t  # (B, N); the diagonal term 0 makes it >= 0
        store.put("swap_regret", sw)
        store.put("ce_gap", sw.max(axis=1))
