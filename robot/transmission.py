"""Transmissions: the map between motor space and joint space, part of the shared robot model.

An arm has one motor per joint (the identity). In the Amazing Hand each finger is a parallel mechanism driven by
two servos: turning them in opposite directions flexes the finger, in the same direction moves it sideways. With
servo angles ``m1, m2`` [rad] (after per-servo offset and inversion from calibration):

    flexion   = (m1 - m2) / 2        m1 = abduction + flexion
    abduction = (m1 + m2) / 2        m2 = abduction - flexion

Both are linear, so one class covers them (and linearised tendon hands): ``joint = A @ motor``.
The Robot interface speaks joint space; only hardware drivers see motor space.
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.errors import SpecError


class LinearTransmission:
    """``joint = A @ motor`` with an invertible (n, n) matrix ``A``; vectorised over leading batch axes."""

    def __init__(self, matrix: np.ndarray) -> None:
        a = np.asarray(matrix, dtype=np.float64)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise SpecError(f"transmission matrix of shape {a.shape} is invalid; expected a square (n, n) matrix")
        if abs(np.linalg.det(a)) < 1e-9:
            raise SpecError(
                f"transmission matrix {a.tolist()} is singular (det {np.linalg.det(a):.3g}); it must be invertible: "
                "each joint needs its own mix of motors"
            )
        self.matrix = a
        self.inverse = np.linalg.inv(a)

    @property
    def size(self) -> int:
        return self.matrix.shape[0]

    def to_joint(self, motor: np.ndarray) -> np.ndarray:
        """Motor angles [rad] (..., n) -> joint angles [rad] (..., n), float32."""
        return (np.asarray(motor, dtype=np.float64) @ self.matrix.T).astype(np.float32)

    def to_motor(self, joint: np.ndarray) -> np.ndarray:
        """Joint angles [rad] (..., n) -> motor angles [rad] (..., n), float32."""
        return (np.asarray(joint, dtype=np.float64) @ self.inverse.T).astype(np.float32)

    def velocity_to_joint(self, motor_vel: np.ndarray) -> np.ndarray:
        """Velocities map like positions (the map is linear): [rad/s] (..., n)."""
        return self.to_joint(motor_vel)


def identity(n: int) -> LinearTransmission:
    """One motor per joint."""
    return LinearTransmission(np.eye(n))


def finger_pairs(n_fingers: int) -> LinearTransmission:
    """Two servos per finger, ordered (m1, m2) per finger -> (flexion, abduction) per finger."""
    block = np.array([[0.5, -0.5], [0.5, 0.5]])
    return LinearTransmission(np.kron(np.eye(n_fingers), block))


def block(*parts: LinearTransmission) -> LinearTransmission:
    """The transmission of a robot made of parts: each part's matrix on the diagonal, in part order."""
    n = sum(p.size for p in parts)
    matrix = np.zeros((n, n))
    start = 0
    for p in parts:
        matrix[start : start + p.size, start : start + p.size] = p.matrix
        start += p.size
    return LinearTransmission(matrix)
