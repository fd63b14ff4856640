"""Policy evaluation on an executor (``twinarm eval executor=ray``): the episodes split into shards of whole waves.

An evaluation of ``episodes`` episodes (episode ``k`` on seed ``seed + k``) runs in waves of ``num_envs`` envs
(``policies.evaluate``); a shard is ``waves_per_shard`` consecutive waves. Each worker owns one batched env of
``num_envs`` envs and a copy of the policy (it travels with the job, so remote nodes need no checkpoint files),
and a wave depends only on its seeds, so the merged result is the same for every executor and worker count.
Videos are encoded by the worker that ran the episode and sent back as bytes; the caller writes them.
Every worker runs the policy with the caller's number of torch threads (``torch_threads``): torch's CPU kernels
may sum in another order with another thread count, which moves returns in the 8th digit.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from twinarm.compose.executor import Executor, LocalExecutor


class EpisodeRange(NamedTuple):
    """A shard: episodes ``first`` .. ``first + count - 1`` of the evaluation."""

    first: int
    count: int


class ShardOutcome(NamedTuple):
    """What a worker returns for one shard: per-episode (length, return, success) and the videos' bytes."""

    episodes: list[tuple[int, float, bool]]
    videos: dict[int, tuple[str, bytes]]  # episode index -> (file name, mp4 bytes)


@dataclasses.dataclass(frozen=True)
class EvalJob:
    """Evaluate ``policy`` (a ``twinarm.policies.Policy``) on ``env_id`` made with ``env_kwargs`` (on top of the
    policy's contract), ``num_envs`` envs per worker, episodes on seeds ``seed + k``, the first ``videos`` of them
    recorded at ``fps``."""

    policy: Any
    env_id: str | Callable[[], Any]  # a registered id, or an env factory (picklable by reference for Ray)
    env_kwargs: dict[str, Any]
    num_envs: int
    seed: int
    max_steps: int = 2000
    videos: int = 0
    fps: float = 30.0
    torch_threads: int = 0  # torch CPU threads of every worker (0: leave the worker's setting)

    def open(self) -> _EvalWorker:
        return _EvalWorker(self)


class _EvalWorker:
    """One worker: the job's batched env and policy, kept for every shard it runs."""

    def __init__(self, job: EvalJob) -> None:
        from twinarm.policies.evaluate import check_env, contract_env_kwargs, first_env, open_vector_env

        if isinstance(job.env_id, str) and job.env_id.startswith("twinarm/"):
            import twinarm.sim.envs  # noqa: F401  (registers the ids in this worker's process)

        self.job = job
        kwargs = {**contract_env_kwargs(job.policy.contract), **job.env_kwargs}
        self.envs = open_vector_env(job.env_id, job.num_envs, kwargs)
        try:
            check_env(job.policy, first_env(self.envs))
        except BaseException:
            self.envs.close()
            raise
        job.policy.eval()
        self._threads = _set_torch_threads(job.torch_threads)  # last: nothing above can leave it changed

    def run(self, shard: EpisodeRange) -> ShardOutcome:
        from twinarm.policies.evaluate import run_episodes

        job = self.job
        with tempfile.TemporaryDirectory(prefix="twinarm-eval-") as tmp:
            outcomes = run_episodes(
                job.policy, self.envs, job.seed, shard.first, shard.count, job.max_steps, tmp, job.videos, job.fps
            )
            videos = {
                shard.first + i: (o.video.name, o.video.read_bytes())
                for i, o in enumerate(outcomes)
                if o.video is not None
            }
        return ShardOutcome([(o.length, o.ret, o.success) for o in outcomes], videos)

    def close(self) -> None:
        self.envs.close()
        _set_torch_threads(self._threads)


def _set_torch_threads(n: int) -> int:
    """Set torch's CPU thread count to ``n`` (0: leave it); returns the previous count (0 when unchanged)."""
    import torch

    if n <= 0 or n == torch.get_num_threads():
        return 0
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    return previous


def eval_shards(episodes: int, num_envs: int, waves_per_shard: int = 1) -> list[EpisodeRange]:
    """``episodes`` cut into shards of ``waves_per_shard`` waves of ``num_envs`` episodes (the last may be short)."""
    size = max(1, num_envs * waves_per_shard)
    return [EpisodeRange(first, min(size, episodes - first)) for first in range(0, episodes, size)]


def evaluate_on(
    executor: Executor | None,
    policy: Any,
    env_id: str | Callable[[], Any],
    episodes: int = 50,
    num_envs: int = 4,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    max_steps: int = 2000,
    video_dir: str | Path | None = None,
    videos: int = 3,
    on_shard: Callable[[list[bool]], None] | None = None,
    torch_threads: int | None = None,
) -> Any:
    """``policies.evaluate.evaluate`` run by ``executor`` (None: this process) shard by shard: the same
    ``EvalResult`` for the same arguments, whatever the executor. ``on_shard`` gets each shard's successes;
    ``torch_threads`` (None: this process's count) is the torch thread count of every worker."""
    import torch

    from twinarm.policies.evaluate import EpisodeOutcome, eval_result

    num_envs = max(1, min(num_envs, episodes))
    threads = torch.get_num_threads() if torch_threads is None else torch_threads
    job = EvalJob(
        policy, env_id, dict(env_kwargs or {}), num_envs, seed, max_steps, videos if video_dir else 0, 30.0, threads
    )
    executor = executor or LocalExecutor()
    t0 = time.perf_counter()
    outcomes: list[EpisodeOutcome] = []
    for shard, result in zip(eval_shards(episodes, num_envs), executor.imap(job, eval_shards(episodes, num_envs))):
        for i, (length, ret, success) in enumerate(result.episodes):
            path = None
            if shard.first + i in result.videos:
                name, data = result.videos[shard.first + i]
                path = Path(video_dir) / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            outcomes.append(EpisodeOutcome(length, ret, success, path))
        if on_shard is not None:
            on_shard([s for _, _, s in result.episodes])
    return eval_result(outcomes, seed, time.perf_counter() - t0)
