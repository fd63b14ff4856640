"""Control-loop rate and jitter on emulated SO-101 buses: leader -> follower teleoperation, and policy deployment.

Each arm's emulator runs in its own process (wire timing at 1 Mbaud on), so the figures include real pty I/O.
Teleop: one cycle = read the leader (sync read) + clip + write the follower (sync write) + read the follower state.
Baseline: the same loop with an ideal in-memory robot pair (pure loop + safety overhead), measured in this run.

Deploy (``twinarm deploy``'s loop): the follower with two 96x96 cameras (static frames) driven at 200 Hz by an ACT
policy (default size, untrained: timing only) whose chunks (100 steps, re-planned after 50) are predicted in the
worker thread of ``AsyncChunkSource`` with one torch thread. Baseline: the same robot and loop holding a constant
target (no inference). Figures: jitter p50/p99, overruns, chunks received, steps the plan ran dry (the watchdog
held the robot), and the median inference time per chunk.

    python benchmarks/control_loop.py [--seconds 5] [--skip-teleop] [--skip-deploy]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import time

import numpy as np

from tests.robot.fake_robot import FakeRobot
from twinarm.hardware.calibration_io import nominal_calibration
from twinarm.hardware.cameras import Frame
from twinarm.hardware.emulator.config import EmulatorConfig
from twinarm.hardware.emulator.process import EmulatorProcess
from twinarm.hardware.motors import SO101_FOLLOWER, SO101_LEADER
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.chunking import AsyncChunkSource
from twinarm.robot.loop import LoopReport, run_loop
from twinarm.robot.sources import LeaderSource


def row(label: str, r: LoopReport) -> str:
    return (
        f"{label:<34} {r.rate_hz:7.1f} Hz  jitter p50 {r.jitter_p50_s * 1e3:6.3f} ms  p99 "
        f"{r.jitter_p99_s * 1e3:6.3f} ms  overruns {r.overruns:4d}/{r.steps}"
    )


class StaticCamera:
    """A camera that always shows the same frame (the deploy row measures the loop, not a capture device)."""

    def __init__(self, seed: int) -> None:
        self.image = np.random.default_rng(seed).integers(0, 256, (96, 96, 3), dtype=np.uint8)

    def connect(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def read(self) -> Frame:
        return Frame(self.image, time.monotonic())


class ConstantSource:
    def __init__(self, target: np.ndarray) -> None:
        self.target = target

    def reset(self) -> None:
        pass

    def act(self, obs: dict) -> np.ndarray:
        return self.target


class TimedPredict:
    """Wraps ``predict_chunk`` and records its wall time per call [s]."""

    def __init__(self, predict) -> None:
        self.predict, self.times = predict, []

    def __call__(self, obs: dict) -> np.ndarray:
        t = time.perf_counter()
        chunk = self.predict(obs)
        self.times.append(time.perf_counter() - t)
        return chunk


def deploy_rows(seconds: float, hz: float = 200.0) -> None:
    import torch

    from twinarm.policies.registry import make_policy

    torch.set_num_threads(1)
    torch.manual_seed(0)
    spec = SO101_FOLLOWER.spec
    mid = (spec.lower + spec.upper) / 2
    stats = {k: {"mean": mid, "std": np.full(6, 0.2, np.float32)} for k in ("observation.state", "action")}
    policy = make_policy("act", stats=stats, cameras=("front", "wrist"), chunk_size=100, n_action_steps=50)
    cams = {"front": StaticCamera(0), "wrist": StaticCamera(1)}
    with EmulatorProcess(EmulatorConfig(wire_timing=True)) as port:
        robot = FeetechRobot(
            SO101_FOLLOWER, port, nominal_calibration(SO101_FOLLOWER), cameras=cams, check_eeprom=False
        )
        with robot:
            hold = ConstantSource(robot.get_observation()["joint_pos"])
            base = run_loop(robot, hold, duration_s=seconds / 2, rate_hz=hz)
            predict = TimedPredict(policy.predict_chunk)
            with AsyncChunkSource(predict, refill_at=50, blend_steps=4) as source:
                report = run_loop(robot, source, duration_s=seconds, rate_hz=hz)
    print(row(f"baseline: hold on emulator {hz:.0f} Hz", base))
    print(row(f"deploy ACT on emulator {hz:.0f} Hz", report))
    infer = 1e3 * float(np.median(predict.times)) if predict.times else float("nan")
    print(
        f"{'':<34} chunks {source.chunks_received}, starved steps {source.starved_steps}/{report.steps}, "
        f"inference {infer:.1f} ms/chunk (median), watchdog trips {report.watchdog_trips}; "
        f"p99 jitter ratio vs baseline {report.jitter_p99_s / max(base.jitter_p99_s, 1e-9):.2f}"
    )


def teleop_rows(seconds: float) -> None:
    cfg = EmulatorConfig(wire_timing=True)
    with EmulatorProcess(cfg) as leader_port, EmulatorProcess(cfg) as follower_port:
        for hz in (100.0, 200.0):
            spec = SO101_FOLLOWER.spec.with_cameras(()).with_rate(hz)
            with FakeRobot(spec) as a, FakeRobot(spec) as b:
                base = run_loop(b, LeaderSource(a, spec.joint_names), duration_s=seconds / 2)
            leader = FeetechRobot(SO101_LEADER, leader_port, nominal_calibration(SO101_LEADER), check_eeprom=False)
            follower = FeetechRobot(
                SO101_FOLLOWER, follower_port, nominal_calibration(SO101_FOLLOWER), check_eeprom=False
            )
            with leader, follower:
                report = run_loop(
                    follower, LeaderSource(leader, follower.spec.joint_names), duration_s=seconds, rate_hz=hz
                )
            print(row(f"baseline (in-memory) {hz:.0f} Hz", base))
            print(row(f"teleop on emulators {hz:.0f} Hz", report))
            print(f"{'':<34} rate ratio vs target {report.rate_hz / hz:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--skip-teleop", action="store_true")
    ap.add_argument("--skip-deploy", action="store_true")
    args = ap.parse_args()
    if not args.skip_teleop:
        teleop_rows(args.seconds)
    if not args.skip_deploy:
        deploy_rows(args.seconds)


if __name__ == "__main__":
    main()
