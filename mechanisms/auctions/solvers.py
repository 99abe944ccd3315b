"""Welfare maximisation for position auctions with per-(ad, position) CTRs (one instance at a time).

Allocations are *ordered edge lists*: ``edges`` is an ``(L, 2)`` int array of ``(ad, position)``
pairs in rendering order (the order only matters for the cascade model). Every solver returns
``(edges, value)`` where ``value`` is the optimal objective ``sum_i v_i pi_i(x)``. Edges with zero
contribution are never allocated; the empty allocation is valid.

Click models (Balseiro et al., arXiv 2506.03309; cascade after Kempe and Mahdian, WINE 2008):

* ``additive``: ``pi_i = c_ij`` for the position j of ad i;
* ``mnl``: ``pi_i = w_ij / (w0 + sum_{(i',j') in x} w_i'j')`` (outside-option weight ``w0``);
* ``cascade``: rendered edges ``e_1, e_2, ...``; ``pi_{e_k} = p_{e_k} prod_{l<k} q_{e_l}`` with
  ``q = 1 - p`` for the stop-at-first-click variant (Craswell et al. 2008) or separate
  continuation probabilities (Kempe & Mahdian 2008; Aggarwal et al. 2008).

Solvers:

* :func:`max_weight_matching`: max-weight matching with at most K edges by a rectangular
  ``scipy.optimize.linear_sum_assignment`` with ``m - K`` dummy rows;
* :func:`separable_matching`: the sorting solution for ``W_ij = a_i b_j`` (vectorised over B);
* :func:`mnl_optimum`: Dinkelbach's iteration over <= K matchings (Dinkelbach 1967);
* :func:`cascade_stop_dp`: exact DP for the stop-at-first-click cascade with free rendering order
  (ads in decreasing value, bitmask over positions; O(n K m 2^m));
* :func:`cascade_edge_dp`: exact DP for the continuation-probability cascade with free order
  (edges in decreasing ``kappa = v p / (1 - q)``, bitmasks over ads and positions; exponential in
  ``n + m``);
* :func:`km_dp`: Kempe-Mahdian DP for ad-specific ``p_i, q_i`` and identical positions;
* :func:`cascade_fixed_dp`: the cascade with positions rendered in index order (bitmask over ads);
* :func:`brute_force`: enumeration of every ordered <= K matching (the test reference).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
from scipy.optimize import linear_sum_assignment

from coopsim.core.validation import ParameterTypeError

CLICK_MODELS = ("additive", "mnl", "cascade")
EMPTY = np.zeros((0, 2), dtype=np.int64)


# --------------------------------------------------------------------------------------------
# click probabilities of a given allocation
# --------------------------------------------------------------------------------------------
def edge_click_probs(
    model: str,
    edges: np.ndarray,
    ctr: np.ndarray,
    weights: np.ndarray | None = None,
    cont: np.ndarray | None = None,
    outside: float = 1.0,
) -> np.ndarray:
    """Click probability of each edge of ``edges`` (rendering order) under ``model``.

    additive: ``c_e``; mnl: ``w_e / (outside + sum_f w_f)``; cascade: ``p_{e_k} prod_{l<k} q_{e_l}``
    (``cont=None`` means ``q = 1 - p``).
    """
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(edges) == 0:
        return np.zeros(0)
    i, j = edges[:, 0], edges[:, 1]
    if model == "additive":
        return ctr[i, j].astype(np.float64)
    if model == "mnl":
        if weights is None:
            raise ParameterTypeError("weights", "weights: an (n, m) array is required by the mnl click model")
        w = weights[i, j]
        return w / (outside + w.sum())
    p = ctr[i, j]
    q = 1.0 - p if cont is None else cont[i, j]
    reach = np.concatenate([[1.0], np.cumprod(q)[:-1]])
    return p * reach


def allocation_welfare(
    model: str,
    values: np.ndarray,
    edges: np.ndarray,
    ctr: np.ndarray,
    weights: np.ndarray | None = None,
    cont: np.ndarray | None = None,
    outside: float = 1.0,
) -> float:
    """``W(x) = sum_{e in x} v_i pi_e(x)`` for an ordered edge list."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if len(edges) == 0:
        return 0.0
    pi = edge_click_probs(model, edges, ctr, weights, cont, outside)
    return float(np.dot(values[edges[:, 0]], pi))


