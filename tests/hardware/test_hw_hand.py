"""The Amazing Hand as a FeetechRobot on the emulator: transmission, motor-space clipping, both sides, conformance."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import numpy as np
import pytest

from twinarm.hardware.calibration import Calibration, joint_calibration
from twinarm.hardware.calibration_io import write_calibration
from twinarm.hardware.emulator import Emulator, EmulatorConfig, servos_for
from twinarm.hardware.errors import MissingServoError
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import SCS0009
from twinarm.hardware.hand import (
    AMAZING_HAND_LEFT,
    AMAZING_HAND_RIGHT,
    amazing_hand,
    calibration_from_published,
    hand_description,
    nominal_hand_calibration,
)
from twinarm.hardware.joint_map import JointMap
from twinarm.robot.check import check_robot
from twinarm.robot.errors import ConfigError
from twinarm.robot.hand_poses import HandPoseSource, hand_pose
from twinarm.robot.keyboard import TerminalKeys
from twinarm.robot.spec import JOINT_POS
from twinarm.robot.transmission import LinearTransmission

TICKS_PER_RAD = SCS0009.ticks_per_turn / (2 * np.pi)  # 195.6 ticks/rad: 1024 ticks over 300 deg
EMULATED = {"right": AMAZING_HAND_RIGHT, "left": AMAZING_HAND_LEFT}
GOAL = SCS0009.GOAL_POSITION


def eventually(cond, timeout_s: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def hand_emulator(side: str = "right", cal=None, servos=None) -> Emulator:
    emu = Emulator(EmulatorConfig(servos=servos or servos_for(EMULATED[side]))).start()
    with FeetechBus(emu.port, table=SCS0009) as bus:
        write_calibration(bus, cal or nominal_hand_calibration(side))
    return emu


@pytest.fixture
def emu() -> Iterator[Emulator]:
    emulator = hand_emulator()
    yield emulator
    emulator.stop()


def goals(emu: Emulator, ids) -> list[int]:
    return [emu.servo(i).get(GOAL) for i in ids]


def test_descriptions_are_data() -> None:
    assert AMAZING_HAND_RIGHT.ids == tuple(range(1, 9)) and AMAZING_HAND_LEFT.ids == tuple(range(11, 19))
    assert AMAZING_HAND_RIGHT.motor_names[:2] == ("index_m1", "index_m2")
    assert hand_description("left", [21, 22, 23, 24, 25, 26, 27, 28]).ids[-1] == 28
    with pytest.raises(ConfigError, match="needs 8 servo ids"):
        hand_description("right", [1, 2, 3])
    with pytest.raises(ConfigError, match="valid: right, left"):
        hand_description("middle")


@pytest.mark.parametrize("side", ["right", "left"])
def test_hand_passes_check_robot_with_motion(side: str) -> None:
    emu = hand_emulator(side)
    try:
        robot = amazing_hand(emu.port, side, calibration=nominal_hand_calibration(side))
        report = check_robot(robot, allow_motion=True)
        assert report.motion_checked and len(report.clipped_joints) == 8
        assert eventually(lambda: not any(s.torque_enabled for s in emu.servos))
    finally:
        emu.stop()


def test_flexion_turns_the_finger_servos_opposite_ways_and_abduction_the_same_way(emu: Emulator) -> None:
    with amazing_hand(emu.port, calibration=nominal_hand_calibration()) as hand:
        target = hand.last_target
        target[0] += 0.1  # index flexion
        hand.send_action(target)
        time.sleep(0.01)
        vel = hand.get_observation()["joint_vel"]  # signed big-endian velocities through the transmission
        assert vel[0] > 0.5 and abs(vel[1]) < 0.05 * vel[0]
        step = round(0.1 * TICKS_PER_RAD)
        assert eventually(lambda: goals(emu, [1, 2]) == [511 + step, 511 - step])
        target[1] += 0.1  # index abduction
        hand.send_action(target)
        assert eventually(lambda: goals(emu, [1, 2]) == [511 + round(0.2 * TICKS_PER_RAD), 511])
        assert goals(emu, range(3, 9)) == [511] * 6


def test_left_hand_mirrors_abduction_only() -> None:
    emu = hand_emulator("left")
    try:
        with amazing_hand(emu.port, "left", calibration=nominal_hand_calibration("left")) as hand:
            target = hand.last_target
            target[2] += 0.1  # middle flexion: same servo directions as the right hand
            hand.send_action(target)
            step = round(0.1 * TICKS_PER_RAD)
            assert eventually(lambda: goals(emu, [13, 14]) == [511 + step, 511 - step])
            target[3] += 0.1  # middle abduction: both servos the other way
            hand.send_action(target)
            assert eventually(lambda: goals(emu, [13, 14]) == [511, 511 - round(0.2 * TICKS_PER_RAD)])
    finally:
        emu.stop()


def test_observation_is_in_joint_space(emu: Emulator) -> None:
    emu.set_position(3, 511 + 40)  # middle finger: servos apart -> flexion
    emu.set_position(4, 511 - 40)
    emu.set_position(7, 511 + 30)  # thumb: servos together -> abduction
    emu.set_position(8, 511 + 30)
    with amazing_hand(emu.port, calibration=nominal_hand_calibration()) as hand:
        q = hand.get_observation()[JOINT_POS]
    expected = np.zeros(8)
    expected[2], expected[7] = 40 / TICKS_PER_RAD, 30 / TICKS_PER_RAD
    np.testing.assert_allclose(q, expected, atol=1e-4)


def test_motor_clip_keeps_both_servos_in_travel_and_returns_the_joint_target_sent(emu: Emulator) -> None:
    closed = round(np.pi / 2 * TICKS_PER_RAD) - 1  # a tick inside each servo's +-90 deg travel
    emu.set_position(1, 511 + closed)  # index closed: servo 1 at +90 deg, servo 2 at -90 deg
    emu.set_position(2, 511 - closed)
    with amazing_hand(emu.port, calibration=nominal_hand_calibration()) as hand:
        start = hand.last_target
        request = start.copy()
        request[1] = 0.3  # spread the closed index: inside the joint box, but servo 1 would pass +90 deg
        preview = hand.clip(request)
        sent = hand.send_action(request)
        np.testing.assert_allclose(sent, preview)
        base = np.clip(request, start - hand.spec.max_step, start + hand.spec.max_step)
        assert sent[1] < base[1] and sent[0] < start[0]  # the clipped servo pulled flexion and abduction back
        m1, m2 = sent[1] + sent[0], sent[1] - sent[0]  # the transmission's motor angles of the sent joint target
        assert m1 == pytest.approx(np.pi / 2, abs=0.006) and m2 > -np.pi / 2
        lo, hi = emu.servo(1).get(SCS0009.MIN_POSITION_LIMIT), emu.servo(1).get(SCS0009.MAX_POSITION_LIMIT)
        assert eventually(lambda: goals(emu, [1])[0] == hi) and lo < goals(emu, [2])[0] < hi
        np.testing.assert_allclose(hand.last_target, sent)


def test_missing_hand_servo_is_named() -> None:
    servos = [s for s in servos_for(AMAZING_HAND_RIGHT) if s.id != 6]
    emu = Emulator(EmulatorConfig(servos=servos)).start()
    try:
        robot = amazing_hand(emu.port, calibration=nominal_hand_calibration(), bus_retries=0)
        with pytest.raises(MissingServoError) as info:
            robot.connect()
        assert info.value.missing == [6]
    finally:
        emu.stop()


def test_two_hands_share_one_bus() -> None:
    right, left = nominal_hand_calibration("right"), nominal_hand_calibration("left")
    emu = hand_emulator(cal=right, servos=servos_for(AMAZING_HAND_RIGHT) + servos_for(AMAZING_HAND_LEFT))
    try:
        with FeetechBus(emu.port, table=SCS0009) as bus:
            write_calibration(bus, left)
        for side, cal, ids in (("right", right, [1, 2]), ("left", left, [11, 12])):
            with amazing_hand(emu.port, side, calibration=cal) as hand:
                target = hand.last_target
                target[0] += 0.1
                hand.send_action(target)
                assert eventually(lambda ids=ids: goals(emu, ids) == [531, 491])
        assert goals(emu, range(3, 9)) == goals(emu, range(13, 19)) == [511] * 6
    finally:
        emu.stop()


def test_published_offsets_and_invert_flags_become_zero_ticks_and_drive_signs() -> None:
    fingers = []
    for k, name in enumerate(("r_finger1", "r_finger2", "r_finger3", "r_finger4")):
        m1 = {"id": 2 * k + 1, "offset": 0.05236, "invert": False, "model": "SCS0009"}
        m2 = {"id": 2 * k + 2, "offset": -0.0873, "invert": k == 3, "model": "SCS0009"}
        fingers.append({"finger_name": name, "motor1": m1, "motor2": m2})
    cal = calibration_from_published({"motors": fingers})
    assert cal.motors[0].zero_tick == pytest.approx(511 + 0.05236 * TICKS_PER_RAD)
    assert cal.motors[1].zero_tick == pytest.approx(511 - 0.0873 * TICKS_PER_RAD)
    assert cal.motors[7].drive_sign == -1 and cal.motors[7].zero_tick == pytest.approx(511 + 0.0873 * TICKS_PER_RAD)
    # the published rule: servo angle = sign * (motor angle + offset), tick = 511 + servo angle * ticks per rad
    motor = np.full(8, 0.2)
    want = 511 + np.array([m.drive_sign for m in cal.motors]) * (motor + [0.05236, -0.0873] * 4) * TICKS_PER_RAD
    np.testing.assert_array_equal(cal.ticks.to_ticks(motor), np.rint(want))
    fingers[0]["motor1"]["model"] = "STS3215"
    with pytest.raises(Exception, match="SCS0009"):
        calibration_from_published({"motors": fingers})


def test_pose_keys_drive_the_emulated_hand(emu: Emulator) -> None:
    r, w = os.pipe()
    try:
        with amazing_hand(emu.port, calibration=nominal_hand_calibration()) as hand, TerminalKeys(r) as keys:
            source = HandPoseSource(keys)
            os.write(w, b"c")
            for _ in range(20):
                hand.send_action(source.act(hand.get_observation()))
            np.testing.assert_allclose(source.goal, hand_pose("close"))
            assert hand.last_target[0] > 1.0  # index flexion well on its way to closed
            assert eventually(lambda: goals(emu, [1])[0] > 700 and goals(emu, [2])[0] < 320)
    finally:
        os.close(r)
        os.close(w)


def test_joint_map_holds_still_when_a_servo_clip_would_break_the_joint_box() -> None:
    per_rad = 4096 / (2 * np.pi)
    travel = [(-1.0, 1.0), (-0.2, 1.0)]  # [rad] per motor
    motors = tuple(
        joint_calibration(name, k + 1, 1, 0, 2048, round(2048 + lo * per_rad), round(2048 + hi * per_rad))
        for k, (name, (lo, hi)) in enumerate(zip("ab", travel))
    )
    jm = JointMap(Calibration("toy", "follower", "t", motors), LinearTransmission(np.array([[1.0, -1.0], [1.0, 1.0]])))
    lower, upper, previous = np.array([-1.0, -2.0]), np.array([1.0, 2.0]), np.zeros(2, np.float32)
    request = np.array([0.1, -1.0], np.float32)  # motor b would go to -0.55 rad, its travel ends at -0.2

    def box(max_step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # the Robot base's clip box
        return np.maximum(lower, previous - max_step), np.minimum(upper, previous + max_step)

    clipped = jm.command(request, *box(np.array([1.0, 1.0])), previous)
    np.testing.assert_allclose(clipped.joint, [-0.25, -0.65], atol=2e-3)  # motor b at its end, motor a as asked
    assert clipped.ticks[1] == motors[1].range_min_tick  # the goal ticks carry the clipped motor command
    held = jm.command(request, *box(np.array([0.1, 1.0])), previous)
    np.testing.assert_array_equal(held.joint, previous)  # the clipped command would move joint 0 by 0.25 > 0.1
    np.testing.assert_array_equal(held.ticks, jm.command(previous).ticks)
