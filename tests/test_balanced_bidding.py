"""Balanced bidding in GSP (Cary, Das, Edelman, Giotis, Heimerl, Karlin, Mathieu, Schwarz, EC 2007)."""

from __future__ import annotations

import numpy as np
import pytest
from coopsim.mechanisms.auctions.equilibria import eos_bids, vcg_slot_payments
from coopsim.mechanisms.auctions.rules import VCG

from coopsim.agents import balanced_bidding, balanced_bids, gsp_revenue


def _instances(seed: int, B: int, N: int, S: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.random((B, N))
    a = -np.sort(-rng.random((B, S)), axis=1)
    return v, a


def test_response_by_hand():
    # values (1, 0.6, 0.3), alpha (1, 0.5); bidder 0 sees others' bids (0.4, 0.2): prices p1 = 0.4, p2 = 0.2
    # utilities 1 * 0.6 = 0.6 and 0.5 * 0.8 = 0.4 -> target slot 1 -> bid its value 1
    # bidder 1 sees (0.9, 0.2): utilities 1 * (0.6 - 0.9) < 0, 0.5 * 0.4 = 0.2 -> slot 2:
    #   b = 0.6 - (0.5 / 1) (0.6 - 0.2) = 0.4
    # bidder 2 sees (0.9, 0.4): utilities < 0 and 0.5 * (0.3 - 0.4) < 0 -> no slot -> bids its value
    out = balanced_bids([1.0, 0.6, 0.3], [1.0, 0.5], [0.9, 0.4, 0.2])
    np.testing.assert_allclose(out, [[1.0, 0.4, 0.3]])


@pytest.mark.parametrize(("N", "S"), [(3, 2), (5, 3), (6, 4), (4, 4)])
def test_async_random_converges_to_eos_with_vcg_revenue(N, S):
    v, a = _instances(10 * N + S, 40, N, S)
    res = balanced_bidding(v, a, 4000, mode="async", rng=np.random.default_rng(1))
    assert res.converged.all()
    np.testing.assert_allclose(res.bids, eos_bids(v, a), atol=1e-9)
    vcg = vcg_slot_payments(v, a).sum(axis=1)
    np.testing.assert_allclose(res.revenue, vcg, atol=1e-9)
    # the VCG mechanism's own payments agree (per-copy, separable CTRs, truthful bids)
    out = VCG()(v, quality=np.ones_like(v), position=a)
    np.testing.assert_allclose(res.revenue, out.payment.sum(axis=1), atol=1e-9)


def test_async_round_robin_converges():
    v, a = _instances(7, 30, 5, 3)
    res = balanced_bidding(v, a, 3000, mode="async", order="round_robin", rng=np.random.default_rng(2))
    assert res.converged.all()
    np.testing.assert_allclose(res.bids, eos_bids(v, a), atol=1e-9)


def test_sync_two_slots_converges():
    v, a = _instances(3, 60, 5, 2)
    res = balanced_bidding(v, a, 3000, mode="sync", rng=np.random.default_rng(4))
    assert res.converged.all()
    np.testing.assert_allclose(res.bids, eos_bids(v, a), atol=1e-9)


def test_sync_three_slots_can_cycle():
    # from truthful bids the three high bidders jump together between their values and a low
    # profile: a 2-cycle, never the fixed point; asynchronous updates from the same start converge
    v = np.array([0.03, 0.12, 0.67, 0.65, 0.62])
    a = np.array([0.48, 0.26, 0.07])
    res = balanced_bidding(v, a, 200, mode="sync", initial=v, record=True)
    h = res.history[:, 0]
    assert not res.converged[0]
    np.testing.assert_array_equal(h[-1], h[-3])
    assert np.abs(h[-1] - h[-2]).max() > 0.1
    np.testing.assert_array_equal(h[-1], v)  # even rounds: truthful
    asy = balanced_bidding(v, a, 2000, mode="async", initial=v, rng=np.random.default_rng(0))
    assert asy.converged[0]
    np.testing.assert_allclose(asy.bids[0], eos_bids(v, a), atol=1e-12)


def test_sync_three_slots_random_instances_some_fail():
    v, a = _instances(0, 50, 5, 3)
    res = balanced_bidding(v, a, 400, mode="sync", rng=np.random.default_rng(1))
    assert 0 < (~res.converged).sum() < 50  # most converge, some cycle


def test_reproducible_and_revenue():
    v, a = _instances(5, 8, 4, 3)
    r1 = balanced_bidding(v, a, 50, rng=np.random.default_rng(9))
    r2 = balanced_bidding(v, a, 50, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(r1.bids, r2.bids)
    np.testing.assert_allclose(gsp_revenue([0.9, 0.5, 0.2], [1.0, 0.5]), [1.0 * 0.5 + 0.5 * 0.2])


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        balanced_bids([1.0, 0.5], [0.5, 1.0], [0.1, 0.1])
    with pytest.raises(ValueError, match="alpha"):
        balanced_bids([1.0, 0.5], [1.0, 0.0], [0.1, 0.1])
    with pytest.raises(ValueError, match="bids"):
        balanced_bids([1.0, 0.5], [1.0], [0.1])
    with pytest.raises(ValueError, match="mode"):
        balanced_bidding([1.0, 0.5], [1.0], 3, mode="jacobi")
    with pytest.raises(ValueError, match="values"):
        balanced_bidding([1.0, np.nan], [1.0], 3)
