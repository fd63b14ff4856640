"""Amazing Hand tasks as gymnasium envs, and their scripted experts."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.robot.errors import ConfigError
from twinarm.sim.envs import HAND_ENV_IDS, TaskEnv
from twinarm.sim.experts import make_expert
from twinarm.sim.hand_scene import OBJECT_SHAPES, OBJECT_SIZES, OBJECT_XY_YAW, WRIST_HOME
from twinarm.sim.hand_tasks import LIFT_DURATION_S, LIFT_HEIGHT, LIFT_START_S

TASKS = sorted(HAND_ENV_IDS)


def test_observation_is_the_robots_and_privileged_state_is_apart() -> None:
    env = gym.make(HAND_ENV_IDS["grasp"], cameras=("side",), image_size=(24, 32))
    try:
        obs, info = env.reset(seed=0)
        assert set(obs) == {"joint_pos", "joint_vel", "image_side"}
        assert obs["joint_pos"].shape == (8,) and obs["image_side"].shape == (24, 32, 3)
        assert obs["image_side"].std() > 5  # a picture, not a blank frame
        assert {"object_pos", "object_quat", "object_shape", "object_size", "wrist_pos"} <= set(info["privileged"])
        _, _, _, _, info = env.step(np.full(8, 10.0, np.float32))
        assert (info["action_sent"] <= env.unwrapped.robot.spec.upper).all()  # safety clipping applies
    finally:
        env.close()


def test_objects_follow_the_documented_distribution_and_rest_on_the_table() -> None:
    env = TaskEnv("grasp", robot="amazing_hand")
    shapes = set()
    try:
        for seed in range(12):
            _, info = env.reset(seed=seed)
            obj = env._scene.object
            shapes.add(obj.shape)
            box = OBJECT_SIZES[obj.shape]
            assert np.all(np.array(obj.size) >= box.low) and np.all(np.array(obj.size) <= box.high)
            assert OBJECT_XY_YAW.low[0] <= obj.x <= OBJECT_XY_YAW.high[0]
            assert OBJECT_XY_YAW.low[1] <= obj.y <= OBJECT_XY_YAW.high[1]
            assert int(info["privileged"]["object_shape"]) == OBJECT_SHAPES.index(obj.shape)
            hold = env.robot.last_target
            for _ in range(5):
                _, _, _, _, info = env.step(hold)
            pos = info["privileged"]["object_pos"]
            assert pos[2] == pytest.approx(obj.half_height, abs=2e-3), obj  # resting, not sunk or bouncing
            assert np.linalg.norm(pos[:2] - (obj.x, obj.y)) < 2e-3
    finally:
        env.close()
    assert shapes == set(OBJECT_SHAPES)


def test_the_env_lifts_the_wrist_10_cm_in_1_s_and_an_open_hand_fails() -> None:
    env = gym.make(HAND_ENV_IDS["grasp"])
    hz = env.unwrapped.robot.spec.control_hz
    heights, success = [], []
    try:
        env.reset(seed=1)
        hold = env.unwrapped.robot.last_target
        done = False
        while not done:
            _, _, terminated, truncated, info = env.step(hold)
            heights.append(info["privileged"]["wrist_pos"][2])
            success.append(info["is_success"])
            done = terminated or truncated
    finally:
        env.close()
    t = np.arange(1, len(heights) + 1) / hz
    heights = np.array(heights) - WRIST_HOME[2]
    assert np.all(heights[t <= LIFT_START_S] == 0.0)
    assert np.all(heights[t >= LIFT_START_S + LIFT_DURATION_S] == pytest.approx(LIFT_HEIGHT))
    assert np.all(np.diff(heights) >= 0) and np.diff(heights).max() < 0.1 * LIFT_HEIGHT  # smooth, no jump
    assert not any(success)


def test_unknown_task_lists_valid_ones() -> None:
    with pytest.raises(ConfigError, match="grasp"):
        TaskEnv("wave", robot="amazing_hand")
    with pytest.raises(ConfigError, match="reach_pose"):
        make_expert("wave")


def test_a_held_pose_fails_reach_pose() -> None:
    env = gym.make(HAND_ENV_IDS["reach_pose"])
    try:
        env.reset(seed=0)
        hold = env.unwrapped.robot.last_target
        for _ in range(20):
            _, _, _, _, info = env.step(hold)
        assert not info["is_success"]
        target = info["privileged"]["target_pose"]
        for _ in range(40):
            _, reward, _, _, info = env.step(target)
        assert info["is_success"] and reward > -0.5
    finally:
        env.close()


def test_expert_episodes_are_deterministic() -> None:
    def episode() -> np.ndarray:
        env = gym.make(HAND_ENV_IDS["grasp"])
        expert = make_expert("grasp")
        try:
            obs, info = env.reset(seed=4)
            expert.reset(info["privileged"])
            for _ in range(60):
                obs, _, _, _, info = env.step(expert.act(obs, info["privileged"]))
            return np.concatenate([obs["joint_pos"], info["privileged"]["object_pos"]])
        finally:
            env.close()

    np.testing.assert_array_equal(episode(), episode())
