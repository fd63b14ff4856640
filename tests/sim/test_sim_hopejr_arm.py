"""The HopeJR arm in simulation: the MJCF keeps the dimensions its header lists, the XML's servo figures are the
default preset's, the two builds differ only on the small joints, reach resolves by rule name and its expert
succeeds, and end-effector teleop works without a gripper joint (check_env and a few expert seeds:
``test_sim_envs.py``, over every env; 100 seeds: its slow sweep)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from twinarm.compose.registry import get_model
from twinarm.robot.models import HOPEJR_ARM
from twinarm.robot.spec import JOINT_POS
from twinarm.robot.teleop import CartesianTeleopSource, EECommand
from twinarm.sim.arm_experts import HOPEJR_ARM_RIG, ReachExpert
from twinarm.sim.envs import ENV_IDS, task_for_robot
from twinarm.sim.experts import run_expert_episodes
from twinarm.sim.hopejr_arm import HOPEJR_ARM_SIM, HOPEJR_GRASP_OFFSET, SMALL_JOINTS
from twinarm.sim.ik import ArmIK
from twinarm.sim.servo_models import preset
from twinarm.sim.sim_robot import SimRobot


def test_joint_axes_sit_at_the_listed_dimensions() -> None:
    """Zero pose (arm hanging): the offsets of hopejr_arm.xml's header table, chained from the shoulder."""
    m = HOPEJR_ARM_SIM.load()
    d = mujoco.MjData(m)
    mujoco.mj_kinematics(m, d)
    at = {j: d.xanchor[m.joint(j).id] for j in HOPEJR_ARM.joint_names}
    np.testing.assert_allclose(at["shoulder_pitch"], (0, 0, 0.25), atol=1e-9)
    np.testing.assert_allclose(at["shoulder_yaw"] - at["shoulder_pitch"], (0, -0.05585, 0), atol=1e-9)
    np.testing.assert_allclose(at["shoulder_roll"] - at["shoulder_yaw"], (0, 0, -0.0884), atol=1e-9)
    np.testing.assert_allclose(at["elbow_flex"] - at["shoulder_roll"], (0.03765, 0, -0.11311), atol=1e-9)
    np.testing.assert_allclose(at["wrist_roll"] - at["elbow_flex"], (0, 0, -0.06325), atol=1e-9)
    np.testing.assert_allclose(at["wrist_yaw"] - at["elbow_flex"], (0, 0, -0.158), atol=1e-9)
    np.testing.assert_allclose(at["wrist_pitch"], at["wrist_yaw"], atol=1e-9)
    flange = d.site_xpos[m.site("gripperframe").id]
    np.testing.assert_allclose(flange - at["wrist_pitch"], (0, 0, -0.030), atol=1e-9)
    np.testing.assert_allclose(d.xpos[m.body("hand_mount").id], flange, atol=1e-9)  # where a hand goes
    np.testing.assert_allclose(d.site_xpos[m.site("grasp").id], flange + HOPEJR_GRASP_OFFSET, atol=1e-9)


def test_the_xml_figures_are_the_default_presets_and_the_builds_differ_on_the_small_joints() -> None:
    m = HOPEJR_ARM_SIM.load()
    bom = preset(HOPEJR_ARM_SIM, HOPEJR_ARM_SIM.physics.default)
    lerobot = preset(HOPEJR_ARM_SIM, "hopejr_arm_lerobot_12v")
    for i, joint in enumerate(HOPEJR_ARM.joint_names):
        p = bom.joints[joint]
        assert m.actuator_gainprm[i, 0] == pytest.approx(p.kp, rel=2e-3)
        assert m.actuator_forcerange[i, 1] == pytest.approx(p.force_limit, rel=2e-3)
        assert m.dof_damping[m.jnt_dofadr[m.joint(joint).id]] == pytest.approx(p.damping, rel=2e-3)
        assert (lerobot.joints[joint] != p) == (joint in SMALL_JOINTS)
    assert bom.joints["shoulder_pitch"].force_limit == pytest.approx(8.34)  # SM8512BL 85 kg cm at 12 V
    assert bom.joints["elbow_flex"].force_limit == pytest.approx(4.90)  # STS3250 50 kg cm at 12 V


def test_home_pose_holds_the_flange_palm_down_over_the_table_without_contacts() -> None:
    robot = SimRobot(HOPEJR_ARM_SIM, spec=HOPEJR_ARM.with_cameras(()))
    with robot:
        m, d = robot.model, robot.data
        for q in (np.zeros(HOPEJR_ARM.num_joints), np.asarray(HOPEJR_ARM_SIM.home)):  # hanging, and ready
            robot.reset(q)
            arm = {m.body(n).id for n in ("shoulder_pitch_link", "forearm", "wrist_pitch_link", "upper_arm")}
            touching = [c for c in d.contact[: d.ncon] if {m.geom_bodyid[c.geom1], m.geom_bodyid[c.geom2]} & arm]
            assert not touching
        flange, rot = d.site_xpos[m.site("gripperframe").id], d.site_xmat[m.site("gripperframe").id].reshape(3, 3)
        np.testing.assert_allclose(flange, (0.22, -0.06, 0.14), atol=0.003)
        assert rot[2, 0] < -0.99  # palm normal (site x) points down


