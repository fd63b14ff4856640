"""Fit sim parameters to a :class:`~twinarm.sim.sysid.SysidLog` with ``mujoco.rollout`` and
``mujoco.minimize.least_squares`` (see :mod:`twinarm.sim.sysid` for the method)."""

from __future__ import annotations

import copy
import math
import time
from typing import NamedTuple

import mujoco
import mujoco.minimize
import mujoco.rollout
import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.sim.actuation import apply_params
from twinarm.sim.sim_params import SimParams
from twinarm.sim.sim_robot import SimModel
from twinarm.sim.sysid import BOUND, JOINT_FIT_FIELDS, MAX_DELAY_S, VEL_WEIGHT, SysidLog

_CHUNK = 8  # candidates per rollout call (bounds the state buffer: chunk x steps x nstate doubles)


class FitReport(NamedTuple):
    """The fitted parameters, held-out RMS position error per joint [deg] of the fitted and the nominal model,
    the training RMS before/after [deg], the delay [s], the fit time [s], and the replayed positions (T, n)
    [rad] of the fitted and the nominal model (for plots)."""

    params: SimParams
    heldout_rms_deg: dict[str, float]
    nominal_heldout_rms_deg: dict[str, float]
    train_rms_deg: tuple[float, float]
    delay_s: float
    fit_time_s: float
    iterations: int
    pos_fitted: np.ndarray
    pos_nominal: np.ndarray


class Replay:
    """The log's commands replayed open loop on the sim model, many parameter sets per batched rollout."""

    def __init__(self, sim_model: SimModel, nominal: SimParams, log: SysidLog, nthread: int = 2) -> None:
        if sim_model.transmission is not None:
            raise ConfigError(f"sysid fits one servo per joint; {sim_model.spec.name} has a transmission")
        self.names = sim_model.spec.joint_names
        m = sim_model.load()
        period = 1.0 / log.control_hz
        self.n_sub = max(1, math.ceil(period / sim_model.max_timestep_s - 1e-9))  # as SimRobot chooses it
        m.opt.timestep = period / self.n_sub
        apply_params(m, nominal, self.names)
        self.base, self.nominal, self.log = m, nominal, log
        d = mujoco.MjData(m)
        jids = [m.joint(j).id for j in self.names]
        self.qadr, self.vadr = 1 + m.jnt_qposadr[jids], 1 + m.nq + m.jnt_dofadr[jids]  # in the full state
        d.qpos[m.jnt_qposadr[jids]] = log.q0
        d.ctrl[: len(self.names)] = log.q0
        mujoco.mj_forward(m, d)
        self.state0 = np.empty(mujoco.mj_stateSize(m, mujoco.mjtState.mjSTATE_FULLPHYSICS))
        mujoco.mj_getState(m, d, self.state0, mujoco.mjtState.mjSTATE_FULLPHYSICS)
        self.nthread = nthread
        self.datas = [mujoco.MjData(m) for _ in range(nthread)]

    def controls(self, delay_steps: int, steps: int, backlash: np.ndarray | None = None) -> np.ndarray:
        """(steps * n_sub, nu) actuator targets: the commands shifted by the delay, through the backlash play
        (``backlash`` (n,) [rad]; default the nominal parameters')."""
        log, nu = self.log, self.base.nu
        if backlash is None:
            backlash = np.array([self.nominal.joints[j].backlash for j in self.names])
        half = 0.5 * np.asarray(backlash, dtype=np.float64)
        cmds = log.sent[:steps]
        if half.any():
            centre, out = log.q0.copy(), np.empty_like(cmds)
            for k, c in enumerate(cmds):
                centre = np.clip(centre, c - half, c + half)
                out[k] = centre
            cmds = out
        sub = np.repeat(cmds, self.n_sub, axis=0)
        sub = np.concatenate([np.tile(log.q0, (delay_steps, 1)), sub])[: steps * self.n_sub]
        ctrl = np.zeros((len(sub), nu))
        ctrl[:, : len(self.names)] = sub
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
        m = copy.copy(self.base)
        apply_params(m, params, self.names)
        return m


def _with_factors(nominal: SimParams, x: np.ndarray, names: tuple[str, ...]) -> SimParams:
    """``nominal`` with every fitted field multiplied by exp(x) (x: joints x JOINT_FIT_FIELDS, flattened)."""
    f = np.exp(x.reshape(len(names), len(JOINT_FIT_FIELDS)))
    joints = dict(nominal.joints)
    for i, j in enumerate(names):
        joints[j] = joints[j].scaled(**dict(zip(JOINT_FIT_FIELDS, f[i].tolist())))
    return nominal.replace(joints=joints)