# --------------------------------------------------------------------------------------------
# <= K matching
# --------------------------------------------------------------------------------------------
def max_weight_matching(W: np.ndarray, K: int) -> tuple[np.ndarray, float]:
    """Max-weight matching with at most ``K`` edges on ``max(W, 0)``.

    If ``K >= min(n, m)`` one rectangular assignment; otherwise ``m - K`` dummy rows of constant
    weight ``1 + sum(W)`` absorb ``m - K`` columns. Zero-weight pairs are dropped.
    Returns ``(edges (L, 2) sorted by ad, total weight)``.
    """
    W = np.maximum(np.asarray(W, dtype=np.float64), 0.0)
    n, m = W.shape
    if K <= 0 or n == 0 or m == 0 or not (W > 0).any():
        return EMPTY.copy(), 0.0
    if K >= min(n, m):
        rows, cols = linear_sum_assignment(W, maximize=True)
    else:
        big = 1.0 + W.sum()
        aug = np.vstack([W, np.full((m - K, m), big)])
        rows, cols = linear_sum_assignment(aug, maximize=True)
        keep = rows < n
        rows, cols = rows[keep], cols[keep]
    keep = W[rows, cols] > 0
    rows, cols = rows[keep], cols[keep]
    order = np.argsort(rows, kind="stable")
    edges = np.stack([rows[order], cols[order]], axis=1).astype(np.int64)
    return edges, float(W[rows, cols].sum())


def separable_matching(a: np.ndarray, b: np.ndarray, K: int) -> np.ndarray:
    """Sorting solution of the <= K matching with separable weights ``W_ij = a_i b_j``.

    ``a`` (B, n) and ``b`` (B, m) non-negative. Pair the k-th largest ``a`` with the k-th largest
    ``b`` for k < K while the product is positive (rearrangement inequality). Vectorised over B;
    returns the position of each ad, ``(B, n)`` with -1 for none. Ties: lower index first.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    B, n = a.shape
    m = b.shape[1]
    S = min(n, m, K)
    out = np.full((B, n), -1, dtype=np.int64)
    if S <= 0:
        return out
    ra = np.argsort(-a, axis=1, kind="stable")[:, :S]
    rb = np.argsort(-b, axis=1, kind="stable")[:, :S]
    prod = np.take_along_axis(a, ra, 1) * np.take_along_axis(b, rb, 1)
    rows = np.broadcast_to(np.arange(B)[:, None], (B, S))
    out[rows, ra] = np.where(prod > 0, rb, -1)
    return out


# --------------------------------------------------------------------------------------------
# MNL: Dinkelbach over <= K matchings
# --------------------------------------------------------------------------------------------
def mnl_optimum(
    values: np.ndarray, weights: np.ndarray, K: int, outside: float = 1.0, tol: float = 1e-12, max_iter: int = 100
) -> tuple[np.ndarray, float]:
    """Welfare-optimal MNL allocation by Dinkelbach's iteration.

    ``W(x) = sum_e v_i w_e / (w0 + sum_e w_e)``. With ``lambda_0 = 0``: ``x_t`` = max-weight <= K
    matching on ``w_ij (v_i - lambda_t)^+``, ``lambda_{t+1} = W(x_t)``; stop when
    ``lambda_{t+1} <= lambda_t (1 + tol) + tol``. ``W(x_t) >= lambda_t`` so the sequence is monotone.
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    lam = 0.0
    best, best_val = EMPTY.copy(), 0.0
    for _ in range(max_iter):
        edges, _ = max_weight_matching(w * np.maximum(v[:, None] - lam, 0.0) * outside, K)
        if len(edges) == 0:
            break
        we = w[edges[:, 0], edges[:, 1]]
        val = float(np.dot(v[edges[:, 0]], we) / (outside + we.sum()))
        if val > best_val:
            best, best_val = edges, val
        if val <= lam * (1 + tol) + tol:
            break
        lam = val
    return best, best_val


