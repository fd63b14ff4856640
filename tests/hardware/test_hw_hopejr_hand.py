"""The HopeJR hand's bus description: per-servo one-sided travel in its calibration and the motor-space clip."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from twinarm.hardware.calibration_io import nominal_calibration, nominal_zero_offsets, travel_calibration
from twinarm.hardware.hopejr_hand import HOPEJR_HAND_DESC
from twinarm.hardware.joint_map import JointMap
from twinarm.robot import hopejr_hand as data
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import HOPEJR_HAND

TICKS_PER_RAD = 1024 / np.deg2rad(300.0)  # SCS0009


def test_bus_is_16_scs0009_ids_1_to_16_at_1_mbaud_in_lerobots_order() -> None:
    assert HOPEJR_HAND_DESC.ids == tuple(range(1, 17)) and HOPEJR_HAND_DESC.baudrate == 1_000_000
    assert HOPEJR_HAND_DESC.motor_names[:4] == ("thumb_cmc", "thumb_mcp", "thumb_pip", "thumb_dip")
    assert HOPEJR_HAND_DESC.motor_names[4:7] == ("index_radial_flexor", "index_ulnar_flexor", "index_pip_dip")
    assert not HOPEJR_HAND_DESC.table.supports_sync_read  # SCS: read one by one


def test_nominal_calibration_centres_each_one_sided_travel_on_the_scale() -> None:
    cal = nominal_calibration(HOPEJR_HAND_DESC)
    lo, hi = JointMap(cal).travel_lo, JointMap(cal).travel_hi
    for k, (t_lo, t_hi) in enumerate(data.SERVO_TRAVEL):
        assert lo[k] == pytest.approx(t_lo, abs=2 / TICKS_PER_RAD) and hi[k] == pytest.approx(
            t_hi, abs=2 / TICKS_PER_RAD
        )
    offsets = nominal_zero_offsets(HOPEJR_HAND_DESC)
    assert [m.zero_tick - 511 for m in cal.motors] == list(offsets)
    assert offsets[6] < offsets[4] < 0  # the PIP servo winds furthest one way: its zero sits lowest


def test_a_zero_near_the_scale_end_clips_that_servo_and_the_joint_target_reports_it() -> None:
    zeros = [511 + d for d in nominal_zero_offsets(HOPEJR_HAND_DESC)]
    pip = data.SERVOS.index("index_pip_dip")
    zeros[pip] = 900  # assembled with the flat hand near the end of the horn's travel: (1023 - 900) ticks left
    cal = travel_calibration(HOPEJR_HAND_DESC, "t", zeros)
    jm = JointMap(cal, HOPEJR_HAND_DESC.transmission)
    target = np.zeros(16, np.float32)
    target[HOPEJR_HAND.joint_index("index_pip")] = 1.2  # inside the joint limit, beyond that servo's travel
    cmd = jm.command(target, HOPEJR_HAND.lower, HOPEJR_HAND.upper)
    assert cmd.ticks[pip] == 1023
    sent = cmd.joint[HOPEJR_HAND.joint_index("index_pip")]
    expected = (1023 - 900) / TICKS_PER_RAD * data.SPOOL_RADIUS / (2 * data.PIP_ARM)  # spool -> PIP and DIP
    assert sent == pytest.approx(expected, rel=0.01) and sent < 1.2
    mask = np.ones(16, bool)
    mask[HOPEJR_HAND.joint_index("index_pip")] = False
    np.testing.assert_allclose(cmd.joint[mask], 0.0, atol=1e-6)  # the other joints are untouched


def test_an_inverted_servo_mirrors_its_tick_range() -> None:
    zeros = [511] * 16
    signs = [1] * 16
    signs[6] = -1
    cal = travel_calibration(HOPEJR_HAND_DESC, "t", zeros, signs)
    m = cal.motors[6]
    lo, hi = data.SERVO_TRAVEL[6]
    assert m.range_min_tick == max(0, int(np.floor(511 - hi * TICKS_PER_RAD)))
    assert m.range_max_tick == int(np.ceil(511 - lo * TICKS_PER_RAD))


def test_a_travel_without_zero_inside_is_refused() -> None:
    bad = ((0.1, 1.0), *data.SERVO_TRAVEL[1:])
    with pytest.raises(ConfigError, match="motor_travel_rad"):
        dataclasses.replace(HOPEJR_HAND_DESC, motor_travel_rad=bad)


def test_calibrate_command_records_the_flat_hand_and_the_hand_then_reads_zero(tmp_path) -> None:
    from twinarm.cli import cmd_calibrate
    from twinarm.hardware.emulator import Emulator, EmulatorConfig, servos_for
    from twinarm.hardware.robots import FeetechRobot
    from twinarm.robot.check import check_robot
    from twinarm.robot.spec import JOINT_POS

    flat = [300 + 7 * k for k in range(16)]  # the ticks the servos read with the hand held flat
    with Emulator(EmulatorConfig(servos=servos_for(HOPEJR_HAND_DESC))) as emu:
        for servo_id, tick in zip(range(1, 17), flat):
            emu.set_position(servo_id, tick)
        cfg = cmd_calibrate.Config(robot="hopejr_hand", port=emu.port, path=str(tmp_path / "cal.json"))
        cal = cmd_calibrate.run(cfg, ask=lambda prompt: "", out=lambda _: None)
        assert [m.zero_tick for m in cal.motors] == flat
        pip = data.SERVOS.index("index_pip_dip")
        assert cal.motors[pip].range_max_tick == min(
            1023, int(np.ceil(flat[pip] + data.SERVO_TRAVEL[pip][1] * TICKS_PER_RAD))
        )
        robot = FeetechRobot(HOPEJR_HAND_DESC, emu.port, cal)
        with robot:
            np.testing.assert_allclose(robot.get_observation()[JOINT_POS], 0.0, atol=1e-6)  # flat reads zero
        check_robot(FeetechRobot(HOPEJR_HAND_DESC, emu.port, cal), allow_motion=True)
