"""Fit sim parameters to a :class:`~twinarm.sim.sysid.SysidLog` with ``mujoco.rollout`` and
``mujoco.minimize.least_squares`` (see :mod:`twinarm.sim.sysid` for the method)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import mujoco
import mujoco.minimize
import numpy as np

from twinarm.sim.sim_params import SimParams
from twinarm.sim.sim_robot import SimModel
from twinarm.sim.sysid import BOUND, JOINT_FIT_FIELDS, MAX_BACKLASH_DEG, MAX_DELAY_S, VEL_WEIGHT, SysidLog
from twinarm.sim.sysid_replay import Replay

GLOBAL_FIELDS = ("kp", "damping", "armature", "frictionloss", "force_limit")  # scaled together in stage 1
START_DELAYS_S = np.arange(0.0, MAX_DELAY_S + 1e-9, 0.01)  # the start grid of stage 1 [s]
START_BACKLASH_DEG = 0.25  # the middle of the hidden-reality range (0-0.5 deg)
_EPS = 1e-3  # finite-difference step in the fit's units (log factor, deg, ms)
X_SCALE = "jac"  # least squares in units of each column's sensitivity (log factors, deg and ms differ by 100x)


class FitReport(NamedTuple):
    """The fitted parameters, held-out RMS position error per joint [deg] of the fitted and the nominal model,
    the training RMS before/after [deg], the delay [s], the fit time [s] (wall clock) and the CPU time it took
    [s] (every thread: on an otherwise idle machine the wall time is at most this), the start the fit began from,
    and the replayed positions (T, n) [rad] of the fitted and the nominal model (for plots)."""

    params: SimParams
    heldout_rms_deg: dict[str, float]
    nominal_heldout_rms_deg: dict[str, float]
    train_rms_deg: tuple[float, float]
    delay_s: float
    fit_time_s: float
    fit_cpu_s: float
    iterations: int
    start: str
    pos_fitted: np.ndarray
    pos_nominal: np.ndarray


class Stage(NamedTuple):
    """Where a stage ended: the servo parameters (with backlash), the delay [s] and the training cost."""

    params: SimParams
    delay_s: float
    cost: float
    iterations: int


def _rms_deg(err: np.ndarray) -> np.ndarray:
    return np.degrees(np.sqrt(np.mean(err**2, axis=0)))


def _target(log: SysidLog, steps: int) -> np.ndarray:
    return np.concatenate([log.pos[:steps].ravel(), VEL_WEIGHT * log.vel[:steps].ravel()])


def _simulate(replay: Replay, cands: list[tuple[SimParams, np.ndarray, float]], steps: int) -> np.ndarray:
    """(batch, 2 * steps * n) replayed positions and weighted velocities of (params, backlash [rad], delay [s])."""
    models = [replay.model_with(p) for p, _, _ in cands]
    pos, vel = replay.run(models, [replay.controls(d, steps, b) for _, b, d in cands])
    return np.concatenate([pos.reshape(len(cands), -1), VEL_WEIGHT * vel.reshape(len(cands), -1)], axis=1)


def best_start(replay: Replay, candidates: Sequence[SimParams], steps: int) -> tuple[SimParams, float]:
    """The candidate servo set and delay of :data:`START_DELAYS_S` whose replay of the first ``steps`` fits best
    (one batched rollout): a start near the right servo class, so the delay stage cannot trade a wrong class for
    a wrong delay (measured on reality 0, a 12 V servo fitted from the 5 V preset: 18 ms instead of 35)."""
    n = len(replay.names)
    play = np.full(n, np.radians(START_BACKLASH_DEG))
    cands = [(c, play, float(d)) for c in candidates for d in START_DELAYS_S]
    cost = ((_simulate(replay, cands, steps) - _target(replay.log, steps)[None]) ** 2).sum(axis=1)
    best = cands[int(np.argmin(cost))]
    return best[0], best[2]


def _scaled(params: SimParams, factors: np.ndarray, fields: Sequence[str], names: Sequence[str]) -> SimParams:
    """``params`` with ``fields`` of joint ``names[i]`` multiplied by ``factors[i]`` (rows) or by ``factors`` (1-D).
    An overload cut-back is a fraction of the stall torque: it scales with the force limit."""
    f = np.broadcast_to(factors, (len(names), len(fields)))
    joints = dict(params.joints)
    for i, j in enumerate(names):
        by = dict(zip(fields, f[i].tolist()))
        if "force_limit" in by and joints[j].overload_force_limit is not None:
            by["overload_force_limit"] = by["force_limit"]
        joints[j] = joints[j].scaled(**by)
    return params.replace(joints=joints)


def _with_backlash(params: SimParams, backlash: np.ndarray, names: Sequence[str]) -> SimParams:
    return params.replace(joints={j: params.joints[j]._replace(backlash=float(b)) for j, b in zip(names, backlash)})


def fit_global(replay: Replay, start: SimParams, delay_s: float, steps: int, max_iter: int = 8) -> Stage:
    """Stage 1: one scale per field of :data:`GLOBAL_FIELDS` for every joint, one backlash [deg] for every joint
    and the delay [ms], jointly, on the first ``steps`` of the log: few parameters, so the delay and the play (which
    lags every reversal like a delay) are separated before the per-joint parameters can absorb either."""
    names, k = replay.names, len(GLOBAL_FIELDS)
    target = _target(replay.log, steps)

    def unpack(c: np.ndarray) -> tuple[SimParams, np.ndarray, float]:
        play = np.full(len(names), np.radians(c[k]))
        return _scaled(start, np.exp(c[:k]), GLOBAL_FIELDS, names), play, c[k + 1] / 1e3

    def residual(x: np.ndarray) -> np.ndarray:
        return (_simulate(replay, [unpack(c) for c in x.T], steps) - target[None]).T

    x0 = np.array([*np.zeros(k), START_BACKLASH_DEG, 1e3 * delay_s])
    lo = np.array([*np.full(k, -BOUND), 0.0, 0.0])
    hi = np.array([*np.full(k, BOUND), MAX_BACKLASH_DEG, 1e3 * MAX_DELAY_S])
    x, trace = mujoco.minimize.least_squares(
        x0, residual, bounds=[lo, hi], max_iter=max_iter, verbose=0, eps=_EPS, x_scale=X_SCALE
    )
    params, backlash, delay = unpack(x)
    return Stage(_with_backlash(params, backlash, names), delay, float(trace[-1].objective), len(trace))


def fit_joints(replay: Replay, stage: Stage, steps: int, max_iter: int = 10) -> Stage:
    """Stage 2: per joint the factors of :data:`JOINT_FIT_FIELDS` and the backlash [deg], and the delay [ms],
    jointly by box-constrained least squares (finite differences as batched rollouts) on the first ``steps``."""
    names, n, k = replay.names, len(replay.names), len(JOINT_FIT_FIELDS)
    target = _target(replay.log, steps)
    nf = n * k

    arm = np.flatnonzero(replay.inertia_dominated)  # joints whose armature the motion pins (see Replay)
    na = len(arm)

    def unpack(c: np.ndarray) -> tuple[SimParams, np.ndarray, float]:
        factors = np.ones((n, k + 1))
        factors[:, :k] = np.exp(c[:nf].reshape(n, k))
        factors[arm, k] = np.exp(c[nf + n + 1 :])
        params = _scaled(stage.params, factors, (*JOINT_FIT_FIELDS, "armature"), names)
        return params, np.radians(c[nf : nf + n]), c[nf + n] / 1e3

    def residual(x: np.ndarray) -> np.ndarray:
        return (_simulate(replay, [unpack(c) for c in x.T], steps) - target[None]).T

    play0 = np.degrees([stage.params.joints[j].backlash for j in names])
    x0 = np.array([*np.zeros(nf), *play0, 1e3 * stage.delay_s, *np.zeros(na)])
    lo = np.array([*np.full(nf, -BOUND), *np.zeros(n), 0.0, *np.full(na, -BOUND)])
    hi = np.array([*np.full(nf, BOUND), *np.full(n, MAX_BACKLASH_DEG), 1e3 * MAX_DELAY_S, *np.full(na, BOUND)])
    x, trace = mujoco.minimize.least_squares(
        x0, residual, bounds=[lo, hi], max_iter=max_iter, verbose=0, eps=_EPS, x_scale=X_SCALE
    )
    params, backlash, delay = unpack(x)
    return Stage(_with_backlash(params, backlash, names), delay, float(trace[-1].objective), len(trace))


def fit(
    sim_model: SimModel,
    nominal: SimParams,
    log: SysidLog,
    max_iter: int = 10,
    nthread: int = 2,
    candidates: Sequence[SimParams] = (),
    global_iter: int = 8,
) -> FitReport:
    """Pick the start (``nominal`` or one of ``candidates``, e.g. the model's other presets, at the best delay of a
    coarse grid), then stage 1 (:func:`fit_global`) on the first half of the training block (multisine and steps),
    then stage 2 (:func:`fit_joints`) on the whole training block. Report the held-out block's RMS error of the
    fitted and nominal models. Sensing is kept from the nominal parameters."""
    t0, cpu0 = time.monotonic(), time.process_time()
    replay = Replay(sim_model, nominal, log, nthread)
    names, T, n_train = replay.joints, len(log.sent), log.n_train
    half = max(8, n_train // 2)
    start, delay = best_start(replay, [nominal, *candidates], half)
    stage1 = fit_global(replay, start, delay, half, global_iter)
    stage2 = fit_joints(replay, stage1, n_train, max_iter)
    fitted = stage2.params.replace(action_delay_s=stage2.delay_s, sensing=nominal.sensing, name=f"sysid_{nominal.name}")
    pos_fit, pos_nom = replay.positions(fitted), replay.positions(nominal)
    err_fit, err_nom = pos_fit - log.pos, pos_nom - log.pos
    held = slice(n_train, T)
    return FitReport(
        fitted,
        dict(zip(names, _rms_deg(err_fit[held]).round(4).tolist())),
        dict(zip(names, _rms_deg(err_nom[held]).round(4).tolist())),
        (float(_rms_deg(err_nom[:n_train]).mean()), float(_rms_deg(err_fit[:n_train]).mean())),
        stage2.delay_s,
        time.monotonic() - t0,
        time.process_time() - cpu0,
        stage1.iterations + stage2.iterations,
        start.name,
        pos_fit,
        pos_nom,
    )
