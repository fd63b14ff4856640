"""``twinarm calibrate camera images=DIR ...``: a fixed camera's intrinsics and pose in the robot base frame from
photos of a ChArUco board; writes a camera file the simulator reads (``sim.camera=PATH``).

1. ``twinarm calibrate camera print_board=board.png`` writes the board (``board.*`` keys) to print; measure the
   printed square size and set ``board.square_m`` / ``board.marker_m`` to it [m].
2. Take 10-20 photos with the camera at its working place (same resolution), the board tilted differently in each.
   - ``method=board``: also one photo (``pose_image=NAME``) with the board flat on the table, printed side up, its
     first square's outer corner at ``board_xyz_m=[x, y, z]`` [m] in the robot base frame and its x edge turned
     ``board_yaw_deg`` [deg] from the base x axis.
   - ``method=hand_eye``: the board clamped in the gripper, the arm in a different pose for each photo (turn the
     wrist about at least two axes); ``poses=poses.json`` maps each image name to the joint positions [rad] read
     then (``{"img_00.png": [q1, ..., q6], ...}``); forward kinematics of the sim model give the gripper poses.
3. The camera file goes to ``out`` (default ``~/.cache/twinarm/cameras/<camera>.json``, or under
   ``$TWINARM_HOME``); then ``twinarm eval ... sim.camera=<that file>`` renders from the calibrated camera.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from twinarm.robot.errors import ConfigError

HELP = "calibrate a fixed camera (intrinsics + pose in the robot base frame) from ChArUco photos -> camera file"


@dataclasses.dataclass
class BoardConfig:
    squares_x: int = 7  # squares along the board's x edge
    squares_y: int = 5  # squares along its y edge
    square_m: float = 0.03  # printed square side [m]
    marker_m: float = 0.022  # printed marker side [m]
    dictionary: str = "DICT_4X4_50"  # cv2.aruco predefined dictionary


@dataclasses.dataclass
class Config:
    images: str = ""  # folder of photos (png/jpg) from the camera
    method: str = "board"  # board (a board at a known pose) | hand_eye (the board in the gripper)
    camera: str = "front"  # the simulator camera this calibrates
    out: str = ""  # camera file; empty: ~/.cache/twinarm/cameras/<camera>.json
    board: BoardConfig = dataclasses.field(default_factory=BoardConfig)
    pose_image: str = ""  # method=board: the photo with the board flat at board_xyz_m / board_yaw_deg
    board_xyz_m: list[float] = dataclasses.field(default_factory=lambda: [0.15, 0.08, 0.0])  # its corner [m]
    board_yaw_deg: float = 0.0  # method=board: its x edge from the base x axis [deg]
    poses: str = ""  # method=hand_eye: JSON {image name: joint positions [rad]}
    robot: str = "so101"  # method=hand_eye: the model whose forward kinematics give the gripper poses
    tangential_distortion: bool = False  # also fit p1, p2 (lenses mounted off-centre; needs many varied photos)
    print_board: str = ""  # write the board image here (to print) and stop

    def validate(self) -> None:
        from twinarm.compose.camera_calibration import Method

        if self.method not in [m.value for m in Method]:
            raise ConfigError(f"method={self.method!r}; valid: {', '.join(m.value for m in Method)}")
        if not self.print_board and not self.images:
            raise ConfigError("images=DIR is required (a folder of board photos), or print_board=PATH")
        if self.method == "board" and not self.print_board and not self.pose_image:
            raise ConfigError("method=board needs pose_image=NAME: the photo with the board flat at board_xyz_m")
        if self.method == "hand_eye" and not self.print_board and not self.poses:
            raise ConfigError("method=hand_eye needs poses=FILE: JSON {image name: joint positions [rad]}")
        if len(self.board_xyz_m) != 3:
            raise ConfigError(f"board_xyz_m={self.board_xyz_m}: give [x, y, z] [m] in the robot base frame")


def known_board_pose(xyz_m: list[float], yaw_deg: float) -> np.ndarray:
    """``T_base_board`` of a board lying flat, printed side up (its frame's z points down into the table)."""
    c, s = np.cos(np.radians(yaw_deg)), np.sin(np.radians(yaw_deg))
    t = np.eye(4)
    t[:3, :3] = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ np.diag([1.0, -1.0, -1.0])
    t[:3, 3] = xyz_m
    return t


def read_poses(path: str) -> dict[str, list[float]]:
    """The poses file: image name -> joint positions [rad]; CameraCalibrationError names the file."""
    from twinarm.hardware.errors import CameraCalibrationError

    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CameraCalibrationError(f"poses file {path}: not readable JSON ({exc})") from exc
    ok = isinstance(data, dict) and all(
        isinstance(q, list) and all(isinstance(v, (int, float)) for v in q) for q in data.values()
    )
    if not ok:
        raise CameraCalibrationError(f"poses file {path}: expected {{image name: [joint positions in rad]}}")
    return data


def run(cfg: Config) -> Path:
    """Calibrate from ``cfg.images`` and write the camera file; returns its path."""
    import cv2

    from twinarm.compose import camera_calibration as cc
    from twinarm.hardware.calibration_file import twinarm_home
    from twinarm.hardware.camera_calibration import BoardSpec, board_image
    from twinarm.robot.camera_file import save_camera_file

    board = BoardSpec(**dataclasses.asdict(cfg.board))
    if cfg.print_board:
        cv2.imwrite(cfg.print_board, board_image(board))
        print(f"board written to {cfg.print_board}: print it, then set board.square_m to the printed square [m]")
        return Path(cfg.print_board)
    images = cc.load_images(cfg.images)
    if cfg.method == cc.Method.BOARD.value:
        t_base_board = known_board_pose(cfg.board_xyz_m, cfg.board_yaw_deg)
        cal = cc.calibrate_with_board(
            images, board, cfg.pose_image, t_base_board, cfg.camera, cfg.tangential_distortion
        )
    else:
        from twinarm.compose.registry import get_model

        poses = read_poses(cfg.poses)
        model = get_model(cfg.robot).sim
        if model is None:
            raise ConfigError(f"robot={cfg.robot} has no sim model for the forward kinematics of method=hand_eye")
        names = sorted(poses)
        grippers = dict(zip(names, cc.gripper_poses(model, [poses[n] for n in names])))
        cal, rms_m, rms_deg = cc.calibrate_hand_eye(images, board, grippers, cfg.camera, cfg.tangential_distortion)
        print(f"hand-eye chain closes within {rms_m * 1e3:.1f} mm / {rms_deg:.2f} deg rms over the views")
    out = Path(cfg.out).expanduser() if cfg.out else twinarm_home() / "cameras" / f"{cfg.camera}.json"
    save_camera_file(cal, out)
    print(
        f"camera {cal.camera}: {cal.image_width_px}x{cal.image_height_px} px, fovy {cal.fovy_deg:.2f} deg, "
        f"reprojection error {cal.reprojection_error_px:.2f} px, position {np.round(cal.position_m, 4).tolist()} m"
    )
    print(f"camera file written to {out}; use it with sim.camera={out}")
    return out
