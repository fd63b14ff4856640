"""System identification of the servo models from a log recorded through the Robot interface.

Excitation (:func:`excitation`): small multisines, large steps (clipped by the Robot safety layer into ramps at the
joints' velocity limit, which saturate the servos), slow reversing ramps (friction, backlash) and holds at several
poses (sag), around a start pose, inside the joint limits and clear of the scene (:func:`keep_clear`); a training
block, then a held-out block drawn with another seed. :func:`record` sends it at the control rate and logs the
targets actually sent and the reported positions/velocities.

Fit (:func:`twinarm.sim.sysid_fit.fit`), with MuJoCo's own machinery: the log is replayed open loop with
``mujoco.rollout`` (:mod:`twinarm.sim.sysid_replay`: the delay and the backlash play act on the commands only, so
every candidate is one batched rollout; the delay is continuous, blended between physics steps). Three stages, each
a box-constrained least squares (``mujoco.minimize.least_squares``, finite differences as batched rollouts) on
positions and velocities:

0. the start: the nominal servos or another of the model's presets (servo/supply classes), at the delay of a 10 ms
   grid, whichever replays the first half of the training block best;
1. global: one scale each of kp, damping, armature, frictionloss and force limit for all joints, one backlash for
   all joints and the delay, on that first half (multisine and saturating steps). Few parameters, so the delay and
   the play are separated before per-joint parameters can absorb them (a single-stage fit of delay and gains was
   seen to land in a wrong minimum: 43 ms instead of 29, kp +94 %; and a delay fitted without the play read the
   play as +9 ms of delay);
2. per joint: kp, damping, frictionloss, force limit and backlash, plus the armature where the link inertia pins it
   (see JOINT_FIT_FIELDS), and the delay, on the whole training block.

Sensing is kept from the nominal parameters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from twinarm.robot.robot import Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL

FIT_FIELDS = ("kp", "damping", "armature", "frictionloss", "force_limit")  # what sysid reports
# Fitted per joint in stage 2. Armature only on the joints whose link inertia is >= 10 % of the rotor's
# (Replay.inertia_dominated; on the SO-101: shoulder_pan, shoulder_lift, elbow_flex): where the link inertia is
# small against the reflected rotor inertia (wrist_roll, gripper: ~1e-5 vs 0.028 kg m^2) and there is no gravity
# load, scaling kp, damping, armature, friction and force limit together leaves the motion unchanged, so positions
# alone cannot fix it. There it keeps the global (all-joint) scale of stage 1, which the heavier joints pin.
JOINT_FIT_FIELDS = ("kp", "damping", "frictionloss", "force_limit")
MAX_DELAY_S = 0.08  # upper bound of the delay [s] (real adapters: 15-45 ms, reference/servos.md)
MAX_BACKLASH_DEG = 2.0  # upper bound of the backlash [deg] (the hidden realities draw 0-0.5 deg)
BOUND = np.log(5.0)  # each parameter within x5 of its nominal value (12 V friction is ~4x the 7.4 V figure)
VEL_WEIGHT = 0.05  # [s]: a velocity error of 1 rad/s weighs like 0.05 rad of position error
# Least distance [m] every excitation target keeps between the moving links and the rest of the scene (the table,
# objects). Measured on the SO-101 around home (2.4 cm above the table): unchecked, +-0.3 rad steps pushed the jaw
# 1.5 cm into the table and the cube, and the contacts made the gripper's held-out RMS 3x its noise floor.
CLEARANCE_M = 0.02
CLEAR_WINDOW_S = 0.5  # a pulled-in stretch is widened by this much each side (no sudden pulls)


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


def keep_clear(
    targets: np.ndarray, start: np.ndarray, clearance: Callable[[np.ndarray], float], hz: float
) -> np.ndarray:
    """``targets`` (T, n) [rad] pulled towards ``start`` wherever a pose's ``clearance`` [m] is below
    :data:`CLEARANCE_M`: each target's offset from ``start`` is scaled by the largest of 1, 0.9, ..., 0 that is
    clear, and the scale is the least over +-:data:`CLEAR_WINDOW_S` so the pull sets in gradually. Where ``start``
    itself is closer than that (the Amazing Hand's fingers rest 1.4 cm from its object), the margin is half its
    clearance."""
    c0 = clearance(start)
    margin = CLEARANCE_M if c0 >= CLEARANCE_M else 0.5 * c0

    def clear_scale(q: np.ndarray, top: float) -> float:
        """The largest scale <= ``top`` of the grid whose pose is clear (0: the start)."""
        grid = np.linspace(1.0, 0.0, 11)
        return next((f for f in grid[grid <= top + 1e-9] if clearance(start + f * (q - start)) >= margin), 0.0)

    scale = np.array([1.0 if clearance(q) >= margin else clear_scale(q, 0.9) for q in targets])
    w = int(CLEAR_WINDOW_S * hz)
    scale = np.lib.stride_tricks.sliding_window_view(np.pad(scale, w, mode="edge"), 2 * w + 1).min(axis=1)
    # a smaller scale is not always clearer (the pose moves on a line through the scene): check the filtered ones
    scale = np.array([f if f == 1.0 else clear_scale(q, f) for q, f in zip(targets, scale)])
    return start + scale[:, None] * (targets - start)


def excitation(
    start: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    duration_s: float,
    hz: float,
    seed: int = 0,
    clearance: Callable[[np.ndarray], float] | None = None,
) -> tuple[np.ndarray, int]:
    """Targets (T, n) [rad] around ``start`` within the limits (0.1 rad margin), and the training block length
    (70 %); the rest is the held-out block, drawn with another seed. With ``clearance`` (pose [rad] -> distance
    [m] from the scene, e.g. :func:`twinarm.sim.sysid_replay.scene_clearance`) the targets keep clear of the scene
    (:func:`keep_clear`): contacts are not part of the servo model, and a real arm must not hit its table."""
    steps = max(8, int(duration_s * hz))
    n_train = int(0.7 * steps)
    lo, hi = np.asarray(lower) + 0.1, np.asarray(upper) - 0.1
    start = np.clip(np.asarray(start, dtype=np.float64), lo, hi)
    train = _block(start, lo, hi, n_train, hz, np.random.default_rng([seed, 0]))
    held = _block(start, lo, hi, steps - n_train, hz, np.random.default_rng([seed, 1]))
    targets = np.concatenate([train, held])
    if clearance is not None:
        targets = keep_clear(targets, start, clearance, hz)
    return targets, n_train


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
