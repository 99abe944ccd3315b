"""Learned auctions served in NumPy: MyersonNet, RochetNet and RegretNet weights read from ``.npz``.

The networks of Dütting, Feng, Narasimhan, Parkes & Ravindranath, "Optimal Auctions through Deep
Learning" (ICML 2019; JACM 2024), trained by :mod:`coopsim.design`, are saved as plain arrays and
replayed here without torch (this module never imports torch or :mod:`coopsim.design`):

- ``myerson_net`` (:class:`MyersonNetAuction`, Section 3.3): one item, ``n`` bidders. Virtual values
  ``phi_i(b) = min_k max_l (w_ikl b + c_ikl)`` (``w > 0``: strictly increasing); the highest
  positive virtual value wins and pays ``phi_i^{-1}(max(0, max_{j != i} phi_j(b_j)))``.
  Called like the other position auctions, ``mech(bids, ctr)`` with one slot, returning an
  :class:`~coopsim.mechanisms.auctions.AuctionResult`; strategyproof by construction.
- ``rochet_net`` (:class:`RochetNetMenu`, Section 3.2): one additive bidder, ``m`` items. A menu of
  ``K`` options ``(x_k in [0, 1]^m, p_k)`` plus the zero option; the bidder takes
  ``argmax_k x_k . b - p_k`` (first maximiser, the zero option on ties with it): IC by construction.
- ``regret_net`` (:class:`RegretNetAuction`, Section 3.1): ``n`` additive bidders, ``m`` items.
  Allocation ``z = softmax over (bidders + dummy) per item`` of a tanh network of all bids (each
  item allocated at most once), payment ``p_i = sigmoid(q_i(b)) sum_j z_ij b_ij`` (ex-post IR).
  Approximately IC: its ex-post regret is what :mod:`coopsim.design` trains down and
  :func:`~coopsim.analysis.incentive_audit` measures.

File format (:func:`save_weights` / :func:`load_weights`): an ``.npz`` of float64 arrays plus an
entry ``header`` holding a JSON string (``kind``, ``format``, sizes, training summary); read with
``allow_pickle=False``.

>>> from coopsim import mechanisms
>>> mech = mechanisms.get("regret_net")          # the shipped 2 bidders x 2 items network
>>> out = mech([[[0.9, 0.2], [0.3, 0.8]]])
>>> out.allocation.shape, out.payment.shape
((1, 2, 2), (1, 2))
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from coopsim.mechanisms.auctions.rules import (
    BILLING,
    AuctionResult,
    PositionAuctionMechanism,
    check_bids,
    separable_inputs,
)
from coopsim.mechanisms.auctions.separable import rank_order
from coopsim.mechanisms.base import Mechanism
from coopsim.mechanisms.registry import register

from coopsim.core.validation import ParameterError, as_array, check_choice

FORMAT = 1
KINDS = ("myerson_net", "rochet_net", "regret_net")

__all__ = [
    "FORMAT",
    "KINDS",
    "MultiItemResult",
    "MyersonNetAuction",
    "RegretNetAuction",
    "RochetNetMenu",
    "dense_forward",
    "load_weights",
    "save_weights",
]


def save_weights(path: str | os.PathLike, kind: str, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` (float64) and a JSON ``header`` (plus ``kind`` and ``format``) to ``path``."""
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    head = {**header, "kind": kind, "format": FORMAT}
    # Any values: mypy checks ``**data`` against savez's ``allow_pickle: bool`` keyword too
    data: dict[str, Any] = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    if "header" in data:
        raise ValueError("arrays: the name 'header' is reserved for the JSON header")
    np.savez(path, header=np.array(json.dumps(head, sort_keys=True)), **data)


