"""Amazing Hand tasks on the one task protocol (``sim.tasks``) and the hand scene (``sim.hand_scene``).

The policy commands the hand's 8 joints; the task moves the wrist. Randomised at every reset (uniform):

=========  ========================================================================================================
grasp      one object (shape, size, pose, density: see ``sim.hand_scene``) under the open hand. The env lifts the
           wrist 10 cm over 1 s starting at 1.5 s (cosine profile). Success at the end (3.5 s, 105 steps): the
           object is >= 5 cm above its resting height and its centre within 4 cm of the grasp centre (a site
           between the thumb and the fingers). Reward: 10 x height gained (up to 10 cm) - mean tip distance [m].
reach      a target pose: abduction [-0.3, 0.3] rad, flexion [-0.5, min(1.45, 1.5 - |abduction|)] rad per
_pose      finger (both servos of a finger stay 0.07 rad inside their +-pi/2 travel); wrist 5 cm higher, object
           parked on the table out of reach. Success: every joint within 0.1 rad of the target (2 s, 60 steps).
           Reward: - sum of joint errors [rad].
=========  ========================================================================================================"""

from __future__ import annotations

import math

import numpy as np

from twinarm.robot.models import HAND_FINGERS
from twinarm.sim.hand_scene import OBJECT_PARKED, OPEN_POSE, PARKED_OBJECT, WRIST_HOME, HandScene, sample_object
from twinarm.sim.tasks import Task

LIFT_START_S = 1.5  # [s] after reset
LIFT_DURATION_S = 1.0  # [s]
LIFT_HEIGHT = 0.10  # [m], wrist travel
HELD_HEIGHT = 0.05  # [m] above the resting height
HELD_DISTANCE = 0.04  # [m] from the grasp centre

REACH_WRIST_RAISE = 0.05  # [m]
POSE_TOLERANCE = 0.1  # [rad]
SERVO_MARGIN = 1.5  # [rad]: |flexion| + |abduction| bound of reachable targets (servo travel pi/2 - 0.07)


def lift_profile(t_s: float) -> float:
    """Wrist height above home [m] at ``t_s`` [s]: 0 until ``LIFT_START_S``, then a cosine ramp to ``LIFT_HEIGHT``."""
    u = min(max((t_s - LIFT_START_S) / LIFT_DURATION_S, 0.0), 1.0)
    return LIFT_HEIGHT * 0.5 * (1.0 - math.cos(math.pi * u))


class Grasp(Task[HandScene]):
    name, max_steps = "grasp", 105  # 3.5 s: close, lift 1.5-2.5 s, hold

    def reset(self, scene: HandScene, rng: np.random.Generator) -> None:
        obj = sample_object(rng, scene.layout)
        scene.configure_object(obj)
        scene.reset_robot(scene.layout.open_pose)
        scene.set_wrist(np.array(scene.layout.wrist_home))
        self._wrist_z = scene.layout.wrist_home[2]
        scene.place_object(obj.x, obj.y, obj.yaw)
        self._t_s = self._lift = 0.0

    def before_step(self, scene: HandScene, t_s: float) -> None:
        self._t_s = t_s
        lift = lift_profile(t_s)
        if lift != self._lift:  # only while lifting: the weld drags the hand after the mocap
            scene.robot.data.mocap_pos[scene.wrist_mocap, 2] = self._wrist_z + lift
            self._lift = lift

    def evaluate(self, scene: HandScene) -> tuple[float, bool]:
        # plain floats: a handful of 3-vectors is cheaper in Python than in numpy calls
        d = scene.robot.data
        a = scene.object_qpos
        pos = d.qpos[a : a + 3].tolist()
        raised = pos[2] - scene.object.half_height
        reach = sum(math.dist(tip, pos) for tip in d.site_xpos[scene.tip_sites].tolist()) / len(HAND_FINGERS)
        reward = -reach + 10.0 * min(max(raised, 0.0), LIFT_HEIGHT)
        if self._t_s < LIFT_START_S + LIFT_DURATION_S - 1e-9 or raised < HELD_HEIGHT:
            return reward, False
        return reward, math.dist(pos, d.site_xpos[scene.grasp_site].tolist()) <= HELD_DISTANCE


class ReachPose(Task[HandScene]):
    name, max_steps = "reach_pose", 60

    def reset(self, scene: HandScene, rng: np.random.Generator) -> None:
        abduction = rng.uniform(-0.3, 0.3, size=len(HAND_FINGERS))
        flex_high = np.minimum(1.45, SERVO_MARGIN - np.abs(abduction))
        flexion = -0.5 + rng.uniform(0.0, 1.0, size=len(HAND_FINGERS)) * (flex_high + 0.5)
        self.target = np.stack([flexion, abduction], axis=1).reshape(-1).astype(np.float32)  # spec order
        self._target = self.target.tolist()
        scene.configure_object(PARKED_OBJECT)
        scene.reset_robot(OPEN_POSE)
        scene.set_wrist(np.array(WRIST_HOME) + np.array((0.0, 0.0, REACH_WRIST_RAISE)))
        scene.place_object(*OBJECT_PARKED, 0.0)

    def evaluate(self, scene: HandScene) -> tuple[float, bool]:
        err = [abs(q - t) for q, t in zip(scene.joint_pos().tolist(), self._target)]
        return -sum(err), max(err) < POSE_TOLERANCE

    def privileged(self, scene: HandScene) -> dict[str, np.ndarray]:
        return {**super().privileged(scene), "target_pose": self.target.copy()}


HAND_TASKS: dict[str, type[Task[HandScene]]] = {t.name: t for t in (Grasp, ReachPose)}
