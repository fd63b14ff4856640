"""``twinarm calibrate camera`` on MuJoCo renders of a ChArUco board from a known camera: the calibration recovers
the camera's pose (<= 5 mm, <= 1 deg) and FOV, writes a camera file the simulator then renders from; bad input
fails with typed errors naming the file or views."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.sim.camera_board_scene import (
    BOARD,
    HAND_T_GEOM,
    SIZE_HW,
    TRUE_FOVY_DEG,
    ArmBoardScene,
    BoardScene,
    geom_t_board,
    look_at,
)
from twinarm.cli.main import main
from twinarm.compose.camera_calibration import calibrate_hand_eye, calibrate_with_board, load_images
from twinarm.compose.sim_config import RealityConfig, SimConfig, sim_params_for
from twinarm.hardware.camera_calibration import invert, transform
from twinarm.hardware.errors import CameraCalibrationError
from twinarm.hardware.hand_eye import solve_eye_to_hand
from twinarm.robot.camera_file import CameraFileError, camera_calibration, load_camera_file, save_camera_file
from twinarm.robot.errors import ConfigError
from twinarm.robot.observation import fit_image
from twinarm.robot.spec import CameraSpec
from twinarm.sim.camera_alignment import optical_pose
from twinarm.sim.sim_robot import SO101_SIM, SimRobot

TRUE_CAMERA = look_at(np.array([0.55, 0.12, 0.38]), np.array([0.2, 0.0, 0.02]), roll_deg=3.0)
# The board flat on the table, printed side up, as a user would lay it at a measured spot: its frame's z points down
KNOWN_BOARD = transform(np.diag([1.0, -1.0, -1.0]), [0.15, 0.08, 0.002])
OBS_HW = (72, 128)  # a policy input wider than the 4:3 camera: fit_image crops rows
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
    cal = calibrate_with_board(images, BOARD, "flat.png", KNOWN_BOARD, "front")
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
    cal, rms_m, _ = calibrate_hand_eye(images, BOARD, poses, "front")
    pos_err, rot_err = _errors(cal.position_m, cal.quat_wxyz, views["truth"])
    print(
        f"hand-eye: position error {pos_err * 1e3:.2f} mm, rotation {rot_err:.3f} deg, chain rms {rms_m * 1e3:.2f} mm"
    )
    assert pos_err < 0.005 and rot_err < 1.0
    assert abs(cal.fovy_deg - TRUE_FOVY_DEG) < 0.5
    assert cal.method == "hand_eye"


def _calibrated_front(tmp_path: Path, truth: np.ndarray, size_wh: tuple[int, int] = (640, 480)) -> Path:
    """A camera file holding the true camera (as a perfect calibration would) for the sim's front camera."""
    import mujoco

    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, np.ascontiguousarray(truth[:3, :3]).reshape(-1))
    f = 0.5 * size_wh[1] / np.tan(np.radians(TRUE_FOVY_DEG / 2))
    intr = (f, f, size_wh[0] / 2, size_wh[1] / 2)
    cal = camera_calibration("front", "board", size_wh, intr, (0.0,) * 5, tuple(truth[:3, 3]), tuple(quat), 0.1)
    return save_camera_file(cal, tmp_path / "front.json")


def test_sim_renders_from_the_calibrated_camera_and_crops_its_aspect_like_hardware(tmp_path: Path) -> None:
    path = _calibrated_front(tmp_path, TRUE_CAMERA)
    params = sim_params_for(SO101_SIM, SimConfig(camera=str(path)), RealityConfig())
    spec = SO101_SIM.spec.with_cameras((CameraSpec("front", *OBS_HW),))  # a 16:9 input from a 4:3 camera
    with SimRobot(SO101_SIM, spec, params=params) as robot:
        m = robot.model
        assert np.allclose(optical_pose(m, robot.data, "front"), TRUE_CAMERA, atol=1e-6)
        assert m.cam_fovy[m.camera("front").id] == pytest.approx(TRUE_FOVY_DEG)
        frame = robot.get_observation()["image_front"]
        assert frame.shape == (*OBS_HW, 3)
        # the sim renders the calibrated 4:3 aspect (96 x 128) and centre-crops rows: fit_image on a 4:3 frame
        assert np.array_equal(frame, fit_image(robot.render("front", 96, 128), OBS_HW))
        # a hardware-like native 640x480 frame through fit_image shows the same picture; squashing it, or rendering
        # the observation size directly with the calibrated FOV (a wider view), does not
        native = robot.render("front", 480, 640)
        cropped = np.abs(fit_image(native, OBS_HW).astype(int) - frame).mean()
        squashed = np.abs(cv2.resize(native, OBS_HW[::-1], interpolation=cv2.INTER_AREA).astype(int) - frame).mean()
        direct = np.abs(robot.render("front", *OBS_HW).astype(int) - frame).mean()
        print(f"mean |sim - fit_image(native)| {cropped:.2f}, squashed {squashed:.2f}, direct {direct:.2f} levels")
        assert cropped < 6.0 < min(squashed, direct)


