"""Expert demonstrations and DAgger rollouts (compose.sim_demos): the expert labels every visited state, the student
acts, failed demonstrations are dropped."""

from __future__ import annotations

import numpy as np

from twinarm.compose.sim_demos import record_rollouts
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.envs import TaskEnv


class FakeRecorder:
    """The recorder methods record_rollouts uses, keeping frames in memory."""

    def __init__(self) -> None:
        self.episodes: list[list[tuple[dict, np.ndarray]]] = []
        self.open: list[tuple[dict, np.ndarray]] | None = None
        self.discarded = 0

    def start_episode(self, task: str) -> None:
        self.open = []

    def add_frame(self, obs: dict, action: np.ndarray) -> bool:
        self.open.append((obs, np.asarray(action).copy()))
        return True

    def save_episode(self) -> None:
        self.episodes.append(self.open)

    def discard_episode(self) -> None:
        self.discarded += 1


def test_demonstrations_keep_solved_episodes_only() -> None:
    env = TaskEnv("lift", cameras=(), obs_mode="state")
    rec = FakeRecorder()
    try:
        stats = record_rollouts(rec, env, "lift", [10_000, 10_001], 110, "lift the cube", max_kept=1)
    finally:
        env.close()
    assert stats.kept == len(rec.episodes) == 1 and stats.episodes == 1 + rec.discarded
    assert stats.expert_successes == 1 and stats.frames == len(rec.episodes[0]) == 110


def test_dagger_labels_the_states_the_student_visits() -> None:
    env = TaskEnv("lift", cameras=(), obs_mode="state", randomize="full")
    home = np.asarray(env.robot.sim_model.home, dtype=np.float32)
    rec = FakeRecorder()
    try:
        stats = record_rollouts(
            rec, env, "lift", [3], 30, "lift the cube", student=lambda obs: home, beta=0.0, keep_failures=True
        )
    finally:
        env.close()
    assert stats.kept == 1 and stats.expert_successes == 0
    frames = rec.episodes[0]
    visited = np.array([obs[JOINT_POS] for obs, _ in frames])
    labels = np.array([label for _, label in frames])
    assert np.abs(visited - home).max() < 0.05  # the student acted: the arm stayed home
    assert np.abs(labels[-1] - home).max() > 0.1  # the expert's labels lead towards the cube
