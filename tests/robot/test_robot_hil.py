"""Hardware in the loop: MuJoCo as the emulator's motion model, seen through the real SO-101 driver."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest

from twinarm.compose.episodes import TaskEpisodes, move_to
from twinarm.compose.hil import hil_robot, shaft_scale
from twinarm.compose.sim_motion import ShaftScale, SimCamera, SimMotion
from twinarm.hardware.calibration_io import nominal_calibration
from twinarm.hardware.emulator import MotionModel
from twinarm.hardware.joint_map import JointMap
from twinarm.hardware.motors import SO101_FOLLOWER
from twinarm.robot.models import SO101
from twinarm.robot.spec import JOINT_POS, CameraSpec
from twinarm.sim.sim_robot import SO101_SIM, SimRobot

STATE_ONLY = SO101.with_cameras(())
# joint offsets from home [rad] of the equivalence test: every joint moves, the gripper closes a little
OFFSET = np.array([0.35, 0.25, -0.3, -0.2, 0.6, -0.25], np.float32)


def deadband_ticks(robot: SimRobot) -> float:
    """Where a P-controlled joint may stop short of its goal: Coulomb friction / kp (the identified servo: ~4 ticks
    at P = 16), plus a tick of rounding."""
    m = robot.model
    rad = np.max(m.dof_frictionloss[:6] / m.actuator_gainprm[:6, 0])
    return float(rad * 4096 / (2 * np.pi)) + 1.0


@pytest.fixture
def world():
    robot = SimRobot(SO101_SIM, spec=STATE_ONLY)
    with robot:
        yield robot


def test_sim_motion_is_an_emulator_motion_model(world: SimRobot) -> None:
    motion = SimMotion(world)
    assert isinstance(motion, MotionModel)  # structurally: sim/ does not import hardware/
    home = motion.positions()
    assert np.allclose(home, 2048 + np.asarray(SO101_SIM.home) * 4096 / (2 * np.pi))


def test_sim_motion_tracks_goals_in_whole_physics_steps(world: SimRobot) -> None:
    motion = SimMotion(world)
    goals = motion.positions() + np.array([100, 0, 0, 0, -100, 0])
    on = np.ones(6, bool)
    h = motion.timestep_s
    motion.step(0.4 * h, goals, on)
    assert motion.sim_time_s == 0.0  # less than one physics step: carried
    motion.step(0.7 * h, goals, on)
    assert motion.sim_time_s == pytest.approx(h)  # 1.1 steps: one step, 0.1 carried
    for _ in range(30):
        pos, _, load = motion.step(1 / 30, goals, on)
    assert np.abs(pos - goals)[[0, 4]].max() < deadband_ticks(world)  # converged, up to the friction deadband
    assert motion.sim_time_s == pytest.approx(1.0 + 1.1 * h, abs=h)
    assert np.abs(load).max() <= 1000.0


def test_torque_off_makes_the_joints_limp_and_on_restores_them(world: SimRobot) -> None:
    motion = SimMotion(world)
    goals = motion.positions() + np.array([300.0, 0, 0, 0, 300.0, 0])  # pan and roll: no gravity, no contact
    off, on = np.zeros(6, bool), np.ones(6, bool)
    start = motion.positions()
    for _ in range(10):
        _, _, load = motion.step(1 / 30, goals, off)
    assert not load.any()
    assert np.abs(motion.positions() - start)[[0, 4]].max() < 1.0  # no stiffness: the goal does not pull
    for _ in range(30):
        _, _, load = motion.step(1 / 30, goals, on)
    assert np.abs(motion.positions() - goals)[[0, 4]].max() < deadband_ticks(world) and load.any()


def test_shaft_scale_inverts_the_drivers_goal_ticks() -> None:
    """A joint target [rad] -> the driver's goal ticks (nominal calibration) -> SimMotion's radians: the same."""
    cal = nominal_calibration(SO101_FOLLOWER)
    scale = shaft_scale(cal)
    nominal = ShaftScale.nominal(6)
    assert np.allclose(scale.zero_ticks[:5], 2048) and np.allclose(scale.rad_per_tick[:5], nominal.rad_per_tick[:5])
    rng = np.random.default_rng(0)
    targets = rng.uniform(SO101.lower, SO101.upper, (50, 6)).astype(np.float32)
    jmap = JointMap(cal)
    for q in targets:
        back = scale.to_rad(jmap.command(q).ticks)
        assert np.abs(back - q).max() <= 0.5 * np.abs(scale.rad_per_tick).max() + 1e-6  # half a tick


def test_joint_space_equivalence_sim_vs_hil() -> None:
    """The same joint targets, sent at the control rate, leave the HIL arm where they leave the SimRobot."""
    home = np.asarray(SO101_SIM.home, np.float32)
    commands = [home + OFFSET * min(1.0, k / 20) for k in range(1, 46)]  # a ramp, then hold
    sim = SimRobot(SO101_SIM, spec=STATE_ONLY)
    with sim:
        for c in commands:
            sim.send_action(c)
        sim_final = sim.get_observation()[JOINT_POS]
    with hil_robot() as rig, rig.robot as robot:
        period = robot.spec.control_period_s
        t0 = time.monotonic()
        for k, c in enumerate(commands):
            robot.send_action(c)
            time.sleep(max(0.0, t0 + (k + 1) * period - time.monotonic()))
        hil_obs = robot.get_observation()[JOINT_POS]
        mujoco_q = rig.motion.joint_pos()
    assert np.abs(mujoco_q - sim_final).max() < 0.01, (mujoco_q, sim_final)
    tick = 2 * np.pi / 4096
    assert np.abs(hil_obs - mujoco_q).max() < 1.5 * tick  # the driver reads what MuJoCo has, to a tick
    assert np.abs(sim_final - (home + OFFSET)).max() < 0.05  # and both got (near) where they were sent


def test_sim_camera_sees_what_the_sim_robot_sees() -> None:
    spec = SO101.with_cameras((CameraSpec("front", 48, 64),))
    sim = SimRobot(SO101_SIM, spec=spec)
    with sim:
        expected = sim.get_observation()["image_front"]
    with hil_robot(cameras=spec.cameras) as rig, rig.robot as robot:
        image = robot.get_observation()["image_front"]
        cam = SimCamera(rig.motion, "wrist", 32, 32)
        with pytest.raises(Exception, match="connect"):
            cam.read()
        cam.connect()
        try:
            assert cam.read().image.shape == (32, 32, 3)
        finally:
            cam.disconnect()
    assert image.shape == (48, 64, 3)
    assert np.abs(image.astype(int) - expected.astype(int)).mean() < 2.0  # the arm at home, same scene


def test_task_episodes_on_hil_reset_like_the_gym_env() -> None:
    env = gym.make("twinarm/SO101Lift-v0", cameras=())
    try:
        _, info = env.reset(seed=1003)
        cube = info["privileged"]["cube_pos"]
    finally:
        env.close()
    with hil_robot() as rig, rig.robot as robot:
        move_to(robot, robot.get_observation()[JOINT_POS] + 0.3)  # leave home first
        episodes = TaskEpisodes("lift", robot, rig.motion)
        episodes.reset(0, 1003)
        placed = episodes.privileged()["cube_pos"]
        assert np.allclose(placed[:2], cube[:2], atol=1e-6) and abs(placed[2] - cube[2]) < 1e-3
        # teleported home; the emulator may already have stepped physics for a reply or two since
        assert np.abs(rig.motion.joint_pos() - SO101_SIM.home).max() < 1e-3
        assert np.abs(robot.last_target - np.asarray(SO101_SIM.home)).max() < 2e-3  # re-anchored at home
        time.sleep(0.2)
        # and stays there, up to the sag of the identified servos under gravity (1.2-2.9 deg)
        assert np.abs(robot.get_observation()[JOINT_POS] - SO101_SIM.home).max() < 0.05
        assert episodes.success() is False
