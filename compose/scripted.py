"""Scripted motion for dry runs and tests: a smooth joint-space wave source, an idle source and a synthetic robot.

:class:`WaveSource` works on any robot (sim, emulator, a real arm): every joint swings sinusoidally around the
pose it starts from, inside the joint limits. :class:`IdleSource` commands nothing, so the loop holds the robot
(a read-only leader arm is only watched). :class:`SyntheticRobot` is an in-memory robot that reaches each target in
one step and draws a block whose place follows its joints in every camera: recording without sim or hardware.
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, RobotSpec, image_key


class WaveSource:
    """Joint ``i`` follows ``start_i + a_i sin(2 pi f t + i)``: ``amplitude`` (fraction of each joint's half range)
    and ``frequency_hz`` [Hz], ``t`` counted in control periods of ``spec`` (so the motion is the same at any
    loop speed). The wave is centred on the first observed pose, pulled inside the limits to fit."""

    def __init__(self, spec: RobotSpec, amplitude: float = 0.3, frequency_hz: float = 0.5) -> None:
        self.spec, self.frequency_hz = spec, frequency_hz
        self.amp = amplitude * (spec.upper - spec.lower) / 2  # (n,) [rad]
        self.phase = np.arange(spec.num_joints, dtype=np.float64)
        self._centre: np.ndarray | None = None
        self._k = 0

    def reset(self) -> None:
        self._centre, self._k = None, 0

    def act(self, obs: Observation) -> np.ndarray:
        if self._centre is None:
            self._centre = np.clip(obs[JOINT_POS], self.spec.lower + self.amp, self.spec.upper - self.amp)
        t = self._k * self.spec.control_period_s
        self._k += 1
        ramp = min(1.0, t)  # ease in over the first second: no jump from the start pose
        wave = np.sin(2 * np.pi * self.frequency_hz * t + self.phase) - np.sin(self.phase) * (1 - ramp)
        return (self._centre + self.amp * ramp * wave).astype(np.float32)


class IdleSource:
    """Commands nothing: the loop holds the last target (use ``stall_timeout_s=inf`` so no watchdog trips)."""

    def reset(self) -> None:
        pass

    def act(self, obs: Observation) -> None:
        return None


class SyntheticRobot(Robot):
    """An ideal position-controlled robot in memory: observations are the last target; each camera shows a red
    block on a grey background, moved by the first two joints (so images and state agree)."""

    def __init__(self, spec: RobotSpec) -> None:
        super().__init__(spec)
        self._pos = np.clip(np.zeros(spec.num_joints, np.float32), spec.lower, spec.upper)
        self._vel = np.zeros(spec.num_joints, np.float32)

    def _connect(self) -> None:
        pass

    def _disconnect(self) -> None:
        pass

    def _get_observation(self) -> Observation:
        obs: Observation = {JOINT_POS: self._pos.copy(), JOINT_VEL: self._vel.copy()}
        span = self.spec.upper - self.spec.lower
        u = (self._pos - self.spec.lower) / span  # (n,) in [0, 1]
        for cam in self.spec.cameras:
            img = np.full((cam.height, cam.width, 3), 60, np.uint8)
            bh, bw = max(1, cam.height // 5), max(1, cam.width // 5)
            y = int(u[1 % len(u)] * (cam.height - bh))
            x = int(u[0] * (cam.width - bw))
            img[y : y + bh, x : x + bw] = (220, 60, 40)
            obs[image_key(cam.name)] = img
        return obs

    def _send_action(self, target: np.ndarray) -> None:
        self._vel = ((target - self._pos) * self.spec.control_hz).astype(np.float32)
        self._pos = target.copy()
