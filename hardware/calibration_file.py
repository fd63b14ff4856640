"""The calibration file: readable JSON, validated on load with errors naming the file, the key and what is valid.

Layout (``version`` 1)::

    {"version": 1, "model": "so101", "role": "follower", "name": "default", "created": "2025-01-01T12:00:00+00:00",
     "joints": {"shoulder_pan": {"id": 1, "drive_sign": 1, "homing_offset": -12, "zero_tick": 2048,
                                 "range_min_tick": 760, "range_max_tick": 3340, "ticks_per_turn": 4096,
                                 "scale": 1.0}, ...}}

Default location: ``$TWINARM_HOME/calibration/<model>_<role>_<name>.json``, else
``~/.cache/twinarm/calibration/<model>_<role>_<name>.json``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Any

from twinarm.hardware.calibration import CALIBRATION_VERSION, ROLES, Calibration, CalibrationError, MotorCalibration
from twinarm.robot.files import read_json_file, write_json_atomic

HOME_ENV = "TWINARM_HOME"
_INT_KEYS = ("id", "drive_sign", "homing_offset", "range_min_tick", "range_max_tick")
_FLOAT_KEYS = ("zero_tick", "ticks_per_turn", "scale")  # ticks_per_turn: 4096 (STS3215), 1228.8 (SCS0009)
_OPTIONAL = {"ticks_per_turn": 4096, "scale": 1.0}


def twinarm_home() -> Path:
    """``$TWINARM_HOME`` if set, else ``~/.cache/twinarm``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "twinarm"


def default_path(model: str, role: str, name: str = "default") -> Path:
    """Where the calibration of robot ``name`` (model, role) lives by default."""
    return twinarm_home() / "calibration" / f"{model}_{role}_{name}.json"


