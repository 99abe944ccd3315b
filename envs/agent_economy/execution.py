"""Phase (3): execution of due contracts, verification and settlement.

A contract is due when ``t >= due`` (accepted at ``t_acc`` with duration ``d``: due at
``t_acc + d - 1``) and not past its deadline. Success ~ Bernoulli(p_s) with the performer's
``p_s = clip(c (1 - 0.5 difficulty), 0.05, 0.95)`` and archetype modifiers (times
``1 - phi + phi min(CC, ER, AS)`` of its true scores when ``robustness_factor`` phi > 0); the
verifier passes a success with probability ``1 - false_fail`` and a failure with ``false_pass``.
Pass: the escrowed reward goes to the performer (the delegator keeps ``delegation_fee`` of it).
Fail: the reward returns to the issuer and the liable agent pays the penalty to the issuer (or the
burn account). Every transfer is double entry.
"""

from __future__ import annotations

import numpy as np
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.state import C_ASSIGNED, C_COMPLETED, C_FAILED, EconomyState
from coopsim.envs.agent_economy_market import success_probability


def execute(s: EconomyState, p: EnvParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Settle every due contract; returns ``(surplus, losses)`` (B,): rewards of true successes and
    penalties of true failures (before verification errors)."""
    B = s.batch_size
    st = p.settlement
    surplus, losses = np.zeros(B), np.zeros(B)
    due = s.c_state == C_ASSIGNED
    if not np.count_nonzero(due):  # no contract running: nothing to settle
        return surplus, losses
    due &= (s.c_due <= s.t[:, None]) & (s.c_due <= s.c_deadline)
    if not np.count_nonzero(due):
        return surplus, losses
    b, c = due.nonzero()
    perf, liable = s.c_performer[b, c], s.c_liable[b, c]
    ps = success_probability(s.capability[b, perf], s.c_difficulty[b, c], s.ps_mult[b, perf], s.hard_mult[b, perf])
    if st.robustness_factor > 0:  # optional: execution also depends on true weakest-link robustness
        phi = st.robustness_factor
        ps = ps * (1.0 - phi + phi * s.r_true[b, perf, :3].min(axis=-1))
    u = rng.random((2, len(b)))
    success = u[0] < ps
    passed = np.where(success, u[1] >= st.false_fail, u[1] < st.false_pass)
    r, pen_c, tier = s.c_reward[b, c], s.c_penalty[b, c], s.c_tier[b, c]
    fee = np.where(perf != liable, st.delegation_fee, 0.0)
    pay_perf = np.where(passed, r * (1 - fee), 0.0)
    pay_lia = np.where(passed, r * fee, 0.0)
    np.add.at(s.balance, (b, perf), pay_perf)
    np.add.at(s.balance, (b, liable), pay_lia)
    np.add.at(s.earned, (b, perf), pay_perf)
    np.add.at(s.earned, (b, liable), pay_lia)
    np.add.at(s.acct["escrow"], b, -r)
    np.add.at(s.acct["issuer"], b, np.where(passed, 0.0, r))
    pen = np.where(passed, 0.0, pen_c)
    np.add.at(s.balance, (b, liable), -pen)
    np.add.at(s.acct["issuer" if st.penalty_sink == "issuer" else "burn"], b, pen)
    s.c_state[b, c] = np.where(passed, C_COMPLETED, C_FAILED)
    np.add.at(s.passes, (b, perf), passed.astype(np.float64))
    np.add.at(s.settled, (b, perf), 1.0)
    _tally_by_tier(s, b, tier, success, r, pen_c, passed)
    np.add.at(surplus, b, np.where(success, r, 0.0))
    np.add.at(losses, b, np.where(success, 0.0, pen_c))
    return surplus, losses


def _tally_by_tier(s, b, tier, success, r, pen, passed) -> None:
    """Settled, truly failed, loss and value per contract tier; false passes per copy."""
    cum = s.cum
    np.add.at(cum["settled_by_tier"], (b, tier - 1), 1)
    np.add.at(cum["failed_by_tier"], (b, tier - 1), (~success).astype(np.int64))
    np.add.at(cum["loss_by_tier"], (b, tier - 1), np.where(success, 0.0, pen))
    np.add.at(cum["value_by_tier"], (b, tier - 1), np.where(success, r, 0.0))
    np.add.at(cum["false_passes"], b, (passed & ~success).astype(np.int64))
