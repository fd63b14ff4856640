"""The batched vector env's fast step for envs without cameras: one control period of N task envs with the
per-env Python reduced to the physics calls (:mod:`sim.batch_servo`, :mod:`sim.arm_batch`).

:class:`FastStep` takes over from ``TaskEnv.step`` what it does per env (safety clip, servo effects, sensing,
reward, success, privileged state) and does it with numpy over the batch, bit for bit the same. Only the
control period's physics (``mj_step``, which releases the GIL) and the scene's own motion run per env, in the env
threads. Envs that render cameras take the general path (a render costs milliseconds; the Python around it does
not matter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from twinarm.robot.spec import JOINT_POS, JOINT_VEL
from twinarm.sim.arm_batch import ArmTaskBatch, PerEnvTaskBatch
from twinarm.sim.batch_servo import BatchServo
from twinarm.sim.modes import ObsMode, RewardMode
from twinarm.sim.tasks import Task


class FastStep:
    """The fast step of the (connected, reset) task envs ``envs``, all of one task and configuration."""

    @staticmethod
    def supports(envs: Sequence[Any]) -> bool:
        """True when no env renders cameras (the fast step reads joints and task state only)."""
        return all(env.robot._renderer is None for env in envs)

    def __init__(self, envs: Sequence[Any]) -> None:
        self.envs = envs
        self.servo = BatchServo([env.robot for env in envs])
        self.task = ArmTaskBatch(envs) if ArmTaskBatch.supports(envs) else PerEnvTaskBatch(envs)
        self.privileged_obs = envs[0].obs_mode is ObsMode.PRIVILEGED
        self.sparse = envs[0].reward_mode is RewardMode.SPARSE
        self._pos: list[Any] = [None] * len(envs)
        self._vel: list[Any] = [None] * len(envs)
        for i in range(len(envs)):
            self._views(i)
            self._still(i)

    def _views(self, i: int) -> None:
        robot = self.envs[i].robot
        d = robot.data
        self._pos[i] = d.qpos[robot._qpos] if isinstance(robot._qpos, slice) else (d.qpos, robot._qpos)
        self._vel[i] = d.qvel[robot._qvel] if isinstance(robot._qvel, slice) else (d.qvel, robot._qvel)

    def _still(self, i: int) -> None:
        """A task that moves nothing by itself (``Task.before_step`` not overridden) needs no call per period."""
        if type(self.envs[i].task).before_step is Task.before_step:
            self.servo.moves[i] = False

    def load(self, i: int) -> None:
        """Env ``i`` was reset: take over its servo state, views and episode."""
        self.servo.load(i)
        self._still(i)
        self._views(i)
        self.task.load(i)

    def prepare(self, actions: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Clip the ``live`` envs' actions (N, n) [rad] and queue them: (targets sent, first, second commands)."""
        sent = self.servo.clip(actions, live)
        first, second = self.servo.commands(sent)
        return sent, first, second

    def physics(self, i: int, first: np.ndarray, second: np.ndarray) -> None:
        """Env ``i``'s control period (run on its thread)."""
        self.servo.step_physics(i, first, second)

    def observe(self, live: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """After the physics: (observations {key: (N, ...)}, rewards (N,), success (N,), privileged state)."""
        self.servo.overload(live)
        pos, vel = self.servo.sense(_stack(self._pos), _stack(self._vel), live)
        obs = {JOINT_POS: pos.astype(np.float32), JOINT_VEL: vel.astype(np.float32)}
        reward, success, privileged = self.task.evaluate()
        if self.privileged_obs:
            n = len(self.envs)
            obs.update({key: value.astype(np.float32).reshape(n, -1) for key, value in privileged.items()})
        rewards = success.astype(np.float64) if self.sparse else np.asarray(reward, np.float64)
        return obs, rewards, success, privileged


def _stack(sources: list[Any]) -> np.ndarray:
    """Rows from views (or (array, index) pairs, read now)."""
    if isinstance(sources[0], np.ndarray):
        return np.array(sources)
    return np.array([s if isinstance(s, np.ndarray) else s[0][s[1]] for s in sources])