def _rms_deg(err: np.ndarray) -> np.ndarray:
    return np.degrees(np.sqrt(np.mean(err**2, axis=0)))


_GLOBAL = ("kp", "damping", "armature", "frictionloss")


def _scaled_globally(nominal: SimParams, x: np.ndarray) -> SimParams:
    """``nominal`` with kp, damping, armature and frictionloss of every joint scaled by exp(x) (4,)."""
    f = dict(zip(_GLOBAL, np.exp(x).tolist()))
    return nominal.replace(joints={j: jp.scaled(**f) for j, jp in nominal.joints.items()})


def _delay_cost(replay: Replay, nominal: SimParams, delay: int, steps: int) -> tuple[float, SimParams]:
    """The best training cost at ``delay`` [physics steps] after a quick fit of global kp/damping/armature/friction
    scales (so a wrong nominal servo class cannot pass for a delay), and those parameters."""
    target = replay.log.pos[:steps].ravel()

    def residual(x: np.ndarray) -> np.ndarray:
        models = [replay.model_with(_scaled_globally(nominal, c)) for c in x.T]
        pos, _ = replay.run(models, [replay.controls(delay, steps)] * len(models))
        return (pos.reshape(len(models), -1) - target[None]).T

    k = len(_GLOBAL)
    bounds = [np.full(k, -BOUND), np.full(k, BOUND)]
    x, _ = mujoco.minimize.least_squares(np.zeros(k), residual, bounds=bounds, max_iter=3, verbose=0, eps=1e-3)
    r = residual(x[:, None])
    return float((r**2).sum()), _scaled_globally(nominal, x)


def _best_delay(replay: Replay, params: SimParams, steps: int, grid: list[int]) -> tuple[int, SimParams]:
    """The delay [physics steps] of ``grid`` whose replay (with globally rescaled servos) fits best."""
    results = [_delay_cost(replay, params, d, steps) for d in grid]
    best = int(np.argmin([c for c, _ in results]))
    return grid[best], results[best][1]


BACKLASH_GRID_RAD = np.radians([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])  # the hidden-reality range, 0-0.5 deg
SEARCH_RADIUS_S = 0.01  # the joint delay/backlash search spans +-10 ms around the current delay [s]


def fit_delay_backlash(replay: Replay, params: SimParams, delay: int, steps: int) -> tuple[int, np.ndarray]:
    """The delay [physics steps] within :data:`SEARCH_RADIUS_S` of ``delay`` and the backlash per joint (n,) [rad]
    that fit the first ``steps`` of the log best with ``params``' servos, searched jointly: the play lags every
    reversal like a delay (0.3 deg on the 3 deg multisine reads as ~8 ms), so neither can be fitted alone. One
    batched rollout of every (delay, backlash) pair, the same play on every joint and each joint judged on its
    own positions and velocities (the gain fit's residual: the velocities time the saturated moves, which the play
    barely shifts); then each joint's play refined by half a grid step."""
    h = float(replay.base.opt.timestep)
    radius = max(1, round(SEARCH_RADIUS_S / h))
    near = [d for d in range(delay - radius, delay + radius + 1) if d >= 0]
    n, grid, log = len(replay.names), BACKLASH_GRID_RAD, replay.log

    def sq_err(pos: np.ndarray, vel: np.ndarray) -> np.ndarray:  # (batch, n)
        return ((pos - log.pos[None, :steps]) ** 2 + (VEL_WEIGHT * (vel - log.vel[None, :steps])) ** 2).sum(axis=1)

    model = replay.model_with(params)
    cands = [(d, b) for d in near for b in grid]
    err = sq_err(*replay.run([model] * len(cands), [replay.controls(d, steps, np.full(n, b)) for d, b in cands]))
    err = err.reshape(len(near), len(grid), n)
    best = int(np.argmin(err.min(axis=1).sum(axis=1)))
    delay, backlash = near[best], grid[err[best].argmin(axis=0)]
    half = 0.5 * float(grid[1] - grid[0])
    trials = [np.maximum(backlash + s, 0.0) for s in (-half, half)]
    refined = sq_err(*replay.run([model] * len(trials), [replay.controls(delay, steps, t) for t in trials]))
    errs = np.vstack([err[best].min(axis=0), refined])  # (3, n)
    pick = errs.argmin(axis=0)
    return delay, np.stack([backlash, *trials])[pick, np.arange(n)]


