"""The agent economy's ``rgb_array`` frame, drawn from plain per-agent arrays (``render_mode="rgb_array"``).

:func:`draw_agent_economy` takes one copy's arrays (tier, balance, and optionally status and
archetype names per agent) so it does not depend on how the env stores its state;
:func:`render_agent_economy` turns them into a ``uint8 (H, W, 3)`` frame through
``coopsim.interop.render``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coopsim.interop.render import label_agents, render_rgb


def draw_agent_economy(
    ax: Any,
    tier: np.ndarray,
    balance: np.ndarray,
    status: Sequence[str] | None = None,
    archetype: Sequence[str] | None = None,
    title: str = "",
) -> None:
    """One bar per agent: its balance, coloured by tier (``T0`` grey, ``Tk`` colour ``Ck``), the
    tier written on the bar; agents whose status is not ``active`` are hatched and their status is
    written under the tier. Archetype names, when given, label the x axis (few agents only)."""
    from matplotlib.patches import Patch

    tier = np.asarray(tier, dtype=np.int64).reshape(-1)
    balance = np.asarray(balance, dtype=np.float64).reshape(-1)
    if tier.shape != balance.shape:
        raise ValueError(f"balance: expected one entry per agent ({tier.size}), got shape {balance.shape}")
    n = tier.size
    x = np.arange(n)
    colors = ["0.7" if t <= 0 else f"C{t % 10}" for t in tier]
    bars = ax.bar(x, balance, color=colors, width=0.7)
    for i, bar in enumerate(bars):
        state = "active" if status is None else str(status[i])
        inactive = state.lower() != "active"
        if inactive:
            bar.set_hatch("//")
        text = f"T{tier[i]}" + (f"\n{state}" if inactive else "")
        # along the bottom of the axes: readable whatever the sign of the balances
        ax.annotate(text, (i, 0.02), xycoords=("data", "axes fraction"), ha="center", va="bottom", fontsize=7)
    handles = [Patch(color="0.7" if t <= 0 else f"C{t % 10}", label=f"tier {t}") for t in np.unique(tier)]
    ax.axhline(0.0, color="k", lw=0.8)
    ax.use_sticky_edges = False  # room above and below the bars, also when every balance is <= 0
    ax.margins(y=0.25)
    label_agents(ax, n)
    if archetype is not None and n <= 6:
        ax.set_xticks(x, [f"{i}: {a}" for i, a in enumerate(archetype)], fontsize=7, rotation=15)
    ax.set_ylabel("balance")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title, loc="left", fontsize=9)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)


def render_agent_economy(
    tier: np.ndarray,
    balance: np.ndarray,
    status: Sequence[str] | None = None,
    archetype: Sequence[str] | None = None,
    title: str = "",
) -> np.ndarray:
    """:func:`draw_agent_economy` as an ``rgb_array`` frame, ``uint8 (H, W, 3)``."""
    return render_rgb(lambda ax: draw_agent_economy(ax, tier, balance, status, archetype, title))
