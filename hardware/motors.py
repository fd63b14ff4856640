"""Per-robot motor tables as data: which servo drives which joint, and how the servos are configured.

Adding an arm means adding an :class:`ArmDescription` (here, or in a module of its own such as
:mod:`hardware.koch`), not a class; ``bus`` says which protocol its servos speak (Feetech or Dynamixel). Gear
ratios are recorded for reference only: the encoder sits on the output shaft, so a tick is the same joint angle
whatever the gearing. A robot whose joints are mixes of motors (the Amazing Hand, :mod:`hardware.hand`) adds a
``transmission``; its motors then carry their own names (``index_m1``), and calibration is per motor.
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import NamedTuple

from twinarm.hardware.feetech.tables import STS3215
from twinarm.hardware.registers import ModelTable
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import SO101, SO101_ARM
from twinarm.robot.spec import RobotSpec
from twinarm.robot.transmission import LinearTransmission


class Role(str, Enum):
    """A follower is driven (torque on); a leader is moved by hand and only read (torque off)."""

    FOLLOWER = "follower"
    LEADER = "leader"


class BusKind(str, Enum):
    """The protocol a robot's servo bus speaks."""

    FEETECH = "feetech"  # SCS/STS, hardware.feetech
    DYNAMIXEL = "dynamixel"  # protocol 2.0, hardware.dynamixel


class Mapping(str, Enum):
    """How calibration maps ticks to radians for a joint."""

    ZERO_POSE = "zero_pose"  # zero = the recorded zero pose; one servo radian per joint radian
    RANGE = "range"  # the swept range ends map onto the joint limits (the SO-101 gripper)


class Motor(NamedTuple):
    """One servo. ``joint``: the spec joint it drives or, behind a transmission, the motor's own name.
    ``drive_sign``: +1 when increasing ticks move the sim joint (or motor angle) positive (a calibration default).
    ``model``: this servo's model when it differs from the arm's ``table`` (same register addresses, another model
    number, e.g. the Koch's XL330 wrist behind XL430 shoulders); None: the arm's."""

    joint: str
    id: int
    drive_sign: int = 1
    gear_ratio: float = 345.0  # motor turns per output turn (reference only)
    mapping: Mapping = Mapping.ZERO_POSE
    model: ModelTable | None = None


class GripperLimits(NamedTuple):
    """Conservative gripper settings so a closed grip on an object does not overheat the servo.

    ``max_torque`` and ``torque_limit`` in 0.1 % of stall torque (0..1000), ``protection_current`` in the
    servo's current units (6.5 mA, STS3215), ``overload_torque`` in % of max torque.
    """

    max_torque: int = 500
    torque_limit: int = 500
    protection_current: int = 250
    overload_torque: int = 25

    def registers(self) -> tuple[tuple[str, int], ...]:
        """(register name, value) the driver writes on the gripper servo (EEPROM ones only where they differ)."""
        return (
            ("Max_Torque_Limit", self.max_torque),
            ("Protection_Current", self.protection_current),
            ("Overload_Torque", self.overload_torque),
            ("Torque_Limit", self.torque_limit),
        )


class CurrentLimitedGripper(NamedTuple):
    """A gripper in current-based position mode (Dynamixel XL330): ``goal_current_ma`` [mA] caps its grip."""

    goal_current_ma: int

    def registers(self) -> tuple[tuple[str, int], ...]:
        return (("Goal_Current", self.goal_current_ma),)


