"""The batched vector env's fast step for envs without cameras: one control period of N task envs with the
per-env Python reduced to the physics calls and one copy (:mod:`sim.batch_servo`, :mod:`sim.arm_batch`).

:class:`FastStep` takes over from ``TaskEnv.step`` what it does per env (safety clip, servo effects, sensing,
reward, success, privileged state) and does it with numpy over the batch, bit for bit the same. Per env, on the
env's thread, run only the scene's own motion, the control period's physics (``mj_step``, which releases the GIL)
and one ``np.concatenate`` of everything read afterwards (joints, actuator forces and lengths, the task's bodies)
into the env's row of a (N, width) array, while that memory is still in the core's caches: read later, one env
after another, it costs several times more on a VM. Envs that render cameras take the general path (a render costs
milliseconds; the Python around it does not matter). Arm tasks (:class:`sim.arm_batch.ArmTaskBatch`) go further:
:class:`sim.native_batch.NativePhysics` steps all envs' physics in one native call per phase (``mujoco.batch``)
instead of one ``mj_step`` per env, and the per-env copy above is not made.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import mujoco
import numpy as np

from twinarm.robot.spec import JOINT_POS, JOINT_VEL
from twinarm.sim.arm_batch import ArmTaskBatch, PerEnvTaskBatch
from twinarm.sim.batch_servo import BatchServo
from twinarm.sim.modes import ObsMode, RewardMode
from twinarm.sim.native_batch import NativePhysics
from twinarm.sim.tasks import Task


class FastStep:
    """The fast step of the (connected, reset) task envs ``envs``, all of one task and configuration; physics on
    ``n_threads`` threads (the native batch's own; otherwise the caller runs :meth:`physics` per env)."""

    @staticmethod
    def supports(envs: Sequence[Any]) -> bool:
        """True when no env renders cameras (the fast step reads joints and task state only)."""
        return all(env.robot._renderer is None for env in envs)

    def __init__(self, envs: Sequence[Any], n_threads: int = 1) -> None:
        self.envs = envs
        self.servo = BatchServo([env.robot for env in envs])
        arm = ArmTaskBatch.supports(envs) and NativePhysics.supports(envs)  # scored and stepped in batch
        self.task = ArmTaskBatch(envs) if arm else PerEnvTaskBatch(envs)
        self.privileged_obs = envs[0].obs_mode is ObsMode.PRIVILEGED
        self.sparse = envs[0].reward_mode is RewardMode.SPARSE
        robot = envs[0].robot
        nq, nv, na = robot.model.nq, robot.model.nv, self.servo.n_act
        self.native = NativePhysics(envs, self.servo, self.task, n_threads) if arm else None
        if self.native is not None:  # its columns: joint positions and velocities, actuator forces and lengths, task
            n = self.servo.spec.num_joints
            cols = np.cumsum([0, n, n, na, na, self.task.WIDTH])
            self._pos, self._vel, self._joined = slice(0, n), slice(n, 2 * n), slice(0, 2 * n)
        else:  # the copy made per env: qpos, qvel, actuator forces and lengths, the task's
            cols = np.cumsum([0, nq, nv, na, na, self.task.WIDTH])
            self._pos = _shift(robot._qpos, int(cols[0]))
            self._vel = _shift(robot._qvel, int(cols[1]))
        c = [int(x) for x in cols]
        self._parts = tuple(slice(a, b) for a, b in itertools.pairwise(c[2:]))  # actuator forces, lengths, task
        self.state = np.zeros((len(envs), c[-1]))
        self._env: list[tuple] = [()] * len(envs)  # what env i's period needs on the threads, see _views
        if self.native is None:
            for i in range(len(envs)):
                self._views(i)

    def _views(self, i: int) -> None:
        robot, servo = self.envs[i].robot, self.servo
        m, d = robot.model, robot.data
        sources = [d.qpos, d.qvel, *servo.views(i), *self.task.views(i)]
        moves = type(self.envs[i].task).before_step is not Task.before_step  # the scene moves by itself
        r = int(servo.r[i])
        ctrl = d.ctrl[: servo.n_act]
        rows = (servo.first[i], servo.second[i], self.state[i])
        self._env[i] = (m, d, ctrl, r, int(servo.nstep[i]) - r, robot.before_step if moves else None, sources, *rows)

    def load(self, i: int) -> None:
        """Env ``i`` was reset: take over its servo state, views, episode (and physics state)."""
        self.servo.load(i)
        self.task.load(i)
        if self.native is not None:
            self.native.load(i)
        else:
            self._views(i)

    def sync(self, ids: Sequence[int] | np.ndarray | None = None) -> None:
        """Bring the own ``MjData`` of envs ``ids`` (None: all) up to date before anything else reads it or
        steps it (with the native batch it lags; otherwise it is always current)."""
        if self.native is not None:
            self.native.sync(ids)

    def run_native(self, live: np.ndarray, every: bool) -> bool:
        """The ``live`` envs' physics in the native batch, if this batch has one (else False: call
        :meth:`physics` per env); ``every``: all envs are live."""
        if self.native is None:
            return False
        self.state = self.native.step(live, every)
        return True

    def prepare(self, actions: np.ndarray, live: np.ndarray) -> np.ndarray:
        """Clip the ``live`` envs' actions (N, n) [rad] and queue them; returns the targets sent (N, n) [rad]."""
        sent = self.servo.clip(actions, live)
        self.servo.commands(sent)
        return sent

    def physics(self, i: int) -> None:
        """Env ``i``'s control period and the copy of its state (run on its thread): the scene's own motion, the
        delayed commands' first ``r`` physics steps, the rest of the period."""
        model, data, ctrl, r, rest, before_step, sources, first, second, row = self._env[i]
        if before_step is not None:
            before_step()
        if r:
            ctrl[:] = first
            mujoco.mj_step(model, data, r)
        ctrl[:] = second
        mujoco.mj_step(model, data, rest)
        np.concatenate(sources, out=row)

    def observe(self, live: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """After the physics: (observations {key: (N, ...)}, rewards (N,), success (N,), privileged state)."""
        state, (force, length, task) = self.state, self._parts
        self.servo.overload(live, state[:, force], state[:, length])
        if self.native is not None:  # positions and velocities side by side: sensed at once
            joints = self.servo.sense_joined(state[:, self._joined], live)
            pos, vel = joints[:, self._pos], joints[:, self._vel]
        else:
            pos, vel = self.servo.sense(state[:, self._pos], state[:, self._vel], live)
        obs = {JOINT_POS: pos.astype(np.float32), JOINT_VEL: vel.astype(np.float32)}
        reward, success, privileged = self.task.evaluate(state[:, task])
        if self.privileged_obs:
            n = len(self.envs)
            obs.update({key: value.astype(np.float32).reshape(n, -1) for key, value in privileged.items()})
        rewards = success.astype(np.float64) if self.sparse else reward  # (the task's reward is float64)
        return obs, rewards, success, privileged


def _shift(index: slice | np.ndarray, offset: int) -> slice | np.ndarray:
    """The columns ``index`` (a slice with start and stop, or an index array) moved by ``offset``."""
    if isinstance(index, slice):
        return slice(index.start + offset, index.stop + offset)
    return np.asarray(index) + offset
