"""The HopeJR arm driver on a bus of three Feetech servo models whose shafts are the MuJoCo arm (physics=sim)."""

from __future__ import annotations

import time

import numpy as np

from twinarm.compose.hil import BUS_TIMEOUT_S, sim_bus
from twinarm.hardware.hopejr_arm import HOPEJR_ARM_FOLLOWER
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.hopejr_arm import HOPEJR_ARM_SIM


def test_hopejr_driver_moves_the_simulated_joints_through_the_emulator() -> None:
    with sim_bus(arm=HOPEJR_ARM_FOLLOWER, sim_model=HOPEJR_ARM_SIM) as bus:
        robot = FeetechRobot(HOPEJR_ARM_FOLLOWER, bus.emulator.port, bus.calibration, bus_timeout_s=BUS_TIMEOUT_S)
        roll = robot.spec.joint_index("wrist_roll")
        with robot:
            q0 = robot.get_observation()[JOINT_POS]
            assert np.allclose(q0, bus.motion.joint_pos(), atol=0.01)  # calibration = sim radians
            target = q0.copy()
            target[roll] += 0.2  # about the forearm axis: little gravity load
            deadline = time.monotonic() + 20.0
            while time.monotonic() < deadline:
                robot.send_action(target)  # the safety layer limits the step: keep sending
                if abs(bus.motion.joint_pos()[roll] - target[roll]) < 0.02:
                    break
                time.sleep(robot.spec.control_period_s)
            assert abs(bus.motion.joint_pos()[roll] - target[roll]) < 0.02
            assert abs(robot.get_observation()[JOINT_POS][roll] - bus.motion.joint_pos()[roll]) < 0.01