@dataclasses.dataclass(frozen=True)
class ArmDescription:
    """Everything the driver needs to know about one servo arm (or hand), as plain data.

    ``operating_mode``: the Operating_Mode value every servo is set to (Feetech position 0; Dynamixel e.g.
    extended position 4), ``gripper_operating_mode`` the gripper's when it differs (None: the same).
    ``motor_registers``: more registers a follower sets on connect, one value per motor in motor order (EEPROM
    ones only where they differ), e.g. the LEAP Hand's gains and current cap.
    """

    name: str  # e.g. "so101_follower"
    spec: RobotSpec  # shared with the sim robot of the same model
    role: Role
    table: ModelTable  # servo model of every motor (its register addresses); Motor.model overrides the model
    motors: tuple[Motor, ...]  # in the spec's joint order (with a transmission: in its motor order)
    p_gain: int | None = 16  # P_Coefficient; the sim's actuator (kp 998.22) was fitted for P = 16; None: untouched
    gripper_joint: str | None = "gripper"
    gripper: GripperLimits | CurrentLimitedGripper = dataclasses.field(default_factory=GripperLimits)
    baudrate: int = 1_000_000
    zero_pose_help: str = "every joint in the middle of its range"  # shown by `twinarm calibrate`
    transmission: LinearTransmission | None = None  # joint = A @ motor; None: one motor per joint (identity)
    # calibrated travel around the zero pose [rad], no range sweep: +- a float on every motor, or (lo, hi) per motor
    # in motor order (a tendon hand whose servos turn mostly one way); None: sweep the range
    motor_travel_rad: float | tuple[tuple[float, float], ...] | None = None
    bus: BusKind = BusKind.FEETECH
    operating_mode: int = 0
    gripper_operating_mode: int | None = None
    motor_registers: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (register, one value per motor) set on connect

    def __post_init__(self) -> None:
        names = self.motor_names
        if self.transmission is None and names != self.spec.joint_names:
            raise ConfigError(f"{self.name}: motor joints {names} must match spec joints {self.spec.joint_names}")
        n = self.spec.num_joints
        if self.transmission is not None and not (self.transmission.size == len(names) == n):
            raise ConfigError(
                f"{self.name}: a transmission of size {self.transmission.size} needs {n} motors (one per joint "
                f"of {self.spec.name}), got {len(names)}"
            )
        for reg, values in self.motor_registers:
            if len(values) != len(names):
                raise ConfigError(f"{self.name}: motor_registers {reg}: {len(values)} values for {len(names)} motors")
        travel = self.motor_travel_rad
        if isinstance(travel, tuple) and (len(travel) != len(names) or any(not lo <= 0.0 <= hi for lo, hi in travel)):
            raise ConfigError(
                f"{self.name}: motor_travel_rad {travel} needs one (lo <= 0, hi >= 0) pair [rad] per motor "
                f"({len(names)})"
            )
        for what, values in (("motor names", names), ("servo ids", self.ids)):
            if len(set(values)) != len(values):
                raise ConfigError(f"{self.name}: duplicate {what} in {list(values)}")

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(m.id for m in self.motors)

    @property
    def model_numbers(self) -> dict[int, int]:
        """Servo id -> the model number that servo must answer a PING with."""
        return {m.id: (m.model or self.table).model_number for m in self.motors}

    def motor_table(self, motor: Motor) -> ModelTable:
        """The control table of ``motor``'s servo model."""
        return motor.model or self.table

    @property
    def operating_modes(self) -> tuple[int, ...]:
        """Operating_Mode of every motor, in motor order."""
        grip = self.operating_mode if self.gripper_operating_mode is None else self.gripper_operating_mode
        return tuple(grip if m.joint == self.gripper_joint else self.operating_mode for m in self.motors)

    @property
    def motor_names(self) -> tuple[str, ...]:
        """Names under which calibration stores the motors (the joint names when there is no transmission)."""
        return tuple(m.joint for m in self.motors)

    @property
    def motor_travels(self) -> tuple[tuple[float, float], ...] | None:
        """Each motor's calibrated travel (lo, hi) [rad] around its zero pose, in motor order; None: swept."""
        travel = self.motor_travel_rad
        if travel is None or isinstance(travel, tuple):
            return travel
        return ((-float(travel), float(travel)),) * len(self.motors)

    @property
    def read_only(self) -> bool:
        return self.role is Role.LEADER

    def motor(self, joint: str) -> Motor:
        """The motor stored under ``joint`` (see ``motor_names``); ConfigError lists the valid names."""
        for m in self.motors:
            if m.joint == joint:
                return m
        raise ConfigError(f"{self.name} has no motor {joint!r}; valid: {', '.join(self.motor_names)}")


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

# The SO-101 follower without its gripper servo (ids 1..5, the arm joints): the arm part of a robot that carries a
# hand on its wrist instead (the hand on its own bus, twinarm.compose.registry).
SO101_ARM_FOLLOWER = ArmDescription(
    name="so101_arm_follower",
    spec=SO101_ARM,
    role=Role.FOLLOWER,
    table=STS3215,
    motors=_so101_motors(_SO101_FOLLOWER_GEARS)[: SO101_ARM.num_joints],
    gripper_joint=None,
    zero_pose_help="\n".join(SO101_ZERO_POSE.splitlines()[: SO101_ARM.num_joints]),
)
