"""Expert demonstrations collected on an executor (``twinarm demo executor=ray``): seed shards, merged in order.

Each worker owns one batched env (``gym.make_vec`` of a ``twinarm/`` task: ``sim.vector_env.BatchedTaskEnv``) of
``num_envs`` envs and one scripted expert per env (``sim.experts``); a shard is up to ``num_envs`` seeds run side
by side, one episode each, every frame's observation stored with the expert's action, exactly as
:func:`compose.sim_demos.record_rollouts` records one env (an episode ends when its env terminates or after
``frames`` frames). The workers send the episodes back; :func:`collect_demos` writes them into the dataset in seed
order, so the dataset is the same for every executor and worker count. DAgger rollouts (a student acting) stay
on ``record_rollouts``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from twinarm.compose.backends import RobotConfig
from twinarm.compose.executor import Executor, LocalExecutor, chunks
from twinarm.compose.sim_demos import RolloutStats
from twinarm.dataset.recorder import Recorder


class Episode(NamedTuple):
    """One collected episode: ``observations`` (key -> (T, ...) array) and the expert's ``actions`` (T, n) [rad]."""

    seed: int
    observations: dict[str, np.ndarray]
    actions: np.ndarray
    success: bool  # the expert solved the task at some step


@dataclasses.dataclass(frozen=True)
class CollectJob:
    """The scripted expert of ``task`` in ``num_envs`` envs of it (made with ``env_kwargs``), ``frames`` frames
    per episode at most."""

    task: str
    env_kwargs: dict[str, Any]
    num_envs: int
    frames: int

    def open(self) -> _CollectWorker:
        return _CollectWorker(self)


class _CollectWorker:
    def __init__(self, job: CollectJob) -> None:
        import gymnasium as gym

        from twinarm.sim.envs import env_id
        from twinarm.sim.experts import make_expert

        self.job = job
        self.envs = gym.make_vec(
            env_id(job.task), num_envs=job.num_envs, vectorization_mode="vector_entry_point", **job.env_kwargs
        )
        hz = self.envs.envs[0].robot.spec.control_hz
        self.experts = [make_expert(job.task, hz) for _ in range(job.num_envs)]

    def run(self, seeds: Sequence[int]) -> list[Episode]:
        """One episode per seed of ``seeds`` (at most ``num_envs``); spare envs run seeds past the last, unused."""
        n, active = self.job.num_envs, len(seeds)
        all_seeds = [int(s) for s in seeds] + [int(seeds[-1]) + 1 + i for i in range(n - active)]
        obs, info = self.envs.reset(seed=all_seeds)
        for i, expert in enumerate(self.experts):
            expert.reset(_row(info["privileged"], i))
        done = np.zeros(n, bool)
        done[active:] = True
        success = np.zeros(n, bool)
        frames: list[list[dict[str, np.ndarray]]] = [[] for _ in range(n)]
        labels: list[list[np.ndarray]] = [[] for _ in range(n)]
        actions = np.zeros(self.envs.action_space.shape, np.float32)
        for _ in range(self.job.frames):
            for i in range(n):
                if not done[i]:
                    obs_i = _row(obs, i)
                    actions[i] = self.experts[i].act(obs_i, _row(info["privileged"], i))
                    frames[i].append(obs_i)
                    labels[i].append(actions[i].copy())
            obs, _, terminated, truncated, info = self.envs.step(actions)
            success[~done] |= np.asarray(info["is_success"], bool)[~done]
            done |= np.asarray(terminated) | np.asarray(truncated)
            if done.all():
                break
        return [Episode(all_seeds[i], _stack(frames[i]), np.stack(labels[i]), bool(success[i])) for i in range(active)]

    def close(self) -> None:
        self.envs.close()


def _stack(frames: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.stack([f[k] for f in frames]) for k in frames[0]}


def _row(batch: dict[str, Any], i: int) -> dict[str, np.ndarray]:
    return {k: np.array(v[i]) for k, v in batch.items() if not k.startswith("_")}


def collect_demos(
    executor: Executor | None,
    job: CollectJob,
    recorder: Recorder,
    seeds: Sequence[int],
    text: str,
    keep_failures: bool = False,
    max_kept: int | None = None,
    on_episode: Callable[[bool], None] | None = None,
) -> RolloutStats:
    """Collect one expert episode per seed with ``job`` on ``executor`` (None: this process) and save them into
    ``recorder`` in seed order (failures only with ``keep_failures``), stopping once ``max_kept`` are saved."""
    executor = executor or LocalExecutor()
    kept = solved = saved = tried = 0
    results = executor.imap(job, chunks(list(seeds), job.num_envs))
    try:
        for shard in results:
            for ep in shard:
                if max_kept is not None and kept >= max_kept:
                    return RolloutStats(tried, kept, solved, saved)
                tried += 1
                solved += ep.success
                if ep.success or keep_failures:
                    recorder.start_episode(text)
                    for t in range(len(ep.actions)):
                        recorder.add_frame({k: v[t] for k, v in ep.observations.items()}, ep.actions[t])
                    recorder.save_episode()
                    kept, saved = kept + 1, saved + len(ep.actions)
                if on_episode is not None:
                    on_episode(ep.success)
    finally:
        results.close()  # stops the executor's remaining shards
    return RolloutStats(tried, kept, solved, saved)


def record_expert(
    executor: Executor | None,
    robot: RobotConfig,
    task: str,
    label: str,
    root: Path,
    seeds: Sequence[int],
    episode_time_s: float,
    num_envs: int,
    codec: str = "h264",
) -> RolloutStats:
    """One expert episode of ``episode_time_s`` [s] per seed of ``task`` on simulated ``robot`` (its cameras, their
    size, its control rate) into the dataset at ``root``, failures kept (``twinarm record source=expert
    executor=...``)."""
    from twinarm.dataset import RecorderSettings, VideoSettings

    frames = max(1, round(episode_time_s * robot.control_hz))
    size = (robot.camera_height, robot.camera_width)
    kwargs = {"cameras": tuple(robot.cameras), "image_size": size, "control_hz": robot.control_hz}
    job = CollectJob(task, {**kwargs, "max_episode_steps": frames}, num_envs, frames)
    spec = robot.entry().spec.with_rate(robot.control_hz).with_cameras(robot.camera_specs())
    # the episodes ran already: the recorder waits for its encoders rather than drop a frame
    settings = RecorderSettings(spec.control_hz, VideoSettings(codec=codec), wait_for_encoders=True)
    with Recorder(root, spec, settings) as recorder:
        return collect_demos(executor, job, recorder, seeds, label, keep_failures=True)
