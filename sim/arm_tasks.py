"""SO-101 table-top tasks on the one task protocol (``sim.tasks``): reset distributions, rewards, success tests.

Frames: world = robot base frame, table top at z = 0, x forward, units [m]. Randomized at every reset (uniform):

=======  ==========================================================================================================
reach    target point x in [0.15, 0.25], y in [-0.10, 0.10], z in [0.03, 0.08]; success: grasp point within 2 cm
lift     cube (25 mm) x in [0.15, 0.25], y in [-0.10, 0.10], yaw in [-45, 45] deg; success: cube >= 5 cm above
         its resting height
place    cube as in lift; zone (35 mm radius disc) on the other side: x in [0.15, 0.25], |y| in [0.04, 0.10];
         success: cube centre inside the zone, resting on the table, jaws open
=======  ==========================================================================================================

The grasp point is the middle of the jaws: the ``grasp`` site (``gripperframe`` + ``sim.ik.SO101_GRASP_OFFSET``).
"""

from __future__ import annotations

import math

import numpy as np

from twinarm.sim.sim_robot import SimRobot
from twinarm.sim.tasks import Box, Task

CUBE_HALF = 0.0125  # [m], see scene_so101.xml
LIFT_HEIGHT = 0.05  # [m] above the resting height
ZONE_RADIUS = 0.035  # [m]
REACH_TOLERANCE = 0.02  # [m]
GRIPPER_OPEN = 0.3  # [rad]: jaws wider than the cube


CUBE_XY_YAW = Box((0.15, -0.10, -np.pi / 4), (0.25, 0.10, np.pi / 4))
TARGET_XYZ = Box((0.15, -0.10, 0.03), (0.25, 0.10, 0.08))
ZONE_X_ABSY = Box((0.15, 0.04), (0.25, 0.10))


class ArmScene:
    """Handles to the task objects of ``scene_so101.xml`` in a connected SimRobot."""

    def __init__(self, robot: SimRobot) -> None:
        m = robot.model
        self.robot = robot
        self.cube_qpos = m.jnt_qposadr[m.joint("cube").id]
        self.cube_body = m.body("cube").id
        self.cube_geom = m.geom("cube").id
        self.target_mocap = m.body_mocapid[m.body("target").id]
        self.zone_mocap = m.body_mocapid[m.body("zone").id]
        self.grasp_site = m.site("grasp").id  # gripperframe + SO101_GRASP_OFFSET (checked in the tests)
        self.gripper = robot.spec.joint_index("gripper")

    def grasp_point(self) -> np.ndarray:
        return self.robot.data.site_xpos[self.grasp_site].copy()

    def cube_pos(self) -> np.ndarray:
        return self.robot.data.xpos[self.cube_body].copy()

    def cube_quat(self) -> np.ndarray:
        return self.robot.data.xquat[self.cube_body].copy()

    def cube_half(self) -> float:
        """The cube's half edge [m] in the current model (CUBE_HALF unless domain randomization resized it)."""
        return float(self.robot.model.geom_size[self.cube_geom, 2])

    def place_cube(self, x: float, y: float, yaw: float) -> None:
        q = self.robot.data.qpos
        a = self.cube_qpos
        q[a : a + 3] = (x, y, self.cube_half())
        q[a + 3 : a + 7] = (np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2))

    def hide(self, mocap: int) -> None:
        self.robot.data.mocap_pos[mocap] = (0.0, 0.0, -1.0)

    def privileged(self) -> dict[str, np.ndarray]:
        """Cube pose [m, quaternion w x y z] and grasp point [m]."""
        return {"cube_pos": self.cube_pos(), "cube_quat": self.cube_quat(), "grasp_pos": self.grasp_point()}


class Reach(Task[ArmScene]):
    name, max_steps = "reach", 150

    def reset(self, scene: ArmScene, rng: np.random.Generator) -> None:
        self.target = TARGET_XYZ.sample(rng)
        scene.robot.data.mocap_pos[scene.target_mocap] = self.target
        scene.hide(scene.zone_mocap)
        scene.place_cube(0.0, 0.30, 0.0)  # out of the way, on the table beside the arm

    def evaluate(self, scene: ArmScene) -> tuple[float, bool]:
        dist = math.dist(scene.grasp_point(), self.target)
        return -dist, dist < REACH_TOLERANCE

    def privileged(self, scene: ArmScene) -> dict[str, np.ndarray]:
        return {**super().privileged(scene), "target_pos": self.target.copy()}


class Lift(Task[ArmScene]):
    name, max_steps = "lift", 240

    def reset(self, scene: ArmScene, rng: np.random.Generator) -> None:
        x, y, yaw = CUBE_XY_YAW.sample(rng)
        scene.place_cube(x, y, yaw)
        scene.hide(scene.target_mocap)
        scene.hide(scene.zone_mocap)

    def evaluate(self, scene: ArmScene) -> tuple[float, bool]:
        cube = scene.cube_pos()
        height = cube[2] - scene.cube_half()
        reach = math.dist(scene.grasp_point(), cube)
        return -reach + 10.0 * min(max(height, 0.0), LIFT_HEIGHT), bool(height >= LIFT_HEIGHT)


class Place(Task[ArmScene]):
    name, max_steps = "place", 360

    def reset(self, scene: ArmScene, rng: np.random.Generator) -> None:
        x, y, yaw = CUBE_XY_YAW.sample(rng)
        scene.place_cube(x, y, yaw)
        zx, zy = ZONE_X_ABSY.sample(rng)
        self.zone = np.array([zx, -np.sign(y + 1e-9) * zy, 0.0])
        scene.robot.data.mocap_pos[scene.zone_mocap] = self.zone
        scene.hide(scene.target_mocap)

    def evaluate(self, scene: ArmScene) -> tuple[float, bool]:
        cube = scene.cube_pos()
        off = math.dist(cube[:2], self.zone[:2])
        resting = cube[2] < scene.cube_half() + 0.005
        released = scene.robot.data.qpos[scene.gripper] > GRIPPER_OPEN
        reach = math.dist(scene.grasp_point(), cube)
        return -reach - 2.0 * off, bool(off < ZONE_RADIUS and resting and released)

    def privileged(self, scene: ArmScene) -> dict[str, np.ndarray]:
        return {**super().privileged(scene), "zone_pos": self.zone.copy()}


ARM_TASKS: dict[str, type[Task[ArmScene]]] = {t.name: t for t in (Reach, Lift, Place)}
