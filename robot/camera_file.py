"""A calibrated camera as a file (``camera.json``): intrinsics, image size and the pose in the robot base frame.

Written by ``twinarm calibrate camera`` (ChArUco board, :mod:`hardware.camera_calibration`), read by the simulator
(``sim.camera=camera.json``) so it renders from the calibrated pose with the calibrated FOV and aspect. Layout
(``version`` 1, SI units, angles in degrees where named so)::

    {"version": 1, "camera": "front", "method": "board",
     "image_width_px": 640, "image_height_px": 480,
     "fx_px": 540.2, "fy_px": 540.9, "cx_px": 319.1, "cy_px": 240.3, "distortion": [k1, k2, p1, p2, k3],
     "position_m": [0.55, 0.0, 0.35], "quat_wxyz": [w, x, y, z],
     "fovy_deg": 47.8, "aspect": 1.3333, "reprojection_error_px": 0.21, "created": "2026-11-30T13:00:00+00:00"}

``position_m`` is the optical centre and ``quat_wxyz`` the orientation of the OpenCV optical frame (x right, y down,
z along the view) in the robot base frame. ``fovy_deg`` = 2 atan(height / (2 fy)) and ``aspect`` = width / height
are derived from the other fields and checked against them on load. Errors name the file, the key and what is valid.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from twinarm.robot.errors import ConfigError
from twinarm.robot.files import write_json_atomic

CAMERA_FILE_VERSION = 1
METHODS = ("board", "hand_eye")  # how the pose was found: a board at a known pose, or the board in the gripper


class CameraFileError(ConfigError):
    """A camera file or value is invalid (the message names the file, the key and what is valid)."""


@dataclasses.dataclass(frozen=True)
class CameraCalibration:
    """One calibrated camera; see the module doc for the fields and frames. Build it with :func:`camera_calibration`
    (which derives ``fovy_deg`` and ``aspect``)."""

    camera: str
    method: str
    image_width_px: int
    image_height_px: int
    fx_px: float
    fy_px: float
    cx_px: float
    cy_px: float
    distortion: tuple[float, ...]
    position_m: tuple[float, float, float]
    quat_wxyz: tuple[float, float, float, float]
    fovy_deg: float
    aspect: float
    reprojection_error_px: float = 0.0
    created: str = ""


def fovy_deg_of(fy_px: float, height_px: int) -> float:
    """Vertical field of view [deg] of a pinhole camera with focal length ``fy_px`` [px] and ``height_px`` rows."""
    return math.degrees(2.0 * math.atan(0.5 * height_px / fy_px))


def camera_calibration(
    camera: str,
    method: str,
    size_wh: tuple[int, int],
    intrinsics: tuple[float, float, float, float],
    distortion: tuple[float, ...],
    position_m: tuple[float, float, float],
    quat_wxyz: tuple[float, float, float, float],
    reprojection_error_px: float = 0.0,
) -> CameraCalibration:
    """A validated :class:`CameraCalibration` from ``size_wh`` [px], ``intrinsics`` (fx, fy, cx, cy) [px] and a pose;
    the FOV and aspect are derived, the quaternion normalized, ``created`` is now (UTC)."""
    w, h = int(size_wh[0]), int(size_wh[1])
    fx, fy, cx, cy = (float(v) for v in intrinsics)
    norm = math.sqrt(sum(float(q) ** 2 for q in quat_wxyz)) or 1.0
    cal = CameraCalibration(
        camera=camera,
        method=method,
        image_width_px=w,
        image_height_px=h,
        fx_px=fx,
        fy_px=fy,
        cx_px=cx,
        cy_px=cy,
        distortion=tuple(float(d) for d in distortion),
        position_m=tuple(float(p) for p in position_m),
        quat_wxyz=tuple(float(q) / norm for q in quat_wxyz),
        fovy_deg=fovy_deg_of(fy, h) if fy > 0 and h > 0 else float("nan"),
        aspect=w / h if h > 0 else float("nan"),
        reprojection_error_px=float(reprojection_error_px),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    validate(cal, "camera calibration")
    return cal


def validate(cal: CameraCalibration, where: str) -> None:
    """Raise :class:`CameraFileError` naming ``where`` (a file) and the key when ``cal`` is inconsistent."""

    def bad(key: str, valid: str) -> CameraFileError:
        return CameraFileError(f"{where}: {key}={getattr(cal, key)!r} is invalid; {valid}")

    if not cal.camera:
        raise bad("camera", "name the simulator camera it calibrates (e.g. 'front')")
    if cal.method not in METHODS:
        raise bad("method", f"valid: {', '.join(METHODS)}")
    for key in ("image_width_px", "image_height_px"):
        if int(getattr(cal, key)) <= 0:
            raise bad(key, "must be a positive pixel count")
    for key in ("fx_px", "fy_px"):
        if not math.isfinite(getattr(cal, key)) or getattr(cal, key) <= 0:
            raise bad(key, "must be a positive focal length [px]")
    if not (0 <= cal.cx_px <= cal.image_width_px and 0 <= cal.cy_px <= cal.image_height_px):
        raise CameraFileError(f"{where}: principal point ({cal.cx_px}, {cal.cy_px}) [px] lies outside the image")
    if len(cal.position_m) != 3 or not all(math.isfinite(p) and abs(p) < 10.0 for p in cal.position_m):
        raise bad("position_m", "must be 3 finite coordinates [m] within 10 m of the robot base")
    quat_norm = math.sqrt(sum(q * q for q in cal.quat_wxyz)) if len(cal.quat_wxyz) == 4 else 0.0
    if abs(quat_norm - 1.0) > 1e-3:
        raise bad("quat_wxyz", "must be a unit quaternion (w, x, y, z)")
    if not all(math.isfinite(d) for d in cal.distortion):
        raise bad("distortion", "must hold finite coefficients (k1, k2, p1, p2, k3, ...)")
    fovy = fovy_deg_of(cal.fy_px, cal.image_height_px)
    if not (1.0 < fovy < 179.0) or abs(cal.fovy_deg - fovy) > 1e-3:
        raise bad("fovy_deg", f"must equal 2 atan(height / (2 fy)) = {fovy:.4f} deg (within 1..179)")
    if abs(cal.aspect - cal.image_width_px / cal.image_height_px) > 1e-6:
        raise bad("aspect", f"must equal width / height = {cal.image_width_px / cal.image_height_px:.6f}")


def save_camera_file(cal: CameraCalibration, path: str | Path) -> Path:
    """Validate ``cal`` and write it to ``path`` atomically (``robot.files.write_json_atomic``); returns the path."""
    validate(cal, str(path))
    data: dict[str, Any] = {"version": CAMERA_FILE_VERSION, **dataclasses.asdict(cal)}
    for key in ("distortion", "position_m", "quat_wxyz"):
        data[key] = list(data[key])
    return write_json_atomic(data, path)


def load_camera_file(path: str | Path) -> CameraCalibration:
    """Read and validate a camera file; :class:`CameraFileError` names the file and the key at fault."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise CameraFileError(f"camera file {path} does not exist (write one with `twinarm calibrate camera`)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CameraFileError(f"camera file {path} is not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CameraFileError(f"camera file {path}: expected a JSON object, got {type(data).__name__}")
    if data.get("version") != CAMERA_FILE_VERSION:
        raise CameraFileError(f"camera file {path}: version {data.get('version')!r}, expected {CAMERA_FILE_VERSION}")
    fields = {f.name: f for f in dataclasses.fields(CameraCalibration)}
    missing = [n for n, f in fields.items() if f.default is dataclasses.MISSING and n not in data]
    unknown = sorted(set(data) - set(fields) - {"version"})
    if missing or unknown:
        raise CameraFileError(f"camera file {path}: missing keys {missing}, unknown keys {unknown}")
    values = {k: v for k, v in data.items() if k != "version"}
    try:
        for key in ("distortion", "position_m", "quat_wxyz"):
            values[key] = tuple(float(v) for v in values[key])
        for key in ("fx_px", "fy_px", "cx_px", "cy_px", "fovy_deg", "aspect", "reprojection_error_px"):
            if key in values:
                values[key] = float(values[key])
        for key in ("image_width_px", "image_height_px"):
            values[key] = int(values[key])
    except (TypeError, ValueError) as exc:
        raise CameraFileError(
            f"camera file {path}: a value has the wrong type ({exc}); the layout is in twinarm.robot.camera_file"
        ) from exc
    cal = CameraCalibration(**values)
    validate(cal, f"camera file {path}")
    return cal