def test_too_few_board_views_and_missing_poses_are_named(views: dict, tmp_path: Path) -> None:
    images = load_images(views["folder"])
    blank = np.full_like(images["flat.png"], 90)
    few = {"flat.png": images["flat.png"], "view_00.png": images["view_00.png"], "wall.png": blank}
    with pytest.raises(CameraCalibrationError, match=r"found in 2 view\(s\).*flat.png.*>= 4 views"):
        calibrate_with_board(few, BOARD, "flat.png", KNOWN_BOARD, "front")
    with pytest.raises(CameraCalibrationError, match=r"pose image .wall.png.: the board was not found"):
        calibrate_with_board({**images, "wall.png": blank}, BOARD, "wall.png", KNOWN_BOARD, "front")
    with pytest.raises(CameraCalibrationError, match=r"images \['flat.png'\] have no arm pose"):
        poses = {n: v.t_base_hand for n, v in views["views"].items() if n != "flat.png"}
        calibrate_hand_eye(images, BOARD, poses, "front")
    one_axis = [transform(cv2.Rodrigues(np.array([0, 0, a]))[0], [0.1 * a, 0, 0]) for a in (0.1, 0.5, 0.9)]
    with pytest.raises(CameraCalibrationError, match="about at least two"):
        solve_eye_to_hand(one_axis, one_axis)
    with pytest.raises(CameraCalibrationError, match="holds no images"):
        load_images(tmp_path)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"version": 2}, "version 2, expected 1"),
        ({"fovy_deg": 60.0}, "fovy_deg=60.0 is invalid"),
        ({"quat_wxyz": [1.0, 1.0, 0.0, 0.0]}, "quat_wxyz=.* unit quaternion"),
        ({"aspect": 1.0}, "aspect=1.0 is invalid; must equal width / height"),
        ({"method": "guess"}, "method='guess' is invalid; valid: board, hand_eye"),
        ({"fx_px": "wide"}, "wrong type"),
        ({"cx_px": 9999.0}, "principal point"),
    ],
)
def test_bad_camera_files_name_the_file_and_key(tmp_path: Path, change: dict, match: str) -> None:
    path = _calibrated_front(tmp_path, TRUE_CAMERA)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, **change}))
    with pytest.raises(CameraFileError, match=match) as info:
        load_camera_file(path)
    assert str(path) in str(info.value)


