"""Homunculus glove / exo: the line codec, calibration (recorder, file) and the sensor -> joint scaling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from twinarm.hardware.homunculus.calibration import RangeRecorder, deltas, positions, scale_of
from twinarm.hardware.homunculus.calibration_file import load_device_calibration, save_device_calibration
from twinarm.hardware.homunculus.errors import DeviceCalibrationError, LineFormatError
from twinarm.hardware.homunculus.joint_map import EXO_TO_HOPEJR_ARM, GLOVE_TO_HOPEJR_HAND, JointScaler, Link
from twinarm.hardware.homunculus.motion import nominal_calibration, readings
from twinarm.hardware.homunculus.stream import EXO, GLOVE, angle_field, format_line, pair_for_angle, parse_line
from twinarm.robot import ConfigError, JointSpec


def test_lines_are_byte_for_byte_the_firmwares() -> None:
    glove = format_line(GLOVE, np.arange(1000, 1016))
    assert glove == b" ".join(str(v).encode() for v in range(1000, 1016)) + b" \r\n"  # print(v); print(' ') x16
    exo = format_line(EXO, np.r_[np.arange(16), [0, 900, 1800, 2700, 3600]])
    assert exo == b"0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0 900 1800 2700 3600\r\n"  # no space before \r\n
    np.testing.assert_array_equal(parse_line(GLOVE, glove), np.arange(1000, 1016))
    np.testing.assert_array_equal(parse_line(EXO, exo)[16:], [0, 900, 1800, 2700, 3600])


@pytest.mark.parametrize(
    ("line", "match"),
    [
        (b"1 2 3\r\n", "3 fields"),
        (b"1 2 3 4 5 6 7 8 9 10 11 12 13 14 1x 16 \r\n", "not a decimal"),
        (b"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 4096 \r\n", "outside 0..4095"),
        (b"\xff\xfe 2\r\n", "non-ASCII"),
    ],
)
def test_bad_lines_say_what_is_wrong_and_quote_the_line(line: bytes, match: str) -> None:
    with pytest.raises(LineFormatError, match=match) as info:
        parse_line(GLOVE, line)
    assert repr(line)[2:12] in str(info.value)


@pytest.mark.parametrize("pair", [0, 1])  # pair 1 is read flipped by the firmware
@pytest.mark.parametrize("tenths", [0.0, 1.0, 450.0, 1799.0, 2222.0, 3599.0])
def test_emulated_sin_cos_pair_reads_back_as_its_angle(pair: int, tenths: float) -> None:
    got = angle_field(EXO, pair, *pair_for_angle(EXO, pair, tenths))
    assert min(abs(got - tenths), 3600 - abs(got - tenths)) <= 1


def _sweep(rec: RangeRecorder, rest: np.ndarray, ends: list[np.ndarray]) -> None:
    rec.rest(rest)
    for end in ends:
        for a in np.linspace(0, 1, 11):
            rec.add(rest + a * (end - rest))


def test_recorder_finds_one_sided_directions_and_applies_side_inversions() -> None:
    rest = np.full(16, 2000.0)
    down = rest.copy()
    down[1] = 1400  # thumb_mcp: counts fall as it flexes
    up = rest + 300
    up[1] = 2000
    for side, abd_sign in (("right", 1), ("left", -1)):
        rec = RangeRecorder(GLOVE, side, inverted=("index_mcp_abduction",))
        _sweep(rec, rest, [up, down, rest - 250])
        cal = {c.name: c for c in rec.result().sensors}
        assert cal["thumb_cmc"].sign == 1 and cal["thumb_mcp"].sign == -1  # the sweep decides one-sided sensors
        assert cal["middle_mcp_abduction"].sign == abd_sign  # two-sided: data (mirrored on the left)
        assert cal["index_mcp_abduction"].sign == -abd_sign  # plus the user's inversion
        assert (cal["thumb_mcp"].low, cal["thumb_mcp"].rest, cal["thumb_mcp"].high) == (1400, 2000, 2000)


def test_recorder_names_the_sensors_that_did_not_move() -> None:
    rec = RangeRecorder(GLOVE, "right")
    end = np.full(16, 2500.0)
    end[[3, 7]] = 2000  # thumb_dip, middle_mcp_abduction never moved
    _sweep(rec, np.full(16, 2000.0), [end])
    with pytest.raises(DeviceCalibrationError, match=r"\['thumb_dip', 'middle_mcp_abduction'\]"):
        rec.result()


def test_an_angle_range_across_the_wrap_is_unwrapped_around_rest() -> None:
    rec = RangeRecorder(EXO, "right")
    rest = np.array([3400, 3400, 3400, 3400, 3400, 2000, 2000], dtype=float)
    rec.rest(rest)
    for tenths in (3400, 3599, 0, 300, 700, 3000, 2500):  # +90 deg through the wrap, -90 deg
        rec.add(np.r_[np.full(5, tenths), [2100, 1900]])
    cal = rec.result()
    assert (cal.sensors[0].low, cal.sensors[0].high) == (2500, 4300)
    p = positions(scale_of(cal), deltas(EXO, cal, np.r_[np.full(5, 700), [2100, 1900]]))
    np.testing.assert_allclose(p, [1, 1, 1, 1, 1, 1, -1])
    p = positions(scale_of(cal), deltas(EXO, cal, np.r_[np.full(5, 50), [2050, 2000]]))
    np.testing.assert_allclose(p[:5], 250 / 900)  # 5.0 deg is 25 deg past rest (340 deg)


@pytest.mark.parametrize("spec", [GLOVE, EXO])
def test_readings_are_the_inverse_of_positions(spec) -> None:
    cal = nominal_calibration(spec)
    signed = np.linspace(-1, 1, len(spec.sensors))
    one_sided = np.array([s.travel.value == "one_sided" for s in spec.sensors])
    signed = np.where(one_sided, np.abs(signed), signed)
    got = positions(scale_of(cal), deltas(spec, cal, readings(spec, cal, signed)))
    np.testing.assert_allclose(got, signed, atol=1e-9)


def test_calibration_file_round_trips_and_rejects_bad_entries(tmp_path) -> None:
    cal = nominal_calibration(EXO, "left")._replace(name="black")
    path = save_device_calibration(cal, tmp_path / "exo.json")
    back = load_device_calibration(path, device="homunculus_exo")
    assert back._replace(created="") == cal._replace(created="")
    with pytest.raises(DeviceCalibrationError, match="expected 'homunculus_glove'"):
        load_device_calibration(path, device="homunculus_glove")
    data = json.loads(path.read_text())
    data["sensors"]["elbow_flex"]["sign"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(DeviceCalibrationError, match=r"sensors\.elbow_flex\.sign: 0 is invalid; valid: \+1 or -1"):
        load_device_calibration(path)
    del data["sensors"]["elbow_flex"]
    path.write_text(json.dumps(data))
    with pytest.raises(DeviceCalibrationError, match="expected exactly the sensors"):
        load_device_calibration(path)
    data["version"] = 9
    path.write_text(json.dumps(data))
    with pytest.raises(DeviceCalibrationError, match="'version' is 9"):
        load_device_calibration(path)


def test_maps_name_only_the_fixed_hopejr_joints() -> None:
    assert GLOVE_TO_HOPEJR_HAND.joint_names[:7] == (
        "thumb_cmc", "thumb_mcp", "thumb_pip", "thumb_dip", "index_mcp_flex", "index_mcp_abd", "index_pip",
    )  # fmt: skip
    assert len(set(GLOVE_TO_HOPEJR_HAND.joint_names)) == 16
    assert set(EXO_TO_HOPEJR_ARM.joint_names) == {
        "shoulder_pitch", "shoulder_yaw", "shoulder_roll", "elbow_flex", "wrist_roll", "wrist_yaw", "wrist_pitch",
    }  # fmt: skip


def test_scaler_fills_the_joint_range_from_rest_and_clips() -> None:
    joints = [JointSpec("elbow_flex", -0.2, 2.0, 1.0), JointSpec("wrist_yaw", -1.0, 0.5, 1.0), JointSpec("x", 0, 1, 1)]
    scaler = JointScaler(EXO_TO_HOPEJR_ARM, joints)
    assert scaler.joint_names == ("elbow_flex", "wrist_yaw")
    signed = np.zeros(7)
    for p, want in ((1.0, (2.0, 0.5)), (-1.0, (-0.2, -1.0)), (0.5, (1.0, 0.25)), (0.0, (0.0, 0.0))):
        signed[[3, 5]] = p
        np.testing.assert_allclose(scaler(signed), want)
    dmap = EXO_TO_HOPEJR_ARM._replace(links=(Link("elbow_flex", "elbow_flex", (-0.1, 3.0)),))
    signed[3] = 1.0
    np.testing.assert_allclose(JointScaler(dmap, joints)(signed), [2.0])  # a wider range is clipped to the limit
    with pytest.raises(ConfigError, match="use it with hopejr_hand"):
        JointScaler(GLOVE_TO_HOPEJR_HAND, joints)


def test_calibrate_device_records_the_emulated_glove_close_to_its_own_calibration(tmp_path) -> None:
    from twinarm.cli.cmd_calibrate_device import Config, run

    prompts: list[str] = []
    # the emulator holds rest 0.5 s, eases in over 0.5 s, then 1 Hz sinusoids: the sweep covers > 1 period
    cfg = Config(port="emulator", output=str(tmp_path / "g.json"), sweep_s=2.3, rest_s=0.1)
    cal = run(cfg, ask=prompts.append, out=lambda line: None, live=False)
    assert prompts and "rest pose" in prompts[0]
    nominal = nominal_calibration(GLOVE)
    assert load_device_calibration(tmp_path / "g.json")._replace(created="") == cal._replace(created="")
    for got, want in zip(cal.sensors, nominal.sensors):
        assert got.sign == want.sign and abs(got.rest - want.rest) <= 2, (got, want)
        assert abs(got.low - want.low) <= 15 and abs(got.high - want.high) <= 15, (got, want)
