"""The Koch follower driver on a Dynamixel bus whose shafts are the MuJoCo Koch's joints (physics=sim)."""

from __future__ import annotations

import time

import numpy as np

from twinarm.compose.hil import BUS_TIMEOUT_S, sim_bus
from twinarm.hardware.koch import KOCH_FOLLOWER
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.sim_robot import KOCH_SIM


def test_koch_driver_moves_the_simulated_joints_through_the_dynamixel_emulator() -> None:
    with sim_bus(arm=KOCH_FOLLOWER, sim_model=KOCH_SIM) as bus:
        assert bus.emulator.handler.name == "dynamixel"
        robot = FeetechRobot(KOCH_FOLLOWER, bus.emulator.port, bus.calibration, bus_timeout_s=BUS_TIMEOUT_S)
        with robot:
            q0 = robot.get_observation()[JOINT_POS]
            assert np.allclose(q0, bus.motion.joint_pos(), atol=0.01)  # calibration = sim radians
            target = q0.copy()
            target[0] += 0.15  # shoulder_pan: no gravity load
            deadline = time.monotonic() + 20.0
            while time.monotonic() < deadline:
                robot.send_action(target)  # the safety layer limits the step: keep sending
                if abs(bus.motion.joint_pos()[0] - target[0]) < 0.02:
                    break
                time.sleep(robot.spec.control_period_s)
            assert abs(bus.motion.joint_pos()[0] - target[0]) < 0.02
            assert abs(robot.get_observation()[JOINT_POS][0] - bus.motion.joint_pos()[0]) < 0.01
