"""Pinned worker threads: run one function on fixed partitions of work, partition ``k`` always on thread ``k``.

MuJoCo releases the GIL inside ``mj_step`` and while rendering, so Python threads step several simulations at
once. Partitions are pinned because an OpenGL (EGL) context can be current in one thread only: a renderer made on
a thread must render and close on that thread. Partition 0 runs on the caller's thread, so one thread costs no
hand-off; the others wait on a queue each. Call :meth:`PinnedThreads.close` when done (not left to ``__del__``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from twinarm.robot.errors import ConfigError

T = TypeVar("T")
_STOP = None


class PinnedThreads:
    """``n_threads`` threads (the caller's and ``n_threads - 1`` workers); :meth:`run` calls ``fn(parts[k])`` on
    thread ``k`` for every ``k`` and returns when all are done, raising the first exception any of them raised."""

    def __init__(self, n_threads: int) -> None:
        if n_threads < 1:
            raise ConfigError(f"PinnedThreads needs n_threads >= 1, got {n_threads}")
        self.n_threads = n_threads
        self._inboxes: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(n_threads - 1)]
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._serve, args=(box,), name=f"twinarm-env-{k + 1}", daemon=True)
            for k, box in enumerate(self._inboxes)
        ]
        for thread in self._threads:
            thread.start()

    def _serve(self, inbox: queue.SimpleQueue) -> None:
        while (job := inbox.get()) is not _STOP:
            fn, part = job
            try:
                fn(part)
            except BaseException as exc:  # noqa: BLE001  (handed to the caller, which re-raises it)
                self._done.put(exc)
            else:
                self._done.put(None)

    def run(self, fn: Callable[[T], Any], parts: Sequence[T]) -> None:
        """``fn(parts[k])`` on thread ``k``, all at once; ``len(parts)`` must equal ``n_threads``."""
        if len(parts) != self.n_threads:
            raise ConfigError(f"PinnedThreads.run got {len(parts)} parts for {self.n_threads} threads")
        if not self._threads and self.n_threads > 1:
            raise ConfigError("PinnedThreads.run called after close()")
        for box, part in zip(self._inboxes, parts[1:]):
            box.put((fn, part))
        try:
            fn(parts[0])
        finally:  # wait for every worker, even after an error: none may still be running when this returns
            errors = [self._done.get() for _ in self._inboxes]
        error = next((e for e in errors if e is not None), None)
        if error is not None:
            raise error

    def close(self) -> None:
        """Stop and join the worker threads; calling it again does nothing."""
        for box in self._inboxes:
            box.put(_STOP)
        for thread in self._threads:
            thread.join()
        self._threads = []
        self._inboxes = []
