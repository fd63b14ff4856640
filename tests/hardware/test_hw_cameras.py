"""OpenCVCamera on a synthetic video file written in tmp_path (never a real webcam)."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from twinarm.hardware.cameras import CameraConfig, CameraError, OpenCVCamera


def write_video(path: Path, frames: int = 12, size: tuple[int, int] = (48, 64), fps: float = 30.0) -> Path:
    """A video whose frame i is solid BGR (0, 0, 200): pure red in RGB, at height x width ``size``."""
    h, w = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for _ in range(frames):
        img = np.zeros((h, w, 3), np.uint8)
        img[:, :, 2] = 200  # red in BGR order
        writer.write(img)
    writer.release()
    return path


@pytest.fixture
def video(tmp_path: Path) -> Path:
    return write_video(tmp_path / "clip.avi")


def test_read_returns_rgb_frames_at_configured_size(video: Path) -> None:
    with OpenCVCamera(CameraConfig(str(video), fps=60, width=32, height=24)) as cam:
        frame, stamp = cam.read()
        assert frame.shape == (24, 32, 3) and frame.dtype == np.uint8
        red, green, blue = (frame[..., c].mean() for c in range(3))
        assert red > 150 and green < 40 and blue < 40  # converted BGR -> RGB
        assert abs(time.monotonic() - stamp) < 1.0


def test_latest_frame_advances_and_file_loops(video: Path) -> None:
    with OpenCVCamera(CameraConfig(str(video), fps=200, width=16, height=16)) as cam:
        first = cam.read().timestamp
        time.sleep(0.15)  # 12-frame clip at 200 fps: > 2 loops
        assert cam.read().timestamp > first
        assert cam.frames_captured > 12


def test_missing_file_names_source(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.avi")
    with pytest.raises(CameraError, match=r"nope\.avi"):
        OpenCVCamera(CameraConfig(missing)).connect()


def test_device_that_does_not_open_is_a_clear_error() -> None:
    with pytest.raises(CameraError, match="/dev/video987"):
        OpenCVCamera(CameraConfig("/dev/video987")).connect()


def test_read_times_out_when_stream_ends(video: Path) -> None:
    cam = OpenCVCamera(CameraConfig(str(video), fps=240, loop=False, read_timeout_s=0.1))
    cam.connect()
    try:
        time.sleep(0.35)  # clip over after 50 ms; newest frame now older than the timeout
        with pytest.raises(CameraError, match=r"clip\.avi"):
            cam.read()
    finally:
        cam.disconnect()


def test_read_before_connect_and_idempotent_lifecycle(video: Path) -> None:
    cam = OpenCVCamera(CameraConfig(str(video)))
    with pytest.raises(CameraError, match="not connected"):
        cam.read()
    cam.connect()
    cam.connect()
    assert cam.is_connected
    cam.disconnect()
    cam.disconnect()
    assert not cam.is_connected


def test_invalid_size_rejected() -> None:
    with pytest.raises(CameraError, match="width 0"):
        OpenCVCamera(CameraConfig(0, width=0))
