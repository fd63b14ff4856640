"""``twinarm calibrate camera``, composed: ChArUco views -> intrinsics -> the camera's pose in the robot base frame.

Two ways to the pose (``Method``): ``board``, the board lying at a known pose ``T_base_board`` and seen in one
view; ``hand_eye``, the board held in the gripper over several arm poses, each view paired with the joint positions
[rad] read at that moment (forward kinematics of the MuJoCo model give ``T_base_gripper``; :mod:`hardware.hand_eye`).
The same views give the intrinsics (:mod:`hardware.camera_calibration`). The result is a
:class:`robot.camera_file.CameraCalibration` for :func:`robot.camera_file.save_camera_file`.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from twinarm.hardware.camera_calibration import (
    BoardSpec,
    Detection,
    Intrinsics,
    board_pose,
    calibrate_intrinsics,
    camera_from_known_board,
    detect,
    make_board,
)
from twinarm.hardware.errors import CameraCalibrationError
from twinarm.hardware.hand_eye import BoardPoints, refine_eye_to_hand, solve_eye_to_hand
from twinarm.robot.camera_file import CameraCalibration, camera_calibration

if TYPE_CHECKING:
    from twinarm.sim.sim_robot import SimModel

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")


class Method(str, enum.Enum):
    BOARD = "board"
    HAND_EYE = "hand_eye"


def load_images(folder: str | Path) -> dict[str, np.ndarray]:
    """Every image of ``folder`` by file name (sorted), RGB uint8; CameraCalibrationError names a bad folder/file."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise CameraCalibrationError(f"image folder {folder} does not exist")
    images = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise CameraCalibrationError(f"image {path} cannot be decoded (valid: {', '.join(IMAGE_SUFFIXES)})")
        images[path.name] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if not images:
        raise CameraCalibrationError(f"image folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return images


def detect_all(images: dict[str, np.ndarray], board: BoardSpec) -> tuple[dict[str, Detection], tuple[int, int]]:
    """Board detections by image name (views without the board are left out) and the common size (w, h) [px]."""
    sizes = {img.shape[1::-1] for img in images.values()}
    if len(sizes) != 1:
        raise CameraCalibrationError(f"the images have different sizes {sorted(sizes)}; use one camera mode")
    cv_board = make_board(board)
    found = {name: detect(cv_board, img, name) for name, img in images.items()}
    return {n: d for n, d in found.items() if d is not None}, sizes.pop()


def calibrate_with_board(
    images: dict[str, np.ndarray],
    board: BoardSpec,
    pose_image: str,
    t_base_board: np.ndarray,
    camera: str,
    tangential: bool = False,
) -> CameraCalibration:
    """Intrinsics from every view, the pose from view ``pose_image`` where the board lies at ``t_base_board``;
    ``tangential``: also fit tangential distortion (see ``calibrate_intrinsics``)."""
    detections, size = detect_all(images, board)
    if pose_image not in images:
        raise CameraCalibrationError(f"pose image {pose_image!r} is not among the images {sorted(images)}")
    if pose_image not in detections:
        raise CameraCalibrationError(f"pose image {pose_image!r}: the board was not found (or too few corners)")
    intr = calibrate_intrinsics(list(detections.values()), size, tangential)
    t_base_cam = camera_from_known_board(t_base_board, board_pose(detections[pose_image], intr))
    return _calibration(camera, Method.BOARD, intr, t_base_cam)


def calibrate_hand_eye(
    images: dict[str, np.ndarray],
    board: BoardSpec,
    t_base_gripper: dict[str, np.ndarray],
    camera: str,
    tangential: bool = False,
) -> tuple[CameraCalibration, float, float]:
    """Intrinsics and pose from views of the board in the gripper, each with its gripper pose (4x4 [m]); also
    returns the RMS closure error of the kinematic chain [m], [deg] (large: the board slipped or poses mismatch)."""
    missing = sorted(set(images) - set(t_base_gripper))
    if missing:
        raise CameraCalibrationError(f"images {missing} have no arm pose in the poses file")
    detections, size = detect_all(images, board)
    intr = calibrate_intrinsics(list(detections.values()), size, tangential)
    names = sorted(detections)
    grippers = [t_base_gripper[n] for n in names]
    boards = [board_pose(detections[n], intr) for n in names]
    points = [BoardPoints(detections[n].board_m, detections[n].image_px) for n in names]
    he = solve_eye_to_hand(grippers, boards)
    he, _ = refine_eye_to_hand(he, grippers, boards, points, intr.matrix, intr.distortion)
    return _calibration(camera, Method.HAND_EYE, intr, he.t_base_cam), he.rms_m, he.rms_deg


def _calibration(camera: str, method: Method, intr: Intrinsics, t_base_cam: np.ndarray) -> CameraCalibration:
    import mujoco

    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(t_base_cam[:3, :3]).reshape(-1))
    k = intr.matrix
    return camera_calibration(
        camera,
        method.value,
        intr.size_wh,
        (k[0, 0], k[1, 1], k[0, 2], k[1, 2]),
        tuple(intr.distortion),
        tuple(t_base_cam[:3, 3]),
        tuple(quat),
        intr.rms_px,
    )


def gripper_poses(
    model: SimModel, joint_positions: Sequence[Sequence[float]], body: str = "gripper"
) -> list[np.ndarray]:
    """``T_base_gripper`` (4x4 [m]) of ``body`` for each joint vector [rad] (spec order) by forward kinematics of
    the sim model (the world frame is the robot base frame in our scenes)."""
    import mujoco

    m = model.load()
    d = mujoco.MjData(m)
    if mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, body) < 0:
        raise CameraCalibrationError(f"{model.xml.name} has no body {body!r}")
    adr = [m.joint(n).qposadr[0] for n in model.spec.joint_names]
    out = []
    for q in joint_positions:
        if len(q) != len(adr):
            raise CameraCalibrationError(f"arm pose {list(q)}: expected {len(adr)} joint positions [rad]")
        d.qpos[adr] = q
        mujoco.mj_kinematics(m, d)
        t = np.eye(4)
        t[:3, :3], t[:3, 3] = d.xmat[m.body(body).id].reshape(3, 3), d.xpos[m.body(body).id]
        out.append(t)
    return out
