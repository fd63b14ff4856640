"""The Homunculus calibration file, in the style of the servo calibration file: readable JSON, versioned,
validated on load with errors naming the file, the key and what is valid.

Layout (``version`` 1)::

    {"version": 1, "device": "homunculus_glove", "side": "right", "name": "default",
     "created": "2026-11-30T16:00:00+00:00",
     "sensors": {"thumb_cmc": {"rest": 1790, "low": 1785, "high": 1853, "sign": 1}, ...}}

Default location: ``$TWINARM_HOME/calibration/<device>_<side>_<name>.json`` (``~/.cache/twinarm`` without it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twinarm.hardware.calibration_file import now_iso, twinarm_home
from twinarm.hardware.homunculus.calibration import (
    DEVICE_CALIBRATION_VERSION,
    SIDES,
    DeviceCalibration,
    SensorCalibration,
)
from twinarm.hardware.homunculus.errors import DeviceCalibrationError
from twinarm.hardware.homunculus.stream import ANGLE_TURN, DEVICES, SensorKind
from twinarm.robot.files import read_json_file, write_json_atomic


def default_device_path(device: str, side: str, name: str = "default") -> Path:
    return twinarm_home() / "calibration" / f"{device}_{side}_{name}.json"


def to_dict(cal: DeviceCalibration) -> dict[str, Any]:
    return {
        "version": cal.version,
        "device": cal.device,
        "side": cal.side,
        "name": cal.name,
        "created": cal.created or now_iso(),
        "sensors": {s.name: {"rest": s.rest, "low": s.low, "high": s.high, "sign": s.sign} for s in cal.sensors},
    }


def save_device_calibration(cal: DeviceCalibration, path: str | Path) -> Path:
    """Validate ``cal`` and write it atomically to ``path``; returns the path."""
    data = to_dict(cal)
    from_dict(data, source=str(path))  # never write what we would refuse to read
    return write_json_atomic(data, Path(path))


def load_device_calibration(path: str | Path, device: str | None = None) -> DeviceCalibration:
    """Read and validate a file; ``device`` (e.g. ``homunculus_glove``) must match when given."""
    path = Path(path)
    hint = f"record one with `twinarm calibrate-device` (default location {twinarm_home() / 'calibration'})"
    data = read_json_file(path, DeviceCalibrationError, hint, what="calibration file")
    cal = from_dict(data, source=str(path))
    if device is not None and cal.device != device:
        raise DeviceCalibrationError(f"calibration file {path}: key 'device' is {cal.device!r}, expected {device!r}")
    return cal


def from_dict(data: Any, source: str = "calibration") -> DeviceCalibration:
    """Build and validate a :class:`DeviceCalibration`; errors name ``source`` and the key."""
    if not isinstance(data, dict):
        raise DeviceCalibrationError(f"{source}: top level must be a JSON object, got {type(data).__name__}")
    for key in ("version", "device", "side", "name", "sensors"):
        if key not in data:
            raise DeviceCalibrationError(f"{source}: missing key {key!r}")
    if data["version"] != DEVICE_CALIBRATION_VERSION:
        raise DeviceCalibrationError(
            f"{source}: key 'version' is {data['version']!r}; this twinarm reads version "
            f"{DEVICE_CALIBRATION_VERSION} (re-run `twinarm calibrate-device`)"
        )
    spec = DEVICES.get(data["device"])
    if spec is None:
        raise DeviceCalibrationError(f"{source}: key 'device' is {data['device']!r}; valid: {', '.join(DEVICES)}")
    if data["side"] not in SIDES:
        raise DeviceCalibrationError(f"{source}: key 'side' is {data['side']!r}; valid: {', '.join(SIDES)}")
    if not isinstance(data["name"], str) or not data["name"]:
        raise DeviceCalibrationError(f"{source}: key 'name' must be a non-empty string, got {data['name']!r}")
    sensors = data["sensors"]
    if not isinstance(sensors, dict) or sorted(sensors) != sorted(spec.sensor_names):
        have = sorted(sensors) if isinstance(sensors, dict) else sensors
        raise DeviceCalibrationError(
            f"{source}: key 'sensors' has {have}; expected exactly the sensors of {spec.name}: "
            f"{list(spec.sensor_names)}"
        )
    out = []
    for s in spec.sensors:
        where, entry = f"{source}: sensors.{s.name}", sensors[s.name]
        if not isinstance(entry, dict):
            raise DeviceCalibrationError(f"{where}: must be an object, got {type(entry).__name__}")
        for key in ("rest", "low", "high", "sign"):
            v = entry.get(key)
            if isinstance(v, bool) or not isinstance(v, int):
                raise DeviceCalibrationError(f"{where}.{key}: must be an integer, got {v!r}")
        rest, low, high, sign = entry["rest"], entry["low"], entry["high"], entry["sign"]
        top = ANGLE_TURN if s.kind is SensorKind.ANGLE else 4095
        span_ok = high - low <= (ANGLE_TURN if s.kind is SensorKind.ANGLE else 4095)
        checks = [
            ("rest", 0 <= rest <= top, f"0..{top}"),
            ("low", low <= rest, f"<= rest {rest}"),
            ("high", high >= rest and high > low and span_ok, f">= rest {rest}, > low {low}, high - low <= {top}"),
            ("sign", sign in (1, -1), "+1 or -1"),
        ]
        for key, ok, valid in checks:
            if not ok:
                raise DeviceCalibrationError(f"{where}.{key}: {entry[key]!r} is invalid; valid: {valid}")
        out.append(SensorCalibration(s.name, rest, low, high, sign))
    return DeviceCalibration(spec.name, data["side"], data["name"], tuple(out), str(data.get("created", "")))
