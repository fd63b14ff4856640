"""The vision half of domain randomization (:mod:`sim.randomize`): appearance written into the MjModel in place,
image noise and blur on rendered frames.

MuJoCo's renderer reads colours, lights and cameras from the model at every ``update_scene``, so writing
``geom_rgba``/``mat_rgba``, ``light_dir``/``light_diffuse`` and ``cam_pos``/``cam_quat``/``cam_fovy`` changes the
next frame without recompiling or re-uploading anything (textures are left alone: changing them needs an upload).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import mujoco
import numpy as np
from twinarm.robot.features import IMAGE_PREFIX

if TYPE_CHECKING:
    from twinarm.sim.randomize import RandomizeConfig

_FIELDS = ("geom_rgba", "mat_rgba", "light_dir", "light_diffuse", "cam_pos", "cam_quat", "cam_fovy")
_HEADLIGHT = "vis.headlight.diffuse"
_DEFAULT_RGBA = np.array([0.5, 0.5, 0.5, 1.0], dtype=np.float32)  # MJCF default: the geom shows its material


def capture(m: mujoco.MjModel) -> dict[str, np.ndarray]:
    """Pristine copies of every field :func:`draw` writes."""
    out = {f: getattr(m, f).copy() for f in _FIELDS}
    out[_HEADLIGHT] = np.array(m.vis.headlight.diffuse, dtype=np.float64)
    return out


def restore(m: mujoco.MjModel, name: str, value: np.ndarray) -> None:
    """Write a pristine copy back (model arrays and the headlight)."""
    if name == _HEADLIGHT:
        m.vis.headlight.diffuse[:] = value
    else:
        getattr(m, name)[:] = value


def _tilt(direction: np.ndarray, max_deg: float, rng: np.random.Generator) -> np.ndarray:
    """``direction`` turned by up to ``max_deg`` [deg] about a random axis perpendicular to it."""
    d = direction / max(np.linalg.norm(direction), 1e-12)
    axis = np.cross(d, rng.normal(size=3))
    axis /= max(np.linalg.norm(axis), 1e-12)
    angle = np.deg2rad(rng.uniform(0.0, max_deg))
    return d * np.cos(angle) + np.cross(axis, d) * np.sin(angle)  # Rodrigues, axis perpendicular to d


def draw(m: mujoco.MjModel, c: RandomizeConfig, rng: np.random.Generator, pristine: dict[str, np.ndarray]) -> None:
    """Write one vision draw of ``c`` into ``m`` (starting from the restored pristine values)."""
    if c.rgb_jitter:
        shows_material = (m.geom_matid >= 0) & np.all(pristine["geom_rgba"] == _DEFAULT_RGBA, axis=1)
        jitter = rng.uniform(-c.rgb_jitter, c.rgb_jitter, (m.ngeom, 3)) * ~shows_material[:, None]
        m.geom_rgba[:, :3] = np.clip(m.geom_rgba[:, :3] + jitter, 0.0, 1.0)
        m.mat_rgba[:, :3] = np.clip(m.mat_rgba[:, :3] + rng.uniform(-c.rgb_jitter, c.rgb_jitter, (m.nmat, 3)), 0, 1)
    if c.light_dir_deg:
        for i in range(m.nlight):
            m.light_dir[i] = _tilt(m.light_dir[i], c.light_dir_deg, rng)
    if c.light_scale != (1.0, 1.0):
        m.light_diffuse[:] = np.clip(m.light_diffuse * rng.uniform(*c.light_scale, (m.nlight, 1)), 0.0, 1.0)
        m.vis.headlight.diffuse[:] = np.clip(m.vis.headlight.diffuse * rng.uniform(*c.light_scale), 0.0, 1.0)
    if c.camera_pos_m:
        m.cam_pos[:] += rng.uniform(-c.camera_pos_m, c.camera_pos_m, (m.ncam, 3))
    if c.camera_rot_deg:
        for i in range(m.ncam):
            rot, quat = np.zeros(4), np.zeros(4)
            mujoco.mju_euler2Quat(rot, np.deg2rad(rng.uniform(-c.camera_rot_deg, c.camera_rot_deg, 3)), "xyz")
            mujoco.mju_mulQuat(quat, m.cam_quat[i], rot)  # a turn in the camera's own frame
            m.cam_quat[i] = quat
    if c.camera_fovy_deg:
        m.cam_fovy[:] += rng.uniform(-c.camera_fovy_deg, c.camera_fovy_deg, m.ncam)


def _blur_kernel(sigma_px: float) -> np.ndarray:
    radius = max(1, int(np.ceil(2.5 * sigma_px)))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-0.5 * (x / sigma_px) ** 2)
    return k / k.sum()


def blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Separable Gaussian blur of an (H, W, C) image, sigma [px], edges replicated; float32 out."""
    img = image.astype(np.float32)
    if sigma_px <= 0:
        return img
    k = _blur_kernel(sigma_px)
    r = len(k) // 2
    for axis in (0, 1):
        pad = [(0, 0)] * img.ndim
        pad[axis] = (r, r)
        p = np.pad(img, pad, mode="edge")
        n = img.shape[axis]
        img = sum(w * np.take(p, range(i, i + n), axis=axis) for i, w in enumerate(k))
    return img


class ImageEffects(NamedTuple):
    """One episode's frame corruption: Gaussian pixel noise of std ``noise_std`` [uint8 levels], fresh per frame,
    after a Gaussian blur of sigma ``blur_px`` [px]; zeros leave frames untouched."""

    noise_std: float = 0.0
    blur_px: float = 0.0

    def apply(self, obs: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        if not self.noise_std and not self.blur_px:
            return obs
        out = dict(obs)
        for key, value in obs.items():
            if value.ndim == 3 and value.dtype == np.uint8 and key.startswith(IMAGE_PREFIX):
                img = blur(value, self.blur_px)
                if self.noise_std:
                    img = img + rng.normal(0.0, self.noise_std, img.shape).astype(np.float32)
                out[key] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        return out