# --------------------------------------------------------------------------------------------
# cascade
# --------------------------------------------------------------------------------------------
def _popcount(n_bits: int) -> np.ndarray:
    masks = np.arange(1 << n_bits)
    return np.array([bin(int(x)).count("1") for x in masks], dtype=np.int64)


def cascade_stop_dp(values: np.ndarray, ctr: np.ndarray, K: int) -> tuple[np.ndarray, float]:
    """Exact welfare optimum of the stop-at-first-click cascade, free rendering order.

    Ads sorted by value (descending, stable); ``g(t, S, k) = max(g(t+1, S, k),
    max_{j not in S} v_t p_tj + (1 - p_tj) g(t+1, S + {j}, k - 1))`` with ``g = 0`` at ``t = n`` or
    ``k = 0``. Vectorised over the position masks S. Edges are returned in
    rendering order (decreasing value). O(n K m 2^m) work.
    """
    v = np.asarray(values, dtype=np.float64)
    p = np.asarray(ctr, dtype=np.float64)
    n, m = p.shape
    K = min(K, n, m)
    if K <= 0 or n == 0:
        return EMPTY.copy(), 0.0
    order = np.argsort(-v, kind="stable")
    M = 1 << m
    masks = np.arange(M)
    # g[k][S] for the current t (k = remaining budget); choice[t][k][S] = position taken or -1
    g = np.zeros((K + 1, M))
    choice = np.full((n, K + 1, M), -1, dtype=np.int64)
    for t in range(n - 1, -1, -1):
        i = order[t]
        new = g.copy()
        if v[i] > 0:
            for j in range(m):
                if p[i, j] <= 0:
                    continue
                free = (masks >> j) & 1 == 0
                a = v[i] * p[i, j]
                cand = a + (1.0 - p[i, j]) * g[:-1, masks | (1 << j)]  # (K, M): uses k-1 budget
                better = free[None, :] & (cand > new[1:])
                new[1:] = np.where(better, cand, new[1:])
                choice[t, 1:][better] = j
        g = new
    # backtrack
    edges = []
    S, k = 0, K
    for t in range(n):
        j = choice[t, k, S]
        if j >= 0 and k > 0:
            edges.append((order[t], j))
            S |= 1 << j
            k -= 1
    return np.array(edges, dtype=np.int64).reshape(-1, 2), float(g[K, 0])


