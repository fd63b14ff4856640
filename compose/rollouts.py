"""Reinforcement-learning rollouts on an executor: fixed-length segments of a batched env, one per seed.

A learner calls :func:`collect_rollouts` once per iteration with its current actor; each worker owns one batched
env (``gym.make_vec`` of the id: ``sim.vector_env.BatchedTaskEnv`` for ``twinarm/`` tasks) of ``num_envs`` envs,
kept across the shards it runs. A shard is one seed: the batch is reset with it (env ``i`` on ``seed + i``) and
stepped ``steps`` times with autoreset, and the actor draws its exploration noise from a generator seeded with it,
so the trajectories depend only on the seeds and the actor, never on the executor or the number of workers.
The actor travels with every shard (pickled to Ray workers), so it should be small (an MLP, a scripted rule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np

from twinarm.compose.executor import Executor, LocalExecutor

#: batched observations, a random generator -> actions (num_envs, n); draw any randomness from the generator.
Actor = Callable[[dict[str, np.ndarray], np.random.Generator], np.ndarray]


@dataclasses.dataclass(frozen=True)
class UniformActor:
    """Actions drawn uniformly from [``low``, ``high``] per joint (exploration, benchmarks, tests)."""

    low: np.ndarray
    high: np.ndarray

    def __call__(self, obs: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
        n = len(next(iter(obs.values())))
        return rng.uniform(self.low, self.high, size=(n, len(self.low))).astype(np.float32)


class Trajectory(NamedTuple):
    """``steps`` steps of ``num_envs`` envs; ``observations`` has ``steps + 1`` rows (the last one to bootstrap)."""

    seed: int
    observations: dict[str, np.ndarray]  # key -> (steps + 1, num_envs, ...)
    actions: np.ndarray  # (steps, num_envs, n)
    rewards: np.ndarray  # (steps, num_envs)
    terminated: np.ndarray  # (steps, num_envs) bool
    truncated: np.ndarray  # (steps, num_envs) bool


class RolloutShard(NamedTuple):
    seed: int
    actor: Actor


@dataclasses.dataclass(frozen=True)
class RolloutJob:
    """``num_envs`` envs of ``env_id`` made with ``env_kwargs`` per worker, segments of ``steps`` steps."""

    env_id: str
    env_kwargs: dict[str, Any]
    num_envs: int
    steps: int

    def open(self) -> _RolloutWorker:
        return _RolloutWorker(self)


class _RolloutWorker:
    def __init__(self, job: RolloutJob) -> None:
        import gymnasium as gym

        if job.env_id.startswith("twinarm/"):
            import twinarm.sim.envs  # noqa: F401  (registers the ids in this worker's process)

        self.job = job
        self.envs = gym.make_vec(
            job.env_id, num_envs=job.num_envs, vectorization_mode="vector_entry_point", **job.env_kwargs
        )

    def run(self, shard: RolloutShard) -> Trajectory:
        rng = np.random.default_rng(shard.seed)
        obs, _ = self.envs.reset(seed=shard.seed)
        observations, actions, rewards, terminated, truncated = [obs], [], [], [], []
        for _ in range(self.job.steps):
            action = np.asarray(shard.actor(obs, rng))
            obs, reward, term, trunc, _ = self.envs.step(action)
            observations.append(obs)
            actions.append(action)
            rewards.append(np.asarray(reward, np.float64))
            terminated.append(np.asarray(term, bool))
            truncated.append(np.asarray(trunc, bool))
        stacked = {k: np.stack([o[k] for o in observations]) for k in observations[0]}
        return Trajectory(
            shard.seed, stacked, np.stack(actions), np.stack(rewards), np.stack(terminated), np.stack(truncated)
        )

    def close(self) -> None:
        self.envs.close()


def collect_rollouts(
    executor: Executor | None, job: RolloutJob, seeds: Iterable[int], actor: Actor
) -> list[Trajectory]:
    """One trajectory of ``job`` per seed, acted by ``actor``, in seed order, run on ``executor`` (None: here)."""
    executor = executor or LocalExecutor()
    return list(executor.imap(job, [RolloutShard(int(s), actor) for s in seeds]))
