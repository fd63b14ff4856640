"""The HopeJR arm's bus as data: one Feetech bus of three servo models, two published builds, configured on connect
as LeRobot's hope_jr_arm leaves it; `twinarm calibrate robot=hopejr_arm` records it on its emulator."""

from __future__ import annotations

import time

import numpy as np
import pytest

from twinarm.cli import cmd_calibrate
from twinarm.compose.registry import get_model
from twinarm.hardware.buses import bus_for
from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator import Emulator, EmulatorConfig, servos_for
from twinarm.hardware.errors import ModelMismatchError
from twinarm.hardware.feetech.tables import SM8512BL, STS3215, STS3250, table_for
from twinarm.hardware.hopejr_arm import (
    HOPEJR_ARM_BUILD,
    HOPEJR_ARM_FOLLOWER,
    HOPEJR_ARM_FOLLOWERS,
    HOPEJR_ARM_P_GAIN,
    hopejr_arm_follower,
)
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.check import check_robot
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import HOPEJR_ARM
from twinarm.robot.spec import JOINT_POS

SLOW = 0.2  # [s] reply deadline: generous, the 2 test cores are shared by many processes
OFFSETS = (0, 40, -30, 300, 20, -25, 35)  # [ticks] inside every joint range (elbow_flex's starts at 0)


def test_the_two_builds_are_motor_mixes_of_one_sts_table() -> None:
    bom, lerobot = HOPEJR_ARM_FOLLOWERS["bom"], HOPEJR_ARM_FOLLOWERS["lerobot"]
    assert bom.model_numbers == {1: 11272, 2: 2825, 3: 777, 4: 2825, 5: 777, 6: 777, 7: 777}  # HOPEJr Arm/BOM.md
    assert lerobot.model_numbers == {1: 11272} | dict.fromkeys(range(2, 8), 2825)  # lerobot hope_jr_arm
    assert HOPEJR_ARM_FOLLOWER is HOPEJR_ARM_FOLLOWERS[HOPEJR_ARM_BUILD] is get_model("hopejr_arm").bus()
    assert bom.motor_names == HOPEJR_ARM.joint_names and bom.ids == tuple(range(1, 8)) and bom.gripper_joint is None
    for model in (SM8512BL, STS3250):  # same addresses, resolution and byte order as the STS3215: only the number
        assert model.registers == STS3215.registers and model.resolution == 4096
    assert table_for(11272) is SM8512BL and table_for("sm8512bl") is SM8512BL
    with pytest.raises(ConfigError, match="valid builds: bom, lerobot"):
        hopejr_arm_follower("v2")


def _emulator(desc, offsets=OFFSETS) -> Emulator:
    emu = Emulator(EmulatorConfig(servos=servos_for(desc, offsets))).start()
    with bus_for(desc, emu.port, timeout_s=SLOW) as bus:
        write_calibration(bus, nominal_calibration(desc))
    return emu


def test_follower_is_configured_and_moves_in_sim_radians() -> None:
    desc = HOPEJR_ARM_FOLLOWER
    emu = _emulator(desc)
    try:
        robot = FeetechRobot(desc, emu.port, nominal_calibration(desc), bus_timeout_s=SLOW)
        with robot:
            assert {emu.servo(i).get(STS3215.P_COEFFICIENT) for i in desc.ids} == {HOPEJR_ARM_P_GAIN}
            assert {emu.servo(i).get(STS3215["Return_Delay_Time"]) for i in desc.ids} == {0}
            q0 = robot.get_observation()[JOINT_POS]
            np.testing.assert_allclose(q0, np.array(OFFSETS) * 2 * np.pi / 4096, atol=1e-3)  # tick 2048 = zero
        assert check_robot(robot, allow_motion=True).motion_checked
    finally:
        emu.stop()


def test_the_other_build_is_refused_naming_the_servo() -> None:
    emu = _emulator(HOPEJR_ARM_FOLLOWERS["bom"])
    try:
        lerobot = HOPEJR_ARM_FOLLOWERS["lerobot"]
        robot = FeetechRobot(lerobot, emu.port, nominal_calibration(lerobot), bus_timeout_s=SLOW)
        with pytest.raises(ModelMismatchError, match="servo 3 is model 777, expected model 2825"):
            robot.connect()
    finally:
        emu.stop()


def test_calibrate_command_records_the_hopejr_arm_on_its_emulator(tmp_path) -> None:
    per_rad = 4096 / (2 * np.pi)
    sweep = [(2048 + round(j.lower * per_rad) - 10, 2048 + round(j.upper * per_rad) + 10) for j in HOPEJR_ARM.joints]
    with Emulator(EmulatorConfig(servos=servos_for(HOPEJR_ARM_FOLLOWER))) as emu:
        start = {s.id: s.actual for s in emu.servos}

        def hold(servo_id: int, present: int) -> None:  # until the sampler has read the bus once more
            emu.set_position(servo_id, start[servo_id] + present - 2048)
            goal, deadline = emu.stats.requests + 1, time.monotonic() + 2.0
            while emu.stats.requests < goal and time.monotonic() < deadline:
                time.sleep(0.001)

        def ask(prompt: str) -> str:  # the operator: arm hanging (zero pose), each joint to both stops and back
            if prompt == "":
                for servo_id, (lo, hi) in enumerate(sweep, start=1):
                    path = np.concatenate([np.linspace(2048, lo, 4), np.linspace(lo, hi, 8), np.linspace(hi, 2048, 4)])
                    for present in path.round():
                        hold(servo_id, int(present))
            return "y" if "[" in prompt else ""

        cfg = cmd_calibrate.Config(robot="hopejr_arm", port=emu.port, path=str(tmp_path / "cal.json"), sweep_hz=1000.0)
        lines: list[str] = []
        cal = cmd_calibrate.run(cfg, ask=ask, out=lines.append, live=False)
        assert "palm facing the body" in "\n".join(lines)  # the zero pose is explained
        assert [(m.range_min_tick, m.range_max_tick) for m in cal.motors] == sweep
        assert {m.zero_tick for m in cal.motors} == {2048}
        robot = FeetechRobot(HOPEJR_ARM_FOLLOWER, emu.port, cal, bus_timeout_s=SLOW)
        assert check_robot(robot, allow_motion=True).motion_checked
