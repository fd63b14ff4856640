"""Scripted experts for the Amazing Hand tasks: plans of keyframes in joint space (``sim.plan_expert``).

The command is the joint targets [rad] in the ``AMAZING_HAND`` spec order, starting from the observed pose. It moves
towards each keyframe along a straight line in joint space (the joint with the farthest to go at ``speed``
[rad/s], so all arrive together) and holds it for ``hold_s`` [s]; the command keeps going where a finger is blocked
by the object, so the two servos of a blocked finger push: that is the squeeze.

Grasp: from the object's pose, shape and size the expert finds, on a private copy of the model, the flexion at
which each finger (and the thumb) first touches the object. It pre-shapes every finger 0.25 rad short of that,
closes them all together so they touch the object from both sides at once (a ball cannot roll away), then
squeezes 0.6 rad past contact; all before the task lifts the wrist at 1.5 s. Reach pose: straight to the target.
"""

from __future__ import annotations

from typing import NamedTuple

import mujoco
import numpy as np

from twinarm.robot.models import AMAZING_HAND, HAND_FINGERS
from twinarm.sim.hand_scene import OBJECT_SHAPES, OPEN_FLEXION
from twinarm.sim.plan_expert import PlanExpert
from twinarm.sim.sim_robot import AMAZING_HAND_SIM

FLEXION = np.array([AMAZING_HAND.joint_index(f"{f}_flexion") for f in HAND_FINGERS])
ABDUCTION = np.array([AMAZING_HAND.joint_index(f"{f}_abduction") for f in HAND_FINGERS])
THUMB = HAND_FINGERS.index("thumb")
CLOSED_FLEXION = 1.5708  # [rad], the joint limit: blocked fingers squeeze with both servos


class Keyframe(NamedTuple):
    """Joint targets ``goal`` (n,) [rad], approach ``speed`` [rad/s], ``hold_s`` [s] once reached."""

    goal: np.ndarray
    speed: float
    hold_s: float = 0.0


def finger_pose(flexion: tuple[float, float, float, float], abduction: tuple[float, ...] = (0.0,) * 4) -> np.ndarray:
    """Joint targets (n,) [rad] from per-finger flexion and abduction in ``HAND_FINGERS`` order."""
    q = np.zeros(AMAZING_HAND.num_joints)
    q[FLEXION], q[ABDUCTION] = flexion, abduction
    return q


class HandExpert(PlanExpert[Keyframe]):
    """Follows the keyframes :meth:`plan` makes; distances are the largest joint's [rad], so all arrive together."""

    def distance(self, delta: np.ndarray) -> float:
        return float(np.abs(delta).max())


class ContactRig:
    """A private copy of a hand scene's kinematics (``model``: the hand on its mocap wrist, the object's free body
    with one geom per shape): :meth:`place` poses it as the task's privileged state says, :meth:`first_touch`
    sweeps one digit's joints through ``sweep`` until one of its geoms touches the object."""

    def __init__(self, m: mujoco.MjModel, sweep: np.ndarray) -> None:
        self.model, self.data = m, mujoco.MjData(m)
        self.sweep = sweep
        self.wrist_quat = m.body_quat[m.body("wrist").id].copy()
        self.mount = m.jnt_qposadr[m.joint("wrist_mount").id]
        self.object_qpos = m.jnt_qposadr[m.joint("object").id]
        self.object_geoms = [m.geom(f"object_{shape}").id for shape in OBJECT_SHAPES]

    def digit_geoms(self, prefix: str) -> list[int]:
        """The geoms of the bodies whose names start with ``prefix`` (one finger's links)."""
        m = self.model
        return [g for g in range(m.ngeom) if m.body(m.geom_bodyid[g]).name.startswith(prefix)]

    def place(self, privileged: dict[str, np.ndarray]) -> int:
        """The hand at the default pose on the wrist, the object's shape, size and pose from ``privileged``; returns
        the object's geom id."""
        m, d = self.model, self.data
        obj = self.object_geoms[int(privileged["object_shape"])]
        m.geom_size[obj] = privileged["object_size"]
        d.qpos[:] = m.qpos0
        d.qpos[self.mount : self.mount + 3] = privileged["wrist_pos"]
        d.qpos[self.mount + 3 : self.mount + 7] = self.wrist_quat
        d.qpos[self.object_qpos : self.object_qpos + 3] = privileged["object_pos"]
        d.qpos[self.object_qpos + 3 : self.object_qpos + 7] = privileged["object_quat"]
        return obj

    def first_touch(self, qpos: list[int], direction: np.ndarray, geoms: list[int], obj: int, none: float) -> float:
        """The first sweep value ``s`` at which ``qpos = s * direction`` puts a geom of ``geoms`` on the object
        (``none`` if no value does); the joints go back to 0 afterwards."""
        m, d = self.model, self.data
        try:
            for s in self.sweep:
                d.qpos[qpos] = s * direction
                mujoco.mj_kinematics(m, d)
                if min(mujoco.mj_geomDistance(m, d, g, obj, 1.0, None) for g in geoms) <= 0.0:
                    return float(s)
            return none
        finally:
            d.qpos[qpos] = 0.0


