"""Calibration math: ticks <-> radians round trips (sign, wrap-around, range mapping) and the range sweep."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinarm.hardware.calibration import (
    Calibration,
    CalibrationError,
    MotorCalibration,
    RangeSweep,
    homing_offset_for,
    joint_calibration,
    range_mapped_calibration,
)
from twinarm.hardware.calibration_io import compare_eeprom

TICK = 2 * math.pi / 4096


def cal_of(*motors: MotorCalibration) -> Calibration:
    return Calibration("so101", "follower", "test", tuple(motors))


def test_zero_pose_is_zero_and_one_tick_is_one_tick_of_angle() -> None:
    cal = cal_of(joint_calibration("a", 1, 1, 0, 2048, 1000, 3000), joint_calibration("b", 2, -1, 0, 2048, 1000, 3000))
    rad = cal.ticks.to_rad(np.array([2048, 2048]))
    assert rad.dtype == np.float32 and np.all(rad == 0)
    rad = cal.ticks.to_rad(np.array([2148, 2148]))
    np.testing.assert_allclose(rad, [100 * TICK, -100 * TICK], rtol=1e-6)  # drive_sign flips the angle
    np.testing.assert_array_equal(cal.ticks.to_ticks(rad), [2148, 2148])


def test_wrapping_range_is_continuous_across_4095_to_0() -> None:
    # range 3500 -> (wraps) -> 600, zero at 4000
    cal = cal_of(joint_calibration("a", 1, 1, 0, 4000, 3500, 600))
    ticks = np.array([3500, 4000, 4095, 0, 1, 600])
    rad = np.array([cal.ticks.to_rad(np.array([t]))[0] for t in ticks])
    np.testing.assert_allclose(rad, np.array([-500, 0, 95, 96, 97, 696]) * TICK, rtol=1e-6)
    assert np.all(np.diff(rad) > 0)
    back = [int(cal.ticks.to_ticks(np.array([r]))[0]) for r in rad]
    assert back == ticks.tolist()


def test_commands_clamp_to_calibrated_range_and_readings_beyond_it_go_to_nearer_end() -> None:
    cal = cal_of(joint_calibration("a", 1, 1, 0, 4000, 3500, 600))
    assert cal.ticks.to_ticks(np.array([10.0]))[0] == 600
    assert cal.ticks.to_ticks(np.array([-10.0]))[0] == 3500
    # slightly past either end reads as slightly past, not a turn away
    assert cal.ticks.to_rad(np.array([610]))[0] == pytest.approx(706 * TICK, rel=1e-6)
    assert cal.ticks.to_rad(np.array([3490]))[0] == pytest.approx(-510 * TICK, rel=1e-6)


def test_rounding_is_half_to_even() -> None:
    cal = cal_of(joint_calibration("a", 1, 1, 0, 2048, 0, 4095))
    half_ticks = np.array([0.5, 1.5, 2.5]) * TICK
    np.testing.assert_array_equal([cal.ticks.to_ticks(np.array([h]))[0] for h in half_ticks], [2048, 2050, 2050])


@given(
    zero=st.integers(0, 4095),
    below=st.integers(1, 2000),
    above=st.integers(1, 2000),
    sign=st.sampled_from([1, -1]),
    frac=st.floats(0, 1),
)
def test_round_trip_ticks_rad_ticks(zero: int, below: int, above: int, sign: int, frac: float) -> None:
    lo, hi = (zero - below) % 4096, (zero + above) % 4096
    cal = cal_of(joint_calibration("a", 1, sign, 0, zero, lo, hi))
    tick = (lo + round(frac * (below + above))) % 4096
    rad = cal.ticks.to_rad(np.array([tick]))
    assert cal.ticks.to_ticks(rad)[0] == tick
    expect = sign * (round(frac * (below + above)) - below) * TICK
    assert rad[0] == pytest.approx(expect, abs=1e-5)


@pytest.mark.parametrize("sign", [1, -1])
@pytest.mark.parametrize(("lo", "hi"), [(1800, 3100), (3600, 800)])
def test_range_mapped_gripper_ends_hit_the_joint_limits(sign: int, lo: int, hi: int) -> None:
    lower, upper = -0.174533, 1.7453292
    m = range_mapped_calibration("gripper", 6, sign, 0, lo, hi, lower, upper)
    cal = cal_of(m)
    ends = cal.ticks.to_rad(np.array([lo])), cal.ticks.to_rad(np.array([hi]))
    expected = (lower, upper) if sign > 0 else (upper, lower)
    assert ends[0][0] == pytest.approx(expected[0], abs=1e-5)
    assert ends[1][0] == pytest.approx(expected[1], abs=1e-5)
    assert cal.ticks.to_ticks(np.array([lower]))[0] == (lo if sign > 0 else hi)
    assert cal.ticks.to_ticks(np.array([0.0]))[0] == round(m.zero_tick) % 4096


def test_velocity_uses_sign_and_scale() -> None:
    cal = cal_of(joint_calibration("a", 1, -1, 0, 2048, 0, 4095))
    assert cal.ticks.velocity_to_rad(np.array([4096]))[0] == pytest.approx(-2 * math.pi)


def test_sweep_tracks_min_max_and_middle() -> None:
    sweep = RangeSweep(np.array([2048, 2048]))
    for t in ([1500, 2100], [1000, 2500], [2000, 3000], [3100, 2048]):
        sweep.update(np.array(t))
    a, b = sweep.results()
    assert (a.min_tick, a.max_tick, a.mid_tick, a.span_ticks) == (1000, 3100, 2050, 2100)
    assert (b.min_tick, b.max_tick) == (2048, 3000)


def test_sweep_unwraps_across_4095_to_0() -> None:
    sweep = RangeSweep(np.array([4000]))
    for t in (4090, 10, 300, 50, 3900, 3800):
        sweep.update(np.array([t]))
    (r,) = sweep.results()
    assert (r.min_tick, r.max_tick, r.span_ticks) == (3800, 300, 596)
    assert r.mid_tick == (3800 + 298) % 4096


def test_sweep_of_a_full_turn_is_rejected() -> None:
    sweep = RangeSweep(np.array([0]))
    for t in range(0, 4096 + 1024, 1000):
        sweep.update(np.array([t % 4096]))
    with pytest.raises(CalibrationError, match="full turn"):
        sweep.results()


def test_homing_offset_centres_the_pose_at_half_a_turn() -> None:
    # present = actual - offset: the pose must then read 2048
    for actual, old in ((100, 0), (3000, 0), (2048, 0), (500, 300)):
        present = (actual - old) % 4096
        new = homing_offset_for(present, old)
        assert -2047 <= new <= 2047
        assert (actual - new) % 4096 == 2048 or abs(new) == 2047


def test_eeprom_mismatch_is_structured() -> None:
    m = joint_calibration("elbow_flex", 3, 1, -25, 2048, 900, 3100)
    wrap = joint_calibration("wrist_roll", 5, 1, 0, 100, 3000, 1000)
    cal = cal_of(m, wrap)
    servo = {
        3: {"homing_offset": -25, "min_position_limit": 900, "max_position_limit": 3100},
        5: {"homing_offset": 7, "min_position_limit": 0, "max_position_limit": 4095},
    }
    assert compare_eeprom(cal, {3: servo[3]}) == []
    (mm,) = compare_eeprom(cal, servo)
    assert (mm.joint, mm.id, mm.register, mm.file_value, mm.servo_value) == ("wrist_roll", 5, "homing_offset", 0, 7)
