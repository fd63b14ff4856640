"""Gymnasium environments of the Amazing Hand tasks (``sim.hand_tasks``), registered as
``twinarm/AmazingHandGrasp-v0`` and ``twinarm/AmazingHandReachPose-v0``.

Same contract as the SO-101 envs (``sim.envs``): observations and actions are exactly the robot's
(``robot.models.AMAZING_HAND``: joint state [rad, rad/s], plus one RGB image per configured camera of the scene:
``front``, ``side`` or ``wrist``); actions are joint position targets [rad] that reach the servos through the two-servo
transmission, clipped by the Robot safety layer (the target sent is in ``info["action_sent"]``). The wrist is moved
by the task, not the policy. Simulator-only state (object pose, shape and size, wrist, target pose) is in
``info["privileged"]`` and ``env.unwrapped.privileged_state()``; ``info["is_success"]`` reports the task's test.
Episodes are truncated by gymnasium's ``TimeLimit`` (``max_episode_steps`` at the default 30 Hz).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from robot.errors import ConfigError
from robot.models import AMAZING_HAND
from robot.spec import CameraSpec
from sim.hand_scene import HandScene
from sim.hand_tasks import HAND_TASKS, HandTask
from sim.sim_robot import AMAZING_HAND_SIM, SimRobot
from sim.tasks import forward

HAND_ENV_IDS = {"grasp": "twinarm/AmazingHandGrasp-v0", "reach_pose": "twinarm/AmazingHandReachPose-v0"}


class AmazingHandEnv(gym.Env):
    """One Amazing Hand task. ``cameras``: names of the observation cameras (default none: state only), rendered at
    ``image_size`` (height, width). ``control_hz`` [Hz] sets the step period."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(
        self,
        task: str = "grasp",
        cameras: Sequence[str] = (),
        image_size: tuple[int, int] = (96, 96),
        control_hz: float = 30.0,
        render_mode: str | None = None,
    ) -> None:
        if task not in HAND_TASKS:
            raise ConfigError(f"unknown hand task {task!r}; valid tasks: {', '.join(HAND_TASKS)}")
        spec = AMAZING_HAND.with_rate(control_hz).with_cameras(tuple(CameraSpec(c, *image_size) for c in cameras))
        self.robot = SimRobot(AMAZING_HAND_SIM, spec)
        self.task: HandTask = HAND_TASKS[task]()
        self.observation_space = spec.observation_space()
        self.action_space = spec.action_space()
        self.render_mode = render_mode
        self.metadata = {**self.metadata, "render_fps": control_hz}
        self._scene: HandScene | None = None
        self._steps = 0
        self._dt = spec.control_period_s

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        super().reset(seed=seed)
        if not self.robot.is_connected:
            self.robot.connect()
            self._scene = HandScene(self.robot)
        self.task.reset(self._scene, self.np_random)
        forward(self.robot)
        self._steps = 0
        obs = self.robot.get_observation()
        return obs, {"is_success": False, "privileged": self.privileged_state()}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        self._steps += 1
        self.task.before_step(self._scene, self._steps * self._dt)
        sent = self.robot.send_action(action)
        obs = self.robot.get_observation()
        reward, success = self.task.evaluate(self._scene)
        info = {"is_success": success, "action_sent": sent, "privileged": self.privileged_state()}
        return obs, reward, False, False, info

    def privileged_state(self) -> dict[str, np.ndarray]:
        """Simulator-only state: object pose [m, quaternion w x y z], shape index, size [m], wrist [m], targets."""
        return self.task.privileged(self._scene)

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        return self.robot.render("front", 240, 320)

    def close(self) -> None:
        self.robot.disconnect()
        self._scene = None


def register_hand_envs() -> None:
    """Register the hand envs with gymnasium (idempotent)."""
    for name, id_ in HAND_ENV_IDS.items():
        if id_ not in gym.registry:
            gym.register(
                id=id_,
                entry_point="sim.hand_envs:AmazingHandEnv",
                kwargs={"task": name},
                max_episode_steps=HAND_TASKS[name].max_steps,
            )
