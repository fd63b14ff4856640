"""Scripted experts for the SO-101 tasks: plans of grasp-point waypoints (``sim.plan_expert``), IK on the MuJoCo
model, grasp logic.

The command is the grasp point [m]; it moves towards each waypoint at a bounded Cartesian speed [m/s] (smooth,
consistent demonstrations for imitation learning), the gripper points straight down with the jaws square to the
cube, and each waypoint may be held for a while (e.g. to let the jaws close). Joint limits are respected by the IK.
"""

from __future__ import annotations

from typing import NamedTuple

import mujoco
import numpy as np

from twinarm.robot.models import SO101
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.arm_tasks import CUBE_HALF
from twinarm.sim.ik import ArmIK, top_down_rotation
from twinarm.sim.plan_expert import PlanExpert
from twinarm.sim.sim_robot import SO101_SIM

GRIP_OPEN = 0.6  # [rad] jaws ~6 cm apart
GRIP_CLOSED = -0.15  # [rad] squeezes a 25 mm cube (contact at about +0.12)
HOVER_Z = 0.07  # [m] grasp point height when travelling
GRASP_Z = CUBE_HALF + 0.0035  # [m] grasp point height on the cube: finger tips ~3 mm above the table
LIFT_Z = 0.09  # [m]


class Waypoint(NamedTuple):
    """Grasp point target ``goal`` [m], jaw yaw [rad], gripper [rad], approach speed [m/s], hold time [s]."""

    goal: np.ndarray
    yaw: float
    grip: float
    speed: float = 0.25
    hold_s: float = 0.0


def grasp_yaw(cube_pos: np.ndarray, cube_quat: np.ndarray) -> float:
    """Jaw yaw [rad] square to a cube face, the one closest to the arm's radial direction (least wrist roll)."""
    w, x, y, z = cube_quat
    theta = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    radial = np.arctan2(cube_pos[1], cube_pos[0])
    k = np.round((radial - theta) / (np.pi / 2))
    return float(theta + k * np.pi / 2)


class ArmExpert(PlanExpert[Waypoint]):
    """Follows a plan of :class:`Waypoint` made by :meth:`plan`; the grasp point starts where the arm has it."""

    def __init__(self, control_hz: float = 30.0) -> None:
        super().__init__(control_hz)
        model = mujoco.MjModel.from_xml_path(str(SO101_SIM.xml))
        self.ik = ArmIK(model, SO101.joint_names, SO101.joint_names[:5])
        self.grip_index = SO101.joint_index("gripper")
        self._q: np.ndarray | None = None  # the last IK solution [rad], the next solve's start

    def reset(self, privileged: dict[str, np.ndarray]) -> None:
        super().reset(privileged)
        self._q = None

    def initial_command(self, privileged: dict[str, np.ndarray]) -> np.ndarray:
        return privileged["grasp_pos"]

    def action(self, command: np.ndarray, step: Waypoint, obs: dict[str, np.ndarray]) -> np.ndarray:
        if self._q is None:
            self._q = np.asarray(obs[JOINT_POS], dtype=np.float64).copy()
        q = self.ik.solve(self._q, command, top_down_rotation(step.yaw), iters=15)
        q[self.grip_index] = step.grip
        self._q = q
        return q


class ReachExpert(ArmExpert):
    def plan(self, privileged: dict[str, np.ndarray]) -> list[Waypoint]:
        target = np.asarray(privileged["target_pos"], dtype=np.float64)
        return [Waypoint(target, float(np.arctan2(target[1], target[0])), GRIP_OPEN, speed=0.2, hold_s=10.0)]


def _pick(cube: np.ndarray, yaw: float) -> list[Waypoint]:
    above = np.array([cube[0], cube[1], HOVER_Z])
    at = np.array([cube[0], cube[1], GRASP_Z])
    return [
        Waypoint(above, yaw, GRIP_OPEN, speed=0.25, hold_s=0.1),
        Waypoint(at, yaw, GRIP_OPEN, speed=0.12, hold_s=0.1),
        Waypoint(at, yaw, GRIP_CLOSED, speed=0.1, hold_s=0.5),
    ]


class LiftExpert(ArmExpert):
    def plan(self, privileged: dict[str, np.ndarray]) -> list[Waypoint]:
        cube = np.asarray(privileged["cube_pos"], dtype=np.float64)
        yaw = grasp_yaw(cube, privileged["cube_quat"])
        up = np.array([cube[0], cube[1], LIFT_Z])
        return [*_pick(cube, yaw), Waypoint(up, yaw, GRIP_CLOSED, speed=0.12, hold_s=30.0)]


class PlaceExpert(ArmExpert):
    def plan(self, privileged: dict[str, np.ndarray]) -> list[Waypoint]:
        cube = np.asarray(privileged["cube_pos"], dtype=np.float64)
        zone = np.asarray(privileged["zone_pos"], dtype=np.float64)
        yaw = grasp_yaw(cube, privileged["cube_quat"])
        zone_yaw = yaw + float(np.arctan2(zone[1], zone[0]) - np.arctan2(cube[1], cube[0]))
        up = np.array([cube[0], cube[1], HOVER_Z])
        over = np.array([zone[0], zone[1], HOVER_Z])
        down = np.array([zone[0], zone[1], GRASP_Z + 0.004])
        return [
            *_pick(cube, yaw),
            Waypoint(up, yaw, GRIP_CLOSED, speed=0.12),
            Waypoint(over, zone_yaw, GRIP_CLOSED, speed=0.15),
            Waypoint(down, zone_yaw, GRIP_CLOSED, speed=0.1, hold_s=0.1),
            Waypoint(down, zone_yaw, GRIP_OPEN, speed=0.1, hold_s=0.4),
            Waypoint(over, zone_yaw, GRIP_OPEN, speed=0.12, hold_s=30.0),
        ]


ARM_EXPERTS: dict[str, type[ArmExpert]] = {"reach": ReachExpert, "lift": LiftExpert, "place": PlaceExpert}
