"""A hidden reality's look (sim.reality.RealityLook) comes from the held-out half of every appearance range, which
domain randomization never samples (sim.held_out); the same seed shows the same look."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from twinarm.compose.sim_config import RealityConfig, reality_env_kwargs
from twinarm.sim.envs import TaskEnv
from twinarm.sim.held_out import BINS, draw_in, draw_signed, is_held_out, is_held_out_signed
from twinarm.sim.randomize import FULL
from twinarm.sim.randomize_vision import MOUNTED_CAMERA_POS_FRACTION
from twinarm.sim.reality import LOOK_RANGES


@pytest.mark.parametrize("held_out", [False, True])
def test_partitioned_draws_stay_in_their_half(held_out: bool) -> None:
    rng = np.random.default_rng(0)
    x = draw_in(rng, 0.6, 1.4, held_out, 2000)
    assert np.all((x >= 0.6) & (x <= 1.4))
    assert np.all(is_held_out(x, 0.6, 1.4) == held_out)
    y = draw_signed(rng, 0.025, held_out, 2000)
    assert np.all(np.abs(y) <= 0.025) and np.any(y < 0) and np.any(y > 0)
    assert np.all(is_held_out_signed(y, 0.025) == held_out)
    bins = set(np.floor((x - 0.6) / 0.8 * BINS).astype(int).tolist())
    assert bins == ({3, 5} if held_out else {0, 2, 4, 6})  # every bin of its half, none of the other


def _env(**kwargs) -> TaskEnv:
    env = TaskEnv("lift", cameras=(), obs_mode="state", **kwargs)
    env.reset(seed=0)
    return env


def _euler_xyz_deg(q_from: np.ndarray, q_to: np.ndarray) -> np.ndarray:
    """Intrinsic x-y-z angles [deg] of the turn from ``q_from`` to ``q_to`` in ``q_from``'s frame (R = Rx Ry Rz)."""
    inv, rel, r = np.zeros(4), np.zeros(4), np.zeros(9)
    mujoco.mju_negQuat(inv, q_from)
    mujoco.mju_mulQuat(rel, inv, q_to)
    mujoco.mju_quat2Mat(r, rel)
    r = r.reshape(3, 3)
    return np.degrees(
        [np.arctan2(-r[1, 2], r[2, 2]), np.arcsin(np.clip(r[0, 2], -1, 1)), np.arctan2(-r[0, 1], r[0, 0])]
    )


def _shifts(m: mujoco.MjModel, nominal: mujoco.MjModel) -> dict[str, np.ndarray]:
    """Each appearance change against the nominal model, as a fraction of its range's half-width (or scale)."""
    mounted = np.where(nominal.cam_bodyid > 0, MOUNTED_CAMERA_POS_FRACTION, 1.0)[:, None]
    tilt = np.degrees(np.arccos(np.clip(np.sum(m.light_dir * nominal.light_dir, axis=1), -1, 1)))
    own = np.flatnonzero(np.any(m.geom_rgba[:, :3] != nominal.geom_rgba[:, :3], axis=1))
    return {
        "camera_pos": ((m.cam_pos - nominal.cam_pos) / mounted).ravel(),
        "camera_rot": np.concatenate([_euler_xyz_deg(a, b) for a, b in zip(nominal.cam_quat, m.cam_quat)]),
        "fovy": m.cam_fovy - nominal.cam_fovy,
        "light_tilt": tilt,
        "light_scale": (m.light_diffuse / nominal.light_diffuse)[:, 0],
        "geom_rgb": (m.geom_rgba[own, :3] - nominal.geom_rgba[own, :3]).ravel(),
        "mat_rgb": (m.mat_rgba[:, :3] - nominal.mat_rgba[:, :3]).ravel(),
        "texture_log2": np.log2(m.mat_texrepeat / nominal.mat_texrepeat).ravel(),
    }


