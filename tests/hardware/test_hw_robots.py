"""FeetechRobot on the emulator: conformance, connect-time checks and configuration, safety on exit."""

from __future__ import annotations

import os
import signal
import time

import cv2
import numpy as np
import pytest

from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.cameras import CameraConfig
from twinarm.hardware.emulator.config import EmulatorConfig, FaultConfig
from twinarm.hardware.emulator.server import Emulator
from twinarm.hardware.errors import MissingServoError
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import STS3215
from twinarm.hardware.motors import SO101_FOLLOWER, SO101_LEADER
from twinarm.hardware.robots import CalibrationMismatchError, FeetechRobot, so101_follower, so101_leader
from twinarm.robot.check import check_robot
from twinarm.robot.errors import ActionError
from twinarm.robot.loop import terminate_on_sigterm
from twinarm.robot.spec import JOINT_POS

FOLLOWER_CAL = nominal_calibration(SO101_FOLLOWER)
LEADER_CAL = nominal_calibration(SO101_LEADER)


def eventually(cond, timeout_s: float = 1.0) -> bool:
    """SYNC_WRITEs get no reply: poll the emulator state until ``cond()`` holds (or time runs out)."""
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def torque_all_off(emu: Emulator) -> bool:
    return eventually(lambda: not any(emu.servo(i).torque_enabled for i in range(1, 7)))


def calibrated_emulator(cfg: EmulatorConfig | None = None, cal=FOLLOWER_CAL) -> Emulator:
    emu = Emulator(cfg or EmulatorConfig()).start()
    with FeetechBus(emu.port) as bus:
        write_calibration(bus, cal)
    return emu


@pytest.fixture
def emu():
    emulator = calibrated_emulator()
    yield emulator
    emulator.stop()


def test_follower_passes_check_robot_with_motion(emu: Emulator) -> None:
    robot = so101_follower(emu.port, FOLLOWER_CAL)
    report = check_robot(robot, allow_motion=True)
    assert report.motion_checked and report.clipped_joints
    assert report.observation_keys == ("joint_pos", "joint_vel")
    assert torque_all_off(emu)  # released on disconnect


def test_leader_passes_check_robot_read_only(emu: Emulator) -> None:
    with FeetechBus(emu.port) as bus:
        write_calibration(bus, LEADER_CAL)
    robot = so101_leader(emu.port, LEADER_CAL)
    assert robot.read_only
    check_robot(robot, allow_motion=True)
    with robot:
        assert torque_all_off(emu)
        with pytest.raises(ActionError, match="read-only"):
            robot.send_action(np.zeros(6, np.float32))


def test_observation_matches_emulated_ticks(emu: Emulator) -> None:
    emu.set_position(2, 2048 + 512)  # quarter turn on shoulder_lift
    with so101_follower(emu.port, FOLLOWER_CAL) as robot:
        obs = robot.get_observation()
        assert obs[JOINT_POS].dtype == np.float32
        assert obs[JOINT_POS][1] == pytest.approx(np.pi / 4, abs=1e-3)
        assert obs[JOINT_POS][0] == pytest.approx(0.0, abs=1e-3)


def test_connect_configures_servos_and_goal_equals_present(emu: Emulator) -> None:
    with so101_follower(emu.port, FOLLOWER_CAL):
        for i in range(1, 7):
            s = emu.servo(i)
            assert s.torque_enabled
            assert s.get(STS3215.P_COEFFICIENT) == 16
            assert s.get(STS3215.PHASE) & 0x10 == 0
            assert s.get(STS3215.OPERATING_MODE) == 0
            assert abs(s.get(STS3215.GOAL_POSITION) - s.get(STS3215.PRESENT_POSITION)) <= 1  # no jump
        grip = emu.servo(6)
        assert grip.get(STS3215.MAX_TORQUE_LIMIT) == SO101_FOLLOWER.gripper.max_torque
        assert grip.get(STS3215.TORQUE_LIMIT) == SO101_FOLLOWER.gripper.torque_limit
        assert grip.get(STS3215.PROTECTION_CURRENT) == SO101_FOLLOWER.gripper.protection_current


def test_send_action_writes_calibrated_goal_ticks(emu: Emulator) -> None:
    with so101_follower(emu.port, FOLLOWER_CAL) as robot:
        target = robot.last_target
        target[0] += 0.05
        sent = robot.send_action(target)
        want = FOLLOWER_CAL.ticks.to_ticks(sent)[0]
        assert want == 2048 + round(0.05 * 4096 / (2 * np.pi))
        assert eventually(lambda: emu.servo(1).get(STS3215.GOAL_POSITION) == want)


def test_multi_turn_servo_is_switched_to_single_turn() -> None:
    emu = calibrated_emulator()
    try:
        s = emu.servo(3)
        s.set(STS3215.PHASE, s.get(STS3215.PHASE) | 0x10)
        with so101_follower(emu.port, FOLLOWER_CAL):
            assert s.get(STS3215.PHASE) & 0x10 == 0
    finally:
        emu.stop()


def test_missing_servo_names_id_and_port() -> None:
    emu = Emulator(EmulatorConfig(faults=FaultConfig(silent_ids=[4]))).start()
    try:
        robot = so101_follower(emu.port, FOLLOWER_CAL, bus_retries=0)
        with pytest.raises(MissingServoError) as info:
            robot.connect()
        assert info.value.missing == [4] and info.value.answered == [1, 2, 3, 5, 6]
        assert emu.port in str(info.value) and "[4]" in str(info.value)
        assert not robot.is_connected and not robot.bus.is_open
    finally:
        emu.stop()


