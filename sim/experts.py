"""Scripted experts for the SO-101 tasks: waypoints of the grasp point, IK on the MuJoCo model, grasp logic.

An expert is an action source: ``reset(privileged)`` plans from the simulator state (cube pose, target, zone),
``act(obs, privileged) -> (n,) float32`` joint targets [rad]. The commanded grasp point moves towards each waypoint
at a bounded Cartesian speed [m/s] (smooth, consistent demonstrations for imitation learning), the gripper points
straight down with the jaws square to the cube, and each waypoint may be held for a while (e.g. to let the jaws
close). Joint limits are respected by the IK; the Robot safety layer still clips every command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import gymnasium as gym
import mujoco
import numpy as np
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import SO101
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.ik import ArmIK, top_down_rotation
from twinarm.sim.sim_robot import SO101_SIM
from twinarm.sim.tasks import CUBE_HALF

GRIP_OPEN = 0.6  # [rad] jaws ~6 cm apart
GRIP_CLOSED = -0.15  # [rad] squeezes a 25 mm cube (contact at about +0.12)
HOVER_Z = 0.07  # [m] grasp point height when travelling
GRASP_Z = CUBE_HALF + 0.0035  # [m] grasp point height on the cube: finger tips ~3 mm above the table
LIFT_Z = 0.09  # [m]


class Waypoint(NamedTuple):
    """Grasp point target ``pos`` [m], jaw yaw [rad], gripper [rad], approach speed [m/s], hold time [s]."""

    pos: np.ndarray
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


class WaypointExpert:
    """Follows a plan of :class:`Waypoint` made by :meth:`plan` from the privileged state."""

    def __init__(self, control_hz: float = 30.0) -> None:
        model = mujoco.MjModel.from_xml_path(str(SO101_SIM.xml))
        self.ik = ArmIK(model, SO101.joint_names, SO101.joint_names[:5])
        self.grip_index = SO101.joint_index("gripper")
        self.dt = 1.0 / control_hz
        self.plan_: list[Waypoint] = []

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Waypoint]:
        raise NotImplementedError

    def reset(self, privileged: dict[str, np.ndarray]) -> None:
        self.plan_ = self.plan(privileged)
        self._i = 0
        self._held = 0.0
        self._q: np.ndarray | None = None
        self._cmd = np.asarray(privileged["grasp_pos"], dtype=np.float64).copy()

    @property
    def done(self) -> bool:
        return self._i >= len(self.plan_)

    def act(self, obs: dict[str, np.ndarray], privileged: dict[str, np.ndarray] | None = None) -> np.ndarray:
        if self._q is None:
            self._q = np.asarray(obs[JOINT_POS], dtype=np.float64).copy()
        wp = self.plan_[min(self._i, len(self.plan_) - 1)]
        delta = wp.pos - self._cmd
        dist = float(np.linalg.norm(delta))
        step = wp.speed * self.dt
        if dist > step:
            self._cmd = self._cmd + delta * (step / dist)
        else:
            self._cmd = wp.pos.copy()
            self._held += self.dt
            if self._held >= wp.hold_s and self._i < len(self.plan_):
                self._i += 1
                self._held = 0.0
        q = self.ik.solve(self._q, self._cmd, top_down_rotation(wp.yaw), iters=15)
        q[self.grip_index] = wp.grip
        self._q = q
        return q.astype(np.float32)


class ReachExpert(WaypointExpert):
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


class LiftExpert(WaypointExpert):
    def plan(self, privileged: dict[str, np.ndarray]) -> list[Waypoint]:
        cube = np.asarray(privileged["cube_pos"], dtype=np.float64)
        yaw = grasp_yaw(cube, privileged["cube_quat"])
        up = np.array([cube[0], cube[1], LIFT_Z])
        return [*_pick(cube, yaw), Waypoint(up, yaw, GRIP_CLOSED, speed=0.12, hold_s=30.0)]


class PlaceExpert(WaypointExpert):
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


EXPERTS: dict[str, type[WaypointExpert]] = {"reach": ReachExpert, "lift": LiftExpert, "place": PlaceExpert}


def make_expert(task: str, control_hz: float = 30.0) -> WaypointExpert:
    """The scripted expert of ``task`` (SO-101 or Amazing Hand); a :class:`ConfigError` lists the valid tasks."""
    from twinarm.sim.hand_experts import HAND_EXPERTS, make_hand_expert

    if task in HAND_EXPERTS:
        return make_hand_expert(task, control_hz)
    if task not in EXPERTS:
        valid = ", ".join([*EXPERTS, *HAND_EXPERTS])
        raise ConfigError(f"no scripted expert for task {task!r}; valid tasks: {valid}")
    return EXPERTS[task](control_hz)


def run_expert_episodes(
    task: str, seeds: Sequence[int], on_step: Callable[[gym.Env], None] | None = None, **env_kwargs: Any
) -> list[bool]:
    """Run the scripted expert of ``task`` once per seed (state-only env by default); returns each success.

    ``on_step(env)`` is called after every step (e.g. to render a video frame).
    """
    from twinarm.sim.envs import env_id

    env = gym.make(env_id(task), **{"cameras": (), **env_kwargs})
    expert = make_expert(task, env.unwrapped.robot.spec.control_hz)
    results = []
    try:
        for seed in seeds:
            obs, info = env.reset(seed=seed)
            expert.reset(info["privileged"])
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(expert.act(obs, info["privileged"]))
                done = terminated or truncated
                if on_step is not None:
                    on_step(env)
            results.append(bool(info["is_success"]))
    finally:
        env.close()
    return results
