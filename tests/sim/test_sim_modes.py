from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.robot.errors import ConfigError
from twinarm.sim.envs import ENV_IDS

TASKS = sorted(ENV_IDS)


@pytest.mark.parametrize("task", TASKS)
def test_privileged_mode_observes_the_task_state_and_passes_check_env(task: str) -> None:
    env = gym.make(ENV_IDS[task], obs_mode="privileged")
    try:
        check_env(env.unwrapped, skip_render_check=True)
        obs, info = env.reset(seed=4)
        assert env.unwrapped.robot._renderer is None  # no camera is rendered
        assert set(obs) == {"joint_pos", "joint_vel", *info["privileged"]}
        for _ in range(2):
            obs, _, _, _, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs)
            for key, value in info["privileged"].items():
                np.testing.assert_array_equal(obs[key], np.asarray(value, np.float32).reshape(-1))
    finally:
        env.close()


@pytest.mark.parametrize("task", TASKS)
def test_state_mode_observes_joints_only(task: str) -> None:
    env = gym.make(ENV_IDS[task], obs_mode="state")
    try:
        obs, _ = env.reset(seed=0)
        assert set(obs) == set(env.observation_space.spaces) == {"joint_pos", "joint_vel"}
    finally:
        env.close()


@pytest.mark.parametrize("mode", ["rgb", "state", "privileged"])
def test_observation_keys_have_no_dots(mode: str) -> None:
    cameras = {"cameras": ("front", "wrist"), "image_size": (8, 8)} if mode == "rgb" else {}
    env = gym.make(ENV_IDS["place"], obs_mode=mode, **cameras)
    try:
        obs, _ = env.reset(seed=0)
        assert obs and not [k for k in obs if "." in k]
        if mode == "rgb":
            assert {"image_front", "image_wrist"} <= set(obs)
    finally:
        env.close()


def test_sparse_reward_is_the_success_test_on_the_same_trajectory() -> None:
    dense = gym.make(ENV_IDS["reach_pose"], reward_mode="dense", obs_mode="privileged")
    sparse = gym.make(ENV_IDS["reach_pose"], reward_mode="sparse", obs_mode="privileged")
    try:
        obs_d, _ = dense.reset(seed=2)
        obs_s, _ = sparse.reset(seed=2)
        successes = 0
        for _ in range(40):  # command the target pose: the hand gets there within the episode
            out_d = dense.step(obs_d["target_pose"])
            out_s = sparse.step(obs_s["target_pose"])
            obs_d, obs_s = out_d[0], out_s[0]
            np.testing.assert_array_equal(obs_d["joint_pos"], obs_s["joint_pos"])
            success = out_d[4]["is_success"]
            assert out_s[1] == (1.0 if success else 0.0)
            assert out_d[1] < 0.0  # dense: minus the pose error
            successes += success
        assert successes > 0
    finally:
        dense.close()
        sparse.close()


def test_invalid_modes_and_cameras_without_images_are_refused() -> None:
    with pytest.raises(ConfigError, match="'rgb', 'state', 'privileged'"):
        gym.make(ENV_IDS["lift"], obs_mode="pixels")
    with pytest.raises(ConfigError, match="'dense', 'sparse'"):
        gym.make(ENV_IDS["lift"], reward_mode="shaped")
    with pytest.raises(ConfigError, match="obs_mode='rgb'"):
        gym.make(ENV_IDS["lift"], obs_mode="state", cameras=("front",))