def cascade_edge_dp(values: np.ndarray, ctr: np.ndarray, cont: np.ndarray, K: int) -> tuple[np.ndarray, float]:
    """Exact optimum of the continuation cascade (pair-specific ``q``) with free rendering order.

    For a fixed edge set the optimal order is decreasing ``kappa_e = a_e / (1 - q_e)``, ``a_e = v_i p_e``
    (``kappa = +inf`` when ``q_e = 1``; ties by edge index). Hence an optimal allocation is a
    subsequence of the global kappa order of all n*m edges, and
    ``h(e, A, P) = max(h(e+1, A, P), a_e + q_e h(e+1, A + {i}, P + {j}))`` over used-ad and
    used-position bitmasks is exact. Work O(n m 2^(n+m)); use for n + m <= ~18.
    """
    v = np.asarray(values, dtype=np.float64)
    p = np.asarray(ctr, dtype=np.float64)
    q = np.asarray(cont, dtype=np.float64)
    n, m = p.shape
    K = min(K, n, m)
    if K <= 0 or n == 0:
        return EMPTY.copy(), 0.0
    a = v[:, None] * p
    cand_edges = [(i, j) for i in range(n) for j in range(m) if a[i, j] > 0]
    if not cand_edges:
        return EMPTY.copy(), 0.0
    ce = np.array(cand_edges, dtype=np.int64)
    ae = a[ce[:, 0], ce[:, 1]]
    qe = q[ce[:, 0], ce[:, 1]]
    with np.errstate(divide="ignore"):
        kappa = np.where(qe >= 1.0, np.inf, ae / np.maximum(1.0 - qe, 0.0))
    order = np.lexsort((np.arange(len(ce)), -kappa))
    ce, ae, qe = ce[order], ae[order], qe[order]
    nb = n + m
    M = 1 << nb
    masks = np.arange(M)
    pc = _popcount(nb) if nb <= 20 else None
    if pc is None:
        raise ValueError(f"ctr: cascade_edge_dp needs n + m <= 20, got n={n}, m={m}")
    h = np.zeros(M)
    L = len(ce)
    take = np.zeros((L, M), dtype=bool)
    for e in range(L - 1, -1, -1):
        i, j = ce[e]
        bits = (1 << i) | (1 << (n + j))
        ok = ((masks & bits) == 0) & (pc < 2 * K)
        cand = ae[e] + qe[e] * h[masks | bits]
        better = ok & (cand > h)
        take[e] = better
        h = np.where(better, cand, h)
    edges = []
    state = 0
    for e in range(L):
        if take[e, state]:
            edges.append(tuple(ce[e]))
            state |= (1 << ce[e][0]) | (1 << (n + ce[e][1]))
    return np.array(edges, dtype=np.int64).reshape(-1, 2), float(h[0])


def km_dp(values: np.ndarray, p: np.ndarray, q: np.ndarray, K: int) -> tuple[np.ndarray, float]:
    """Kempe-Mahdian DP: ad-specific ``p_i, q_i``, ``K`` identical slots rendered in order.

    Sort ads by ``kappa_i = v_i p_i / (1 - q_i)`` (descending); ``F(a, j) = max(F(a+1, j),
    v_a p_a + q_a F(a+1, j+1))`` with ``F(n, .) = F(., K) = 0``. Returns ``(ads in rendering order,
    value)``. O(n log n + n K).
    """
    v = np.asarray(values, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    n = len(v)
    if K <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64), 0.0
    a = v * p
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(q >= 1.0, np.inf, a / np.maximum(1.0 - q, 0.0))
    order = np.lexsort((np.arange(n), -kappa))
    F = np.zeros((n + 1, K + 1))
    take = np.zeros((n, K), dtype=bool)
    for t in range(n - 1, -1, -1):
        i = order[t]
        for j in range(K - 1, -1, -1):
            cand = a[i] + q[i] * F[t + 1, j + 1]
            if a[i] > 0 and cand > F[t + 1, j]:
                F[t, j] = cand
                take[t, j] = True
            else:
                F[t, j] = F[t + 1, j]
    chosen = []
    j = 0
    for t in range(n):
        if j < K and take[t, j]:
            chosen.append(order[t])
            j += 1
    return np.array(chosen, dtype=np.int64), float(F[0, 0])


def cascade_fixed_dp(values: np.ndarray, ctr: np.ndarray, cont: np.ndarray | None, K: int) -> tuple[np.ndarray, float]:
    """Exact cascade optimum when positions are rendered in index order (0 first).

    ``h(j, A) = max(h(j+1, A), max_{i not in A} a_ij + q_ij h(j+1, A + {i}))`` over used-ad bitmasks
    with ``|A| < K``; ``q = 1 - p`` when ``cont`` is None. O(m n 2^n).
    """
    v = np.asarray(values, dtype=np.float64)
    p = np.asarray(ctr, dtype=np.float64)
    q = 1.0 - p if cont is None else np.asarray(cont, dtype=np.float64)
    n, m = p.shape
    K = min(K, n, m)
    if K <= 0 or n == 0:
        return EMPTY.copy(), 0.0
    if n > 20:
        raise ValueError(f"values: cascade_fixed_dp needs n <= 20 ads, got {n}")
    a = v[:, None] * p
    M = 1 << n
    masks = np.arange(M)
    pc = _popcount(n)
    h = np.zeros(M)
    choice = np.full((m, M), -1, dtype=np.int64)
    for j in range(m - 1, -1, -1):
        new = h.copy()
        for i in range(n):
            if a[i, j] <= 0:
                continue
            ok = ((masks >> i) & 1 == 0) & (pc < K)
            cand = a[i, j] + q[i, j] * h[masks | (1 << i)]
            better = ok & (cand > new)
            new = np.where(better, cand, new)
            choice[j][better] = i
        h = new
    edges = []
    A = 0
    for j in range(m):
        i = choice[j, A]
        if i >= 0:
            edges.append((i, j))
            A |= 1 << i
    return np.array(edges, dtype=np.int64).reshape(-1, 2), float(h[0])


