"""The Koch v1.1 on Dynamixel emulators: the same hardware robot as the SO-101, configured from data."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from twinarm.cli.cmd_emulate import Config, emulator_config, model_and_role
from twinarm.hardware.buses import bus_for
from twinarm.hardware.calibration import homing_offset_for
from twinarm.hardware.calibration_io import center_homing_offsets, nominal_calibration, write_calibration
from twinarm.hardware.dynamixel.bus import DynamixelBus
from twinarm.hardware.dynamixel.tables import XL330_M288, XL430_W250, OperatingMode
from twinarm.hardware.emulator import Emulator, EmulatorConfig, ServoConfig, servos_for
from twinarm.hardware.errors import ModelMismatchError
from twinarm.hardware.koch import KOCH_FOLLOWER, KOCH_GRIPPER, KOCH_LEADER
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.errors import ActionError, ConfigError
from twinarm.robot.spec import JOINT_POS

SLOW = 0.2  # [s] reply deadline: generous, the 2 test cores are shared by many processes
T = XL430_W250


def _emulator(desc, offsets=(0, -40, 35, 20, -25, 60)) -> Emulator:
    emu = Emulator(EmulatorConfig(servos=servos_for(desc, offsets))).start()
    with bus_for(desc, emu.port, timeout_s=SLOW) as bus:
        write_calibration(bus, nominal_calibration(desc))
    return emu


@pytest.fixture
def follower_emu() -> Iterator[Emulator]:
    emu = _emulator(KOCH_FOLLOWER)
    yield emu
    emu.stop()


def test_bus_kind_picks_the_dynamixel_driver_and_models_per_motor() -> None:
    assert isinstance(bus_for(KOCH_FOLLOWER, "loop://"), DynamixelBus)
    assert KOCH_FOLLOWER.model_numbers == {1: 1060, 2: 1060, 3: 1200, 4: 1200, 5: 1200, 6: 1200}
    assert KOCH_LEADER.model_numbers == dict.fromkeys(range(1, 7), 1190)
    assert [s.model for s in servos_for(KOCH_FOLLOWER)] == ["xl430-w250"] * 2 + ["xl330-m288"] * 4


def test_follower_configures_modes_and_gripper_current_and_moves_in_sim_radians(follower_emu: Emulator) -> None:
    emu = follower_emu
    robot = FeetechRobot(KOCH_FOLLOWER, emu.port, nominal_calibration(KOCH_FOLLOWER), bus_timeout_s=SLOW)
    with robot:
        modes = [emu.servo(i).get(T.OPERATING_MODE) for i in range(1, 7)]
        assert modes == [OperatingMode.EXTENDED_POSITION] * 5 + [OperatingMode.CURRENT_BASED_POSITION]
        assert emu.servo(6).get(XL330_M288.GOAL_CURRENT) == KOCH_GRIPPER.goal_current_ma
        assert all(emu.servo(i).torque_enabled for i in range(1, 7))
        q0 = robot.get_observation()[JOINT_POS]
        # nominal calibration: the middle tick is the sim zero, 2 pi / 4096 rad per tick
        want = np.array([0, -40, 35, 20, -25, 60]) * 2 * np.pi / 4096
        assert np.allclose(q0[:5], want[:5], atol=1e-3)
        target = q0.copy()
        target[0] += 0.02
        sent = robot.send_action(target)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            q = robot.get_observation()[JOINT_POS]
            if abs(q[0] - sent[0]) < 2e-3:
                break
            time.sleep(0.01)
        assert abs(q[0] - sent[0]) < 2e-3 and abs(q[0] - q0[0]) > 0.01
    deadline = time.monotonic() + 5.0  # torque off goes out as a SYNC_WRITE (no reply): poll the emulator
    while any(emu.servo(i).torque_enabled for i in range(1, 7)) and time.monotonic() < deadline:
        time.sleep(0.002)
    assert not any(emu.servo(i).torque_enabled for i in range(1, 7))


def test_leader_is_read_only_and_model_numbers_are_checked() -> None:
    emu = _emulator(KOCH_LEADER)
    try:
        with FeetechRobot(KOCH_LEADER, emu.port, nominal_calibration(KOCH_LEADER), bus_timeout_s=SLOW) as leader:
            assert leader.read_only and leader.get_observation()[JOINT_POS].shape == (6,)
            with pytest.raises(ActionError):
                leader.send_action(np.zeros(6, np.float32))
        # a leader bus where the follower is expected: the model numbers disagree
        with pytest.raises(ModelMismatchError, match="model 1190, expected model 1060"):
            with FeetechRobot(KOCH_FOLLOWER, emu.port, nominal_calibration(KOCH_FOLLOWER), bus_timeout_s=SLOW):
                pass
    finally:
        emu.stop()


def test_centering_homing_offsets_uses_the_dynamixel_sign() -> None:
    # Dynamixel: present = actual + offset (Feetech: actual - offset)
    assert homing_offset_for(3000, 0, sign=+1) == 2048 - 3000 and homing_offset_for(3000, 0) == 3000 - 2048
    servos = [ServoConfig(i, "xl330-m288", 2048 + 300 * i) for i in range(1, 7)]
    with Emulator(EmulatorConfig(servos=servos)) as emu:
        with DynamixelBus(emu.port, table=XL330_M288, timeout_s=SLOW) as bus:
            _offsets, zero = center_homing_offsets(bus, KOCH_LEADER)
            assert zero.tolist() == [2048] * 6


def test_emulate_names_koch_buses() -> None:
    assert model_and_role("koch_leader", "follower") == ("koch", "leader")
    assert model_and_role("koch", "leader") == ("koch", "leader")
    cfg = emulator_config(Config(robot="koch_leader", link=""))
    assert {s.model for s in cfg.servos} == {"xl330-m077"}
    with pytest.raises(ConfigError, match="koch_leader"):
        model_and_role("koch_lead", "follower")
