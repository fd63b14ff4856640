"""ChArUco camera calibration: board detection, intrinsics (``cv2.calibrateCamera``) and board poses (``solvePnP``).

The board is OpenCV's ChArUco board (``cv2.aruco.CharucoBoard``, the 4.7+ API: ``CharucoDetector.detectBoard``,
``Board.matchImagePoints``). Its frame: origin at the outer corner of the first square, x along the
``squares_x`` squares, y along the ``squares_y`` squares, z into the board (OpenCV's convention). Poses are 4x4
homogeneous transforms ``T_a_b`` (frame b expressed in frame a) in metres. The camera's pose in the robot base
frame then follows from a board at a known pose (:func:`camera_from_known_board`) or from the board held in the
gripper over several arm poses (:mod:`hardware.hand_eye`). :func:`pinhole_maps` undoes a calibrated camera's
distortion and off-centre principal point, so hardware frames match the simulator's ideal pinhole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np

from twinarm.hardware.errors import CameraCalibrationError
from twinarm.robot.camera_file import CameraCalibration

MIN_CORNERS = 8  # ChArUco corners a view needs to count (a 6-parameter pose plus margin)
MIN_VIEWS = 4  # views calibrateCamera needs for a stable focal length and principal point


class BoardSpec(NamedTuple):
    """A printed ChArUco board: ``squares_x`` x ``squares_y`` squares of ``square_m`` [m], markers ``marker_m`` [m]
    from the predefined ArUco ``dictionary`` (a ``cv2.aruco.DICT_*`` name)."""

    squares_x: int = 7
    squares_y: int = 5
    square_m: float = 0.03
    marker_m: float = 0.022
    dictionary: str = "DICT_4X4_50"

    def size_m(self) -> tuple[float, float]:
        """Printed size (width along x, height along y) [m]."""
        return self.squares_x * self.square_m, self.squares_y * self.square_m


class Detection(NamedTuple):
    """One view of the board: ``ids`` of the ChArUco corners seen, their ``image_px`` (N, 2) and ``board_m`` (N, 3)."""

    source: str
    ids: np.ndarray
    image_px: np.ndarray
    board_m: np.ndarray


class Intrinsics(NamedTuple):
    """Pinhole intrinsics: ``matrix`` 3x3 [px], ``distortion`` (k1, k2, p1, p2, k3), RMS reprojection error [px]."""

    matrix: np.ndarray
    distortion: np.ndarray
    rms_px: float
    size_wh: tuple[int, int]


def make_board(spec: BoardSpec) -> cv2.aruco.CharucoBoard:
    """The OpenCV board of ``spec``; CameraCalibrationError for an unknown dictionary or bad sizes."""
    name = spec.dictionary
    if not name.startswith("DICT_") or not hasattr(cv2.aruco, name):
        valid = [n for n in dir(cv2.aruco) if n.startswith("DICT_")]
        raise CameraCalibrationError(f"board dictionary {name!r} is unknown; valid: {', '.join(valid)}")
    if not 0 < spec.marker_m < spec.square_m or min(spec.squares_x, spec.squares_y) < 3:
        raise CameraCalibrationError(f"board {spec}: needs >= 3x3 squares and 0 < marker_m < square_m")
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))
    return cv2.aruco.CharucoBoard((spec.squares_x, spec.squares_y), spec.square_m, spec.marker_m, dictionary)


def board_image(spec: BoardSpec, px_per_square: int = 100) -> np.ndarray:
    """The board as a (H, W) uint8 image, exactly ``squares`` x ``px_per_square`` pixels (no margin), to print."""
    size = (spec.squares_x * px_per_square, spec.squares_y * px_per_square)
    return make_board(spec).generateImage(size, marginSize=0, borderBits=1)


def detect(board: cv2.aruco.CharucoBoard, image: np.ndarray, source: str = "image") -> Detection | None:
    """The ChArUco corners of ``board`` in ``image`` (RGB or grey uint8), or None with fewer than MIN_CORNERS."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    corners, ids, _, _ = cv2.aruco.CharucoDetector(board).detectBoard(gray)
    if ids is None or len(ids) < MIN_CORNERS:
        return None
    obj, img = board.matchImagePoints(corners, ids)
    return Detection(source, ids.reshape(-1), img.reshape(-1, 2).astype(np.float32), obj.reshape(-1, 3))


