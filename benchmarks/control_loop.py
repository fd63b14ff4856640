"""Control-loop rate and jitter: leader -> follower teleoperation on two emulated SO-101 buses.

Each arm's emulator runs in its own process (wire timing at 1 Mbaud on), so the figures include real pty I/O.
One cycle = read the leader (sync read) + clip + write the follower (sync write) + read the follower state.
Baseline: the same loop with an ideal in-memory robot pair (pure loop + safety overhead), measured in this run.

    python benchmarks/control_loop.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hardware.calibration_io import nominal_calibration
from hardware.emulator.config import EmulatorConfig
from hardware.emulator.process import EmulatorProcess
from hardware.motors import SO101_FOLLOWER, SO101_LEADER
from hardware.robots import FeetechRobot
from robot.loop import LoopReport, run_loop
from robot.sources import LeaderSource
from tests.robot.fake_robot import FakeRobot


def row(label: str, r: LoopReport) -> str:
    return (
        f"{label:<34} {r.rate_hz:7.1f} Hz  jitter p50 {r.jitter_p50_s * 1e3:6.3f} ms  p99 "
        f"{r.jitter_p99_s * 1e3:6.3f} ms  overruns {r.overruns:4d}/{r.steps}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    cfg = EmulatorConfig(wire_timing=True)
    with EmulatorProcess(cfg) as leader_port, EmulatorProcess(cfg) as follower_port:
        for hz in (100.0, 200.0):
            spec = SO101_FOLLOWER.spec.with_cameras(()).with_rate(hz)
            with FakeRobot(spec) as a, FakeRobot(spec) as b:
                base = run_loop(b, LeaderSource(a, spec.joint_names), duration_s=args.seconds / 2)
            leader = FeetechRobot(SO101_LEADER, leader_port, nominal_calibration(SO101_LEADER), check_eeprom=False)
            follower = FeetechRobot(
                SO101_FOLLOWER, follower_port, nominal_calibration(SO101_FOLLOWER), check_eeprom=False
            )
            with leader, follower:
                report = run_loop(
                    follower, LeaderSource(leader, follower.spec.joint_names), duration_s=args.seconds, rate_hz=hz
                )
            print(row(f"baseline (in-memory) {hz:.0f} Hz", base))
            print(row(f"teleop on emulators {hz:.0f} Hz", report))
            print(f"{'':<34} rate ratio vs target {report.rate_hz / hz:.3f}")


if __name__ == "__main__":
    main()
