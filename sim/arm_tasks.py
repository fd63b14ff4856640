"""Arm table-top tasks on the one task protocol (``sim.tasks``): reset distributions, rewards, success tests.

One set of task rules serves every arm; what differs per arm (its workspace, when its jaws count as open) is data:
an :class:`ArmLayout` the scene carries (``ArmScene(robot, layout)``). Frames: world = robot base frame, table top at
z = 0, x forward, units [m]. Randomized at every reset (uniform); the SO-101's layout:

=======  ==========================================================================================================
reach    target point x in [0.15, 0.25], y in [-0.10, 0.10], z in [0.03, 0.08]; success: grasp point within 2 cm
lift     cube (25 mm) x in [0.15, 0.25], y in [-0.10, 0.10], yaw in [-45, 45] deg; success: cube >= 5 cm above
         its resting height
place    cube as in lift; zone (35 mm radius disc) on the other side: x in [0.15, 0.25], |y| in [0.04, 0.10];
         success: cube centre inside the zone, resting on the table, jaws open
=======  ==========================================================================================================

The Koch v1.1 (a shorter arm: 0.11 m upper arm, 0.09 m forearm) works closer in (:data:`KOCH_LAYOUT`). The grasp
point is the middle of the jaws: the ``grasp`` site (``gripperframe`` + the arm's offset, e.g.
``sim.ik.SO101_GRASP_OFFSET``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from twinarm.sim.sim_robot import SimRobot
from twinarm.sim.tasks import Box, Task

CUBE_HALF = 0.0125  # [m], see scene_so101.xml
LIFT_HEIGHT = 0.05  # [m] above the resting height
ZONE_RADIUS = 0.035  # [m]
REACH_TOLERANCE = 0.02  # [m]


class ArmLayout(NamedTuple):
    """Where an arm's tasks happen: ``cube_xy_yaw`` [m, m, rad], ``target_xyz`` [m], ``zone_x_absy`` [m] (the zone
    goes on the cube's other side) sampling boxes, and ``gripper_open`` [rad]: the gripper joint above which the
    jaws are wider than the cube (released)."""

    cube_xy_yaw: Box
    target_xyz: Box
    zone_x_absy: Box
    gripper_open: float


SO101_LAYOUT = ArmLayout(
    cube_xy_yaw=Box((0.15, -0.10, -np.pi / 4), (0.25, 0.10, np.pi / 4)),
    target_xyz=Box((0.15, -0.10, 0.03), (0.25, 0.10, 0.08)),
    zone_x_absy=Box((0.15, 0.04), (0.25, 0.10)),
    gripper_open=0.3,  # jaws wider than the cube
)

# The Koch v1.1 with the gripper pointing down reaches the table from about 0.09 m to 0.19 m out (sim.ik on our
# koch.xml, wrist_flex within its range); the boxes keep 2 cm inside that. Its rotating jaw holds a 25 mm cube at
# 0.6 rad (koch.xml geometry), so 0.7 rad means released.
KOCH_LAYOUT = ArmLayout(
    cube_xy_yaw=Box((0.10, -0.07, -np.pi / 4), (0.16, 0.07, np.pi / 4)),
    target_xyz=Box((0.10, -0.07, 0.03), (0.16, 0.07, 0.07)),
    zone_x_absy=Box((0.10, 0.04), (0.16, 0.08)),
    gripper_open=0.7,
)


def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance [m] over the last axis (2 or 3 coordinates), elementwise in a fixed order, so one env and
    a batch of envs (:mod:`sim.arm_batch`) get the same bits."""
    d = np.subtract(a, b)
    np.multiply(d, d, out=d)
    sq = d[..., 0] + d[..., 1]
    if d.shape[-1] == 3:
        sq += d[..., 2]
    return np.sqrt(sq)