# --------------------------------------------------------------------------------------------
# brute force (reference)
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _sequences(n: int, m: int, K: int, ordered: bool) -> np.ndarray:
    """All (ordered or unordered-by-ad) <= K matchings as padded edge sequences ``(L, K, 2)`` (-1 pad)."""
    K = min(K, n, m)
    seqs = [np.full((max(K, 1), 2), -1, dtype=np.int64)]
    for k in range(1, K + 1):
        ad_sets = itertools.permutations(range(n), k) if ordered else itertools.combinations(range(n), k)
        for ads in ad_sets:
            for pos in itertools.permutations(range(m), k):
                s = np.full((K, 2), -1, dtype=np.int64)
                s[:k, 0] = ads
                s[:k, 1] = pos
                seqs.append(s)
    return np.stack(seqs)


def brute_force(
    model: str,
    values: np.ndarray,
    ctr: np.ndarray,
    K: int,
    weights: np.ndarray | None = None,
    cont: np.ndarray | None = None,
    outside: float = 1.0,
    order: str = "free",
) -> tuple[np.ndarray, float]:
    """Best allocation over every <= K matching (and every rendering order for ``cascade``).

    ``order="fixed"`` renders positions in index order (cascade only). Vectorised over the
    enumerated sequences; meant for n <= 6, m <= 5.
    """
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(ctr, dtype=np.float64)
    n, m = c.shape
    Kc = min(K, n, m)
    if Kc <= 0:
        return EMPTY.copy(), 0.0
    ordered = model == "cascade" and order == "free"
    seq = _sequences(n, m, Kc, ordered)
    ads, pos = seq[..., 0], seq[..., 1]
    valid = ads >= 0
    ai, pj = np.where(valid, ads, 0), np.where(valid, pos, 0)
    if model == "cascade" and order == "fixed":
        srt = np.argsort(np.where(valid, pj, m + 1), axis=1, kind="stable")
        ai, pj, valid = (np.take_along_axis(x, srt, 1) for x in (ai, pj, valid))
    vv = np.where(valid, v[ai], 0.0)
    if model == "additive":
        pi = np.where(valid, c[ai, pj], 0.0)
    elif model == "mnl":
        if weights is None:
            raise ParameterTypeError("weights", "weights: an (n, m) array is required by the mnl click model")
        w = np.where(valid, weights[ai, pj], 0.0)
        pi = w / (outside + w.sum(axis=1, keepdims=True))
    elif model == "cascade":
        p = np.where(valid, c[ai, pj], 0.0)
        q = np.where(valid, (1.0 - c if cont is None else cont)[ai, pj], 1.0)
        reach = np.concatenate([np.ones((len(q), 1)), np.cumprod(q, axis=1)[:, :-1]], axis=1)
        pi = p * reach
    else:
        raise ValueError(f"model: expected one of {list(CLICK_MODELS)}, got {model!r}")
    wel = (vv * pi).sum(axis=1)
    best = int(np.argmax(wel))
    keep = valid[best]
    edges = np.stack([ai[best][keep], pj[best][keep]], axis=1)
    return edges.astype(np.int64), float(wel[best])


