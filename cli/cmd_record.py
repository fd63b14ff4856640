"""``twinarm record source=... episodes=N``: record LeRobot v3.0 episodes from any source through the control loop.

Sources (see ``twinarm.compose.sources``): ``leader``, ``keyboard``, ``gamepad`` (a person teleoperates),
``expert`` (the sim task's scripted expert; ``sim`` is an alias), ``policy`` (a checkpoint), ``wave`` (scripted
motion), and ``synthetic`` (a wave on an in-memory robot with drawn camera images: no sim, no hardware).
Without ``robot.port`` the robot is ``robot.model`` in its sim task ``task`` (each episode starts from the seeded
scene ``seed + episode``, as ``twinarm eval`` resets it); ``task`` means the sim task here as in ``sim``, ``eval`` and
``deploy``, and ``label`` is the natural-language text stored with every episode (default: one for the task);
``robot.port=emulator`` is a dry run on an emulated bus; a serial port drives the real robot.

One frame per control cycle: the dataset's fps is ``robot.control_hz``. With a person or real hardware in the loop
the recording runs in real time; a program driving a simulation (expert, policy, synthetic) records as fast as the
simulator steps (``realtime=false``; timestamps are ``frame_index / fps`` either way). Episode keys in the terminal:
next / re-record / stop (``keys=none`` disables them, ``keys=PATH`` reads them from a file or FIFO); Ctrl-C aborts
the episode being recorded (saved episodes stay, and the dataset is resumed by the next run on the same root).
``display=rerun`` streams the session to rerun (``display.rrd=PATH`` headless); a failing view only warns.

``executor=ray`` records ``source=expert`` in simulation on a Ray cluster (``ray.address``; none: a local one):
each worker steps a batched env of ``num_envs`` envs of the task (``compose.collect``), one episode of
``episode_time_s`` per seed ``seed + k``, and the episodes are written in seed order, so the dataset is the same
for any number of workers. That path has no episode keys and no live view; it steps the task env (as ``twinarm
demo`` records), not the control loop, so its frames are not bit-identical to ``executor=local``'s.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from twinarm.compose.backends import RobotConfig, open_robot
from twinarm.compose.executor import ExecutorConfig, ExecutorKind, RayConfig
from twinarm.compose.homunculus import HomunculusSettings
from twinarm.compose.keys import episode_controls, episode_help, open_keys
from twinarm.compose.runs import loop_summary
from twinarm.compose.sources import (
    HUMAN_SOURCES,
    SOURCES,
    PolicyRef,
    SourceOptions,
    TeleopSettings,
    build_source,
    leader_default,
)
from twinarm.compose.viewer import DisplayConfig, open_display
from twinarm.robot.errors import ConfigError
from twinarm.robot.loop import terminate_on_sigterm
from twinarm.robot.robot import Robot

if TYPE_CHECKING:
    from twinarm.compose.episodes import TaskEpisodes

HELP = "record episodes (teleop, scripted expert, policy, synthetic) into a LeRobot v3.0 dataset"

ALIASES = {"sim": "expert"}
RECORD_SOURCES = (*SOURCES, "synthetic")


@dataclasses.dataclass
class DatasetTarget:
    root: str = ""  # default outputs/record/<time>/dataset; an existing dataset is resumed (appended to)
    codec: str = "h264"  # h264 | av1


@dataclasses.dataclass
class Config:
    source: str = "expert"  # leader | keyboard | gamepad | homunculus | expert | policy | wave | synthetic
    robot: RobotConfig = dataclasses.field(default_factory=RobotConfig)
    leader: RobotConfig = dataclasses.field(default_factory=leader_default)
    teleop: TeleopSettings = dataclasses.field(default_factory=TeleopSettings)
    policy: PolicyRef = dataclasses.field(default_factory=PolicyRef)
    homunculus: HomunculusSettings = dataclasses.field(default_factory=HomunculusSettings)  # source=homunculus
    task: str = "lift"  # sim task of robot.model (reach|lift|place; amazing_hand: grasp|reach_pose), as in sim/eval
    label: str = ""  # natural-language task stored with every episode ("" = the task's default label)
    sim_task: str = ""  # deprecated alias of task (then an old-style text in task= is taken as the label)
    episodes: int = 2
    episode_time_s: float = 10.0
    reset_time_s: float = 0.0  # between episodes, real time only (a person resets the scene; teleop keeps running)
    realtime: bool | None = None  # default: real time unless a program drives a simulation
    keys: str = "stdin"  # episode keys from: stdin | none | path of a file or FIFO
    seed: int = 0
    dataset: DatasetTarget = dataclasses.field(default_factory=DatasetTarget)
    display: DisplayConfig = dataclasses.field(default_factory=DisplayConfig)  # display=rerun: live view
    executor: str = "local"  # local (the control loop here) | ray: source=expert in sim on a Ray cluster
    ray: RayConfig = dataclasses.field(default_factory=RayConfig)
    num_envs: int = 4  # executor=ray: envs of each worker's batched env

    def validate(self) -> None:
        """Ranges and choices (run by the CLI before ``run``, and by ``run``)."""
        from twinarm.cli.checks import at_least, check, one_of

        one_of("source", ALIASES.get(self.source, self.source), RECORD_SOURCES)
        at_least(self, ("episodes",), 1)
        check(self.episode_time_s > 0, "episode_time_s", self.episode_time_s, "a number > 0 [s]")
        at_least(self, ("reset_time_s",), 0)
        one_of("dataset.codec", self.dataset.codec, ("h264", "av1"))
        self.display.validate()
        at_least(self, ("num_envs",), 1)
        ExecutorConfig(self.executor, self.ray).validate()
        if self.executor != ExecutorKind.LOCAL.value:
            source = ALIASES.get(self.source, self.source)
            check(source == "expert", "source", self.source, f"expert (executor={self.executor} records the expert)")
            check(self.robot.port is None, "robot.port", self.robot.port, f"unset (executor={self.executor}: sim)")
            check(not self.display.enabled, "display", self.display.kind, f"none (executor={self.executor})")


def _realtime(cfg: Config, source: str) -> bool:
    simulated = cfg.robot.port is None or source == "synthetic"
    if cfg.realtime is None:
        return source in HUMAN_SOURCES or not simulated
    if not cfg.realtime and not simulated:
        raise ConfigError(f"realtime=false needs a simulated robot; robot.port={cfg.robot.port!r} runs in real time")
    return cfg.realtime


#: Label stored with the episodes of a sim task when ``label`` is empty (other tasks: the task name in words).
DEFAULT_LABELS = {
    "lift": "Lift the cube",
    "reach": "Reach the target",
    "place": "Place the cube on the target",
    "grasp": "Grasp the object",
    "reach_pose": "Reach the hand pose",
}


class TaskLabel(NamedTuple):
    task: str  # sim task name
    label: str  # natural-language text stored with the episodes


def task_and_label(cfg: Config) -> TaskLabel:
    """The sim task and the episode label of ``cfg``; the deprecated ``sim_task=`` still works (with a note)."""
    task, label = cfg.task, cfg.label
    if cfg.sim_task:
        if not _is_task_name(task):  # old style: task= held the text
            label = label or task
        elif task != Config.task and task != cfg.sim_task:
            raise ConfigError(f"task={task!r} and sim_task={cfg.sim_task!r} disagree; give only task=<sim task>")
        task = cfg.sim_task
        print(f"[record] note: sim_task= is deprecated; use task={task} label={label or '...'!r}")
    return TaskLabel(task, label or DEFAULT_LABELS.get(task, task.replace("_", " ")))


def _is_task_name(task: str) -> bool:
    from twinarm.sim.envs import env_id

    try:
        env_id(task)
    except ConfigError:
        return False
    return True


def _is_own_task(cfg: Config, task: str) -> bool:
    """Whether ``task`` is a task of the robot model (else the model records on its bare sim robot, e.g. a hand
    with the default ``lift``); ConfigError for a task no model has."""
    from twinarm.sim.envs import env_id

    try:
        env_id(task)
    except ConfigError as exc:
        raise ConfigError(f"{exc} (task= is the sim task; the text stored with the episodes goes in label=)") from None
    tasks = cfg.robot.entry().tasks
    return tasks is not None and task in tasks.tasks


def _open_robot(cfg: Config, source: str, task: str, stack: contextlib.ExitStack) -> tuple[Robot, TaskEpisodes | None]:
    """The robot to record (connected) and, in simulation of one of the model's own tasks, its task episodes."""
    if source == "synthetic":
        from twinarm.compose.scripted import SyntheticRobot

        spec = cfg.robot.entry().spec.with_rate(cfg.robot.control_hz).with_cameras(cfg.robot.camera_specs())
        return stack.enter_context(SyntheticRobot(spec)), None
    robot = stack.enter_context(open_robot(cfg.robot))
    if cfg.robot.port is not None or not _is_own_task(cfg, task):
        return robot, None
    from twinarm.compose.episodes import TaskEpisodes

    return robot, TaskEpisodes(task, robot)


