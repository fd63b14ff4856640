"""Scripted experts for the Amazing Hand tasks: keyframes in joint space, followed at a bounded joint speed.

An expert is an action source like the SO-101 ones (``sim.experts``): ``reset(privileged)`` plans from the simulator
state, ``act(obs, privileged) -> (n,) float32`` joint targets [rad] in the ``AMAZING_HAND`` spec order. The
command moves towards each keyframe along a straight line in joint space (the joint with the farthest to go at
``speed`` [rad/s], so all arrive together) and holds it for ``hold_s`` [s]; the command keeps going where a finger
is blocked by the object, so the two servos of a blocked finger push: that is the squeeze. The Robot safety layer
still clips every command.

Grasp: from the object's pose, shape and size the expert finds, on a private copy of the model, the flexion at
which each finger (and the thumb) first touches the object. It pre-shapes every finger 0.25 rad short of that,
closes them all together so they touch the object from both sides at once (a ball cannot roll away), then
squeezes 0.6 rad past contact; all before the task lifts the wrist at 1.5 s. Reach pose: straight to the target.
"""

from __future__ import annotations

from typing import NamedTuple

import mujoco
import numpy as np
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import AMAZING_HAND, HAND_FINGERS
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.hand_scene import OBJECT_SHAPES, OPEN_FLEXION
from twinarm.sim.sim_robot import AMAZING_HAND_SIM

FLEXION = np.array([AMAZING_HAND.joint_index(f"{f}_flexion") for f in HAND_FINGERS])
ABDUCTION = np.array([AMAZING_HAND.joint_index(f"{f}_abduction") for f in HAND_FINGERS])
THUMB = HAND_FINGERS.index("thumb")
CLOSED_FLEXION = 1.5708  # [rad], the joint limit: blocked fingers squeeze with both servos


class Keyframe(NamedTuple):
    """Joint targets ``pose`` (n,) [rad], approach ``speed`` [rad/s], ``hold_s`` [s] once reached."""

    pose: np.ndarray
    speed: float
    hold_s: float = 0.0


def finger_pose(flexion: tuple[float, float, float, float], abduction: tuple[float, ...] = (0.0,) * 4) -> np.ndarray:
    """Joint targets (n,) [rad] from per-finger flexion and abduction in ``HAND_FINGERS`` order."""
    q = np.zeros(AMAZING_HAND.num_joints)
    q[FLEXION], q[ABDUCTION] = flexion, abduction
    return q


class KeyframeExpert:
    """Follows the keyframes :meth:`plan` makes from the privileged state."""

    def __init__(self, control_hz: float = 30.0) -> None:
        self.dt = 1.0 / control_hz
        self.plan_: list[Keyframe] = []

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        raise NotImplementedError

    def reset(self, privileged: dict[str, np.ndarray]) -> None:
        self.plan_ = self.plan(privileged)
        self._i = 0
        self._held = 0.0
        self._cmd: np.ndarray | None = None

    @property
    def done(self) -> bool:
        return self._i >= len(self.plan_)

    def act(self, obs: dict[str, np.ndarray], privileged: dict[str, np.ndarray] | None = None) -> np.ndarray:
        if self._cmd is None:
            self._cmd = np.asarray(obs[JOINT_POS], dtype=np.float64).copy()
        key = self.plan_[min(self._i, len(self.plan_) - 1)]
        step = key.speed * self.dt
        delta = key.pose - self._cmd
        far = float(np.abs(delta).max())
        if far > step:
            self._cmd = self._cmd + delta * (step / far)
        else:
            self._cmd = key.pose.copy()
            self._held += self.dt
            if self._held >= key.hold_s - 1e-9 and self._i < len(self.plan_):
                self._i += 1
                self._held = 0.0
        return self._cmd.astype(np.float32)


class ContactModel:
    """First-contact flexion of each finger with the object, on a private copy of the scene's kinematics.

    The finger sweeps from open to closed (distal phalanx coupled, abduction 0) in ``step`` [rad] increments; the
    answer is the first flexion at which one of its geoms touches the object (``CLOSED_FLEXION`` if none does).
    """

    def __init__(self, step: float = 0.02) -> None:
        m = mujoco.MjModel.from_xml_path(str(AMAZING_HAND_SIM.xml))
        self.model, self.data = m, mujoco.MjData(m)
        self.sweep = np.arange(OPEN_FLEXION, CLOSED_FLEXION + 1e-9, step)
        self.wrist_quat = m.body_quat[m.body("wrist").id].copy()
        self.mount = m.jnt_qposadr[m.joint("wrist_mount").id]
        self.object_qpos = m.jnt_qposadr[m.joint("object").id]
        self.object_geoms = [m.geom(f"object_{shape}").id for shape in OBJECT_SHAPES]
        self.flexion = [m.jnt_qposadr[m.joint(f"{f}_flexion").id] for f in HAND_FINGERS]
        self.distal = [m.jnt_qposadr[m.joint(f"{f}_distal").id] for f in HAND_FINGERS]
        self.finger_geoms = [
            [g for g in range(m.ngeom) if m.body(m.geom_bodyid[g]).name.startswith(f"{f}_")] for f in HAND_FINGERS
        ]

    def contact_flexion(self, privileged: dict[str, np.ndarray]) -> np.ndarray:
        """(4,) flexion [rad] at first contact per finger, in ``HAND_FINGERS`` order."""
        m, d = self.model, self.data
        obj = self.object_geoms[int(privileged["object_shape"])]
        m.geom_size[obj] = privileged["object_size"]
        d.qpos[:] = m.qpos0
        d.qpos[self.mount : self.mount + 3] = privileged["wrist_pos"]
        d.qpos[self.mount + 3 : self.mount + 7] = self.wrist_quat
        d.qpos[self.object_qpos : self.object_qpos + 3] = privileged["object_pos"]
        d.qpos[self.object_qpos + 3 : self.object_qpos + 7] = privileged["object_quat"]
        out = np.full(len(HAND_FINGERS), CLOSED_FLEXION)
        for i, geoms in enumerate(self.finger_geoms):
            for flex in self.sweep:
                d.qpos[self.flexion[i]], d.qpos[self.distal[i]] = flex, 0.5 * flex
                mujoco.mj_kinematics(m, d)
                if min(mujoco.mj_geomDistance(m, d, g, obj, 1.0, None) for g in geoms) <= 0.0:
                    out[i] = flex
                    break
            d.qpos[self.flexion[i]] = d.qpos[self.distal[i]] = 0.0
        return out


class GraspExpert(KeyframeExpert):
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


class ReachPoseExpert(KeyframeExpert):
    """Straight to the target pose, then hold it."""

    speed = 3.0  # [rad/s]

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        return [Keyframe(np.asarray(privileged["target_pose"], dtype=np.float64), self.speed, hold_s=30.0)]


HAND_EXPERTS: dict[str, type[KeyframeExpert]] = {"grasp": GraspExpert, "reach_pose": ReachPoseExpert}


def make_hand_expert(task: str, control_hz: float = 30.0) -> KeyframeExpert:
    """The scripted expert of hand task ``task``; a :class:`ConfigError` lists the valid tasks."""
    if task not in HAND_EXPERTS:
        raise ConfigError(f"no scripted expert for hand task {task!r}; valid tasks: {', '.join(HAND_EXPERTS)}")
    return HAND_EXPERTS[task](control_hz)
