"""Calibrated cameras in the simulator: a camera file (:mod:`robot.camera_file`) placed into the MjModel in place.

The file's pose is the OpenCV optical frame (x right, y down, z along the view) in the robot base frame; a MuJoCo
camera looks along its -z with y up, so its frame is the optical frame turned half a turn about x. The robot base
is the scene's world frame (``so101.xml`` puts the ``base`` body at the origin). The vertical FOV is written to
``cam_fovy``; the principal point is taken as the image centre and ``fx`` as equal to ``fy`` (square pixels).

The aspect reaches the policy the way hardware frames do: the simulator renders a calibrated camera at the
calibrated aspect (:func:`render_size`) and :func:`robot.observation.fit_image` centre-crops and resizes that frame
to the observation size, exactly as hardware cameras crop their native frames (never squashed).
"""

from __future__ import annotations

import mujoco
import numpy as np

from twinarm.robot.camera_file import CameraCalibration, CameraFileError

_OPTICAL_TO_MUJOCO = np.diag([1.0, -1.0, -1.0])  # optical (y down, z forward) -> MuJoCo camera (y up, -z forward)


def mujoco_pose(cal: CameraCalibration) -> tuple[np.ndarray, np.ndarray]:
    """(position [m], quaternion wxyz) of the MuJoCo camera frame in the base frame for calibration ``cal``."""
    r_optical = np.zeros(9)
    mujoco.mju_quat2Mat(r_optical, np.asarray(cal.quat_wxyz, dtype=np.float64))
    r_mj = r_optical.reshape(3, 3) @ _OPTICAL_TO_MUJOCO
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, r_mj.reshape(-1))
    return np.asarray(cal.position_m, dtype=np.float64), quat


def optical_pose(m: mujoco.MjModel, d: mujoco.MjData, camera: str) -> np.ndarray:
    """``T_world_cam`` (4x4 [m]) of a camera's OpenCV optical frame after ``mj_forward`` (for tests and checks)."""
    cid = m.camera(camera).id
    t = np.eye(4)
    t[:3, :3] = d.cam_xmat[cid].reshape(3, 3) @ _OPTICAL_TO_MUJOCO
    t[:3, 3] = d.cam_xpos[cid]
    return t


def apply_camera(m: mujoco.MjModel, cal: CameraCalibration) -> None:
    """Write ``cal``'s pose and vertical FOV into its camera of ``m``; CameraFileError when the scene has no such
    fixed world camera (a camera riding on a link, like the wrist camera, is not placed by a base-frame pose)."""
    cid = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_CAMERA, cal.camera)
    if cid < 0:
        valid = [m.camera(i).name for i in range(m.ncam) if m.cam_bodyid[i] == 0]
        raise CameraFileError(f"camera file for {cal.camera!r}: the scene has no such camera; fixed cameras: {valid}")
    if m.cam_bodyid[cid] != 0 or m.cam_mode[cid] != mujoco.mjtCamLight.mjCAMLIGHT_FIXED:
        raise CameraFileError(
            f"camera file for {cal.camera!r}: that camera rides on body {m.body(m.cam_bodyid[cid]).name!r}; camera "
            "files place fixed cameras in the robot base frame"
        )
    pos, quat = mujoco_pose(cal)
    m.cam_pos[cid], m.cam_quat[cid], m.cam_fovy[cid] = pos, quat, cal.fovy_deg


def render_size(cal: CameraCalibration, target_hw: tuple[int, int]) -> tuple[int, int]:
    """(height, width) [px] to render ``cal``'s camera at: the calibrated aspect, just covering ``target_hw`` after
    the centre crop of ``fit_image`` (so the crop keeps the calibrated vertical or horizontal field of view)."""
    th, tw = int(target_hw[0]), int(target_hw[1])
    if cal.aspect >= tw / th:  # wider than the target: full height, columns cropped
        return th, max(tw, round(th * cal.aspect))
    return max(th, round(tw / cal.aspect)), tw
