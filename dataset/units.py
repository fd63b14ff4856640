"""Joint units and names of a dataset versus the robot a policy is trained for, and the affine conversion between.

twinarm stores joint positions in [rad] under each feature's ``units`` entry of ``meta/info.json`` (``"rad"``).
lerobot stores none: its SO-100/101 follower writes ``observation.state`` / ``action`` named ``<joint>.pos`` in
degrees about the middle of the calibrated range when recorded with ``use_degrees=True``, else in -100..100 of that
range; the gripper always in 0..100 of its range (lerobot ``so_follower.py``: ``MotorNormMode.DEGREES`` or
``RANGE_M100_100`` for the body, ``RANGE_0_100`` for the gripper). A dataset without a ``units`` entry is assumed
to be in [rad] only when twinarm wrote it (its ``robot_type`` and joint names are the robot model's); otherwise
the caller must state the units (``dataset.units``).

:func:`joint_conversion` compares a dataset with a robot spec and returns the per-joint affine map (column order,
scale, offset) to the robot's joints in [rad], or raises :class:`UnitsMismatchError` naming both sides unless
``convert`` allows the conversion.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from twinarm.dataset.errors import UnitsMismatchError
from twinarm.robot.features import ACTION, STATE
from twinarm.robot.spec import RobotSpec

#: Suffix lerobot gives joint position features (``shoulder_pan.pos``); stripped when converting names.
LEROBOT_POS_SUFFIX = ".pos"


class JointUnit(str, enum.Enum):
    """A joint position unit: [rad]; [deg]; percent of the joint range (``range_0_100``: lower..upper as
    0..100; ``range_m100_100``: as -100..100), lerobot's ``MotorNormMode`` names."""

    RAD = "rad"
    DEG = "deg"
    RANGE_0_100 = "range_0_100"
    RANGE_M100_100 = "range_m100_100"


VALID_UNITS = [u.value for u in JointUnit]


class JointConversion(NamedTuple):
    """``robot_value[:, j] = data[:, order[j]] * scale[j] + offset[j]`` [rad]; ``identity`` when nothing changes."""

    order: np.ndarray
    scale: np.ndarray
    offset: np.ndarray
    units: tuple[str, ...]
    identity: bool

    def apply(self, values: np.ndarray) -> np.ndarray:
        """(..., n_dataset) -> (..., n_robot) float32 in [rad]."""
        if self.identity:
            return values
        return (values[..., self.order] * self.scale + self.offset).astype(np.float32)


def parse_unit(value: Any, where: str) -> JointUnit:
    try:
        return JointUnit(value)
    except ValueError:
        raise UnitsMismatchError(f"{where}: joint unit {value!r} is unknown; valid units: {VALID_UNITS}") from None


def stored_units(info: dict[str, Any], root: str) -> tuple[str, ...] | None:
    """The per-joint units of ``observation.state`` and ``action`` in ``info`` (one string entry for all joints or
    a list per joint), None when neither states them; the two features must agree."""
    found = {}
    for key in (STATE, ACTION):
        feat = info["features"].get(key, {})
        if "units" in feat:
            raw = feat["units"]
            n = int(feat["shape"][0])
            units = [raw] * n if isinstance(raw, str) else list(raw)
            if len(units) != n:
                raise UnitsMismatchError(f"{root}: features.{key}.units has {len(units)} entries for {n} joints")
            found[key] = tuple(parse_unit(u, f"{root}: features.{key}.units").value for u in units)
    if len(set(found.values())) > 1:
        raise UnitsMismatchError(f"{root}: observation.state is in {found[STATE]} but action in {found[ACTION]}")
    return next(iter(found.values()), None)


def joint_conversion(
    info: dict[str, Any], root: str, spec: RobotSpec, declared: Sequence[str] = (), convert: bool = False
) -> JointConversion:
    """The map from the dataset at ``root`` (its ``info.json`` as ``info``) to ``spec``'s joints in [rad].

    ``declared``: the dataset's units when it states none (one for all joints, or one per joint); ``convert``:
    allow other units and lerobot's ``<joint>.pos`` names. Raises :class:`UnitsMismatchError` naming both sides."""
    feat = info["features"].get(STATE, {})
    n = int(feat.get("shape", [spec.num_joints])[0])
    names = list(feat.get("names") or [])
    robot_names = list(spec.joint_names)
    units = _units(info, root, spec, names, n, declared)
    if (names and names != robot_names) or n != spec.num_joints:
        mapped = [name.removesuffix(LEROBOT_POS_SUFFIX) for name in names] if convert else names
        if not convert or sorted(mapped) != sorted(robot_names):
            hint = (
                "" if convert else "; pass dataset.convert_units=true to map them by name ('<joint>.pos' -> '<joint>')"
            )
            raise UnitsMismatchError(
                f"{root}: dataset joints {names or n} differ from robot {spec.name!r}'s joints {robot_names}{hint}"
            )
        order = np.array([mapped.index(name) for name in robot_names])
    else:
        order = np.arange(n)
    units = tuple(units[i] for i in order)
    if any(u != JointUnit.RAD for u in units) and not convert:
        raise UnitsMismatchError(
            f"{root}: dataset joints are in {_show(units)}; robot {spec.name!r} (and its policies) use rad; pass "
            "dataset.convert_units=true to convert them"
        )
    scale, offset = zip(
        *(_affine(JointUnit(u), spec.joints[j].lower, spec.joints[j].upper) for j, u in enumerate(units))
    )
    identity = bool((order == np.arange(n)).all() and all(u == JointUnit.RAD for u in units))
    return JointConversion(order, np.array(scale, np.float64), np.array(offset, np.float64), units, identity)


def _units(info: dict[str, Any], root: str, spec: RobotSpec, names: list[str], n: int, declared: Sequence[str]):
    stored = stored_units(info, root)
    given = tuple(parse_unit(u, "dataset.units").value for u in declared)
    if given and len(given) not in (1, n):
        raise UnitsMismatchError(
            f"dataset.units has {len(given)} entries; expected 1 (all joints) or {n} (one per joint)"
        )
    given = given * n if len(given) == 1 else given
    if stored is not None:
        if given and given != stored:
            raise UnitsMismatchError(
                f"{root}: meta/info.json states units {_show(stored)} but dataset.units={list(declared)}"
            )
        return stored
    if given:
        return given
    if info.get("robot_type") == spec.name and names == list(spec.joint_names):
        return (JointUnit.RAD.value,) * n  # written by twinarm before units were stored: always [rad]
    raise UnitsMismatchError(
        f"{root}: meta/info.json states no joint units (robot_type {info.get('robot_type')!r}, joints {names or n}); "
        f"pass dataset.units=[UNIT] (one for all joints, or one per joint) with UNIT in {VALID_UNITS}; lerobot SO-101 "
        "datasets recorded with use_degrees=true are [deg,deg,deg,deg,deg,range_0_100], else "
        "[range_m100_100,range_m100_100,range_m100_100,range_m100_100,range_m100_100,range_0_100]"
    )


def _affine(unit: JointUnit, lower: float, upper: float) -> tuple[float, float]:
    """(scale, offset) taking ``unit`` to [rad] on a joint spanning [lower, upper] [rad]."""
    if unit is JointUnit.DEG:
        return math.pi / 180.0, 0.0
    if unit is JointUnit.RANGE_0_100:
        return (upper - lower) / 100.0, lower
    if unit is JointUnit.RANGE_M100_100:
        return (upper - lower) / 200.0, (upper + lower) / 2.0
    return 1.0, 0.0


def _show(units: Sequence[str]) -> str:
    return units[0] if len(set(units)) == 1 else str(list(units))
