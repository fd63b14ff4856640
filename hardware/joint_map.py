"""JointMap: servo ticks <-> joint radians for one robot (per-servo calibration, then the transmission).

Motor space is the calibrated servo angles [rad] (zero tick and drive sign per servo, :mod:`hardware.calibration`);
joint space is the robot spec's. The transmission (:mod:`robot.transmission`) maps one to the other: the identity
for an arm, servo pairs for the Amazing Hand. Commands are clipped twice: the Robot base clips in joint space
(limits, max step), :meth:`JointMap.clip` then clips each servo to its calibrated travel and reports the joint
target that motor command means.
"""

from __future__ import annotations

import numpy as np
from twinarm.hardware.calibration import Calibration
from twinarm.robot.transmission import LinearTransmission


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

    def motor_command(self, joint: np.ndarray) -> np.ndarray:
        """Joint targets (n,) [rad] -> motor targets (n,) float32 [rad], clipped to each servo's calibrated travel."""
        motor = joint if self.transmission is None else self.transmission.to_motor(joint)
        return np.clip(motor, self.travel_lo, self.travel_hi).astype(np.float32)

    def goal_ticks(self, joint: np.ndarray) -> np.ndarray:
        """Joint targets (n,) [rad] -> goal ticks (n,) int64 of the travel-clipped motor command."""
        return self.ticks.to_ticks(self.motor_command(joint))

    def clip(
        self, joint: np.ndarray, previous: np.ndarray | None, lower: np.ndarray, upper: np.ndarray, max_step: np.ndarray
    ) -> np.ndarray:
        """The joint target (n,) float32 [rad] that the travel-clipped motor command for ``joint`` means.

        ``joint`` already respects the joint limits ``[lower, upper]`` and ``max_step`` from ``previous`` (the
        base's clip). Clipping a servo moves its finger's joints towards the servo's side of the previous target,
        which keeps them inside both for the hand; if a transmission broke that, the robot holds ``previous``.
        """
        motor = self.motor_command(joint)
        if self.transmission is None:
            return motor  # one motor per joint: the travel clip is a joint clip, inside the base's box
        if np.array_equal(motor, self.transmission.to_motor(joint)):
            return joint
        out = self.transmission.to_joint(motor)
        tol = 1e-6
        inside = bool(np.all(out >= lower - tol) and np.all(out <= upper + tol))
        if previous is not None:
            inside = inside and bool(np.all(np.abs(out - previous) <= max_step + tol))
        if inside:
            return out
        return joint if previous is None else previous.copy()
