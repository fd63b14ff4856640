"""The HopeJR arm in simulation: its servo classes (STS3250, SM8512BL) and physics (both published builds), sim model,
task layout and tasks.

The model is ``models/hopejr_arm.xml`` (its one place of dimensions, each with its source) in
``models/scene_hopejr_arm.xml``. Servo physics: the motor mix of each build (hardware/hopejr_arm.py; ``sim`` never
imports ``hardware``, so the mix is repeated here as servo classes) on the arm's 12 V supply (HOPEJr BOM: "12V - 5A"
for the arm) at the factory P_Coefficient 32 the driver writes. Default: the bill-of-materials build. Hidden
realities: either build (the small joints carry 12 V STS3215 or STS3250 servos).

Tasks: the arm family's ``reach`` rule (:mod:`sim.arm_tasks`) with the HopeJR's layout: the flange centre (the
``grasp`` site; no hand yet) to a target in front of the shoulder. No gripper: lift and place need the hand.
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.models import HOPEJR_ARM
from twinarm.sim.arm_tasks import ArmLayout, Reach
from twinarm.sim.servo_models import (
    DEFAULT_DELAY_S,
    STS3215_12V,
    STS3215_TIME_CONSTANT_S,
    STS_TICK_RAD,
    STS_VELOCITY_STEP_RAD_S,
    TWO_PI,
)
from twinarm.sim.servo_physics import XML_PRESET, RealityFamily, ServoClass, ServoPhysics
from twinarm.sim.sim_params import Sensing, SimParams
from twinarm.sim.sim_robot import MODELS_DIR, SimModel
from twinarm.sim.tasks import Box


# -- Feetech STS3250 and SM8512BL servo classes ------------------------------------------------------------------
# No public system identification of either exists that we know of. Derived from the datasheet figures (hardware/
# feetech/tables.py: STS3250 4.90 N m stall and 7.87 rad/s no-load at 12 V, Feetech specification; SM8512BL 8.34 N m
# stall at 12 V, the BOM listing, and 60 rev/min = 6.28 rad/s, unverified) on the identified 12 V STS3215
# (sim.servo_models): the same Feetech position loop turns P_Coefficient into PWM duty, and a DC motor's torque at a
# given duty is proportional to its stall torque, so kp per P scales with stall torque (11.7 / 16 x stall / 2.9).
# Damping is the back-EMF figure stall torque / no-load speed (0.62 for the STS3250; the 12 V STS3215 gives
# 2.9 / 4.71 = 0.62, close to its identified 0.60); armature = damping x the identified STS3215 time constant (47 ms,
# as for the Dynamixel classes; the SM8512BL is brushless: its time constant is ASSUMED alike); frictionloss = the
# 12 V STS3215's 0.196 N m scaled by stall torque (ASSUMED). Sensing: the STS tick and velocity step (4096 ticks per
# turn, both models).
def feetech_from_datasheet(name: str, stall_nm: float, no_load_rad_s: float) -> ServoClass:
    """A 12 V Feetech STS/SMS servo class from its stall torque [N m] and no-load speed [rad/s] at 12 V (see above)."""
    damping = stall_nm / no_load_rad_s
    scale = stall_nm / STS3215_12V.stall(12.0)
    return ServoClass(
        name, STS3215_12V.kp_per_p * scale, 0.0, damping, damping * STS3215_TIME_CONSTANT_S,
        STS3215_12V.frictionloss * scale, {12.0: stall_nm}, STS_TICK_RAD, STS_VELOCITY_STEP_RAD_S,
    )  # fmt: skip


STS3250 = feetech_from_datasheet("sts3250", 4.90, np.radians(60) / 0.133)
SM8512BL = feetech_from_datasheet("sm8512bl", 8.34, 60 * TWO_PI / 60)

#: The factory P_Coefficient the driver writes (hardware/hopejr_arm.py HOPEJR_ARM_P_GAIN).
HOPEJR_P_COEFFICIENT = 32
HOPEJR_SUPPLY_V = 12.0  # [V] the arm's supply (HOPEJr Arm/BOM.md)
#: Joints whose servo differs between the builds (12 V STS3215 in the BOM, STS3250 in LeRobot's driver).
SMALL_JOINTS = ("shoulder_roll", "wrist_roll", "wrist_yaw", "wrist_pitch")
#: The servo at each of the other joints in both builds.
FIXED_SERVOS = {"shoulder_pitch": SM8512BL, "shoulder_yaw": STS3250, "elbow_flex": STS3250}

#: The reach point in the ``gripperframe`` site frame [m]: the flange centre (a hand mounted later brings its own).
HOPEJR_GRASP_OFFSET = (0.0, 0.0, 0.0)


def hopejr_arm_params(
    small: ServoClass, supply_v: float = HOPEJR_SUPPLY_V, delay_s: float = DEFAULT_DELAY_S
) -> SimParams:
    """The HopeJR arm with ``small`` on :data:`SMALL_JOINTS` (STS3215_12V: the BOM build, STS3250: LeRobot's) and
    :data:`FIXED_SERVOS` elsewhere, on a ``supply_v`` [V] supply, at the driver's P_Coefficient."""
    servos = {j: FIXED_SERVOS.get(j, small) for j in HOPEJR_ARM.joint_names}
    joints = {j: servo.joint(HOPEJR_P_COEFFICIENT, supply_v) for j, servo in servos.items()}
    sensing = Sensing(small.position_resolution_rad, small.velocity_resolution_rad_s)
    build = "bom" if small is STS3215_12V else "lerobot"
    return SimParams(joints, delay_s, sensing, f"hopejr_arm_{build}_{supply_v:g}v")


HOPEJR_ARM_PHYSICS = ServoPhysics(
    presets={
        XML_PRESET: lambda: None,
        "hopejr_arm_bom_12v": lambda: hopejr_arm_params(STS3215_12V),
        "hopejr_arm_lerobot_12v": lambda: hopejr_arm_params(STS3250),
    },
    default="hopejr_arm_bom_12v",
    reality=RealityFamily(((STS3215_12V, HOPEJR_SUPPLY_V), (STS3250, HOPEJR_SUPPLY_V)), hopejr_arm_params),
)

# A ready pose: the flange 14 cm above the table at (0.22, -0.06) m, palm down, fingers pointing forward (solved with
# sim.ik on this model).
HOPEJR_ARM_HOME = (0.11, 0.08, -0.08, 2.04, 1.69, -0.33, 0.61)
HOPEJR_ARM_SIM = SimModel(
    spec=HOPEJR_ARM,
    xml=MODELS_DIR / "scene_hopejr_arm.xml",
    home=HOPEJR_ARM_HOME,
    physics=HOPEJR_ARM_PHYSICS,
)

# In front of the right shoulder (at x = 0, y = 0; the yaw axis 5.6 cm to its right) the palm-down flange reaches
# x 0.12..0.30 m, y -0.20..0.08 m at 4..10 cm above the table (sim.ik on our model, within the joint ranges); the boxes
# keep inside that. Cube and zone boxes: unused (no hand), kept so the scene's objects have a place.
HOPEJR_ARM_LAYOUT = ArmLayout(
    cube_xy_yaw=Box((0.16, -0.14, -np.pi / 4), (0.26, 0.02, np.pi / 4)),
    target_xyz=Box((0.16, -0.16, 0.05), (0.28, 0.04, 0.12)),
    zone_x_absy=Box((0.16, 0.04), (0.26, 0.10)),
    gripper_open=0.0,
)

#: The HopeJR arm's tasks (task names are unique across robots; the rule is the arm family's).
HOPEJR_ARM_TASKS = {"hopejr_arm_reach": Reach}