def now_iso() -> str:
    """The current time as an ISO 8601 UTC timestamp (the ``created`` field)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def to_dict(cal: Calibration) -> dict[str, Any]:
    joints = {}
    for m in cal.motors:
        entry = m._asdict()
        del entry["joint"]
        for key in ("zero_tick", "ticks_per_turn"):
            value = float(entry[key])
            entry[key] = int(value) if value.is_integer() else value
        joints[m.joint] = entry
    return {
        "version": cal.version,
        "model": cal.model,
        "role": cal.role,
        "name": cal.name,
        "created": cal.created or now_iso(),
        "joints": joints,
    }


def save_calibration(cal: Calibration, path: str | Path) -> Path:
    """Validate ``cal`` and write it to ``path`` atomically (parent directories created); returns the path."""
    path = Path(path)
    data = to_dict(cal)
    from_dict(data, source=str(path))  # never write a file we would refuse to load
    return write_json_atomic(data, path)


def load_calibration(path: str | Path, joints: tuple[str, ...] | None = None, model: str | None = None) -> Calibration:
    """Read and validate a calibration file; with ``joints`` the motors come back in that order, all present."""
    path = Path(path)
    hint = f"record one with `twinarm calibrate` (default location {twinarm_home() / 'calibration'})"
    data = read_json_file(path, CalibrationError, hint, what="calibration file")
    cal = from_dict(data, source=str(path))
    if model is not None and cal.model != model:
        raise CalibrationError(f"calibration file {path}: key 'model' is {cal.model!r}, expected {model!r}")
    if joints is not None:
        cal = reorder(cal, joints, source=str(path))
    return cal


def reorder(cal: Calibration, joints: tuple[str, ...], source: str = "calibration") -> Calibration:
    """``cal`` with motors in the order of ``joints``; missing or extra joints raise naming them."""
    have = cal.joint_names
    missing = [j for j in joints if j not in have]
    extra = [j for j in have if j not in joints]
    if missing or extra:
        raise CalibrationError(
            f"{source}: key 'joints' has missing joints {missing} and unexpected joints {extra}; "
            f"expected exactly {list(joints)}"
        )
    by_name = {m.joint: m for m in cal.motors}
    return Calibration(cal.model, cal.role, cal.name, tuple(by_name[j] for j in joints), cal.created, cal.version)


def from_dict(data: Any, source: str = "calibration") -> Calibration:
    """Build and validate a :class:`Calibration` from parsed JSON; errors name ``source`` and the key."""
    if not isinstance(data, dict):
        raise CalibrationError(f"{source}: top level must be a JSON object, got {type(data).__name__}")
    for key in ("version", "model", "role", "name", "joints"):
        if key not in data:
            raise CalibrationError(f"{source}: missing key {key!r}")
    if data["version"] != CALIBRATION_VERSION:
        raise CalibrationError(
            f"{source}: key 'version' is {data['version']!r}; this twinarm reads version {CALIBRATION_VERSION} "
            "(re-run `twinarm calibrate`)"
        )
    for key in ("model", "name"):
        if not isinstance(data[key], str) or not data[key]:
            raise CalibrationError(f"{source}: key {key!r} must be a non-empty string, got {data[key]!r}")
    if data["role"] not in ROLES:
        raise CalibrationError(f"{source}: key 'role' is {data['role']!r}; valid roles: {', '.join(ROLES)}")
    joints = data["joints"]
    if not isinstance(joints, dict) or not joints:
        raise CalibrationError(f"{source}: key 'joints' must be a non-empty object of joint name -> entry")
    motors = tuple(_motor(name, entry, f"{source}: joints.{name}") for name, entry in joints.items())
    ids = [m.id for m in motors]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise CalibrationError(f"{source}: key 'joints': servo ids {dup} are used by more than one joint")
    return Calibration(
        model=data["model"],
        role=data["role"],
        name=data["name"],
        motors=motors,
        created=str(data.get("created", "")),
        version=data["version"],
    )


def _motor(name: str, entry: Any, where: str) -> MotorCalibration:
    if not isinstance(entry, dict):
        raise CalibrationError(f"{where}: must be an object, got {type(entry).__name__}")
    values: dict[str, Any] = {"joint": name}
    for key in _INT_KEYS + _FLOAT_KEYS:
        if key not in entry:
            if key in _OPTIONAL:
                values[key] = _OPTIONAL[key]
                continue
            raise CalibrationError(f"{where}: missing key {key!r}")
        v = entry[key]
        ok = isinstance(v, int) if key in _INT_KEYS else isinstance(v, (int, float))
        if isinstance(v, bool) or not ok:
            kind = "an integer" if key in _INT_KEYS else "a number"
            raise CalibrationError(f"{where}.{key}: must be {kind}, got {v!r}")
        values[key] = v
    m = MotorCalibration(**values)
    tpt = m.ticks_per_turn
    if not 2 <= tpt < float("inf"):
        raise CalibrationError(f"{where}.ticks_per_turn: {tpt} must be a finite number >= 2")
    last = math.ceil(tpt) - 1  # highest tick on the scale
    whole_turn = float(tpt).is_integer()  # a scale covering less than a turn (SCS0009) never wraps
    checks = [
        ("id", 0 <= m.id <= 253, "0..253"),
        ("drive_sign", m.drive_sign in (1, -1), "+1 or -1"),
        ("homing_offset", -tpt // 2 < m.homing_offset < tpt // 2, f"{-tpt // 2 + 1}..{tpt // 2 - 1}"),
        ("range_min_tick", 0 <= m.range_min_tick <= last, f"0..{last}"),
        ("range_max_tick", 0 <= m.range_max_tick <= last, f"0..{last}"),
        ("range_max_tick", whole_turn or not m.wraps, f"above range_min_tick {m.range_min_tick} (no wrap)"),
        ("zero_tick", 0 <= m.zero_tick < tpt, f"0..{last}"),
        ("scale", m.scale > 0 and m.scale == m.scale and m.scale != float("inf"), "a finite number > 0"),
    ]
    for key, ok, valid in checks:
        if not ok:
            raise CalibrationError(f"{where}.{key}: {getattr(m, key)!r} is invalid; valid: {valid}")
    if m.span_ticks == 0:
        raise CalibrationError(
            f"{where}: empty range (range_min_tick == range_max_tick == {m.range_min_tick}); "
            "sweep the joint through its range when calibrating"
        )
    if (m.zero_tick - m.range_min_tick) % tpt > m.span_ticks:
        raise CalibrationError(
            f"{where}.zero_tick: {m.zero_tick} lies outside the range {m.range_min_tick}..{m.range_max_tick} ticks"
        )
    return m
