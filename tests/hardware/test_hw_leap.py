"""The LEAP Hand's bus as data: 16 XC330-M288 at 4 Mbaud, configured on connect as the LEAP Hand API does."""

from __future__ import annotations

import numpy as np

from twinarm.hardware.buses import bus_for
from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.dynamixel.tables import XC330_M288, OperatingMode
from twinarm.hardware.emulator import Emulator, EmulatorConfig, servos_for
from twinarm.hardware.leap import LEAP_CURRENT_LIMIT_MA, LEAP_HAND_DESC
from twinarm.hardware.robots import FeetechRobot
from twinarm.robot.check import check_robot
from twinarm.robot.spec import JOINT_POS

SLOW = 0.2  # [s] reply deadline: generous, the 2 test cores are shared by many processes
T = XC330_M288


def test_leap_hand_on_its_4_mbaud_emulator_passes_check_robot_and_is_configured() -> None:
    desc = LEAP_HAND_DESC
    assert desc.ids == tuple(range(16)) and desc.baudrate == 4_000_000
    cal = nominal_calibration(desc)
    offsets = [10 * (i % 5) - 20 for i in range(16)]
    with Emulator(EmulatorConfig(servos=servos_for(desc, offsets), baudrate=desc.baudrate)) as emu:
        with bus_for(desc, emu.port, timeout_s=SLOW) as bus:
            write_calibration(bus, cal)
        robot = FeetechRobot(desc, emu.port, cal, bus_timeout_s=SLOW)
        with robot:
            q = robot.get_observation()[JOINT_POS]
            assert np.allclose(q, np.array(offsets) * 2 * np.pi / 4096, atol=1e-3)  # tick 2048 = LEAPsim zero
            modes = {emu.servo(i).get(T.OPERATING_MODE) for i in range(16)}
            assert modes == {OperatingMode.CURRENT_BASED_POSITION}
            assert {emu.servo(i).get(T.GOAL_CURRENT) for i in range(16)} == {LEAP_CURRENT_LIMIT_MA}
            gains = [emu.servo(i).get(T.POSITION_P_GAIN) for i in range(16)]
            assert gains[0] == gains[4] == gains[8] == 450 and gains[1] == gains[12] == 600
        report = check_robot(robot, allow_motion=True)
        assert report.motion_checked


def test_calibrate_command_records_the_leap_hand_on_its_4_mbaud_emulator(tmp_path) -> None:
    import time

    from twinarm.cli import cmd_calibrate
    from twinarm.robot.models import LEAP_HAND

    per_rad = 4096 / (2 * np.pi)
    sweep = [(2048 + round(j.lower * per_rad), 2048 + round(j.upper * per_rad)) for j in LEAP_HAND.joints]
    with Emulator(EmulatorConfig(servos=servos_for(LEAP_HAND_DESC), baudrate=LEAP_HAND_DESC.baudrate)) as emu:
        start = {s.id: s.actual for s in emu.servos}

        def hold(servo_id: int, present: int) -> None:  # until the sampler has read the bus once more
            emu.set_position(servo_id, start[servo_id] + present - 2048)
            goal, deadline = emu.stats.requests + 1, time.monotonic() + 2.0
            while emu.stats.requests < goal and time.monotonic() < deadline:
                time.sleep(0.001)

        def ask(prompt: str) -> str:  # the operator: flat hand, each joint to both stops and back, then yes
            if prompt == "":
                for servo_id, (lo, hi) in enumerate(sweep):  # smoothly: a jump of half a turn reads as a wrap
                    path = np.concatenate([np.linspace(2048, lo, 4), np.linspace(lo, hi, 8), np.linspace(hi, 2048, 4)])
                    for present in path.round():
                        hold(servo_id, int(present))
            return "y" if "[" in prompt else ""

        cfg = cmd_calibrate.Config(robot="leap_hand", port=emu.port, path=str(tmp_path / "cal.json"), sweep_hz=1000.0)
        cal = cmd_calibrate.run(cfg, ask=ask, out=lambda _: None, live=False)
        assert [(m.range_min_tick, m.range_max_tick) for m in cal.motors] == sweep
        assert {m.zero_tick for m in cal.motors} == {2048}  # the flat hand = LEAPsim zero = motor 180 deg
        robot = FeetechRobot(LEAP_HAND_DESC, emu.port, cal, bus_timeout_s=SLOW)
        assert check_robot(robot, allow_motion=True).motion_checked
