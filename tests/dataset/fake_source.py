"""A deterministic fake robot source for dataset tests: smooth joint values and moving-pattern images."""

from __future__ import annotations

import numpy as np

from twinarm.robot.spec import CameraSpec, JointSpec, RobotSpec

SPEC = RobotSpec(
    name="fake2cam",
    joints=tuple(JointSpec(f"j{i}", -3.0, 3.0, 5.0) for i in range(3)),
    cameras=(CameraSpec("front", 48, 64), CameraSpec("wrist", 32, 32)),
    control_hz=30.0,
)


def image(frame: int, height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth pattern: a horizontal gradient shifted by the frame number plus a per-seed colour offset."""
    x = np.arange(width)[None, :]
    y = np.arange(height)[:, None]
    img = np.empty((height, width, 3), np.uint8)
    img[..., 0] = ((x * 4 + frame * 3) % 256).astype(np.uint8)
    img[..., 1] = ((y * 4 + seed * 40) % 256).astype(np.uint8)
    img[..., 2] = (frame * 7 + seed * 13) % 256
    return img


def frame(episode: int, i: int, spec: RobotSpec = SPEC) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Observation and action of frame ``i`` of ``episode``."""
    n = spec.num_joints
    t = i / 30.0 + episode
    pos = np.sin(t + np.arange(n)).astype(np.float32)
    obs = {"joint_pos": pos, "joint_vel": np.cos(t + np.arange(n)).astype(np.float32)}
    for c in spec.cameras:
        obs[f"image_{c.name}"] = image(i + 10 * episode, c.height, c.width, seed=len(c.name))
    return obs, (pos + 0.01 * episode).astype(np.float32)
