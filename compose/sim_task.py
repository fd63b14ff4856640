"""Simulated task scenes for the loop commands: the ``twinarm/`` gymnasium env whose SimRobot the loop drives, and
the scripted expert of its task as an action source."""

from __future__ import annotations

import numpy as np
from twinarm.compose.backends import RobotConfig
from twinarm.robot.robot import Observation, Robot


class SimTask:
    """A sim task scene (the ``twinarm/`` gymnasium env) whose SimRobot the loop drives directly.

    ``reset(k)`` starts episode ``k`` from the seeded scene ``seed + k`` (the same seeds as ``twinarm eval``);
    ``privileged()`` is the simulator-only state experts plan from.
    """

    def __init__(self, task: str, robot: RobotConfig, seed: int = 0, sim_params: object = "") -> None:
        import gymnasium as gym
        from twinarm.sim.envs import env_id

        cams = tuple(robot.cameras)
        self.env = gym.make(
            env_id(task),
            cameras=cams,
            image_size=(robot.camera_height, robot.camera_width),
            control_hz=robot.control_hz,
            sim_params=sim_params,  # a SimParams, a preset name or path, "" (default) or None (the MJCF's figures)
        )
        self.seed = seed
        self.robot: Robot = self.env.unwrapped.robot
        self.reset(0)  # connects the robot

    def reset(self, episode: int) -> None:
        self.env.reset(seed=self.seed + episode)

    def privileged(self) -> dict[str, np.ndarray]:
        return self.env.unwrapped.privileged_state()

    def close(self) -> None:
        self.env.close()


class ExpertSource:
    """The scripted expert of a :class:`SimTask` (``sim.experts``); it plans at ``reset`` from the current scene."""

    def __init__(self, task: SimTask) -> None:
        from twinarm.sim.experts import make_expert

        self.task = task
        self.expert = make_expert(task.env.unwrapped.task.name, task.robot.spec.control_hz)

    def reset(self) -> None:
        self.expert.reset(self.task.privileged())

    def act(self, obs: Observation) -> np.ndarray:
        return self.expert.act(obs, self.task.privileged())
