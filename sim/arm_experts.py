"""Scripted experts for the arm tasks: plans of grasp-point waypoints (``sim.plan_expert``), IK on the MuJoCo
model, grasp logic.

The command is the grasp point [m]; it moves towards each waypoint at a bounded Cartesian speed [m/s] (smooth,
consistent demonstrations for imitation learning), the gripper points straight down with the jaws square to the
cube, and each waypoint may be held for a while (e.g. to let the jaws close). Joint limits are respected by the IK.
One set of plans serves every arm; what differs per arm (its model, grasp point, gripper openings, heights) is an
:class:`ArmRig`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import mujoco
import numpy as np

from twinarm.robot.spec import JOINT_POS
from twinarm.sim.arm_tasks import ARM_TASKS, CUBE_HALF, KOCH_TASKS
from twinarm.sim.hopejr_arm import HOPEJR_ARM_SIM, HOPEJR_ARM_TASKS, HOPEJR_GRASP_OFFSET
from twinarm.sim.ik import KOCH_GRASP_OFFSET, SO101_GRASP_OFFSET, ArmIK, top_down_rotation
from twinarm.sim.plan_expert import PlanExpert
from twinarm.sim.sim_robot import KOCH_SIM, SO101_SIM, SimModel

GRIP_OPEN = 0.6  # [rad] jaws ~6 cm apart
GRIP_CLOSED = -0.15  # [rad] squeezes a 25 mm cube (contact at about +0.12)
HOVER_Z = 0.07  # [m] grasp point height when travelling
GRASP_Z = CUBE_HALF + 0.0035  # [m] grasp point height on the cube: finger tips ~3 mm above the table
LIFT_Z = 0.09  # [m]


class ArmRig(NamedTuple):
    """What the arm experts need to know about one arm: its sim ``model`` (for IK), the grasp point ``offset`` in
    its ``gripperframe`` [m], the gripper joint ``grip_open`` / ``grip_closed`` [rad] (closed squeezes the cube),
    the jaws' ``yaw_offset`` [rad] (the yaw of the jaw-closing axis at wrist_roll 0, relative to the arm's radial
    direction: grasps prefer the cube face that needs the least wrist roll), and the grasp point's travel, grasp and
    lift heights [m]. An arm without a ``gripper`` joint (the HopeJR's) moves all its joints by IK and ignores the
    grip. ``sag_feedforward``: command each joint its gravity torque / kp past the IK solution (the model's own
    figures), so a heavy arm on position servos holds the pose instead of sagging below it."""

    model: SimModel
    offset: Sequence[float]
    grip_open: float = GRIP_OPEN
    grip_closed: float = GRIP_CLOSED
    yaw_offset: float = 0.0
    hover_z: float = HOVER_Z
    grasp_z: float = GRASP_Z
    lift_z: float = LIFT_Z
    sag_feedforward: bool = False


SO101_RIG = ArmRig(SO101_SIM, SO101_GRASP_OFFSET)
# The Koch (koch.xml): its jaw pads stand parallel on a 25 mm cube at 0.6 rad; 1.2 rad clears the cube, 0.3 squeezes
# it (0.36 N m at the XL330's kp). Its jaws close sideways at wrist_roll 0. Travel is lower than the SO-101's: the
# shorter arm would bend its wrist past its 100 deg range to point straight down much higher out there (sim.ik then
# tilts the gripper a little); the lift goes higher: the soft XL330/XL430 gains let the far-out arm sag ~1.5 cm.
KOCH_RIG = ArmRig(
    KOCH_SIM, KOCH_GRASP_OFFSET, grip_open=1.2, grip_closed=0.3, yaw_offset=np.pi / 2, hover_z=0.06, lift_z=0.10
)


class Waypoint(NamedTuple):
    """Grasp point target ``goal`` [m], jaw yaw [rad], gripper [rad], approach speed [m/s], hold time [s]."""

    goal: np.ndarray
    yaw: float
    grip: float
    speed: float = 0.25
    hold_s: float = 0.0


def grasp_yaw(cube_pos: np.ndarray, cube_quat: np.ndarray, yaw_offset: float = 0.0) -> float:
    """Jaw yaw [rad] square to a cube face, the one closest to the arm's radial direction + ``yaw_offset`` (least
    wrist roll)."""
    w, x, y, z = cube_quat
    theta = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    radial = np.arctan2(cube_pos[1], cube_pos[0]) + yaw_offset
    k = np.round((radial - theta) / (np.pi / 2))
    return float(theta + k * np.pi / 2)


class ArmExpert(PlanExpert[Waypoint]):
    """Follows a plan of :class:`Waypoint` made by :meth:`plan` for the arm ``rig``; the grasp point starts where
    the arm has it."""

    def __init__(self, control_hz: float = 30.0, rig: ArmRig = SO101_RIG) -> None:
        super().__init__(control_hz)
        self.rig = rig
        spec = rig.model.spec
        model = rig.model.load()
        names = spec.joint_names
        self.ik = ArmIK(model, names, tuple(n for n in names if n != "gripper"), offset=rig.offset)
        self.grip_index = spec.joint_index("gripper") if "gripper" in names else None
        self._kp = model.actuator_gainprm[: len(names), 0].copy()  # position actuators in joint order [N m/rad]
        self._dofs = model.jnt_dofadr[[model.joint(n).id for n in names]]
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
        if self.grip_index is not None:
            q[self.grip_index] = step.grip
        self._q = q
        return self._sag_compensated(q) if self.rig.sag_feedforward else q

    def _sag_compensated(self, q: np.ndarray) -> np.ndarray:
        """``q`` plus the static gravity torque at ``q`` over each position actuator's kp [rad]."""
        ik = self.ik
        ik.data.qpos[ik.qadr] = q
        ik.data.qvel[:] = 0.0
        mujoco.mj_forward(ik.model, ik.data)
        return q + ik.data.qfrc_bias[self._dofs] / self._kp


