"""A fixed-rate recording loop over any frame source (sim expert, teleoperated hardware, a synthetic stream).

A source is anything with ``reset(episode: int) -> None`` (put the scene/robot in its start state) and
``step() -> (obs, action)`` (one control cycle: the observation the action was computed from and the joint
targets [rad] actually sent). ``record_episodes`` paces the loop at ``fps`` with ``time.monotonic()`` and
feeds a :class:`~robot.dataset.recorder.Recorder`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

import numpy as np

from robot.dataset.recorder import EpisodeSummary, Recorder


class FrameSource(Protocol):
    def reset(self, episode: int) -> None: ...

    def step(self) -> tuple[dict[str, np.ndarray], np.ndarray]: ...


def record_episodes(
    recorder: Recorder,
    source: FrameSource,
    episodes: int,
    episode_time_s: float,
    task: str,
    reset_time_s: float = 0.0,
    on_episode: Callable[[EpisodeSummary], None] | None = None,
) -> list[EpisodeSummary]:
    """Record ``episodes`` episodes of ``episode_time_s`` [s] each at ``recorder.fps``; returns their summaries.

    ``reset_time_s`` [s] is waited after each episode's ``source.reset`` (time for a human to reset a scene).
    If a cycle overruns, the loop re-anchors instead of bursting to catch up (the recorder counts the late
    frame).
    """
    period = 1.0 / recorder.fps
    frames_per_episode = max(1, round(episode_time_s * recorder.fps))
    out = []
    for k in range(episodes):
        source.reset(k)
        if reset_time_s > 0:
            time.sleep(reset_time_s)
        recorder.start_episode(task)
        next_t = time.monotonic()
        for _ in range(frames_per_episode):
            obs, action = source.step()
            recorder.add_frame(obs, action, timestamp=time.monotonic())
            next_t += period
            delay = next_t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif delay < -period:
                next_t = time.monotonic()
        summary = recorder.save_episode()
        out.append(summary)
        if on_episode is not None:
            on_episode(summary)
    return out
