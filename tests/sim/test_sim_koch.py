"""The Koch v1.1 follower in simulation: the MJCF keeps the published link offsets, its grasp site is the IK's
grasp point, its datasheet-derived servos behave like the datasheet says, its tasks resolve by rule name, and
``twinarm demo robot=koch`` composes its own task (expert success: ``test_sim_envs.py``, over every env)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from twinarm.robot.errors import ConfigError
from twinarm.robot.models import KOCH
from twinarm.sim.envs import KOCH_ENV_IDS, task_for_robot
from twinarm.sim.ik import KOCH_GRASP_OFFSET, ArmIK
from twinarm.sim.sim_robot import KOCH_SIM, SimRobot


def test_joint_axes_sit_at_the_published_offsets() -> None:
    """Zero pose: pan axis 0.039 m up, shoulder 0.0173 above it, elbow 0.108 up / 0.0135 forward, wrist 0.091
    forward / 0.0035 up, roll frame 0.040 forward (low_cost_robot's URDF and MJCF, see koch.xml)."""
    m = mujoco.MjModel.from_xml_path(str(KOCH_SIM.xml))
    d = mujoco.MjData(m)
    mujoco.mj_kinematics(m, d)
    anchor = {j: d.xanchor[m.joint(j).id] for j in KOCH.joint_names}
    np.testing.assert_allclose(anchor["shoulder_pan"], (0, 0, 0.039), atol=1e-9)
    np.testing.assert_allclose(anchor["shoulder_lift"] - anchor["shoulder_pan"], (0, 0, 0.0173), atol=1e-9)
    np.testing.assert_allclose(anchor["elbow_flex"] - anchor["shoulder_lift"], (0.0135, 0, 0.108), atol=1e-9)
    np.testing.assert_allclose(anchor["wrist_flex"] - anchor["elbow_flex"], (0.091, 0, 0.0035), atol=1e-9)
    np.testing.assert_allclose(anchor["wrist_roll"] - anchor["wrist_flex"], (0.040, 0, 0), atol=1e-9)


def test_grasp_site_is_the_ik_grasp_point() -> None:
    m = mujoco.MjModel.from_xml_path(str(KOCH_SIM.xml))
    d = mujoco.MjData(m)
    ik = ArmIK(m, KOCH.joint_names, KOCH.joint_names[:5], offset=KOCH_GRASP_OFFSET)
    for q in (np.zeros(6), np.array([0.3, 0.5, -0.4, 1.2, -0.7, 0.4])):
        d.qpos[:6] = q
        mujoco.mj_kinematics(m, d)
        np.testing.assert_allclose(d.site_xpos[m.site("grasp").id], ik.forward(q)[0], atol=1e-9)


def test_home_points_the_open_gripper_down_above_the_workspace() -> None:
    m = mujoco.MjModel.from_xml_path(str(KOCH_SIM.xml))
    ik = ArmIK(m, KOCH.joint_names, KOCH.joint_names[:5], offset=KOCH_GRASP_OFFSET)
    pos, rot = ik.forward(np.asarray(KOCH_SIM.home))
    np.testing.assert_allclose(pos, (0.13, 0.0, 0.06), atol=3e-3)
    assert rot[2, 0] < -0.999  # the gripper frame's x axis points down


def _connected(params: object = "") -> SimRobot:
    robot = SimRobot(KOCH_SIM, KOCH.with_cameras(()), params=params)
    robot.connect()
    return robot


def test_an_unloaded_xl330_turns_at_about_its_no_load_speed() -> None:
    """A large wrist_roll step saturates the servo: back-EMF damping (stall torque / no-load speed) caps the speed
    near the e-Manual's 103 rev/min at 5 V, minus friction."""
    robot = _connected()
    m, d = robot.model, robot.data
    roll = KOCH.joint_index("wrist_roll")
    d.ctrl[roll] = d.qpos[roll] + 3.0
    speeds = []
    for _ in range(int(0.3 / m.opt.timestep)):
        mujoco.mj_step(m, d)
        speeds.append(abs(d.qvel[roll]))
    no_load = 103 * 2 * np.pi / 60
    assert 0.8 * no_load < max(speeds) <= no_load
    robot.disconnect()


def test_the_default_servos_hold_home_against_gravity_and_the_mjcf_matches_them() -> None:
    """Sag at home stays within a few degrees with the datasheet gains, and the ``xml`` preset (the MJCF's own
    figures) behaves like the default preset."""
    poses = {}
    for params in ("", "xml"):
        robot = _connected(params)
        hold = np.asarray(KOCH_SIM.home, dtype=np.float32)
        for _ in range(60):
            robot.send_action(hold)
        poses[params] = robot.get_observation()["joint_pos"]
        sag = np.abs(poses[params] - hold)
        assert sag.max() < np.radians(4.0), f"{params or 'default'}: sag {np.degrees(sag).round(2)} deg"
        robot.disconnect()
    np.testing.assert_allclose(poses[""], poses["xml"], atol=np.radians(0.5))


def test_the_jaws_squeeze_a_cube_parallel() -> None:
    """Closed on the 25 mm cube, the moving pad stands parallel to the static jaw at about 0.6 rad."""
    robot = _connected()
    m, d = robot.model, robot.data
    grip = KOCH.joint_index("gripper")
    d.qpos[grip] = 0.6
    mujoco.mj_kinematics(m, d)
    static, moving = m.geom("static_jaw").id, m.geom("moving_jaw").id
    static_axes, moving_axes = d.geom_xmat[static].reshape(3, 3), d.geom_xmat[moving].reshape(3, 3)
    np.testing.assert_allclose(moving_axes[:, 0], static_axes[:, 0], atol=1e-6)
    gap = (d.geom_xpos[moving] - d.geom_xpos[static]) @ static_axes[:, 1]
    half_thickness = m.geom_size[moving, 1] + m.geom_size[static, 1]
    assert gap - half_thickness == pytest.approx(0.025, abs=1e-3)
    robot.disconnect()


def test_tasks_resolve_by_rule_name() -> None:
    assert task_for_robot("lift", "koch") == "koch_lift"
    assert task_for_robot("koch_place", "koch") == "koch_place"
    assert task_for_robot("lift", "so101") == "lift"
    assert set(KOCH_ENV_IDS) == {"koch_reach", "koch_lift", "koch_place"}
    assert all("Koch" in env for env in KOCH_ENV_IDS.values())
    with pytest.raises(ConfigError, match="koch_reach, koch_lift, koch_place"):
        task_for_robot("grasp", "koch")
    with pytest.raises(ConfigError, match="valid robots"):
        task_for_robot("lift", "ur5e")


def test_demo_composes_the_robots_own_task() -> None:
    from twinarm.cli.cmd_demo import Config, follow_up_commands, resolved

    cfg = resolved(Config(robot="koch"))
    assert (cfg.robot, cfg.task) == ("koch", "koch_lift")
    assert resolved(Config()).robot == "so101"
    koch_next = follow_up_commands("ckpt", Config(robot="koch"))
    assert koch_next[0].startswith("twinarm eval")
    deploy = "twinarm deploy policy.path=ckpt task=koch_lift robot.model=koch robot.port=emulator"  # Dynamixel HIL
    assert koch_next[1:] == [deploy]
    assert any("deploy" in c for c in follow_up_commands("ckpt", Config()))
    with pytest.raises(ConfigError, match="koch_lift"):
        resolved(Config(robot="koch", task="grasp"))


def test_keyboard_teleop_moves_the_koch_grasp_point(tmp_path) -> None:
    """``twinarm teleop robot.model=koch source=keyboard``: IK on the Koch model with its own grasp offset."""
    import json
    import os

    from twinarm.cli.main import main

    r, w = os.pipe()
    try:
        os.write(w, b"w" * 6)  # 6 x 5 mm forward
        args = ["teleop", "robot.model=koch", "source=keyboard", f"keys=/dev/fd/{r}", "duration_s=1.0"]
        assert main([*args, "teleop.step_m=0.005", f"output_dir={tmp_path}"]) == 0
    finally:
        os.close(r)
        os.close(w)
    report = json.loads((tmp_path / "report.json").read_text())
    target = np.array(list(report["tracking"]["final_target_rad"].values()))
    m = mujoco.MjModel.from_xml_path(str(KOCH_SIM.xml))
    ik = ArmIK(m, KOCH.joint_names, KOCH.joint_names[:5], offset=KOCH_GRASP_OFFSET)
    moved = ik.forward(target)[0] - ik.forward(np.asarray(KOCH_SIM.home))[0]
    np.testing.assert_allclose(moved, [0.03, 0.0, 0.0], atol=0.005)


def test_the_loop_expert_of_a_koch_task_is_the_koch_expert() -> None:
    """What `record`/`demo` run: the task's own expert by task id (``koch_lift``), not the SO-101's ``lift`` rule."""
    from twinarm.compose.episodes import ExpertSource, TaskEpisodes
    from twinarm.sim.arm_experts import KOCH_RIG

    robot = _connected()
    episodes = TaskEpisodes("koch_lift", robot)
    source = ExpertSource(episodes, robot.spec.control_hz)
    assert source.expert.rig is KOCH_RIG
    episodes.reset(0, 10_000)
    source.reset()
    for _ in range(80):
        robot.send_action(source.act(robot.get_observation()))
    assert episodes.success()
    robot.disconnect()
