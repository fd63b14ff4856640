"""Scripted expert of the SO-101 with the Amazing Hand: keyframes in joint space (``sim.plan_expert``).

From the object's pose the expert solves, on a private copy of the model (``sim.ik.ArmIK`` on the hand's
``grasp_center`` site, palm down, fingers pointing away from the arm's base), three arm poses: 6 cm above the
object, at the object, and 12 cm above it. The plan: open hand over the object, down around it, close the fingers
in front of it, then the thumb behind it until they squeeze it (the command goes on where a finger is blocked, so
its two servos push), then lift. Each keyframe's command moves in a straight joint-space line, the joint with the
farthest to go at ``speed`` [rad/s].
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.models import HAND_FINGERS, SO101_AMAZING_HAND
from twinarm.sim.arm_hand_scene import ARM_JOINTS, SO101_AMAZING_HAND_SIM
from twinarm.sim.hand_experts import HandExpert, Keyframe
from twinarm.sim.hand_scene import OPEN_FLEXION
from twinarm.sim.ik import ArmIK

SPEC = SO101_AMAZING_HAND
ARM = np.arange(len(ARM_JOINTS))
FLEXION = np.array([SPEC.joint_index(f"{f}_flexion") for f in HAND_FINGERS])
THUMB = HAND_FINGERS.index("thumb")
GRASP_SITE = "grasp_center"


def palm_down(yaw: float) -> np.ndarray:
    """Grasp-site rotation (3, 3): palm front (site x) facing down, fingers (site z) along ``yaw`` [rad]."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[0.0, -s, c], [0.0, c, s], [-1.0, 0.0, 0.0]])


class DexterousLiftExpert(HandExpert):
    """Reach over the object palm down, descend, close the hand around it, lift."""

    approach_m = 0.06  # [m] above the object before descending
    lift_m = 0.12  # [m] the grasp centre rises
    grasp_drop_m = 0.004  # [m] the grasp centre below the object's centre (the palm presses it into the fingers)
    closed_flexion = 1.3  # [rad] finger and thumb command at the squeeze (blocked by the object before it)
    reach_speed, descend_speed, close_speed, lift_speed = 2.0, 1.2, 2.5, 1.0  # [rad/s]

    def __init__(self, control_hz: float = 30.0) -> None:
        super().__init__(control_hz)
        self.ik = ArmIK(SO101_AMAZING_HAND_SIM.load(), SPEC.joint_names, ARM_JOINTS, GRASP_SITE, (0.0, 0.0, 0.0))
        self.home = np.asarray(SO101_AMAZING_HAND_SIM.home, dtype=np.float64)

    def arm_pose(self, q0: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Joint positions (n,) [rad]: ``q0`` with the arm bringing the grasp site, palm down, to ``pos`` [m]."""
        yaw = float(np.arctan2(pos[1], pos[0]))
        return self.ik.solve(q0, pos, palm_down(yaw), iters=200)

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        obj = np.asarray(privileged["object_pos"], dtype=np.float64)
        up = np.array([0.0, 0.0, 1.0])
        above = self.arm_pose(self.home, obj + self.approach_m * up)
        at = self.arm_pose(above, obj - self.grasp_drop_m * up)
        closed = at.copy()
        closed[FLEXION] = self.closed_flexion
        lifted = self.arm_pose(closed, obj + self.lift_m * up)
        for q in (above, at):
            q[FLEXION] = OPEN_FLEXION
        fingers = closed.copy()  # the fingers close in front of the object first: the thumb then presses it into them
        fingers[FLEXION[THUMB]] = OPEN_FLEXION
        return [
            Keyframe(above, self.reach_speed, hold_s=0.1),
            Keyframe(at, self.descend_speed, hold_s=0.1),
            Keyframe(fingers, self.close_speed, hold_s=0.1),
            Keyframe(closed, self.close_speed, hold_s=0.3),
            Keyframe(lifted, self.lift_speed, hold_s=30.0),
        ]


ARM_HAND_EXPERTS: dict[str, type[HandExpert]] = {"dexterous_lift": DexterousLiftExpert}
