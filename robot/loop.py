"""A fixed-rate control loop: one action source drives one robot; sinks watch every cycle.

Timing uses ``time.monotonic()`` with absolute deadlines (``start + k * period``), so there is no drift; a
cycle that finishes after its deadline is an *overrun* and the schedule re-anchors instead of bursting to catch
up. Safety is the robot's (limits and max step are applied in ``Robot.send_action``); the loop adds a watchdog:
when the source has produced no fresh action for ``stall_timeout_s`` the robot holds its last target.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, Protocol

import numpy as np

from twinarm.robot.robot import Observation, Robot


class ActionSource(Protocol):
    """Produces joint targets [rad]. ``act`` returns None when it has nothing new (the watchdog counts that)."""

    def reset(self) -> None: ...

    def act(self, obs: Observation) -> np.ndarray | None: ...


class Sink(Protocol):
    """Sees every cycle: the observation, the target actually sent, and the cycle time [s, monotonic]."""

    def on_step(self, obs: Observation, sent: np.ndarray, t: float) -> None: ...


class LoopReport(NamedTuple):
    """Timing of a run. Jitter = actual cycle start - scheduled start, in [s]."""

    steps: int
    duration_s: float
    rate_hz: float
    jitter_p50_s: float
    jitter_p99_s: float
    overruns: int
    watchdog_trips: int
    stopped_by: str  # "steps" | "duration" | "stop" | "source"

    def summary(self) -> str:
        return (
            f"{self.steps} steps in {self.duration_s:.2f} s ({self.rate_hz:.1f} Hz), jitter p50 "
            f"{self.jitter_p50_s * 1e3:.2f} ms p99 {self.jitter_p99_s * 1e3:.2f} ms, {self.overruns} overruns, "
            f"{self.watchdog_trips} watchdog trips"
        )


class RateClock:
    """Absolute-deadline pacing at ``rate_hz`` [Hz]; sleeps (never spins) until the next deadline."""

    def __init__(self, rate_hz: float, now: Callable[[], float] = time.monotonic) -> None:
        self.period_s = 1.0 / rate_hz
        self._now = now
        self.start = now()
        self._k = 0
        self.overruns = 0

    def wait(self) -> float:
        """Sleep until the next deadline; returns the lateness of this cycle's start in [s] (>= 0)."""
        self._k += 1
        deadline = self.start + self._k * self.period_s
        now = self._now()
        if now > deadline:
            self.overruns += 1
            self.start = now - self._k * self.period_s  # re-anchor: skip, do not burst
            return now - deadline
        time.sleep(deadline - now)
        return max(0.0, self._now() - deadline)


def run_loop(
    robot: Robot,
    source: ActionSource,
    sinks: Sequence[Sink] = (),
    *,
    max_steps: int | None = None,
    duration_s: float | None = None,
    rate_hz: float | None = None,
    stall_timeout_s: float = 0.5,
    stop: threading.Event | None = None,
    is_done: Callable[[Observation], bool] | None = None,
    paced: bool = True,
) -> LoopReport:
    """Run ``source`` on a connected ``robot`` at ``rate_hz`` (default: the spec's) until a limit is reached.

    ``is_done(obs)`` may end the run early (e.g. task success). ``paced=False`` runs as fast as the robot steps
    (a simulation recording demonstrations): no sleeping, and no jitter or overruns to report. Exceptions
    propagate: wrap the call in ``with robot:`` so torque is released on the way out.
    """
    rate = rate_hz or robot.spec.control_hz
    clock = RateClock(rate)
    jitter: list[float] = []
    steps = trips = 0
    last_fresh = clock.start
    stopped_by = "steps"
    obs = robot.get_observation()
    t0 = time.monotonic()
    while True:
        if max_steps is not None and steps >= max_steps:
            stopped_by = "steps"
            break
        if duration_s is not None and time.monotonic() - t0 >= duration_s:
            stopped_by = "duration"
            break
        if stop is not None and stop.is_set():
            stopped_by = "stop"
            break
        if is_done is not None and is_done(obs):
            stopped_by = "source"
            break
        action = source.act(obs)
        now = time.monotonic()
        if action is not None:
            last_fresh = now
            sent = robot.send_action(action)
        else:
            if now - last_fresh > stall_timeout_s:
                trips += 1
                last_fresh = now  # count one trip per stall period
            sent = robot.hold()
        for sink in sinks:
            sink.on_step(obs, sent, now)
        steps += 1
        if paced:
            jitter.append(clock.wait())
        obs = robot.get_observation()
    elapsed = time.monotonic() - t0
    j = np.asarray(jitter) if jitter else np.zeros(1)
    return LoopReport(
        steps=steps,
        duration_s=elapsed,
        rate_hz=steps / elapsed if elapsed > 0 else 0.0,
        jitter_p50_s=float(np.percentile(j, 50)),
        jitter_p99_s=float(np.percentile(j, 99)),
        overruns=clock.overruns if paced else 0,
        watchdog_trips=trips,
        stopped_by=stopped_by,
    )


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    """Within the block SIGTERM raises ``SystemExit(128 + SIGTERM)`` in the main thread.

    ``kill``, systemd and ``docker stop`` send SIGTERM, whose default action ends the process without unwinding: an
    arm would keep holding its last goal with torque on. Here every ``with robot:`` block exits through its normal
    cleanup instead, exactly as on Ctrl-C. The previous handler is restored afterwards; outside the main thread
    (where handlers cannot be installed) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
