"""Camera rendering throughput: frames/s of the front and wrist cameras at 96x96, 224x224 and 480x640.

Each frame = ``update_scene`` + ``render`` of the current state (the cost a camera observation adds to a step).
Baseline for the ratio column: one physics control step (``mj_step`` x n_substeps) of the same model.

    python benchmarks/render.py [--frames 200]
"""

from __future__ import annotations

import argparse
import time

import mujoco

import twinarm.sim  # noqa: F401  (selects the headless GL backend)
from twinarm.robot.models import SO101
from twinarm.sim.render import CameraRenderer
from twinarm.sim.sim_robot import SimRobot


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    with SimRobot(spec=SO101.with_cameras(())) as robot:
        m, d, n = robot.model, robot.data, robot.n_substeps
        t0 = time.perf_counter()
        for _ in range(args.frames):
            mujoco.mj_step(m, d, nstep=n)
        step_s = (time.perf_counter() - t0) / args.frames
        print(f"physics control step: {1 / step_s:.0f} steps/s ({n} substeps)")
        for h, w in ((96, 96), (224, 224), (480, 640)):
            for cam in ("front", "wrist"):
                renderer = CameraRenderer(m, {cam: (h, w)})
                try:
                    for _ in range(10):
                        renderer.render(d, cam)
                    t0 = time.perf_counter()
                    for _ in range(args.frames):
                        renderer.render(d, cam)
                    frame_s = (time.perf_counter() - t0) / args.frames
                finally:
                    renderer.close()
                print(f"{cam:<6} {h:>3}x{w:<3} {1 / frame_s:7.0f} fps  (= {frame_s / step_s:5.2f} physics steps)")


if __name__ == "__main__":
    main()
