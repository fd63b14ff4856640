"""Run a chunking policy beside the control loop so inference never stalls it.

:class:`AsyncChunkSource` is an action source for ``robot.loop.run_loop``. A worker thread turns observations into
action chunks ``(k, n)`` [rad] with any ``predict_chunk(obs)`` callable (a torch policy, a remote server); the
loop's ``act`` never waits for it. A chunk predicted from the observation of step ``s0`` is indexed by the current
step, so inference latency does not delay the plan, and the first ``blend_steps`` actions of a new chunk are
cross-faded with the old chunk so motion does not jerk at chunk boundaries. When the plan runs dry ``act``
returns None and the loop's watchdog holds the robot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from twinarm.robot.robot import Observation

PredictChunk = Callable[[Observation], np.ndarray]


def blend_weights(blend_steps: int) -> np.ndarray:
    """Weights of the new chunk over the first ``blend_steps`` steps: a linear ramp ending below 1."""
    return (np.arange(1, blend_steps + 1, dtype=np.float32) / (blend_steps + 1)).astype(np.float32)


class AsyncChunkSource:
    """Keeps the next chunk ready in a worker thread; see the module docstring.

    Args:
        predict_chunk: observation -> (k, n) float32 joint targets [rad] for steps s0 .. s0+k-1.
        refill_at: request the next chunk when at most this many planned steps remain.
        blend_steps: steps over which a new chunk is cross-faded with the remaining old plan.
    """

    def __init__(self, predict_chunk: PredictChunk, refill_at: int = 8, blend_steps: int = 4) -> None:
        self.predict_chunk = predict_chunk
        self.refill_at = refill_at
        self.blend_steps = blend_steps
        self._cv = threading.Condition()
        self._request: tuple[int, Observation] | None = None
        self._result: tuple[int, np.ndarray] | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._busy = False
        self._epoch = 0  # bumped by reset(): a chunk computed for an earlier episode is dropped
        self._thread: threading.Thread | None = None
        self.reset()

    # -- worker ---------------------------------------------------------------------------------------------
    def start(self) -> AsyncChunkSource:
        if self._thread is None:
            self._closed = False
            self._thread = threading.Thread(target=self._work, name="policy-inference", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def __enter__(self) -> AsyncChunkSource:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _work(self) -> None:
        while True:
            with self._cv:
                while self._request is None and not self._closed:
                    self._cv.wait()
                if self._closed:
                    return
                step, obs = self._request
                epoch = self._epoch
                self._request = None
                self._busy = True
            try:
                chunk = np.asarray(self.predict_chunk(obs), dtype=np.float32)
            except BaseException as exc:  # noqa: BLE001 - surfaced in act() on the loop thread
                with self._cv:
                    self._error, self._busy = exc, False
                continue
            with self._cv:
                self._busy = False
                if epoch == self._epoch:
                    self._result = (step, chunk)

    # -- action source --------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the plan (call between episodes)."""
        with self._cv:
            self._request = self._result = None
            self._epoch += 1
        self._plan: np.ndarray | None = None  # (m, n) actions for steps plan_start ..
        self._plan_start = 0
        self._step = 0
        self.chunks_received = 0
        self.starved_steps = 0

    def act(self, obs: Observation) -> np.ndarray | None:
        if self._thread is None:
            self.start()
        with self._cv:
            if self._error is not None:
                err, self._error = self._error, None
                raise err
            result, self._result = self._result, None
            remaining = 0 if self._plan is None else self._plan_start + len(self._plan) - self._step
            if result is None and not self._busy and self._request is None and remaining <= self.refill_at:
                self._request = (self._step, obs)
                self._cv.notify()
        if result is not None:
            self._merge(*result)
        action = self._action_at(self._step)
        self._step += 1
        if action is None:
            self.starved_steps += 1
        return action

    def _action_at(self, step: int) -> np.ndarray | None:
        if self._plan is None:
            return None
        i = step - self._plan_start
        return self._plan[i] if 0 <= i < len(self._plan) else None

    def _merge(self, start: int, chunk: np.ndarray) -> None:
        self.chunks_received += 1
        skip = self._step - start  # steps that passed while the chunk was computed
        new = chunk[skip:]
        if len(new) == 0:
            return
        if self._plan is not None:
            old_i = self._step - self._plan_start
            old = self._plan[old_i:] if old_i >= 0 else self._plan[:0]
            b = min(self.blend_steps, len(old), len(new))
            if b > 0:
                w = blend_weights(self.blend_steps)[:b, None]
                new = new.copy()
                new[:b] = (1.0 - w) * old[:b] + w * new[:b]
        self._plan = new
        self._plan_start = self._step
