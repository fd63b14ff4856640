"""Servo models from public identifications, and each robot model's servo physics built from them.

Every figure cites its source (see /work/shared/reference/servos.md, "Identified servo dynamics"). The
position gain scales with the P_Coefficient the driver writes; the force limit is the stall torque at the
supply voltage times the Torque_Limit the driver writes. Joint damping is the identified total, back-EMF included,
so the position actuator gets no kv on top. ``sim`` never imports ``hardware``: the register values the driver
writes are duplicated here as data, with a comment naming where the driver sets them.

Each model's :class:`sim.servo_physics.ServoPhysics` (its presets, default preset and hidden-reality family) is
defined here and bound to its :class:`sim.sim_robot.SimModel`; :func:`resolve_params` reads it from the model.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from twinarm.robot import hopejr_hand as hopejr_hand_data
from twinarm.robot.models import KOCH, LEAP_HAND, SO101
from twinarm.sim.servo_physics import XML_PRESET, RealityFamily, ServoClass, ServoPhysics
from twinarm.sim.sim_params import Sensing, SimParams, SimParamsError

if TYPE_CHECKING:
    from twinarm.sim.sim_robot import SimModel

TWO_PI = 2.0 * math.pi


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
    joints = {j: servo.joint(SO101_P_COEFFICIENT, supply_v) for j in SO101.joint_names}
    stall = servo.stall(supply_v)
    joints["gripper"] = servo.joint(SO101_P_COEFFICIENT, supply_v, SO101_GRIPPER_TORQUE_LIMIT)._replace(
        overload_force_limit=stall * SO101_GRIPPER_OVERLOAD_PERCENT / 100.0, overload_after_s=OVERLOAD_AFTER_S
    )
    sensing = Sensing(servo.position_resolution_rad, servo.velocity_resolution_rad_s)
    return SimParams(joints, delay_s, sensing, name or f"{servo.name}_{supply_v:g}v")


def amazing_hand_params(servo: ServoClass, supply_v: float, delay_s: float = DEFAULT_DELAY_S) -> SimParams:
    """The Amazing Hand with ``servo`` on its 8 tendon motors (motor names), at full Torque_Limit."""
    motors = [f"{finger}_m{k}" for finger in ("index", "middle", "ring", "thumb") for k in (1, 2)]
    sensing = Sensing(servo.position_resolution_rad, servo.velocity_resolution_rad_s)
    return SimParams({m: servo.joint(None, supply_v) for m in motors}, delay_s, sensing, f"{servo.name}_{supply_v:g}v")


# -- Dynamixel X-series (the Koch v1.1 follower) ------------------------------------------------------------------
# No public system identification of the XL430-W250 or XL330-M288 exists that we know of; these servo classes are
# derived from the ROBOTIS e-Manual datasheets (emanual.robotis.com/docs/en/dxl/x/xl430-w250, .../xl330-m288):
#   stall torque: XL430-W250 1.4 N m at 11.1 V, 1.5 N m at 12.0 V; XL330-M288 0.52 N m at 5.0 V, 0.60 N m at 6.0 V
#   no-load speed: XL430-W250 57 rev/min at 11.1 V, 61 at 12.0 V; XL330-M288 103 rev/min at 5.0 V, 123 at 6.0 V
#   gear ratio: XL430-W250 258.5 : 1, XL330-M288 288.4 : 1; 4096 pulses/turn; Present_Velocity unit 0.229 rev/min
#   PWM Limit 885 (= 100 % duty); Position P Gain factory values 640 (XL430) and 400 (XL330).
# Position gain: the e-Manual's position controller computes a PWM of K_PP * error [pulse] with K_PP = P(84) / 128;
# at standstill a DC motor's torque is the stall torque times the duty, so
#   kp [N m/rad] = (P / 128) * (4096 / 2 pi) / 885 * stall torque   (our derivation from the datasheet, unverified
# on a servo: sysid can refit it). The Position D gain is not modelled (its time unit is not documented).
# Damping: a DC motor's back-EMF gives stall torque / no-load speed at the joint (at 12 V: 1.5 / 6.39 = 0.235;
# XL330 at 5 V: 0.52 / 10.79 = 0.048 N m s/rad); no mechanical viscous term is published.
# Armature and frictionloss are NOT published: ASSUMED. Armature = damping x the mechanical time constant of the
# identified STS3215 (armature / damping = 0.028 / 0.60 = 47 ms, Rhoban BAM): 0.011 (XL430), 0.0022 (XL330) kg m^2.
# Frictionloss 0.05 / 0.02 N m: our round figures, about the STS3215's 0.052 scaled by stall torque.
XL_PULSE_RAD = TWO_PI / 4096
XL_VELOCITY_STEP_RAD_S = 0.229 * TWO_PI / 60.0
XL_PWM_FULL = 885
STS3215_TIME_CONSTANT_S = 0.028 / 0.60  # armature / damping of the identified STS3215 (see STS3215_7V4)


def xl_kp_per_p(stall_torque_nm: float) -> float:
    """Position gain [N m/rad] per unit of Position P Gain for a servo of ``stall_torque_nm`` (see above)."""
    return (1.0 / 128.0) / XL_PULSE_RAD / XL_PWM_FULL * stall_torque_nm


def x_series(name: str, stall_nm: float, no_load_rpm: float, frictionloss: float, stall_by_supply: dict) -> ServoClass:
    """A Dynamixel X-series servo class from its datasheet (see above): ``stall_nm`` [N m] and ``no_load_rpm``
    [rev/min] at the nominal supply give kp per P unit, the back-EMF damping and the assumed armature;
    ``stall_by_supply`` maps supply [V] to stall torque [N m]."""
    damping = stall_nm / (no_load_rpm * TWO_PI / 60)
    return ServoClass(
        name=name,
        kp_per_p=xl_kp_per_p(stall_nm),
        kp_fixed=0.0,
        damping=damping,
        armature=damping * STS3215_TIME_CONSTANT_S,
        frictionloss=frictionloss,
        stall_torque_nm=stall_by_supply,
        position_resolution_rad=XL_PULSE_RAD,
        velocity_resolution_rad_s=XL_VELOCITY_STEP_RAD_S,
    )


XL430_W250 = x_series("xl430_w250", 1.5, 61, 0.05, {12.0: 1.5, 11.1: 1.4})
XL330_M288 = x_series("xl330_m288", 0.52, 103, 0.02, {5.0: 0.52, 6.0: 0.60})
# What a Koch follower driver writes (LeRobot's koch_follower, which the dynamixel helper mirrors): the factory
# Position P Gain everywhere except elbow_flex P 1500 (LeRobot: "better PID values"); extended-position mode, the
# gripper in current-based position mode at the factory Current Limit (1750 mA > the 1.47 A stall current: the full
# stall torque). Supplies: 12 V for the XL430 pair, 5 V for the XL330 chain (koch-v1-1 README: 12 V supply and a
# 5 V reducer).
KOCH_XL430_JOINTS = ("shoulder_pan", "shoulder_lift")
KOCH_P_GAIN = dict(zip(KOCH.joint_names, (640, 640, 1500, 400, 400, 400)))
KOCH_XL330_SUPPLY_V = 5.0


def koch_params(xl430: ServoClass, supply_v: float, delay_s: float = DEFAULT_DELAY_S) -> SimParams:
    """The Koch v1.1 follower: ``xl430`` on a ``supply_v`` [V] supply at shoulder_pan/lift, XL330-M288 at 5 V on the
    other four joints, with the gains of :data:`KOCH_P_GAIN`."""
    joints = {}
    for j in KOCH.joint_names:
        servo, volts = (xl430, supply_v) if j in KOCH_XL430_JOINTS else (XL330_M288, KOCH_XL330_SUPPLY_V)
        joints[j] = servo.joint(KOCH_P_GAIN[j], volts)
    sensing = Sensing(xl430.position_resolution_rad, xl430.velocity_resolution_rad_s)
    return SimParams(joints, delay_s, sensing, f"koch_{supply_v:g}v_{KOCH_XL330_SUPPLY_V:g}v")


# -- Dynamixel XC330-M288-T (the LEAP Hand) -----------------------------------------------------------------------
# ROBOTIS e-Manual (emanual.robotis.com/docs/en/dxl/x/xc330-m288): stall torque 0.69 N m at 3.7 V (1.34 A), 0.93 N m
# at 5.0 V (1.80 A), 1.10 N m at 6.0 V (2.15 A); no-load speed 59 / 81 / 97 rev/min at 3.7 / 5.0 / 6.0 V; gear ratio
# 288.35 : 1; 4096 pulses/turn; same X-series Present_Velocity unit and PWM Limit as above. The LEAP Hand's URDF
# (leap-hand/LEAP_Hand_Sim assets/leap_hand/robot.urdf) gives every joint velocity 8.48 rad/s = 81 rev/min, the 5 V
# figure: the hand runs on 5 V. kp, damping and armature follow the XL derivation above (our derivation, unverified
# on a servo); frictionloss 0.03 N m is ASSUMED (the XL330's 0.02 scaled by stall torque, rounded).
XC330_M288 = x_series("xc330_m288", 0.93, 81, 0.03, {5.0: 0.93, 3.7: 0.69, 6.0: 1.10})
XC330_M288_STALL_CURRENT_MA = {5.0: 1800.0, 3.7: 1340.0, 6.0: 2150.0}  # e-Manual, at the stall torques above
# What the LEAP Hand driver writes (hardware/leap.py, after the LEAP Hand API's main.py): Position P Gain 600, 450 on
# the MCP side joints of index, middle and ring (ids 0, 4, 8); current-based position mode with Goal_Current 550 mA,
# the full hand's cap. A DC motor's torque is proportional to its current, so the cap limits the torque to
# stall torque x 550 / stall current (0.284 N m at 5 V).
LEAP_P_GAIN = tuple(450 if j.endswith("mcp_side") and not j.startswith("thumb") else 600 for j in LEAP_HAND.joint_names)
LEAP_CURRENT_LIMIT_MA = 550.0
LEAP_SUPPLY_V = 5.0


def leap_hand_params(servo: ServoClass, supply_v: float, delay_s: float = DEFAULT_DELAY_S) -> SimParams:
    """The LEAP Hand with ``servo`` on its 16 joints on a ``supply_v`` [V] supply, with the driver's gains and its
    current cap (as a fraction of the stall current at that supply; the XC330-M288's stall currents)."""
    amps = XC330_M288_STALL_CURRENT_MA.get(supply_v, XC330_M288_STALL_CURRENT_MA[LEAP_SUPPLY_V])
    limit = min(1000, round(1000 * LEAP_CURRENT_LIMIT_MA / amps))  # [0.1 % of stall torque]
    joints = {j: servo.joint(p, supply_v, limit) for j, p in zip(LEAP_HAND.joint_names, LEAP_P_GAIN)}
    sensing = Sensing(servo.position_resolution_rad, servo.velocity_resolution_rad_s)
    return SimParams(joints, delay_s, sensing, f"leap_{servo.name}_{supply_v:g}v")


def _none() -> None:
    return None


#: The SO-101's servo physics: presets for ``sim.params=<name>`` (the identified 7.4 V servo on the 5 V supply by
#: default) and its hidden realities: the 7.4 V servo on a 6 V or a 5 V supply, or the 12 V servo (servos.md,
#: "Stall torque").
SO101_PHYSICS = ServoPhysics(
    presets={
        XML_PRESET: _none,
        "sts3215_7v4_5v": lambda: so101_params(STS3215_7V4, 5.0),
        "sts3215_7v4_6v": lambda: so101_params(STS3215_7V4, 6.0),
        "sts3215_12v": lambda: so101_params(STS3215_12V, 12.0),
    },
    default="sts3215_7v4_5v",
    reality=RealityFamily(((STS3215_7V4, 6.0), (STS3215_7V4, 5.0), (STS3215_12V, 12.0)), so101_params),
)
#: The Amazing Hand's: the MJCF's own figures by default (SCS0009 gains are not identified), its SCS0009 on 5 V, and
#: hidden realities on a 6 V or 5 V supply.
AMAZING_HAND_PHYSICS = ServoPhysics(
    presets={XML_PRESET: _none, "scs0009_5v": lambda: amazing_hand_params(SCS0009, 5.0)},
    reality=RealityFamily(((SCS0009, 6.0), (SCS0009, 5.0)), amazing_hand_params),
)


#: The Koch v1.1 follower's: the datasheet-derived servos on the published 12 V / 5 V supplies by default, and hidden
#: realities with the XL430 pair on 12 V or on an 11.1 V (3-cell) supply, the e-Manual's other rated point.
KOCH_PHYSICS = ServoPhysics(
    presets={XML_PRESET: _none, "koch_12v_5v": lambda: koch_params(XL430_W250, 12.0)},
    default="koch_12v_5v",
    reality=RealityFamily(((XL430_W250, 12.0), (XL430_W250, 11.1)), koch_params),
)


#: The LEAP Hand's: the datasheet-derived XC330-M288 on the 5 V supply with the 550 mA cap by default, and hidden
#: realities on 5 V or 6 V (the e-Manual's other rated points; a 6 V supply raises the stall torque and current).
LEAP_HAND_PHYSICS = ServoPhysics(
    presets={XML_PRESET: _none, "xc330_m288_5v": lambda: leap_hand_params(XC330_M288, 5.0)},
    default="xc330_m288_5v",
    reality=RealityFamily(((XC330_M288, 5.0), (XC330_M288, 6.0)), leap_hand_params),
)


# -- HopeJR hand: 16 SCS0009 on its 5 V supply (TheRobotStudio/HOPEJr Arm/BOM.md: "5V - 4A" for the hand) ----------
# The servos pull tendons (robot/hopejr_hand.py): the actuators are the servos, named as them, at full Torque_Limit
# with their own gains (the driver writes none), so the SCS0009 class above applies as is.
def hopejr_hand_params(servo: ServoClass, supply_v: float, delay_s: float = DEFAULT_DELAY_S) -> SimParams:
    """The HopeJR hand with ``servo`` on its 16 tendon servos on a ``supply_v`` [V] supply."""
    sensing = Sensing(servo.position_resolution_rad, servo.velocity_resolution_rad_s)
    joints = {name: servo.joint(None, supply_v) for name in hopejr_hand_data.SERVOS}
    return SimParams(joints, delay_s, sensing, f"hopejr_{servo.name}_{supply_v:g}v")


#: The HopeJR hand's: SCS0009 on 5 V by default (the MJCF's figures are the same), hidden realities on 5 V or 6 V.
HOPEJR_HAND_PHYSICS = ServoPhysics(
    presets={XML_PRESET: _none, "scs0009_5v": lambda: hopejr_hand_params(SCS0009, 5.0)},
    default="scs0009_5v",
    reality=RealityFamily(((SCS0009, 5.0), (SCS0009, 6.0)), hopejr_hand_params),
)


def preset(model: SimModel, name: str) -> SimParams | None:
    """Preset ``name`` of sim model ``model`` (None for ``xml``); a SimParamsError lists the valid names."""
    presets = model.physics.presets
    if name not in presets:
        valid = ", ".join(presets)
        raise SimParamsError(f"sim.params={name!r}: no such preset for {model.spec.name}; valid presets: {valid}")
    return presets[name]()


def default_params(model: SimModel) -> SimParams | None:
    """The sim parameters sim model ``model`` is simulated with by default (None: the MJCF's own figures)."""
    return preset(model, model.physics.default)


def resolve_params(model: SimModel, value: SimParams | str | None) -> SimParams | None:
    """``sim.params`` as given: "" = the default of sim model ``model``, a preset name, a ``sim_params.json`` path,
    a :class:`SimParams` (as is) or None (the MJCF's own figures)."""
    if value is None or isinstance(value, SimParams):
        return value
    if value == "":
        return default_params(model)
    if value in model.physics.presets:
        return preset(model, value)
    if value.endswith(".json") or "/" in value:
        from twinarm.sim.sim_params import load_sim_params

        return load_sim_params(value)
    return preset(model, value)  # raises, listing the valid presets
