"""Calibration file: save/load round trip, default location, and validation errors naming file and key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from twinarm.hardware.calibration import Calibration, CalibrationError, joint_calibration, range_mapped_calibration
from twinarm.hardware.calibration_file import default_path, load_calibration, save_calibration, to_dict
from twinarm.robot.models import SO101


def so101_calibration() -> Calibration:
    motors = [joint_calibration(j, i + 1, 1, -10 * i, 2048, 1000, 3100) for i, j in enumerate(SO101.joint_names[:5])]
    motors.append(range_mapped_calibration("gripper", 6, 1, 5, 2000, 3300, -0.174533, 1.7453292))
    return Calibration("so101", "follower", "lab", tuple(motors), created="2025-01-01T00:00:00+00:00")


def test_round_trip(tmp_path: Path) -> None:
    cal = so101_calibration()
    path = save_calibration(cal, tmp_path / "sub" / "c.json")
    data = json.loads(path.read_text())
    assert data["version"] == 1 and data["model"] == "so101" and list(data["joints"]) == list(SO101.joint_names)
    back = load_calibration(path, joints=SO101.joint_names, model="so101")
    assert back.joint_names == SO101.joint_names
    ticks = np.array([1500, 2048, 3000, 2500, 1100, 2600])
    np.testing.assert_allclose(back.ticks.to_rad(ticks), cal.ticks.to_rad(ticks), atol=1e-6)


def test_load_reorders_to_spec(tmp_path: Path) -> None:
    cal = so101_calibration()
    shuffled = Calibration(cal.model, cal.role, cal.name, cal.motors[::-1], cal.created)
    path = save_calibration(shuffled, tmp_path / "c.json")
    assert load_calibration(path, joints=SO101.joint_names).joint_names == SO101.joint_names


def test_default_path_honours_twinarm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINARM_HOME", str(tmp_path))
    assert default_path("so101", "leader", "lab") == tmp_path / "calibration" / "so101_leader_lab.json"
    monkeypatch.delenv("TWINARM_HOME")
    assert default_path("so101", "follower").parts[-4:] == (
        ".cache",
        "twinarm",
        "calibration",
        "so101_follower_default.json",
    )


def _write(tmp_path: Path, mutate) -> Path:
    data = to_dict(so101_calibration())
    mutate(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    return path


def _del_joint(d: dict) -> None:
    del d["joints"]["elbow_flex"]


def _set(*keys, value):
    def mutate(d: dict) -> None:
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (_del_joint, r"missing joints \['elbow_flex'\]"),
        (_set("version", value=2), r"'version' is 2"),
        (_set("role", value="boss"), r"valid roles: follower, leader"),
        (
            _set("joints", "wrist_flex", "range_max_tick", value=5000),
            r"joints.wrist_flex.range_max_tick: 5000.*0..4095",
        ),
        (_set("joints", "wrist_flex", "range_min_tick", value=-1), r"range_min_tick: -1"),
        (_set("joints", "wrist_flex", "range_max_tick", value=1000), r"joints.wrist_flex: empty range"),
        (_set("joints", "shoulder_pan", "drive_sign", value=0), r"shoulder_pan.drive_sign: 0.*\+1 or -1"),
        (_set("joints", "shoulder_pan", "id", value=2), r"servo ids \[2\]"),
        (_set("joints", "shoulder_pan", "id", value="1"), r"shoulder_pan.id: must be an integer"),
        (_set("joints", "shoulder_pan", "zero_tick", value=3500), r"shoulder_pan.zero_tick: 3500 lies outside"),
        (_set("joints", "shoulder_pan", "scale", value=0), r"shoulder_pan.scale"),
        (_set("joints", "shoulder_pan", "homing_offset", value=4000), r"homing_offset: 4000"),
    ],
)
def test_validation_errors_name_file_and_key(tmp_path: Path, mutate, match: str) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(CalibrationError, match=match) as info:
        load_calibration(path, joints=SO101.joint_names)
    assert "bad.json" in str(info.value)


def test_missing_key_and_bad_json_and_missing_file(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["joints"]["gripper"].pop("zero_tick"))
    with pytest.raises(CalibrationError, match=r"joints.gripper: missing key 'zero_tick'"):
        load_calibration(path)
    path.write_text("{not json")
    with pytest.raises(CalibrationError, match="not valid JSON"):
        load_calibration(path)
    with pytest.raises(CalibrationError, match=r"nowhere.json does not exist.*twinarm calibrate"):
        load_calibration(tmp_path / "nowhere.json")


def test_wrong_model_is_rejected(tmp_path: Path) -> None:
    path = save_calibration(so101_calibration(), tmp_path / "c.json")
    with pytest.raises(CalibrationError, match="'model' is 'so101', expected 'koch'"):
        load_calibration(path, model="koch")


def test_save_refuses_an_invalid_calibration(tmp_path: Path) -> None:
    cal = so101_calibration()
    bad = Calibration(cal.model, cal.role, cal.name, (cal.motors[0]._replace(range_max_tick=1000),))
    with pytest.raises(CalibrationError, match="empty range"):
        save_calibration(bad, tmp_path / "c.json")
    assert not (tmp_path / "c.json").exists()
