"""Sim parameters behind the emulated bus: the P_Coefficient / Torque_Limit registers, the command delay, and the
``sim.params`` / ``reality.seed`` configs every simulator-building command shares."""

from __future__ import annotations

import time

import numpy as np
import pytest

from twinarm.compose.hil import hil_robot
from twinarm.compose.sim_config import RealityConfig, SimConfig, sim_model_of_task, sim_params_for
from twinarm.compose.sim_motion import SimMotion
from twinarm.hardware.emulator import GainAware
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import SO101
from twinarm.sim.reality import draw_reality
from twinarm.sim.servo_models import SO101_P_COEFFICIENT
from twinarm.sim.sim_params import Sensing, load_sim_params
from twinarm.sim.sim_robot import AMAZING_HAND_SIM, SO101_SIM, SimRobot

STATE_ONLY = SO101.with_cameras(())


def test_sim_motion_scales_kp_with_p_and_force_with_torque_limit() -> None:
    with SimRobot(SO101_SIM, spec=STATE_ONLY) as world:
        motion = SimMotion(world)
        assert isinstance(motion, GainAware)
        kp0, f0 = world.model.actuator_gainprm[:6, 0].copy(), world.model.actuator_forcerange[:6, 1].copy()
        motion.set_gains(np.full(6, 2 * SO101_P_COEFFICIENT), np.array([1000, 1000, 1000, 1000, 500, 250]))
        np.testing.assert_allclose(world.model.actuator_gainprm[:6, 0], 2 * kp0)
        np.testing.assert_allclose(world.model.actuator_biasprm[:6, 1], -2 * kp0)
        np.testing.assert_allclose(world.model.actuator_forcerange[:6, 1], f0 * [1, 1, 1, 1, 0.5, 0.5])


def test_the_driver_writes_p16_and_the_emulated_arm_gets_the_identified_kp() -> None:
    """The emulator starts at the factory P = 32 (twice as stiff); connecting the driver writes P = 16."""
    with hil_robot() as rig:
        model = rig.motion.model
        expected = [jp.kp for jp in rig.motion.robot.sim_params.joints.values()]
        with rig.robot as robot:
            # the emulator applies register writes to the physics lazily, from its own thread, as packets arrive:
            # poll (bounded) instead of assuming the first read already saw the torque-on, P = 16 state
            deadline = time.monotonic() + 3.0
            while True:
                robot.get_observation()
                with rig.motion.lock:
                    kp = model.actuator_gainprm[:6, 0].copy()
                if np.allclose(kp, expected, rtol=1e-9) or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            np.testing.assert_allclose(kp, expected, rtol=1e-9)


def test_sim_motion_holds_the_old_goal_for_the_delay() -> None:
    delay = 0.03
    exact = sim_params_for(SO101_SIM, SimConfig("sts3215_7v4_5v"), RealityConfig())
    params = exact.replace(action_delay_s=delay, sensing=Sensing())
    with SimRobot(SO101_SIM, spec=STATE_ONLY, params=params) as world:
        motion = SimMotion(world)
        on = np.ones(6, bool)
        start = motion.positions()
        goals = start + np.array([200.0, 0, 0, 0, 0, 0])
        h = motion.timestep_s
        steps_before = int(delay / h) - 1
        motion.step(steps_before * h, goals, on)
        assert abs(motion.positions()[0] - start[0]) < 0.05  # not yet
        motion.step(0.1, goals, on)
        assert motion.positions()[0] - start[0] > 20  # now it moves


def test_reality_seed_draws_and_writes_the_truth(tmp_path) -> None:
    truth = tmp_path / "truth.json"
    params = sim_params_for(SO101_SIM, SimConfig(), RealityConfig(seed=7, truth=str(truth)))
    assert params == draw_reality(SO101_SIM, 7) == load_sim_params(truth)
    assert sim_params_for(SO101_SIM, SimConfig(str(truth)), RealityConfig()) == params  # sim.params=PATH
    assert sim_params_for(SO101_SIM, SimConfig("xml"), RealityConfig()) is None
    with pytest.raises(ConfigError, match=r"reality\.seed"):
        sim_params_for(SO101_SIM, SimConfig(), RealityConfig(truth=str(truth)))
    assert sim_model_of_task("lift") is SO101_SIM and sim_model_of_task("grasp") is AMAZING_HAND_SIM
