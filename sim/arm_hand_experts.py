"""Scripted expert of the SO-101 with the Amazing Hand: keyframes in joint space (``sim.plan_expert``).

From the object's pose the expert solves, on a private copy of the model (``sim.ik.ArmIK`` on the hand's
``grasp_center`` site, palm down, fingers pointing away from the arm's base), the arm poses 6 cm above the object,
a few on the straight way down to it (so the hand does not sweep into it), and 12 cm above it. The plan: hold the
start pose while the arm settles, open hand over the object, straight down around it, close the fingers in front
of it, then the thumb behind it until they squeeze it (the command goes on where a finger is blocked, so its two
servos push), then lift. Each keyframe's command moves in a straight joint-space line, the joint with the farthest
to go at ``speed`` [rad/s]. The arm's servos sag under the hand's weight and lag (position servos with the
SO-101's identified gains, ``sim.servo_models``), so the expert trims its arm commands by integrating the observed
arm error while it holds a keyframe (an outer loop a real arm needs as well); the hand is commanded as planned.
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.models import HAND_FINGERS, SO101_AMAZING_HAND
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.arm_hand_scene import ARM_JOINTS, SO101_AMAZING_HAND_SIM
from twinarm.sim.hand_experts import HandExpert, Keyframe
from twinarm.sim.hand_scene import OPEN_FLEXION
from twinarm.sim.ik import ArmIK
from twinarm.sim.sim_robot import SimModel

SPEC = SO101_AMAZING_HAND
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
    trim_gain = 0.15  # per control step: the trim catches up with a steady sag in about 7 steps (0.2 s at 30 Hz)
    max_trim = 0.4  # [rad]
    descent_waypoints = 4  # IK poses on the way down
    start_s = 0.5  # [s] the start pose held first
    settle_s = 0.3  # [s] held above the object and at it: the arm's servos catch up (they lag and sag under load)
    reach_speed, descend_speed, close_speed, lift_speed = 2.0, 0.8, 2.5, 1.0  # [rad/s]

    # the robot (a subclass plans for another arm + hand): its sim model, its arm joints, the site IK moves
    sim_model: SimModel = SO101_AMAZING_HAND_SIM
    arm_joints: tuple[str, ...] = ARM_JOINTS
    ik_site = GRASP_SITE

    def __init__(self, control_hz: float = 30.0) -> None:
        super().__init__(control_hz)
        spec = self.sim_model.spec
        self.ik = ArmIK(self.sim_model.load(), spec.joint_names, self.arm_joints, self.ik_site, (0.0, 0.0, 0.0))
        self.home = np.asarray(self.sim_model.home, dtype=np.float64)
        self.arm = np.array([spec.joint_index(j) for j in self.arm_joints])
        self.trim = np.zeros(len(self.arm))  # [rad] added to the arm commands

    def reset(self, privileged: dict[str, np.ndarray]) -> None:
        super().reset(privileged)
        self.trim[:] = 0.0

    def action(self, command: np.ndarray, step: Keyframe, obs: dict[str, np.ndarray]) -> np.ndarray:
        """``command`` with the arm's trim: the integral of the arm's error (command - observed) [rad] while the
        command holds a keyframe (a steady sag; kept, not integrated, while moving, where the error is lag)."""
        if np.array_equal(command, step.goal):
            error = command[self.arm] - np.asarray(obs[JOINT_POS], dtype=np.float64)[self.arm]
            self.trim = np.clip(self.trim + self.trim_gain * error, -self.max_trim, self.max_trim)
        out = command.copy()
        out[self.arm] += self.trim
        return out

    def arm_pose(self, q0: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Joint positions (n,) [rad]: ``q0`` with the arm bringing the grasp site, palm down, to ``pos`` [m]."""
        yaw = float(np.arctan2(pos[1], pos[0]))
        return self.ik.solve(q0, pos, palm_down(yaw), iters=200)

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        obj = np.asarray(privileged["object_pos"], dtype=np.float64)
        up = np.array([0.0, 0.0, 1.0])
        above = self.arm_pose(self.home, obj + self.approach_m * up)
        heights = np.linspace(self.approach_m, -self.grasp_drop_m, self.descent_waypoints + 1)[1:]
        descent = [above]
        for h in heights:  # straight down in Cartesian space, not a joint-space arc that sweeps into the object
            descent.append(self.arm_pose(descent[-1], obj + h * up))
        at = descent[-1]
        closed = at.copy()
        closed[FLEXION] = self.closed_flexion
        lifted = self.arm_pose(closed, obj + self.lift_m * up)
        for q in descent:
            q[FLEXION] = OPEN_FLEXION
        fingers = closed.copy()  # the fingers close in front of the object first: the thumb then presses it into them
        fingers[FLEXION[THUMB]] = OPEN_FLEXION
        start = self.home.copy()  # where the episode starts: held until the trim has caught the arm's sag
        return [
            Keyframe(start, self.reach_speed, hold_s=self.start_s),
            Keyframe(above, self.reach_speed, hold_s=self.settle_s),
            *(Keyframe(q, self.descend_speed) for q in descent[1:-1]),
            Keyframe(at, self.descend_speed, hold_s=self.settle_s),
            Keyframe(fingers, self.close_speed, hold_s=0.1),
            Keyframe(closed, self.close_speed, hold_s=0.3),
            Keyframe(lifted, self.lift_speed, hold_s=30.0),
        ]


ARM_HAND_EXPERTS: dict[str, type[HandExpert]] = {"dexterous_lift": DexterousLiftExpert}
