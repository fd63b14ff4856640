"""MuJoCo physics behind the Feetech emulator: the simulated arm as the servos' shafts (hardware in the loop).

:class:`SimMotion` satisfies the emulator's ``MotionModel`` protocol structurally (``sim`` never imports
``hardware``): the emulator hands it goal positions in shaft ticks, it converts them to joint radians through a
:class:`ShaftScale` (nominal: tick 2048 = the model's zero, 4096 ticks per turn, sign +1, which is what an ideally
calibrated SO-101 reads), writes them to the position actuators, advances whole physics steps for the elapsed
time (the remainder is carried to the next call) and returns shaft positions [ticks], velocities [ticks/s] and
loads [0.1 % of the actuator's force range, signed]. A servo with torque off has its actuator's stiffness zeroed
(its damping stays, like a back-driven gearbox): the joint sags under gravity, as on the real arm.

The robot's sim parameters (:attr:`SimRobot.sim_params`: identified servos, or a hidden reality) act here too:
goals reach the actuators ``action_delay_s`` late (physics-step resolution) through the backlash play, velocities
are rounded to the servo's resolution and get the configured noise (positions are rounded to ticks by the
emulated servo), and :meth:`SimMotion.set_gains` scales kp with the P_Coefficient and the force limit with the
Torque_Limit the driver writes (relative to the values the parameters were made for,
``sim.servo_models.SO101_P_COEFFICIENT`` and the driver's Torque_Limit per joint).

The emulator steps the model lazily, from its own thread, when packets arrive. Everything that touches the
MjData holds :attr:`SimMotion.lock`, so :class:`SimCamera` can render the same scene from the robot's thread and
a harness can reset the scene between episodes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

import mujoco
import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.robot.observation import fit_image
from twinarm.robot.spec import CameraSpec
from twinarm.sim.camera_alignment import render_size
from twinarm.sim.render import CameraRenderer
from twinarm.sim.servo_models import SO101_GRIPPER_TORQUE_LIMIT, SO101_P_COEFFICIENT
from twinarm.sim.sim_robot import SimRobot

NOMINAL_ZERO_TICK = 2048.0  # shaft tick at the joint's zero on an ideally calibrated STS3215 (half a turn)
NOMINAL_TICKS_PER_TURN = 4096.0


class ShaftScale(NamedTuple):
    """Linear shaft ticks <-> joint radians: ``rad = (ticks - zero_ticks) * rad_per_tick``, per joint (n,).

    ``rad_per_tick`` is signed (negative for a servo mounted the other way round)."""

    zero_ticks: np.ndarray  # (n,) [ticks]
    rad_per_tick: np.ndarray  # (n,) [rad/tick]

    @classmethod
    def nominal(cls, n: int, ticks_per_turn: float = NOMINAL_TICKS_PER_TURN) -> ShaftScale:
        """Tick ``ticks_per_turn / 2`` = joint zero, one joint turn per ``ticks_per_turn``, sign +1."""
        return cls(np.full(n, ticks_per_turn / 2), np.full(n, 2 * math.pi / ticks_per_turn))

    def to_rad(self, ticks: np.ndarray) -> np.ndarray:
        return (np.asarray(ticks, dtype=np.float64) - self.zero_ticks) * self.rad_per_tick

    def to_ticks(self, rad: np.ndarray) -> np.ndarray:
        return self.zero_ticks + np.asarray(rad, dtype=np.float64) / self.rad_per_tick


class SimMotion:
    """The joints of a connected :class:`SimRobot` driven as servo shafts; see the module docstring.

    The robot must have one position actuator per joint (in spec order) and is used as a physics container only:
    its ``send_action`` is never called. ``max_catchup_s`` [s] bounds the physics time simulated in one call, so
    a host that stalls pauses the simulated world instead of blocking a bus reply on a long catch-up.
    """

    def __init__(
        self, robot: SimRobot, scale: ShaftScale | None = None, max_catchup_s: float = 0.1, seed: int = 0
    ) -> None:
        if not robot.is_connected:
            raise ConfigError("SimMotion needs a connected SimRobot (call robot.connect() first)")
        if robot.sim_model.transmission is not None:
            raise ConfigError(f"SimMotion drives one actuator per joint; {robot.spec.name} has a transmission")
        m, n = robot.model, robot.spec.num_joints
        self.robot = robot
        self.model, self.data = m, robot.data
        self.scale = ShaftScale.nominal(n) if scale is None else scale
        if len(self.scale.zero_ticks) != n or len(self.scale.rad_per_tick) != n:
            raise ConfigError(f"shaft scale has {len(self.scale.zero_ticks)} entries; {robot.spec.name} has {n} joints")
        self.lock = threading.RLock()
        self.max_catchup_s = float(max_catchup_s)
        jids = [m.joint(name).id for name in robot.spec.joint_names]
        self._qpos = m.jnt_qposadr[jids]
        self._qvel = m.jnt_dofadr[jids]
        self._n = n
        self._kp0 = m.actuator_gainprm[:n, 0].copy()  # position actuator: force = kp * ctrl - kp * q - kv * qdot
        self._kp = self._kp0.copy()
        limit = np.abs(m.actuator_forcerange[:n]).max(axis=1)
        self._force0 = limit.copy()  # [N m] at the nominal registers
        self._force_max = np.where(limit > 0, limit, 1.0)  # [N m] 100 % load
        self._torque = np.ones(n, dtype=bool)
        # the registers the sim parameters were made for: the SO-101 driver's (hardware/motors.py)
        self._p0 = np.full(n, float(SO101_P_COEFFICIENT))
        self._tl0 = np.full(n, 1000.0)
        if "gripper" in robot.spec.joint_names:
            self._tl0[robot.spec.joint_index("gripper")] = SO101_GRIPPER_TORQUE_LIMIT
        self._registers = (self._p0.copy(), self._tl0.copy())
        params = robot.sim_params
        self._delay_s = 0.0 if params is None else params.action_delay_s
        play = [0.0] * n if params is None else [j.backlash for j in params.joints.values()]
        self._half_play = 0.5 * np.array(play)
        self._sensing = None if params is None else params.sensing
        self._rng = np.random.default_rng(seed)
        self._goals: deque[tuple[float, np.ndarray]] = deque([(0.0, self.data.ctrl[:n].copy())])
        self._centre = self.data.ctrl[:n].copy()
        self._carry_s = 0.0  # wall time not yet simulated (less than one physics step) [s]
        self.sim_time_s = 0.0  # physics time simulated through step() [s]

    @property
    def timestep_s(self) -> float:
        """One physics step [s] (the SimRobot's, chosen to divide its control period)."""
        return float(self.model.opt.timestep)

    # -- the MotionModel protocol ---------------------------------------------------------------------------
    def step(
        self, dt_s: float, goals: np.ndarray, torque_enabled: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Goals (n,) [shaft ticks], torque (n,) bool; advance by ``dt_s`` [s]; (positions, velocities, loads)."""
        with self.lock:
            self._set_torque(np.asarray(torque_enabled, dtype=bool))
            goal = self.scale.to_rad(goals)
            if not np.array_equal(goal, self._goals[-1][1]):
                self._goals.append((self.sim_time_s, goal))
            self._carry_s = min(self._carry_s + max(dt_s, 0.0), self.max_catchup_s)
            h = self.timestep_s
            steps = int(self._carry_s / h + 1e-9)
            for _ in range(steps):
                self._apply_delayed_goal(self.sim_time_s)
                mujoco.mj_step(self.model, self.data)
                self.sim_time_s += h
            if steps:
                self._carry_s = max(0.0, self._carry_s - steps * h)
            return self._state()

    def _apply_delayed_goal(self, now_s: float) -> None:
        """ctrl = the newest goal at least ``action_delay_s`` old, through the backlash play."""
        q = self._goals
        while len(q) > 1 and q[1][0] <= now_s - self._delay_s + 1e-12:
            q.popleft()
        self._centre = np.clip(self._centre, q[0][1] - self._half_play, q[0][1] + self._half_play)
        self.data.ctrl[: self._n] = self._centre

    def set_gains(self, p_coefficient: np.ndarray, torque_limit: np.ndarray) -> None:
        """The servos' P_Coefficient and Torque_Limit [0.1 %] registers (n,): kp scales with P, the force limit
        with the Torque_Limit (relative to the registers the sim parameters were made for)."""
        p, tl = np.asarray(p_coefficient, dtype=np.float64), np.asarray(torque_limit, dtype=np.float64)
        if np.array_equal(p, self._registers[0]) and np.array_equal(tl, self._registers[1]):
            return
        with self.lock:
            self._registers = (p.copy(), tl.copy())
            self._kp = self._kp0 * p / self._p0
            force = self._force0 * tl / self._tl0
            self.model.actuator_forcerange[: self._n] = np.stack([-force, force], axis=1)
            self._set_torque(self._torque, force=True)

    def _state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = self.data
        positions = self.scale.to_ticks(d.qpos[self._qpos])
        vel = d.qvel[self._qvel]
        s = self._sensing
        if s is not None:
            if s.velocity_noise_rad_s:
                vel = vel + self._rng.normal(0.0, s.velocity_noise_rad_s, vel.shape)
            if s.velocity_resolution_rad_s:
                vel = np.round(vel / s.velocity_resolution_rad_s) * s.velocity_resolution_rad_s
        velocities = vel / self.scale.rad_per_tick
        loads = d.actuator_force[: self._n] / self._force_max * 1000.0 * np.sign(self.scale.rad_per_tick)
        return positions, velocities, np.where(self._torque, loads, 0.0)

    def _set_torque(self, on: np.ndarray, force: bool = False) -> None:
        """Torque off zeroes a servo's stiffness; ``force``: rewrite the gains even if nothing switched."""
        if np.array_equal(on, self._torque) and not force:
            return
        m = self.model
        kp = np.where(on, self._kp, 0.0)
        m.actuator_gainprm[: self._n, 0] = kp
        m.actuator_biasprm[: self._n, 1] = -kp
        self._torque = on.copy()

    # -- for the harness ------------------------------------------------------------------------------------
    def positions(self) -> np.ndarray:
        """Current shaft positions (n,) [ticks] (e.g. the emulated servos' initial positions)."""
        with self.lock:
            return self.scale.to_ticks(self.data.qpos[self._qpos])

    def joint_pos(self) -> np.ndarray:
        """The simulated joint angles (n,) float64 [rad], as MuJoCo has them."""
        with self.lock:
            return self.data.qpos[self._qpos].copy()

    def reset(self, joint_pos: np.ndarray | None = None, prepare: Callable[[], None] | None = None) -> None:
        """Reset the scene with the arm at rest at ``joint_pos`` [rad] (default: the model's home); ``prepare``
        then places objects (a task reset), before derived quantities are recomputed. Physics time restarts.

        The servos' goals are not reset: command the same pose through the bus first, or the arm moves back.
        """
        with self.lock:
            self.robot.reset(joint_pos)
            if prepare is not None:
                prepare()
            mujoco.mj_forward(self.model, self.data)
            self._carry_s = 0.0
            held = self.data.ctrl[: self._n].copy()
            self._goals = deque([(self.sim_time_s, held)])
            self._centre = held


class Frame(NamedTuple):
    """An (height, width, 3) uint8 RGB image and its capture time [s, time.monotonic()] (as camera drivers give)."""

    image: np.ndarray
    timestamp: float


class SimCamera:
    """A camera of the scene that :class:`SimMotion` simulates, with a camera driver's interface
    (``connect``/``disconnect``/``read() -> Frame``), so a hardware robot can see the simulated world.

    The OpenGL context is made in ``connect``: call it from the thread that reads (EGL contexts are per thread).
    ``config`` tells the robot the image size. A calibrated camera (``SimParams.cameras`` of the robot) renders at
    its calibrated aspect and is centre-cropped to ``config``'s size by ``fit_image``, as a hardware camera is.
    """

    def __init__(self, motion: SimMotion, name: str, height: int = 96, width: int = 96) -> None:
        self.motion = motion
        self.config = CameraSpec(name, height, width)
        self._renderer: CameraRenderer | None = None
        params = motion.robot.sim_params
        cal = next((c for c in (params.cameras if params is not None else ()) if c.camera == name), None)
        self._render_hw = (height, width) if cal is None else render_size(cal, (height, width))

    def connect(self) -> None:
        if self._renderer is None:
            with self.motion.lock:
                self._renderer = CameraRenderer(self.motion.model, {self.config.name: self._render_hw})

    def disconnect(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def read(self) -> Frame:
        if self._renderer is None:
            raise ConfigError(f"sim camera {self.config.name!r} read while disconnected; call connect() first")
        with self.motion.lock:
            image = self._renderer.render(self.motion.data, self.config.name)
            image = fit_image(image, (self.config.height, self.config.width))  # unchanged at the configured size
            return Frame(image, time.monotonic())
