"""Position auctions: classic sponsored-search slots and sponsored creatives inside AI-generated content.

=====================  ================================================================
What it models          N advertisers with private per-click values bid for ad positions. Classic
                        separable slots (CTR = quality x position factor; GSP, VCG, generalized
                        first price, single-item first/second price, Myerson) or the AIGC model of
                        Balseiro et al.: a CTR per (creative, position) pair, at most K ads, the
                        auctioneer choosing matching and rendering order, with additive, MNL or
                        cascade users.
Agents                  ``agent_0 .. agent_{N-1}``; ``n_agents >= 1``.
Types                   per-click value ``v_i``: ``uniform`` (``lo``, ``hi``), ``lognormal``
                        (``mu``, ``sigma``; values above ``cap``, default the 99.9% quantile, are
                        set to ``cap``) or ``fixed`` (``profile``), drawn i.i.d.. When CTRs are
                        random (random qualities, ``ctr="aigc"``) the type is the vector
                        ``[v_i, p_i1 .. p_im]`` (value, then the ad's CTR at every position).
Actions                 ``action="bid"``: a bid per click in ``[0, bid_max]``; ``action="shading"``:
                        a shading factor ``s`` in ``[0, shade_max]`` with bid ``s v_i``. Box, or an
                        index into a grid (``action_mode="grid"``; ``bid_grid`` sets the grid).
Observations            own type, last round's per-click price of every position, episode clock.
Rewards                 expected quasi-linear utility ``v_i pi_i - t_i`` (``utility="expected"``),
                        or realised: clicks sampled from the click model, charged per click or per
                        impression (``utility="sampled"``).
Mechanisms              any auction of ``coopsim.mechanisms`` by registry name: ``gsp``, ``vcg``,
                        ``gfp``, ``first_price``, ``second_price``, ``myerson``, ``aigc_vcg``.
                        Separable mechanisms run under MNL/cascade users are re-scored under the
                        true click model (the separable-approximation baseline).
Metrics (per copy)      ``welfare``, ``revenue``, ``bidder_surplus`` (expected), ``realized_utility``,
                        ``highest_bid``; with reference metrics:
                        ``opt_welfare``, ``efficiency`` (welfare / optimum), ``vcg_revenue``,
                        ``revenue_vs_vcg``, ``myerson_revenue``, ``revenue_vs_myerson`` (truthful
                        bids under VCG / Myerson; 0/0 := 1, x/0 := +inf, never NaN).
Arguments               ``n_agents``, ``n_slots``, ``mechanism``, ``mechanism_params``, ``values``,
                        ``value_params``, ``ctr``, ``ctr_params``, ``click_model``, ``action``,
                        ``bid_max``, ``shade_max``, ``bid_grid``, ``utility``,
                        ``reference_metrics``, ``seed`` (click sampling; an env's
                        ``reset(seed)`` reseeds it); env views add ``max_cycles``,
                        ``action_mode``, ``grid_size``, ``redraw``, ``render_mode``.
References              Balseiro et al., "Position Auctions in AI-Generated Content", arXiv
                        2506.03309; Edelman, Ostrovsky & Schwarz, AER 97(1) 2007; Varian, IJIO
                        25(6) 2007; Myerson, MOR 6(1) 1981; Feng et al., arXiv 2009.06136;
                        Banchio & Skrzypacz, arXiv 2202.05947; Jeunen et al., AuctionGym (KDD'23).
=====================  ================================================================
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np
from coopsim.envs._checks import check_mechanism_params, check_outcome, check_params
from coopsim.mechanisms import auctions as au
from coopsim.mechanisms import get as get_mechanism
from coopsim.mechanisms.auctions import myerson as my
from coopsim.mechanisms.auctions import solvers as sol
from coopsim.mechanisms.registry import registry as mechanism_registry

from coopsim.core.game import MechanismGame, Outcome
from coopsim.core.validation import (
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

VALUE_DISTRIBUTIONS = ("uniform", "lognormal", "fixed")
CTR_KINDS = ("separable", "aigc", "fixed")
SEPARABLE_MECHANISMS = ("gsp", "vcg", "gfp", "first_price", "second_price")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0/0 := 1 and x/0 := +inf (the convention of ``coopsim.analysis.ratios``;
    never NaN, so infos compare equal under PettingZoo's seed tests)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    return np.where(den == 0, np.where(num == 0, 1.0, np.inf), r)


class _Factors(TypedDict):
    """Separable CTR factors, as keyword arguments of the separable mechanisms."""

    quality: np.ndarray
    position: np.ndarray


class _ContKw(TypedDict, total=False):
    """The continuation probabilities keyword of the non-separable mechanisms (absent when not needed)."""

    cont: np.ndarray


class PositionAuction(MechanismGame):
    """One round of a position auction over ``B`` copies (see the module card)."""

    objectives = {"welfare": "max", "revenue": "max"}
    default_grid_size = 101

    def __init__(
        self,
        n_agents: int = 3,
        n_slots: int = 1,
        mechanism: str | Any = "second_price",
        mechanism_params: dict[str, Any] | None = None,
        values: str = "uniform",
        value_params: dict[str, Any] | None = None,
        ctr: str = "separable",
        ctr_params: dict[str, Any] | None = None,
        click_model: str = "additive",
        action: str = "bid",
        bid_max: float | None = None,
        shade_max: float = 1.0,
        bid_grid: Any = None,
        utility: str = "expected",
        reference_metrics: str | bool = "auto",
        seed: int = 0,
    ) -> None:
        self.n_agents = check_int(n_agents, "n_agents", lo=1)
        self.n_slots = check_int(n_slots, "n_slots", lo=0)
        self.values = check_choice(values, "values", VALUE_DISTRIBUTIONS)
        self.value_params = self._check_value_params(check_params(value_params, "value_params"))
        self.ctr_kind = check_choice(ctr, "ctr", CTR_KINDS)
        self.click_model = check_choice(click_model, "click_model", sol.CLICK_MODELS)
        self.ctr_params = self._check_ctr_params(check_params(ctr_params, "ctr_params"))
        self.action = check_choice(action, "action", ("bid", "shading"))
        self.utility = check_choice(utility, "utility", ("expected", "sampled"))
        self.mechanism_params = check_params(mechanism_params, "mechanism_params")
        self._build_mechanism(mechanism)
        # spaces and ranges
        v_cap = self._value_cap()
        if self.action == "bid":
            self.action_low, self.action_high = (
                0.0,
                check_float(bid_max if bid_max is not None else v_cap, "bid_max", lo=0.0, lo_open=True),
            )
            overbid = max(self.action_high - 0.0, 0.0)
        else:
            self.action_low, self.action_high = 0.0, check_float(shade_max, "shade_max", lo=0.0, lo_open=True)
            overbid = max(self.action_high - 1.0, 0.0) * v_cap
        self.utility_range = (-overbid, v_cap)
        self.bid_grid = (
            None
            if bid_grid is None
            else as_array(bid_grid, "bid_grid", ndim=1, lo=self.action_low, hi=self.action_high)
        )
        self.type_low, self.type_high = 0.0, max(v_cap, 1.0)
        # per-click prices never exceed the winning bid
        self.public_low = 0.0
        self.public_high = self.action_high if self.action == "bid" else self.action_high * v_cap
        self.type_shape = (1 + self.n_slots,) if self.random_ctr else ()
        check_choice(reference_metrics, "reference_metrics", ("auto", True, False))
        self.reference_metrics = self.cheap_references if reference_metrics == "auto" else bool(reference_metrics)
        self._click_rng = np.random.default_rng(check_int(seed, "seed", lo=0))
        self._force_expected = False
        self._closed_form = self._closed_form_kind()

    # -- configuration ------------------------------------------------------------------------
    def _check_value_params(self, p: dict[str, Any]) -> dict[str, Any]:
        allowed = {"uniform": {"lo", "hi"}, "lognormal": {"mu", "sigma", "cap"}, "fixed": {"profile"}}[self.values]
        unknown = set(p) - allowed
        if unknown:
            raise ValueError(
                f"value_params: unknown keys {sorted(unknown)} for values={self.values!r}; "
                f"expected a subset of {sorted(allowed)}"
            )
        if self.values == "uniform":
            p["lo"] = check_float(p.get("lo", 0.0), "value_params.lo", lo=0.0)
            p["hi"] = check_float(p.get("hi", 1.0), "value_params.hi", lo=p["lo"], lo_open=True)
            self.distribution: Any = my.Uniform(p["lo"], p["hi"])
        elif self.values == "lognormal":
            p["mu"] = check_float(p.get("mu", 0.0), "value_params.mu")
            p["sigma"] = check_float(p.get("sigma", 0.5), "value_params.sigma", lo=0.0, lo_open=True)
            self.distribution = my.LogNormal(p["mu"], p["sigma"])
            p["cap"] = check_float(
                p.get("cap", float(self.distribution.ppf(0.999))), "value_params.cap", lo=0.0, lo_open=True
            )
        else:
            if "profile" not in p:
                raise ValueError("value_params.profile: required for values='fixed'")
            prof = as_array(p["profile"], "value_params.profile", ndim=(0, 1), lo=0.0)
            prof = np.broadcast_to(prof, (self.n_agents,)).copy() if prof.ndim == 0 else prof
            if prof.shape != (self.n_agents,):
                raise ValueError(f"value_params.profile: expected {self.n_agents} values, got shape {prof.shape}")
            p["profile"] = prof
            self.distribution = [my.Fixed(float(x)) for x in prof]
        return p

    def _value_cap(self) -> float:
        p = self.value_params
        if self.values == "uniform":
            return p["hi"]
        if self.values == "lognormal":
            return p["cap"]
        return float(max(p["profile"].max(), 1e-12))

    def _check_ctr_params(self, p: dict[str, Any]) -> dict[str, Any]:
        N, m = self.n_agents, self.n_slots
        allowed = {
            "separable": {"position", "quality", "quality_range", "decay", "cascade", "continuation", "outside"},
            "aigc": {"low", "high", "decay", "cascade", "continuation", "outside"},
            "fixed": {"matrix", "cascade", "continuation", "outside"},
        }[self.ctr_kind]
        unknown = set(p) - allowed
        if unknown:
            raise ValueError(
                f"ctr_params: unknown keys {sorted(unknown)} for ctr={self.ctr_kind!r}; "
                f"expected a subset of {sorted(allowed)}"
            )
        decay = check_float(
            p.get("decay", 0.7 if self.ctr_kind == "separable" else 1.0), "ctr_params.decay", lo=0.0, hi=1.0
        )
        p["decay"] = decay
        self.random_ctr = False
        if self.ctr_kind == "separable":
            pos = p.get("position")
            pos = decay ** np.arange(m) if pos is None else as_array(pos, "ctr_params.position", ndim=1, lo=0.0, hi=1.0)
            if pos.shape != (m,):
                raise ValueError(f"ctr_params.position: expected {m} position CTRs (n_slots), got shape {pos.shape}")
            p["position"] = pos
            q = p.get("quality")
            if q is None:
                p["quality"] = np.ones(N)
            elif isinstance(q, str):
                check_choice(q, "ctr_params.quality", ("uniform",))
                lo, hi = p.get("quality_range", (0.5, 1.0))
                p["quality_range"] = (
                    check_float(lo, "ctr_params.quality_range[0]", lo=0.0, hi=1.0),
                    check_float(hi, "ctr_params.quality_range[1]", lo=lo, hi=1.0),
                )
                self.random_ctr = True
            else:
                qa = as_array(q, "ctr_params.quality", ndim=1, lo=0.0, hi=1.0)
                if qa.shape != (N,):
                    raise ValueError(f"ctr_params.quality: expected {N} qualities, got shape {qa.shape}")
                p["quality"] = qa
        elif self.ctr_kind == "aigc":
            p["low"] = check_float(p.get("low", 0.05), "ctr_params.low", lo=0.0, hi=1.0)
            p["high"] = check_float(p.get("high", 0.5), "ctr_params.high", lo=p["low"], hi=1.0)
            self.random_ctr = True
        else:
            if "matrix" not in p:
                raise ValueError("ctr_params.matrix: required for ctr='fixed'")
            M = as_array(p["matrix"], "ctr_params.matrix", ndim=2, lo=0.0, hi=1.0)
            if M.shape != (N, m):
                raise ValueError(f"ctr_params.matrix: expected shape ({N}, {m}), got {M.shape}")
            p["matrix"] = M
        p["cascade"] = check_choice(p.get("cascade", "stop"), "ctr_params.cascade", ("stop", "continuation"))
        if p["cascade"] == "continuation":
            c = as_array(p.get("continuation", 0.8), "ctr_params.continuation", ndim=(0, 1), lo=0.0, hi=1.0)
            p["continuation"] = np.broadcast_to(c, (N,)).copy()
        p["outside"] = check_float(p.get("outside", 1.0), "ctr_params.outside", lo=0.0, lo_open=True)
        return p

    def _build_mechanism(self, mechanism: Any) -> None:
        params = dict(self.mechanism_params)
        if isinstance(mechanism, str):
            name = mechanism
            # refuse another family's mechanism before building it with this game's parameters
            factory = mechanism_registry.factory(mechanism_registry.canonical(name))
            check_family(factory, "auctions")
            check_mechanism_params(factory, params, f"mechanism {name!r}")
            if name == "aigc_vcg":
                params.setdefault("click_model", self.click_model)
                params.setdefault("max_ads", self.n_slots)
                if self.click_model == "cascade":
                    params.setdefault("cascade", self.ctr_params["cascade"])
                params.setdefault("outside", self.ctr_params["outside"])
                if params["click_model"] != self.click_model:
                    raise ValueError(f"mechanism_params.click_model: must match click_model={self.click_model!r}")
            if name == "myerson":
                params.setdefault("distribution", self.distribution)
                if self.click_model != "additive" or self.ctr_kind != "separable":
                    params.setdefault("click_model", self.click_model)
                    params.setdefault("max_ads", self.n_slots)
                    params.setdefault("outside", self.ctr_params["outside"])
                    if self.click_model == "cascade":
                        params.setdefault("cascade", self.ctr_params["cascade"])
            if name in ("first_price", "second_price"):
                params.setdefault("tie_break", "share")
            self.mechanism = check_family(get_mechanism(name, **params), "auctions")
        elif callable(mechanism):
            name = getattr(mechanism, "registry_name", None) or type(mechanism).__name__
            self.mechanism = check_family(mechanism, "auctions")
            inner = getattr(mechanism, "click_model", None)
            if (
                isinstance(mechanism, (au.AIGCVCG, au.Myerson))
                and inner not in ("separable", self.click_model)
                and not (inner == "additive" and self.n_slots <= 1)
            ):
                raise ValueError(
                    f"mechanism: its click_model {inner!r} does not match click_model={self.click_model!r}"
                )
        else:
            raise ParameterTypeError(
                "mechanism", f"mechanism: expected a registry name or an auction mechanism, got {mechanism!r}"
            )
        self.mechanism_name = name
        #: the number of ads the mechanism may show (its ``max_ads`` / ``max_slots``, else n_slots)
        budget = getattr(self.mechanism, "max_ads", None)
        if budget is None:
            budget = getattr(self.mechanism, "max_slots", None)
        self.ad_budget = self.n_slots if budget is None else min(int(budget), self.n_slots)
        self.separable_mechanism = isinstance(self.mechanism, au.SeparableMechanism) or (
            isinstance(self.mechanism, au.Myerson) and self.mechanism.click_model == "separable"
        )

    @property
    def cheap_references(self) -> bool:
        """Reference metrics are vectorised (cheap) in the separable additive model."""
        return self.ctr_kind == "separable" and (self.click_model == "additive" or self.n_slots <= 1)

    # -- types ----------------------------------------------------------------------------------
    def reseed(self, rng: np.random.Generator) -> None:
        """Replace the click-sampling stream (``RepeatedGame.reset(seed)`` calls this)."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng: expected a numpy.random.Generator, got {type(rng).__name__}")
        self._click_rng = rng

    def sample_types(self, rng: np.random.Generator, batch: int) -> np.ndarray:
        """Values ``(batch, N)`` (or ``[value, CTR row]`` ``(batch, N, 1 + m)`` with random CTRs)."""
        B = self.check_sample_args(rng, batch, per_copy=self.n_agents * (1 + 2 * self.n_slots))
        N, m = self.n_agents, self.n_slots
        p = self.value_params
        if self.values == "uniform":
            v = rng.uniform(p["lo"], p["hi"], (B, N))
        elif self.values == "lognormal":
            v = np.minimum(rng.lognormal(p["mu"], p["sigma"], (B, N)), p["cap"])  # truncated at cap
        else:
            v = np.broadcast_to(p["profile"], (B, N)).copy()
        if not self.random_ctr:
            return v
        c = self.ctr_params
        if self.ctr_kind == "separable":
            lo, hi = c["quality_range"]
            ctr = rng.uniform(lo, hi, (B, N))[:, :, None] * c["position"][None, None, :]
        else:
            ctr = rng.uniform(c["low"], c["high"], (B, N, m)) * (c["decay"] ** np.arange(m))
        return np.concatenate([v[:, :, None], ctr], axis=2)

    def split(self, types: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(values (B, N), ctr (B, N, m))`` from a type profile."""
        t = np.asarray(types, dtype=np.float64)
        B = t.shape[0]
        if self.random_ctr:
            return t[..., 0], t[..., 1:]
        c = self.ctr_params
        if self.ctr_kind == "separable":
            ctr = c["quality"][:, None] * c["position"][None, :]
        else:
            ctr = c["matrix"]
        return t, np.broadcast_to(ctr, (B, self.n_agents, self.n_slots))

    def truthful_actions(self, types: np.ndarray) -> np.ndarray:
        """Bid = value (``action="bid"``) or shading factor 1."""
        v, _ = self.split(types)
        if self.action == "shading":
            return np.ones_like(v)
        return np.minimum(v, self.action_high)

    def to_bids(self, values: np.ndarray, actions: np.ndarray) -> np.ndarray:
        """Bids from actions: identity, or ``s v`` for shading factors."""
        return actions * values if self.action == "shading" else actions

    def action_grid(self, k: int) -> np.ndarray:
        """``bid_grid`` if given, else ``k`` evenly spaced actions in ``[action_low, action_high]``."""
        k = check_int(k, "k", lo=1)
        if self.bid_grid is not None:
            return self.bid_grid.copy()
        check_size("k", k, what="the action grid")
        return np.linspace(self.action_low, self.action_high, k)

    # -- the auction ----------------------------------------------------------------------------
    def _factors(self, ctr: np.ndarray) -> _Factors:
        """Separable factors ``quality`` ((N,) or (B, N)) and ``position`` (m,) of the current CTRs."""
        c = self.ctr_params
        if not self.random_ctr:
            return {"quality": c["quality"], "position": c["position"]}
        a0 = c["position"].max() if self.n_slots else 0.0
        j = int(c["position"].argmax()) if self.n_slots else 0
        q = ctr[:, :, j] / a0 if a0 > 0 else np.zeros(ctr.shape[:2])
        return {"quality": np.minimum(q, 1.0), "position": c["position"]}

    def _cont(self, B: int) -> np.ndarray | None:
        c = self.ctr_params
        if self.click_model != "cascade":
            return None
        if c["cascade"] == "stop":
            return None
        return np.broadcast_to(c["continuation"][None, :, None], (B, self.n_agents, self.n_slots))

    def _cont_kw(self, B: int) -> _ContKw:
        """``{"cont": ...}`` for the non-separable mechanisms when cascade users continue, else ``{}``."""
        cont = self._cont(B)
        return {} if cont is None else {"cont": cont}

    def _weights(self, ctr: np.ndarray) -> np.ndarray | None:
        if self.click_model != "mnl":
            return None
        if (ctr >= 1.0).any():
            raise ValueError("ctr_params: MNL logit calibration needs CTRs < 1")
        return ctr / (1.0 - ctr)

    def run_auction(self, bids: np.ndarray, ctr: np.ndarray) -> au.AuctionResult:
        """Run the mechanism and (for separable mechanisms under MNL/cascade users) re-score clicks."""
        B = bids.shape[0]
        mech = self.mechanism
        if self.separable_mechanism:
            if self.ctr_kind == "separable":
                res = mech(bids, **self._factors(ctr))
            else:
                res = mech(bids, ctr)
            if self.click_model != "additive" and self.n_slots > 1:
                pi = sol.batch_click_probs(
                    self.click_model,
                    res.assignment,
                    res.assignment,
                    ctr,
                    self._weights(ctr),
                    self._cont(B),
                    self.ctr_params["outside"],
                )
                pos = np.maximum(res.assignment, 0)[:, :, None]
                p_shown = np.where(res.assignment >= 0, np.take_along_axis(ctr, pos, 2)[:, :, 0], 0.0)
                res = au.AuctionResult(
                    assignment=res.assignment,
                    click_prob=pi,
                    payment=res.price * pi,
                    price=res.price,
                    render_rank=res.assignment,
                    billing=res.billing,
                    click_model=self.click_model,
                    p_shown=p_shown,
                    q_shown=self._q_shown(res.assignment, ctr),
                    cascade=self.ctr_params["cascade"],
                )
            return res
        return mech(bids, ctr, **self._cont_kw(B))

    def _q_shown(self, asg: np.ndarray, ctr: np.ndarray) -> np.ndarray:
        cont = self._cont(asg.shape[0])
        src = 1.0 - ctr if cont is None else cont
        return np.where(asg >= 0, np.take_along_axis(src, np.maximum(asg, 0)[:, :, None], 2)[:, :, 0], 1.0)

    def play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        """Bids from actions, one batched auction, utilities ``v pi - t`` (expected or realised).

        ``types`` and ``actions`` are validated (shape, finite, within the type and action ranges).
        """
        t, acts = self.check_profile(types, actions)
        self.check_play_size(t.shape[0], "types")
        return self._play(t, acts)

    def check_play_size(self, batch: int, name: str = "batch") -> None:
        """The outcome holds about twelve ``(B, N, n_slots + 1)`` arrays."""
        check_size(name, batch, self.n_agents, self.n_slots + 1, copies=12, what="the auction outcome arrays")

    def _play(self, types: np.ndarray, actions: np.ndarray) -> Outcome:
        acts = actions
        v, ctr = self.split(types)
        bids = self.to_bids(v, acts)
        res = self.run_auction(bids, ctr)
        expected = v * res.click_prob - res.payment
        if self.utility == "sampled" and not self._force_expected:
            clicks = res.sample_clicks(self._click_rng)
            util = v * clicks - res.realized_payment(clicks)
        else:
            clicks = None
            util = expected
        B = v.shape[0]
        slot_prices = np.zeros((B, self.n_slots))
        shown = res.assignment >= 0
        bi, ii = np.nonzero(shown)
        slot_prices[bi, res.assignment[bi, ii]] = res.price[bi, ii]
        return Outcome(
            util,
            public=("slot_prices",),
            assignment=res.assignment,
            click_prob=res.click_prob,
            payment=res.payment,
            price=res.price,
            bids=bids,
            values=v,
            expected_utility=expected,
            clicks=clicks,
            slot_prices=slot_prices,
            revenue=res.revenue,
        )

    # -- counterfactuals ------------------------------------------------------------------------
    def _closed_form_kind(self) -> str | None:
        """``"fpa"``/``"spa"`` when the single-slot closed form applies, else None."""
        mech = self.mechanism
        if not isinstance(mech, au.SeparableMechanism) or self.ctr_kind != "separable":
            return None
        one_slot = isinstance(mech, (au.FirstPrice, au.SecondPrice)) or self.n_slots == 1 or mech.max_slots == 1
        if not one_slot or self.n_slots < 1 or mech.rank_by != "score" or mech.tie_break not in ("index", "share"):
            return None
        return "fpa" if mech.rule == "gfp" else "spa"

    def deviation_utilities(self, types: np.ndarray, actions: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """``U[b, i, k]``: expected utility of agent i had it alone played candidate k.

        Single-slot first/second price (or any separable mechanism with one slot): O(B N K) closed
        form. With scores ``e_j = q_j b_j`` (``-1`` if ineligible:
        ``b_j < r`` or ``e_j = 0``), let ``m_i`` be the highest competing score and ``c_i`` the
        number of other agents at it. A candidate bid g (score ``q_i g``) wins with probability 1 if
        ``q_i g > m_i``, ``1/(1 + c_i)`` on a tie (``tie_break="share"``; with ``"index"``: 1 if i
        precedes every tied competitor), else 0. FPA: ``share q_i a (v_i - g)``; SPA:
        ``share q_i a (v_i - max(r, m_i^+ / q_i))``. Otherwise the generic batched path; always in
        expectation (sampled clicks are averaged out).
        """
        if self._closed_form is None:
            self._force_expected = True
            try:
                return super().deviation_utilities(types, actions, candidates)
            finally:
                self._force_expected = False
        v, ctr = self.split(types)
        acts = np.asarray(actions, dtype=np.float64)
        B, N = v.shape
        cand = self._broadcast_candidates(candidates, B)  # (B, N, K)
        return self._closed_form_deviation(v, ctr, acts, cand)

    @staticmethod
    def _competition(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per ``(b, i)`` from the ``(B, N)`` keys: the highest competing key ``m_i`` (``-inf``
        alone) and the number ``c_i`` of others at it (0 unless ``m_i > 0``).

        Two bidders: the other's key. Otherwise from the top two keys of each copy on the
        ``(N, B)`` transpose (no ``(B, N, N)`` array): ``m_i`` is the top key unless i alone holds
        it (then the second key)."""
        N = key.shape[1]
        if N == 2:
            cm = key[:, ::-1]
            return cm, (cm > 0).astype(np.int64)
        kt = np.ascontiguousarray(key.T)  # (N, B)
        m1 = kt.max(axis=0)
        at_top = kt == m1
        c1 = at_top.sum(axis=0)
        below = np.where(at_top, -np.inf, kt)
        m2 = below.max(axis=0)
        c2 = (below == m2).sum(axis=0)
        alone = at_top & (c1 == 1)
        cm = np.where(alone, m2, m1)
        n_tied = np.where(cm > 0, np.where(alone, c2, c1 - at_top), 0)
        return cm.T, n_tied.T

    def _closed_form_deviation(self, v: np.ndarray, ctr: np.ndarray, acts: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """The single-slot closed form of :meth:`deviation_utilities` on checked ``(B, N, K)``
        candidates. Everything per ``(b, i)`` (competing score, tie count, click coefficients) is
        computed on ``(B, N)`` arrays; the ``(B, N, K)`` work is a few element-wise passes (the
        candidate score, the win and tie comparisons, the clicks and ``v - price``) with two new
        ``(B, N, K)`` float arrays (one more when some candidate ties). Each entry is computed as in the formula above (``clicks =
        share * q_i * a`` per ``(b, i)``, then ``clicks * (v_i - price)``)."""
        N = v.shape[1]
        shading = self.action == "shading"
        g = cand * v[:, :, None] if shading else cand  # a new array only for shading
        bids = self.to_bids(v, acts)
        fac = self._factors(ctr)
        a_best = float(fac["position"].max())
        q = fac["quality"]  # (N,) or (B, N); q[..., None] broadcasts against (B, N, K)
        r = self.mechanism.reserve  # >= 0
        score = bids * q
        # eligible: b_j >= r and a positive score (with r = 0 the score test implies the bid test)
        key = np.where((score > 0) & (bids >= r) if r > 0 else score > 0, score, -1.0)  # (B, N)
        cm, n_tied = self._competition(key)
        # candidate score q_i g (g * 1.0 == g exactly: unit qualities skip the product)
        gq = g if not self.random_ctr and bool((q == 1.0).all()) else g * q[..., None]
        # win: eligible and q_i g > max(m_i, 0); tie: eligible and q_i g == m_i > 0 (NaN never
        # ties). With r <= 0, q_i g > 0 already implies g >= r (q_i >= 0): no reserve test then.
        win = gq > np.maximum(cm, 0.0)[:, :, None]
        tie = gq == np.where(cm > 0, cm, np.nan)[:, :, None]
        if r > 0:
            ok = g >= r
            win &= ok
            tie &= ok
        # clicks = share * q_i * a: share 1 (win), the tie share, or 0 (win and tie are disjoint,
        # so adding the tie term to the zeros of the win term is exact)
        c_win = 1.0 * q * a_best  # (N,) or (B, N)
        clicks = win.astype(np.float64)
        clicks *= c_win[..., None]
        if tie.any():
            if self.mechanism.tie_break == "share":
                c_tie = (1.0 / (1.0 + n_tied)) * q * a_best
            else:  # the lowest index among the tied wins: i must precede every tied competitor
                c_tie = np.where(self._first_tied(key, cm) > np.arange(N)[None, :], c_win, 0.0)
            clicks += tie * c_tie[:, :, None]
        if self._closed_form == "fpa":
            dv = np.subtract(v[:, :, None], g, out=g) if shading else v[:, :, None] - g  # g: done with it
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                price = np.maximum(r, np.maximum(cm, 0.0) / q)
            dv = v[:, :, None] - np.where(clicks > 0, price[:, :, None], 0.0)
        clicks *= dv
        return clicks

    @staticmethod
    def _first_tied(key: np.ndarray, cm: np.ndarray) -> np.ndarray:
        """Per ``(b, i)``: the first index ``j != i`` with ``key_j == m_i > 0`` (``N`` if none)."""
        B, N = key.shape
        idx = np.arange(N)
        tied = (key[:, None, :] == cm[:, :, None]) & (cm[:, :, None] > 0) & (idx[:, None] != idx[None, :])
        return np.where(tied, idx[None, None, :], N).min(axis=2)

    # -- metrics --------------------------------------------------------------------------------
    def optimum(self, types: np.ndarray) -> dict[str, np.ndarray]:
        """Optimal expected welfare ``max_x sum_i v_i pi_i(x)`` over allocations with at most
        ``ad_budget`` ads (the mechanism's ``max_ads``/``max_slots``), per copy."""
        v, ctr = self.split(self.check_types(types))
        if self.cheap_references:
            return {"welfare": au.VCG(max_slots=self.ad_budget)(v, **self._factors(ctr)).welfare(v)}
        ref = au.AIGCVCG(
            click_model=self.click_model,
            max_ads=self.ad_budget,
            cascade=self.ctr_params["cascade"],
            outside=self.ctr_params["outside"],
        )
        return {"welfare": ref.optimum(v, ctr, **self._cont_kw(v.shape[0]))}

    def reference_outcomes(self, types: np.ndarray) -> dict[str, np.ndarray]:
        """VCG and Myerson revenue at truthful bids (per copy)."""
        v, ctr = self.split(self.check_types(types))
        B = v.shape[0]
        c = self.ctr_params
        if self.cheap_references:
            fac = self._factors(ctr)
            vcg = au.VCG(max_slots=self.ad_budget)(v, **fac)
            mye = au.Myerson(distribution=self.distribution, max_ads=self.ad_budget)(v, **fac)
            return {"opt_welfare": vcg.welfare(v), "vcg_revenue": vcg.revenue, "myerson_revenue": mye.revenue}
        kw = self._cont_kw(B)
        vcg = au.AIGCVCG(
            click_model=self.click_model, max_ads=self.ad_budget, cascade=c["cascade"], outside=c["outside"]
        )(v, ctr, **kw)
        mye = au.Myerson(
            distribution=self.distribution,
            click_model=self.click_model,
            max_ads=self.ad_budget,
            cascade=c["cascade"],
            outside=c["outside"],
        )(v, ctr, **kw)
        return {"opt_welfare": vcg.welfare(v), "vcg_revenue": vcg.revenue, "myerson_revenue": mye.revenue}

    def metrics(self, types: np.ndarray, outcome: Outcome) -> dict[str, np.ndarray]:
        """Welfare, revenue, bidder surplus (expected) and, when enabled, ratios to references."""
        types = self.check_types(types)
        check_outcome(outcome, types.shape[0])
        v = outcome.values
        welfare = (v * outcome.click_prob).sum(axis=1)
        revenue = outcome.payment.sum(axis=1)
        out = {
            "welfare": welfare,
            "revenue": revenue,
            "bidder_surplus": welfare - revenue,
            "realized_utility": outcome.utility.sum(axis=1),
            "highest_bid": outcome.bids.max(axis=1),
        }
        if self.reference_metrics:
            ref = self.reference_outcomes(types)
            out.update(ref)
            out["efficiency"] = _ratio(welfare, ref["opt_welfare"])
            out["revenue_vs_vcg"] = _ratio(revenue, ref["vcg_revenue"])
            out["revenue_vs_myerson"] = _ratio(revenue, ref["myerson_revenue"])
        return out

    # -- rendering ----------------------------------------------------------------------------
    def draw(self, ax: Any, types: np.ndarray, actions: np.ndarray | None, outcome: Outcome | None) -> None:
        """Copy 0 on ``ax`` (the env's ``rgb_array`` frame): see :func:`draw_auction`."""
        if outcome is None:
            draw_auction(ax, self.split(types)[0][0], title=self.mechanism_name)
        else:
            draw_auction(
                ax,
                outcome.values[0],
                outcome.bids[0],
                outcome.assignment[0],
                outcome.payment[0],
                title=self.mechanism_name,
            )


def draw_auction(
    ax: Any,
    values: np.ndarray,
    bids: np.ndarray | None = None,
    assignment: np.ndarray | None = None,
    payments: np.ndarray | None = None,
    title: str = "",
) -> None:
    """One column per bidder: bid (bar, coloured by the slot won, grey when none), value
    (black tick) and the slot and expected payment written above the bar."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    x = np.arange(values.size)
    if bids is not None:
        slot = np.asarray(assignment).reshape(-1)
        colors = [f"C{s % 10}" if s >= 0 else "0.75" for s in slot]
        ax.bar(x, np.asarray(bids).reshape(-1), color=colors, width=0.6, label="bid")
        for i in x:
            text = f"slot {slot[i]}" if slot[i] >= 0 else "no slot"
            if payments is not None and slot[i] >= 0:
                text += f"\npays {float(payments[i]):.3g}"
            ax.annotate(text, (i, 0), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7)
    ax.scatter(x, values, marker="_", s=400, color="k", label="value", zorder=3)
    label_agents(ax, values.size)
    ax.set_ylabel("per-click value / bid")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, loc="left", fontsize=9)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def make_game(**kwargs: Any) -> PositionAuction:
    """Build the one-shot game (the runner's hook)."""
    return PositionAuction(**kwargs)


NAME = "position_auction_v0"
make_batched_env = repeated_game_factory(PositionAuction, default_max_cycles=25, default_redraw="round", name=NAME)
env, raw_env, parallel_env, gym_env, gym_vector_env = env_views(make_batched_env, name=NAME)
