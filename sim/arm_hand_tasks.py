"""Tasks of an arm carrying a hand (``sim.arm_hand_scene``; the scene's ``layout`` says where objects are drawn and
from which hand's sizes) on the one task protocol (``sim.tasks``). Figures below: the SO-101 with the Amazing Hand
(HopeJR's: ``sim.hopejr``).

==============  ===================================================================================================
dexterous_lift  one object drawn as in the hand scene (sphere, upright cylinder or box; sizes and densities of
                ``sim.hand_scene``) resting on the table in front of the arm: centre x [0.22, 0.27] m, y [-0.04,
                0.04] m, yaw [-30, 30] deg. The robot reaches over it palm down, grasps it with the fingers and
                lifts it. Success: the object >= 5 cm above its resting height with its centre within 4 cm of the
                grasp centre (a site between thumb and fingers), i.e. held, not tossed. Reward: 10 x height gained
                (up to 10 cm) - mean finger-tip distance to the object [m]. 240 steps (8 s at 30 Hz).
==============  ===================================================================================================
"""

from __future__ import annotations

import math

import numpy as np

from twinarm.sim.arm_hand_scene import ArmHandScene
from twinarm.sim.hand_scene import sample_object
from twinarm.sim.tasks import Task

HELD_HEIGHT = 0.05  # [m] above the resting height
HELD_DISTANCE = 0.04  # [m] from the grasp centre
REWARD_HEIGHT = 0.10  # [m]: the height reward saturates here


class DexterousLift(Task[ArmHandScene]):
    name, max_steps = "dexterous_lift", 240

    def reset(self, scene: ArmHandScene, rng: np.random.Generator) -> None:
        # shape, size, density from the hand's layout (its x, y, yaw are the hand scene's: redrawn below)
        obj = sample_object(rng, scene.layout.hand)
        x, y, yaw = scene.layout.object_xy_yaw.sample(rng)
        scene.configure_object(obj._replace(x=float(x), y=float(y), yaw=float(yaw)))
        scene.reset_robot()
        scene.place_object(scene.object.x, scene.object.y, scene.object.yaw)

    def evaluate(self, scene: ArmHandScene) -> tuple[float, bool]:
        d, a = scene.robot.data, scene.object_qpos
        pos = d.qpos[a : a + 3].tolist()
        raised = pos[2] - scene.object.half_height
        tips = d.site_xpos[scene.tip_sites].tolist()
        reach = sum(math.dist(tip, pos) for tip in tips) / len(tips)
        reward = -reach + 10.0 * min(max(raised, 0.0), REWARD_HEIGHT)
        held = raised >= HELD_HEIGHT and math.dist(pos, d.site_xpos[scene.grasp_site].tolist()) <= HELD_DISTANCE
        return reward, held


ARM_HAND_TASKS: dict[str, type[Task[ArmHandScene]]] = {t.name: t for t in (DexterousLift,)}
