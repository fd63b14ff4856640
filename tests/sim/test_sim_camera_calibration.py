"""``twinarm calibrate camera`` on MuJoCo renders of a ChArUco board from a known camera: the calibration recovers
the camera's pose (<= 5 mm, <= 1 deg) and FOV, writes a camera file the simulator then renders from; bad input
fails with typed errors naming the file or views."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.sim.camera_board_scene import HAND_T_GEOM, SIZE_HW, TRUE_FOVY_DEG, BoardScene, geom_t_board, look_at
from twinarm.compose.camera_calibration import calibrate_hand_eye, calibrate_with_board, load_images
from twinarm.hardware.camera_calibration import invert, transform
from twinarm.robot.camera_file import load_camera_file, save_camera_file

TRUE_CAMERA = look_at(np.array([0.55, 0.12, 0.38]), np.array([0.2, 0.0, 0.02]), roll_deg=3.0)
# The board flat on the table, printed side up, as a user would lay it at a measured spot: its frame's z points down
KNOWN_BOARD = transform(np.diag([1.0, -1.0, -1.0]), [0.15, 0.08, 0.002])
TILTS = [(0.35, 0.0, 0.0), (-0.35, 0.1, 0.3), (0.0, 0.4, -0.2), (0.1, -0.4, 0.6), (0.3, 0.3, -0.5),
         (-0.3, -0.3, 0.1), (0.2, -0.1, 1.2), (-0.15, 0.35, -1.0)]  # fmt: skip
OFFSETS = [(0.0, 0.0, 0.40), (0.03, -0.02, 0.45), (-0.03, 0.02, 0.38), (0.02, 0.03, 0.42), (-0.02, -0.03, 0.5),
           (0.0, 0.02, 0.36), (0.01, -0.01, 0.44), (-0.01, 0.0, 0.40)]  # fmt: skip


def _angle_deg(r: np.ndarray) -> float:
    return float(np.degrees(np.linalg.norm(cv2.Rodrigues(np.ascontiguousarray(r))[0])))


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Renders of the board: tilted in front of the camera (one per TILTS entry), then flat at KNOWN_BOARD."""
    folder = tmp_path_factory.mktemp("camcal")
    scene = BoardScene(folder, TRUE_CAMERA, TRUE_FOVY_DEG)
    try:
        w, h = scene.spec.size_m()
        out = {}
        for k, (tilt, offset) in enumerate(zip(TILTS, OFFSETS)):
            rot = cv2.Rodrigues(np.array(tilt, dtype=np.float64))[0]
            t_cam_board = transform(rot, np.array(offset) - rot @ np.array([w / 2, h / 2, 0.0]))
            out[f"view_{k:02d}.png"] = scene.render(scene.hand_for_board_in_camera(t_cam_board))
        hand = KNOWN_BOARD @ invert(HAND_T_GEOM @ geom_t_board(scene.spec))
        out["flat.png"] = scene.render(hand)
        images = folder / "images"
        images.mkdir()
        for name, view in out.items():
            cv2.imwrite(str(images / name), cv2.cvtColor(view.image, cv2.COLOR_RGB2BGR))
        return {"views": out, "folder": images, "truth": scene.t_base_cam}
    finally:
        scene.close()


def _errors(cal_pos: tuple, cal_quat: tuple, truth: np.ndarray) -> tuple[float, float]:
    import mujoco

    rot = np.zeros(9)
    mujoco.mju_quat2Mat(rot, np.asarray(cal_quat))
    pos_err = float(np.linalg.norm(np.asarray(cal_pos) - truth[:3, 3]))
    return pos_err, _angle_deg(rot.reshape(3, 3).T @ truth[:3, :3])


def test_board_at_known_pose_recovers_camera_pose_and_fov(views: dict, tmp_path: Path) -> None:
    assert np.allclose(views["views"]["flat.png"].t_base_board, KNOWN_BOARD, atol=1e-9)  # the scene is what we say
    images = load_images(views["folder"])
    cal = calibrate_with_board(images, BoardSpecDefault(), "flat.png", KNOWN_BOARD, "front")
    pos_err, rot_err = _errors(cal.position_m, cal.quat_wxyz, views["truth"])
    print(f"board: position error {pos_err * 1e3:.2f} mm, rotation {rot_err:.3f} deg, fovy {cal.fovy_deg:.3f} deg")
    assert pos_err < 0.005 and rot_err < 1.0
    assert abs(cal.fovy_deg - TRUE_FOVY_DEG) < 0.5
    assert (cal.image_width_px, cal.image_height_px) == (SIZE_HW[1], SIZE_HW[0])
    assert cal.aspect == pytest.approx(640 / 480)
    path = save_camera_file(cal, tmp_path / "camera.json")
    assert load_camera_file(path) == cal


def test_board_in_gripper_hand_eye_recovers_camera_pose(views: dict) -> None:
    images = load_images(views["folder"])
    poses = {name: v.t_base_hand for name, v in views["views"].items()}
    cal, rms_m, rms_deg = calibrate_hand_eye(images, BoardSpecDefault(), poses, "front")
    pos_err, rot_err = _errors(cal.position_m, cal.quat_wxyz, views["truth"])
    print(
        f"hand-eye: position error {pos_err * 1e3:.2f} mm, rotation {rot_err:.3f} deg, chain rms {rms_m * 1e3:.2f} mm"
    )
    assert pos_err < 0.005 and rot_err < 1.0
    assert abs(cal.fovy_deg - TRUE_FOVY_DEG) < 0.5
    assert cal.method == "hand_eye"


def BoardSpecDefault():  # noqa: ANN201, N802
    from twinarm.hardware.camera_calibration import BoardSpec

    return BoardSpec()