# --------------------------------------------------------------------------------------------
# Myerson threshold payments (independent check of VCG; payments of the Myerson mechanism)
# --------------------------------------------------------------------------------------------
def threshold_payment(
    alloc, bids: np.ndarray, i: int, method: str = "exact", grid: int = 2000, tol: float = 1e-13, max_levels: int = 64
) -> float:
    """``t_i = b_i pi_i(b) - int_0^{b_i} pi_i(z, b_-i) dz`` for a monotone allocation ``alloc``.

    ``alloc(bids) -> pi (n,)`` for one instance. ``method="grid"``: midpoint rule with ``grid``
    points (error <= pi_max b_i / grid). ``method="exact"``: ``pi_i(., b_-i)`` is a non-decreasing
    step function; its breakpoints are located by bisection (to ``tol`` relative) from the top
    down and the integral is summed level by level.
    """
    b = np.asarray(bids, dtype=np.float64).copy()
    bi = float(b[i])

    def pi_at(z: float) -> float:
        b[i] = z
        return float(alloc(b)[i])

    top = pi_at(bi)
    if bi <= 0 or top <= 0:
        b[i] = bi
        return 0.0
    if method == "grid":
        z = (np.arange(grid) + 0.5) * bi / grid
        integral = sum(pi_at(float(x)) for x in z) * bi / grid
        b[i] = bi
        return bi * top - integral
    integral = 0.0
    hi, level = bi, top
    for _ in range(max_levels):
        if pi_at(0.0) >= level - 1e-15:
            integral += level * hi
            break
        lo_z, hi_z = 0.0, hi  # pi(lo_z) < level, pi(hi_z) = level
        while hi_z - lo_z > tol * max(bi, 1e-300):
            mid = 0.5 * (lo_z + hi_z)
            if pi_at(mid) >= level - 1e-15:
                hi_z = mid
            else:
                lo_z = mid
        integral += level * (hi - hi_z)
        hi = lo_z
        level = pi_at(lo_z)
        if level <= 0:
            break
    b[i] = bi
    return bi * top - integral


# --------------------------------------------------------------------------------------------
# batched click probabilities of given allocations (vectorised over B)
# --------------------------------------------------------------------------------------------
def batch_click_probs(
    model: str,
    assignment: np.ndarray,
    render_rank: np.ndarray,
    ctr: np.ndarray,
    weights: np.ndarray | None = None,
    cont: np.ndarray | None = None,
    outside: float = 1.0,
) -> np.ndarray:
    """Click probabilities ``(B, n)`` of allocations ``assignment`` (position per ad, -1 none).

    ``render_rank`` orders the shown ads for the cascade (0 first). additive: ``c_{i, x_i}``; mnl:
    ``w_{i x_i} / (w0 + sum_shown w)``; cascade: ``p_k prod_{l rendered before k} q_l`` with
    ``q = 1 - p`` when ``cont`` is None. Vectorised over the batch (sort along the ad axis).
    """
    B, n = assignment.shape
    shown = assignment >= 0
    pos = np.where(shown, assignment, 0)
    p = np.where(shown, np.take_along_axis(ctr, pos[:, :, None], 2)[:, :, 0], 0.0)
    if model == "additive":
        return p
    if model == "mnl":
        w = np.where(shown, np.take_along_axis(weights, pos[:, :, None], 2)[:, :, 0], 0.0)
        return w / (outside + w.sum(axis=1, keepdims=True))
    q = 1.0 - p if cont is None else np.take_along_axis(cont, pos[:, :, None], 2)[:, :, 0]
    q = np.where(shown, q, 1.0)
    key = np.where(shown, render_rank, n + np.arange(n))
    order = np.argsort(key, axis=1, kind="stable")
    qs = np.take_along_axis(q, order, 1)
    reach_s = np.concatenate([np.ones((B, 1)), np.cumprod(qs, axis=1)[:, :-1]], axis=1)
    reach = np.empty((B, n))
    np.put_along_axis(reach, order, reach_s, 1)
    return p * reach
