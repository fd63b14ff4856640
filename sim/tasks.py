"""The one task protocol of every simulated robot, arm and hand: a :class:`Task` on a :class:`TaskScene`.

A scene is a set of handles to the objects of a robot's MuJoCo scene in a connected SimRobot (``sim.arm_tasks.
ArmScene``, ``sim.hand_scene.HandScene``); a task is per-task data and rules on it: how an episode is drawn, what
moves by itself, the reward and success test, the simulator-only state experts plan from. Every harness resets an
episode through :meth:`Task.start` (the gymnasium env, the loop commands' :class:`compose.episodes.TaskEpisodes`,
hardware in the loop), so one seed gives one scene everywhere.
"""

from __future__ import annotations

import abc
import itertools
from typing import ClassVar, Generic, NamedTuple, Protocol, TypeVar

import mujoco
import numpy as np

from twinarm.sim.sim_robot import SimRobot


class Box(NamedTuple):
    """Uniform sampling box: ``low``/``high`` arrays of equal shape."""

    low: tuple[float, ...]
    high: tuple[float, ...]

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high)


class TaskScene(Protocol):
    """Handles to a scene's objects in the connected SimRobot ``robot``."""

    robot: SimRobot

    def privileged(self) -> dict[str, np.ndarray]:
        """The scene's simulator-only state every task of the robot reports (object poses [m, quaternion w x y z],
        the grasp point [m], ...)."""
        ...


SceneT = TypeVar("SceneT", bound=TaskScene)


class Task(abc.ABC, Generic[SceneT]):
    """A task on scene type ``SceneT``. Subclasses set ``name`` and ``max_steps`` (at 30 Hz) and implement
    :meth:`reset` and :meth:`evaluate`; the rest has defaults."""

    name: ClassVar[str] = ""
    max_steps: ClassVar[int] = 0

    def start(self, scene: SceneT, rng: np.random.Generator) -> None:
        """Reset the whole world for an episode: the physics with the robot at its home pose, then the episode
        drawn from ``rng`` (:meth:`reset`), then MuJoCo's derived quantities. From then on every control period of
        the robot (``send_action`` or ``hold``) first calls :meth:`before_step` with the time it ends at, counted
        from this start. Seeded the same, every harness gets the same episode."""
        robot = scene.robot
        robot.reset()
        self.reset(scene, rng)
        mujoco.mj_forward(robot.model, robot.data)
        period_s, steps = robot.spec.control_period_s, itertools.count(1)
        robot.before_step = lambda: self.before_step(scene, next(steps) * period_s)

    @abc.abstractmethod
    def reset(self, scene: SceneT, rng: np.random.Generator) -> None:
        """Draw the episode from ``rng`` (everything random comes from it) and set the scene up. The physics has
        just been reset with the robot at home; a task that edits the model resets the robot again itself."""

    def before_step(self, scene: SceneT, t_s: float) -> None:
        """Move the scene before the step that ends ``t_s`` [s] after the reset (default: nothing moves)."""

    @abc.abstractmethod
    def evaluate(self, scene: SceneT) -> tuple[float, bool]:
        """(reward, success) for the current state."""

    def privileged(self, scene: SceneT) -> dict[str, np.ndarray]:
        """Simulator-only state for experts and RL (never part of the observation): the scene's, plus what the
        task drew (targets, zones) in subclasses."""
        return scene.privileged()
