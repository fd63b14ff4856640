"""Servo models from public identifications, and the named sim-parameter presets built from them.

Every figure cites its source (see /work/shared/reference/servos.md, "Identified servo dynamics"). The
position gain scales with the P_Coefficient the driver writes; the force limit is the stall torque at the
supply voltage times the Torque_Limit the driver writes. Joint damping is the identified total, back-EMF included,
so the position actuator gets no kv on top. ``sim`` never imports ``hardware``: the register values the driver
writes are duplicated here as data, with a comment naming where the driver sets them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import NamedTuple

from twinarm.sim.sim_params import JointParams, Sensing, SimParams, SimParamsError

TWO_PI = 2.0 * math.pi


class ServoClass(NamedTuple):
    """An identified servo: ``kp_per_p`` [N·m/rad per unit of P_Coefficient] (None: gain not identified, use
    ``kp_fixed``), joint ``damping`` [N·m·s/rad], ``armature`` [kg·m²], ``frictionloss`` [N·m], stall torque [N·m]
    by supply voltage [V], sensing resolution."""

    name: str
    kp_per_p: float | None
    kp_fixed: float
    damping: float
    armature: float
    frictionloss: float
    stall_torque_nm: Mapping[float, float]
    position_resolution_rad: float
    velocity_resolution_rad_s: float

    def stall(self, supply_v: float) -> float:
        if supply_v not in self.stall_torque_nm:
            valid = ", ".join(f"{v:g}" for v in sorted(self.stall_torque_nm))
            raise SimParamsError(f"{self.name}: no stall torque known at {supply_v:g} V; valid supplies [V]: {valid}")
        return self.stall_torque_nm[supply_v]

    def joint(self, p_coefficient: int | None, supply_v: float, torque_limit: int = 1000) -> JointParams:
        """Joint parameters at P_Coefficient ``p_coefficient`` (None: the servo's own gain) and Torque_Limit
        ``torque_limit`` [0.1 % of stall, 0..1000] on a ``supply_v`` [V] supply."""
        if self.kp_per_p is None or p_coefficient is None:
            kp = self.kp_fixed
        else:
            kp = self.kp_per_p * p_coefficient
        force = self.stall(supply_v) * torque_limit / 1000.0
        return JointParams(kp, self.damping, self.armature, self.frictionloss, force)


# STS Present_Velocity unit: 0.732 rpm (= 50 ticks/s at 4096 ticks/turn), i.e. ~0.077 rad/s steps (servos.md;
# the driver's hardware/robots.py COARSE_SPEED_UNIT_TPS uses the same unit).
STS_VELOCITY_STEP_RAD_S = 0.732 * TWO_PI / 60.0
STS_TICK_RAD = TWO_PI / 4096  # 4096 ticks per turn (servos.md, STS3215 control table)

# STS3215, 7.4 V variant, Rhoban BAM bench (servos.md): kp 17.8 N·m/rad at P_Coefficient 32, proportional to P;
# damping 0.60 N·m·s/rad (back-EMF included); frictionloss 0.052 N·m; armature 0.028 kg·m². Stall torque about
# 1.6 N·m at 6 V and about 1.4 N·m on a 5 V supply (servos.md, "Stall torque").
STS3215_7V4 = ServoClass(
    "sts3215_7v4", 17.8 / 32, 17.8 / 2, 0.60, 0.028, 0.052, {6.0: 1.6, 5.0: 1.4}, STS_TICK_RAD, STS_VELOCITY_STEP_RAD_S
)
# STS3215, 12 V variant: kp 11.7 N·m/rad at P = 16, K-Scale sysid data (960 runs, P 4..32); armature 0.0325 kg·m²
# and Coulomb friction 0.196 N·m from BAM's 12 V model (params/feetech_sts3215_12V). Damping: BAM's 12 V model lists
# only the mechanical viscous term (0.0305) beside its motor model, so the identified total of the 7.4 V bench
# (0.60, back-EMF included) stands in for it (verify). Stall torque about 2.9 N·m at 12 V (servos.md).
STS3215_12V = ServoClass(
    "sts3215_12v", 11.7 / 16, 11.7, 0.60, 0.0325, 0.196, {12.0: 2.9}, STS_TICK_RAD, STS_VELOCITY_STEP_RAD_S
)
# SCS0009 (the Amazing Hand's servo): no public identification of its gains; kp 2.0 N·m/rad and damping 0.02 are
# the hand model's own figures (models/amazing_hand.xml class "hand"); the hand driver keeps the servos' own gains
# (no P written). Stall torque about 0.23 N·m at 6 V, 0.19 N·m at 5 V (the hand's supply); 1024 ticks over
# 300 deg (servos.md). Velocity resolution: not documented here, left exact.
SCS0009 = ServoClass("scs0009", None, 2.0, 0.02, 0.0, 0.0, {6.0: 0.23, 5.0: 0.19}, math.radians(300.0) / 1024, 0.0)

# What the SO-101 follower driver writes (hardware/motors.py, ArmDescription and GripperLimits): P_Coefficient 16
# on every joint; on the gripper Torque_Limit 500 (0.1 % units: 50 %) and Overload_Torque 25 (% after overload);
# the other joints keep the factory Torque_Limit 1000 (100 %).
SO101_P_COEFFICIENT = 16
SO101_GRIPPER_TORQUE_LIMIT = 500
SO101_GRIPPER_OVERLOAD_PERCENT = 25
# Time saturated before the overload cut-back: the STS Protection_Time register (addr 35, 10 ms units); 2 s is an
# assumed factory figure (verify on a servo); sysid can refit it.
OVERLOAD_AFTER_S = 2.0
# Command-to-motion delay of a real USB adapter + servo + loop: tens of ms; 15-45 ms is the range to model
# (servos.md); the default is its middle.
DEFAULT_DELAY_S = 0.03


def so101_params(servo: ServoClass, supply_v: float, delay_s: float = DEFAULT_DELAY_S, name: str = "") -> SimParams:
    """The SO-101 follower with ``servo`` on every joint, configured as the driver configures it."""
    from twinarm.robot.models import SO101

    joints = {j: servo.joint(SO101_P_COEFFICIENT, supply_v) for j in SO101.joint_names}
    stall = servo.stall(supply_v)
    joints["gripper"] = servo.joint(SO101_P_COEFFICIENT, supply_v, SO101_GRIPPER_TORQUE_LIMIT)._replace(
        overload_force_limit=stall * SO101_GRIPPER_OVERLOAD_PERCENT / 100.0, overload_after_s=OVERLOAD_AFTER_S
    )
    sensing = Sensing(servo.position_resolution_rad, servo.velocity_resolution_rad_s)
    return SimParams(joints, delay_s, sensing, name or f"{servo.name}_{supply_v:g}v")


def amazing_hand_params(supply_v: float = 5.0, delay_s: float = DEFAULT_DELAY_S) -> SimParams:
    """The Amazing Hand's 8 SCS0009 on their tendons (motor names), at full Torque_Limit."""
    motors = [f"{finger}_m{k}" for finger in ("index", "middle", "ring", "thumb") for k in (1, 2)]
    sensing = Sensing(SCS0009.position_resolution_rad, SCS0009.velocity_resolution_rad_s)
    return SimParams({m: SCS0009.joint(None, supply_v) for m in motors}, delay_s, sensing, f"scs0009_{supply_v:g}v")


#: Named presets per robot model, for ``sim.params=<name>``; ``xml`` = the MJCF's own figures, nothing applied.
PRESETS: dict[str, dict[str, Callable[[], SimParams | None]]] = {
    "so101": {
        "xml": lambda: None,
        "sts3215_7v4_5v": lambda: so101_params(STS3215_7V4, 5.0),
        "sts3215_7v4_6v": lambda: so101_params(STS3215_7V4, 6.0),
        "sts3215_12v": lambda: so101_params(STS3215_12V, 12.0),
    },
    "amazing_hand": {
        "xml": lambda: None,
        "scs0009_5v": lambda: amazing_hand_params(5.0),
    },
}

#: The preset a robot's simulator uses when no ``sim.params`` is given.
DEFAULT_PRESET: dict[str, str] = {"so101": "sts3215_7v4_5v", "amazing_hand": "xml"}


def preset(model: str, name: str) -> SimParams | None:
    """Preset ``name`` of robot ``model`` (None for ``xml``); a SimParamsError lists the valid names."""
    presets = PRESETS.get(model, {"xml": lambda: None})
    if name not in presets:
        raise SimParamsError(f"sim.params={name!r}: no such preset for {model}; valid presets: {', '.join(presets)}")
    return presets[name]()


def default_params(model: str) -> SimParams | None:
    """The sim parameters robot ``model`` is simulated with by default (None: the MJCF's own figures)."""
    return preset(model, DEFAULT_PRESET.get(model, "xml"))


def resolve_params(model: str, value: SimParams | str | None) -> SimParams | None:
    """``sim.params`` as given: "" = the default of robot ``model``, a preset name, a ``sim_params.json`` path,
    a :class:`SimParams` (as is) or None (the MJCF's own figures)."""
    if value is None or isinstance(value, SimParams):
        return value
    if value == "":
        return default_params(model)
    if value in PRESETS.get(model, {"xml": None}):
        return preset(model, value)
    if value.endswith(".json") or "/" in value:
        from twinarm.sim.sim_params import load_sim_params

        return load_sim_params(value)
    return preset(model, value)  # raises, listing the valid presets
