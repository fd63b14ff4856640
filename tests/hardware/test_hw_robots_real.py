"""Real-arm checks: run with `pytest -m hardware --port /dev/ttyACM0` (or TWINARM_PORT) on a calibrated follower.

They never command motion: check_robot(allow_motion=False) only re-sends the current target. The calibration is
the default file of the arm named by TWINARM_ARM_NAME (default "default"), see `twinarm calibrate`.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from twinarm.hardware.robots import so101_follower
from twinarm.robot.check import check_robot
from twinarm.robot.spec import JOINT_POS

pytestmark = pytest.mark.hardware


def test_real_follower_passes_check_robot(real_port: str) -> None:
    robot = so101_follower(real_port, name=os.environ.get("TWINARM_ARM_NAME", "default"))
    report = check_robot(robot, allow_motion=False)
    assert not report.motion_checked


def test_real_follower_holds_still_and_releases_torque(real_port: str) -> None:
    robot = so101_follower(real_port, name=os.environ.get("TWINARM_ARM_NAME", "default"))
    with robot:
        start = robot.get_observation()[JOINT_POS]
        for _ in range(30):
            robot.hold()
            pos = robot.get_observation()[JOINT_POS]
        assert np.abs(pos - start).max() < 0.05  # [rad]: holding the connect-time pose
    with robot.bus as bus:
        assert bus.sync_read(bus.table.TORQUE_ENABLE, robot.arm.ids).tolist() == [0] * len(robot.arm.ids)
