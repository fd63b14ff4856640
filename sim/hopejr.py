"""The HopeJR arm with the HopeJR hand on its wrist (``hopejr``): the composed MuJoCo model, its physics and home.

The model is composed (``sim.mjcf_compose``), not written out: ``scene_hopejr_arm.xml`` (arm, table, floor, `front`
camera) without the reach task's cube, target and zone; the hand's ``palm`` body of ``hopejr_hand.xml`` (fingers,
tendons, the 16 servo actuators, the PIP-DIP couplings, the `wrist` camera and the ``grasp_center`` / tip sites) on
the arm's empty ``hand_mount`` body, without the free joint, mocap wrist and weld that hold it in the hand-only scene.
Actuators: the arm's seven servos, then the hand's sixteen (``robot.transmission.block``: the arm 1:1, the hand's
tendon transmission).
The hand scene's ``object`` body of ``scene_hopejr_hand.xml`` (sphere, cylinder or box; names prefixed ``scene_``)
rests on the table in front of the hand.

Task ``hopejr_dexterous_lift`` (env ``twinarm/HopeJRDexterousLift-v0``): the arm + hand family's dexterous lift rule
(``sim.arm_hand_tasks``: held >= 5 cm above its resting height within 4 cm of the grasp centre; 240 steps, 8 s) with
the hand's objects (``sim.hopejr_hand``) drawn in front of the right shoulder (:data:`HOPEJR_ARM_HAND_LAYOUT`).
Expert: ``sim.hopejr_expert`` (198 of 200 seeds, 0-199).

Mount: ``hand_mount`` is the wrist flange (``models/hopejr_arm.xml``: x = palm normal, z = along the fingers, its origin
where the hand's base starts) and the palm's own frame is the same (``models/hopejr_hand.xml``: +x palm front, +z along
the fingers, +y the thumb and index side, its origin at the wrist end of the palm), so the palm goes on at the flange
with no offset and no turn (:data:`HAND_MOUNT_POS`, :data:`HAND_MOUNT_QUAT`). At the arm's zero pose (hanging, palm
facing the body, thumb side forward) this puts the palm towards the body (+y world) and the thumb and index forward (+x
world): a right hand in the anatomical neutral pose (tests/sim/test_sim_hopejr.py checks it). NEEDS A CHECK ON A REAL
HOPEJR: the real hand sits in the forearm's continuation with its own wrist parts; any offset between the arm's flange
and the hand's palm base is not published (a community URDF gives the 30 mm from the wrist pitch axis to the hand base
that the arm model already uses).
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.hopejr_hand import COUPLINGS, FINGERS, TRANSMISSION
from twinarm.robot.models import HOPEJR, HOPEJR_ARM
from twinarm.robot.transmission import block, identity
from twinarm.sim.arm_hand_scene import ArmHandLayout
from twinarm.sim.arm_hand_tasks import DexterousLift
from twinarm.sim.hopejr_arm import HOPEJR_SUPPLY_V, STS3250, hopejr_arm_params
from twinarm.sim.hopejr_hand import HOPEJR_LAYOUT, HOPEJR_OPEN_POSE
from twinarm.sim.mjcf_compose import Attachment, Composition
from twinarm.sim.servo_models import SCS0009, STS3215_12V, hopejr_hand_params
from twinarm.sim.servo_physics import XML_PRESET, RealityFamily, ServoClass, ServoPhysics
from twinarm.sim.sim_params import SimParams
from twinarm.sim.sim_robot import MODELS_DIR, SimModel
from twinarm.sim.tasks import Box, Task

HAND_MOUNT_POS = (0.0, 0.0, 0.0)  # [m] in the hand_mount frame (see above: the flange is the palm's base)
HAND_MOUNT_QUAT = (1.0, 0.0, 0.0, 0.0)  # the flange and palm frames agree (see above)
#: The hand's ``grasp_center`` site in the flange's ``gripperframe`` frame [m] (the palm frame: the mount's identity):
#: what end-effector teleop moves (models/hopejr_hand.xml).
HOPEJR_HAND_GRASP_OFFSET = (0.105, 0.005, 0.06)
HAND_SUPPLY_V = 5.0  # [V] the hand's own supply (TheRobotStudio/HOPEJr Arm/BOM.md: "5V - 4A" for the hand)
OBJECT_PREFIX = "scene_"  # names of the attached hand-scene object
OBJECT_REST = (0.30, -0.07, 0.035)  # [m] the object's place until a task draws it (the scene file's sphere, at rest)

COMPOSITION = Composition(
    attachments=(
        Attachment(
            MODELS_DIR / "hopejr_hand.xml",
            "palm",
            "hand_mount",
            HAND_MOUNT_POS,
            HAND_MOUNT_QUAT,
            drop=("joint:wrist_mount", "equality:wrist", "body:wrist"),
        ),
        Attachment(MODELS_DIR / "scene_hopejr_hand.xml", "object", "", OBJECT_REST, prefix=OBJECT_PREFIX),
    ),
    remove=("cube", "target", "zone"),
    exclude=(("wrist_pitch_link", "palm"), ("wrist_link", "palm"), ("forearm", "palm")),
)


def hopejr_params(small: ServoClass, supply_v: float = HOPEJR_SUPPLY_V) -> SimParams:
    """The arm's seven servos (``small`` on its small joints, ``supply_v`` [V]: ``sim.hopejr_arm.hopejr_arm_params``)
    and the hand's sixteen SCS0009 on the hand's own 5 V supply (``sim.servo_models.hopejr_hand_params``). One
    sensing model and delay per robot: the arm's (the SCS0009's coarser ticks are not modelled here)."""
    arm = hopejr_arm_params(small, supply_v)
    hand = hopejr_hand_params(SCS0009, HAND_SUPPLY_V)
    return SimParams(dict(arm.joints) | dict(hand.joints), arm.action_delay_s, arm.sensing, f"{arm.name}+{hand.name}")


#: Presets and hidden realities: either published arm build (sim.hopejr_arm) with the hand's SCS0009 on 5 V.
HOPEJR_PHYSICS = ServoPhysics(
    presets={
        XML_PRESET: lambda: None,
        "hopejr_bom_12v": lambda: hopejr_params(STS3215_12V),
        "hopejr_lerobot_12v": lambda: hopejr_params(STS3250),
    },
    default="hopejr_bom_12v",
    reality=RealityFamily(((STS3215_12V, HOPEJR_SUPPLY_V), (STS3250, HOPEJR_SUPPLY_V)), hopejr_params),
)

#: arm: a ready pose in front of the body: the flange at (0.20, -0.06, 0.18) m, palm down, fingers along +x (solved
#: with sim.ik on this model; the opposed thumb's tip 4.6 cm and the grasp centre 7.5 cm above the table: the arm
#: alone's home, 14 cm, would put the thumb on the table); hand: its open pose (fingers flat, the thumb opposed)
HOPEJR_ARM_READY = (0.169, 0.153, -0.069, 2.293, 1.501, -0.152, 0.88)
HOPEJR_SIM = SimModel(
    spec=HOPEJR,
    xml=MODELS_DIR / "scene_hopejr_arm.xml",
    home=HOPEJR_ARM_READY + tuple(HOPEJR_OPEN_POSE.tolist()),
    transmission=block(identity(HOPEJR_ARM.num_joints), TRANSMISSION),
    physics=HOPEJR_PHYSICS,
    composition=COMPOSITION,
)

#: Where the hand's wrist (the palm's origin) grasps an object from: the hand-alone grasp's geometry (sim.hopejr_hand:
#: the wrist 15 cm above the table, the object's centre 6 cm ahead of it along the fingers and 5 mm to the thumb side).
GRASP_WRIST_HEIGHT = 0.15  # [m]
GRASP_UNDER_WRIST = (0.06, 0.005)  # [m] object centre - wrist, world x, y (palm down, fingers along +x)

#: The dexterous lift on this robot: the hand's objects (sim.hopejr_hand: sizes, densities) in front of the right
#: shoulder, where the palm-down hand reaches them and 8 cm above them (sim.ik on this model), any yaw in +-30 deg;
#: the PIP-DIP couplings of robot.hopejr_hand set at reset.
HOPEJR_ARM_HAND_LAYOUT = ArmHandLayout(
    fingers=("thumb", *FINGERS),
    couplings=tuple((c.joint, c.driver, c.ratio) for c in COUPLINGS),
    object_xy_yaw=Box((0.26, -0.10, -np.pi / 6), (0.30, -0.04, np.pi / 6)),
    hand=HOPEJR_LAYOUT,
)

#: Task ids of this robot (the rule is the arm + hand family's dexterous lift: sim.arm_hand_tasks).
HOPEJR_TASKS: dict[str, type[Task]] = {"hopejr_dexterous_lift": DexterousLift}
