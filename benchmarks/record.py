"""Recording benchmark: 30 fps with two 480x640 cameras sustained for --seconds (default 60).

Figures: frames dropped (goal 0), late frames, time to save the episode (goal < 0.5 s), encode throughput
[frames/s] per codec, and the loop's cost per frame as a ratio against a baseline loop in the same run that
only copies the images (no recorder).

    python benchmarks/record.py [--seconds 60] [--codec h264|av1] [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from twinarm.dataset import Recorder, RecorderSettings, VideoSettings
from twinarm.dataset.session import EpisodePlan, record_episodes
from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import CameraSpec, JointSpec, RobotSpec

SPEC = RobotSpec(
    name="bench",
    joints=tuple(JointSpec(f"j{i}", -3, 3, 5) for i in range(6)),
    cameras=(CameraSpec("front", 480, 640), CameraSpec("wrist", 480, 640)),
)


class MovingPattern(Robot):
    """A robot whose cameras show a textured background with a moving block, plus noise (not trivially
    compressible); its joints follow a fixed sine, whatever it is sent."""

    def __init__(self, spec: RobotSpec) -> None:
        super().__init__(spec)
        rng = np.random.default_rng(0)
        self.base = {
            c.name: rng.integers(0, 255, (c.height, c.width, 3), dtype=np.uint8) // 4 + 64 for c in spec.cameras
        }
        self.i = 0

    def _connect(self) -> None:
        self.i = 0

    def _disconnect(self) -> None:
        pass

    def _send_action(self, target: np.ndarray) -> None:
        pass

    def _get_observation(self) -> Observation:
        self.i += 1
        obs = {
            "joint_pos": np.sin(self.i * 0.05 + np.arange(6)).astype(np.float32),
            "joint_vel": np.cos(self.i * 0.05 + np.arange(6)).astype(np.float32),
        }
        for c in self.spec.cameras:
            img = self.base[c.name].copy()
            x = (self.i * 7) % (c.width - 80)
            img[100:180, x : x + 80] = (255, 40, 40)
            obs[f"image_{c.name}"] = img
        return obs


class FollowState:
    """Action source: the measured joint positions as the next target."""

    def reset(self) -> None:
        pass

    def act(self, obs: Observation) -> np.ndarray:
        return obs["joint_pos"]


def baseline_cost_s(frames: int) -> float:
    """Per-frame cost of producing and copying the frames without recording [s]."""
    src = MovingPattern(SPEC)
    src.connect()
    t0 = time.perf_counter()
    for _ in range(frames):
        obs = src.get_observation()
        for c in SPEC.cameras:
            np.array(obs[f"image_{c.name}"], copy=True)
    return (time.perf_counter() - t0) / frames


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--codec", default="h264")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="twinarm_bench_record_")) / "ds"
    base = baseline_cost_s(60)
    settings = RecorderSettings(fps=30.0, video=VideoSettings(codec=args.codec))
    robot = MovingPattern(SPEC)
    t_add: list[float] = []
    rec = Recorder(root, SPEC, settings)
    orig_add = rec.add_frame

    def timed_add(*a, **kw):
        t = time.perf_counter()
        ok = orig_add(*a, **kw)
        t_add.append(time.perf_counter() - t)
        return ok

    rec.add_frame = timed_add  # type: ignore[method-assign]
    t0 = time.perf_counter()
    with robot:
        ((s, _),) = record_episodes(rec, robot, FollowState(), EpisodePlan(1, args.seconds, "benchmark"))
    wall = time.perf_counter() - t0
    rec.close()
    n_frames = s.frames + s.dropped_frames
    print(
        f"recorded {s.frames} frames x {len(SPEC.cameras)} cameras 480x640 @30fps for {args.seconds:.0f}s "
        f"({args.codec}) in {wall:.1f}s -> {root}"
    )
    print(f"frames dropped            {s.dropped_frames} of {n_frames} (goal 0)")
    print(f"late frames               {s.late_frames}")
    print(f"save_episode              {s.save_s:.3f} s (goal < 0.5 s)")
    print(
        f"encode throughput         {s.frames * len(SPEC.cameras) / wall:.1f} frames/s sustained "
        f"(needed {30 * len(SPEC.cameras)})"
    )
    med = float(np.median(t_add))
    print(
        f"add_frame median / p99    {med * 1e3:.2f} / {np.percentile(t_add, 99) * 1e3:.2f} ms "
        f"= {med / base:.2f}x the baseline frame copy ({base * 1e3:.2f} ms)"
    )
    if args.out is None:
        shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
