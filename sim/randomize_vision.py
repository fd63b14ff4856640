"""The vision half of domain randomization (:mod:`sim.randomize`): appearance written into the MjModel in place,
image noise and blur on rendered frames.

MuJoCo's renderer reads colours, lights and cameras from the model at every ``update_scene``, so writing
``geom_rgba``/``mat_rgba``, ``light_dir``/``light_diffuse`` and ``cam_pos``/``cam_quat``/``cam_fovy`` changes the
next frame without recompiling or re-uploading anything (texture images are left alone: changing them needs an
upload; the texture repeat of every material, the table's checker pattern, is scaled instead). Every range is split
into a training half and a held-out half (:mod:`sim.held_out`): randomization draws from the first
(``held_out=False``), a hidden reality's appearance from the second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import mujoco
import numpy as np

from twinarm.robot.features import IMAGE_PREFIX
from twinarm.sim.held_out import draw_in, draw_signed

if TYPE_CHECKING:
    from twinarm.sim.randomize_config import RandomizeConfig

_FIELDS = ("geom_rgba", "mat_rgba", "mat_texrepeat", "light_dir", "light_diffuse", "cam_pos", "cam_quat", "cam_fovy")
#: A camera on a moving body (the wrist camera in its printed mount) shifts by this fraction of ``camera_pos_m``:
#: +-5 mm of +-2.5 cm (the full range puts the wrist camera inside the gripper's own geometry: black frames).
MOUNTED_CAMERA_POS_FRACTION = 0.2
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


def _tilt(direction: np.ndarray, angle_deg: float, rng: np.random.Generator) -> np.ndarray:
    """``direction`` turned by ``angle_deg`` [deg] about a random axis perpendicular to it."""
    d = direction / max(np.linalg.norm(direction), 1e-12)
    axis = np.cross(d, rng.normal(size=3))
    axis /= max(np.linalg.norm(axis), 1e-12)
    angle = np.deg2rad(angle_deg)
    return d * np.cos(angle) + np.cross(axis, d) * np.sin(angle)  # Rodrigues, axis perpendicular to d


def _shift_colours(rgb: np.ndarray, jitter: float, held_out: bool, rng: np.random.Generator) -> np.ndarray:
    """``rgb`` (k, 3) in [0, 1] shifted per channel by a partitioned draw of +-``jitter`` (<= 0.5); a shift that
    would leave [0, 1] goes the other way, so no clipping moves a value into the other half."""
    shift = draw_signed(rng, jitter, held_out, rgb.shape)
    outside = (rgb + shift < 0.0) | (rgb + shift > 1.0)
    return np.clip(rgb + np.where(outside, -shift, shift), 0.0, 1.0)


def draw(
    m: mujoco.MjModel,
    c: RandomizeConfig,
    rng: np.random.Generator,
    pristine: dict[str, np.ndarray],
    held_out: bool = False,
) -> None:
    """Write one vision draw of ``c`` into ``m`` (starting from the restored pristine values), from the training
    half of every range, or from the held-out half (``held_out``: a hidden reality's appearance)."""
    if c.rgb_jitter:
        shows_material = (m.geom_matid >= 0) & np.all(pristine["geom_rgba"] == _DEFAULT_RGBA, axis=1)
        own = np.flatnonzero(~shows_material)
        m.geom_rgba[own, :3] = _shift_colours(m.geom_rgba[own, :3], c.rgb_jitter, held_out, rng)
        m.mat_rgba[:, :3] = _shift_colours(m.mat_rgba[:, :3], c.rgb_jitter, held_out, rng)
    if c.texture_scale_log2:  # one factor for every material: a finer or coarser pattern, 2 ** +-x
        m.mat_texrepeat[:] *= 2.0 ** draw_signed(rng, c.texture_scale_log2, held_out)
    if c.light_dir_deg:
        for i in range(m.nlight):
            m.light_dir[i] = _tilt(m.light_dir[i], draw_in(rng, 0.0, c.light_dir_deg, held_out), rng)
    if c.light_scale != (1.0, 1.0):
        scale = draw_in(rng, *c.light_scale, held_out, (m.nlight, 1))
        m.light_diffuse[:] = np.clip(m.light_diffuse * scale, 0.0, 1.0)
        m.vis.headlight.diffuse[:] = np.clip(m.vis.headlight.diffuse * draw_in(rng, *c.light_scale, held_out), 0, 1)
    if c.camera_pos_m:
        mounted = np.where(m.cam_bodyid > 0, MOUNTED_CAMERA_POS_FRACTION, 1.0)[:, None]
        m.cam_pos[:] += mounted * draw_signed(rng, c.camera_pos_m, held_out, (m.ncam, 3))
    if c.camera_rot_deg:
        for i in range(m.ncam):
            rot, quat = np.zeros(4), np.zeros(4)
            mujoco.mju_euler2Quat(rot, np.deg2rad(draw_signed(rng, c.camera_rot_deg, held_out, 3)), "xyz")
            mujoco.mju_mulQuat(quat, m.cam_quat[i], rot)  # a turn in the camera's own frame
            m.cam_quat[i] = quat
    if c.camera_fovy_deg:
        m.cam_fovy[:] += draw_signed(rng, c.camera_fovy_deg, held_out, m.ncam)


def _blur_kernel(sigma_px: float) -> np.ndarray:
    radius = max(1, int(np.ceil(2.0 * sigma_px)))  # +-2 sigma holds 95 % of the weight
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-0.5 * (x / sigma_px) ** 2)
    return k / k.sum()


def blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Separable Gaussian blur of an (H, W, C) image, sigma [px], edges replicated; a new float32 array."""
    img = image.astype(np.float32)
    if sigma_px <= 0:
        return img
    k = _blur_kernel(sigma_px)
    r = len(k) // 2
    h, w = img.shape[:2]
    p = np.pad(img, ((r, r), (0, 0), (0, 0)), mode="edge")
    img = k[0] * p[:h]
    for i in range(1, len(k)):
        img += k[i] * p[i : i + h]
    p = np.pad(img, ((0, 0), (r, r), (0, 0)), mode="edge")
    img = k[0] * p[:, :w]
    for i in range(1, len(k)):
        img += k[i] * p[:, i : i + w]
    return img


NOISE_POOL_PX = 256  # side of the per-episode noise pool: frames up to this size crop it at random offsets


class ImageEffects(NamedTuple):
    """One episode's frame corruption: a Gaussian blur of sigma ``blur_px`` [px], then Gaussian pixel noise of std
    ``noise_std`` [uint8 levels], new for every frame: a random crop of ``pool`` (drawn once per episode with
    :meth:`drawn`, far cheaper than fresh normals per frame) or fresh normals for larger frames. Zeros: untouched."""

    noise_std: float = 0.0
    blur_px: float = 0.0
    pool: np.ndarray | None = None

    @classmethod
    def drawn(cls, noise_std: float, blur_px: float, rng: np.random.Generator) -> ImageEffects:
        n = NOISE_POOL_PX
        pool = np.float32(noise_std) * rng.standard_normal((n, n, 3), dtype=np.float32) if noise_std else None
        return cls(noise_std, blur_px, pool)

    def _noise(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        p = self.pool
        if p is None or shape[0] > p.shape[0] or shape[1] > p.shape[1] or shape[2:] != p.shape[2:]:
            return np.float32(self.noise_std) * rng.standard_normal(shape, dtype=np.float32)
        y, x = rng.integers(0, p.shape[0] - shape[0] + 1), rng.integers(0, p.shape[1] - shape[1] + 1)
        return p[y : y + shape[0], x : x + shape[1]]

    def apply(self, obs: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``obs`` with every camera frame (uint8 ``image_*`` arrays) corrupted; other entries as they are."""
        if not self.noise_std and not self.blur_px:
            return obs
        out = dict(obs)
        for key, value in obs.items():
            if value.ndim == 3 and value.dtype == np.uint8 and key.startswith(IMAGE_PREFIX):
                img = blur(value, self.blur_px)
                if self.noise_std:
                    img += self._noise(img.shape, rng)
                out[key] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
        return out
