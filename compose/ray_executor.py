"""The Ray executor (``executor=ray``): the shards of a job run on ``ray.workers`` Ray actors.

Each actor builds the job's worker once (``job.open()``: its batched env, policy or expert) and keeps it for every
shard it is given, and for later jobs equal to it (an RL learner's rollout job each iteration); a free actor takes
the next shard, and the results are handed back in shard order (see
:mod:`compose.executor`), so the merged result equals the local executor's for the same seeds.

``ray.address`` empty starts a local cluster in this process (shut down on close) unless Ray is already
initialised (then that cluster is used and left running); ``auto`` or ``ray://host:port`` joins a running
cluster. Every node needs the same twinarm (and Ray) version installed; jobs carry what they need (the policy's
weights travel with the job), so no shared filesystem is required. This is the only module that imports Ray.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any

from twinarm.compose.errors import MissingExtraError
from twinarm.compose.executor import R, RayConfig, S, ShardJob
from twinarm.robot.errors import ConfigError

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
    """The body of one Ray actor, kept for the executor's life: it opens a job's worker at the job's first shard and
    keeps it for the job's other shards and for later jobs equal to it (the same pickled bytes, ``key``), until
    another job comes or the job was stopped early. An error while opening is raised by every shard of that job,
    so it reaches the caller as its own type."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._worker: Any = None
        self._error: BaseException | None = None

    def run(self, key: str, boxed_job: list[Any], shard: Any) -> Any:
        if key != self._key:
            self.release()
            self._key = key
            try:
                ray = require_ray()
                self._worker = ray.cloudpickle.loads(ray.get(boxed_job[0])).open()
            except Exception as exc:  # noqa: BLE001  (re-raised below, for this and every later shard)
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._worker.run(shard)

    def release(self) -> None:
        """Close the current job's worker (its envs and renderers)."""
        worker, self._worker, self._key, self._error = self._worker, None, None, None
        if worker is not None:
            worker.close()


class RayExecutor:
    """Runs shards on ``cfg.workers`` Ray actors of ``cfg.cpus_per_worker`` CPUs each (see the module docstring);
    the actors start at the first job and live until :meth:`close` (so later jobs skip their start-up)."""

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
        self._actors: list[Any] = []

    def _ensure_actors(self) -> list[Any]:
        """The actors, started at the first job: ``cfg.workers`` of them, or as many as the cluster's free CPUs
        hold (an actor that cannot get its CPUs would wait forever); ConfigError when not even one fits."""
        if not self._actors:
            cpus = self.cfg.cpus_per_worker
            free = float(self._ray.available_resources().get("CPU", 0.0))
            n = min(self.cfg.workers, int(free // cpus + 1e-9))
            if n < 1:
                raise ConfigError(
                    f"the Ray cluster has {free:g} free CPUs, not enough for one worker of "
                    f"ray.cpus_per_worker={cpus:g}; lower it or free the cluster's CPUs"
                )
            if n < self.cfg.workers:
                warnings.warn(
                    f"ray.workers={self.cfg.workers} but the cluster has {free:g} free CPUs: running {n} workers "
                    "(the results do not depend on the number of workers)",
                    stacklevel=3,
                )
            remote = self._ray.remote(_Actor).options(num_cpus=cpus)
            self._actors = [remote.remote() for _ in range(n)]
        return self._actors

    def imap(self, job: ShardJob[S, R], shards: Sequence[S]) -> Iterator[R]:
        """Results of ``shards`` in order; each free actor takes the next shard. Stopping early cancels the rest.
        The workers stay open after the job, so an equal job next (an RL learner's rollouts: the actor rides in
        the shards) reuses their envs."""
        ray = self._ray
        if not shards:
            return
        data = ray.cloudpickle.dumps(job)
        key, boxed = hashlib.sha256(data).hexdigest(), [ray.put(data)]  # one copy in the object store (boxed: kept
        # as a reference, fetched by an actor only when the job is new to it)
        actors = self._ensure_actors()[: len(shards)]
        pending: dict[Any, tuple[int, Any]] = {}  # result ref -> (shard index, actor)
        done: dict[int, Any] = {}
        next_shard = next_yield = 0
        finished = False

        def submit(actor: Any) -> None:
            nonlocal next_shard
            if next_shard < len(shards):
                pending[actor.run.remote(key, boxed, shards[next_shard])] = (next_shard, actor)
                next_shard += 1

        try:
            for actor in actors:
                submit(actor)
            while next_yield < len(shards):
                while next_yield not in done:
                    ready, _ = ray.wait(list(pending), num_returns=1)
                    index, actor = pending.pop(ready[0])
                    done[index] = ray.get(ready[0])  # a worker's exception is raised here, as its own type
                    submit(actor)
                yield done.pop(next_yield)
                next_yield += 1
            finished = True
        finally:
            if not finished:  # stopped early or failed: cancel the rest, close the workers (a next job reopens)
                for ref in pending:
                    ray.cancel(ref)
                try:
                    ray.get([actor.release.remote() for actor in actors], timeout=60)
                except Exception:  # noqa: BLE001  (a dead or stuck actor: replaced by fresh ones for the next job)
                    self.stop_workers()

    def stop_workers(self) -> None:
        """Stop the actors now, freeing their CPUs (the next job starts new ones)."""
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []

    def close(self) -> None:
        """Stop the actors; shut down the local cluster this executor started (a cluster it joined keeps running)."""
        if self._actors and self._ray.is_initialized():
            self.stop_workers()
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
        self._started = False
