"""CompositeRobot on two emulated buses (the SO-101 arm and the Amazing Hand on its wrist): one spec, one safety
clip, errors naming the failing part and port, torque released on both buses on exit and on errors."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import numpy as np
import pytest

from twinarm.compose.registry import get_model
from twinarm.hardware.calibration_io import write_calibration
from twinarm.hardware.composite import CompositeRobot
from twinarm.hardware.emulator.config import EmulatorConfig, FaultConfig
from twinarm.hardware.emulator.server import Emulator
from twinarm.hardware.errors import MissingServoError
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.check import check_robot
from twinarm.robot.errors import ConfigError
from twinarm.robot.spec import JOINT_POS

MODEL = get_model("so101_amazing_hand")
PARTS = ("arm", "hand")


def eventually(cond, timeout_s: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def torque_off(emu: Emulator, ids: tuple[int, ...]) -> bool:
    return eventually(lambda: not any(emu.servo(i).torque_enabled for i in ids))


@contextlib.contextmanager
def rig(faults: dict[str, FaultConfig] | None = None) -> Iterator[tuple[CompositeRobot, dict[str, Emulator]]]:
    """The composite on one calibrated emulator per part (``faults`` per part)."""
    faults = faults or {}
    with contextlib.ExitStack() as stack:
        emus, parts = {}, []
        for part in PARTS:
            desc = MODEL.bus(part=part)
            config = EmulatorConfig(servos=MODEL.emulator_servos(part=part), faults=faults.get(part, FaultConfig()))
            emu = stack.enter_context(Emulator(config))
            cal = MODEL.nominal_calibration(part=part)
            if part not in faults:  # a faulty bus fails at connect, before its calibration is read
                with FeetechBus(emu.port, desc.baudrate, desc.table) as bus:
                    write_calibration(bus, cal)
            emus[part] = emu
            parts.append((part, FeetechRobot(desc, emu.port, cal, bus_timeout_s=0.1)))  # a loaded test machine
        yield CompositeRobot(MODEL.spec, parts), emus


def ids(part: str) -> tuple[int, ...]:
    return MODEL.bus(part=part).ids


def test_composite_passes_check_robot_and_releases_both_buses() -> None:
    with rig() as (robot, emus):
        assert robot.spec.joint_names == MODEL.spec.joint_names
        report = check_robot(robot, allow_motion=True)
        assert report.motion_checked and set(report.clipped_joints) == set(MODEL.spec.joint_names)
        assert all(torque_off(emus[p], ids(p)) for p in PARTS)


def test_one_safety_clip_over_both_parts_and_each_part_gets_its_slice() -> None:
    with rig() as (robot, emus), robot:
        start = robot.last_target
        far = start + 1.0
        sent = robot.send_action(far)
        np.testing.assert_allclose(sent - start, robot.spec.max_step, rtol=1e-5)  # one max step on every joint
        for (part, member), s in zip(robot.parts, robot._slices):  # each bus got the ticks of its slice
            want = member.joint_map.command(sent[s]).ticks.tolist()
            emu, goal, servo_ids = emus[part], member.arm.table.GOAL_POSITION, ids(part)

            def arrived(emu=emu, goal=goal, servo_ids=servo_ids, want=want) -> bool:
                return [emu.servo(i).get(goal) for i in servo_ids] == want

            assert eventually(arrived), part
        obs = robot.get_observation()
        assert obs[JOINT_POS].shape == (MODEL.spec.num_joints,)


def test_a_failing_hand_bus_names_the_part_and_port_and_releases_the_arm() -> None:
    with rig({"hand": FaultConfig(silent_ids=[3])}) as (robot, emus):
        with pytest.raises(MissingServoError) as info:
            robot.connect()
        notes = " ".join(getattr(info.value, "__notes__", []))
        assert emus["hand"].port in str(info.value) and info.value.missing == [3]
        assert "part 'hand'" in notes and emus["hand"].port in notes
        assert not robot.is_connected
        assert torque_off(emus["arm"], ids("arm"))  # the arm connected first: released again


def test_torque_released_on_both_buses_after_an_error_in_the_loop() -> None:
    with rig() as (robot, emus):
        with pytest.raises(RuntimeError, match="boom"), robot:
            for k in range(5):
                robot.send_action(robot.last_target + 0.01)
                assert emus["arm"].servo(1).torque_enabled and emus["hand"].servo(1).torque_enabled
                if k == 3:
                    raise RuntimeError("boom")
        assert all(torque_off(emus[p], ids(p)) for p in PARTS)


def test_parts_must_make_the_spec() -> None:
    with rig() as (robot, _):
        hand_first = tuple(reversed(robot.parts))
        with pytest.raises(ConfigError, match="not the spec's"):
            CompositeRobot(MODEL.spec, hand_first)
