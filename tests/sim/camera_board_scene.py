"""A MuJoCo scene for camera-calibration tests: a printed ChArUco board on a mocap "hand" (the gripper stand-in),
a table and a camera at a known pose; renders the views a calibration would take."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import cv2
import mujoco
import numpy as np

from twinarm.hardware.camera_calibration import BoardSpec, board_image, invert, transform
from twinarm.sim.camera_alignment import optical_pose
from twinarm.sim.render import CameraRenderer

BOARD = BoardSpec()  # 7 x 5 squares of 30 mm, 22 mm markers
SIZE_HW = (480, 640)
TRUE_FOVY_DEG = 50.0
BOARD_THICK_M = 0.001  # half-thickness of the board box; the texture lies on its +z face
# the board on the hand: offset and a turn, as a board clamped in a gripper would be
HAND_T_GEOM = transform(cv2.Rodrigues(np.array([0.3, -0.2, 0.5]))[0], [0.02, -0.01, 0.05])


class View(NamedTuple):
    image: np.ndarray
    t_base_hand: np.ndarray  # the hand (gripper) pose of the view, 4x4 [m]
    t_base_board: np.ndarray  # where the board frame truly is, 4x4 [m]


def geom_t_board(spec: BoardSpec) -> np.ndarray:
    """The ChArUco board frame in the board geom's frame: MuJoCo maps image rows to -y, the print on the +z face."""
    w, h = spec.size_m()
    return transform(np.diag([1.0, -1.0, -1.0]), [-w / 2, h / 2, BOARD_THICK_M])


def look_at(eye: np.ndarray, target: np.ndarray, roll_deg: float = 0.0) -> np.ndarray:
    """``T_base_cam`` (optical frame) of a camera at ``eye`` looking at ``target``, rolled about the view axis."""
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    rot = np.column_stack([x, np.cross(z, x), z]) @ cv2.Rodrigues(np.array([0, 0, np.radians(roll_deg)]))[0]
    return transform(rot, eye)


class BoardScene:
    """The scene, its camera placed at ``t_base_cam`` with ``fovy_deg``; :meth:`render` poses the hand and renders."""

    def __init__(self, folder: Path, t_base_cam: np.ndarray, fovy_deg: float, spec: BoardSpec = BOARD) -> None:
        self.spec = spec
        cv2.imwrite(str(folder / "board.png"), board_image(spec, 80))
        w, h = spec.size_m()
        xml = f"""<mujoco><compiler texturedir="{folder}"/>
        <visual><global offwidth="{SIZE_HW[1]}" offheight="{SIZE_HW[0]}"/><quality shadowsize="0"/>
          <headlight ambient="0.7 0.7 0.7" diffuse="0.3 0.3 0.3" specular="0 0 0"/></visual>
        <asset><texture name="board" type="2d" file="board.png"/>
          <material name="board" texture="board" texrepeat="1 1" specular="0" shininess="0" reflectance="0"/></asset>
        <worldbody><geom type="plane" size="1 1 0.01" rgba="0.45 0.4 0.35 1"/><camera name="cam"/>
          <body name="hand" mocap="true"><body name="board">
            <geom name="board" type="box" size="{w / 2} {h / 2} {BOARD_THICK_M}" material="board" contype="0"
                  conaffinity="0"/>
            <geom type="box" size="{w / 2 + 0.01} {h / 2 + 0.01} {BOARD_THICK_M * 0.9}" pos="0 0 -0.0002"
                  rgba="1 1 1 1" contype="0" conaffinity="0"/></body></body>
        </worldbody></mujoco>"""
        self.model = mujoco.MjModel.from_xml_string(xml)
        m = self.model
        m.body_pos[m.body("board").id] = HAND_T_GEOM[:3, 3]
        mujoco.mju_mat2Quat(m.body_quat[m.body("board").id], HAND_T_GEOM[:3, :3].reshape(-1))
        cam = m.camera("cam").id
        m.cam_pos[cam] = t_base_cam[:3, 3]
        mujoco.mju_mat2Quat(m.cam_quat[cam], (t_base_cam[:3, :3] @ np.diag([1.0, -1.0, -1.0])).reshape(-1))
        m.cam_fovy[cam] = fovy_deg
        self.data = mujoco.MjData(m)
        self.renderer = CameraRenderer(m, {"cam": SIZE_HW})
        mujoco.mj_forward(m, self.data)
        self.t_base_cam = optical_pose(m, self.data, "cam")

    def render(self, t_base_hand: np.ndarray) -> View:
        m, d = self.model, self.data
        d.mocap_pos[0] = t_base_hand[:3, 3]
        mujoco.mju_mat2Quat(d.mocap_quat[0], np.ascontiguousarray(t_base_hand[:3, :3]).reshape(-1))
        mujoco.mj_forward(m, d)
        g = m.geom("board").id
        t_geom = transform(d.geom_xmat[g].reshape(3, 3), d.geom_xpos[g])
        return View(self.renderer.render(d, "cam").copy(), t_base_hand.copy(), t_geom @ geom_t_board(self.spec))

    def hand_for_board_in_camera(self, t_cam_board: np.ndarray) -> np.ndarray:
        """The hand pose that puts the board frame at ``t_cam_board`` in the camera's optical frame."""
        return self.t_base_cam @ t_cam_board @ invert(HAND_T_GEOM @ geom_t_board(self.spec))

    def close(self) -> None:
        self.renderer.close()


