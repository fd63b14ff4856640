"""Cost of the Robot layer on a Feetech arm: one FeetechRobot control cycle vs raw bus cycles, on the emulator.

Baseline (measured in the same run, same emulated bus served from a separate process):
  * raw position cycle: SYNC_READ Present_Position x6 + SYNC_WRITE Goal_Position x6 (no radians, no velocity)
  * raw two-read cycle: the same plus a second SYNC_READ for Present_Velocity (what a naive driver does)
Measured: ``robot.get_observation()`` (position + velocity in one 4-byte SYNC_READ, calibration to float32
radians) + ``robot.send_action()`` (validation, limit and max-step clipping, radians -> ticks, SYNC_WRITE).
Run: ``python benchmarks/hw_robot_cycle.py [--cycles 1000]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator import EmulatorConfig, EmulatorProcess
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import STS3215
from twinarm.hardware.motors import SO101_FOLLOWER
from twinarm.hardware.robots import so101_follower

IDS = list(SO101_FOLLOWER.ids)
POS, VEL, GOAL = STS3215.PRESENT_POSITION, STS3215.PRESENT_VELOCITY, STS3215.GOAL_POSITION


def _median_s(cycle, n: int) -> float:
    for _ in range(min(50, n)):
        cycle()
    wall = np.empty(n)
    for k in range(n):
        t0 = time.perf_counter()
        cycle()
        wall[k] = time.perf_counter() - t0
    return float(np.median(wall))


def raw(port: str, n: int, with_velocity: bool) -> float:
    goals = [2048] * len(IDS)
    with FeetechBus(port) as bus:

        def cycle() -> None:
            bus.sync_read(POS, IDS)
            if with_velocity:
                bus.sync_read(VEL, IDS)
            bus.sync_write(GOAL, IDS, goals)

        return _median_s(cycle, n)


def robot_cycle(port: str, n: int) -> float:
    cal = nominal_calibration(SO101_FOLLOWER)
    with FeetechBus(port) as bus:
        write_calibration(bus, cal)
    with so101_follower(port, cal) as robot:
        target = robot.last_target

        def cycle() -> None:
            robot.get_observation()
            robot.send_action(target)

        return _median_s(cycle, n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    args = parser.parse_args()
    with EmulatorProcess(EmulatorConfig(wire_timing=True)) as port:
        base = raw(port, args.cycles, with_velocity=False)
        two = raw(port, args.cycles, with_velocity=True)
        ours = robot_cycle(port, args.cycles)
    print(f"[emulator with wire timing, {args.cycles} cycles, medians]")
    print(f"  raw position cycle (baseline)   : {base * 1e6:7.0f} us  = 1.00x")
    print(f"  raw position + velocity, 2 reads: {two * 1e6:7.0f} us  = {two / base:.2f}x baseline")
    print(
        f"  FeetechRobot obs + action       : {ours * 1e6:7.0f} us  = {ours / base:.2f}x baseline, "
        f"{ours / two:.2f}x the two-read cycle"
    )
    print("figures vary with machine load; re-measure on a quiet machine")


if __name__ == "__main__":
    main()
