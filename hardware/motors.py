"""Per-robot motor tables as data: which servo drives which joint, and how the servos are configured.

Adding a Feetech arm means adding an :class:`ArmDescription` here, not a class. Gear ratios are recorded for
reference only: the encoder sits on the output shaft, so a tick is the same joint angle whatever the gearing.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import NamedTuple

from hardware.feetech.tables import STS3215, ModelTable
from robot.models import SO101
from robot.spec import RobotSpec


class Role(str, Enum):
    """A follower is driven (torque on); a leader is moved by hand and only read (torque off)."""

    FOLLOWER = "follower"
    LEADER = "leader"


class Mapping(str, Enum):
    """How calibration maps ticks to radians for a joint."""

    ZERO_POSE = "zero_pose"  # zero = the recorded zero pose; one servo radian per joint radian
    RANGE = "range"  # the swept range ends map onto the joint limits (the SO-101 gripper)


class Motor(NamedTuple):
    """One servo. ``drive_sign``: +1 when increasing ticks move the sim joint positive (a calibration default)."""

    joint: str
    id: int
    drive_sign: int = 1
    gear_ratio: float = 345.0  # motor turns per output turn (reference only)
    mapping: Mapping = Mapping.ZERO_POSE


class GripperLimits(NamedTuple):
    """Conservative gripper settings so a closed grip on an object does not overheat the servo.

    ``max_torque`` and ``torque_limit`` in 0.1 % of stall torque (0..1000), ``protection_current`` in the
    servo's current units (6.5 mA, STS3215), ``overload_torque`` in % of max torque.
    """

    max_torque: int = 500
    torque_limit: int = 500
    protection_current: int = 250
    overload_torque: int = 25


@dataclasses.dataclass(frozen=True)
class ArmDescription:
    """Everything the driver needs to know about one Feetech arm, as plain data."""

    name: str  # e.g. "so101_follower"
    spec: RobotSpec  # shared with the sim robot of the same model
    role: Role
    table: ModelTable  # servo model of every motor
    motors: tuple[Motor, ...]  # in the spec's joint order
    p_gain: int = 16  # P_Coefficient; the sim's actuator (kp 998.22) was fitted for P = 16
    gripper_joint: str | None = "gripper"
    gripper: GripperLimits = dataclasses.field(default_factory=GripperLimits)
    baudrate: int = 1_000_000
    zero_pose_help: str = "every joint in the middle of its range"  # shown by `twinarm calibrate`

    def __post_init__(self) -> None:
        names = tuple(m.joint for m in self.motors)
        if names != self.spec.joint_names:
            raise ValueError(f"{self.name}: motor joints {names} must match spec joints {self.spec.joint_names}")

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(m.id for m in self.motors)

    @property
    def read_only(self) -> bool:
        return self.role is Role.LEADER

    def motor(self, joint: str) -> Motor:
        return next(m for m in self.motors if m.joint == joint)


# SO-101 wiring (shared/reference/servos.md): ids 1..6 in joint order, all STS3215 on one 1 Mbaud bus.
# Follower gearing 1/345 throughout; leader 1/191 (pan), 1/345 (lift), 1/191 (elbow), 1/147 (wrist, gripper).
_SO101_FOLLOWER_GEARS = (345.0, 345.0, 345.0, 345.0, 345.0, 345.0)
_SO101_LEADER_GEARS = (191.0, 345.0, 191.0, 147.0, 147.0, 147.0)


# The so101_new_calib convention: the sim model's zero is the middle of every joint's range.
SO101_ZERO_POSE = """\
  shoulder_pan   the arm points straight ahead, halfway between the base's two rotation stops
  shoulder_lift  the upper arm halfway between its two mechanical stops (about upright)
  elbow_flex     the forearm halfway between its stops (about a right angle to the upper arm)
  wrist_flex     halfway between its stops (the gripper in line with the forearm)
  wrist_roll     halfway between its two stops
  gripper        anywhere (its range ends are recorded during the sweep and mapped onto its limits)"""


def _so101_motors(gears: tuple[float, ...]) -> tuple[Motor, ...]:
    return tuple(
        Motor(joint, i + 1, 1, gear, Mapping.RANGE if joint == "gripper" else Mapping.ZERO_POSE)
        for i, (joint, gear) in enumerate(zip(SO101.joint_names, gears))
    )


SO101_FOLLOWER = ArmDescription(
    name="so101_follower",
    spec=SO101,
    role=Role.FOLLOWER,
    table=STS3215,
    motors=_so101_motors(_SO101_FOLLOWER_GEARS),
    zero_pose_help=SO101_ZERO_POSE,
)
SO101_LEADER = ArmDescription(
    name="so101_leader",
    spec=SO101,
    role=Role.LEADER,
    table=STS3215,
    motors=_so101_motors(_SO101_LEADER_GEARS),
    zero_pose_help=SO101_ZERO_POSE,
)

#: Arm descriptions by (model, role), as the CLI names them.
ARMS: dict[tuple[str, str], ArmDescription] = {(d.spec.name, d.role.value): d for d in (SO101_FOLLOWER, SO101_LEADER)}


def get_arm(model: str, role: str) -> ArmDescription:
    """The description of a known arm; a ConfigError lists the valid (model, role) pairs."""
    from robot.errors import ConfigError

    try:
        return ARMS[(model, role)]
    except KeyError:
        valid = ", ".join(f"robot={m} role={r}" for m, r in sorted(ARMS))
        raise ConfigError(f"no hardware arm robot={model} role={role}; valid: {valid}") from None
