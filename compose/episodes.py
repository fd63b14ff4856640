"""Episode harnesses of the loop commands (``record``, ``deploy``, ``demo``, ``emulate physics=sim``), and the scripted
expert as a loop action source.

:class:`TaskEpisodes` runs a sim task where the world is simulated: on a SimRobot of any simulated model (arm or
hand), or on a hardware-in-the-loop rig (``compose.hil``: the real driver on an emulated bus whose physics is
MuJoCo). Episode ``seed`` resets the world through the task's own reset (``sim.tasks.Task.start``) with the
generator ``gym.make(task).reset(seed=seed)`` uses, so results compare with ``twinarm eval`` and ``twinarm sim``.
A task whose scene moves by itself (the hand's wrist lift) moves it on each SimRobot control period; on a rig the
emulator steps the physics, so such tasks need a SimRobot (the SO-101 tasks, the ones a rig serves, have none).
:class:`ManualEpisodes` is a real robot: home, then whatever the CLI does to let a person reset the scene; success
unknown. :class:`ExpertSource` is the task's scripted expert (``sim.experts``), planning from the simulator state.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from gymnasium.utils import seeding

from twinarm.robot.errors import ConfigError
from twinarm.robot.robot import Observation, Robot
from twinarm.sim.envs import FAMILIES, find_task
from twinarm.sim.sim_robot import SimRobot

if TYPE_CHECKING:
    from twinarm.compose.sim_motion import SimMotion


def move_to(robot: Robot, pose: np.ndarray, timeout_s: float = 10.0, atol: float = 2e-3) -> np.ndarray:
    """Command ``pose`` [rad] once per control period until the (max-step clipped) target reaches it; returns the
    last target sent. The robot's own safety layer sets the speed."""
    goal = np.clip(np.asarray(pose, dtype=np.float32), robot.spec.lower, robot.spec.upper)
    deadline = time.monotonic() + timeout_s
    while True:
        sent = robot.send_action(goal)
        if np.allclose(sent, goal, atol=atol) or time.monotonic() > deadline:
            return sent
        time.sleep(robot.spec.control_period_s)


class TaskEpisodes:
    """Episodes of sim task ``task`` where the world is simulated: on the (connected) SimRobot ``robot`` itself, or
    on a HIL rig (``robot`` the hardware robot, ``motion`` its simulated world). The world must be a scene of the
    robot model the task runs on; a ConfigError names the model to use."""

    scored = True  # success() is the task's test

    def __init__(self, task: str, robot: Robot, motion: SimMotion | None = None) -> None:
        model, family = find_task(task)
        world = robot if motion is None else motion.robot
        if not isinstance(world, SimRobot):
            raise ConfigError(f"task {task!r} needs a simulated world: a SimRobot or a HIL rig (robot.port=emulator)")
        here = world.spec.name
        if here != family.model.spec.name:
            tasks = next((", ".join(f.tasks) for f in FAMILIES if f.model.spec.name == here), "none")
            raise ConfigError(
                f"task {task!r} runs on robot model {model!r}, the robot is {here!r} (its tasks: {tasks}): "
                f"set robot.model={model} or choose one of its tasks"
            )
        self.task_name = task  # the task's id (its key in the family; ``task.name`` is the rule, shared across robots)
        self.task = family.tasks[task]()
        self.robot, self.motion, self.world = robot, motion, world
        self.scene = family.scene(world)
        self.home = np.asarray(world.sim_model.home, dtype=np.float32)
        self._lock = contextlib.nullcontext() if motion is None else motion.lock

    def reset(self, index: int, seed: int) -> None:
        """Start episode ``index`` from the scene seed ``seed`` draws."""
        rng = seeding.np_random(seed)[0]
        if self.motion is None:  # the deployed robot is the SimRobot
            self.task.start(self.scene, rng)
            return
        move_to(self.robot, self.home)  # the goals the servos hold from now on
        self.robot.get_observation()  # a round trip: the bus has applied the last (unanswered) goal write
        self.motion.reset(self.home, lambda: self.task.start(self.scene, rng))
        self.robot.reset_target()

    def success(self) -> bool:
        with self._lock:
            return self.task.evaluate(self.scene)[1]

    def privileged(self) -> dict[str, np.ndarray]:
        """Simulator-only state (object poses, targets, ...) for the scripted experts."""
        with self._lock:
            return self.task.privileged(self.scene)


class ManualEpisodes:
    """Episodes on a real robot: drive to ``home`` [rad] (if given), then ``wait(index)`` lets a person reset the
    scene (the CLI prompts). Success is unknown (None)."""

    scored = False  # success() is always None

    def __init__(self, robot: Robot, home: np.ndarray | None, wait: Callable[[int], None] | None = None) -> None:
        self.robot, self.home, self.wait = robot, home, wait

    def reset(self, index: int, seed: int) -> None:
        if self.home is not None:
            move_to(self.robot, self.home)
        if self.wait is not None:
            self.wait(index)

    def success(self) -> bool | None:
        return None


class ExpertSource:
    """The scripted expert of the task of ``episodes`` as a loop action source, at ``control_hz`` [Hz]: it plans at
    ``reset`` from the episode's simulator state (reset the episode first)."""

    def __init__(self, episodes: TaskEpisodes, control_hz: float) -> None:
        from twinarm.sim.experts import make_expert

        self.episodes = episodes
        self.expert = make_expert(episodes.task_name, control_hz)

    def reset(self) -> None:
        self.expert.reset(self.episodes.privileged())

    def act(self, obs: Observation) -> np.ndarray:
        return self.expert.act(obs)
