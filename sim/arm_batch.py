"""Rewards, success tests and privileged state of N arm-task envs at once (the batched vector env's hot path).

:class:`ArmTaskBatch` reads every env's grasp point, cube pose and gripper from the native batch's fields
(:mod:`sim.native_batch`, :meth:`ArmTaskBatch.column_views`) and scores all envs with the same functions the
single env's task uses (:func:`sim.arm_tasks.reach_score`, ``lift_score``, ``place_score``), so both give the same
bits. Tasks other than the arm's Reach, Lift and Place (exactly those classes) are scored env by env
(:class:`PerEnvTaskBatch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from twinarm.sim.arm_tasks import Lift, Place, Reach, lift_score, place_score, reach_score


class PerEnvTaskBatch:
    """Any task: each env's own ``Task.evaluate`` and ``Task.privileged``, stacked."""

    WIDTH = 0

    def __init__(self, envs: Sequence[Any]) -> None:
        self.envs = envs

    def load(self, i: int) -> None:
        """Env ``i`` was reset (nothing to take over)."""

    def views(self, i: int) -> list[np.ndarray]:
        return []

    def evaluate(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(reward (N,) float64, success (N,) bool, privileged state {key: (N, ...)}) of every env."""
        scored = [env.task.evaluate(env._scene) for env in self.envs]
        privileged = [env.privileged_state() for env in self.envs]
        stacked = {key: np.stack([p[key] for p in privileged]) for key in privileged[0]}
        return np.array([r for r, _ in scored], np.float64), np.array([s for _, s in scored], np.bool_), stacked


class ArmTaskBatch:
    """Reach, Lift or Place (one of them for all envs) of the arm envs ``envs``, scored with numpy over the batch."""

    TASKS = (Reach, Lift, Place)

    @classmethod
    def supports(cls, envs: Sequence[Any]) -> bool:
        kind = type(envs[0].task)
        return kind in cls.TASKS and all(type(env.task) is kind for env in envs)

    #: Columns of :meth:`column_views`: grasp point, cube position, cube quaternion, gripper joint.
    WIDTH = 11

    def __init__(self, envs: Sequence[Any]) -> None:
        self.envs = envs
        self.kind = type(envs[0].task)
        n = len(envs)
        self.goal = np.zeros((n, 3))  # Reach's target or Place's zone [m]
        self.gripper_open = np.zeros(n)  # [rad]
        self.half = np.zeros(n)  # the cube's half edge [m], as the episode's reset made it
        for i in range(n):
            self.load(i)

    def load(self, i: int) -> None:
        """Env ``i`` was reset: its episode's target or zone."""
        env = self.envs[i]
        scene = env._scene
        self.gripper_open[i] = scene.layout.gripper_open
        self.half[i] = scene.robot.model.geom_size[scene.cube_geom, 2]
        if self.kind is Reach:
            self.goal[i] = env.task.target
        elif self.kind is Place:
            self.goal[i] = env.task.zone

    #: The MjData fields :meth:`column_views` reads.
    FIELDS = ("site_xpos", "xpos", "xquat", "qpos")

    def column_views(self, fields: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The task's :data:`WIDTH` columns of every env, as (N, k) views of its :data:`FIELDS`, (N, ...) each
        (as ``mujoco.batch`` binds them)."""
        scene = self.envs[0]._scene
        return [
            fields["site_xpos"][:, scene.grasp_site],
            fields["xpos"][:, scene.cube_body],
            fields["xquat"][:, scene.cube_body],
            fields["qpos"][:, scene.gripper : scene.gripper + 1],
        ]

    def evaluate(self, state: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(reward (N,) float64, success (N,) bool, privileged state {key: (N, ...)}) of every env from ``state``,
        the (N, :data:`WIDTH`) columns of :meth:`column_views` in this step's own array (the privileged entries
        are views of it)."""
        grasp, cube, quat, half = state[:, 0:3], state[:, 3:6], state[:, 6:10], self.half
        privileged = {"cube_pos": cube, "cube_quat": quat, "grasp_pos": grasp}
        if self.kind is Reach:
            reward, success = reach_score(grasp, self.goal)
            privileged["target_pos"] = self.goal.copy()
        elif self.kind is Lift:
            reward, success = lift_score(grasp, cube, half)
        else:
            released = state[:, 10] > self.gripper_open
            reward, success = place_score(grasp, cube, half, self.goal, released)
            privileged["zone_pos"] = self.goal.copy()
        return reward, success, privileged
