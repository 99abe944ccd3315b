"""Cost of an ``rgb_array`` frame per env, and of stepping with rendering on versus off.

One copy through ``parallel_env``: ``ms/frame`` is the mean time of ``render()`` after a step
(matplotlib Agg, 480 x 320 pixels), in wall time and in this process's CPU time (closer to the
unloaded figure on a machine shared with other jobs); ``steps/s`` with ``render_mode=None`` shows that the rendering
support costs nothing when it is off (frames are drawn only when ``render()`` is called). Timings
on a shared 2-core machine are noisy (best of ``--repeat``).

    python benchmarks/bench_render.py [--frames 20] [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib
import time

from coopsim.interop.registration import ENVIRONMENTS


def _env(module, render_mode):
    env = module.parallel_env(render_mode=render_mode, max_cycles=10_000)
    env.reset(seed=0)
    return env


def _step(env):
    env.step({a: env.action_space(a).sample() for a in env.agents})


def ms_per_frame(module, frames: int, clock=time.perf_counter) -> float:
    """Mean milliseconds of ``render()`` (the step before each frame is not counted)."""
    env = _env(module, "rgb_array")
    _step(env)
    env.render()  # first frame imports matplotlib
    total = 0.0
    for _ in range(frames):
        _step(env)
        t0 = clock()
        env.render()
        total += clock() - t0
    return 1e3 * total / frames


def steps_per_second(module, seconds: float = 0.5) -> float:
    env = _env(module, None)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _step(env)
        n += 1
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"{'env':<28} {'ms/frame wall':>14} {'ms/frame cpu':>13} {'steps/s (no render)':>20}")
    for name, path in ENVIRONMENTS.items():
        module = importlib.import_module(path)
        wall = min(ms_per_frame(module, args.frames) for _ in range(args.repeat))
        cpu = min(ms_per_frame(module, args.frames, time.process_time) for _ in range(args.repeat))
        sps = max(steps_per_second(module) for _ in range(args.repeat))
        print(f"{name:<28} {wall:>14.1f} {cpu:>13.1f} {sps:>20,.0f}")


if __name__ == "__main__":
    main()
