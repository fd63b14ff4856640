"""The SO-101 with the Amazing Hand: the model composed with MjSpec (hand on the wrist, no gripper), its task, and
teleop (leader arm for the arm + hand poses on the keys; hand poses alone hold the arm)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from tests.robot.scripted_leader import scripted_leader
from twinarm.cli.main import main
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import AMAZING_HAND, SO101_AMAZING_HAND, SO101_ARM
from twinarm.sim.arm_hand_scene import COMPOSITION, SO101_AMAZING_HAND_SIM
from twinarm.sim.envs import ENV_IDS
from twinarm.sim.mjcf_compose import Attachment, Composition
from twinarm.sim.sim_robot import MODELS_DIR, SimRobot

ARM = SO101_ARM.num_joints


def test_the_composed_model_has_the_hand_on_the_wrist_and_no_gripper() -> None:
    m = SO101_AMAZING_HAND_SIM.load()
    joints = {m.joint(i).name for i in range(m.njnt)}
    assert set(SO101_AMAZING_HAND.joint_names) <= joints and "gripper" not in joints and "wrist_mount" not in joints
    assert [m.actuator(i).name for i in range(m.nu)][:ARM] == list(SO101_ARM.joint_names)
    assert m.body(int(m.body("palm").parentid[0])).name == "gripper"  # carried by the wrist-roll link
    assert m.neq == 4 and m.nmocap == 0  # the phalanx couplings came along; the hand scene's mocap/weld did not
    assert {"front", "wrist"} <= {m.camera(i).name for i in range(m.ncam)}


def test_wrist_roll_turns_the_hand_about_the_roll_axis() -> None:
    m = SO101_AMAZING_HAND_SIM.load()
    d = mujoco.MjData(m)
    roll = m.jnt_qposadr[m.joint("wrist_roll").id]
    site = m.site("grasp_center").id
    mujoco.mj_kinematics(m, d)
    before = d.site_xmat[site].reshape(3, 3).copy()
    d.qpos[roll] = np.pi / 2
    mujoco.mj_kinematics(m, d)
    after = d.site_xmat[site].reshape(3, 3)
    # the fingers (site z) point along the roll axis: they stay, the palm's front (site x) turns a quarter turn
    np.testing.assert_allclose(after[:, 2], before[:, 2], atol=1e-9)
    assert abs(after[:, 0] @ before[:, 0]) < 1e-9


def test_composition_names_a_missing_element() -> None:
    bad = COMPOSITION._replace(remove=("no_such_body",))
    with pytest.raises(ConfigError, match="no_such_body"):
        bad.compile(MODELS_DIR / "scene_so101.xml")
    lost = Composition((Attachment(MODELS_DIR / "amazing_hand.xml", "no_palm", "gripper"),))
    with pytest.raises(ConfigError, match=r"amazing_hand\.xml.*no_palm"):
        lost.compile(MODELS_DIR / "scene_so101.xml")


def test_sim_robot_drives_arm_and_hand_through_one_action() -> None:
    with SimRobot(SO101_AMAZING_HAND_SIM, SO101_AMAZING_HAND.with_cameras(())) as robot:
        start = robot.get_observation()["joint_pos"]
        goal = start.copy()
        goal[0] += 0.3  # shoulder pan
        goal[SO101_AMAZING_HAND.joint_index("index_flexion")] = 1.0
        for _ in range(45):
            robot.send_action(goal)
        reached = robot.get_observation()["joint_pos"]
    np.testing.assert_allclose(reached[[0, SO101_AMAZING_HAND.joint_index("index_flexion")]], goal[[0, 5]], atol=0.05)


def test_a_do_nothing_policy_fails_and_the_env_id_names_the_robot() -> None:
    assert "SO101AmazingHand" in ENV_IDS["dexterous_lift"]
    env = gym.make(ENV_IDS["dexterous_lift"], cameras=())
    try:
        env.reset(seed=0)
        hold = env.unwrapped.robot.last_target
        for _ in range(40):
            _, _, _, _, info = env.step(hold)
        assert not info["is_success"]
    finally:
        env.close()


# -- teleop ------------------------------------------------------------------------------------------------------


def teleop(tmp_path: Path, *args: str) -> dict:
    assert (
        main(["teleop", "robot.model=so101_amazing_hand", "robot.cameras=[]", f"output_dir={tmp_path / 'o'}", *args])
        == 0
    )
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    return {k: np.array(list(v.values())) for k, v in report["tracking"].items() if isinstance(v, dict)}


def test_leader_drives_the_arm_and_keys_the_hand(tmp_path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, b"c")  # close the hand
    pose = np.array([0.3, -0.9, 0.8, 0.2, 0.4, 0.5])  # the leader's gripper reading is not a joint here
    with scripted_leader(tmp_path) as leader:
        leader.play([(0.1, pose)])
        tracking = teleop(
            tmp_path,
            "source=leader",
            f"leader.port={leader.port}",
            f"leader.calibration={leader.calibration_file}",
            f"keys={path}",
            "duration_s=1.5",
        )
    target = tracking["final_target_rad"]
    np.testing.assert_allclose(target[:ARM], pose[:ARM], atol=0.01)
    flexion = [SO101_AMAZING_HAND.joint_index(f"{f}_flexion") for f in ("index", "middle", "ring", "thumb")]
    assert np.all(target[flexion] > 1.4)  # the "close" pose


def test_hand_poses_alone_hold_the_arm(tmp_path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, b"c")
    tracking = teleop(tmp_path, "source=keyboard", f"keys={path}", "duration_s=1.5")
    target = tracking["final_target_rad"]
    np.testing.assert_allclose(target[:ARM], SO101_AMAZING_HAND_SIM.home[:ARM], atol=0.02)
    hand = [SO101_AMAZING_HAND.joint_index(n) for n in AMAZING_HAND.joint_names if n.endswith("_flexion")]
    assert np.all(target[hand] > 1.4)


# -- record and train, unchanged ---------------------------------------------------------------------------------


def test_record_and_train_run_unchanged(tmp_path) -> None:
    from twinarm.dataset.reader import LeRobotDatasetReader

    root = tmp_path / "ds"
    argv = ["record", "source=expert", "robot.model=so101_amazing_hand", "task=dexterous_lift", "keys=none"]
    argv += ["robot.cameras=[wrist]", "robot.camera_height=24", "robot.camera_width=32", "episodes=1"]
    assert main([*argv, "episode_time_s=1.0", f"dataset.root={root}"]) == 0
    reader = LeRobotDatasetReader(root)
    assert reader.info["robot_type"] == "so101_amazing_hand" and len(reader) == 30
    assert reader.lowdim()["action"].shape[1] == SO101_AMAZING_HAND.num_joints
    train = ["train", "policy=bc", f"dataset.root={root}", "train.steps=3", "train.batch_size=4", "threads=1"]
    assert main([*train, f"train.output_dir={tmp_path / 'run'}"]) == 0
    assert any((tmp_path / "run" / "checkpoints").rglob("*.safetensors"))
