"""The model registry: one :class:`RobotModel` entry per robot model binds everything the commands need about it.

An entry holds the model's shared spec (data in ``twinarm.robot.models``), its MuJoCo model and simulated task
family (``twinarm.sim``), its servo bus description per role and side (``twinarm.hardware``), how its servos are
emulated, its end-effector (IK) model and keyboard teleop mapping, and which optional features it has. Commands
look a model up with :func:`get_model` and use the entry's fields; no command compares model names.

Adding a robot: its data files (spec, MJCF, motor table; see README "Adding a robot") and one entry in
:data:`MODELS`. Capabilities are fields: ``sim is None`` (no simulation backend), ``ee is None`` (no
end-effector teleop), ``sides == ()`` (no handedness: ``side`` is ignored), ``sim_bus`` (hardware in the loop).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import NamedTuple

import numpy as np

from twinarm.hardware.calibration import Calibration
from twinarm.hardware.calibration_io import nominal_calibration, nominal_zero_offsets
from twinarm.hardware.emulator.config import SO101_START_OFFSETS, ServoConfig, servos_for
from twinarm.hardware.hand import AMAZING_HAND_LEFT, AMAZING_HAND_RIGHT, calibration_from_published
from twinarm.hardware.hopejr_arm import HOPEJR_ARM_FOLLOWER
from twinarm.hardware.hopejr_hand import HOPEJR_HAND_DESC
from twinarm.hardware.koch import KOCH_FOLLOWER, KOCH_LEADER
from twinarm.hardware.leap import LEAP_HAND_DESC
from twinarm.hardware.motors import SO101_ARM_FOLLOWER, SO101_FOLLOWER, SO101_LEADER, ArmDescription, Role
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import AMAZING_HAND, HOPEJR, HOPEJR_ARM, KOCH, LEAP_HAND, SO101, SO101_AMAZING_HAND
from twinarm.robot.spec import RobotSpec
from twinarm.robot.teleop import Workspace
from twinarm.sim.arm_hand_scene import SO101_AMAZING_HAND_SIM
from twinarm.sim.envs import (
    AMAZING_HAND_FAMILY,
    HOPEJR_ARM_FAMILY,
    HOPEJR_FAMILY,
    HOPEJR_HAND_FAMILY,
    KOCH_FAMILY,
    LEAP_HAND_FAMILY,
    SO101_AMAZING_HAND_FAMILY,
    SO101_FAMILY,
    TaskFamily,
)
from twinarm.sim.hopejr import HOPEJR_HAND_GRASP_OFFSET, HOPEJR_SIM
from twinarm.sim.hopejr_arm import HOPEJR_ARM_SIM, HOPEJR_GRASP_OFFSET
from twinarm.sim.hopejr_hand import HOPEJR_HAND_SIM
from twinarm.sim.ik import KOCH_GRASP_OFFSET, SO101_GRASP_OFFSET
from twinarm.sim.sim_robot import AMAZING_HAND_SIM, KOCH_SIM, LEAP_HAND_SIM, SO101_SIM, SimModel

#: The calibration name that means "the model's default" (a model with sides defaults to the side's name).
DEFAULT_CALIBRATION_NAME = "default"
DEFAULT_SIDE = "right"  # what ``side`` means when not given (ignored by a model without sides)


class KeyboardTeleop(str, Enum):
    """What terminal keys do in ``source=keyboard``."""

    END_EFFECTOR = "end_effector"  # move the gripper frame through IK on the MuJoCo model (needs ``ee`` and ``sim``)
    HAND_POSES = "hand_poses"  # pick named hand poses, nudge one finger (twinarm.robot.hand_poses)


class EEModel(NamedTuple):
    """End-effector teleop data of a model: the joints IK may move, the gripper joint (None: an arm without one, the
    grip keys do nothing), the workspace box [m], and the grasp point in the MJCF's ``gripperframe`` site frame [m]
    (what IK moves)."""

    arm_joints: tuple[str, ...]
    gripper: str | None
    workspace: Workspace
    grasp_offset: tuple[float, float, float] = SO101_GRASP_OFFSET


class Bus(NamedTuple):
    """One physical robot of a model on a servo bus: its role, its side (``""`` for a model without sides) and the
    description the driver uses (whose ``bus`` is the protocol: Feetech or Dynamixel). ``part``: which part of a
    robot made of parts it is (``arm``, ``hand``: one bus each, their descriptions' joints concatenated in registry
    order make the model's spec); ``""`` for one bus."""

    role: Role
    side: str
    description: ArmDescription
    part: str = ""


#: Import of a published calibration file: (path, side, servo ids, calibration name) -> Calibration.
CalibrationImport = Callable[[Path, str, Sequence[int], str], Calibration]


@dataclasses.dataclass(frozen=True)
class RobotModel:
    """A robot model and everything bound to it. ``buses``: every (role, side) that exists as hardware.
    ``sim`` / ``tasks``: the MuJoCo model and its task family (None: no simulation backend / no tasks).
    ``ee``: the end-effector model for IK teleop (None: none). ``keyboard``: the keyboard teleop mapping.
    ``emulator_offsets_ticks``: start position of each emulated servo [ticks from its middle tick]; ``sim_bus``:
    ``twinarm.compose.hil`` serves its follower on an emulated bus with MuJoCo physics (for a model of parts: over
    all their motors, in part order). ``published_calibration``:
    import of the vendor's calibration file (``twinarm calibrate published=...``), None when there is none.
    ``leader_model``: a model without a leader role of its own is teleoperated by this model's leader arm, on the
    joints they share by name (the SO-101 leader drives the arm of the SO-101 with a hand); "" = its own.
    A model with ``buses == ()`` is simulation only: asking it for hardware raises :class:`NoHardwareError`."""

    spec: RobotSpec
    buses: tuple[Bus, ...]
    sim: SimModel | None = None
    tasks: TaskFamily | None = None
    ee: EEModel | None = None
    keyboard: KeyboardTeleop | None = None
    emulator_offsets_ticks: tuple[int, ...] = ()
    sim_bus: bool = False
    published_calibration: CalibrationImport | None = None
    leader_model: str = ""

    def __post_init__(self) -> None:
        if self.sim is not None and self.sim.spec.joint_names != self.spec.joint_names:
            raise ConfigError(f"{self.name}: sim model joints {self.sim.spec.joint_names} != {self.spec.joint_names}")
        if self.tasks is not None and self.tasks.model is not self.sim:
            raise ConfigError(f"{self.name}: its task family simulates {self.tasks.model.spec.name}, not its sim model")
        for role, side in dict.fromkeys((bus.role, bus.side) for bus in self.buses):
            group = [bus for bus in self.buses if (bus.role, bus.side) == (role, side)]
            joints = tuple(j for bus in group for j in bus.description.spec.joint_names)
            names = [bus.description.name for bus in group]
            if joints != self.spec.joint_names:
                raise ConfigError(f"{self.name}: buses {names} drive joints {joints}, not {self.spec.joint_names}")
            parts = [bus.part for bus in group]
            if len(group) > 1 and ("" in parts or len(set(parts)) != len(parts)):
                raise ConfigError(f"{self.name}: buses {names} of role={role.value} side={side} need distinct parts")
        if self.keyboard is KeyboardTeleop.END_EFFECTOR and (self.ee is None or self.sim is None):
            raise ConfigError(f"{self.name}: end-effector keyboard teleop needs an ee model and a sim model")
        if not self.buses and self.sim is None:
            raise ConfigError(f"{self.name}: a model needs hardware buses or a sim model")

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles that exist as hardware (``follower``, ``leader``), in registry order."""
        return tuple(dict.fromkeys(bus.role.value for bus in self.buses))

    @property
    def sides(self) -> tuple[str, ...]:
        """The sides (``right``, ``left``); empty for a model without handedness."""
        return tuple(dict.fromkeys(bus.side for bus in self.buses if bus.side))

    def parts(self, role: str = Role.FOLLOWER.value, side: str = DEFAULT_SIDE) -> tuple[Bus, ...]:
        """The buses of the ``role`` robot on ``side`` (ignored without sides), in part order: one for a robot on
        one bus. ConfigError lists the valid roles or sides; :class:`NoHardwareError` for a simulation-only model."""
        if not self.buses:
            raise NoHardwareError(
                f"robot {self.name} has no servo bus description here (simulation only): role={role} needs its "
                f"hardware; drive it in simulation (no robot.port), or use a model with hardware: {_with_hardware()}"
            )
        if role not in self.roles:
            raise ConfigError(f"role={role!r} is not a role of robot {self.name}; valid roles: {', '.join(self.roles)}")
        if self.sides and side not in self.sides:
            raise ConfigError(f"side={side!r} is not a side of robot {self.name}; valid sides: {', '.join(self.sides)}")
        want = side if self.sides else ""
        found = tuple(b for b in self.buses if b.role.value == role and b.side == want)
        if not found:
            valid = ", ".join(f"role={b.role.value} side={b.side}" for b in self.buses)
            raise ConfigError(f"robot {self.name} has no role={role} side={side}; valid: {valid}")
        return found

    def bus(
        self, role: str = Role.FOLLOWER.value, side: str = DEFAULT_SIDE, ids: Sequence[int] = (), part: str = ""
    ) -> ArmDescription:
        """The bus description of the ``role`` robot on ``side`` (ignored without sides) or of its ``part`` (a
        robot of parts: one bus each), its servos readdressed to ``ids`` (motor order; empty: the defaults).
        ConfigError lists the valid roles, sides, parts or id count."""
        found = self.parts(role, side)
        chosen = [b for b in found if b.part == part] if part or len(found) > 1 else list(found)
        if len(chosen) != 1:
            valid = ", ".join(b.part for b in found if b.part) or '"" (one bus)'
            raise ConfigError(f"part={part!r}: robot {self.name} has one bus per part; valid parts: {valid}")
        desc = chosen[0].description
        return _readdressed(desc, ids) if len(ids) else desc

    def calibration_name(self, name: str, side: str) -> str:
        """The calibration file name of robot ``name``: a model with sides names its default calibration by side."""
        return side if self.sides and name == DEFAULT_CALIBRATION_NAME else name

    def nominal_calibration(
        self, role: str = Role.FOLLOWER.value, side: str = DEFAULT_SIDE, part: str = ""
    ) -> Calibration:
        """An ideal calibration of the ``role`` robot on ``side`` (or its ``part``): what its emulated servos need."""
        return nominal_calibration(self.bus(role, side, part=part), name="nominal")

    def emulator_servos(
        self, role: str = Role.FOLLOWER.value, side: str = DEFAULT_SIDE, part: str = ""
    ) -> list[ServoConfig]:
        """The emulated servos of the ``role`` robot on ``side`` (or its ``part``): ids, servo model, start
        positions (the part's slice of ``emulator_offsets_ticks``)."""
        desc = self.bus(role, side, part=part)
        offsets = self.emulator_offsets_ticks
        if offsets:
            start = 0
            for bus in self.parts(role, side):
                if bus.description is desc:
                    break
                start += len(bus.description.motors)
            offsets = offsets[start : start + len(desc.motors)]
        return servos_for(desc, offsets)


class NoHardwareError(ConfigError):
    """A hardware role (bus, emulator, calibration) was asked of a simulation-only model; the message names the
    model and the models that have hardware."""


def _with_hardware() -> str:
    return ", ".join(name for name, model in MODELS.items() if model.buses)


def _readdressed(desc: ArmDescription, ids: Sequence[int]) -> ArmDescription:
    if len(ids) != len(desc.motors):
        raise ConfigError(
            f"ids={list(ids)}: {desc.name} needs {len(desc.motors)} servo ids, in the order {list(desc.motor_names)}"
        )
    return dataclasses.replace(desc, motors=tuple(m._replace(id=int(i)) for m, i in zip(desc.motors, ids)))


# The grasp point stays above the table (z = 0) and inside the arm's comfortable reach (home is x = 0.2, z = 0.08).
SO101_EE = EEModel(
    ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll"),
    "gripper",
    Workspace(np.array([0.05, -0.35, 0.005]), np.array([0.40, 0.35, 0.35])),
)

SO101_MODEL = RobotModel(
    spec=SO101,
    buses=(Bus(Role.FOLLOWER, "", SO101_FOLLOWER), Bus(Role.LEADER, "", SO101_LEADER)),
    sim=SO101_SIM,
    tasks=SO101_FAMILY,
    ee=SO101_EE,
    keyboard=KeyboardTeleop.END_EFFECTOR,
    emulator_offsets_ticks=SO101_START_OFFSETS,
    sim_bus=True,
)

# The Koch v1.1: follower and leader on Dynamixel buses (twinarm.hardware.koch). The workspace box keeps the grasp
# point inside the short arm's reach (sim.arm_tasks.KOCH_LAYOUT; home is x = 0.13, z = 0.06).
KOCH_EE = EEModel(
    ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll"),
    "gripper",
    Workspace(np.array([0.05, -0.20, 0.005]), np.array([0.24, 0.20, 0.22])),
    KOCH_GRASP_OFFSET,
)

KOCH_MODEL = RobotModel(
    spec=KOCH,
    buses=(Bus(Role.FOLLOWER, "", KOCH_FOLLOWER), Bus(Role.LEADER, "", KOCH_LEADER)),
    sim=KOCH_SIM,
    tasks=KOCH_FAMILY,
    ee=KOCH_EE,
    keyboard=KeyboardTeleop.END_EFFECTOR,
    emulator_offsets_ticks=SO101_START_OFFSETS,  # near mid range, not all equal (an id mix-up reads wrong joints)
    sim_bus=True,
)

AMAZING_HAND_MODEL = RobotModel(
    spec=AMAZING_HAND,
    buses=(Bus(Role.FOLLOWER, "right", AMAZING_HAND_RIGHT), Bus(Role.FOLLOWER, "left", AMAZING_HAND_LEFT)),
    sim=AMAZING_HAND_SIM,
    tasks=AMAZING_HAND_FAMILY,
    keyboard=KeyboardTeleop.HAND_POSES,
    published_calibration=calibration_from_published,
)

# The SO-101 with the Amazing Hand on its wrist in place of the gripper: the arm's five servos on one bus, the hand's
# eight on another (ids 1..8 on both buses would clash on one). Teleop: the SO-101 leader arm drives the arm, the
# keyboard's hand poses drive the hand.
SO101_AMAZING_HAND_MODEL = RobotModel(
    spec=SO101_AMAZING_HAND,
    buses=(Bus(Role.FOLLOWER, "", SO101_ARM_FOLLOWER, "arm"), Bus(Role.FOLLOWER, "", AMAZING_HAND_RIGHT, "hand")),
    sim=SO101_AMAZING_HAND_SIM,
    tasks=SO101_AMAZING_HAND_FAMILY,
    keyboard=KeyboardTeleop.HAND_POSES,
    leader_model=SO101.name,
    emulator_offsets_ticks=SO101_START_OFFSETS[: len(SO101_ARM_FOLLOWER.motors)]
    + (0,) * len(AMAZING_HAND_RIGHT.motors),
)

# The LEAP Hand (right): 16 XC330-M288 on one 4 Mbaud Dynamixel bus (twinarm.hardware.leap), its sim model, its
# grasp task and the keyboard's hand poses (twinarm.robot.hand_poses LEAP_HAND_POSES). Emulated servos start at their
# middle tick: the LEAPsim zero, the flat hand. ``physics=sim``: the driver on a bus whose shafts are the MuJoCo hand.
LEAP_HAND_MODEL = RobotModel(
    spec=LEAP_HAND,
    buses=(Bus(Role.FOLLOWER, "", LEAP_HAND_DESC),),
    sim=LEAP_HAND_SIM,
    tasks=LEAP_HAND_FAMILY,
    keyboard=KeyboardTeleop.HAND_POSES,
    sim_bus=True,
)

# The HopeJR arm: 7 Feetech servos on one bus, the build of twinarm.hardware.hopejr_arm.HOPEJR_ARM_BUILD (bill of
# materials by default), IK teleop of the wrist flange (no gripper: the hand comes as its own part). The workspace box
# keeps the flange in front of the right shoulder over the table (sim.hopejr_arm; home is (0.22, -0.06, 0.14)).
HOPEJR_ARM_EE = EEModel(
    HOPEJR_ARM.joint_names,
    None,
    Workspace(np.array([0.12, -0.22, 0.03]), np.array([0.32, 0.08, 0.25])),
    HOPEJR_GRASP_OFFSET,
)
HOPEJR_ARM_MODEL = RobotModel(
    spec=HOPEJR_ARM,
    buses=(Bus(Role.FOLLOWER, "", HOPEJR_ARM_FOLLOWER),),
    sim=HOPEJR_ARM_SIM,
    tasks=HOPEJR_ARM_FAMILY,
    ee=HOPEJR_ARM_EE,
    keyboard=KeyboardTeleop.END_EFFECTOR,
    emulator_offsets_ticks=(0, 40, -30, 300, 20, -25, 35),  # inside every range (elbow_flex's starts at 0: bent a bit)
    sim_bus=True,
)

# The HopeJR hand (right): 16 SCS0009 pulling tendons on one 1 Mbaud Feetech bus (twinarm.hardware.hopejr_hand), its
# sim model, grasp task and hand poses. Emulated servos start at the flat hand: each servo's zero tick sits off the
# middle tick (the nominal calibration centres each servo's one-sided travel on its scale), so they start there.
HOPEJR_HAND_MODEL = RobotModel(
    spec=HOPEJR_HAND_DESC.spec,
    buses=(Bus(Role.FOLLOWER, "", HOPEJR_HAND_DESC),),
    sim=HOPEJR_HAND_SIM,
    tasks=HOPEJR_HAND_FAMILY,
    keyboard=KeyboardTeleop.HAND_POSES,
    emulator_offsets_ticks=nominal_zero_offsets(HOPEJR_HAND_DESC),
)

# HopeJR (arm + hand as one robot): the arm's seven Feetech servos (12 V) on one bus, the hand's sixteen SCS0009 (5 V)
# on another (ids 1..7 and 1..16 would clash on one bus); its sim model composes both MJCFs (sim.hopejr). Teleop: the
# keyboard's hand poses drive the hand with the arm holding (no leader arm exists; the Homunculus exoskeleton and glove
# drive the arm and hand joints by name). The ee model (``source=gamepad``: IK of the arm) moves the hand's grasp centre
# in a box in front of the shoulder (home: (0.26, -0.055, 0.075) m; above 4 cm the opposed thumb clears the table; palm
# down, sim.ik reaches most of the box from home, not all of it above 8 cm: a best effort there). Sim task: the
# dexterous lift (sim.hopejr).
HOPEJR_EE = EEModel(
    HOPEJR_ARM.joint_names,
    None,
    Workspace(np.array([0.16, -0.22, 0.04]), np.array([0.36, 0.06, 0.16])),
    HOPEJR_HAND_GRASP_OFFSET,
)
HOPEJR_MODEL = RobotModel(
    spec=HOPEJR,
    buses=(Bus(Role.FOLLOWER, "", HOPEJR_ARM_FOLLOWER, "arm"), Bus(Role.FOLLOWER, "", HOPEJR_HAND_DESC, "hand")),
    sim=HOPEJR_SIM,
    tasks=HOPEJR_FAMILY,
    ee=HOPEJR_EE,
    keyboard=KeyboardTeleop.HAND_POSES,
    emulator_offsets_ticks=HOPEJR_ARM_MODEL.emulator_offsets_ticks + HOPEJR_HAND_MODEL.emulator_offsets_ticks,
)

#: Every robot model twinarm knows, by name: the one table of models.
MODELS: dict[str, RobotModel] = {
    m.name: m
    for m in (
        SO101_MODEL,
        KOCH_MODEL,
        AMAZING_HAND_MODEL,
        SO101_AMAZING_HAND_MODEL,
        LEAP_HAND_MODEL,
        HOPEJR_ARM_MODEL,
        HOPEJR_HAND_MODEL,
        HOPEJR_MODEL,
    )
}


def get_model(name: str) -> RobotModel:
    """The registry entry of robot model ``name``; a :class:`ConfigError` lists the valid names."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown robot model {name!r}; valid models: {', '.join(sorted(MODELS))}") from None
