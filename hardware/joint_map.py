"""JointMap: servo ticks <-> joint radians for one robot (per-servo calibration, then the transmission).

Motor space is the calibrated servo angles [rad] (zero tick and drive sign per servo, :mod:`hardware.calibration`);
joint space is the robot spec's. The transmission (:mod:`robot.transmission`) maps one to the other: the identity
for an arm, servo pairs for the Amazing Hand. The Robot base clips in joint space (limits, max step); then
:meth:`JointMap.command` clips each servo to its calibrated travel, once per cycle, and returns the goal ticks
with the joint target that motor command means.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from twinarm.hardware.calibration import Calibration
from twinarm.robot.transmission import LinearTransmission


class MotorCommand(NamedTuple):
    """One cycle's command: the joint target it means and the goal ticks that carry it."""

    joint: np.ndarray  # (n,) float32 [rad]
    ticks: np.ndarray  # (n,) int64 goal ticks, one per servo in calibration order


class JointMap:
    """Ticks <-> joint radians through ``calibration`` (motors in the transmission's order) and ``transmission``
    (None: one motor per joint)."""

    def __init__(self, calibration: Calibration, transmission: LinearTransmission | None = None) -> None:
        self.ticks = calibration.ticks
        self.transmission = transmission
        self.travel_lo, self.travel_hi = self.ticks.travel()  # (n,) calibrated motor travel [rad]

    def to_motor_state(self, pos_ticks: np.ndarray, vel_tps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Present ticks and velocities [ticks/s] -> motor positions [rad] and velocities [rad/s], (n,) float32."""
        return self.ticks.to_rad(pos_ticks), self.ticks.velocity_to_rad(vel_tps)

    def to_joint_state(self, pos_ticks: np.ndarray, vel_tps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Present ticks and velocities [ticks/s] -> joint positions [rad] and velocities [rad/s], (n,) float32."""
        pos, vel = self.to_motor_state(pos_ticks, vel_tps)
        if self.transmission is None:
            return pos, vel
        return self.transmission.to_joint(pos), self.transmission.velocity_to_joint(vel)

    def command(
        self,
        joint: np.ndarray,
        low: np.ndarray | None = None,
        high: np.ndarray | None = None,
        previous: np.ndarray | None = None,
    ) -> MotorCommand:
        """The command for joint targets ``joint`` (n,) [rad], computed once: goal ticks of the motor command
        clipped to each servo's calibrated travel, and the joint target (n,) float32 [rad] that command means.

        With the Robot base's box ``[low, high]`` (which ``joint`` already respects): clipping a servo moves its
        finger's joints towards the servo's side of the previous target, which keeps them inside the box for the
        hand; if a transmission broke that, the command holds ``previous`` (or keeps ``joint`` without one).
        """
        motor = joint if self.transmission is None else self.transmission.to_motor(joint)
        clipped = np.clip(motor, self.travel_lo, self.travel_hi).astype(np.float32)
        ticks = self.ticks.to_ticks(clipped)
        if self.transmission is None:
            return MotorCommand(clipped, ticks)  # one motor per joint: the travel clip is a joint clip
        if np.array_equal(clipped, motor):
            return MotorCommand(joint, ticks)
        out = self.transmission.to_joint(clipped)
        tol = 1e-6
        if low is None or high is None or bool(np.all(out >= low - tol) and np.all(out <= high + tol)):
            return MotorCommand(out, ticks)
        if previous is None:
            return MotorCommand(joint, ticks)
        return self.command(previous)._replace(joint=previous.copy())
