"""``twinarm check``: run the Robot conformance checker on a sim, emulated or real robot."""

from __future__ import annotations

import dataclasses

from twinarm.compose.backends import EMULATOR, RobotConfig, built_robot
from twinarm.robot.check import check_robot

HELP = "check a robot against the Robot contract (sim by default; robot.port=emulator or a serial port)"


@dataclasses.dataclass
class Config:
    robot: RobotConfig = dataclasses.field(default_factory=RobotConfig)
    allow_motion: bool | None = None  # default: True in sim and on the emulator, False on a real port


def run(cfg: Config) -> None:
    motion = cfg.allow_motion
    if motion is None:
        motion = cfg.robot.port in (None, EMULATOR)
    with built_robot(cfg.robot) as robot:
        print(f"checking {type(robot).__name__} ({robot.spec.name}) on {cfg.robot.port or 'simulation'} ...")
        report = check_robot(robot, allow_motion=motion)
        why = "read-only robot" if robot.read_only else "real robot; allow_motion=true to run them"
    print(f"ok: observation keys {', '.join(report.observation_keys)}")
    if report.clipped_joints:
        print(f"safety clipped a far target on: {', '.join(report.clipped_joints)}")
    print(f"motion checks: {'run' if report.motion_checked else f'skipped ({why})'}")
