"""Real-hand checks: `pytest -m hardware --port /dev/ttyACM0` with TWINARM_HAND_SIDE=right|left on a calibrated hand.

They never command motion (check_robot with allow_motion=False only re-sends the current target). The calibration
is the default file of the side (`twinarm calibrate robot=amazing_hand side=right port=...`).
"""

from __future__ import annotations

import os

import pytest

from twinarm.hardware.hand import amazing_hand
from twinarm.robot.check import check_robot

pytestmark = pytest.mark.hardware


def test_real_hand_passes_check_robot_and_releases_torque(real_port: str) -> None:
    robot = amazing_hand(real_port, side=os.environ.get("TWINARM_HAND_SIDE", "right"))
    report = check_robot(robot, allow_motion=False)
    assert not report.motion_checked
    with robot.bus as bus:
        assert bus.sync_read(bus.table.TORQUE_ENABLE, robot.arm.ids).tolist() == [0] * 8
