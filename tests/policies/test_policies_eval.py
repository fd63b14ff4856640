"""Evaluation: Wilson interval, vectorised waves of episodes, success/length bookkeeping, videos."""

from __future__ import annotations

from pathlib import Path

import av
import gymnasium as gym
import numpy as np
import pytest

from tests.policies.helpers_policies import HW, tiny_policy
from twinarm.policies.evaluate import evaluate, wilson_interval


class ScriptedEnv(gym.Env):
    """Episode ``seed`` lasts 3 + seed % 3 steps and succeeds (info is_success at its end) when seed is even."""

    def __init__(self) -> None:
        self.observation_space = gym.spaces.Dict(
            {
                "joint_pos": gym.spaces.Box(-3, 3, (6,), np.float32),
                "joint_vel": gym.spaces.Box(-np.inf, np.inf, (6,), np.float32),
                "image_front": gym.spaces.Box(0, 255, (*HW, 3), np.uint8),
            }
        )
        self.action_space = gym.spaces.Box(-3, 3, (6,), np.float32)
        self.episode_seed, self.t = 0, 0

    def _obs(self) -> dict:
        img = np.full((*HW, 3), 40 * self.t % 256, np.uint8)
        return {"joint_pos": np.zeros(6, np.float32), "joint_vel": np.zeros(6, np.float32), "image_front": img}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode_seed, self.t = (seed if seed is not None else self.episode_seed + 1), 0
        return self._obs(), {}

    def step(self, action):
        assert action.shape == (6,) and np.isfinite(action).all()
        self.t += 1
        end = self.t >= 3 + self.episode_seed % 3
        success = end and self.episode_seed % 2 == 0
        return self._obs(), float(success), end, False, {"is_success": success}


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(0, 20)[1] == pytest.approx(0.1611, abs=1e-3)
    assert wilson_interval(20, 20)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_evaluate_counts_successes_lengths_and_writes_videos(tmp_path: Path) -> None:
    policy = tiny_policy("bc")
    result = evaluate(
        policy, ScriptedEnv, episodes=7, num_envs=3, seed=10, video_dir=tmp_path, videos=2, progress=False
    )
    seeds = range(10, 17)
    assert result.episodes == 7
    assert result.successes == sum(s % 2 == 0 for s in seeds)
    assert result.mean_length == pytest.approx(np.mean([3 + s % 3 for s in seeds]))
    assert result.ci_low < result.success_rate < result.ci_high
    assert [p.name for p in result.videos] == ["episode_000_success.mp4", "episode_001_fail.mp4"]
    with av.open(str(result.videos[0])) as c:
        frames = list(c.decode(video=0))
    assert len(frames) == 3 + 10 % 3 and frames[0].width == HW[1]
    assert "success 4/7" in result.summary()
