"""Sim parameters as a file (``sim_params.json``): servo models, latency and sensing, validated on load.

Layout (``version`` 1, SI units: N·m/rad, N·m·s/rad, kg·m², N·m, rad, s)::

    {"version": 1, "name": "sts3215_7v4_5v",
     "joints": {"shoulder_pan": {"kp": 8.9, "damping": 0.6, "armature": 0.028, "frictionloss": 0.052,
                                 "force_limit": 1.4, "backlash": 0.0}, ...},
     "action_delay_s": 0.03,
     "sensing": {"position_resolution_rad": 0.001534, "velocity_resolution_rad_s": 0.0767,
                 "position_noise_rad": 0.0, "velocity_noise_rad_s": 0.0}}

``joints`` is keyed by actuator (servo) name: the joint names on the SO-101; on a robot whose servos drive tendons
(the Amazing Hand) the motor names (``index_m1``), and damping/armature/frictionloss then go to the tendon. A joint
may add ``overload_force_limit`` [N·m] and ``overload_after_s`` [s]: the servo's torque cut-back after it has been
saturated that long (the gripper). ``sensing`` and ``action_delay_s`` may be omitted (no quantization, no delay).
Errors name the file, the key and what is valid (like ``hardware/calibration_file.py``).
``SimParams.cameras`` (calibrated camera placements, ``sim.camera=camera.json``) travel with the parameters to the
simulator but live in their own camera files (:mod:`robot.camera_file`), not in ``sim_params.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from twinarm.robot.camera_file import CameraCalibration
from twinarm.robot.errors import ConfigError
from twinarm.robot.files import write_json_atomic

SIM_PARAMS_VERSION = 1


class SimParamsError(ConfigError):
    """A sim parameters file or value is invalid (the message names the file, the key and what is valid)."""


class JointParams(NamedTuple):
    """One servo: position gain ``kp`` [N·m/rad], joint ``damping`` [N·m·s/rad] (back-EMF included, the actuator
    has no kv on top), reflected rotor ``armature`` [kg·m²], Coulomb ``frictionloss`` [N·m], ``force_limit`` [N·m]
    (stall torque at the supply x Torque_Limit), gear ``backlash`` [rad] (total play), and an optional overload
    cut-back: ``overload_force_limit`` [N·m] after ``overload_after_s`` [s] saturated (None: none)."""

    kp: float
    damping: float
    armature: float
    frictionloss: float
    force_limit: float
    backlash: float = 0.0
    overload_force_limit: float | None = None
    overload_after_s: float | None = None

    def scaled(self, **factors: float) -> JointParams:
        """A copy with the named fields multiplied by the given factors."""
        return self._replace(**{k: getattr(self, k) * f for k, f in factors.items()})


class Sensing(NamedTuple):
    """What the servo reports: positions rounded to ``position_resolution_rad`` [rad] (0: exact), velocities to
    ``velocity_resolution_rad_s`` [rad/s] (0: exact), plus Gaussian noise of these standard deviations."""

    position_resolution_rad: float = 0.0
    velocity_resolution_rad_s: float = 0.0
    position_noise_rad: float = 0.0
    velocity_noise_rad_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class SimParams:
    """Servo models per actuator, the command-to-motion delay [s] and the sensing model; see the module doc.
    ``cameras``: calibrated cameras the simulator places at connect (not written to ``sim_params.json``)."""

    joints: Mapping[str, JointParams]
    action_delay_s: float = 0.0
    sensing: Sensing = dataclasses.field(default_factory=Sensing)
    name: str = ""
    cameras: tuple[CameraCalibration, ...] = ()

    def replace(self, **changes: Any) -> SimParams:
        return dataclasses.replace(self, **changes)


_REQUIRED = ("kp", "damping", "armature", "frictionloss", "force_limit")
_OPTIONAL = ("backlash", "overload_force_limit", "overload_after_s")
_POSITIVE = ("kp", "force_limit")  # > 0; every other value >= 0


def to_dict(params: SimParams) -> dict[str, Any]:
    joints = {}
    for name, jp in params.joints.items():
        entry = jp._asdict()
        for key in ("overload_force_limit", "overload_after_s"):
            if entry[key] is None:
                del entry[key]
        joints[name] = entry
    return {
        "version": SIM_PARAMS_VERSION,
        "name": params.name,
        "joints": joints,
        "action_delay_s": params.action_delay_s,
        "sensing": params.sensing._asdict(),
    }


def _number(value: Any, where: str, positive: bool = False) -> float:
    valid = "a number > 0" if positive else "a number >= 0"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SimParamsError(f"{where} = {value!r}: must be {valid}")
    if value < 0 or (positive and value == 0):
        raise SimParamsError(f"{where} = {value!r}: must be {valid}")
    return float(value)


def _joint(entry: Any, where: str) -> JointParams:
    if not isinstance(entry, dict):
        raise SimParamsError(f"{where}: must be an object with keys {', '.join(_REQUIRED + _OPTIONAL)}")
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise SimParamsError(f"{where}: unknown keys {unknown}; valid keys: {', '.join(_REQUIRED + _OPTIONAL)}")
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise SimParamsError(f"{where}: missing keys {missing} (required: {', '.join(_REQUIRED)})")
    values = {k: _number(entry[k], f"{where}.{k}", k in _POSITIVE) for k in _REQUIRED if k in entry}
    values.update({k: _number(entry[k], f"{where}.{k}") for k in _OPTIONAL if entry.get(k) is not None})
    if ("overload_force_limit" in values) != ("overload_after_s" in values):
        raise SimParamsError(f"{where}: overload_force_limit and overload_after_s go together (give both or neither)")
    return JointParams(**values)


def from_dict(data: Any, source: str = "<dict>", joints: tuple[str, ...] | None = None) -> SimParams:
    """Validate a parsed file; with ``joints`` every name must be present and no other (in that order)."""
    if not isinstance(data, dict):
        raise SimParamsError(f"{source}: the top level must be a JSON object")
    version = data.get("version")
    if version != SIM_PARAMS_VERSION:
        raise SimParamsError(f"{source}: version = {version!r}; valid: {SIM_PARAMS_VERSION}")
    valid_top = {"version", "name", "joints", "action_delay_s", "sensing"}
    unknown = sorted(set(data) - valid_top)
    if unknown:
        raise SimParamsError(f"{source}: unknown keys {unknown}; valid keys: {', '.join(sorted(valid_top))}")
    entries = data.get("joints")
    if not isinstance(entries, dict) or not entries:
        raise SimParamsError(f"{source}: 'joints' must be a non-empty object of joint name -> servo parameters")
    if joints is not None and set(entries) != set(joints):
        raise SimParamsError(
            f"{source}: joints {sorted(entries)} do not match the robot's actuators; valid: {', '.join(joints)}"
        )
    order = joints if joints is not None else tuple(entries)
    parsed = {name: _joint(entries[name], f"{source}: joints.{name}") for name in order}
    delay = _number(data.get("action_delay_s", 0.0), f"{source}: action_delay_s")
    sensing_data = data.get("sensing", {})
    if not isinstance(sensing_data, dict):
        raise SimParamsError(f"{source}: 'sensing' must be an object with keys {', '.join(Sensing._fields)}")
    unknown = sorted(set(sensing_data) - set(Sensing._fields))
    if unknown:
        raise SimParamsError(f"{source}: sensing: unknown keys {unknown}; valid keys: {', '.join(Sensing._fields)}")
    sensing = Sensing(**{k: _number(v, f"{source}: sensing.{k}") for k, v in sensing_data.items()})
    name = data.get("name", "")
    if not isinstance(name, str):
        raise SimParamsError(f"{source}: name = {name!r}: must be a string")
    return SimParams(parsed, delay, sensing, name)


def save_sim_params(params: SimParams, path: str | Path) -> Path:
    """Validate ``params`` and write them to ``path`` (parent directories created); returns the path."""
    path = Path(path)
    data = to_dict(params)
    from_dict(data, source=str(path))  # never write a file we would refuse to load
    return write_json_atomic(data, path)


def load_sim_params(path: str | Path, joints: tuple[str, ...] | None = None) -> SimParams:
    """Read and validate a ``sim_params.json``; errors name the file and the key."""
    path = Path(path)
    if not path.is_file():
        raise SimParamsError(f"sim parameters file {path} does not exist")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SimParamsError(f"{path}: not valid JSON ({e})") from None
    return from_dict(data, source=str(path), joints=joints)
