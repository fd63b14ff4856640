"""Cameras: OpenCV capture on a background thread, serving the latest RGB frame at the configured size.

A source is a device index (``0``), a device path (``/dev/video0``) or a video file (replayed at ``fps``, looping;
handy for tests and demos). ``read()`` never waits for the device's next frame: it returns the newest frame, or
raises :class:`CameraError` when no frame arrived within ``read_timeout_s`` (a stalled or unplugged camera).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from twinarm.robot.camera_file import CameraCalibration
from twinarm.robot.errors import TwinarmError
from twinarm.robot.observation import fit_image


class CameraError(TwinarmError, RuntimeError):
    """A camera did not open, stalled, or was used while disconnected; the message names its source."""


@dataclasses.dataclass(frozen=True)
class CameraConfig:
    """One camera. ``source``: device index, ``/dev/video*`` path or video file; frames are centre-cropped to the
    aspect ratio of ``height`` x ``width`` and resized to it (never squashed); ``fps`` [Hz] is requested from
    devices and paces file replay; ``read_timeout_s`` [s] is how old the newest frame may be before ``read``
    fails. ``calibration`` (a camera file, ``twinarm calibrate camera``): frames are first remapped to the ideal
    pinhole the simulator renders for it (:func:`hardware.camera_calibration.pinhole_maps`)."""

    source: int | str
    fps: float = 30.0
    width: int = 96
    height: int = 96
    read_timeout_s: float = 1.0
    loop: bool = True  # video files: start over at the end
    calibration: CameraCalibration | None = None


class Frame(NamedTuple):
    """An (height, width, 3) uint8 RGB image and its capture time [s, time.monotonic()]."""

    image: np.ndarray
    timestamp: float


def _is_file(source: int | str) -> bool:
    return isinstance(source, str) and not source.startswith("/dev/") and not source.isdigit()


class OpenCVCamera:
    """A cv2.VideoCapture read by a daemon thread; explicit ``connect``/``disconnect`` (also a context manager)."""

    def __init__(self, config: CameraConfig) -> None:
        if config.width <= 0 or config.height <= 0 or config.fps <= 0 or config.read_timeout_s <= 0:
            raise CameraError(
                f"camera {config.source!r}: width {config.width}, height {config.height}, fps {config.fps} and "
                f"read_timeout_s {config.read_timeout_s} must all be > 0"
            )
        self.config = config
        self._cap: cv2.VideoCapture | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._error: str | None = None
        self.frames_captured = 0
        self._maps: tuple[tuple[int, int], tuple[np.ndarray, np.ndarray]] | None = None  # (size_wh, remap tables)

    @property
    def source(self) -> int | str:
        return self.config.source

    @property
    def is_connected(self) -> bool:
        return self._thread is not None

    def connect(self) -> None:
        """Open the source and start capturing; idempotent. Waits for the first frame (up to read_timeout_s)."""
        if self._thread is not None:
            return
        src = self.config.source
        if _is_file(src) and not Path(src).is_file():
            raise CameraError(f"camera {src!r}: no such video file (a source is an index, /dev/video* or a file)")
        cap_src = int(src) if isinstance(src, str) and src.isdigit() else src
        cap = cv2.VideoCapture(cap_src)
        if not cap.isOpened():
            cap.release()
            raise CameraError(
                f"camera {src!r} could not be opened: check that the device exists and is not in use "
                "(valid sources: a device index, a /dev/video* path or a video file)"
            )
        if not _is_file(src):
            cal = self.config.calibration  # a calibrated camera captures at its calibrated size
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.config.width if cal is None else cal.image_width_px)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.config.height if cal is None else cal.image_height_px)
            cap.set(cv2.CAP_PROP_FPS, self.config.fps)
        self._cap = cap
        self._stop.clear()
        self._error = None
        self._frame = None
        self._thread = threading.Thread(target=self._run, name=f"camera-{src}", daemon=True)
        self._thread.start()
        try:
            self.read()
        except CameraError:
            self.disconnect()
            raise

    def disconnect(self) -> None:
        """Stop the capture thread and release the device; idempotent."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=max(1.0, 2 * self.config.read_timeout_s))
        self._thread = None
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> OpenCVCamera:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.disconnect()

    def read(self) -> Frame:
        """The newest frame; :class:`CameraError` if none arrived within ``read_timeout_s``."""
        if self._thread is None:
            raise CameraError(f"camera {self.config.source!r}: read() while not connected; call connect() first")
        timeout = self.config.read_timeout_s
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                frame, now = self._frame, time.monotonic()
                if frame is not None and now - frame.timestamp <= timeout:
                    return frame
                if self._error is not None:
                    raise CameraError(f"camera {self.config.source!r}: {self._error}")
                if now >= deadline:
                    age = "no frame yet" if frame is None else f"newest frame is {now - frame.timestamp:.2f} s old"
                    raise CameraError(
                        f"camera {self.config.source!r}: read timed out after {timeout} s ({age}); "
                        "is the camera unplugged or stalled?"
                    )
                self._cond.wait(deadline - now)

    def _convert(self, bgr: np.ndarray) -> np.ndarray:
        """Device frame -> (height, width, 3) uint8 RGB by the one image conversion of twinarm (aspect-preserving
        centre crop, then resize: :func:`twinarm.robot.observation.fit_image`), never squashed."""
        if bgr.ndim == 2:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
        rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        if self.config.calibration is not None:
            rgb = cv2.remap(rgb, *self._pinhole_maps(rgb.shape[1::-1]), cv2.INTER_LINEAR)
        return fit_image(rgb, (self.config.height, self.config.width))

    def _pinhole_maps(self, size_wh: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        from twinarm.hardware.camera_calibration import pinhole_maps

        if self._maps is None or self._maps[0] != size_wh:
            self._maps = (size_wh, pinhole_maps(self.config.calibration, size_wh))
        return self._maps[1]

    def _run(self) -> None:
        cap = self._cap
        assert cap is not None
        is_file = _is_file(self.config.source)
        period = 1.0 / self.config.fps
        next_t = time.monotonic()
        while not self._stop.is_set():
            ok, bgr = cap.read()
            if not ok and is_file and self.config.loop and self.frames_captured > 0:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, bgr = cap.read()
            if not ok:
                with self._cond:
                    self._error = "the source stopped delivering frames (end of file or device lost)"
                    self._cond.notify_all()
                return
            try:
                frame = Frame(self._convert(bgr), time.monotonic())
            except TwinarmError as exc:  # a frame the calibration does not fit: read() reports it
                with self._cond:
                    self._error = str(exc)
                    self._cond.notify_all()
                return
            with self._cond:
                self._frame = frame
                self.frames_captured += 1
                self._cond.notify_all()
            if is_file:  # devices pace themselves; files replay at fps
                next_t += period
                delay = next_t - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_t = time.monotonic()
