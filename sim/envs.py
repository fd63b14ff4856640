"""Gymnasium environments of the SO-101 tasks, registered as ``twinarm/SO101{Reach,Lift,Place}-v0``.

Observations and actions are exactly the robot's (``robot.spec``): joint state [rad, rad/s] plus one RGB image per
configured camera; actions are joint position targets [rad], clipped by the Robot safety layer (the target actually
sent is in ``info["action_sent"]``). Simulator-only state for experts and RL is in ``info["privileged"]`` and
``env.unwrapped.privileged_state()``, never in the observation. ``info["is_success"]`` reports the task's test.
Episodes are truncated by gymnasium's ``TimeLimit`` (``max_episode_steps`` at the default 30 Hz).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from robot.errors import ConfigError
from robot.models import SO101
from robot.spec import CameraSpec
from sim.hand_envs import HAND_ENV_IDS, register_hand_envs
from sim.sim_robot import SO101_SIM, SimRobot
from sim.tasks import TASKS, Scene, Task, forward

SO101_ENV_IDS = {name: f"twinarm/SO101{name.capitalize()}-v0" for name in TASKS}
#: Every twinarm/ environment by task name: the SO-101 tasks here, the Amazing Hand ones in sim.hand_envs.
ENV_IDS = {**SO101_ENV_IDS, **HAND_ENV_IDS}


def env_id(task: str) -> str:
    """The gymnasium id of a task name (``lift``) or an id given as is."""
    if task in ENV_IDS.values():
        return task
    if task not in ENV_IDS:
        raise ConfigError(f"unknown task {task!r}; valid tasks: {', '.join(ENV_IDS)}")
    return ENV_IDS[task]


class SO101TaskEnv(gym.Env):
    """One SO-101 task. ``cameras``: names of the observation cameras (``()`` for state only), rendered at
    ``image_size`` (height, width). ``control_hz`` [Hz] sets the step period."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        task: str = "lift",
        cameras: Sequence[str] = ("front", "wrist"),
        image_size: tuple[int, int] = (96, 96),
        control_hz: float = 30.0,
        render_mode: str | None = None,
    ) -> None:
        if task not in TASKS:
            raise ConfigError(f"unknown task {task!r}; valid tasks: {', '.join(TASKS)}")
        spec = SO101.with_rate(control_hz).with_cameras(tuple(CameraSpec(c, *image_size) for c in cameras))
        self.robot = SimRobot(SO101_SIM, spec)
        self.task: Task = TASKS[task]()
        self.observation_space = spec.observation_space()
        self.action_space = spec.action_space()
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": control_hz}
        self._scene: Scene | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        if not self.robot.is_connected:
            self.robot.connect()
            self._scene = Scene(self.robot)
        self.robot.reset()
        self.task.reset(self._scene, self.np_random)
        forward(self.robot)
        obs = self.robot.get_observation()
        return obs, {"is_success": False, "privileged": self.privileged_state()}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        sent = self.robot.send_action(action)
        obs = self.robot.get_observation()
        reward, success = self.task.evaluate(self._scene)
        info = {"is_success": success, "action_sent": sent, "privileged": self.privileged_state()}
        return obs, reward, False, False, info

    def privileged_state(self) -> dict[str, np.ndarray]:
        """Simulator-only state (cube pose, target, zone, grasp point) [m, quaternion w x y z]."""
        return self.task.privileged(self._scene)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return self.robot.render("front", 240, 320)

    def close(self) -> None:
        self.robot.disconnect()
        self._scene = None


for _name, _id in SO101_ENV_IDS.items():
    if _id not in gym.registry:
        gym.register(
            id=_id,
            entry_point="sim.envs:SO101TaskEnv",
            kwargs={"task": _name},
            max_episode_steps=TASKS[_name].max_steps,
        )

register_hand_envs()
