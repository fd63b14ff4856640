"""Sim parameters applied to a MuJoCo model in place, and the servo effects MuJoCo has no element for.

:func:`apply_params` writes a :class:`~twinarm.sim.sim_params.SimParams` into a compiled ``MjModel`` (position
gain and bias, force range, and the damping/armature/frictionloss of the joint or tendon each actuator drives); the
MJCF is never edited. :class:`ServoEffects` does, per control period and in physics-step resolution, what the servos
add on top of rigid-body physics: the command-to-motion delay, gear backlash (a play operator on the target), the
overload torque cut-back, and the sensing model (position/velocity quantization and seeded noise).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import NamedTuple

import mujoco
import numpy as np

from twinarm.sim.sim_params import SimParams, SimParamsError


def actuator_ids(model: mujoco.MjModel, names: Sequence[str]) -> np.ndarray:
    """Actuator ids of ``names``; a SimParamsError lists the model's actuators when one is missing."""
    ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_ACTUATOR, n) for n in names]
    missing = [n for n, i in zip(names, ids) if i < 0]
    if missing:
        valid = [model.actuator(i).name for i in range(model.nu)]
        raise SimParamsError(f"sim parameters name actuators {missing} the model lacks; valid: {', '.join(valid)}")
    return np.array(ids)


def apply_params(model: mujoco.MjModel, params: SimParams, names: Sequence[str]) -> None:
    """Write ``params`` for the actuators ``names`` (every one must be in ``params.joints``) into ``model``.

    Position actuator: force = kp * (ctrl - q), no kv (the identified damping includes back-EMF), clipped to
    +-force_limit. Damping, armature and frictionloss go to the driven joint's dof, or to the driven tendon."""
    missing = [n for n in names if n not in params.joints]
    extra = [n for n in params.joints if n not in names]
    if missing or extra:
        raise SimParamsError(
            f"sim parameters {params.name or ''}: joints {sorted(params.joints)} do not match the robot's actuators; "
            f"valid: {', '.join(names)}"
        )
    for a, name in zip(actuator_ids(model, names), names):
        jp = params.joints[name]
        model.actuator_gainprm[a, 0] = jp.kp
        model.actuator_biasprm[a, 1:3] = (-jp.kp, 0.0)
        model.actuator_forcelimited[a] = 1
        model.actuator_forcerange[a] = (-jp.force_limit, jp.force_limit)
        target = model.actuator_trnid[a, 0]
        if model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT:
            dof = model.jnt_dofadr[target]
            model.dof_damping[dof], model.dof_armature[dof] = jp.damping, jp.armature
            model.dof_frictionloss[dof] = jp.frictionloss
        elif model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_TENDON:
            model.tendon_damping[target], model.tendon_armature[target] = jp.damping, jp.armature
            model.tendon_frictionloss[target] = jp.frictionloss
        else:
            raise SimParamsError(f"actuator {name!r}: only joint or tendon actuators take servo parameters")
    mujoco.mj_setConst(model, mujoco.MjData(model))  # armature changed: refresh the constants derived from it


class ServoState(NamedTuple):
    """What :class:`ServoEffects` carries from one control period to the next (for a batch that steps many)."""

    pending: tuple[np.ndarray, ...]  # commanded targets still in the delay line, oldest first (actuator space) [rad]
    centre: np.ndarray  # backlash: the effective target the play operator holds (actuator space) [rad]
    saturated_s: np.ndarray  # overload: how long each servo has been at its force limit [s]
    idle: bool  # overload: no servo saturating or cut back (nothing for the overload check to update)


