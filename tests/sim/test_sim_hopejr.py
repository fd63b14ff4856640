"""HopeJR (arm + hand as one robot): the composed model (the hand on the arm's flange, the right way round), its
physics presets, one action driving both parts, sources keyed by joint name, the emulated buses, keyboard teleop and
its dexterous lift (the expert's figure over 100 seeds: tests/sim/test_sim_envs.py, slow)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np

from twinarm.cli.cmd_emulate import Config, emulator_configs
from twinarm.cli.main import main
from twinarm.compose.registry import get_model
from twinarm.robot.models import HOPEJR, HOPEJR_ARM, HOPEJR_HAND
from twinarm.robot.sources import JointMixSource
from twinarm.sim.envs import ENV_IDS
from twinarm.sim.hopejr import HOPEJR_SIM
from twinarm.sim.reality import draw_reality
from twinarm.sim.sim_robot import SimRobot

ARM = HOPEJR_ARM.num_joints


def test_the_composed_model_carries_the_hand_on_the_flange() -> None:
    m = HOPEJR_SIM.load()
    joints = {m.joint(i).name for i in range(m.njnt)}
    assert set(HOPEJR.joint_names) <= joints and "wrist_mount" not in joints
    actuators = [m.actuator(i).name for i in range(m.nu)]
    assert actuators[:ARM] == list(HOPEJR_ARM.joint_names) and len(actuators) == ARM + HOPEJR_HAND.num_joints
    assert m.body(int(m.body("palm").parentid[0])).name == "hand_mount"
    hand = mujoco.MjModel.from_xml_path(str(HOPEJR_SIM.xml.parent / "scene_hopejr_hand.xml"))
    assert m.neq == hand.neq - 1 and m.nmocap == 0  # the PIP-DIP couplings came along; the weld and mocap did not
    assert {"front", "wrist"} <= {m.camera(i).name for i in range(m.ncam)}
    assert all(mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, b) < 0 for b in ("cube", "target", "zone"))
    assert m.body("scene_object").parentid[0] == 0  # the hand scene's object, free on the table


def _pose(m: mujoco.MjModel, q: np.ndarray) -> mujoco.MjData:
    d = mujoco.MjData(m)
    d.qpos[[m.jnt_qposadr[m.joint(n).id] for n in HOPEJR.joint_names]] = q
    mujoco.mj_forward(m, d)
    return d


def test_at_the_zero_pose_the_right_palm_faces_the_body_thumb_forward() -> None:
    m = HOPEJR_SIM.load()
    d = _pose(m, np.zeros(HOPEJR.num_joints))
    palm = d.body("palm").xmat.reshape(3, 3)
    np.testing.assert_allclose(palm[:, 0], [0, 1, 0], atol=1e-6)  # palm front towards the body (+y)
    np.testing.assert_allclose(palm[:, 2], [0, 0, -1], atol=1e-6)  # fingers hang down, away from the forearm
    np.testing.assert_allclose(palm[:, 1], [1, 0, 0], atol=1e-6)  # thumb and index side forward
    wrist, tip = d.body("palm").xpos, d.site("middle_tip").xpos
    assert tip[2] < wrist[2] - 0.15  # the middle finger's tip about a hand's length below the wrist


def test_home_is_palm_down_fingers_forward_clear_of_the_table() -> None:
    m = HOPEJR_SIM.load()
    d = _pose(m, np.array(HOPEJR_SIM.home))
    palm = d.body("palm").xmat.reshape(3, 3)
    assert palm[2, 0] < -0.99 and palm[0, 2] > 0.99  # palm front down, fingers along +x
    elbow = d.body("forearm_upper").xpos
    assert all(d.site(f"{f}_tip").xpos[0] > elbow[0] + 0.1 for f in ("index", "middle", "ring", "pinky"))
    robot = {b for b in range(m.nbody) if m.body_rootid[b] == m.body("base").id}
    touching = [c for c in d.contact[: d.ncon] if {m.geom_bodyid[c.geom1], m.geom_bodyid[c.geom2]} & robot]
    assert not touching  # the opposed thumb hangs clear of the table and the resting object
    np.testing.assert_allclose(HOPEJR_SIM.home[ARM:], get_model("hopejr_hand").sim.home)  # the hand alone's open pose


def test_physics_presets_cover_every_servo_of_both_parts() -> None:
    m = HOPEJR_SIM.load()
    actuators = {m.actuator(i).name for i in range(m.nu)}
    for name, build in HOPEJR_SIM.physics.presets.items():
        params = build()
        if params is not None:
            assert set(params.joints) == actuators, name
    drawn = draw_reality(HOPEJR_SIM, seed=3)
    assert set(drawn.joints) == actuators
    default = HOPEJR_SIM.physics.presets[HOPEJR_SIM.physics.default]()
    assert default.joints["shoulder_pitch"].force_limit > 8 > default.joints["thumb_cmc"].force_limit  # SM8512BL


def test_sim_robot_drives_arm_and_hand_through_one_action() -> None:
    flex = HOPEJR.joint_index("index_mcp_flex")
    with SimRobot(HOPEJR_SIM, HOPEJR.with_cameras(())) as robot:
        goal = robot.get_observation()["joint_pos"].copy()
        goal[0] += 0.3  # shoulder_pitch
        goal[flex] = 1.0
        for _ in range(45):
            robot.send_action(goal)
        reached = robot.get_observation()["joint_pos"]
    np.testing.assert_allclose(reached[[0, flex]], goal[[0, flex]], atol=0.06)


class _Fixed:
    """A source that gives fixed targets for the joints it names, in its own order (as a teleop device does)."""

    def __init__(self, targets: np.ndarray) -> None:
        self.targets = targets.astype(np.float32)

    def reset(self) -> None:
        pass

    def act(self, obs: dict) -> np.ndarray:
        return self.targets


def test_sources_keyed_by_joint_name_drive_their_part() -> None:
    arm_names, hand_names = HOPEJR_ARM.joint_names[::-1], HOPEJR_HAND.joint_names  # any order: names decide
    arm_q = np.linspace(0.1, 0.4, ARM)
    hand_q = np.full(HOPEJR_HAND.num_joints, 0.3)
    with SimRobot(HOPEJR_SIM, HOPEJR.with_cameras(())) as robot:
        start = robot.get_observation()
        only_hand = JointMixSource(HOPEJR, [(_Fixed(hand_q), hand_names)])
        target = only_hand.act(start)
        np.testing.assert_allclose(target[:ARM], start["joint_pos"][:ARM])  # the arm holds
        np.testing.assert_allclose(target[ARM:], hand_q, atol=1e-6)
        both = JointMixSource(HOPEJR, [(_Fixed(arm_q), arm_names), (_Fixed(hand_q), hand_names)])
        target = both.act(start)
    np.testing.assert_allclose(target[:ARM], arm_q[::-1], atol=1e-6)
    np.testing.assert_allclose(target[ARM:], hand_q, atol=1e-6)


def test_emulate_serves_one_bus_per_part() -> None:
    configs = emulator_configs(Config(robot="hopejr", link="/tmp/hopejr-bus"))
    assert list(configs) == ["arm", "hand"]
    assert configs["arm"].link == "/tmp/hopejr-bus-arm" and configs["hand"].link == "/tmp/hopejr-bus-hand"
    arm_models = [s.model for s in configs["arm"].servos]
    assert len(arm_models) == ARM and "sm8512bl" in arm_models and "scs0009" not in arm_models
    assert [(s.id, s.model) for s in configs["hand"].servos] == [(i, "scs0009") for i in range(1, 17)]
    hand_alone = emulator_configs(Config(robot="hopejr_hand", link=""))[""]
    assert [s.position for s in configs["hand"].servos] == [s.position for s in hand_alone.servos]  # flat hand


def test_keyboard_hand_poses_close_the_hand_and_hold_the_arm(tmp_path: Path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, b"c")
    argv = ["teleop", "robot.model=hopejr", "robot.cameras=[]", f"output_dir={tmp_path}", "source=keyboard"]
    assert main([*argv, f"keys={path}", "duration_s=2.0"]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    target = np.array(list(report["tracking"]["final_target_rad"].values()))
    np.testing.assert_allclose(target[:ARM], HOPEJR_SIM.home[:ARM], atol=0.02)
    curled = [HOPEJR.joint_index(f"{f}_{p}") for f in ("index", "middle", "ring", "pinky") for p in ("mcp_flex", "pip")]
    assert np.all(target[curled] > 1.4)  # the "close" pose: 90 deg


def test_end_effector_ik_moves_the_grasp_centre_and_leaves_the_hand() -> None:
    from twinarm.sim.ik import ArmIK, top_down_rotation

    ee = get_model("hopejr").ee
    m = HOPEJR_SIM.load()
    home = np.array(HOPEJR_SIM.home)
    d = _pose(m, home)
    frame = d.site("gripperframe")
    offset = frame.xmat.reshape(3, 3).T @ (d.site("grasp_center").xpos - frame.xpos)
    np.testing.assert_allclose(offset, ee.grasp_offset, atol=1e-6)  # the offset is the hand's site
    ik = ArmIK(m, HOPEJR.joint_names, ee.arm_joints, offset=ee.grasp_offset)
    start, _ = ik.forward(home)
    assert np.all(ee.workspace.low <= start) and np.all(start <= ee.workspace.high)
    for goal in (start + np.array([0.05, -0.05, 0.0]), start + np.array([0.04, 0.0, 0.03])):
        q = ik.solve(home, goal, top_down_rotation(0.0), iters=200)
        np.testing.assert_allclose(ik.forward(q)[0], goal, atol=0.005)
        np.testing.assert_array_equal(q[ARM:], home[ARM:])


def test_the_lift_env_names_the_robot_and_holding_still_fails() -> None:
    assert ENV_IDS["hopejr_dexterous_lift"] == "twinarm/HopeJRDexterousLift-v0"
    env = gym.make(ENV_IDS["hopejr_dexterous_lift"], cameras=())
    try:
        _, info = env.reset(seed=0)
        start = info["privileged"]["object_pos"].copy()
        hold = env.unwrapped.robot.last_target
        for _ in range(40):
            _, _, _, _, info = env.step(hold)
        assert not info["is_success"]
        np.testing.assert_allclose(info["privileged"]["object_pos"], start, atol=0.002)  # it rests untouched
    finally:
        env.close()
