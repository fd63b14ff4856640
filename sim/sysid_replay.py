"""A :class:`~twinarm.sim.sysid.SysidLog` replayed open loop on the sim model, many parameter sets per batched
``mujoco.rollout`` call.

The servo effects that act on the commands (the delay and the backlash play) are applied to the control stream, so
every candidate parameter set is one rollout. The delay is continuous: a delay between two physics steps blends the
two neighbouring shifts of the stream (the jump of each command lands part-way through a physics step), which makes
the replayed positions a continuous function of the delay; on whole physics steps it is exactly what
:class:`~twinarm.sim.actuation.ServoEffects` does.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import mujoco
import mujoco.rollout
import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.sim.actuation import apply_params
from twinarm.sim.sim_params import SimParams
from twinarm.sim.sim_robot import SimModel
from twinarm.sim.sysid import SysidLog

INERTIA_SHARE = 0.1  # see Replay.inertia_dominated
CLEARANCE_RANGE_M = 0.2  # scene_clearance looks this far [m]
_CHUNK = 8  # candidates per rollout call (bounds the state buffer: chunk x steps x nstate doubles)


def play(cmds: np.ndarray, start: np.ndarray, backlash: np.ndarray) -> np.ndarray:
    """The commands (T, n) [rad] through a play operator of total width ``backlash`` (n,) [rad] starting centred
    on ``start``: the effective target moves only once the command has crossed the play."""
    half = 0.5 * np.asarray(backlash, dtype=np.float64)
    if not half.any():
        return cmds
    centre, out = np.asarray(start, dtype=np.float64).copy(), np.empty_like(cmds)
    for k, c in enumerate(cmds):
        centre = np.clip(centre, c - half, c + half)
        out[k] = centre
    return out


def scene_clearance(sim_model: SimModel) -> Callable[[np.ndarray], float]:
    """A function of the joint positions (n,) [rad] giving the least distance [m] (negative: penetration; at most
    :data:`CLEARANCE_RANGE_M`) between the colliding geoms of the links the robot's joints move and those of the
    rest of the scene (the world's: the table; free objects: the cube), in the scene's initial state."""
    m = sim_model.load()
    d = mujoco.MjData(m)
    jids = [m.joint(j).id for j in sim_model.spec.joint_names]
    qadr = m.jnt_qposadr[jids]
    driven = {int(m.jnt_bodyid[j]) for j in jids}
    moving = {b for b in range(1, m.nbody) if any(a in driven for a in _ancestors(m, b))}
    robot_root = {int(m.body_rootid[b]) for b in moving}  # the robot's tree, fixed base included
    collides = [g for g in range(m.ngeom) if m.geom_contype[g] or m.geom_conaffinity[g]]
    mine = [g for g in collides if m.geom_bodyid[g] in moving]
    others = [g for g in collides if m.body_rootid[m.geom_bodyid[g]] not in robot_root]
    pairs = [
        (a, b)
        for a in mine
        for b in others
        if (m.geom_contype[a] & m.geom_conaffinity[b]) or (m.geom_contype[b] & m.geom_conaffinity[a])
    ]
    q_init = d.qpos.copy()

    def clearance(q: np.ndarray) -> float:
        d.qpos[:] = q_init
        d.qpos[qadr] = q
        mujoco.mj_kinematics(m, d)
        return min((mujoco.mj_geomDistance(m, d, a, b, CLEARANCE_RANGE_M, None) for a, b in pairs), default=np.inf)

    return clearance


def _ancestors(m: mujoco.MjModel, body: int) -> list[int]:
    """``body`` and its ancestors up to (not including) the world."""
    out = []
    while body > 0:
        out.append(body)
        body = int(m.body_parentid[body])
    return out


class Replay:
    """The log's commands replayed open loop on the sim model of ``sim_model`` with ``nominal``'s parameters
    applied (the copies :meth:`model_with` makes change only the servo parameters). ``names`` are the actuators
    (servos; the sim parameters' keys), ``joints`` the measured joints; a transmission maps commanded joint
    targets to servo targets as the SimRobot does."""

    def __init__(self, sim_model: SimModel, nominal: SimParams, log: SysidLog, nthread: int = 2) -> None:
        self.joints = sim_model.spec.joint_names
        self.transmission = sim_model.transmission
        m = sim_model.load()
        n = len(self.joints)
        if m.nu < n:
            raise ConfigError(f"{sim_model.xml.name}: {m.nu} actuators, {sim_model.spec.name} needs {n}")
        self.names = tuple(m.actuator(i).name for i in range(n))
        period = 1.0 / log.control_hz
        self.n_sub = max(1, math.ceil(period / sim_model.max_timestep_s - 1e-9))  # as SimRobot chooses it
        m.opt.timestep = period / self.n_sub
        self.timestep_s = float(m.opt.timestep)
        apply_params(m, nominal, self.names)
        self.base, self.nominal, self.log = m, nominal, log
        d = mujoco.MjData(m)
        jids = [m.joint(j).id for j in self.joints]
        self.qadr, self.vadr = 1 + m.jnt_qposadr[jids], 1 + m.nq + m.jnt_dofadr[jids]  # in the full state
        self.q0_servo = self._to_servo(log.q0[None])[0]
        d.qpos[m.jnt_qposadr[jids]] = log.q0
        d.ctrl[:n] = self.q0_servo
        mujoco.mj_forward(m, d)
        #: Per servo: does it drive a joint whose link inertia at the start pose is >= INERTIA_SHARE of the rotor's?
        #: Only there do the positions pin the armature apart from a common scale of all the servo's parameters
        #: (servos driving tendons: never).
        self.inertia_dominated = np.zeros(n, dtype=bool)
        if self.transmission is None:
            dofs = m.jnt_dofadr[jids]
            inertia = np.zeros((m.nv, m.nv))
            mujoco.mj_fullM(m, d, inertia)
            link = np.diag(inertia)[dofs] - m.dof_armature[dofs]
            self.inertia_dominated = link >= INERTIA_SHARE * m.dof_armature[dofs]
        self.state0 = np.empty(mujoco.mj_stateSize(m, mujoco.mjtState.mjSTATE_FULLPHYSICS))
        mujoco.mj_getState(m, d, self.state0, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        self.nthread = nthread
        self.datas = [mujoco.MjData(m) for _ in range(nthread)]

    def _to_servo(self, joint_targets: np.ndarray) -> np.ndarray:
        """Joint targets (T, n) [rad] -> servo targets (as SimRobot computes them, float32 included)."""
        if self.transmission is None:
            return np.asarray(joint_targets, dtype=np.float64)
        return self.transmission.to_motor(joint_targets).astype(np.float64)

    def controls(self, delay_s: float, steps: int, backlash: np.ndarray | None = None) -> np.ndarray:
        """(steps * n_sub, nu) actuator targets for the first ``steps`` commands: through the backlash play
        (``backlash`` (n,) [rad]; default the nominal parameters'), then delayed by ``delay_s`` [s] (continuous)."""
        n = len(self.names)
        if backlash is None:
            backlash = np.array([self.nominal.joints[j].backlash for j in self.names])
        sub = np.repeat(play(self._to_servo(self.log.sent[:steps]), self.q0_servo, backlash), self.n_sub, axis=0)
        shift = max(0.0, delay_s / self.timestep_s)
        whole = math.floor(shift + 1e-9)
        frac = max(0.0, shift - whole)
        padded = np.concatenate([np.tile(self.q0_servo, (whole + 1, 1)), sub])  # padded[i + whole + 1] = sub[i]
        length = steps * self.n_sub
        ctrl = np.zeros((length, self.base.nu))
        ctrl[:, :n] = (1.0 - frac) * padded[1 : length + 1] + frac * padded[:length]
        return ctrl

    def run(self, models: list[mujoco.MjModel], controls: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Positions and velocities (batch, steps, n) at the end of each control period."""
        pos, vel = [], []
        with mujoco.rollout.Rollout(nthread=self.nthread) as ro:
            for i in range(0, len(models), _CHUNK):
                ctrl = np.stack(controls[i : i + _CHUNK])
                state, _ = ro.rollout(models[i : i + _CHUNK], self.datas, self.state0[None], ctrl)
                sampled = state[:, self.n_sub - 1 :: self.n_sub]
                pos.append(sampled[..., self.qadr])
                vel.append(sampled[..., self.vadr])
        return np.concatenate(pos), np.concatenate(vel)

    def model_with(self, params: SimParams) -> mujoco.MjModel:
        """A copy of the model with ``params``' servo parameters."""
        m = copy.copy(self.base)
        apply_params(m, params, self.names)
        return m

    def positions(self, params: SimParams, steps: int | None = None) -> np.ndarray:
        """Replayed positions (steps, n) [rad] with ``params`` (their delay and backlash) over the whole log."""
        steps = len(self.log.sent) if steps is None else steps
        backlash = np.array([params.joints[j].backlash for j in self.names])
        pos, _ = self.run([self.model_with(params)], [self.controls(params.action_delay_s, steps, backlash)])
        return pos[0]
