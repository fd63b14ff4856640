"""Motion models: how emulated servo shafts follow their goals.

The emulator depends only on the :class:`MotionModel` protocol (structural typing), so a MuJoCo-backed model
in ``sim/`` can drive it without ``hardware`` importing ``sim`` or the other way round.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class MotionModel(Protocol):
    """Advance the servos of one bus by ``dt_s`` [s].

    ``goals`` (n,) float64 target shaft positions [ticks] in the emulator's servo order (homing offset and
    position limits already applied); ``torque_enabled`` (n,) bool. Returns ``(positions, velocities, loads)``:
    (n,) shaft positions [ticks], velocities [ticks/s], loads [0.1 % of max torque, signed].
    """

    def step(
        self, dt_s: float, goals: np.ndarray, torque_enabled: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


@runtime_checkable
class Backdrivable(Protocol):
    """Optional: a model whose shafts can be moved by hand (a leader arm with torque off)."""

    def set_position(self, index: int, ticks: float) -> None: ...


@runtime_checkable
class GainAware(Protocol):
    """Optional: a model that honours the servos' P_Coefficient and Torque_Limit [0.1 %] registers, (n,) each,
    given before every step (e.g. the MuJoCo-backed motion of a simulated arm)."""

    def set_gains(self, p_coefficient: np.ndarray, torque_limit: np.ndarray) -> None: ...


class FirstOrderMotion:
    """Speed-limited first-order tracking: moves at ``max_speed_tps`` until within ``max_speed * tau`` of the
    goal, then converges exponentially with time constant ``tau``. Exact for any ``dt_s``. Torque off: the
    shaft stays where it is (or where :meth:`set_position` put it)."""

    def __init__(
        self,
        positions: np.ndarray,
        time_constant_s: float = 0.05,
        max_speed_tps: float = 3000.0,
        load_per_tick: float = 2.0,
    ) -> None:
        self.positions = np.asarray(positions, dtype=np.float64).copy()  # (n,) [ticks]
        self.velocities = np.zeros_like(self.positions)  # (n,) [ticks/s]
        self.tau = float(time_constant_s)
        self.vmax = float(max_speed_tps)
        self.load_per_tick = float(load_per_tick)  # [0.1 % / tick of tracking error]

    def set_position(self, index: int, ticks: float) -> None:
        self.positions[index] = ticks
        self.velocities[index] = 0.0

    def step(
        self, dt_s: float, goals: np.ndarray, torque_enabled: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x, tau, vmax = self.positions, self.tau, self.vmax
        err = goals - x
        sign = np.sign(err)
        mag = np.abs(err)
        t_lin = np.maximum(0.0, (mag - vmax * tau) / vmax)  # time spent at full speed
        in_lin = dt_s <= t_lin
        rest = np.maximum(dt_s - t_lin, 0.0)
        e_exp = np.minimum(mag, vmax * tau) * np.exp(-rest / tau)
        new_err = np.where(in_lin, mag - vmax * dt_s, e_exp)
        new_x = goals - sign * new_err
        vel = np.where(in_lin, sign * vmax, sign * e_exp / tau)
        self.positions = np.where(torque_enabled, new_x, x)
        self.velocities = np.where(torque_enabled, vel, 0.0)
        loads = np.where(torque_enabled, np.clip((goals - self.positions) * self.load_per_tick, -1000, 1000), 0.0)
        return self.positions, self.velocities, loads