def test_reach_resolves_by_rule_and_the_expert_succeeds() -> None:
    assert task_for_robot("reach", "hopejr_arm") == "hopejr_arm_reach"
    assert ENV_IDS["hopejr_arm_reach"] == "twinarm/HopeJRArmReach-v0"
    assert all(run_expert_episodes("hopejr_arm_reach", range(5, 10)))


def test_the_expert_feeds_the_gravity_sag_forward() -> None:
    """Without a gripper every joint is IK's; the command sits above the IK solution by gravity torque / kp."""
    expert = ReachExpert(30.0, rig=HOPEJR_ARM_RIG)
    assert expert.grip_index is None and len(expert.ik.arm) == HOPEJR_ARM.num_joints
    target = np.array([0.22, -0.06, 0.08])
    expert.reset({"target_pos": target, "grasp_pos": np.array([0.22, -0.06, 0.14])})
    q = np.asarray(HOPEJR_ARM_SIM.home)
    command = expert.act({JOINT_POS: q.astype(np.float32)}, {})
    unloaded = expert._q
    assert abs(command[0] - unloaded[0]) > 0.005  # the shoulder carries the arm: a visible feed-forward
    assert np.all(np.abs(command - unloaded) < 0.1)


class _Forward:
    """An input device pushing the flange forward at ``speed`` [m/s] and asking the (missing) gripper to close."""

    def __init__(self, speed: float) -> None:
        self.speed = speed

    def read(self, dt: float) -> EECommand:
        return EECommand(np.array([self.speed, 0.0, 0.0]), 0.0, -1.0)


def test_end_effector_teleop_moves_the_flange_without_a_gripper() -> None:
    entry = get_model("hopejr_arm")
    assert entry.ee.gripper is None
    ik = ArmIK(HOPEJR_ARM_SIM.load(), HOPEJR_ARM.joint_names, entry.ee.arm_joints, offset=entry.ee.grasp_offset)
    source = CartesianTeleopSource(HOPEJR_ARM, _Forward(0.1), ik, entry.ee.workspace, gripper_joint=entry.ee.gripper)
    q = np.asarray(HOPEJR_ARM_SIM.home)
    start = ik.forward(q)[0]
    for _ in range(15):  # 0.5 s at 30 Hz
        q = source.act({JOINT_POS: q.astype(np.float32)}).astype(np.float64)
    np.testing.assert_allclose(ik.forward(q)[0] - start, (0.05, 0.0, 0.0), atol=0.005)


def test_keyboard_teleop_command_moves_the_hopejr_flange(tmp_path) -> None:
    """``twinarm teleop robot.model=hopejr_arm source=keyboard``: IK on the 7 joints, the grip keys do nothing."""
    import json
    import os

    from twinarm.cli.main import main

    r, w = os.pipe()
    try:
        os.write(w, b"w" * 6 + b"c" * 3)  # 6 x 5 mm forward; "close gripper" (there is none)
        args = ["teleop", "robot.model=hopejr_arm", "source=keyboard", f"keys=/dev/fd/{r}", "duration_s=1.0"]
        assert main([*args, "teleop.step_m=0.005", f"output_dir={tmp_path}"]) == 0
    finally:
        os.close(r)
        os.close(w)
    report = json.loads((tmp_path / "report.json").read_text())
    target = np.array(list(report["tracking"]["final_target_rad"].values()))
    ik = ArmIK(HOPEJR_ARM_SIM.load(), HOPEJR_ARM.joint_names, HOPEJR_ARM.joint_names, offset=HOPEJR_GRASP_OFFSET)
    moved = ik.forward(target)[0] - ik.forward(np.asarray(HOPEJR_ARM_SIM.home))[0]
    np.testing.assert_allclose(moved, [0.03, 0.0, 0.0], atol=0.005)


def test_sim_command_names_the_task_by_robot_and_rule(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """``twinarm sim robot=hopejr_arm task=reach``: the video shows the scene's one camera (no wrist camera)."""
    from twinarm.cli.main import main

    args = ["sim", "robot=hopejr_arm", "task=reach", "episodes=1", "video_height=32", "video_width=48"]
    assert main([*args, f"output_dir={tmp_path}"]) == 0
    out = capsys.readouterr().out
    assert "task hopejr_arm_reach: success 1/1" in out and (tmp_path / "hopejr_arm_reach.mp4").is_file()