class ServoEffects:
    """Delay, backlash, overload and sensing of ``n`` servos (actuators ``0..n-1`` of the model, in order).

    ``params`` None: none of them (targets applied at once, exact readings). Call :meth:`reset` with the
    actuator-space target held at reset, :meth:`step` once per control period instead of ``mj_step``,
    :meth:`sense` to read joint positions/velocities as the servos report them.
    """

    def __init__(self, model: mujoco.MjModel, params: SimParams | None, names: Sequence[str], seed: int = 0) -> None:
        self.n = n = len(names)
        self.params = params
        dt = float(model.opt.timestep)
        self.delay_steps = 0 if params is None else round(params.action_delay_s / dt)
        get = (lambda f: np.array([getattr(params.joints[j], f) or 0.0 for j in names])) if params else None
        self.half_play = np.zeros(n) if params is None else 0.5 * get("backlash")
        self.force_limit = None if params is None else get("force_limit")
        self.overload_limit = None if params is None else get("overload_force_limit")
        self.overload_after_s = None if params is None else get("overload_after_s")
        self.has_overload = params is not None and bool(np.any(self.overload_after_s > 0))
        self.sensing = None if params is None else params.sensing
        self._rng = np.random.default_rng(seed)
        self._queue: deque[np.ndarray] = deque()
        self._centre = np.zeros(n)
        self._saturated_s = np.zeros(n)
        self._idle = True

    @property
    def rng(self) -> np.random.Generator:
        """The seeded generator of the sensing noise."""
        return self._rng

    def state(self) -> ServoState:
        """The carried state (arrays are copies)."""
        pending = tuple(q.copy() for q in self._queue)
        return ServoState(pending, self._centre.copy(), self._saturated_s.copy(), self._idle)

    def reset(self, model: mujoco.MjModel, target: np.ndarray) -> None:
        """Forget pending commands (every delayed target is ``target``, actuator space) and any overload."""
        t = np.asarray(target, dtype=np.float64).copy()
        if self.force_limit is not None:
            model.actuator_forcerange[: self.n] = np.stack([-self.force_limit, self.force_limit], axis=1)
        self._queue = deque([t], maxlen=None)
        self._centre = t.copy()
        self._saturated_s[:] = 0.0
        self._idle = True  # no servo saturating or cut back: the overload check has nothing to update

    def _play(self, target: np.ndarray) -> np.ndarray:
        """Backlash as a play operator: the effective target moves only once the command has crossed the play."""
        self._centre = np.clip(self._centre, target - self.half_play, target + self.half_play)
        return self._centre

    def step(self, model: mujoco.MjModel, data: mujoco.MjData, target: np.ndarray, nstep: int) -> None:
        """Advance ``nstep`` physics steps with ``target`` (actuator space) commanded now; the servos see it
        ``delay_steps`` physics steps later (in between, the previous command)."""
        k, r = divmod(self.delay_steps, nstep)
        self._queue.append(np.asarray(target, dtype=np.float64).copy())
        while len(self._queue) > k + 2:
            self._queue.popleft()
        q = self._queue
        older = q[max(0, len(q) - 2 - k)]
        newer = q[max(0, len(q) - 1 - k)]
        if r:
            data.ctrl[: self.n] = self._play(older)
            mujoco.mj_step(model, data, nstep=r)
        data.ctrl[: self.n] = self._play(newer)
        mujoco.mj_step(model, data, nstep=nstep - r)
        if self.has_overload:
            self.overload(model, data, nstep * float(model.opt.timestep))

    def overload(
        self, model: mujoco.MjModel, data: mujoco.MjData, dt_s: float, carried: ServoState | None = None
    ) -> ServoState:
        """After ``dt_s`` [s] of physics: a servo saturated for ``overload_after_s`` drops to its overload limit
        (``model``'s force range, in place) until the demand falls below it. ``carried``: start from this state's
        overload timers instead of this object's own. Returns the state after."""
        if carried is not None:
            self._saturated_s, self._idle = carried.saturated_s.copy(), carried.idle
        self._overload(model, data, dt_s)
        return ServoState((), self._centre, self._saturated_s, self._idle)

    def _overload(self, model: mujoco.MjModel, data: mujoco.MjData, dt_s: float) -> None:
        force = np.abs(data.actuator_force[: self.n])
        limit = np.abs(model.actuator_forcerange[: self.n, 1])
        saturated = force >= 0.99 * limit
        if self._idle and not saturated.any():
            return  # the common case, checked first: nothing below changes (about 20 us saved per step)
        self._saturated_s = np.where(saturated, self._saturated_s + dt_s, 0.0)
        has = self.overload_after_s > 0
        tripped = has & (self._saturated_s >= self.overload_after_s)
        kp = model.actuator_gainprm[: self.n, 0]
        demand = np.abs(kp * (data.ctrl[: self.n] - data.actuator_length[: self.n]))
        recovered = has & (limit < self.force_limit) & (demand < self.overload_limit)
        new = np.where(tripped, self.overload_limit, np.where(recovered, self.force_limit, limit))
        model.actuator_forcerange[: self.n] = np.stack([-new, new], axis=1)
        self._idle = not saturated.any() and not (new < self.force_limit).any()

    def sense(self, pos: np.ndarray, vel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joint positions [rad] and velocities [rad/s] as the servos report them (quantized, noisy)."""
        s = self.sensing
        if s is None:
            return pos, vel
        if s.position_noise_rad:
            pos = pos + self._rng.normal(0.0, s.position_noise_rad, pos.shape)
        if s.velocity_noise_rad_s:
            vel = vel + self._rng.normal(0.0, s.velocity_noise_rad_s, vel.shape)
        if s.position_resolution_rad:
            pos = np.round(pos / s.position_resolution_rad) * s.position_resolution_rad
        if s.velocity_resolution_rad_s:
            vel = np.round(vel / s.velocity_resolution_rad_s) * s.velocity_resolution_rad_s
        return pos, vel
