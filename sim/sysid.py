"""System identification of the servo models from a log recorded through the Robot interface.

Excitation (:func:`excitation`): small multisines, large steps (clipped by the Robot safety layer into ramps at the
joints' velocity limit, which saturate the servos), slow reversing ramps (friction, backlash) and holds at several
poses (sag), around a start pose and inside the joint limits; a training block, then a held-out block drawn with
another seed. :func:`record` sends it at the control rate and logs the targets actually sent and the reported
positions/velocities.

Fit (:func:`twinarm.sim.sysid_fit.fit`), with MuJoCo's own machinery: the log is replayed open loop with
``mujoco.rollout`` (the delay and the backlash play act on the commands only, so every candidate is one batched
rollout). The delay comes first, on a grid of physics steps, each candidate with globally rescaled servos (fitting
delay and gains together was seen to land in a wrong minimum, and a grid with the nominal servos alone picks 0 ms
when the servo class is wrong); then kp, damping, frictionloss and force limit per joint (armature: see
JOINT_FIT_FIELDS) by box-constrained least squares (``mujoco.minimize.least_squares``, finite differences as
batched rollouts) on the training block. After the gain fit, the delay (within 10 ms) and the backlash per joint
(0-0.5 deg) are searched jointly in one batched rollout, since the play lags every reversal like a delay; if they
moved, a few more gain iterations follow. Sensing is kept from the nominal parameters.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np

from twinarm.robot.robot import Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL

FIT_FIELDS = ("kp", "damping", "armature", "frictionloss", "force_limit")  # what sysid reports
# Fitted per joint by least squares. Armature is not: where the link inertia is small against the reflected rotor
# inertia (wrist_roll, gripper: ~1e-5 vs 0.028 kg m^2) and there is no gravity load, scaling kp, damping, armature,
# friction and force limit together leaves the motion unchanged, so positions alone cannot fix it. It comes from the
# global (all-joint) scale fit of the delay stage, where the gravity-loaded joints pin it.
# (Fitting it per joint was measured worse on reality 2: kp +45 %, friction +44 %, delay +7.5 ms.)
JOINT_FIT_FIELDS = ("kp", "damping", "frictionloss", "force_limit")
MAX_DELAY_S = 0.08  # upper end of the delay grid [s] (real adapters: 15-45 ms, reference/servos.md)
BOUND = np.log(5.0)  # each parameter within x5 of its nominal value (12 V friction is ~4x the 7.4 V figure)
VEL_WEIGHT = 0.05  # [s]: a velocity error of 1 rad/s weighs like 0.05 rad of position error


class SysidLog(NamedTuple):
    """``sent`` (T, n) targets actually sent [rad], ``pos``/``vel`` (T, n) reported after each step [rad, rad/s],
    ``q0`` (n,) reported position before the first step, ``control_hz``, ``n_train`` steps of the training block."""

    sent: np.ndarray
    pos: np.ndarray
    vel: np.ndarray
    q0: np.ndarray
    control_hz: float
    n_train: int


def _block(start: np.ndarray, lo: np.ndarray, hi: np.ndarray, steps: int, hz: float, rng: np.random.Generator):
    n, t = len(start), np.arange(steps) / hz
    q = np.tile(start, (steps, 1))
    quarter = steps // 4
    freqs = rng.uniform(0.3, 2.0, (n, 3))  # multisine: small, broadband
    phases = rng.uniform(0, 2 * np.pi, (n, 3))
    ms = 0.06 * np.sin(2 * np.pi * freqs[None] * t[:, None, None] + phases[None]).sum(axis=2) / np.sqrt(3)
    q[:quarter] += ms[:quarter]
    # large steps (the safety layer turns them into ramps at the velocity limit): saturating moves
    k = np.arange(quarter, 2 * quarter)
    levels = rng.choice([-0.3, 0.3], size=(8, n))
    q[k] += levels[((k - quarter) * 8) // quarter]
    # slow reversing triangle ramps (friction, backlash): 0.1 rad amplitude, about 0.15 rad/s
    k = np.arange(2 * quarter, 3 * quarter)
    period = max(1, int(hz * 2.6))
    phase = ((k - 2 * quarter) % period) / period
    q[k] += 0.1 * (1 - 4 * np.abs(phase - 0.5))[:, None] * np.sign(rng.uniform(-1, 1, n))
    # holds at several poses (sag)
    k = np.arange(3 * quarter, steps)
    poses = rng.uniform(-0.2, 0.2, (3, n))
    q[k] += poses[((k - 3 * quarter) * 3) // max(1, steps - 3 * quarter)]
    return np.clip(q, lo, hi)


def excitation(
    start: np.ndarray, lower: np.ndarray, upper: np.ndarray, duration_s: float, hz: float, seed: int = 0
) -> tuple[np.ndarray, int]:
    """Targets (T, n) [rad] around ``start`` within the limits (0.1 rad margin), and the training block length
    (70 %); the rest is the held-out block, drawn with another seed."""
    steps = max(8, int(duration_s * hz))
    n_train = int(0.7 * steps)
    lo, hi = np.asarray(lower) + 0.1, np.asarray(upper) - 0.1
    start = np.clip(np.asarray(start, dtype=np.float64), lo, hi)
    train = _block(start, lo, hi, n_train, hz, np.random.default_rng([seed, 0]))
    held = _block(start, lo, hi, steps - n_train, hz, np.random.default_rng([seed, 1]))
    return np.concatenate([train, held]), n_train


def record(robot: Robot, targets: np.ndarray, n_train: int, realtime: bool = False) -> SysidLog:
    """Send ``targets`` through the connected ``robot`` (safety on) once per control period (``realtime``: paced
    by the wall clock, as a real arm needs); log what was sent and what the servos reported."""
    period = robot.spec.control_period_s
    q0 = robot.get_observation()[JOINT_POS].astype(np.float64)
    sent, pos, vel = [], [], []
    t0 = time.monotonic()
    for k, target in enumerate(targets):
        sent.append(robot.send_action(target.astype(np.float32)))
        obs = robot.get_observation()
        pos.append(obs[JOINT_POS])
        vel.append(obs[JOINT_VEL])
        if realtime:
            time.sleep(max(0.0, t0 + (k + 1) * period - time.monotonic()))
    f = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    return SysidLog(f(sent), f(pos), f(vel), q0, robot.spec.control_hz, n_train)
