"""Domain randomization (sim.randomize): seeded draws, none = untouched, no drift, vision changes frames, the cube
rests on the table at any drawn size."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from twinarm.robot.errors import ConfigError
from twinarm.sim.arm_tasks import CUBE_HALF
from twinarm.sim.envs import TaskEnv
from twinarm.sim.randomize import FULL, PHYSICS, RandomizeConfig, randomize_config
from twinarm.sim.randomize_vision import blur


def snapshot(m: mujoco.MjModel) -> dict[str, np.ndarray]:
    """Every array of the model (and the headlight), copied."""
    out = {}
    for name in dir(m):
        if name.startswith("_"):
            continue
        value = getattr(m, name, None)
        if isinstance(value, np.ndarray):
            out[name] = value.copy()
    out["headlight"] = np.array(m.vis.headlight.diffuse)
    return out


def differing(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[str]:
    return sorted(k for k in a if not np.array_equal(a[k], b[k]))


@pytest.fixture
def state_env():
    envs = []

    def make(randomize="none", **kwargs) -> TaskEnv:
        env = TaskEnv("lift", cameras=(), obs_mode="state", randomize=randomize, **kwargs)
        envs.append(env)
        return env

    yield make
    for env in envs:
        env.close()


def test_none_leaves_the_model_bit_identical(state_env):
    env = state_env("none")
    env.connect()
    before = snapshot(env.robot.model)
    for seed in range(3):
        env.reset(seed=seed)
    assert differing(before, snapshot(env.robot.model)) == []
    assert not env.randomizer.active and randomize_config(None) == RandomizeConfig()


def test_same_seed_same_draw_different_seeds_differ(state_env):
    a, b = state_env("full"), state_env("full")
    a.reset(seed=7)
    b.reset(seed=7)
    first = snapshot(a.robot.model)
    assert differing(first, snapshot(b.robot.model)) == []
    assert a.randomizer.params == b.randomizer.params and a.randomizer.image[:2] == b.randomizer.image[:2]
    np.testing.assert_array_equal(a.randomizer.image.pool, b.randomizer.image.pool)
    b.reset(seed=8)
    changed = differing(first, snapshot(b.robot.model))
    for name in ("actuator_gainprm", "dof_damping", "body_quat", "geom_size", "cam_pos", "cam_fovy", "light_dir"):
        assert name in changed
    assert a.randomizer.params != b.randomizer.params


def test_no_drift_after_50_episodes(state_env):
    nominal_env = state_env("none")
    nominal_env.reset(seed=0)
    nom = snapshot(nominal_env.robot.model)
    env = state_env("full")
    env.reset(seed=123)
    first = snapshot(env.robot.model)
    m, c = env.robot.model, FULL
    cube = m.geom("cube").id
    for episode in range(50):
        env.reset(seed=1000 + episode)
        kp, kp0 = m.actuator_gainprm[:6, 0], nom["actuator_gainprm"][:6, 0]
        assert np.all((kp >= kp0 * c.kp_scale[0] - 1e-9) & (kp <= kp0 * c.kp_scale[1] + 1e-9))
        size = m.geom_size[cube] / nom["geom_size"][cube]
        assert np.all((size >= c.object_size_scale[0] - 1e-9) & (size <= c.object_size_scale[1] + 1e-9))
        assert np.all(np.abs(m.cam_pos - nom["cam_pos"]) <= c.camera_pos_m + 1e-12)
        assert np.all(np.abs(m.cam_fovy - nom["cam_fovy"]) <= c.camera_fovy_deg + 1e-9)
        for j in env.robot.spec.joint_names:  # link turned by at most the calibration error
            body = m.jnt_bodyid[m.joint(j).id]
            cos_half = abs(float(np.dot(m.body_quat[body], nom["body_quat"][body])))
            assert 2 * np.arccos(min(cos_half, 1.0)) <= c.joint_offset_rad + 1e-9
        delay = env.randomizer.params.action_delay_s - env.robot.sim_params.action_delay_s
        assert -1e-12 <= delay <= 2 * env.robot.spec.control_period_s + 1e-12
    env.reset(seed=123)  # the same draw again after 50 episodes: nothing accumulated
    assert differing(first, snapshot(env.robot.model)) == []


@pytest.mark.parametrize("scale", [0.8, 1.2])
def test_cube_of_any_drawn_size_rests_on_the_table(state_env, scale):
    env = state_env(FULL.replace(object_size_scale=(scale, scale)))
    env.reset(seed=3)
    scene = env.unwrapped._scene
    assert scene.cube_half() == pytest.approx(scale * CUBE_HALF)
    start = scene.cube_pos()
    assert start[2] == pytest.approx(scene.cube_half(), abs=1e-9)  # placed on the table at its drawn size
    m, cube = env.robot.model, env.robot.model.geom("cube").id  # collision bounds follow the size
    assert m.geom_rbound[cube] == pytest.approx(np.linalg.norm(m.geom_size[cube]))
    np.testing.assert_allclose(m.geom_aabb[cube, 3:], m.geom_size[cube])
    home = np.asarray(env.robot.sim_model.home, dtype=np.float32)
    for _ in range(15):
        env.step(home)
    end = scene.cube_pos()
    assert abs(end[2] - start[2]) < 3e-4  # neither sunk into nor dropped onto the table
    assert np.linalg.norm(end[:2] - start[:2]) < 1e-3
    assert not env.task.evaluate(scene)[1]


def test_physics_draw_goes_through_the_sim_params(state_env):
    env = state_env("physics")
    env.reset(seed=5)
    drawn, nominal = env.randomizer.params, env.robot.sim_params
    assert drawn.joints.keys() == nominal.joints.keys()
    for name, jp in drawn.joints.items():
        ratio = jp.kp / nominal.joints[name].kp
        assert PHYSICS.kp_scale[0] <= ratio <= PHYSICS.kp_scale[1]
        assert 0.0 <= jp.backlash - nominal.joints[name].backlash <= PHYSICS.backlash_rad[1]
    a = env.robot.model.actuator(next(iter(drawn.joints))).id
    assert env.robot.model.actuator_gainprm[a, 0] == drawn.joints[next(iter(drawn.joints))].kp


def test_vision_draw_changes_the_rendered_image():
    vision_only = randomize_config("none,rgb_jitter=0.1,light_dir_deg=30,camera_pos_m=0.025,camera_rot_deg=5")
    frames = []
    for randomize in ("none", vision_only):
        env = TaskEnv("lift", cameras=("front",), randomize=randomize)
        try:
            obs, _ = env.reset(seed=2)
            frames.append(obs["image_front"].astype(np.float64))
        finally:
            env.close()
    assert np.mean(np.abs(frames[0] - frames[1])) > 2.0  # levels of 255, averaged over the frame


def test_image_noise_and_blur():
    rng = np.random.default_rng(0)
    img = np.zeros((16, 16, 3), np.uint8)
    img[:, 8:] = 200
    out = blur(img, 1.0)
    assert out[0, 7, 0] > 0 and out[0, 8, 0] < 200 and out[0, 0, 0] == 0  # the edge spreads, flat areas stay
    from twinarm.sim.randomize_vision import ImageEffects

    noisy = ImageEffects.drawn(4.0, 0.0, rng)
    a = noisy.apply({"image_front": img, "joint_pos": np.zeros(6)}, rng)
    b = noisy.apply({"image_front": img}, rng)
    assert a["image_front"].dtype == np.uint8 and not np.array_equal(a["image_front"], img)
    assert not np.array_equal(a["image_front"], b["image_front"])  # new noise every frame
    assert np.std(a["image_front"][:, 8:].astype(float)) == pytest.approx(4.0, rel=0.3)
    big = np.zeros((300, 20, 3), np.uint8)  # larger than the pool: fresh noise
    assert np.std(noisy.apply({"image_front": big}, rng)["image_front"].astype(float)) > 0
    assert np.array_equal(a["joint_pos"], np.zeros(6))


def test_config_parsing_and_errors():
    cfg = randomize_config("full,kp_scale=0.7:1.3,camera_pos_m=0.01,delay_steps=1:1")
    assert cfg.kp_scale == (0.7, 1.3) and cfg.camera_pos_m == 0.01 and cfg.delay_steps == (1, 1)
    assert cfg.light_dir_deg == FULL.light_dir_deg
    with pytest.raises(ConfigError, match="valid: none, physics, full"):
        randomize_config("wild")
    with pytest.raises(ConfigError, match="unknown range 'kp'"):
        randomize_config("full,kp=2")
    with pytest.raises(ConfigError, match="LOW <= HIGH"):
        randomize_config("full,kp_scale=1.3:0.7")
    with pytest.raises(ConfigError, match="not a number"):
        randomize_config("full,camera_pos_m=far")


def test_servo_ranges_need_sim_params():
    env = TaskEnv("lift", cameras=(), obs_mode="state", sim_params="xml", randomize="physics")
    try:
        with pytest.raises(ConfigError, match="needs sim parameters"):
            env.reset(seed=0)
    finally:
        env.close()


def test_joint_offset_moves_the_links_not_the_servo_reading(state_env):
    nominal, offset = state_env("none"), state_env("none,joint_offset_rad=0.035")
    obs0, info0 = nominal.reset(seed=4)
    obs1, info1 = offset.reset(seed=4)
    np.testing.assert_array_equal(obs0["joint_pos"], obs1["joint_pos"])  # the servos read what they believe
    assert np.linalg.norm(info0["privileged"]["grasp_pos"] - info1["privileged"]["grasp_pos"]) > 1e-3
    m = nominal.robot.model

    def anchors_in_parent(env: TaskEnv) -> np.ndarray:  # each joint's anchor seen from its parent link
        d = env.robot.data
        parents = m.body_parentid[m.jnt_bodyid[: m.njnt]]
        rel = d.xanchor - d.xpos[parents]
        return np.einsum("nji,nj->ni", d.xmat[parents].reshape(-1, 3, 3), rel)

    np.testing.assert_allclose(anchors_in_parent(nominal), anchors_in_parent(offset), atol=1e-12)


def test_joint_offset_equals_turning_the_joint_about_an_off_centre_anchor():
    xml = """<mujoco><worldbody><body name="link" pos="0.1 0.2 0.3" quat="0.9 0.1 0.3 0.2">
      <joint name="j" type="hinge" pos="0.05 -0.02 0.04" axis="0.3 1 0.2"/>
      <geom type="box" size="0.1 0.02 0.02" pos="0.1 0 0"/></body></worldbody></mujoco>"""
    from twinarm.sim.randomize import Randomizer

    turned, offset = mujoco.MjModel.from_xml_string(xml), mujoco.MjModel.from_xml_string(xml)
    d_turned, d_offset = mujoco.MjData(turned), mujoco.MjData(offset)
    d_turned.qpos[0] = 0.3
    Randomizer._offset_joint(offset, 0, 0.3)
    mujoco.mj_kinematics(turned, d_turned)
    mujoco.mj_kinematics(offset, d_offset)
    np.testing.assert_allclose(d_offset.xpos, d_turned.xpos, atol=1e-12)
    np.testing.assert_allclose(d_offset.geom_xpos, d_turned.geom_xpos, atol=1e-12)
    np.testing.assert_allclose(d_offset.xmat, d_turned.xmat, atol=1e-12)
