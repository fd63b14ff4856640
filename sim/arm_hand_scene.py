"""The SO-101 with the Amazing Hand on its wrist: the composed MuJoCo model and handles to its scene.

The model is composed (``sim.mjcf_compose``), not written out: ``scene_so101.xml`` (arm, table, `front` camera)
without the gripper's jaws, wrist camera, cube and task markers; the hand's ``palm`` body of ``amazing_hand.xml``
(its fingers, tendons, servo actuators and phalanx couplings) on the wrist-roll link in place of the gripper,
without the free joint, mocap wrist and weld that hold it in the hand-only scene; and the hand scene's ``object``
body of ``scene_hand.xml`` (sphere, cylinder or box; names prefixed ``scene_``) on the table. The hand brings the
`wrist` camera. Actuators: the five arm servos, then the hand's eight (``robot.transmission.block``).

Mount (an assumption: the stored AmazingHand repository publishes no SO-100/SO-101 adapter; its README says the
wrist interface is designed for Reachy2's wrist and "can be easily adapted to other robot's wrist"): the hand's
wrist interface sits on the wrist-roll axis 15 mm past the roll link's frame origin (where the gripper's jaw
body starts, so101.xml), fingers along the roll axis away from the arm, a half turn about the link's x axis.

Objects: drawn as in ``sim.hand_scene`` (shapes, sizes, densities), placed in front of the arm (``OBJECT_XY_YAW``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from twinarm.robot.models import AMAZING_HAND, HAND_FINGERS, SO101_AMAZING_HAND, SO101_ARM
from twinarm.robot.transmission import block, finger_pairs, identity
from twinarm.sim.hand_scene import AMAZING_LAYOUT, OBJECT_SHAPES, OPEN_FLEXION, HandLayout, HandObject, set_object
from twinarm.sim.mjcf_compose import Attachment, Composition
from twinarm.sim.servo_models import SCS0009, STS3215_7V4, STS3215_12V, amazing_hand_params, so101_params
from twinarm.sim.servo_physics import XML_PRESET, RealityFamily, ServoClass, ServoPhysics
from twinarm.sim.sim_params import SimParams
from twinarm.sim.sim_robot import MODELS_DIR, SimModel, SimRobot
from twinarm.sim.tasks import Box

OBJECT_PREFIX = "scene_"  # names of the attached hand-scene object
HAND_MOUNT_POS = (0.0, 0.0, -0.015)  # [m] in the wrist-roll link frame (the assumption above)
HAND_MOUNT_QUAT = (0.0, 0.0, 1.0, 0.0)  # half turn about the link y axis: fingers along its -z, palm facing its -x

COMPOSITION = Composition(
    attachments=(
        Attachment(
            MODELS_DIR / "amazing_hand.xml",
            "palm",
            "gripper",
            HAND_MOUNT_POS,
            HAND_MOUNT_QUAT,
            drop=("joint:wrist_mount", "equality:wrist", "body:wrist"),
        ),
        Attachment(MODELS_DIR / "scene_hand.xml", "object", "", (0.25, 0.0, 0.025), prefix=OBJECT_PREFIX),
    ),
    remove=("moving_jaw_so101_v1", "camera_mount", "cube", "target", "zone"),
    clear=("gripper",),
    exclude=(("wrist", "palm"), ("gripper", "palm")),
)


def arm_hand_params(servo: ServoClass, supply_v: float) -> SimParams:
    """The arm's five servos (``servo`` on ``supply_v`` [V]) configured as the SO-101 driver configures them, and the
    hand's eight SCS0009 on its own 5 V supply (``sim.servo_models``). One sensing model per robot: the arm's STS
    steps (the hand's coarser SCS0009 ticks, 300 deg / 1024, are not modelled)."""
    arm = so101_params(servo, supply_v)
    hand = amazing_hand_params(SCS0009, 5.0)
    joints = {name: arm.joints[name] for name in SO101_ARM.joint_names} | dict(hand.joints)
    return SimParams(joints, arm.action_delay_s, arm.sensing, f"{arm.name}+{hand.name}")


#: Presets and hidden realities: the SO-101's servo classes on the arm (servos.md, "Stall torque"), the hand's
#: SCS0009 on 5 V. Default: the identified 7.4 V arm servo on a 5 V supply, as for the SO-101 alone.
ARM_HAND_PHYSICS = ServoPhysics(
    presets={
        XML_PRESET: lambda: None,
        "sts3215_7v4_5v": lambda: arm_hand_params(STS3215_7V4, 5.0),
        "sts3215_7v4_6v": lambda: arm_hand_params(STS3215_7V4, 6.0),
        "sts3215_12v": lambda: arm_hand_params(STS3215_12V, 12.0),
    },
    default="sts3215_7v4_5v",
    reality=RealityFamily(((STS3215_7V4, 6.0), (STS3215_7V4, 5.0), (STS3215_12V, 12.0)), arm_hand_params),
)

# arm: a ready pose, palm down and fingers forward with the grasp centre at (0.23, 0, 0.125) m (solved with sim.ik
# on this model); hand open
ARM_HOME = (0.0, -1.255, 1.28, -0.025, 0.049)
SO101_AMAZING_HAND_SIM = SimModel(
    spec=SO101_AMAZING_HAND,
    xml=MODELS_DIR / "scene_so101.xml",
    home=ARM_HOME + (OPEN_FLEXION, 0.0) * len(HAND_FINGERS),
    transmission=block(identity(SO101_ARM.num_joints), finger_pairs(len(HAND_FINGERS))),
    physics=ARM_HAND_PHYSICS,
    composition=COMPOSITION,
)
ARM_JOINTS = SO101_ARM.joint_names
HAND_JOINTS = AMAZING_HAND.joint_names

# object centre on the table [m], yaw [rad]: in front of the arm, within the palm-down hand's reach
OBJECT_XY_YAW = Box((0.24, -0.035, -np.pi / 6), (0.28, 0.035, np.pi / 6))


class ArmHandLayout(NamedTuple):
    """What an arm + hand scene needs of its hand: the ``fingers`` whose ``{finger}_tip`` sites the task reads,
    the ``couplings`` set at reset (follower joint, driver joint, ratio: follower = ratio x driver [rad/rad]), where
    the object is drawn (``object_xy_yaw``: centre x, y [m], yaw [rad]) and the ``hand`` layout whose object sizes
    and densities it draws from."""

    fingers: tuple[str, ...]
    couplings: tuple[tuple[str, str, float], ...]
    object_xy_yaw: Box
    hand: HandLayout


#: The SO-101 with the Amazing Hand: distal phalanges at half the flexion (sim.hand_scene), objects in front of the arm.
SO101_AMAZING_HAND_LAYOUT = ArmHandLayout(
    HAND_FINGERS, tuple((f"{f}_distal", f"{f}_flexion", 0.5) for f in HAND_FINGERS), OBJECT_XY_YAW, AMAZING_LAYOUT
)


class ArmHandScene:
    """Handles to the object, grasp site and finger tips of the composed model in a connected SimRobot."""

    def __init__(self, robot: SimRobot, layout: ArmHandLayout = SO101_AMAZING_HAND_LAYOUT) -> None:
        m = robot.model
        self.robot = robot
        self.layout = layout
        self.object_qpos = m.jnt_qposadr[m.joint(OBJECT_PREFIX + "object").id]
        self.object_body = m.body(OBJECT_PREFIX + "object").id
        self.object_geoms = {shape: m.geom(f"{OBJECT_PREFIX}object_{shape}").id for shape in OBJECT_SHAPES}
        self.object_rgba = m.geom_rgba[self.object_geoms["sphere"]].copy()
        self.grasp_site = m.site("grasp_center").id
        tips = [m.site(f"{f}_tip").id for f in layout.fingers]
        consecutive = tips == list(range(tips[0], tips[0] + len(tips)))
        self.tip_sites = slice(tips[0], tips[0] + len(tips)) if consecutive else np.array(tips)  # a view if it can
        self.distal_qpos = np.array([m.jnt_qposadr[m.joint(c[0]).id] for c in layout.couplings], dtype=int)
        self.flexion_qpos = np.array([m.jnt_qposadr[m.joint(c[1]).id] for c in layout.couplings], dtype=int)
        self.coupling_ratio = np.array([c[2] for c in layout.couplings])
        self.object: HandObject | None = None

    def configure_object(self, obj: HandObject) -> None:
        """Enable ``obj``'s shape at its size and mass (the others neither collide nor show); recomputes the
        model's constants, which resets the state: call :meth:`reset_robot` afterwards."""
        set_object(self.robot, self.object_geoms, self.object_body, self.object_rgba, obj)
        self.object = obj

    def reset_robot(self) -> None:
        """Reset the physics with the robot at home, coupled joints (distal phalanges) set from their drivers."""
        self.robot.reset()
        q = self.robot.data.qpos
        q[self.distal_qpos] = self.coupling_ratio * q[self.flexion_qpos]

    def place_object(self, x: float, y: float, yaw: float) -> None:
        """Put the configured object at rest on the table, centre at ``x``, ``y`` [m], turned by ``yaw`` [rad]."""
        q, a = self.robot.data.qpos, self.object_qpos
        q[a : a + 3] = (x, y, self.object.half_height)
        q[a + 3 : a + 7] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))

    def privileged(self) -> dict[str, np.ndarray]:
        """Object pose [m, quaternion w x y z], shape index and size [m], grasp centre [m]."""
        d, a = self.robot.data, self.object_qpos
        pose = d.qpos[a : a + 7].copy()
        obj = self.object
        shape = OBJECT_SHAPES.index(obj.shape) if obj is not None else 0
        size = obj.size if obj is not None else (0.0, 0.0, 0.0)
        return {
            "object_pos": pose[:3],
            "object_quat": pose[3:],
            "object_shape": np.array(shape),
            "object_size": np.array(size),
            "grasp_pos": d.site_xpos[self.grasp_site].copy(),
        }
