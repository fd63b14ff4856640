"""A calibrated hardware camera delivers the simulator's ideal pinhole: distortion and the off-centre principal
point of a synthetic lens are undone before the crop-and-resize (frames built here, never a real webcam)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from twinarm.hardware.camera_calibration import BoardSpec, board_image, pinhole_maps
from twinarm.hardware.cameras import CameraConfig, CameraError, OpenCVCamera
from twinarm.hardware.errors import CameraCalibrationError
from twinarm.robot.camera_file import camera_calibration
from twinarm.robot.observation import fit_image

W, H = 640, 480
LENS = (520.0, 515.0, 331.0, 233.0)  # fx, fy, cx, cy [px] of the synthetic real camera
DISTORTION = (-0.25, 0.08, 0.001, -0.001, 0.0)  # k1 k2 p1 p2 k3: a typical small wide-angle webcam
CAL = camera_calibration("front", "board", (W, H), LENS, DISTORTION, (0.5, 0.0, 0.4), (1.0, 0.0, 0.0, 0.0))


def _ideal_image() -> np.ndarray:
    """What the simulator would render: a sharp pattern seen by the ideal pinhole (f = fy, centred)."""
    gray = cv2.resize(board_image(BoardSpec(), 100), (W, H), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(cv2.GaussianBlur(gray, (0, 0), 1.0), cv2.COLOR_GRAY2RGB)


def _through_the_lens(ideal: np.ndarray) -> np.ndarray:
    """The frame the real camera takes of the same view: each real pixel looks where the inverse lens model says
    (the iterative inverse ``cv2.undistortPoints``, independent of the remap tables under test)."""
    fx, fy, cx, cy = LENS
    k = np.array([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])
    ideal_k = np.array([[fy, 0, (W - 1) / 2], [0, fy, (H - 1) / 2], [0, 0, 1.0]])
    u, v = np.meshgrid(np.arange(W, dtype=np.float64), np.arange(H, dtype=np.float64))
    pts = np.stack([u.ravel(), v.ravel()], axis=1).reshape(-1, 1, 2)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-10)
    src = cv2.undistortPoints(pts, k, np.array(DISTORTION), None, None, ideal_k, criteria).reshape(H, W, 2)
    return cv2.remap(ideal, src[..., 0].astype(np.float32), src[..., 1].astype(np.float32), cv2.INTER_LINEAR)


def _centre_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference [levels] over the central 80 % (the corners of a barrel lens see outside)."""
    h, w = a.shape[:2]
    sl = (slice(h // 10, h - h // 10), slice(w // 10, w - w // 10))
    return float(np.abs(a[sl].astype(int) - b[sl].astype(int)).mean())


def test_pinhole_maps_turn_the_lens_into_the_ideal_pinhole() -> None:
    ideal = _ideal_image()
    real = _through_the_lens(ideal)
    fixed = cv2.remap(real, *pinhole_maps(CAL, (W, H)), cv2.INTER_LINEAR)
    before, after = _centre_diff(real, ideal), _centre_diff(fixed, ideal)
    print(f"mean |frame - ideal|: {before:.1f} levels as taken, {after:.1f} after the remap")
    assert after < 4.0 < 5 * after < before
    half_wh = (W // 2, H // 2)  # a scaled capture mode of the same camera
    shrink = [cv2.resize(img, half_wh, interpolation=cv2.INTER_AREA) for img in (real, ideal)]
    assert _centre_diff(cv2.remap(shrink[0], *pinhole_maps(CAL, half_wh), cv2.INTER_LINEAR), shrink[1]) < 4.0
    with pytest.raises(CameraCalibrationError, match=r"delivers 640x640 px; its calibration is for 640x480"):
        pinhole_maps(CAL, (640, 640))


def _video(path: Path, frame_rgb: np.ndarray, frames: int = 4) -> Path:
    h, w = frame_rgb.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (w, h))
    for _ in range(frames):
        writer.write(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_calibrated_opencv_camera_serves_the_ideal_pinhole_at_the_policy_size(tmp_path: Path) -> None:
    ideal = _ideal_image()
    video = _video(tmp_path / "lens.avi", _through_the_lens(ideal))
    target = (96, 96)
    with OpenCVCamera(CameraConfig(str(video), fps=60, width=96, height=96, calibration=CAL)) as cam:
        frame = cam.read().image
    with OpenCVCamera(CameraConfig(str(video), fps=60, width=96, height=96)) as cam:
        uncorrected = cam.read().image
    want = fit_image(ideal, target)
    assert frame.shape == (96, 96, 3)
    assert _centre_diff(frame, want) < 0.5 * _centre_diff(uncorrected, want)
    small = _video(tmp_path / "square.avi", np.zeros((64, 64, 3), np.uint8))
    with pytest.raises(CameraError, match="delivers 64x64 px"), OpenCVCamera(CameraConfig(str(small), calibration=CAL)):
        pass


def test_robot_config_camera_files_reach_the_hardware_camera(tmp_path: Path) -> None:
    import contextlib

    from twinarm.compose.backends import RobotConfig, make_hardware_robot
    from twinarm.robot.camera_file import save_camera_file
    from twinarm.robot.errors import ConfigError

    video = str(_video(tmp_path / "lens.avi", _through_the_lens(_ideal_image())))
    path = str(save_camera_file(CAL, tmp_path / "front.json"))
    cfg = RobotConfig(port="emulator", cameras=["front"], camera_sources={"front": video})
    with contextlib.ExitStack() as stack:
        cfg.camera_files = {"front": path}
        assert make_hardware_robot(cfg, stack).cameras["front"].config.calibration == CAL
        cfg.cameras, cfg.camera_sources, cfg.camera_files = ["wrist"], {"wrist": video}, {"wrist": path}
        with pytest.raises(ConfigError, match=r"camera_files.wrist=.*calibrates camera 'front', not 'wrist'"):
            make_hardware_robot(cfg, stack)
