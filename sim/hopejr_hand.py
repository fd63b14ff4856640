"""The HopeJR hand in simulation as data: its sim model, scene layout, grasp task and the grasp's scripted expert.

Model (``models/scene_hopejr_hand.xml``, generated hand ``models/hopejr_hand.xml``): 16 joints driven by 16 servo
actuators on fixed tendons, joint targets mapped to spool angles by the hand's tendon transmission
(``robot.hopejr_hand.TRANSMISSION``), as the hardware driver maps them; servo physics ``HOPEJR_HAND_PHYSICS``.

Scene: the hand palm down, fingers along world +x, its wrist :data:`HOPEJR_WRIST_HOME` above the table; one object
under the palm, drawn per episode (uniform) from:

* shape: sphere, upright cylinder or box, equally likely;
* size: sphere radius [42, 50] mm; cylinder radius [34, 42] mm, half-height [44, 52] mm; box half-extents
  [27, 33] x [27, 33] x [38, 46] mm: a human-scale power grasp, tall enough that the long fingers (97 mm) wrap the
  object's far side from a palm 15 cm up (the opposed thumb's 12 cm must clear the table); smaller round objects
  slip out over the fingertips (tuned on 40 seeds: 60 % at sphere radius 30-36 mm, 90 % at 42-50 mm);
* pose: centre x, y within 6 mm of :data:`_UNDER_GRASP` (between the thumb and the curled fingers), yaw [-30, 30] deg;
* density [200, 500] kg/m^3 (masses of about 45-290 g).

Task ``hopejr_grasp`` (env ``twinarm/HopeJRHandGrasp-v0``): the shared hand grasp rule (``sim.hand_tasks.Grasp``:
the env lifts the wrist 10 cm over 1 s from 1.5 s; success: the object held >= 5 cm above its resting height within
4 cm of the grasp centre at 3.5 s). Expert: ``sim.hopejr_hand_expert`` (from the open pose, the thumb already
opposed and pointing down behind the object, every digit curled to just past where it touches the object).
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.hopejr_hand import TRANSMISSION
from twinarm.robot.models import HOPEJR_HAND
from twinarm.sim.hand_scene import HandLayout
from twinarm.sim.hand_tasks import Grasp
from twinarm.sim.servo_models import HOPEJR_HAND_PHYSICS
from twinarm.sim.sim_robot import MODELS_DIR, SimModel
from twinarm.sim.tasks import Box, Task

FINGER_PARTS = ("mcp_flex", "mcp_abd", "pip")


def hopejr_pose(
    thumb: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0), **fingers: tuple[float, float, float]
) -> np.ndarray:
    """Joint targets (16,) [rad] in ``HOPEJR_HAND`` spec order from the thumb's (cmc, mcp, pip, dip) and
    (mcp_flex, mcp_abd, pip) per finger (``index=...``, ``pinky=...``; a finger not given stays flat)."""
    q = np.zeros(HOPEJR_HAND.num_joints)
    q[:4] = thumb
    for finger, values in fingers.items():
        for part, value in zip(FINGER_PARTS, values):
            q[HOPEJR_HAND.joint_index(f"{finger}_{part}")] = value
    return q


HOPEJR_WRIST_HOME = (0.0, 0.0, 0.15)  # [m]: the opposed thumb (12 cm) hangs clear of the table
THUMB_OPPOSED = (1.5708, 0.0, 0.0, 0.0)  # [rad] (cmc, mcp, pip, dip): out of the palm's front, pointing down
# the open hand: fingers flat, the thumb opposed (swinging it there with an object below would hit the object)
HOPEJR_OPEN_POSE = hopejr_pose(THUMB_OPPOSED)
HOPEJR_HAND_SIM = SimModel(
    spec=HOPEJR_HAND,
    xml=MODELS_DIR / "scene_hopejr_hand.xml",
    home=tuple(HOPEJR_OPEN_POSE.tolist()),
    transmission=TRANSMISSION,
    physics=HOPEJR_HAND_PHYSICS,
)

_UNDER_GRASP = (0.06, 0.005)  # [m] world x, y of the objects' centres
HOPEJR_LAYOUT = HandLayout(
    wrist_home=HOPEJR_WRIST_HOME,
    open_pose=HOPEJR_OPEN_POSE,
    sizes={
        "sphere": Box((0.042, 0.0, 0.0), (0.050, 0.0, 0.0)),
        "cylinder": Box((0.034, 0.044, 0.0), (0.042, 0.052, 0.0)),
        "box": Box((0.027, 0.027, 0.038), (0.033, 0.033, 0.046)),
    },
    xy_yaw=Box(
        (_UNDER_GRASP[0] - 0.006, _UNDER_GRASP[1] - 0.006, -np.pi / 6),
        (_UNDER_GRASP[0] + 0.006, _UNDER_GRASP[1] + 0.006, np.pi / 6),
    ),
    density=(200.0, 500.0),
)

#: The HopeJR hand's tasks by task id (the rule's ``name`` is shared with the other hands' grasps).
HOPEJR_HAND_TASKS: dict[str, type[Task]] = {"hopejr_grasp": Grasp}
