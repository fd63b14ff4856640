"""The LEAP Hand in simulation as data: its scene layout, its grasp task and the grasp's scripted expert.

Scene (``scene_leap_hand.xml``): the hand palm down, fingers along world +x, its wrist :data:`LEAP_WRIST_HOME` above
the table; one object under the palm, drawn per episode (uniform) from:

* shape: sphere, upright cylinder or box, equally likely;
* size: sphere radius [30, 38] mm; cylinder radius [26, 34] mm, half-height [30, 38] mm; box half-extents
  [24, 31] x [24, 31] x [28, 36] mm;
* pose: centre x, y within 6 mm of a point 3.5 cm ahead of the grasp centre (the fingers' side), yaw [-30, 30] deg;
* density [200, 500] kg/m^3 (masses of about 25-190 g).

The task is the Amazing Hand's grasp rule (``sim.hand_tasks.Grasp``: the env lifts the wrist 10 cm over 1 s from
1.5 s; success: the object held >= 5 cm above its resting height within 4 cm of the grasp centre at 3.5 s) on
this layout: task id ``leap_grasp``, env ``twinarm/LeapHandGrasp-v0``.

Expert: keyframes in joint space (``sim.hand_experts.HandExpert``): from the open pose (thumb already under the palm,
behind the object) curl the fingers to just short of the object, then close fingers and thumb past contact. The
servos' current cap (``sim.servo_models.LEAP_HAND_PHYSICS``) limits the squeeze, as on the real hand in current-based
position mode.
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.models import HAND_FINGERS, LEAP_HAND
from twinarm.sim.hand_experts import HandExpert, Keyframe
from twinarm.sim.hand_scene import HandLayout
from twinarm.sim.hand_tasks import Grasp
from twinarm.sim.tasks import Box, Task

LEAP_PARTS = ("mcp_side", "mcp_forward", "pip", "dip")  # per finger, LEAP_HAND spec order


def leap_pose(**fingers: tuple[float, float, float, float]) -> np.ndarray:
    """Joint targets (16,) [rad] in ``LEAP_HAND`` spec order from (mcp_side, mcp_forward, pip, dip) per finger
    (``index=...``, ``middle=...``, ``ring=...``, ``thumb=...``; a finger not given stays at 0)."""
    q = np.zeros(LEAP_HAND.num_joints)
    for finger, values in fingers.items():
        for part, value in zip(LEAP_PARTS, values):
            q[LEAP_HAND.joint_index(f"{finger}_{part}")] = value
    return q


LEAP_WRIST_HOME = (0.0, 0.0, 0.165)  # [m], the mount pose of leap_hand.xml
# fingers flat, the thumb swung under the palm (it is longer than the wrist is high: swinging it there with an
# object below would hit the table or the object), straight down behind the object
LEAP_OPEN_POSE = leap_pose(thumb=(1.75, 0.0, 0.0, 0.0))
# where objects are placed, palm x, y [m]: the fingers then push a grasped object about 3.5 cm towards the thumb,
# where leap_hand.xml's grasp_center site is (palm -0.045, -0.025)
_UNDER_GRASP = (-0.01, -0.025)
LEAP_LAYOUT = HandLayout(
    wrist_home=LEAP_WRIST_HOME,
    open_pose=LEAP_OPEN_POSE,
    sizes={
        "sphere": Box((0.030, 0.0, 0.0), (0.038, 0.0, 0.0)),
        "cylinder": Box((0.026, 0.030, 0.0), (0.034, 0.038, 0.0)),
        "box": Box((0.024, 0.024, 0.028), (0.031, 0.031, 0.036)),
    },
    xy_yaw=Box(
        (_UNDER_GRASP[0] - 0.006, _UNDER_GRASP[1] - 0.006, -np.pi / 6),
        (_UNDER_GRASP[0] + 0.006, _UNDER_GRASP[1] + 0.006, np.pi / 6),
    ),
    density=(200.0, 500.0),
)

#: The LEAP Hand's tasks by task id (the rule's ``name`` is shared with the Amazing Hand's grasp).
LEAP_TASKS: dict[str, type[Task]] = {"leap_grasp": Grasp}

_FINGERS = tuple(f for f in HAND_FINGERS if f != "thumb")


class LeapGraspExpert(HandExpert):
    """Fingers curled to just short of the object, then fingers and thumb closed past contact and held."""

    thumb_open = (1.75, 0.0, 0.0, 0.0)  # [rad] (mcp_side, mcp_forward, pip, dip): under the palm (LEAP_OPEN_POSE)
    finger_pre = (0.0, 0.35, 0.3, 0.2)  # [rad] curled, short of the object
    finger_closed = (0.0, 1.3, 1.1, 0.8)  # [rad] past contact: the current cap sets the squeeze
    thumb_closed = (1.75, 0.0, 0.9, 0.3)  # [rad] bent towards the fingers, past contact
    shape_speed, close_speed = 3.0, 2.0  # [rad/s]

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        pre = leap_pose(thumb=self.thumb_open, **{f: self.finger_pre for f in _FINGERS})
        closed = leap_pose(thumb=self.thumb_closed, **{f: self.finger_closed for f in _FINGERS})
        return [Keyframe(pre, self.shape_speed, hold_s=0.1), Keyframe(closed, self.close_speed, hold_s=30.0)]


LEAP_EXPERTS: dict[str, type[HandExpert]] = {"leap_grasp": LeapGraspExpert}
