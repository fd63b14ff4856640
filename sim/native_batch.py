"""The control period of every env of the batched vector env in one native call per phase: ``mujoco.batch``.

:class:`NativePhysics` runs the physics of N arm-task envs (:class:`sim.arm_batch.ArmTaskBatch`, no scene motion of
their own) on a persistent :class:`mujoco.batch.Batch` over the envs' own models (``set_models``: per-env
randomized parameters, edited in place, stay in effect). The batch keeps each simulation's state in a row and
steps the rows on its own thread pool, bit for bit as ``mj_step`` on one ``MjData`` each (MuJoCo's guarantee, and
the vector env's equality tests). No Python runs per env in a step: the delayed commands' split of the control
period (the first ``r`` physics steps under the older command, :mod:`sim.batch_servo`) becomes phases, one call
each, over the envs still running; usually two (every env the same delay).

Ownership: between resets the batch's rows hold the envs' physics state and each env's own ``MjData`` is stale;
:meth:`NativePhysics.sync` copies the batch's whole ``MjData`` of an env back before anything reads it (the vector
env's ``call``/``render``, a reset; the servos' overload model reads the actuator forces and lengths the batch binds,
not the env's ``MjData``). :meth:`NativePhysics.load` copies an env's state into its
row after the env was reset on its own ``MjData``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mujoco
import numpy as np
from mujoco import batch as mj_batch

from twinarm.sim.arm_batch import ArmTaskBatch
from twinarm.sim.batch_servo import BatchServo
from twinarm.sim.tasks import Task

_STATE = mujoco.mjtState.mjSTATE_INTEGRATION
_EVERY = slice(None)


class NativePhysics:
    """The physics and the state columns of the (connected, reset) envs ``envs`` on ``n_threads`` threads."""

    @staticmethod
    def supports(envs: Sequence[Any]) -> bool:
        """No scene motion between periods, one substep count."""
        return (
            all(type(env.task).before_step is Task.before_step for env in envs)
            and len({env.robot.n_substeps for env in envs}) == 1
        )

    def __init__(self, envs: Sequence[Any], servo: BatchServo, task: ArmTaskBatch, n_threads: int) -> None:
        self.robots = [env.robot for env in envs]
        self.servo, self.task = servo, task
        r0 = self.robots[0]
        self.nstep = int(r0.n_substeps)
        self.batch = mj_batch.Batch(r0.model, len(envs), nthread=n_threads, persistent=True)
        self.batch.set_models([r.model for r in self.robots])
        b = self.batch
        self._ctrl = b.bind("ctrl")[:, : servo.n_act]
        servo.first = self._ctrl  # the first phase's commands are written straight into the batch's controls
        # outputs (copied out after every call, as MjData holds them after mj_step): bound before the first call
        force, length = (b.bind(name)[:, : servo.n_act] for name in ("actuator_force", "actuator_length"))
        fields = {name: b.bind(name) for name in ArmTaskBatch.FIELDS}
        # the state columns' sources: (N, k) views of the batch's memory, which stays in place across calls; the
        # robot's joints in qpos and qvel are slices, or index arrays (which copy: taken again at each step)
        self._joints = (b.bind("qpos"), r0._qpos, b.bind("qvel"), r0._qvel)
        self._rest = [force, length, *task.column_views(fields)]
        slices = isinstance(r0._qpos, slice) and isinstance(r0._qvel, slice)
        self._columns = [*self._joint_columns(), *self._rest] if slices else None
        self._stale = np.zeros(len(envs), np.bool_)  # envs whose own MjData is behind their row
        self._phases: tuple[tuple[int, np.ndarray | slice], ...] | None = None
        for i in range(len(envs)):
            self.load(i)

    # -- state ----------------------------------------------------------------------------------------------
    def load(self, i: int) -> None:
        """Env ``i`` was reset on its own ``MjData``: its state (and model, if it is a new one) into the batch."""
        robot = self.robots[i]
        if self.batch.models[i] is not robot.model:
            self.batch.set_models([r.model for r in self.robots])
        mujoco.mj_getState(robot.model, robot.data, self.batch.state[i], _STATE)
        self._stale[i] = False
        self._phases = None

    def sync(self, ids: Sequence[int] | np.ndarray | None = None) -> None:
        """Copy the batch's ``MjData`` of envs ``ids`` (None: all) to each env's own, where it is behind."""
        for i in range(len(self.robots)) if ids is None else ids:
            if self._stale[i]:
                self.batch.get_data(int(i), self.robots[i].data)
                self._stale[i] = False

    # -- one control period ---------------------------------------------------------------------------------
    def step(self, live: np.ndarray, every: bool) -> np.ndarray:
        """The control period of the ``live`` envs (commands: :attr:`BatchServo.first` for each env's first ``r``
        physics steps, then :attr:`BatchServo.second`); returns the state columns (N, width): the robot's joint
        positions, its joint velocities, actuator forces [N·m] and lengths [rad], then :attr:`ArmTaskBatch.WIDTH` task
        columns.
        ``every``: all envs are live."""
        phases = self._schedule(live) if not every or self._phases is None else self._phases
        if every:
            self._phases = phases
        ids = None if every else np.flatnonzero(live).astype(np.int32)
        servo, ctrl = self.servo, self._ctrl
        # ctrl holds servo.first (its rows of envs not live too: their reset's load() overwrites them afterwards)
        done = 0
        for until, switch in phases:
            if until > done:
                self.batch.step(ids, nstep=until - done)
                done = until
            ctrl[switch] = servo.second if switch is _EVERY else servo.second[switch]
        if self.nstep > done:
            self.batch.step(ids, nstep=self.nstep - done)
        self._stale |= live
        return np.concatenate(self._columns or [*self._joint_columns(), *self._rest], axis=1)

    def _joint_columns(self) -> list[np.ndarray]:
        qpos, pos, qvel, vel = self._joints
        return [qpos[:, pos], qvel[:, vel]]

    def _schedule(self, live: np.ndarray) -> tuple[tuple[int, np.ndarray | slice], ...]:
        """Phases of the period: (physics steps from its start, envs switching to the newer command then), by
        delay remainder ``r``; envs not ``live`` never switch (they are not stepped)."""
        r = np.where(live, self.servo.r, -1)
        if (r == r[0]).all():  # every env at once (the usual case): a slice, not an index array
            return ((int(r[0]), _EVERY),)
        return tuple((int(k), np.flatnonzero(r == k)) for k in np.unique(r[live]))