def calibrate_intrinsics(
    detections: Sequence[Detection], size_wh: tuple[int, int], tangential: bool = False
) -> Intrinsics:
    """Intrinsics from >= MIN_VIEWS detections of one camera at image size ``size_wh`` [px]; k3 is fixed at 0 and,
    unless ``tangential``, so are p1, p2: decentering distortion is negligible on small fixed-lens cameras, and
    fitting it to a dozen views trades off against the principal point (measured on renders of the board in the
    gripper: principal point 3-5 px off and camera rotation 0.4-0.75 deg off with it, 0.04 deg without)."""
    if len(detections) < MIN_VIEWS:
        raise CameraCalibrationError(
            f"the board was found in {len(detections)} view(s) ({[d.source for d in detections]}); intrinsics need "
            f">= {MIN_VIEWS} views with >= {MIN_CORNERS} ChArUco corners each, the board tilted differently in each"
        )
    flags = cv2.CALIB_FIX_K3 | (0 if tangential else cv2.CALIB_ZERO_TANGENT_DIST)
    obj = [d.board_m.astype(np.float32) for d in detections]
    img = [d.image_px.reshape(-1, 1, 2) for d in detections]
    rms, matrix, dist, _, _ = cv2.calibrateCamera(obj, img, tuple(size_wh), None, None, flags=flags)
    return Intrinsics(matrix, dist.reshape(-1)[:5], float(rms), (int(size_wh[0]), int(size_wh[1])))


def board_pose(detection: Detection, intrinsics: Intrinsics) -> np.ndarray:
    """``T_cam_board`` (4x4 [m]): the board in the OpenCV optical frame of the camera, by ``solvePnP``."""
    ok, rvec, tvec = cv2.solvePnP(
        detection.board_m.astype(np.float64),
        detection.image_px.astype(np.float64),
        intrinsics.matrix,
        intrinsics.distortion,
        flags=cv2.SOLVEPNP_IPPE,
    )
    if not ok:
        raise CameraCalibrationError(f"{detection.source}: no board pose fits the detected corners")
    rvec, tvec = cv2.solvePnPRefineLM(
        detection.board_m.astype(np.float64),
        detection.image_px.astype(np.float64),
        intrinsics.matrix,
        intrinsics.distortion,
        rvec,
        tvec,
    )
    return transform(cv2.Rodrigues(rvec)[0], tvec.reshape(3))


def transform(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """The 4x4 homogeneous transform of a 3x3 rotation and a translation [m]."""
    t = np.eye(4)
    t[:3, :3], t[:3, 3] = rotation, np.asarray(translation, dtype=np.float64).reshape(3)
    return t


def invert(t: np.ndarray) -> np.ndarray:
    """The inverse of a rigid 4x4 transform."""
    return transform(t[:3, :3].T, -t[:3, :3].T @ t[:3, 3])


def camera_from_known_board(t_base_board: np.ndarray, t_cam_board: np.ndarray) -> np.ndarray:
    """``T_base_cam``: the camera (optical frame) in the robot base frame, from the board's known pose there."""
    return t_base_board @ invert(t_cam_board)


def pinhole_maps(cal: CameraCalibration, size_wh: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` tables that turn a frame of camera ``cal`` at ``size_wh`` [px] (the calibrated size or a
    scaled mode of it, same aspect) into the ideal pinhole the simulator renders for ``cal``: no distortion, the
    principal point at the image centre, square pixels of focal length ``fy``; CameraCalibrationError otherwise."""
    w, h = int(size_wh[0]), int(size_wh[1])
    if abs(w * cal.image_height_px - h * cal.image_width_px) > max(w, h) // 100 + 1:
        raise CameraCalibrationError(
            f"camera {cal.camera!r} delivers {w}x{h} px; its calibration is for {cal.image_width_px}x"
            f"{cal.image_height_px} (aspect {cal.aspect:.4f}): capture at that size or recalibrate"
        )
    s = w / cal.image_width_px  # pixel centres at integers: x' = (x + 0.5) s - 0.5
    k = np.array([[cal.fx_px * s, 0, (cal.cx_px + 0.5) * s - 0.5], [0, cal.fy_px * s, (cal.cy_px + 0.5) * s - 0.5]])
    ideal = np.array([[cal.fy_px * s, 0, (w - 1) / 2], [0, cal.fy_px * s, (h - 1) / 2], [0, 0, 1.0]])
    dist = np.asarray(cal.distortion, dtype=np.float64)
    return cv2.initUndistortRectifyMap(np.vstack([k, [0, 0, 1.0]]), dist, None, ideal, (w, h), cv2.CV_16SC2)