class ContactModel(ContactRig):
    """First-contact flexion of each finger with the object, on a private copy of the scene's kinematics.

    The finger sweeps from open to closed (distal phalanx coupled, abduction 0) in ``step`` [rad] increments; the
    answer is the first flexion at which one of its geoms touches the object (``CLOSED_FLEXION`` if none does).
    """

    DISTAL = np.array((1.0, 0.5))  # (flexion, distal) per unit of flexion: the coupled distal phalanx

    def __init__(self, step: float = 0.02) -> None:
        m = AMAZING_HAND_SIM.load()
        super().__init__(m, np.arange(OPEN_FLEXION, CLOSED_FLEXION + 1e-9, step))
        self.flexion = [m.jnt_qposadr[m.joint(f"{f}_flexion").id] for f in HAND_FINGERS]
        self.distal = [m.jnt_qposadr[m.joint(f"{f}_distal").id] for f in HAND_FINGERS]
        self.finger_geoms = [self.digit_geoms(f"{f}_") for f in HAND_FINGERS]

    def contact_flexion(self, privileged: dict[str, np.ndarray]) -> np.ndarray:
        """(4,) flexion [rad] at first contact per finger, in ``HAND_FINGERS`` order."""
        obj = self.place(privileged)
        return np.array(
            [
                self.first_touch([self.flexion[i], self.distal[i]], self.DISTAL, geoms, obj, CLOSED_FLEXION)
                for i, geoms in enumerate(self.finger_geoms)
            ]
        )


class GraspExpert(HandExpert):
    """Pre-shape every finger just short of the object, touch it from both sides at once (so it cannot roll
    away), then squeeze: the fingers wrap it, the thumb presses it into them."""

    pre_margin = 0.25  # [rad] short of contact
    touch_margin = 0.05  # [rad] past contact
    finger_squeeze = 0.6  # [rad] past contact (capped at the closed limit)
    thumb_squeeze = 0.6  # [rad]
    shape_speed, touch_speed, squeeze_speed = 4.0, 1.5, 2.0  # [rad/s]

    def __init__(self, control_hz: float = 30.0) -> None:
        super().__init__(control_hz)
        self.contacts = ContactModel()

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        touch = self.contacts.contact_flexion(privileged)
        squeeze = touch + self.finger_squeeze
        squeeze[THUMB] = touch[THUMB] + self.thumb_squeeze

        def pose(flexion: np.ndarray) -> np.ndarray:
            return finger_pose(tuple(np.clip(flexion, OPEN_FLEXION, CLOSED_FLEXION)))

        return [
            Keyframe(pose(touch - self.pre_margin), self.shape_speed, hold_s=0.05),
            Keyframe(pose(touch + self.touch_margin), self.touch_speed, hold_s=0.05),
            Keyframe(pose(squeeze), self.squeeze_speed, hold_s=30.0),
        ]


class ReachPoseExpert(HandExpert):
    """Straight to the target pose, then hold it."""

    speed = 3.0  # [rad/s]

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        return [Keyframe(np.asarray(privileged["target_pose"], dtype=np.float64), self.speed, hold_s=30.0)]


HAND_EXPERTS: dict[str, type[HandExpert]] = {"grasp": GraspExpert, "reach_pose": ReachPoseExpert}
