"""One-shot multi-item auction with additive bidders (the setting of learned auctions).

=====================  ================================================================
What it models          n bidders with additive values for m items take part in one auction
                        that allocates each item at most once (possibly as a lottery) and
                        charges payments; bidders may misreport their values.
Agents                  ``agent_0 .. agent_{n-1}``; ``n_agents >= 1`` (1 for a menu/pricing
                        mechanism such as RochetNet).
Types                   values ``v_i in [low, high]^m``, i.i.d. ``uniform`` per bidder and item
                        (``value_params = {"low": 0, "high": 1}``) or drawn by a ``sampler``
                        callable ``sampler(rng, (B, n, m)) -> array`` in ``[low, high]``.
Actions                 reported values ``b_i in [low, high]^m``, shape ``(m,)`` per agent
                        (``action_shape``); truthful reporting is ``b = v``.
Observations            (repeated play) own values plus the public allocation and payments.
Rewards                 ``u_i = sum_j v_ij z_ij(b) - p_i(b)`` (additive, quasi-linear; ``z`` is the
                        allocation probability).
Mechanisms              any callable ``mech(bids (B, n, m))`` returning ``allocation`` (B, n, m)
                        and ``payment`` (B, n), by registry name: ``regret_net``, ``rochet_net``
                        (learned by :mod:`coopsim.design`).
Default                 ``mechanism="regret_net"`` with its shipped weights (2 bidders x 2 items,
                        i.i.d. U[0, 1], ``mechanisms/data/regretnet_2x2.npz``), matching the
                        default ``n_agents=2``, ``n_items=2``: the learned auction is what this
                        env is for, and it works out of the box, so
                        ``gymnasium.make("coopsim/MultiItemAuction-v0")`` needs no argument.
                        VCG per item (a second-price auction for each item) is the truthful
                        baseline, not the default: it earns 2/3 here against the network's about
                        0.862 at mean ex-post regret per bidder <= 1e-3. Other sizes need their own weights
                        (``mechanism_params={"weights": path}``) or a callable mechanism.
Metrics (per copy)      ``revenue`` ``sum_i p_i``, ``welfare`` ``sum_ij v_ij z_ij``,
                        ``mean_utility``; optimum ``welfare = sum_j max_i v_ij``.
Arguments               ``n_agents``, ``n_items``, ``mechanism``, ``mechanism_params``,
                        ``values``, ``value_params``, ``sampler``.
References              Dütting, Feng, Narasimhan, Parkes, Ravindranath, "Optimal Auctions through
                        Deep Learning", ICML 2019 / JACM 2024 (arXiv:1706.03459); Manelli & Vincent,
                        JET 2006 (one bidder, two items).
=====================  ================================================================

The incentive audit measures the ex-post regret of the mechanism directly:
``incentive_audit(MultiItemAuction(...))`` searches, for each held-out value profile, the best
unilateral misreport of every bidder over a product grid of reports plus random reports and a
local search (``action_grid`` below gives the grid).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from coopsim.envs._checks import check_mechanism_params, check_outcome, check_params
from coopsim.mechanisms import get as get_mechanism
from coopsim.mechanisms.registry import registry as mechanism_registry

from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.validation import (
    ParameterError,
    ParameterTypeError,
    as_array,
    check_choice,
    check_family,
    check_float,
    check_int,
    check_size,
)
from coopsim.interop.render import label_agents
from coopsim.interop.views import env_views, repeated_game_factory

VALUE_DISTRIBUTIONS = ("uniform",)


class MultiItemAuction(MechanismGame):
    """Additive multi-item auction ``MechanismGame``: types and actions are value vectors (m,)."""

    objectives = {"revenue": "max", "welfare": "max"}

    def __init__(
        self,
        n_agents: int = 2,
        n_items: int = 2,
        mechanism: str | Any = "regret_net",
        mechanism_params: dict[str, Any] | None = None,
        values: str = "uniform",
        value_params: dict[str, Any] | None = None,
        sampler: Callable[[np.random.Generator, tuple[int, int, int]], Any] | None = None,
    ) -> None:
        self.n_agents = check_int(n_agents, "n_agents", lo=1)
        self.n_items = check_int(n_items, "n_items", lo=1)
        self.values = check_choice(values, "values", VALUE_DISTRIBUTIONS)
        p = check_params(value_params, "value_params")
        unknown = set(p) - {"low", "high"}
        if unknown:
            raise ParameterError(
                "value_params", f"value_params: expected keys among ['high', 'low'], got unknown {sorted(unknown)}"
            )
        low = check_float(p.get("low", 0.0), "value_params.low", lo=0.0)
        high = check_float(p.get("high", 1.0), "value_params.high", lo=low, lo_open=True)
        self.value_params = {"low": low, "high": high}
        if sampler is not None and not callable(sampler):
            raise ParameterTypeError(
                "sampler", f"sampler: expected a callable sampler(rng, shape), got {type(sampler).__name__}"
            )
        self.sampler = sampler
        self.type_shape = self.action_shape = (self.n_items,)
        self.type_low = self.action_low = low
        self.type_high = self.action_high = high
        span = self.n_items * high
        self.utility_range = (-span, span)
        # public signal = allocation probabilities (in [0, 1]) and payments (IR: at most m * high)
        self.public_low, self.public_high = 0.0, max(1.0, span)
        self.mechanism_params = check_params(mechanism_params, "mechanism_params")
        self.mechanism = self._build_mechanism(mechanism)

    def _build_mechanism(self, mechanism: Any) -> Any:
        if isinstance(mechanism, str):
            # refuse another family's mechanism before building it with this game's parameters
            factory = mechanism_registry.factory(mechanism_registry.canonical(mechanism))
            check_family(factory, "auctions")
            check_mechanism_params(factory, self.mechanism_params, f"mechanism {mechanism!r}")
            mech = get_mechanism(mechanism, **self.mechanism_params)
        elif callable(mechanism):
            mech = check_family(mechanism, "auctions")
        else:
            raise ParameterTypeError(
                "mechanism", f"mechanism: expected a registry name or a callable mechanism, got {mechanism!r}"
            )
        want = {"n_bidders": self.n_agents, "n_items": self.n_items}
        for attr, n in want.items():
            got = getattr(mech, attr, n)
            if attr == "n_bidders" and not hasattr(mech, attr) and hasattr(mech, "menu_alloc"):
                got = 1  # a menu serves one bidder
            if got != n:
                raise ParameterError("mechanism", f"mechanism: built for {attr}={got}, but the game has {attr}={n}")
        return mech

    # -- the contract ---------------------------------------------------------------------------
    def sample_types(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """Values ``(B, n, m)``: i.i.d. U[low, high], or ``sampler(rng, (B, n, m))`` checked to lie there."""
        shape = (self.check_sample_args(rng, batch), self.n_agents, self.n_items)
        if self.sampler is None:
            return rng.uniform(self.type_low, self.type_high, shape)
        out = as_array(self.sampler(rng, shape), "sampler output", lo=self.type_low, hi=self.type_high)
        if out.shape != shape:
            raise ValueError(f"sampler output: expected shape {shape}, got {out.shape}")
        return out

    def play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        """Run the mechanism on reports ``actions`` (B, n, m); utilities ``v_i . z_i - p_i``."""
        return self._play(*self.check_profile(types, actions))

    def _play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        res = self.mechanism(actions)
        alloc = np.asarray(res.allocation, dtype=np.float64)
        pay = np.asarray(res.payment, dtype=np.float64)
        utility = (types * alloc).sum(axis=2) - pay
        return Outcome(utility, public=("allocation", "payment"), allocation=alloc, payment=pay)

    def metrics(self, types: np.ndarray, outcome: Outcome) -> dict[str, np.ndarray]:
        """``revenue``, ``welfare`` and ``mean_utility`` per copy, each (B,)."""
        types = self.check_types(types)
        check_outcome(outcome, types.shape[0])
        return {
            "revenue": outcome.payment.sum(axis=1),
            "welfare": (types * outcome.allocation).sum(axis=(1, 2)),
            "mean_utility": outcome.utility.mean(axis=1),
        }

    def optimum(self, types: np.ndarray) -> dict[str, np.ndarray]:
        """Welfare optimum ``sum_j max_i v_ij`` (each item to a highest-value bidder), (B,)."""
        return {"welfare": self.check_types(types).max(axis=1).sum(axis=1)}

    def action_grid(self, k: int) -> np.ndarray:
        """Product grid of ``k`` evenly spaced reports per item: ``(k**m, m)`` candidates."""
        k = check_int(k, "grid", lo=1)
        check_size("grid", k**self.n_items, self.n_items, copies=3, what="the product grid of k**m reports")
        axes = [np.linspace(self.action_low, self.action_high, k)] * self.n_items
        return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, self.n_items)

    # -- rendering ------------------------------------------------------------------------------
    def draw(self, ax: Any, types: np.ndarray, actions: np.ndarray | None, outcome: Outcome | None) -> None:
        """Copy 0 on ``ax`` (the env's ``rgb_array`` frame): see :func:`draw_multi_item`."""
        if outcome is None:
            draw_multi_item(ax, types[0])
        else:
            draw_multi_item(ax, types[0], outcome.allocation[0], outcome.payment[0])


def draw_multi_item(ax: Any, values: np.ndarray, allocation: np.ndarray | None = None, payments: Any = None) -> None:
    """One group of bars per bidder, one bar per item: its value (hollow) and, after a round, the
    probability it receives the item (filled, same colour); each payment under the bidder's name."""
    values = np.asarray(values, dtype=np.float64)
    n, m = values.shape
    width = 0.8 / m
    x = np.arange(n)
    for j in range(m):
        pos = x + (j - (m - 1) / 2) * width
        ax.bar(pos, values[:, j], width, fill=False, edgecolor=f"C{j % 10}", label=f"value, item {j}")
        if allocation is not None:
            alloc = np.asarray(allocation)[:, j]
            ax.bar(pos, alloc, width * 0.6, color=f"C{j % 10}", alpha=0.7, label=f"P(item {j})")
    label_agents(ax, n)
    if payments is not None and n <= 6:
        ax.set_xticks(x, [f"agent {i}\npays {float(payments[i]):.3g}" for i in x])
    ax.set_ylabel("value / allocation probability")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def make_game(**kwargs: Any) -> MultiItemAuction:
    """Build the one-shot game (the runner's hook)."""
    return MultiItemAuction(**kwargs)


NAME = "multi_item_auction_v0"
make_batched_env = repeated_game_factory(MultiItemAuction, default_max_cycles=25, default_redraw="round", name=NAME)
env, raw_env, parallel_env, gym_env, gym_vector_env = env_views(make_batched_env, name=NAME)
