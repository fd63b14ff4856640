"""Scripted expert of HopeJR's dexterous lift (``hopejr_dexterous_lift``): the arm + hand plan of
``sim.arm_hand_experts`` with the HopeJR hand's own grasp (``sim.hopejr_hand_expert``).

The arm brings the hand's wrist (the flange, ``gripperframe``), palm down and fingers along +x, to where the hand
alone grasps from (``sim.hopejr.GRASP_UNDER_WRIST``, ``GRASP_WRIST_HEIGHT``): 6 cm above that first, then straight
down in a few IK steps (the opposed thumb hangs behind the object). There the hand's grasp runs as in the hand-only
task: every digit's first-contact curl found on a private copy of the hand scene (the same relative pose), pre-shape
short of it, touch, squeeze. Then the arm lifts the wrist 8 cm (palm-down IK; the arm's servos are trimmed while
holding keyframes, as for the SO-101 with the Amazing Hand).
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.models import HOPEJR_ARM
from twinarm.sim.arm_hand_experts import DexterousLiftExpert
from twinarm.sim.hand_experts import HandExpert, Keyframe
from twinarm.sim.hopejr import GRASP_UNDER_WRIST, GRASP_WRIST_HEIGHT, HOPEJR_SIM
from twinarm.sim.hopejr_hand_expert import HopeJRGraspExpert
from twinarm.sim.ik import top_down_rotation

PALM_DOWN = top_down_rotation(0.0)  # the flange frame: palm normal (x) down, fingers (z) along +x


class HopeJRLiftExpert(DexterousLiftExpert):
    """Wrist over the object, straight down, the hand's grasp, lift."""

    sim_model = HOPEJR_SIM
    arm_joints = HOPEJR_ARM.joint_names
    ik_site = "gripperframe"
    lift_m = 0.08  # [m] the wrist rises (palm down the arm reaches about that far above the grasp height)
    squeeze_hold_s = 0.2  # [s] the squeeze held before the lift

    def __init__(self, control_hz: float = 30.0) -> None:
        super().__init__(control_hz)
        self.hand = HopeJRGraspExpert(control_hz)
        self.hand_joints = np.arange(len(self.arm), self.home.size)

    def wrist_pose(self, q0: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """``q0`` with the arm bringing the flange, palm down and fingers along +x, to ``pos`` [m]."""
        return self.ik.solve(q0, pos, PALM_DOWN, iters=300)

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        obj = np.asarray(privileged["object_pos"], dtype=np.float64)
        wrist = np.array([obj[0] - GRASP_UNDER_WRIST[0], obj[1] - GRASP_UNDER_WRIST[1], GRASP_WRIST_HEIGHT])
        up = np.array([0.0, 0.0, 1.0])
        descent = [self.wrist_pose(self.home, wrist + self.approach_m * up)]
        for h in np.linspace(self.approach_m, 0.0, self.descent_waypoints + 1)[1:]:
            descent.append(self.wrist_pose(descent[-1], wrist + h * up))
        for q in descent:
            q[self.hand_joints] = self.home[self.hand_joints]  # the open hand
        grasp = self.hand.plan({**privileged, "wrist_pos": wrist})
        hand_keys = []
        for key in grasp:
            q = descent[-1].copy()
            q[self.hand_joints] = key.goal
            hand_keys.append(Keyframe(q, key.speed, hold_s=min(key.hold_s, self.squeeze_hold_s)))
        lifted = self.wrist_pose(hand_keys[-1].goal, wrist + self.lift_m * up)
        return [
            Keyframe(self.home.copy(), self.reach_speed, hold_s=self.start_s),
            Keyframe(descent[0], self.reach_speed, hold_s=self.settle_s),
            *(Keyframe(q, self.descend_speed) for q in descent[1:-1]),
            Keyframe(descent[-1], self.descend_speed, hold_s=self.settle_s),
            *hand_keys,
            Keyframe(lifted, self.lift_speed, hold_s=30.0),
        ]


HOPEJR_EXPERTS: dict[str, type[HandExpert]] = {"hopejr_dexterous_lift": HopeJRLiftExpert}
