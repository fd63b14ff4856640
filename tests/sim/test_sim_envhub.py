"""The LeRobot EnvHub-style entry point returns {suite: {task_index: VectorEnv}} that step like gymnasium batches."""

import gymnasium as gym
import numpy as np
import pytest

from twinarm.robot.errors import ConfigError
from twinarm.sim.envhub import SUITE, make_env
from twinarm.sim.vector_env import BatchedTaskEnv


def test_make_env_batched_state_envs_step():
    envs = make_env(n_envs=2, tasks=("reach", "twinarm/SO101Lift-v0"), obs_mode="state")
    assert list(envs) == [SUITE] and list(envs[SUITE]) == [0, 1]
    for vec in envs[SUITE].values():
        try:
            assert isinstance(vec, BatchedTaskEnv) and vec.num_envs == 2
            obs, _ = vec.reset(seed=0)
            assert all(v.shape[0] == 2 for v in obs.values())
            obs, reward, term, trunc, _ = vec.step(vec.action_space.sample())
            assert reward.shape == trunc.shape == (2,) and term.dtype == np.bool_
            assert vec.observation_space.contains(obs)
        finally:
            vec.close()


def test_make_env_async_uses_processes():
    vec = make_env(n_envs=2, use_async_envs=True, tasks=("reach",), obs_mode="state")[SUITE][0]
    try:
        assert isinstance(vec, gym.vector.AsyncVectorEnv)
        obs, _ = vec.reset(seed=1)
        assert vec.observation_space.contains(obs)
    finally:
        vec.close()


@pytest.mark.parametrize(("kwargs", "named"), [({"n_envs": 0}, "n_envs"), ({"tasks": ("fly",)}, "fly")])
def test_make_env_bad_input_is_typed(kwargs, named):
    with pytest.raises(ConfigError, match=named):
        make_env(**kwargs)
