"""Hand-eye calibration of a fixed camera (eye-to-hand): the board rides in the gripper over several arm poses.

For every view i the same rigid chain closes: ``T_base_cam @ T_cam_board_i = T_base_gripper_i @ T_gripper_board``,
with ``T_base_gripper_i`` from forward kinematics of the joint readings and ``T_cam_board_i`` from ``solvePnP``.
Two views i, j give ``A X = X B`` with ``X = T_base_cam``, ``A = T_base_gripper_j inv(T_base_gripper_i)`` and
``B = T_cam_board_j inv(T_cam_board_i)``. The rotation comes from the rotation vectors of all pairs (Park & Martin
1994, "Robot sensor calibration: solving AX = XB on the Euclidean group": ``a = R_X b``, solved by SVD), the
translation from the stacked linear system ``(R_A - I) t_X = R_X t_B - t_A``. OpenCV's ``cv2.calibrateHandEye``
implements the same method but is missing from the opencv-python-headless 5.0.0 wheel, hence this small solver.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from twinarm.hardware.camera_calibration import invert
from twinarm.hardware.errors import CameraCalibrationError

MIN_POSES = 3  # two independent rotation axes need at least three poses
MIN_AXIS_SPREAD_DEG = 5.0  # the relative rotations must turn about axes at least this far apart


class HandEye(NamedTuple):
    """``t_base_cam`` and ``t_gripper_board`` (4x4 [m]) and the RMS closure error of the chain over the views:
    translation [m] and rotation [deg]."""

    t_base_cam: np.ndarray
    t_gripper_board: np.ndarray
    rms_m: float
    rms_deg: float


def _rotvec(r: np.ndarray) -> np.ndarray:
    return cv2.Rodrigues(np.ascontiguousarray(r))[0].reshape(3)


def _angle_deg(r: np.ndarray) -> float:
    return float(np.degrees(np.linalg.norm(_rotvec(r))))


def solve_eye_to_hand(t_base_gripper: Sequence[np.ndarray], t_cam_board: Sequence[np.ndarray]) -> HandEye:
    """The fixed camera's pose in the base frame from matched gripper poses (forward kinematics) and board poses
    (one per view); CameraCalibrationError when there are too few or too similar poses."""
    n = len(t_base_gripper)
    if n != len(t_cam_board) or n < MIN_POSES:
        raise CameraCalibrationError(
            f"hand-eye calibration needs >= {MIN_POSES} views with both an arm pose and a detected board; got "
            f"{n} arm poses and {len(t_cam_board)} board poses"
        )
    motions = [  # (A, B) of every pair of views
        (t_base_gripper[j] @ invert(t_base_gripper[i]), t_cam_board[j] @ invert(t_cam_board[i]))
        for i in range(n)
        for j in range(i + 1, n)
    ]
    alphas = [_rotvec(a[:3, :3]) for a, _ in motions]
    betas = [_rotvec(b[:3, :3]) for _, b in motions]
    alpha, beta = np.array(alphas), np.array(betas)
    big = np.linalg.norm(alpha, axis=1) > np.radians(1.0)
    axes = alpha[big] / np.linalg.norm(alpha[big], axis=1, keepdims=True)
    spread = (
        np.degrees(np.arcsin(np.clip(np.linalg.norm(np.cross(axes[:1], axes), axis=1), 0, 1))) if len(axes) else [0]
    )
    if np.max(spread) < MIN_AXIS_SPREAD_DEG:
        raise CameraCalibrationError(
            "the arm poses turn the gripper about (nearly) one axis only; tilt the board about at least two "
            f"different axes (>= {MIN_AXIS_SPREAD_DEG:g} deg apart) across the views"
        )
    u, _, vt = np.linalg.svd(beta.T @ alpha)  # Kabsch: R minimizing sum |alpha - R beta|^2
    d = np.diag([1.0, 1.0, np.sign(np.linalg.det(vt.T @ u.T))])
    r_x = vt.T @ d @ u.T
    rows = [a[:3, :3] - np.eye(3) for a, _ in motions]
    rhs = [r_x @ b[:3, 3] - a[:3, 3] for a, b in motions]
    t_x = np.linalg.lstsq(np.vstack(rows), np.concatenate(rhs), rcond=None)[0]
    x = np.eye(4)
    x[:3, :3], x[:3, 3] = r_x, t_x
    return _with_board(x, t_base_gripper, t_cam_board)


def _with_board(x: np.ndarray, t_base_gripper: Sequence[np.ndarray], t_cam_board: Sequence[np.ndarray]) -> HandEye:
    """Average the board-in-gripper transform the views imply for ``x`` and measure how well the chain closes."""
    ys = [invert(g) @ x @ c for g, c in zip(t_base_gripper, t_cam_board)]
    u, _, vt = np.linalg.svd(sum(y[:3, :3] for y in ys))
    y = np.eye(4)
    y[:3, :3] = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt  # nearest rotation to the mean
    y[:3, 3] = np.mean([yi[:3, 3] for yi in ys], axis=0)
    return _closure(x, y, t_base_gripper, t_cam_board)


def _closure(x: np.ndarray, y: np.ndarray, gs: Sequence[np.ndarray], cs: Sequence[np.ndarray]) -> HandEye:
    """``x``, ``y`` with the RMS mismatch of ``x @ c`` against ``g @ y`` over the views."""
    errs = [invert(g @ y) @ x @ c for g, c in zip(gs, cs)]
    rms_m = float(np.sqrt(np.mean([np.sum(e[:3, 3] ** 2) for e in errs])))
    rms_deg = float(np.sqrt(np.mean([_angle_deg(e[:3, :3]) ** 2 for e in errs])))
    return HandEye(x, y, rms_m, rms_deg)


class BoardPoints(NamedTuple):
    """One view's correspondences: board corners ``board_m`` (N, 3) [m] and where they were seen ``image_px``
    (N, 2) [px]."""

    board_m: np.ndarray
    image_px: np.ndarray


def _perturbed(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    out = t.copy()
    out[:3, :3] = cv2.Rodrigues(p[:3])[0] @ t[:3, :3]
    out[:3, 3] += p[3:]
    return out


def refine_eye_to_hand(
    he: HandEye,
    t_base_gripper: Sequence[np.ndarray],
    t_cam_board: Sequence[np.ndarray],
    views: Sequence[BoardPoints],
    matrix: np.ndarray,
    distortion: np.ndarray,
    iterations: int = 30,
) -> tuple[HandEye, float]:
    """Refine ``he`` (from :func:`solve_eye_to_hand`) by Levenberg-Marquardt on the reprojection error of every
    board corner through the whole chain (camera <- base <- gripper <- board), which weighs each view by what the
    camera actually measured instead of by noisy per-view board poses (``t_cam_board``, used for the closure error).
    Returns the refined result and the RMS reprojection error [px]."""

    def residuals(p: np.ndarray) -> np.ndarray:
        x, y = _perturbed(he.t_base_cam, p[:6]), _perturbed(he.t_gripper_board, p[6:])
        out = []
        for g, v in zip(t_base_gripper, views):
            t = invert(x) @ g @ y
            proj = cv2.projectPoints(
                v.board_m.astype(np.float64), cv2.Rodrigues(t[:3, :3])[0], t[:3, 3], matrix, distortion
            )
            out.append((proj[0].reshape(-1, 2) - v.image_px).ravel())
        return np.concatenate(out)

    p, damping, eps = np.zeros(12), 1e-3, 1e-7
    r = residuals(p)
    for _ in range(iterations):
        jac = np.column_stack([(residuals(p + eps * np.eye(12)[k]) - r) / eps for k in range(12)])
        jtj, jtr = jac.T @ jac, jac.T @ r
        step = np.linalg.solve(jtj + damping * np.diag(np.diag(jtj) + 1e-12), -jtr)
        trial = residuals(p + step)
        if trial @ trial < r @ r:
            p, r, damping = p + step, trial, damping / 3.0
            if np.linalg.norm(step) < 1e-10:
                break
        else:
            damping *= 5.0
    x, y = _perturbed(he.t_base_cam, p[:6]), _perturbed(he.t_gripper_board, p[6:])
    return _closure(x, y, t_base_gripper, t_cam_board), float(np.sqrt(np.mean(r**2) * 2))
