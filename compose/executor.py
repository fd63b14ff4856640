"""Where batch simulation jobs run: in this process (``executor=local``) or on a Ray cluster (``executor=ray``).

A job is split by its caller into *shards* (a few seeds each: a wave of episodes, one rollout segment); the
executor hands each shard to a worker and yields the results **in shard order**, whatever order they finish in,
so a job's merged result depends only on its seeds, never on the executor or the number of workers.

- :class:`ShardJob` describes the work: ``open()`` builds a :class:`ShardWorker` (the worker's batched env, its
  policy or expert) once per worker, in the worker's own process; ``worker.run(shard)`` runs one shard. A job
  travels to Ray workers by pickle, so it holds plain values (typed dataclasses, a policy object), never open
  envs or files.
- :class:`LocalExecutor`: one worker in this process, shards one after the other (the behaviour before
  executors existed); a consumer that stops early leaves the remaining shards unrun.
- :class:`compose.ray_executor.RayExecutor`: ``ray.workers`` Ray actors, each owning one worker; shards go to
  whichever actor is free. Ray is an optional extra (``pip install "twinarm[ray]"``) and is imported only there
  (:func:`compose.ray_executor.require_ray`: a MissingExtraError naming the install when it is absent).

:func:`open_executor` builds either from an :class:`ExecutorConfig` (the CLI's ``executor=`` and ``ray.*`` keys).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import Generic, Protocol, TypeVar

from twinarm.robot.errors import ConfigError

S = TypeVar("S")  # a shard (what one worker call gets: e.g. a range of episodes)
R = TypeVar("R")  # a shard's result
S_contra = TypeVar("S_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)


class ExecutorKind(str, Enum):
    LOCAL = "local"
    RAY = "ray"


KINDS = tuple(k.value for k in ExecutorKind)


@dataclasses.dataclass
class RayConfig:
    """Ray cluster settings (``ray.address=...`` etc.; used with ``executor=ray`` only)."""

    address: str = ""  # "": start a local cluster in this process; "auto": the cluster on this machine; ray://host:port
    workers: int = 2  # actors, each owning one batched env (run at once when the cluster has the CPUs)
    cpus_per_worker: float = 1.0  # CPUs Ray reserves per actor (also its torch/OpenMP threads)

    def validate(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"ray.workers={self.workers!r} is invalid; valid: an integer >= 1")
        if self.cpus_per_worker <= 0:
            raise ConfigError(f"ray.cpus_per_worker={self.cpus_per_worker!r} is invalid; valid: a number > 0")


@dataclasses.dataclass
class ExecutorConfig:
    """The executor of a command: ``kind`` local or ray, and the Ray settings."""

    kind: str = ExecutorKind.LOCAL.value
    ray: RayConfig = dataclasses.field(default_factory=RayConfig)

    def validate(self) -> None:
        """A ConfigError for a bad kind or Ray setting; MissingExtraError for ``ray`` without Ray installed."""
        if self.kind not in KINDS:
            raise ConfigError(f"executor={self.kind!r} is invalid; valid: {', '.join(KINDS)}")
        if self.kind == ExecutorKind.RAY.value:
            self.ray.validate()
            from twinarm.compose.ray_executor import require_ray

            require_ray()


class ShardWorker(Protocol[S_contra, R_co]):
    """What a job builds once per worker (its env, policy or expert): runs shards, then is closed."""

    def run(self, shard: S_contra) -> R_co: ...

    def close(self) -> None: ...


class ShardJob(Protocol[S, R]):
    """A picklable description of the work; ``open()`` runs in the worker's process."""

    def open(self) -> ShardWorker[S, R]: ...


class Executor(Protocol):
    """Runs a job's shards; ``imap`` yields the results in shard order."""

    def imap(self, job: ShardJob[S, R], shards: Sequence[S]) -> Iterator[R]: ...

    def close(self) -> None: ...


class LocalExecutor(Generic[S, R]):
    """One worker in this process; shards run one after the other, only as the consumer asks for them."""

    def imap(self, job: ShardJob[S, R], shards: Sequence[S]) -> Iterator[R]:
        if not shards:
            return
        worker = job.open()
        try:
            for shard in shards:
                yield worker.run(shard)
        finally:
            worker.close()

    def close(self) -> None:
        pass


@contextlib.contextmanager
def open_executor(cfg: ExecutorConfig | None = None) -> Iterator[Executor]:
    """The executor ``cfg`` names (default: local), closed on exit (a Ray cluster started here is shut down)."""
    cfg = cfg or ExecutorConfig()
    cfg.validate()
    if cfg.kind == ExecutorKind.RAY.value:
        from twinarm.compose.ray_executor import RayExecutor

        executor: Executor = RayExecutor(cfg.ray)
    else:
        executor = LocalExecutor()
    try:
        yield executor
    finally:
        executor.close()


def chunks(items: Sequence[S], size: int) -> list[Sequence[S]]:
    """``items`` cut into consecutive pieces of ``size`` (the last may be shorter): the usual seed shards."""
    if size < 1:
        raise ConfigError(f"shard size must be >= 1, got {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]
