"""The Ray executor (``executor=ray``): the shards of a job run on ``ray.workers`` Ray actors.

Each actor builds the job's worker once (``job.open()``: its batched env, policy or expert) and keeps it for every
shard it is given; a free actor takes the next shard, and the results are handed back in shard order (see
:mod:`compose.executor`), so the merged result equals the local executor's for the same seeds.

``ray.address`` empty starts a local cluster in this process (shut down on close) unless Ray is already
initialised (then that cluster is used and left running); ``auto`` or ``ray://host:port`` joins a running
cluster. Every node needs the same twinarm (and Ray) version installed; jobs carry what they need (the policy's
weights travel with the job), so no shared filesystem is required. This is the only module that imports Ray.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

from twinarm.compose.errors import MissingExtraError
from twinarm.compose.executor import R, RayConfig, S, ShardJob

RAY_INSTALL_HINT = 'pip install "twinarm[ray]"'


def require_ray() -> ModuleType:
    """The ``ray`` module, or :class:`MissingExtraError` naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise MissingExtraError(
            f"executor=ray needs Ray, which is not installed ({exc}); install it with: {RAY_INSTALL_HINT} "
            "(or use executor=local)"
        ) from exc
    return ray


class _Actor:
    """The body of one Ray actor: one worker of the job, kept for all the shards this actor runs."""

    def __init__(self, job: ShardJob[Any, Any]) -> None:
        self._worker = job.open()

    def run(self, shard: Any) -> Any:
        return self._worker.run(shard)

    def close(self) -> None:
        self._worker.close()


class RayExecutor:
    """Runs shards on ``cfg.workers`` Ray actors of ``cfg.cpus_per_worker`` CPUs each (see the module docstring)."""

    def __init__(self, cfg: RayConfig) -> None:
        self._ray = require_ray()
        self.cfg = cfg
        self._started = False
        if not self._ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "logging_level": "WARNING"}
            if cfg.address:
                kwargs["address"] = cfg.address
            else:  # a local cluster with room for every actor (they hold their CPUs while they live)
                kwargs["num_cpus"] = max(os.cpu_count() or 1, math.ceil(cfg.workers * cfg.cpus_per_worker))
            self._ray.init(**kwargs)
            self._started = True
        self._actor_cls = self._ray.remote(_Actor)

    def imap(self, job: ShardJob[S, R], shards: Sequence[S]) -> Iterator[R]:
        """Results of ``shards`` in order; each free actor takes the next shard. Stopping early cancels the rest."""
        ray = self._ray
        if not shards:
            return
        job_ref = ray.put(job)  # one copy in the object store, whatever the number of actors
        actors = [
            self._actor_cls.options(num_cpus=self.cfg.cpus_per_worker).remote(job_ref)
            for _ in range(min(self.cfg.workers, len(shards)))
        ]
        pending: dict[Any, tuple[int, Any]] = {}  # result ref -> (shard index, actor)
        done: dict[int, Any] = {}
        next_shard = next_yield = 0
        try:
            for actor in actors:
                if next_shard < len(shards):
                    pending[actor.run.remote(shards[next_shard])] = (next_shard, actor)
                    next_shard += 1
            while next_yield < len(shards):
                while next_yield not in done:
                    ready, _ = ray.wait(list(pending), num_returns=1)
                    index, actor = pending.pop(ready[0])
                    done[index] = ray.get(ready[0])  # a worker's exception is raised here
                    if next_shard < len(shards):
                        pending[actor.run.remote(shards[next_shard])] = (next_shard, actor)
                        next_shard += 1
                yield done.pop(next_yield)
                next_yield += 1
        finally:
            for ref in pending:
                ray.cancel(ref)
            closing = [actor.close.remote() for actor in actors]
            try:
                ray.get(closing, timeout=30)
            except Exception:  # noqa: BLE001  (an actor that died or hangs: it is killed below anyway)
                pass
            for actor in actors:
                ray.kill(actor)

    def close(self) -> None:
        """Shut down the local cluster this executor started (a cluster it joined keeps running)."""
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False