def reach_score(grasp: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reach's (reward, success) from the grasp point and target [m], (..., 3) each."""
    dist = distance(grasp, target)
    return -dist, dist < REACH_TOLERANCE


def lift_score(grasp: np.ndarray, cube: np.ndarray, half: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Lift's (reward, success) from the grasp point and cube centre [m], (..., 3), and the cube's half edge [m]."""
    height = cube[..., 2] - half
    reach = distance(grasp, cube)
    lifted = 10.0 * np.minimum(np.maximum(height, 0.0), LIFT_HEIGHT)
    return lifted - reach, height >= LIFT_HEIGHT  # (x - r is -r + x, bit for bit)


def place_score(
    grasp: np.ndarray, cube: np.ndarray, half: np.ndarray | float, zone: np.ndarray, released: np.ndarray | bool
) -> tuple[np.ndarray, np.ndarray]:
    """Place's (reward, success) from the grasp point, cube centre and zone centre [m], (..., 3) each, the cube's
    half edge [m] and whether the jaws are open."""
    off = distance(cube[..., :2], zone[..., :2])
    resting = cube[..., 2] < half + 0.005
    reach = distance(grasp, cube)
    return -reach - 2.0 * off, (off < ZONE_RADIUS) & resting & released


class ArmScene:
    """Handles to the task objects of an arm scene (``scene_so101.xml``, ``scene_koch.xml``,
    ``scene_hopejr_arm.xml``: the same object names) in a connected SimRobot, and the arm's task ``layout``.
    ``gripper``: the gripper joint's index, None for an arm without one."""

    def __init__(self, robot: SimRobot, layout: ArmLayout = SO101_LAYOUT) -> None:
        m = robot.model
        self.robot = robot
        self.layout = layout
        self.cube_qpos = m.jnt_qposadr[m.joint("cube").id]
        self.cube_body = m.body("cube").id
        self.cube_geom = m.geom("cube").id
        self.target_mocap = m.body_mocapid[m.body("target").id]
        self.zone_mocap = m.body_mocapid[m.body("zone").id]
        self.grasp_site = m.site("grasp").id  # gripperframe + the arm's grasp offset (checked in the tests)
        names = robot.spec.joint_names  # an arm without a gripper (the HopeJR's, a hand comes later) has only reach
        self.gripper = robot.spec.joint_index("gripper") if "gripper" in names else None

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
        self.target = scene.layout.target_xyz.sample(rng)
        scene.robot.data.mocap_pos[scene.target_mocap] = self.target
        scene.hide(scene.zone_mocap)
        scene.place_cube(0.0, 0.30, 0.0)  # out of the way, on the table beside the arm

    def evaluate(self, scene: ArmScene) -> tuple[float, bool]:
        reward, success = reach_score(scene.grasp_point(), self.target)
        return float(reward), bool(success)

    def privileged(self, scene: ArmScene) -> dict[str, np.ndarray]:
        return {**super().privileged(scene), "target_pos": self.target.copy()}


class Lift(Task[ArmScene]):
    name, max_steps = "lift", 240

    def reset(self, scene: ArmScene, rng: np.random.Generator) -> None:
        x, y, yaw = scene.layout.cube_xy_yaw.sample(rng)
        scene.place_cube(x, y, yaw)
        scene.hide(scene.target_mocap)
        scene.hide(scene.zone_mocap)

    def evaluate(self, scene: ArmScene) -> tuple[float, bool]:
        reward, success = lift_score(scene.grasp_point(), scene.cube_pos(), scene.cube_half())
        return float(reward), bool(success)


class Place(Task[ArmScene]):
    name, max_steps = "place", 360

    def reset(self, scene: ArmScene, rng: np.random.Generator) -> None:
        x, y, yaw = scene.layout.cube_xy_yaw.sample(rng)
        scene.place_cube(x, y, yaw)
        zx, zy = scene.layout.zone_x_absy.sample(rng)
        self.zone = np.array([zx, -np.sign(y + 1e-9) * zy, 0.0])
        scene.robot.data.mocap_pos[scene.zone_mocap] = self.zone
        scene.hide(scene.target_mocap)

    def evaluate(self, scene: ArmScene) -> tuple[float, bool]:
        released = scene.robot.data.qpos[scene.gripper] > scene.layout.gripper_open
        reward, success = place_score(scene.grasp_point(), scene.cube_pos(), scene.cube_half(), self.zone, released)
        return float(reward), bool(success)

    def privileged(self, scene: ArmScene) -> dict[str, np.ndarray]:
        return {**super().privileged(scene), "zone_pos": self.zone.copy()}


ARM_TASKS: dict[str, type[Task[ArmScene]]] = {t.name: t for t in (Reach, Lift, Place)}
#: The Koch's tasks: the same rules under names of their own (task names are unique across robots).
KOCH_TASKS: dict[str, type[Task[ArmScene]]] = {f"koch_{name}": task for name, task in ARM_TASKS.items()}
