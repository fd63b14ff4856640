from __future__ import annotations

import mujoco
import numpy as np
import pytest

from twinarm.robot import SO101, CameraSpec, check_robot
from twinarm.robot.errors import ConfigError
from twinarm.sim import SimRobot
from twinarm.sim.render import RenderError
from twinarm.sim.sim_robot import SO101_SIM

STATE = SO101.with_cameras(())


def test_model_joints_and_ranges_match_the_spec() -> None:
    m = mujoco.MjModel.from_xml_path(str(SO101_SIM.xml))
    for joint in SO101.joints:
        j = m.joint(joint.name)
        np.testing.assert_allclose(m.jnt_range[j.id], (joint.lower, joint.upper), atol=1e-6)
    assert [m.actuator(i).name for i in range(6)] == list(SO101.joint_names)
    assert {m.camera(i).name for i in range(m.ncam)} >= {"front", "wrist"}


def test_sim_robot_passes_check_robot_with_cameras() -> None:
    robot = SimRobot(spec=SO101.with_cameras((CameraSpec("front", 48, 64), CameraSpec("wrist", 32, 32))))
    report = check_robot(robot, allow_motion=True)
    assert "image_front" in report.observation_keys


def test_images_are_rendered_at_the_spec_size_and_show_the_scene() -> None:
    with SimRobot(spec=SO101.with_cameras((CameraSpec("front", 48, 64),))) as robot:
        img = robot.get_observation()["image_front"]
    assert img.shape == (48, 64, 3) and img.dtype == np.uint8
    assert img.std() > 10  # not a blank frame


def test_timestep_divides_the_control_period() -> None:
    for hz in (30.0, 100.0, 333.0):
        robot = SimRobot(spec=STATE.with_rate(hz))
        assert robot.n_substeps * robot.timestep_s == pytest.approx(1.0 / hz)
        assert robot.timestep_s <= SO101_SIM.max_timestep_s + 1e-12


def test_position_control_reaches_a_target_and_is_deterministic() -> None:
    def run() -> np.ndarray:
        with SimRobot(spec=STATE) as robot:
            goal = robot.last_target + np.array([0.3, -0.2, 0.2, -0.2, 0.5, -0.3], np.float32)
            for _ in range(60):
                robot.send_action(goal)
            return robot.get_observation()["joint_pos"]

    a, b = run(), run()
    np.testing.assert_array_equal(a, b)
    with SimRobot(spec=STATE) as robot:
        start = robot.last_target
    # the identified servos (kp ~9 N m/rad at P = 16) sag up to ~3 deg under gravity: 0.06 rad tolerance
    np.testing.assert_allclose(a, start + np.array([0.3, -0.2, 0.2, -0.2, 0.5, -0.3]), atol=0.06)


def test_unknown_camera_is_a_clear_error() -> None:
    robot = SimRobot(spec=SO101.with_cameras((CameraSpec("top"),)))
    with pytest.raises(RenderError, match=r"'top'.*front"):
        robot.connect()
    assert not robot.is_connected


def test_spec_with_other_joints_is_refused() -> None:
    from twinarm.robot.models import AMAZING_HAND

    with pytest.raises(ConfigError, match="joints"):
        SimRobot(SO101_SIM, spec=AMAZING_HAND)


def test_rendering_works_when_mujoco_was_imported_before_sim(tmp_path) -> None:
    import os
    import subprocess
    import sys

    code = (
        "import mujoco\n"
        "import sim\n"
        "from twinarm.robot import SO101, CameraSpec\n"
        "with sim.SimRobot(spec=SO101.with_cameras((CameraSpec('wrist', 16, 16),))) as r:\n"
        "    print(r.get_observation()['image_wrist'].shape)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM", "DISPLAY")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "(16, 16, 3)" in out.stdout


def test_grasp_site_is_the_ik_grasp_point() -> None:
    from twinarm.sim.ik import ArmIK

    m = mujoco.MjModel.from_xml_path(str(SO101_SIM.xml))
    d = mujoco.MjData(m)
    ik = ArmIK(m, SO101.joint_names, SO101.joint_names[:5])
    for q in (np.zeros(6), np.array([0.3, -0.5, 0.8, 1.2, -0.7, 0.4])):
        d.qpos[:6] = q
        mujoco.mj_kinematics(m, d)
        np.testing.assert_allclose(d.site_xpos[m.site("grasp").id], ik.forward(q)[0], atol=1e-9)