def load_weights(path: str | os.PathLike, kind: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a weights file written by :func:`save_weights`; check it holds a ``kind`` network.

    Raises ``ValueError`` naming ``weights`` for a missing file, a file that is not such an npz
    (pickled objects are refused), or a network of another kind or format.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"weights: expected a path to an .npz file, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise ValueError(f"weights: expected an existing .npz weights file, got {os.fspath(path)!r} (no such file)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            files = {k: npz[k] for k in npz.files}
    except Exception as err:  # zipfile/pickle/format errors all mean: not our file
        raise ValueError(
            f"weights: expected a coopsim .npz weights file, could not read {os.fspath(path)!r} ({err})"
        ) from None
    if "header" not in files:
        raise ValueError(f"weights: expected a 'header' entry in {os.fspath(path)!r}, got entries {sorted(files)}")
    try:
        head = json.loads(str(files.pop("header")))
    except json.JSONDecodeError as err:
        raise ValueError(f"weights: header of {os.fspath(path)!r} is not JSON ({err})") from None
    if not isinstance(head, dict) or head.get("kind") != kind:
        got = head.get("kind") if isinstance(head, dict) else head
        raise ValueError(f"weights: expected a {kind!r} network, got kind {got!r} in {os.fspath(path)!r}")
    if head.get("format") != FORMAT:
        raise ValueError(f"weights: expected format {FORMAT}, got {head.get('format')!r} in {os.fspath(path)!r}")
    return head, {k: np.asarray(v, dtype=np.float64) for k, v in files.items()}


def dense_forward(arrays: dict[str, np.ndarray], prefix: str, x: np.ndarray) -> np.ndarray:
    """The tanh network ``{prefix}.W0, b0, ..., W_L, b_L`` on ``x`` (..., in): tanh on hidden layers."""
    n_layers = sum(1 for k in arrays if k.startswith(f"{prefix}.W"))
    for k in range(n_layers):
        x = x @ arrays[f"{prefix}.W{k}"] + arrays[f"{prefix}.b{k}"]
        if k < n_layers - 1:
            x = np.tanh(x)
    return x


# ============================================================================================
# results and shared checks
# ============================================================================================
@dataclass
class MultiItemResult:
    """Outcome of ``B`` multi-item auctions: ``allocation`` (B, n, m) in [0, 1] (sum over bidders
    <= 1 per item; fractional entries are lottery probabilities) and ``payment`` (B, n)."""

    allocation: np.ndarray
    payment: np.ndarray

    @property
    def revenue(self) -> np.ndarray:
        """``sum_i p_i``, shape (B,)."""
        return self.payment.sum(axis=1)

    def _values(self, values: Any) -> np.ndarray:
        """Values: finite, >= 0, of the shape of the bids (B, n, m) (or broadcasting to it)."""
        v = as_array(values, "values", lo=0.0)
        try:
            fits = np.broadcast_shapes(v.shape, self.allocation.shape) == self.allocation.shape
        except ValueError:
            fits = False
        if not fits:
            raise ParameterError(
                "values", f"values: expected the shape of the bids {self.allocation.shape}, got {v.shape}"
            )
        return v

    def welfare(self, values: Any) -> np.ndarray:
        """``sum_ij v_ij z_ij``, shape (B,)."""
        return (self._values(values) * self.allocation).sum(axis=(1, 2))

    def utility(self, values: Any) -> np.ndarray:
        """Additive quasi-linear utility ``sum_j v_ij z_ij - p_i``, shape (B, n)."""
        return (self._values(values) * self.allocation).sum(axis=2) - self.payment


def _weights_path(weights: Any, default: str) -> str:
    """``weights`` as a path string (``None``: the shipped ``data/<default>``)."""
    if weights is None:
        return os.path.join(os.path.dirname(__file__), "data", default)
    if not isinstance(weights, (str, os.PathLike)):
        raise TypeError(f"weights: expected a path to an .npz file or None, got {type(weights).__name__}")
    return os.fspath(weights)


def _check_profile(bids: Any, n: int, m: int, hi: float, name: str = "bids") -> np.ndarray:
    """Bids as (B, n, m) in [0, hi]; an (n, m) array is one auction (B = 1)."""
    b = as_array(bids, name, ndim=(2, 3), lo=0.0, hi=hi)
    if b.ndim == 2:
        b = b[None]
    if b.shape[1:] != (n, m):
        raise ValueError(f"{name}: expected shape (B, {n}, {m}) or ({n}, {m}), got {np.shape(bids)}")
    return b


def _need(arrays: dict[str, np.ndarray], shapes: dict[str, tuple[int, ...]], path: Any) -> None:
    """Check that the weights file holds each array with its expected shape."""
    for key, shape in shapes.items():
        got = arrays.get(key)
        if got is None or got.shape != shape:
            found = None if got is None else got.shape
            raise ValueError(f"weights: expected array {key!r} of shape {shape} in {os.fspath(path)!r}, got {found}")


def _dense_shapes(prefix: str, sizes: list[int]) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        out[f"{prefix}.W{k}"] = (a, b)
        out[f"{prefix}.b{k}"] = (b,)
    return out


# ============================================================================================
# RegretNet
# ============================================================================================
@register("regret_net")
class RegretNetAuction(Mechanism):
    """RegretNet for ``n`` additive bidders and ``m`` items: ``mech(bids (B, n, m)) -> MultiItemResult``.

    ``weights``: a ``regret_net`` weights file (default: the shipped 2 x 2 network trained on
    i.i.d. U[0, 1] values). Bids must lie in the value support ``[0, value_high]`` the network
    was trained on. Formulas in the module docstring.
    """

    family: ClassVar[str] = "auctions"
    claims = frozenset({"deterministic", "individually_rational"})

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        self.weights = _weights_path(weights, "regretnet_2x2.npz")
        self._head, self._arr = load_weights(self.weights, "regret_net")
        self.n_bidders = int(self._head["n_bidders"])
        self.n_items = int(self._head["n_items"])
        self.value_high = float(self._head.get("value_high", 1.0))
        n, m = self.n_bidders, self.n_items
        hidden = [int(h) for h in self._head["hidden"]]
        _need(self._arr, _dense_shapes("alloc", [n * m, *hidden, (n + 1) * m]), self.weights)
        _need(self._arr, _dense_shapes("pay", [n * m, *hidden, n]), self.weights)

    @property
    def header(self) -> dict[str, Any]:
        """The weights file's header (sizes, training configuration and summary)."""
        return dict(self._head)

    def __call__(self, bids: Any) -> MultiItemResult:
        b = _check_profile(bids, self.n_bidders, self.n_items, self.value_high)
        B, n, m = b.shape
        x = b.reshape(B, n * m)
        scores = dense_forward(self._arr, "alloc", x).reshape(B, n + 1, m)
        scores = scores - scores.max(axis=1, keepdims=True)
        ez = np.exp(scores)
        alloc = (ez / ez.sum(axis=1, keepdims=True))[:, :n, :]
        frac = 1.0 / (1.0 + np.exp(-dense_forward(self._arr, "pay", x)))
        return MultiItemResult(allocation=alloc, payment=frac * (alloc * b).sum(axis=2))


# ============================================================================================
# RochetNet
# ============================================================================================
@register("rochet_net")
class RochetNetMenu(Mechanism):
    """RochetNet menu for one additive bidder and ``m`` items: ``mech(bids (B, 1, m))``.

    ``weights``: a ``rochet_net`` file with ``alloc`` (K, m) in [0, 1] and ``price`` (K,) (default:
    the shipped menu for two items i.i.d. U[0, 1]). The bidder gets the option maximising
    ``x_k . b - p_k`` over the menu plus the zero option (ties: the zero option, then the lowest
    ``k``), so truthful reporting is optimal: IC and IR by construction.
    """

    family: ClassVar[str] = "auctions"
    claims = frozenset({"deterministic", "individually_rational", "strategyproof"})

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        self.weights = _weights_path(weights, "rochetnet_2items.npz")
        self._head, self._arr = load_weights(self.weights, "rochet_net")
        self.n_items = int(self._head["n_items"])
        K = int(self._head["n_options"])
        _need(self._arr, {"alloc": (K, self.n_items), "price": (K,)}, self.weights)
        # the zero option first: argmax keeps the first maximiser, so a tie goes to "nothing"
        self._alloc = np.concatenate([np.zeros((1, self.n_items)), self._arr["alloc"]])
        self._price = np.concatenate([[0.0], self._arr["price"]])

    @property
    def header(self) -> dict[str, Any]:
        return dict(self._head)

    @property
    def menu_alloc(self) -> np.ndarray:
        """Menu allocations (K + 1, m), row 0 the zero option."""
        return self._alloc

    @property
    def menu_price(self) -> np.ndarray:
        """Menu prices (K + 1,), entry 0 the zero option's 0."""
        return self._price

    def choice(self, bids: Any) -> np.ndarray:
        """Index of the chosen menu entry, (B,), 0 for the zero option and k + 1 for option k."""
        b = _check_profile(bids, 1, self.n_items, np.inf)
        return (b[:, 0, :] @ self.menu_alloc.T - self.menu_price).argmax(axis=1)

    def __call__(self, bids: Any) -> MultiItemResult:
        k = self.choice(bids)
        return MultiItemResult(allocation=self.menu_alloc[k][:, None, :], payment=self.menu_price[k][:, None])


# ============================================================================================
# MyersonNet
# ============================================================================================
@register("myerson_net")
class MyersonNetAuction(PositionAuctionMechanism):
    """MyersonNet: one item (one slot), ``n`` bidders, called as ``mech(bids, ctr)`` like ``myerson``.

    ``weights``: a ``myerson_net`` file with ``w`` (n, K, L) > 0 and ``beta`` (n, K, L) (default:
    the shipped network for 2 bidders with i.i.d. U[0, 1] values). Virtual values
    ``phi_i(b) = min_k max_l (w_ikl b + beta_ikl)``; with click-through rates ``q_i`` (one slot,
    ``ctr`` (B, n, 1) or ``quality``/``position``) the highest positive ``q_i phi_i(b_i)`` wins
    (ties by index) and pays per click ``max(0, phi_i^{-1}(c_i / q_i))``, ``c_i`` the highest
    competing ``q_j phi_j(b_j)`` floored at 0 and ``phi_i^{-1}(y) = max_k min_l (y - beta_ikl) / w_ikl``:
    the threshold bid, so truthful bidding is dominant.
    """

    claims = frozenset({"deterministic", "individually_rational", "monotone", "strategyproof"})
    default_position = (1.0,)
    max_slots = 1

    def __init__(self, weights: str | os.PathLike | None = None, billing: str = "per_click") -> None:
        self.weights = _weights_path(weights, "myersonnet_2bidders.npz")
        self.billing = check_choice(billing, "billing", BILLING)
        self._head, self._arr = load_weights(self.weights, "myerson_net")
        self.n_bidders = int(self._head["n_bidders"])
        shape = (self.n_bidders, int(self._head["groups"]), int(self._head["units"]))
        _need(self._arr, {"w": shape, "beta": shape}, self.weights)
        if not (self._arr["w"] > 0).all():
            raise ValueError(f"weights: expected positive slopes 'w' in {self.weights!r} (monotone virtual values)")

    @property
    def header(self) -> dict[str, Any]:
        return dict(self._head)

    def _check_n(self, n: int, name: str = "bids") -> None:
        if n != self.n_bidders:
            raise ParameterError(name, f"{name}: expected {self.n_bidders} bidders (the trained network's), got {n}")

    def virtual_values(self, bids: Any) -> np.ndarray:
        """``phi_i(b_i)``, shape (B, n)."""
        b = check_bids(bids)
        self._check_n(b.shape[1])
        w, beta = self._arr["w"], self._arr["beta"]
        # one group k at a time: (B, n, L) temporaries instead of (B, n, K, L)
        out = np.full(b.shape, np.inf)
        for k in range(w.shape[1]):
            np.minimum(out, (w[None, :, k] * b[:, :, None] + beta[None, :, k]).max(axis=2), out=out)
        return out

    def inverse_virtual_values(self, y: Any) -> np.ndarray:
        """``phi_i^{-1}(y_i)`` for ``y`` (B, n): ``max_k min_l (y - beta_ikl) / w_ikl``."""
        y = as_array(y, "y", ndim=2)
        self._check_n(y.shape[1], "y")
        w, beta = self._arr["w"], self._arr["beta"]
        out = np.full(y.shape, -np.inf)
        for k in range(w.shape[1]):  # (B, n, L) temporaries, as in virtual_values
            np.maximum(out, ((y[:, :, None] - beta[None, :, k]) / w[None, :, k]).min(axis=2), out=out)
        return out

    def __call__(
        self,
        bids: Any,
        ctr: Any = None,
        *,
        quality: Any = None,
        position: Any = None,
        rng: np.random.Generator | None = None,
        **kwargs: Any,
    ) -> AuctionResult:
        b, q, a, C, _ = separable_inputs(bids, ctr, quality, position, self.default_position)
        B, n = b.shape
        if a.shape[1] != 1:
            raise ValueError(f"ctr: expected one slot (B, n, 1) for a single-item auction, got {a.shape[1]} slots")
        score = q * self.virtual_values(b)  # (B, n)
        key = np.where(score > 0, score, -1.0)  # only a positive virtual score is eligible
        order = rank_order(key)  # the separable kernel's ranking: ties by lower index
        rows, win = np.arange(B), order[:, 0]
        has = key[rows, win] > 0
        comp = np.maximum(key[rows, order[:, 1]], 0.0) if n > 1 else np.zeros(B)
        qw = q[rows, win]
        y = np.zeros((B, n))
        y[rows, win] = np.where(qw > 0, comp / np.where(qw > 0, qw, 1.0), 0.0)
        thresh = np.maximum(self.inverse_virtual_values(y)[rows, win], 0.0)
        winner = (np.arange(n)[None, :] == win[:, None]) & has[:, None]
        click_w = C[rows, win, 0] if C is not None else qw * a[:, 0]
        click = np.where(winner, click_w[:, None], 0.0)
        price = np.where(winner, thresh[:, None], 0.0)
        return AuctionResult(
            assignment=np.where(winner, 0, -1),
            click_prob=click,
            payment=click * price,
            price=price,
            render_rank=np.where(winner, 0, -1),
            billing=self.billing,
            click_model="additive",
        )
