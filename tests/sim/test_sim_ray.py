"""The Ray executor on a local 2-worker cluster: evaluation, expert demonstrations and RL rollouts give exactly what
the local executor gives for the same seeds (skipped when Ray is not installed: ``pip install "twinarm[ray]"``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from tests.policies.helpers_policies import tiny_policy  # noqa: E402
from twinarm.compose.collect import CollectJob, collect_demos  # noqa: E402
from twinarm.compose.eval_jobs import evaluate_on  # noqa: E402
from twinarm.compose.executor import LocalExecutor, RayConfig  # noqa: E402
from twinarm.compose.ray_executor import RayExecutor  # noqa: E402
from twinarm.compose.rollouts import RolloutJob, UniformActor, collect_rollouts  # noqa: E402
from twinarm.robot.errors import ConfigError  # noqa: E402
from twinarm.sim.envs import env_id  # noqa: E402


@pytest.fixture(scope="module")
def executor():
    """One local cluster of 2 CPUs for the module (startup takes seconds), 2 actors of 1 CPU."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    executor = RayExecutor(RayConfig(workers=2))
    try:
        yield executor
    finally:
        executor.close()  # joined, not started, by the executor: the cluster is left to the fixture
        assert ray.is_initialized()
        ray.shutdown()


class ListRecorder:
    """The part of ``dataset.Recorder`` that ``collect_demos`` uses, keeping the frames in memory."""

    def __init__(self) -> None:
        self.episodes: list[list[tuple[dict, np.ndarray]]] = []
        self._open: list | None = None

    def start_episode(self, text: str) -> None:
        self._open = []

    def add_frame(self, obs: dict, action: np.ndarray) -> None:
        self._open.append(({k: np.array(v) for k, v in obs.items()}, np.array(action)))

    def save_episode(self) -> None:
        self.episodes.append(self._open)


def test_eval_on_ray_equals_local_per_seed(executor, tmp_path: Path) -> None:
    policy = tiny_policy("bc")
    args = {"episodes": 5, "num_envs": 2, "seed": 7, "env_kwargs": {"reward_mode": "dense"}, "max_steps": 15}
    local = evaluate_on(LocalExecutor(), policy, env_id("lift"), video_dir=tmp_path / "l", videos=3, **args)
    remote = evaluate_on(executor, policy, env_id("lift"), video_dir=tmp_path / "r", videos=3, **args)
    assert remote.seeds == local.seeds == tuple(range(7, 12))
    assert remote.episode_successes == local.episode_successes
    assert remote.episode_returns == local.episode_returns  # bit for bit: the same observations and actions
    assert len(set(local.episode_returns)) == 5  # the seeds gave different episodes (the check can fail)
    assert [v.name for v in remote.videos] == [v.name for v in local.videos] and len(local.videos) == 3
    assert all(r.read_bytes() == v.read_bytes() for r, v in zip(remote.videos, local.videos))


def test_expert_demos_on_ray_equal_local(executor) -> None:
    job = CollectJob("lift", {"cameras": ("front",), "image_size": (24, 32)}, 2, 25)
    seeds = range(40, 45)
    local, remote = ListRecorder(), ListRecorder()
    s_local = collect_demos(LocalExecutor(), job, local, seeds, "lift", keep_failures=True)
    s_remote = collect_demos(executor, job, remote, seeds, "lift", keep_failures=True)
    assert s_remote == s_local and s_local.kept == 5 and s_local.frames == 5 * 25
    for ep_local, ep_remote in zip(local.episodes, remote.episodes, strict=True):
        for (obs_l, act_l), (obs_r, act_r) in zip(ep_local, ep_remote, strict=True):
            np.testing.assert_array_equal(act_r, act_l)
            assert obs_r.keys() == obs_l.keys()
            for key in obs_l:
                np.testing.assert_array_equal(obs_r[key], obs_l[key])
    assert not np.array_equal(local.episodes[0][0][0]["image_front"], local.episodes[1][0][0]["image_front"])
    # stopping early (max_kept) cancels the shards still running and keeps the same first episodes
    first = ListRecorder()
    assert collect_demos(executor, job, first, seeds, "lift", keep_failures=True, max_kept=3).kept == 3
    assert len(first.episodes) == 3
    np.testing.assert_array_equal(first.episodes[2][-1][1], local.episodes[2][-1][1])


def test_rl_rollouts_on_ray_equal_local(executor) -> None:
    job = RolloutJob(env_id("reach"), {"cameras": ()}, 2, 12)
    actor = UniformActor(np.full(6, -0.3, np.float32), np.full(6, 0.3, np.float32))
    local = collect_rollouts(LocalExecutor(), job, [1, 2, 3], actor)
    remote = collect_rollouts(executor, job, [1, 2, 3], actor)
    assert [t.seed for t in remote] == [1, 2, 3]
    for a, b in zip(local, remote, strict=True):
        np.testing.assert_array_equal(b.actions, a.actions)
        np.testing.assert_array_equal(b.rewards, a.rewards)
        for key in a.observations:
            np.testing.assert_array_equal(b.observations[key], a.observations[key])
    assert local[0].actions.shape == (12, 2, 6) and not np.array_equal(local[0].actions, local[1].actions)
    # the next iteration of a learner: the same job (its envs kept open by the workers), reset by the seed again
    again = collect_rollouts(executor, job, [3], actor)
    np.testing.assert_array_equal(again[0].observations["joint_pos"], local[2].observations["joint_pos"])


def test_a_worker_error_reaches_the_caller_as_its_own_type(executor) -> None:
    with pytest.raises(ConfigError, match="no_such_task"):
        collect_demos(executor, CollectJob("no_such_task", {}, 1, 5), ListRecorder(), [0], "x")


def test_a_second_executor_on_a_full_cluster_is_refused_not_left_waiting(executor) -> None:
    job = RolloutJob(env_id("reach"), {"cameras": ()}, 1, 2)
    actor = UniformActor(np.zeros(6, np.float32), np.zeros(6, np.float32))
    collect_rollouts(executor, job, [0, 1], actor)  # the fixture's 2 actors hold the cluster's 2 CPUs
    other = RayExecutor(RayConfig(workers=2))
    with pytest.raises(ConfigError, match="free CPUs"):
        collect_rollouts(other, job, [0], actor)
    other.close()


def test_record_expert_on_ray_writes_the_local_collection(executor, tmp_path: Path) -> None:
    from twinarm.cli.main import main
    from twinarm.dataset import LeRobotDatasetReader

    executor.stop_workers()  # the command starts its own workers on the 2-CPU cluster
    root = tmp_path / "dataset"
    robot = ["robot.cameras=[front]", "robot.camera_height=24", "robot.camera_width=32"]
    code = main(
        ["record", "source=expert", "executor=ray", "episodes=3", "episode_time_s=0.5", "seed=5", "num_envs=2",
         "keys=none", f"dataset.root={root}", *robot]
    )  # fmt: skip
    assert code == 0
    job = CollectJob("lift", {"cameras": ("front",), "image_size": (24, 32), "control_hz": 30.0}, 2, 15)
    local = ListRecorder()
    collect_demos(LocalExecutor(), job, local, range(5, 8), "Lift the cube", keep_failures=True)
    reader = LeRobotDatasetReader(root)
    try:
        assert reader.num_episodes == 3 and len(reader) == 3 * 15 and reader.episode_task(0) == "Lift the cube"
        actions = reader.lowdim()["action"]
        expected = np.stack([action for episode in local.episodes for _, action in episode])
        np.testing.assert_allclose(actions, expected, rtol=0, atol=1e-6)
    finally:
        reader.close()