def test_eeprom_mismatch_is_reported_with_details(emu: Emulator) -> None:
    with FeetechBus(emu.port) as bus:
        bus.write_eeprom(2, STS3215.HOMING_OFFSET, 77)
    robot = so101_follower(emu.port, FOLLOWER_CAL)
    with pytest.raises(CalibrationMismatchError, match="shoulder_lift") as info:
        robot.connect()
    (mm,) = info.value.mismatches
    assert (mm.id, mm.register, mm.file_value, mm.servo_value) == (2, "homing_offset", 0, 77)
    assert torque_all_off(emu)


def test_torque_off_after_exception_mid_loop(emu: Emulator) -> None:
    robot = so101_follower(emu.port, FOLLOWER_CAL)
    with pytest.raises(RuntimeError, match="boom"):
        with robot:
            for k in range(20):
                robot.send_action(robot.last_target + 0.01)
                robot.get_observation()
                assert emu.servo(1).torque_enabled
                if k == 10:
                    raise RuntimeError("boom")
    assert not robot.is_connected
    assert torque_all_off(emu)


def test_park_pose_is_reached_in_bounded_steps_before_torque_off(emu: Emulator) -> None:
    park = np.zeros(6, np.float32)
    park[1] = -0.1
    robot = so101_follower(emu.port, FOLLOWER_CAL, park_pose=park, park_speed_scale=10.0)
    robot.connect()
    robot.disconnect()
    want = FOLLOWER_CAL.ticks.to_ticks(park)[1]
    assert eventually(lambda: emu.servo(2).get(STS3215.GOAL_POSITION) == want)
    assert torque_all_off(emu)


def test_calibration_for_other_role_is_rejected() -> None:
    with pytest.raises(Exception, match="role=leader"):
        FeetechRobot(SO101_FOLLOWER, "/dev/null", LEADER_CAL)


def test_fault_injection_loop_completes_within_limits() -> None:
    cfg = EmulatorConfig(faults=FaultConfig(seed=3, corrupt_prob=0.01, drop_prob=0.01))
    emu = calibrated_emulator(cfg)
    try:
        robot = so101_follower(emu.port, FOLLOWER_CAL, bus_retries=3)
        lo, hi = robot.spec.lower, robot.spec.upper
        rng = np.random.default_rng(0)
        with robot:
            prev = robot.last_target
            for _ in range(2000):
                obs = robot.get_observation()
                assert np.all(np.isfinite(obs[JOINT_POS]))
                sent = robot.send_action(rng.uniform(lo - 1, hi + 1).astype(np.float32))
                assert np.all(sent >= lo) and np.all(sent <= hi)
                assert np.all(np.abs(sent - prev) <= robot.spec.max_step + 1e-6)
                prev = sent
        stats = robot.bus.stats
        assert stats.retries > 0 and stats.retries >= emu.stats.dropped * 0.5
        assert emu.stats.dropped > 0 and emu.stats.corrupted > 0
    finally:
        emu.stop()


def test_sigterm_exits_cleanly_with_torque_off(emu: Emulator) -> None:
    robot = so101_follower(emu.port, FOLLOWER_CAL)
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as info:
        with terminate_on_sigterm(), robot:
            assert emu.servo(1).torque_enabled
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100):  # the handler runs between bytecodes of the main thread
                robot.get_observation()
    assert info.value.code == 128 + signal.SIGTERM
    assert torque_all_off(emu)
    assert signal.getsignal(signal.SIGTERM) is previous


def test_cameras_join_the_observation_under_spec_names(emu: Emulator, tmp_path) -> None:
    path = str(tmp_path / "front.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (40, 30))
    for _ in range(5):
        writer.write(np.full((30, 40, 3), 90, np.uint8))
    writer.release()
    robot = so101_follower(emu.port, FOLLOWER_CAL, cameras={"front": CameraConfig(path, width=32, height=24)})
    assert [(c.name, c.height, c.width) for c in robot.spec.cameras] == [("front", 24, 32)]
    report = check_robot(robot, allow_motion=True)
    assert report.observation_keys == ("image_front", "joint_pos", "joint_vel")
    assert not robot.cameras["front"].is_connected


def test_velocity_is_reported_in_rad_per_s_while_moving(emu: Emulator) -> None:
    with so101_follower(emu.port, FOLLOWER_CAL) as robot:
        target = robot.last_target
        target[0] += robot.spec.max_step[0]
        robot.send_action(target)
        time.sleep(0.01)
        vel = robot.get_observation()["joint_vel"]
        assert vel.dtype == np.float32 and vel[0] > 0.5 and np.all(vel[1:] == 0)


def test_the_motor_command_is_computed_once_per_cycle(emu: Emulator) -> None:
    with so101_follower(emu.port, FOLLOWER_CAL) as robot:
        calls = []
        command = robot.joint_map.command
        robot.joint_map.command = lambda *a: calls.append(a) or command(*a)  # type: ignore[method-assign]
        written = []
        sync_write = robot.bus.sync_write
        robot.bus.sync_write = lambda reg, ids, values: written.append(values) or sync_write(reg, ids, values)
        target = robot.last_target
        target[1] += 0.02
        sent = robot.send_action(target)
        assert len(calls) == 1  # the travel clip and the write share one command
        assert written == [FOLLOWER_CAL.ticks.to_ticks(sent).tolist()]
        robot.hold()  # re-sends the same command
        assert len(calls) == 1 and written[1] == written[0]
        robot.reset_target()  # a target that did not come through clip: computed when sent
        robot.hold()
        assert len(calls) == 2
