"""``twinarm teleop``: keyboard (scripted key stream), gamepad, leader -> follower on two emulators, hand poses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mujoco
import numpy as np

from tests.robot.scripted_leader import scripted_leader
from twinarm.cli.main import main
from twinarm.compose.backends import EMULATOR, RobotConfig, built_robot
from twinarm.compose.keys import KeyHub
from twinarm.robot.check import check_robot
from twinarm.robot.keyboard import TerminalKeys
from twinarm.robot.models import SO101
from twinarm.robot.teleop import JS_AXIS, JS_EVENT
from twinarm.sim.ik import ArmIK
from twinarm.sim.sim_robot import SO101_HOME, SO101_SIM


def teleop(tmp_path: Path, *args: str) -> dict:
    assert main(["teleop", f"output_dir={tmp_path / 'out'}", *args]) == 0
    return json.loads((tmp_path / "out" / "report.json").read_text())


def joints(report: dict, key: str = "final_measured_rad") -> np.ndarray:
    return np.array(list(report["tracking"][key].values()))


def grasp_point(q: np.ndarray) -> np.ndarray:
    ik = ArmIK(mujoco.MjModel.from_xml_path(str(SO101_SIM.xml)), SO101.joint_names, SO101.joint_names[:5])
    return ik.forward(q)[0]


def test_keyboard_moves_the_gripper_frame_of_the_sim_arm(tmp_path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, b"w" * 8 + b"q")  # 8 x 5 mm forward; q is yaw for this source, not stop
    report = teleop(tmp_path, "source=keyboard", f"keys={path}", "duration_s=1.2", "teleop.step_m=0.005")
    assert report["loop"]["stopped_by"] == "duration"
    commanded = grasp_point(joints(report, "final_target_rad")) - grasp_point(np.array(SO101_HOME))
    np.testing.assert_allclose(commanded, [0.04, 0.0, 0.0], atol=0.006)
    # the identified servos (kp ~9 N m/rad) sag and lag: the arm itself lands within ~1.5 cm of the command
    moved = grasp_point(joints(report)) - grasp_point(np.array(SO101_HOME))
    np.testing.assert_allclose(moved, [0.04, 0.0, 0.0], atol=0.02)


def test_escape_stops_teleop(tmp_path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, b"\x1b")
    report = teleop(tmp_path, "source=keyboard", f"keys={path}", "duration_s=5")
    assert report["loop"]["stopped_by"] == "source" and report["loop"]["steps"] == 0


def test_gamepad_stick_drives_the_gripper_frame(tmp_path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, JS_EVENT.pack(0, 32767, JS_AXIS, 0))  # left stick full right: -y at teleop.max_speed
    report = teleop(tmp_path, "source=gamepad", f"teleop.gamepad={path}", "teleop.max_speed=0.05", "duration_s=0.6")
    moved = grasp_point(joints(report, "final_target_rad")) - grasp_point(np.array(SO101_HOME))
    assert moved[1] < -0.02 and abs(moved[0]) < 0.01 and abs(moved[2]) < 0.01


def test_leader_to_follower_on_two_emulators(tmp_path) -> None:
    pose = np.array([0.4, -0.5, 0.6, 0.3, -0.8, 0.9])
    with scripted_leader(tmp_path) as leader:
        leader.play([(0.3, pose / 2), (0.6, pose)])
        report = teleop(
            tmp_path,
            "source=leader",
            "robot.port=emulator",
            "robot.control_hz=100",
            f"leader.port={leader.port}",
            f"leader.calibration={leader.calibration_file}",
            "keys=none",
            "duration_s=1.5",
        )
    loop = report["loop"]
    assert loop["steps"] > 100 and loop["watchdog_trips"] == 0  # 150 cycles at 100 Hz on an idle machine
    np.testing.assert_allclose(joints(report, "final_target_rad"), pose, atol=0.01)  # the leader's reading
    np.testing.assert_allclose(joints(report), pose, atol=0.03)  # the follower got there


def test_hand_poses_from_keys_on_the_emulated_hand(tmp_path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, b"c")
    report = teleop(
        tmp_path, "source=keyboard", "robot.model=amazing_hand", "robot.port=emulator", f"keys={path}", "duration_s=1"
    )
    final = report["tracking"]["final_measured_rad"]
    assert all(final[f"{f}_flexion"] > 1.4 for f in ("index", "middle", "ring", "thumb"))  # closed: 1.57 rad


def test_leap_hand_poses_from_keys_in_simulation(tmp_path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, b"c")
    args = ("source=keyboard", "robot.model=leap_hand", "robot.cameras=[]", f"keys={path}", "duration_s=1.5")
    final = teleop(tmp_path, *args)["tracking"]["final_measured_rad"]
    # close: 1.57 rad (the middle finger curls onto the scene's object, which rests under it)
    assert final["index_mcp_forward"] > 1.4 and final["ring_mcp_forward"] > 1.4 and final["thumb_pip"] > 1.0


def test_missing_leader_port_and_keys_are_named(tmp_path, capsys) -> None:
    assert main(["teleop", "source=leader", f"output_dir={tmp_path}"]) == 1
    assert "leader.port" in capsys.readouterr().err
    assert main(["teleop", "source=keyboard", "keys=none", f"output_dir={tmp_path}"]) == 1
    assert "keys=PATH" in capsys.readouterr().err
    assert main(["teleop", "source=joystick", f"output_dir={tmp_path}"]) == 1
    assert "leader, keyboard, gamepad" in capsys.readouterr().err


def test_key_hub_gives_each_key_one_meaning(key_pipe) -> None:
    path, w = key_pipe
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with TerminalKeys(fd) as keys:
            hub = KeyHub(keys)
            teleop_keys, episode_keys = hub.view(), hub.view(exclude=frozenset("wq"))
            os.write(w, b"wqn")
            assert episode_keys.poll() == ["n"]
            assert teleop_keys.poll() == ["w", "q", "n"]
            assert teleop_keys.poll() == [] and episode_keys.poll() == []
    finally:
        os.close(fd)


def test_a_hardware_robot_at_another_rate_passes_check_robot() -> None:
    with built_robot(RobotConfig(port=EMULATOR, cameras=[], control_hz=100.0)) as robot:
        assert check_robot(robot, allow_motion=True).motion_checked
        assert robot.spec.control_hz == 100.0
        np.testing.assert_allclose(robot.spec.max_step, robot.spec.max_velocity / 100.0, rtol=1e-6)


def test_hopejr_hand_poses_from_keys_on_the_emulated_tendon_hand(tmp_path, key_pipe) -> None:
    path, w = key_pipe
    os.write(w, b"c")
    args = ("source=keyboard", "robot.model=hopejr_hand", "robot.port=emulator", f"keys={path}", "duration_s=2.5")
    final = teleop(tmp_path, *args)["tracking"]["final_measured_rad"]
    # close: 90 deg at every MCP and PIP, through the tendon transmission and the 16 emulated SCS0009
    assert all(final[f"{f}_mcp_flex"] > 1.4 and final[f"{f}_pip"] > 1.4 for f in ("index", "middle", "ring", "pinky"))
