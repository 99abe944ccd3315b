"""The learner population of a dynamics run: groups of agents, their streams, act and update."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from coopsim.core.validation import check_int

__all__ = ["normalize_groups", "Population"]


def normalize_groups(learners: Any, n_agents: int) -> list[tuple[tuple[int, ...], Any]]:
    """``[(agent indices, learner), ...]`` from one learner (all agents) or a mapping
    ``{agent index or tuple of indices: learner}`` that partitions ``range(n_agents)``."""
    items = list(learners.items()) if isinstance(learners, Mapping) else [(tuple(range(n_agents)), learners)]
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


class _Context(dict):
    """A learner's context whose ``"truthful"`` entry is computed on first use (most learners
    never read it, and it costs a nearest-grid-point search whenever the types change)."""

    def __init__(self, items: dict, truthful: Callable[[], np.ndarray]) -> None:
        super().__init__(items)
        self._truthful = truthful

    def __missing__(self, key: str) -> np.ndarray:
        if key != "truthful":
            raise KeyError(key)
        value = self._truthful()
        self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return key == "truthful" or dict.__contains__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default


def _sliced(fn: Callable[[], np.ndarray], sel: list[int]) -> Callable[[], np.ndarray]:
    """``fn()[:, sel]``, evaluated on call."""
    return lambda: fn()[:, sel]


class Population:
    """Learner groups over ``B`` copies of ``N`` agents with ``K`` grid actions each.

    ``groups`` as from :func:`normalize_groups`; ``rngs`` one generator per group. Each learner is
    re-bound to ``(B, len(group))`` and checked against ``K`` and the feedback kind.
    """

    def __init__(self, groups: list, rngs: list, B: int, N: int, K: int, feedback: str) -> None:
        for idx, learner in groups:
            learner.bind(B, len(idx))
            k_l = getattr(learner, "K", None)
            if k_l is not None and int(k_l) != K:
                raise ValueError(
                    f"learners: {type(learner).__name__} for agents {idx} has K = {k_l} actions, the grid has {K}"
                )
            if feedback == "bandit" and getattr(learner, "feedback", "full") == "full":
                raise ValueError(
                    f"feedback: 'bandit' runs never pass deviation utilities, but "
                    f"{type(learner).__name__} (agents {idx}) is a full-information learner"
                )
        self.groups, self.rngs = groups, rngs
        self.B, self.N, self.K = B, N, K
        self.sel = [list(idx) for idx, _ in groups]
        self.single = len(groups) == 1 and groups[0][0] == tuple(range(N))  # one learner, agents in order
        #: which groups get deviation utilities (full-information learners outside bandit runs)
        self.full = [feedback != "bandit" and getattr(lr, "feedback", "full") == "full" for _, lr in groups]

    def contexts(self, extra: dict[str, np.ndarray], truthful: Callable[[], np.ndarray]) -> list[dict]:
        """One context per group: ``extra`` and the lazily computed ``"truthful"``, sliced to the group."""
        if self.single:
            return [_Context(extra, truthful)]
        return [_Context({k: v[:, sel] for k, v in extra.items()}, _sliced(truthful, sel)) for sel in self.sel]

    def act(self, contexts: list[dict]) -> np.ndarray:
        """``(B, N)`` int64 action indices, each learner sampling from its own stream."""
        B = self.B
        if self.single:
            learner = self.groups[0][1]
            a = np.asarray(learner.act(self.rngs[0], context=contexts[0]))
            if a.shape != (B, self.N):
                raise ValueError(f"{type(learner).__name__}.act returned shape {a.shape}, expected {(B, self.N)}")
            actions = a.astype(np.int64, copy=False)
        else:
            actions = np.zeros((B, self.N), dtype=np.int64)
            for (idx, learner), rng, ctx, sel in zip(self.groups, self.rngs, contexts, self.sel):
                a = np.asarray(learner.act(rng, context=ctx))
                if a.shape != (B, len(idx)):
                    raise ValueError(f"{type(learner).__name__}.act returned shape {a.shape}, expected {(B, len(idx))}")
                actions[:, sel] = a
        if actions.min() < 0 or actions.max() >= self.K:
            raise ValueError(f"learners returned action indices outside [0, {self.K})")
        return actions

    def gather(self, attr: str) -> np.ndarray:
        """``(B, N, K)`` copy of every learner's ``policy`` or ``average_policy``."""
        if self.single:
            return np.array(getattr(self.groups[0][1], attr))  # a copy: learners may reuse buffers
        out = np.zeros((self.B, self.N, self.K))
        for (_, learner), sel in zip(self.groups, self.sel):
            out[:, sel] = np.asarray(getattr(learner, attr))
        return out

    def update(self, actions: np.ndarray, r: np.ndarray, U: np.ndarray | None, contexts: list[dict]) -> None:
        """``learner.update(a_g, r_g, full=U_g or None, context)`` for every group."""
        if self.single:
            self.groups[0][1].update(actions, r, full=U if self.full[0] else None, context=contexts[0])
            return
        for (_, learner), sel, full, ctx in zip(self.groups, self.sel, self.full, contexts):
            learner.update(actions[:, sel], r[:, sel], full=U[:, sel] if full and U is not None else None, context=ctx)