def fit_delay(replay: Replay, nominal: SimParams) -> tuple[int, SimParams]:
    """Delay first [physics steps]: a coarse grid (10 ms), then every physics step around the best, each with
    globally rescaled servos, on the multisine quarter of the training block; and those rescaled servos."""
    h = float(replay.base.opt.timestep)
    step = max(1, round(0.01 / h))
    coarse = list(range(0, int(MAX_DELAY_S / h) + 1, step))
    quarter = max(8, replay.log.n_train // 4)
    delay, _ = _best_delay(replay, nominal, quarter, coarse)
    fine = [d for d in range(delay - step + 1, delay + step) if d >= 0]
    return _best_delay(replay, nominal, quarter, fine)


def _with_backlash(params: SimParams, backlash: np.ndarray, names: tuple[str, ...]) -> SimParams:
    return params.replace(joints={j: params.joints[j]._replace(backlash=float(b)) for j, b in zip(names, backlash)})


def fit(
    sim_model: SimModel, nominal: SimParams, log: SysidLog, max_iter: int = 12, nthread: int = 2, refine_iter: int = 3
) -> FitReport:
    """Fit the delay (with globally rescaled servos), then kp/damping/frictionloss/force limit per joint (the
    nominal play), then the delay and backlash jointly with the fitted servos and, if they moved, ``refine_iter``
    more gain iterations; all on the log's training block. Report the held-out block's RMS error of the fitted and
    nominal models. (Measured worse on realities 0-2: backlash alone before the gains with the delay after it
    (delay errors 5-7 ms), and the joint delay/backlash search before the gains too (-7.2/-4.4/+5.5 ms): the gains
    then settle around a wrong delay that the later +-10 ms search cannot leave.)"""
    t0 = time.monotonic()
    replay = Replay(sim_model, nominal, log, nthread)
    names, T, n_train = replay.names, len(log.sent), log.n_train
    h = float(replay.base.opt.timestep)
    delay, start = fit_delay(replay, nominal)
    search = 3 * n_train // 4  # multisine, steps and ramps: the holds carry no delay or play
    backlash = np.array([nominal.joints[j].backlash for j in names])  # searched with the delay after the gains
    target = np.concatenate([log.pos[:n_train].ravel(), VEL_WEIGHT * log.vel[:n_train].ravel()])

    def residual(x: np.ndarray) -> np.ndarray:
        cols = x.T
        models = [replay.model_with(_with_factors(start, c, names)) for c in cols]
        pos, vel = replay.run(models, [replay.controls(delay, n_train, backlash)] * len(cols))
        sim = np.concatenate([pos.reshape(len(cols), -1), VEL_WEIGHT * vel.reshape(len(cols), -1)], axis=1)
        return (sim - target[None]).T

    n_par = len(names) * len(JOINT_FIT_FIELDS)
    bounds = [np.full(n_par, -BOUND), np.full(n_par, BOUND)]
    x0 = np.zeros(n_par)  # from the globally rescaled servos of the delay stage (armature stays there)
    x, trace = mujoco.minimize.least_squares(x0, residual, bounds=bounds, max_iter=max_iter, verbose=0, eps=1e-3)
    fitted = _with_factors(start, x, names)
    new_delay, new_backlash = fit_delay_backlash(replay, fitted, delay, search)
    if refine_iter > 0 and (new_delay != delay or not np.allclose(new_backlash, backlash)):
        delay, backlash = new_delay, new_backlash
        x, more = mujoco.minimize.least_squares(x, residual, bounds=bounds, max_iter=refine_iter, verbose=0, eps=1e-3)
        trace = [*trace, *more]
        fitted = _with_factors(start, x, names)
    delay, backlash = new_delay, new_backlash
    fitted = _with_backlash(fitted, backlash, names)
    fitted = fitted.replace(action_delay_s=delay * h, name=f"sysid_{nominal.name}")
    nom_delay = round(nominal.action_delay_s / h)
    pos, _ = replay.run(
        [replay.model_with(fitted), replay.model_with(nominal)],
        [replay.controls(delay, T, backlash), replay.controls(nom_delay, T)],
    )
    err_fit, err_nom = pos[0] - log.pos, pos[1] - log.pos
    held = slice(n_train, T)
    return FitReport(
        fitted,
        dict(zip(names, _rms_deg(err_fit[held]).round(4).tolist())),
        dict(zip(names, _rms_deg(err_nom[held]).round(4).tolist())),
        (float(_rms_deg(err_nom[:n_train]).mean()), float(_rms_deg(err_fit[:n_train]).mean())),
        delay * h,
        time.monotonic() - t0,
        len(trace),
        pos[0],
        pos[1],
    )
