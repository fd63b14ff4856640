"""Inverse kinematics on the MuJoCo model: damped least squares on a point of the gripper frame.

The solver owns a private ``MjData`` (it never disturbs a running simulation) and moves only the arm joints it is
given, clipped to their limits at every iteration. Frames: positions [m] and rotations in the world frame, which
is the robot's base frame in our scenes. Satisfies the ``robot.teleop.IKSolver`` protocol, so keyboard/gamepad
teleoperation uses it on the sim robot and on the real arm alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np

# The grasp point in the ``gripperframe`` site frame [m]: between the jaw pads, 1 cm behind the finger tips and
# 4 mm off the fixed jaw's side of centre (measured on our SO-101 model: the jaws close along the site's z axis,
# the fixed jaw face sits at z = -0.02, the finger tips at x = +0.003).
SO101_GRASP_OFFSET = (-0.010, 0.0, -0.004)
# The Koch's (our koch.xml): 13 mm behind the finger tips, and 20 mm along the jaw-closing axis (the site's z) from
# the static jaw's inner face: a 25 mm cube resting against it is centred 12.5 mm off, so the closing jaw pushes the
# cube 7.5 mm onto the static jaw (room for tracking errors of the soft XL330 wrist).
KOCH_GRASP_OFFSET = (-0.013, 0.0, 0.020)


def top_down_rotation(yaw: float) -> np.ndarray:
    """Gripper frame (3, 3) pointing straight down (site x = -z world), jaws closing along ``yaw`` [rad]."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[0.0, -s, c], [0.0, c, s], [-1.0, 0.0, 0.0]])


class ArmIK:
    """DLS IK of ``site`` (+ ``offset`` in the site frame) over ``joints`` of a model.

    Args:
        model: the MuJoCo model (a copy of the robot's; only kinematics are used).
        joint_names: every robot joint in spec order (``q`` vectors use this order).
        arm_joints: the subset the solver may move (e.g. all but the gripper).
        rot_weight: weight of orientation error [rad] against position error [m].
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        joint_names: Sequence[str],
        arm_joints: Sequence[str],
        site: str = "gripperframe",
        offset: Sequence[float] = SO101_GRASP_OFFSET,
        rot_weight: float = 0.2,
        damping: float = 1e-3,
    ) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.site = model.site(site).id
        self.offset = np.asarray(offset, dtype=np.float64)
        ids = [model.joint(n).id for n in joint_names]
        self.qadr = model.jnt_qposadr[ids]
        self.arm = np.array([list(joint_names).index(n) for n in arm_joints])
        self.dofs = model.jnt_dofadr[[ids[i] for i in self.arm]]
        self.lower = model.jnt_range[ids, 0][self.arm]
        self.upper = model.jnt_range[ids, 1][self.arm]
        self.rot_weight = rot_weight
        self.damping = damping
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))

    def _kinematics(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.data.qpos[self.qadr] = q
        mujoco.mj_kinematics(self.model, self.data)
        rot = self.data.site_xmat[self.site].reshape(3, 3)
        return self.data.site_xpos[self.site] + rot @ self.offset, rot

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joint positions (n,) [rad] -> grasp point (3,) [m] and gripper rotation (3, 3)."""
        pos, rot = self._kinematics(np.asarray(q, dtype=np.float64))
        return pos.copy(), rot.copy()

    def solve(
        self, q0: np.ndarray, pos: np.ndarray, rot: np.ndarray | None = None, iters: int = 40, tol: float = 1e-4
    ) -> np.ndarray:
        """Joint positions (n,) [rad] within limits bringing the grasp point to ``pos`` (and frame to ``rot``).

        Stops after ``iters`` iterations, below ``tol``, or once the error stops falling.
        """
        q = np.array(q0, dtype=np.float64)
        arm = self.arm
        previous = np.inf
        for _ in range(iters):
            p, r = self._kinematics(q)
            err_p = pos - p
            rows = [err_p]
            if rot is not None:
                # orientation error as a rotation vector (small-angle): 0.5 * sum(r_i x rd_i)
                err_r = 0.5 * (
                    np.cross(r[:, 0], rot[:, 0]) + np.cross(r[:, 1], rot[:, 1]) + np.cross(r[:, 2], rot[:, 2])
                )
                rows.append(self.rot_weight * err_r)
            err = np.concatenate(rows)
            norm = float(np.linalg.norm(err))
            # done, or stalled: a 5-joint arm often cannot meet a full orientation target exactly, and the best
            # compromise is reached when the error stops falling
            if norm < tol or norm > previous * (1.0 - 1e-3):
                break
            previous = norm
            mujoco.mj_comPos(self.model, self.data)
            point = self.data.site_xpos[self.site] + r @ self.offset
            mujoco.mj_jac(self.model, self.data, self._jacp, self._jacr, point, self.model.site_bodyid[self.site])
            jac = self._jacp[:, self.dofs]
            if rot is not None:
                jac = np.vstack([jac, self.rot_weight * self._jacr[:, self.dofs]])
            dq = jac.T @ np.linalg.solve(jac @ jac.T + self.damping * np.eye(len(err)), err)
            q[arm] = np.clip(q[arm] + dq, self.lower, self.upper)
        return q