ARM_BOARD = BoardSpec(5, 4, 0.03, 0.022)  # a small board the gripper can hold
ARM_MOUNT_POS = (0.0, -0.08, -0.08)  # the board's centre in the gripper body frame [m], clear of the jaws


class ArmBoardScene:
    """The SO-101 scene with a board clamped to its gripper body (turned to face away from the jaws) and the
    ``front`` camera at ``t_base_cam`` with ``fovy_deg``: the hand-eye setting, rendered from joint positions."""

    def __init__(self, folder: Path, t_base_cam: np.ndarray, fovy_deg: float) -> None:
        from twinarm.sim.sim_robot import SO101_SIM

        png = folder / "arm_board.png"
        cv2.imwrite(str(png), board_image(ARM_BOARD, 80))
        w, h = ARM_BOARD.size_m()
        spec = mujoco.MjSpec.from_file(str(SO101_SIM.xml))
        tex = spec.add_texture()
        tex.name, tex.type, tex.file = "arm_board", mujoco.mjtTexture.mjTEXTURE_2D, str(png)
        mat = spec.add_material()
        mat.name = "arm_board"
        mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "arm_board"
        mount = spec.body("gripper").add_body()
        mount.name, mount.pos, mount.quat = "board_mount", list(ARM_MOUNT_POS), [0.0, 1.0, 0.0, 0.0]
        backing = (w / 2 + 0.008, h / 2 + 0.008)  # a white margin around the print
        for name, half, z, rgba in (("board", (w / 2, h / 2), 0.0, None), ("backing", backing, -2e-4, [1, 1, 1, 1])):
            geom = mount.add_geom()
            geom.name, geom.type, geom.size, geom.pos = (
                name,
                mujoco.mjtGeom.mjGEOM_BOX,
                [*half, BOARD_THICK_M],
                [0, 0, z],
            )
            geom.contype = geom.conaffinity = 0
            if rgba is None:
                geom.material = "arm_board"
            else:
                geom.rgba = rgba
        self.model = m = spec.compile()
        cam = m.camera("front").id
        m.cam_pos[cam] = t_base_cam[:3, 3]
        mujoco.mju_mat2Quat(m.cam_quat[cam], (t_base_cam[:3, :3] @ np.diag([1.0, -1.0, -1.0])).reshape(-1))
        m.cam_fovy[cam] = fovy_deg
        self.data = mujoco.MjData(m)
        self.renderer = CameraRenderer(m, {"front": SIZE_HW})
        self.adr = [m.joint(n).qposadr[0] for n in SO101_SIM.spec.joint_names]
        self.t_base_cam = t_base_cam

    def faces_camera(self, q: np.ndarray, min_cos: float = 0.5) -> bool:
        """Whether the board's printed side turns towards the camera (and stays above the table) at ``q``."""
        m, d = self.model, self.data
        d.qpos[self.adr] = q
        mujoco.mj_kinematics(m, d)
        g = m.geom("board").id
        to_cam = self.t_base_cam[:3, 3] - d.geom_xpos[g]
        normal = d.geom_xmat[g].reshape(3, 3)[:, 2]
        return bool(normal @ to_cam / np.linalg.norm(to_cam) > min_cos and d.geom_xpos[g][2] > 0.05)

    def render(self, q: np.ndarray) -> np.ndarray:
        self.data.qpos[self.adr] = q
        mujoco.mj_forward(self.model, self.data)
        return self.renderer.render(self.data, "front").copy()

    def close(self) -> None:
        self.renderer.close()