def _held_out(shifts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    c = LOOK_RANGES
    return {
        "camera_pos": is_held_out_signed(shifts["camera_pos"], c.camera_pos_m),
        "camera_rot": is_held_out_signed(shifts["camera_rot"], c.camera_rot_deg),
        "fovy": is_held_out_signed(shifts["fovy"], c.camera_fovy_deg),
        "light_tilt": is_held_out(shifts["light_tilt"], 0.0, c.light_dir_deg),
        "light_scale": is_held_out(shifts["light_scale"], *c.light_scale),
        "geom_rgb": is_held_out_signed(shifts["geom_rgb"], c.rgb_jitter),
        "mat_rgb": is_held_out_signed(shifts["mat_rgb"], c.rgb_jitter),
        "texture_log2": is_held_out_signed(shifts["texture_log2"], c.texture_scale_log2),
    }


def test_reality_looks_are_never_randomization_draws() -> None:
    nominal_env = _env()
    nominal = nominal_env.robot.model
    names = ("camera_pos_m", "camera_rot_deg", "camera_fovy_deg", "light_dir_deg", "rgb_jitter", "texture_scale_log2")
    for name in names:
        assert getattr(LOOK_RANGES, name) == getattr(FULL, name)  # the same ranges, the other half
    randomized = _env(randomize="full")
    texture_factors = []
    try:
        for seed in range(8):
            randomized.reset(seed=seed)
            for name, inside in _held_out(_shifts(randomized.robot.model, nominal)).items():
                assert not inside.any(), f"randomization seed {seed}: {name} in the held-out half"
            texture = randomized.robot.model.mat_texrepeat / nominal.mat_texrepeat
            assert np.ptp(texture) < 1e-9 and np.all((texture >= 0.5 - 1e-9) & (texture <= 2.0 + 1e-9))  # one factor
            texture_factors.append(float(texture.flat[0]))
        assert np.ptp(texture_factors) > 0.3  # randomization does vary the table's pattern
        for seed in range(8):
            look = _env(appearance=seed)
            try:
                for name, inside in _held_out(_shifts(look.robot.model, nominal)).items():
                    assert inside.all(), f"reality {seed}: {name} outside the held-out half"
                ratio = look.robot.model.mat_texrepeat / nominal.mat_texrepeat
                assert np.all((ratio <= 2 ** (-3 / 7) + 1e-9) | (ratio >= 2 ** (3 / 7) - 1e-9))  # a visibly other table
            finally:
                look.close()
    finally:
        randomized.close()
        nominal_env.close()


def _blocks(image: np.ndarray) -> np.ndarray:
    """Mean colour of 8x8-pixel blocks: the scene without the per-frame image noise."""
    h, w, _ = image.shape
    return image.reshape(h // 8, 8, w // 8, 8, 3).mean(axis=(1, 3))


def test_same_seed_same_look_and_it_reaches_the_frames() -> None:
    frames = []
    for appearance in (3, 3, 4, None):
        env = TaskEnv("lift", cameras=("front",), image_size=(32, 32), appearance=appearance)
        try:
            obs, _ = env.reset(seed=1)
            env.reset(seed=2)  # resets keep the look
            obs2, _ = env.reset(seed=1)
            frames.append((_blocks(obs["image_front"]), _blocks(obs2["image_front"])))
        finally:
            env.close()
    (a, a2), (b, _), (c, _), (nominal, _) = frames
    assert np.abs(a - a2).max() < 2.0  # same scene again: only fresh image noise differs
    assert np.abs(a - b).max() < 2.0  # same reality, another env
    assert np.abs(a - c).mean() > 2.0 and np.abs(a - nominal).mean() > 2.0


def test_reality_seed_selects_the_look_on_the_command_line() -> None:
    assert reality_env_kwargs(RealityConfig()) == {}
    assert reality_env_kwargs(RealityConfig(seed=7)) == {"appearance": 7}