class ReachExpert(ArmExpert):
    def plan(self, privileged: dict[str, np.ndarray]) -> list[Waypoint]:
        target = np.asarray(privileged["target_pos"], dtype=np.float64)
        yaw = float(np.arctan2(target[1], target[0])) + self.rig.yaw_offset
        return [Waypoint(target, yaw, self.rig.grip_open, speed=0.2, hold_s=10.0)]


def _pick(rig: ArmRig, cube: np.ndarray, yaw: float) -> list[Waypoint]:
    above = np.array([cube[0], cube[1], rig.hover_z])
    at = np.array([cube[0], cube[1], rig.grasp_z])
    return [
        Waypoint(above, yaw, rig.grip_open, speed=0.25, hold_s=0.1),
        Waypoint(at, yaw, rig.grip_open, speed=0.12, hold_s=0.1),
        Waypoint(at, yaw, rig.grip_closed, speed=0.1, hold_s=0.5),
    ]


class LiftExpert(ArmExpert):
    def plan(self, privileged: dict[str, np.ndarray]) -> list[Waypoint]:
        rig = self.rig
        cube = np.asarray(privileged["cube_pos"], dtype=np.float64)
        yaw = grasp_yaw(cube, privileged["cube_quat"], rig.yaw_offset)
        up = np.array([cube[0], cube[1], rig.lift_z])
        return [*_pick(rig, cube, yaw), Waypoint(up, yaw, rig.grip_closed, speed=0.12, hold_s=30.0)]


class PlaceExpert(ArmExpert):
    def plan(self, privileged: dict[str, np.ndarray]) -> list[Waypoint]:
        rig = self.rig
        cube = np.asarray(privileged["cube_pos"], dtype=np.float64)
        zone = np.asarray(privileged["zone_pos"], dtype=np.float64)
        yaw = grasp_yaw(cube, privileged["cube_quat"], rig.yaw_offset)
        zone_yaw = yaw + float(np.arctan2(zone[1], zone[0]) - np.arctan2(cube[1], cube[0]))
        up = np.array([cube[0], cube[1], rig.hover_z])
        over = np.array([zone[0], zone[1], rig.hover_z])
        down = np.array([zone[0], zone[1], rig.grasp_z + 0.004])
        return [
            *_pick(rig, cube, yaw),
            Waypoint(up, yaw, rig.grip_closed, speed=0.12),
            Waypoint(over, zone_yaw, rig.grip_closed, speed=0.15),
            Waypoint(down, zone_yaw, rig.grip_closed, speed=0.1, hold_s=0.1),
            Waypoint(down, zone_yaw, rig.grip_open, speed=0.1, hold_s=0.4),
            Waypoint(over, zone_yaw, rig.grip_open, speed=0.12, hold_s=30.0),
        ]


#: An expert factory: control rate [Hz] -> a fresh expert.
ExpertFactory = Callable[[float], PlanExpert]
#: The expert of each arm task rule (``sim.tasks.Task.name``).
EXPERT_OF_RULE: dict[str, type[ArmExpert]] = {"reach": ReachExpert, "lift": LiftExpert, "place": PlaceExpert}


def rig_experts(tasks: dict[str, type], rig: ArmRig) -> dict[str, ExpertFactory]:
    """The expert of each of an arm's ``tasks`` (task name -> Task class), bound to its ``rig``."""
    return {name: functools.partial(EXPERT_OF_RULE[cls.name], rig=rig) for name, cls in tasks.items()}


# The HopeJR arm (sim.hopejr_arm): no gripper; its 1.5 kg arm on position servos sags 4-8 mm at the flange under
# gravity (0.55 deg at the shoulder at home), which the expert feeds forward.
HOPEJR_ARM_RIG = ArmRig(HOPEJR_ARM_SIM, HOPEJR_GRASP_OFFSET, sag_feedforward=True)

ARM_EXPERTS: dict[str, ExpertFactory] = {
    **rig_experts(ARM_TASKS, SO101_RIG),
    **rig_experts(KOCH_TASKS, KOCH_RIG),
    **rig_experts(HOPEJR_ARM_TASKS, HOPEJR_ARM_RIG),
}