def _scene_reset(episodes: TaskEpisodes | None, seed: int) -> Callable[[int], None] | None:
    """Dataset episode k starts from the scene seed ``seed + k`` draws (None: nothing to reset)."""
    if episodes is None:
        return None
    return lambda k: episodes.reset(k, seed + k)


def run(cfg: Config) -> None:
    from twinarm.dataset import Recorder, RecorderSettings, VideoSettings
    from twinarm.dataset.session import EpisodePlan, RecordedEpisode, record_episodes

    cfg.validate()
    source = ALIASES.get(cfg.source, cfg.source)
    task, label = task_and_label(cfg)
    root = (
        Path(cfg.dataset.root)
        if cfg.dataset.root
        else Path("outputs/record") / datetime.now().strftime("%Y-%m-%d_%H-%M-%S") / "dataset"
    )
    if cfg.executor != ExecutorKind.LOCAL.value:
        return _record_on_executor(cfg, task, label, root)
    realtime = _realtime(cfg, source)
    with terminate_on_sigterm(), contextlib.ExitStack() as stack:
        robot, episodes = _open_robot(cfg, source, task, stack)
        keys = open_keys(cfg.keys, stack)
        options = SourceOptions(cfg.leader, cfg.teleop, cfg.policy, realtime, episodes, cfg.homunculus)
        built = build_source("wave" if source == "synthetic" else source, robot, options, keys, stack)
        controls = episode_controls(keys, built.claimed_keys)
        # unpaced, the encoder queues hold a whole episode: a fast simulator waits at save, it never drops frames
        queue_s = 2.0 if realtime else cfg.episode_time_s + 1.0
        settings = RecorderSettings(robot.spec.control_hz, VideoSettings(codec=cfg.dataset.codec), queue_s=queue_s)
        view = stack.enter_context(open_display(cfg.display, robot.spec, "record"))
        rec = stack.enter_context(Recorder(root, robot.spec, settings))
        for m in rec.messages:
            print(f"[record] repaired: {m}")
        first = rec.num_episodes
        where = "synthetic robot" if source == "synthetic" else (cfg.robot.port or f"sim task {task}")
        print(
            f"[record] {cfg.episodes} episodes x {cfg.episode_time_s:g} s @ {robot.spec.control_hz:g} fps from "
            f"{source} on {where} ({'real time' if realtime else 'unpaced'}), label {label!r} -> {root}"
            + (f" (appending after {first} episodes)" if first else "")
        )
        if built.help:
            print(f"[record] {built.help}")
        if controls is not None:
            print(f"[record] episode keys: {episode_help(built.claimed_keys)}")

        def progress(ep: RecordedEpisode) -> None:
            s = ep.summary
            line = (
                f"episode {s.episode_index}: {s.frames} frames, dropped {s.dropped_frames}, "
                f"late {s.late_frames}, saved in {s.save_s * 1e3:.0f} ms; loop {loop_summary(ep.loop, realtime)}"
            )
            print(f"[record] {line}")
            if view is not None:
                view.event(line)

        def event(message: str) -> None:
            print(f"[record] {message}")
            if view is not None:
                view.event(message)

        recorded = record_episodes(
            rec,
            robot,
            built.source,
            EpisodePlan(cfg.episodes, cfg.episode_time_s, label, cfg.reset_time_s, realtime),
            controls=controls,
            reset_scene=_scene_reset(episodes, cfg.seed),
            reset_source=built.source if source in HUMAN_SOURCES else None,
            on_episode=progress,
            on_event=event,
            observers=[view] if view is not None else (),
        )
    summaries = [e.summary for e in recorded]
    frames = sum(s.frames for s in summaries)
    dropped = sum(s.dropped_frames for s in summaries)
    late = sum(s.late_frames for s in summaries)
    max_save = max((s.save_s for s in summaries), default=0.0)
    print(
        f"[record] done: {len(summaries)} episodes, {frames} frames, {dropped} dropped, {late} late; "
        f"max save {max_save * 1e3:.0f} ms; dataset at {root}"
    )


def _record_on_executor(cfg: Config, task: str, label: str, root: Path) -> None:
    """``source=expert`` on ``cfg.executor``: batched task envs on the workers, episodes saved here in seed order."""
    from twinarm.compose.collect import record_expert
    from twinarm.compose.executor import open_executor

    if not _is_own_task(cfg, task):
        raise ConfigError(f"executor={cfg.executor} records a sim task of robot.model={cfg.robot.model}; got {task!r}")
    print(f"[record] {cfg.episodes} expert episodes x {cfg.episode_time_s:g} s of sim task {task} on {cfg.executor}")
    with open_executor(ExecutorConfig(cfg.executor, cfg.ray)) as executor:
        seeds = range(cfg.seed, cfg.seed + cfg.episodes)
        stats = record_expert(
            executor, cfg.robot, task, label, root, seeds, cfg.episode_time_s, cfg.num_envs, cfg.dataset.codec
        )
    print(f"[record] done: {stats.kept} episodes ({stats.expert_successes} solved), {stats.frames} frames at {root}")
