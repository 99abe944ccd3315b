"""The ``on_demotion`` policy: what happens to open contracts of an agent that was just demoted.

"block_new" (reference-code behaviour) and "grandfather" leave them running (acceptance then checks
the full, or the non-grandfathered, exposure against the new ceiling); "force_unwind" cancels, right
after the demotion, every contract whose minimum tier is above the new tier, then the largest-penalty
contracts (ties: the most recently accepted) while the exposure exceeds the new ceiling. Cancelled
contracts are re-posted OPEN while their posting is still open (``reopen_unwound``) or CANCELLED with
the escrowed reward back to the issuer; the liable agent pays ``unwind_fee`` x penalty.
"""

from __future__ import annotations

import numpy as np
from coopsim.envs.agent_economy.config import EnvParams
from coopsim.envs.agent_economy.state import ACTIVE, C_ASSIGNED, C_CANCELLED, C_OPEN, EconomyState, StepTally


def apply_demotions(s: EconomyState, p: EnvParams, tally: StepTally) -> None:
    """Run the demotion policy on the agents demoted since it last ran (``tally.demoted``, consumed).

    Only force_unwind acts; it loops over the demoted agents that hold contracts (rare events), so
    the per-step cost stays linear in the number of agents."""
    if p.settlement.on_demotion != "force_unwind":  # the other policies leave contracts alone
        tally.demoted.fill(False)
        return
    dem = tally.take_demoted()
    if not np.count_nonzero(dem):
        return
    act = s.c_state == C_ASSIGNED
    liable_dem = np.take_along_axis(dem, np.maximum(s.c_liable, 0), axis=1) & act
    if not np.count_nonzero(liable_dem):
        return
    for b in np.flatnonzero(liable_dem.any(axis=1)):
        cs = np.flatnonzero(liable_dem[b])
        for i in np.unique(s.c_liable[b, cs]):
            mine = cs[s.c_liable[b, cs] == i]
            k = int(s.tier[b, i]) if s.status[b, i] == ACTIVE else 0
            cancel = s.c_tier[b, mine] > k
            rest = mine[~cancel]
            rest = rest[np.lexsort((-s.c_accept_t[b, rest], -s.c_penalty[b, rest]))]
            pr = s.c_penalty[b, rest]
            before = pr.sum() - np.cumsum(pr) + pr  # exposure left before cancelling each one in turn
            cut = before > p.ceilings[k] + 1e-15
            unwind(s, p, int(b), np.concatenate([mine[cancel], rest[cut]]))


def unwind(s: EconomyState, p: EnvParams, b: int, cols: np.ndarray) -> None:
    """Cancel contracts ``cols`` of copy ``b`` (re-open or return the escrow; charge the unwind fee)."""
    if len(cols) == 0:
        return
    t = s.t[b]
    st = p.settlement
    for c in cols:
        i = s.c_liable[b, c]
        fee = st.unwind_fee * s.c_penalty[b, c]
        s.balance[b, i] -= fee
        s.acct["issuer"][b] += fee
        if st.reopen_unwound and t < s.c_posted[b, c] + p.market_config.open_lifetime - 1:
            s.c_state[b, c] = C_OPEN
        else:
            s.c_state[b, c] = C_CANCELLED
            s.acct["escrow"][b] -= s.c_reward[b, c]
            s.acct["issuer"][b] += s.c_reward[b, c]
        s.c_liable[b, c] = -1
        s.c_performer[b, c] = -1
    s.cum["unwinds"][b] += len(cols)