def test_unreadable_camera_files_and_wrong_cameras_fail_typed(tmp_path: Path) -> None:
    with pytest.raises(CameraFileError, match="does not exist"):
        load_camera_file(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(CameraFileError, match=r"bad\.json is not readable JSON"):
        load_camera_file(tmp_path / "bad.json")
    path = _calibrated_front(tmp_path, TRUE_CAMERA)
    data = json.loads(path.read_text())
    del data["position_m"]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(CameraFileError, match=r"short.json: missing keys \['position_m'\]"):
        load_camera_file(tmp_path / "short.json")
    with pytest.raises(ConfigError, match=r"sim\.params=xml"):
        sim_params_for(SO101_SIM, SimConfig(params="xml", camera=str(path)), RealityConfig())
    for camera, match in (("wrist", "rides on body"), ("side", r"no such camera; fixed cameras: \['front'\]")):
        (tmp_path / "c.json").write_text(json.dumps({**json.loads(path.read_text()), "camera": camera}))
        params = sim_params_for(SO101_SIM, SimConfig(camera=str(tmp_path / "c.json")), RealityConfig())
        with pytest.raises(CameraFileError, match=match), SimRobot(SO101_SIM, params=params):
            pass


def test_cli_calibrate_camera_writes_a_camera_file(views: dict, tmp_path: Path) -> None:
    out = tmp_path / "front.json"
    x, y, z = KNOWN_BOARD[:3, 3]
    argv = ["calibrate", "camera", f"images={views['folder']}", "pose_image=flat.png", f"out={out}"]
    assert main([*argv, f"board_xyz_m=[{x},{y},{z}]", "board_yaw_deg=0"]) == 0
    cal = load_camera_file(out)
    assert np.linalg.norm(np.asarray(cal.position_m) - views["truth"][:3, 3]) < 0.005
    assert main(["calibrate", "camera", f"images={tmp_path}", "pose_image=x.png", f"out={out}"]) == 1  # no images


ARM_CAMERA = look_at(np.array([0.6, 0.3, 0.45]), np.array([0.15, 0.0, 0.12]), roll_deg=-2.0)


def test_cli_hand_eye_with_the_board_in_the_so101_gripper(tmp_path: Path) -> None:
    """Photos of the board clamped in the simulated arm's gripper plus the joint positions of each: forward
    kinematics of the model and the hand-eye solver find the front camera (the end-to-end hand_eye path)."""
    scene = ArmBoardScene(tmp_path, ARM_CAMERA, TRUE_FOVY_DEG)
    names = SO101_SIM.spec.joint_names
    lo, hi = (np.array([scene.model.joint(n).range[i] for n in names]) for i in (0, 1))
    rng = np.random.default_rng(1)
    images, poses = tmp_path / "images", {}
    images.mkdir()
    try:
        while len(poses) < 16:  # arm poses that turn the print towards the camera; the gripper stays closed
            q = np.clip(rng.uniform(lo, hi) * np.array([0.5, 0.6, 0.6, 0.8, 0.8, 0.0]), lo, hi)
            if scene.faces_camera(q):
                name = f"arm_{len(poses):02d}.png"
                cv2.imwrite(str(images / name), cv2.cvtColor(scene.render(q), cv2.COLOR_RGB2BGR))
                poses[name] = q.tolist()
    finally:
        scene.close()
    (tmp_path / "poses.json").write_text(json.dumps(poses))
    out = tmp_path / "front.json"
    argv = [f"images={images}", f"poses={tmp_path / 'poses.json'}", f"out={out}", "board.squares_x=5"]
    argv += ["board.squares_y=4", "board.square_m=0.03", "board.marker_m=0.022", "method=hand_eye"]
    assert main(["calibrate", "camera", *argv]) == 0
    cal = load_camera_file(out)
    pos_err, rot_err = _errors(cal.position_m, cal.quat_wxyz, ARM_CAMERA)
    print(f"hand-eye on the SO-101: position error {pos_err * 1e3:.2f} mm, rotation {rot_err:.3f} deg")
    assert pos_err < 0.005 and rot_err < 1.0
    assert abs(cal.fovy_deg - TRUE_FOVY_DEG) < 0.5


def test_randomization_jitters_the_camera_around_its_calibrated_pose(tmp_path: Path) -> None:
    from twinarm.sim.envs import TaskEnv

    params = sim_params_for(SO101_SIM, SimConfig(camera=str(_calibrated_front(tmp_path, TRUE_CAMERA))), RealityConfig())
    env = TaskEnv("reach", cameras=("front",), sim_params=params, randomize="full")
    try:
        for seed in range(3):
            env.reset(seed=seed)
            m = env.robot.model
            cam = m.camera("front").id
            assert np.abs(m.cam_pos[cam] - TRUE_CAMERA[:3, 3]).max() <= 0.025 + 1e-9  # the full preset's +-2.5 cm
            assert abs(m.cam_fovy[cam] - TRUE_FOVY_DEG) <= 2.0 + 1e-9
    finally:
        env.close()


def test_emulated_hardware_camera_crops_the_calibrated_aspect_like_the_sim_robot(tmp_path: Path) -> None:
    from twinarm.compose.sim_motion import SimCamera, SimMotion

    params = sim_params_for(SO101_SIM, SimConfig(camera=str(_calibrated_front(tmp_path, TRUE_CAMERA))), RealityConfig())
    spec = SO101_SIM.spec.with_cameras((CameraSpec("front", *OBS_HW),))
    with SimRobot(SO101_SIM, spec, params=params) as robot:
        camera = SimCamera(SimMotion(robot), "front", *OBS_HW)
        camera.connect()
        try:
            frame = camera.read().image
        finally:
            camera.disconnect()
        assert np.array_equal(frame, robot.get_observation()["image_front"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["method=guess", "images=x"], "method='guess'; valid: board, hand_eye"),
        (["method=board", "images=x"], "method=board needs pose_image=NAME"),
        (["method=hand_eye", "images=x"], "method=hand_eye needs poses=FILE"),
        (["pose_image=a.png"], "images=DIR is required"),
    ],
)
def test_cli_calibrate_camera_names_missing_keys(argv: list[str], message: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["calibrate", "camera", *argv]) == 1
    assert message in capsys.readouterr().err
