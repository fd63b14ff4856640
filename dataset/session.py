"""Recording sessions: the control loop (``robot.loop.run_loop``) with a dataset recorder as its sink.

Any robot and any action source (a leader arm, keyboard/gamepad teleoperation, a policy, a scripted expert) record
the same way: each control cycle's observation and the target actually sent become one frame. Episode controls
(``robot.keyboard.EpisodeEvent``: next / re-record / stop) come from any object with ``events()``.

Pacing: a real robot (or a human in the loop) records in real time at the robot's control rate, which is the
dataset's fps. A simulation driven by a program (expert, policy) need not wait for the wall clock: with
``EpisodePlan.realtime=False`` the loop runs as fast as the simulator steps and frames are stamped
``frame_index / fps`` (the recorder stores nominal timestamps either way).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

import numpy as np

from twinarm.dataset.errors import RecorderError
from twinarm.dataset.recorder import EpisodeSummary, Recorder
from twinarm.robot.keyboard import EpisodeEvent
from twinarm.robot.loop import ActionSource, LoopReport, Sink, run_loop
from twinarm.robot.robot import Observation, Robot


class Controls(Protocol):
    """Episode controls pressed since the last call (``robot.keyboard.EpisodeKeys``)."""

    def events(self) -> list[EpisodeEvent]: ...


class EpisodePlan(NamedTuple):
    """``episodes`` episodes of ``episode_time_s`` [s] for ``task`` (natural-language text); ``reset_time_s`` [s]
    between episodes for a human to reset the scene (the reset source keeps running, nothing is recorded; real
    time only: a simulated scene is reset by ``reset_scene``);
    ``realtime``: pace the loop at the control rate (False: as fast as the robot steps; simulation only)."""

    episodes: int
    episode_time_s: float
    task: str
    reset_time_s: float = 0.0
    realtime: bool = True


class RecordedEpisode(NamedTuple):
    summary: EpisodeSummary
    loop: LoopReport


class RecordingSink:
    """Loop sink: one dataset frame per cycle (observation, target sent). Unpaced, frames get virtual times."""

    def __init__(self, recorder: Recorder, realtime: bool = True) -> None:
        self.recorder, self.realtime = recorder, realtime
        self.frames = 0

    def on_step(self, obs: Observation, sent: np.ndarray, t: float) -> None:
        stamp = t if self.realtime else self.frames / self.recorder.fps
        self.recorder.add_frame(obs, sent, timestamp=stamp)
        self.frames += 1


class _Watch:
    """``is_done`` for the loop: polls the controls each cycle and remembers the deciding event."""

    def __init__(self, controls: Controls | None) -> None:
        self.controls = controls
        self.event: EpisodeEvent | None = None

    def __call__(self, obs: Observation) -> bool:
        if self.controls is not None:
            for event in self.controls.events():
                if self.event is not EpisodeEvent.STOP:  # stop wins over anything pressed with it
                    self.event = event
        return self.event is not None


def record_episodes(
    recorder: Recorder,
    robot: Robot,
    source: ActionSource,
    plan: EpisodePlan,
    *,
    controls: Controls | None = None,
    reset_scene: Callable[[int], None] | None = None,
    reset_source: ActionSource | None = None,
    on_episode: Callable[[RecordedEpisode], None] | None = None,
    on_event: Callable[[str], None] | None = None,
    observers: Sequence[Sink] = (),
) -> list[RecordedEpisode]:
    """Record ``plan.episodes`` episodes of ``source`` driving the connected ``robot`` into ``recorder``.

    ``reset_scene(k)`` puts a simulated scene in the start state of dataset episode ``k`` (e.g. a seeded env
    reset; a re-recorded episode gets the same ``k``).
    ``reset_source`` drives the robot during the reset time (a teleoperator moving the arm back; default: hold).
    Controls: NEXT ends the episode (or the reset time) early and keeps it; RERECORD discards the episode and
    records it again after a reset; STOP keeps the episode and ends the session. ``recorder.fps`` must equal the
    robot's control rate. ``observers`` are further loop sinks watching every cycle, recorded or not (a live view);
    they run after the recorder, so a frame is stored before any observer sees it. Returns the saved episodes.
    """
    if abs(recorder.fps - robot.spec.control_hz) > 1e-6:
        raise RecorderError(
            f"{recorder.root}: dataset fps {recorder.fps:g} differs from the robot's control rate "
            f"{robot.spec.control_hz:g} Hz; one frame is recorded per control cycle, so they must be equal"
        )
    steps = max(1, round(plan.episode_time_s * recorder.fps))
    say = on_event or (lambda message: None)
    done: list[RecordedEpisode] = []
    while len(done) < plan.episodes:
        if reset_scene is not None:
            reset_scene(recorder.num_episodes)  # a re-recorded episode starts from the same scene
        source.reset()
        recorder.start_episode(plan.task)
        watch = _Watch(controls)
        sink = RecordingSink(recorder, plan.realtime)
        report = run_loop(robot, source, [sink, *observers], max_steps=steps, is_done=watch, paced=plan.realtime)
        if sink.frames == 0 or watch.event is EpisodeEvent.RERECORD:
            recorder.discard_episode()
            if watch.event is EpisodeEvent.STOP:
                say("stop requested")
                break
            say(f"episode {recorder.num_episodes} discarded: recording it again")
        else:
            episode = RecordedEpisode(recorder.save_episode(), report)
            done.append(episode)
            if on_episode is not None:
                on_episode(episode)
            if watch.event is EpisodeEvent.STOP:
                say("stop requested")
                break
        if plan.reset_time_s > 0 and plan.realtime and len(done) < plan.episodes:
            say(f"reset the scene: {plan.reset_time_s:g} s (next key skips)")
            if _reset_phase(robot, reset_source, plan, controls, observers) is EpisodeEvent.STOP:
                say("stop requested")
                break
    return done


class _Hold:
    """Commands nothing: the loop holds the robot where it is."""

    def reset(self) -> None:
        pass

    def act(self, obs: Observation) -> None:
        return None


def _reset_phase(
    robot: Robot,
    source: ActionSource | None,
    plan: EpisodePlan,
    controls: Controls | None,
    observers: Sequence[Sink] = (),
) -> EpisodeEvent | None:
    """Run ``source`` (default: hold) for ``plan.reset_time_s`` [s] without recording; NEXT ends it early."""
    watch = _Watch(controls)
    run_loop(
        robot,
        source or _Hold(),
        observers,
        duration_s=plan.reset_time_s,
        paced=plan.realtime,
        stall_timeout_s=math.inf,
        is_done=watch,
    )
    return watch.event
