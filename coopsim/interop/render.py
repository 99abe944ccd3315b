"""``rgb_array`` frames for every environment: the env draws, this module makes the pixels.

Each env supplies a drawing function ``draw(ax)`` that puts its current state on one matplotlib
``Axes`` (facility: the line [0, 1] with peaks, reports and the facility; auctions: bids and the
slot assignment; ...). :func:`render_rgb` runs it on a fresh off-screen ``Figure`` (Agg canvas,
no pyplot state, so it is safe in workers and never opens a window) and returns the frame as a
``np.uint8`` array of shape ``(H, W, 3)`` (``H = height * dpi``, ``W = width * dpi``; 320 x 480
by default). matplotlib is imported on the first frame only.

Every env declares ``metadata["render_fps"] = RENDER_FPS`` (rounds shown per second when frames
are played back as a video) and the render modes ``["ansi", "rgb_array"]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from coopsim.core.validation import check_choice, check_float, check_int

#: frames per second declared in every env's metadata (one frame per round)
RENDER_FPS = 4
#: the render modes every coopsim env supports
RENDER_MODES = ["ansi", "rgb_array"]
#: default frame size in inches and resolution in dots per inch (480 x 320 pixels)
FRAME_INCHES = (6.0, 4.0)
FRAME_DPI = 80


def render_rgb(
    draw: Callable[[Any], None], size: tuple[float, float] = FRAME_INCHES, dpi: int = FRAME_DPI
) -> np.ndarray:
    """Run ``draw(ax)`` on a new off-screen figure; the frame as ``uint8`` ``(H, W, 3)``.

    ``size`` is ``(width, height)`` in inches; the frame has ``H = round(height * dpi)`` rows and
    ``W = round(width * dpi)`` columns, whatever ``draw`` puts on the axes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    w = check_float(size[0], "size[0]", lo=0.5, hi=40.0)
    h = check_float(size[1], "size[1]", lo=0.5, hi=40.0)
    dpi = check_int(dpi, "dpi", lo=10, hi=600)
    fig = Figure(figsize=(w, h), dpi=dpi, layout="constrained")
    canvas = FigureCanvasAgg(fig)
    draw(fig.add_subplot())
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def check_render_mode(render_mode: Any) -> str | None:
    """``render_mode`` must be ``None`` or one of :data:`RENDER_MODES` (``ValueError`` otherwise)."""
    return check_choice(render_mode, "render_mode", (None, *RENDER_MODES))


def label_agents(ax: Any, n: int, axis: str = "x") -> None:
    """Ticks ``0 .. n-1`` labelled ``agent i`` on ``axis`` (every k-th when there are many agents)."""
    step = max(1, int(np.ceil(n / 12)))
    ticks = np.arange(0, n, step)
    labels = [f"agent {i}" if n <= 6 else str(i) for i in ticks]
    if axis == "x":
        ax.set_xticks(ticks, labels)
        ax.set_xlabel("agent" if n > 6 else "")
    else:
        ax.set_yticks(ticks, labels)
        ax.set_ylabel("agent" if n > 6 else "")
