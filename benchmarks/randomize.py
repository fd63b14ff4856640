"""Cost of domain randomization (sim.randomize): render fps, env step rate, reset time; ``none``/``physics``/``full``.

Same process, same episodes (seeds), interleaved rounds so machine load hits all alike. Per setting:
- render: frames/s of the ``front`` camera (96x96) on the randomized model (in-place edits; nothing recompiled);
- step: env steps/s of ``twinarm/SO101Lift-v0`` with front + wrist cameras at 96x96 (physics, two renders, and for
  ``full`` the image noise and blur);
- reset: ms per ``env.reset`` (for ``full``: the draw, ``mj_setConst`` and the servo parameters).

    python benchmarks/randomize.py [--steps 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import twinarm.sim  # noqa: F401  (selects the headless GL backend)
from twinarm.sim.envs import TaskEnv

SETTINGS = ("none", "physics", "full")


def measure(env: TaskEnv, steps: int, seed: int) -> tuple[float, float, float]:
    """(render fps, env steps/s, reset ms) of one round."""
    t0 = time.perf_counter()
    resets = 10
    for i in range(resets):
        env.reset(seed=seed + i)
    reset_ms = 1e3 * (time.perf_counter() - t0) / resets
    renderer, data = env.robot._renderer, env.robot.data
    t0 = time.perf_counter()
    for _ in range(steps):
        renderer.render(data, "front")
    render_fps = steps / (time.perf_counter() - t0)
    action = np.asarray(env.robot.sim_model.home, dtype=np.float32)
    t0 = time.perf_counter()
    for _ in range(steps):
        env.step(action)
    step_rate = steps / (time.perf_counter() - t0)
    return render_fps, step_rate, reset_ms


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    envs = {s: TaskEnv("lift", randomize=s) for s in SETTINGS}
    results: dict[str, list[tuple[float, float, float]]] = {s: [] for s in SETTINGS}
    try:
        for env in envs.values():
            measure(env, 20, 0)  # warm-up: contexts, caches
        for r in range(args.rounds):
            for s, env in envs.items():
                results[s].append(measure(env, args.steps, 100 * r))
    finally:
        for env in envs.values():
            env.close()
    med = {s: np.median(np.array(v), axis=0) for s, v in results.items()}
    print(
        f"{'randomize':<10} {'render fps':>11} {'env steps/s':>12} {'reset ms':>9}   (median of {args.rounds} rounds)"
    )
    for s in SETTINGS:
        fps, rate, reset = med[s]
        print(f"{s:<10} {fps:11.0f} {rate:12.1f} {reset:9.2f}")
    n, f = med["none"], med["full"]
    print(f"full/none: render {f[0] / n[0]:.2f}x, env steps {f[1] / n[1]:.2f}x, reset {f[2] / n[2]:.2f}x")


if __name__ == "__main__":
    main()
