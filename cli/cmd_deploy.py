"""``twinarm deploy policy.path=CKPT [robot.port=PORT|emulator] [physics=sim] task=lift episodes=N``.

Runs a trained policy on any backend through ``robot.loop.run_loop``: the policy predicts action chunks in a
worker thread (:class:`robot.chunking.AsyncChunkSource`), so inference never stalls the loop; when no fresh action
is ready the loop's watchdog holds the robot; SIGTERM (like Ctrl-C) unwinds through ``with robot:``, which
releases torque. Backends (``robot.port``):

* unset: the SimRobot of the task's scene (``robot.model`` must be the task's robot: ``task=grasp
  robot.model=amazing_hand`` for a hand task);
* ``emulator`` with ``physics=sim`` (default): hardware in the loop, the real driver, calibration and safety layers
  on an in-process emulated bus whose shafts and cameras are the MuJoCo scene (:mod:`twinarm.compose.hil`; the
  SO-101 follower);
* ``emulator`` with ``physics=first_order``: a dry run of the bus with the emulator's default motion (no world);
* anything else: the real robot on that port (before each episode it is driven to its sim model's home and, with
  ``prompt=true``, the command waits for Enter while you reset the scene).

Where the world is simulated (the first two), episode i is reset with seed ``seed + i`` exactly as ``twinarm eval``
resets its env (same default seeds; :class:`twinarm.compose.episodes.TaskEpisodes`), ends on the task's success or
time limit, and success is the task's test, so the two success rates compare. The robot's cameras default to the
checkpoint's contract (its cameras, at the size its training frames were captured at); frames of any size reach the
policy through the contract's one observation pipeline (aspect-preserving crop + resize), and a robot that lacks a
camera, has other joints or another control rate is refused before it moves. ``source=expert`` runs the task's
scripted expert instead of a policy (it plans from the simulator state, so it needs a simulated world): a baseline
for the plumbing and the physics. ``display=rerun`` streams the episodes to rerun (``display.rrd=PATH`` headless).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
from typing import Any

import numpy as np

from twinarm.cli.common import output_dir
from twinarm.compose.backends import EMULATOR, RobotConfig, built_robot
from twinarm.compose.policy import PolicyRef, check_robot, robot_for_contract
from twinarm.compose.sim_config import RealityConfig, SimConfig
from twinarm.compose.viewer import DisplayConfig, open_display
from twinarm.robot.errors import ConfigError
from twinarm.robot.loop import LoopReport, run_loop, terminate_on_sigterm
from twinarm.robot.robot import Robot

HELP = "run a trained policy (or the scripted expert) on the sim, a hardware-in-the-loop emulator or a real arm"

SOURCES = ("policy", "expert")
CAMERA_HINT = "map each camera to a device with +robot.camera_sources.<name>=<index|path>, or use a simulated backend"
PHYSICS = ("sim", "first_order")


def _robot_default() -> RobotConfig:
    return RobotConfig(cameras=[], camera_height=0, camera_width=0)  # unset: from the policy's contract


@dataclasses.dataclass
class Config:
    policy: PolicyRef = dataclasses.field(default_factory=PolicyRef)
    source: str = "policy"  # policy | expert (the task's scripted expert; simulated worlds only)
    robot: RobotConfig = dataclasses.field(default_factory=_robot_default)  # cameras []/size 0: from the policy
    physics: str = "sim"  # with robot.port=emulator: sim (hardware in the loop) | first_order (bus dry run)
    task: str = "lift"
    episodes: int = 1
    seed: int = 1000  # episode i uses seed + i (the default of `twinarm eval`)
    max_steps: int = 0  # per episode; 0 = the task's time limit
    refill_at: int = -1  # request the next chunk when this many planned steps remain; -1 = chunk - n_action_steps
    blend_steps: int = 0  # steps over which a new chunk is cross-faded with the old plan (0: replace it, as eval does)
    stall_timeout_s: float = 0.5  # watchdog: no fresh action for this long [s] counts a trip (the robot holds)
    home: bool = True  # real robot: drive to its sim model's home pose before each episode
    prompt: bool = True  # real robot: wait for Enter before each episode (reset the scene meanwhile)
    threads: int = 1  # torch CPU threads for inference (0 = torch default); the loop needs a core too
    output_dir: str = ""
    sim: SimConfig = dataclasses.field(default_factory=SimConfig)  # simulated robot / HIL physics: sim.params=...
    reality: RealityConfig = dataclasses.field(default_factory=RealityConfig)  # reality.seed=N: a hidden reality
    display: DisplayConfig = dataclasses.field(default_factory=DisplayConfig)  # display=rerun: live view


def _validate(cfg: Config) -> None:
    from twinarm.sim.envs import find_task

    if cfg.source not in SOURCES:
        raise ConfigError(f"source={cfg.source!r} is invalid; valid: {', '.join(SOURCES)}")
    if cfg.physics not in PHYSICS:
        raise ConfigError(f"physics={cfg.physics!r} is invalid; valid: {', '.join(PHYSICS)}")
    find_task(cfg.task)  # a ConfigError lists the valid tasks
    cfg.display.validate()
    if cfg.episodes < 1 or cfg.max_steps < 0 or cfg.stall_timeout_s <= 0:
        raise ConfigError("episodes >= 1, max_steps >= 0 and stall_timeout_s > 0 are required")
    simulated = cfg.robot.port is None or (cfg.robot.port == EMULATOR and cfg.physics == "sim")
    if cfg.source == "expert" and not simulated:
        raise ConfigError("source=expert plans from the simulator state: use no robot.port, or robot.port=emulator")
    if cfg.robot.port not in (None, EMULATOR) and cfg.prompt and not _stdin_is_tty():
        raise ConfigError(_NO_TTY)


_NO_TTY = (
    "prompt=true waits for Enter before each episode on the real robot, but stdin is not a terminal; run deploy "
    "in a terminal, or pass prompt=false to start every episode without waiting (reset the scene yourself)"
)


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):  # closed or replaced stdin
        return False


def _open_backend(cfg: Config, robot_cfg: RobotConfig, stack: contextlib.ExitStack) -> tuple[Robot, Any]:
    """Build and connect the robot; the episode harness for it."""
    from twinarm.compose.episodes import ManualEpisodes, TaskEpisodes
    from twinarm.compose.hil import hil_robot
    from twinarm.compose.registry import MODELS
    from twinarm.compose.sim_config import sim_params_for
    from twinarm.hardware.motors import Role

    entry = robot_cfg.entry()
    simulated = robot_cfg.port is None or (robot_cfg.port == EMULATOR and cfg.physics == "sim")
    params = sim_params_for(entry.sim, cfg.sim, cfg.reality) if simulated and entry.sim is not None else ""
    if robot_cfg.port == EMULATOR and cfg.physics == "sim":
        robot_cfg.validate()
        if not entry.sim_bus or robot_cfg.role != Role.FOLLOWER.value:
            valid = ", ".join(f"robot.model={name}" for name, m in MODELS.items() if m.sim_bus)
            raise ConfigError(f"physics=sim (hardware in the loop) serves the follower of: {valid}")
        arm = entry.bus(Role.FOLLOWER.value)
        hil = hil_robot(robot_cfg.control_hz, robot_cfg.camera_specs(), params, arm, entry.sim)
        rig = stack.enter_context(hil)
        stack.enter_context(rig.robot)
        return rig.robot, TaskEpisodes(cfg.task, rig.robot, rig.motion)
    robot = stack.enter_context(built_robot(robot_cfg, params))
    stack.enter_context(robot)
    if robot_cfg.port is None:
        return robot, TaskEpisodes(cfg.task, robot)
    home = np.asarray(entry.sim.home, np.float32) if cfg.home and entry.sim is not None else None
    prompt = robot_cfg.port != EMULATOR and cfg.prompt
    return robot, ManualEpisodes(robot, home, _wait_for_enter if prompt else None)


def _wait_for_enter(index: int) -> None:
    try:
        input(f"episode {index}: reset the scene, then press Enter to start (Ctrl-C to stop) ")
    except EOFError:  # stdin closed while waiting
        raise ConfigError(_NO_TTY) from None


def run(cfg: Config) -> None:
    _validate(cfg)
    policy = contract = None
    if cfg.source == "policy":
        import torch

        from twinarm.compose.policy import load_policy

        if cfg.threads > 0:
            torch.set_num_threads(cfg.threads)
        policy = load_policy(cfg.policy, command="deploy")
        contract = policy.contract
    robot_cfg = robot_for_contract(cfg.robot, contract)
    out = output_dir("deploy", cfg.output_dir or None)
    where = robot_cfg.port or "sim"
    what = f"{policy.name} from {cfg.policy.path}" if policy is not None else f"the {cfg.task} expert"
    print(f"deploying {what} on {where}" + (f" (physics={cfg.physics})" if where == EMULATOR else ""), flush=True)
    episodes_out: list[dict[str, Any]] = []
    try:
        with terminate_on_sigterm(), contextlib.ExitStack() as stack:
            robot, episodes = _open_backend(cfg, robot_cfg, stack)
            if contract is not None:
                check_robot(contract, robot.spec, cfg.policy, CAMERA_HINT if robot_cfg.port else "")
            max_steps = cfg.max_steps or _task_steps(cfg.task)
            done = (lambda obs: episodes.success()) if episodes.scored else None
            view = stack.enter_context(open_display(cfg.display, robot.spec, "deploy"))
            for k in range(cfg.episodes):
                seed = cfg.seed + k
                episodes.reset(k, seed)
                with contextlib.ExitStack() as episode:
                    source = _make_source(cfg, policy, episodes, robot, episode)
                    source.reset()
                    report = run_loop(
                        robot,
                        source,
                        [view] if view is not None else (),
                        max_steps=max_steps,
                        stall_timeout_s=cfg.stall_timeout_s,
                        is_done=done,
                    )
                episodes_out.append(_episode_info(k, seed, episodes.success(), report, source))
                print(_episode_line(episodes_out[-1], report), flush=True)
                if view is not None:
                    view.event(_episode_line(episodes_out[-1], report))
    finally:  # also after Ctrl-C / SIGTERM (torque is already off): report the episodes that finished
        if episodes_out:
            _summary(cfg, out, episodes_out)


def _task_steps(task: str) -> int:
    from twinarm.sim.envs import find_task

    return find_task(task)[1].tasks[task].max_steps


def _make_source(cfg: Config, policy: Any, episodes: Any, robot: Robot, episode: contextlib.ExitStack) -> Any:
    """A fresh source per episode (a chunk worker still busy with the last episode must not feed this one); what
    it starts stops with ``episode``."""
    if policy is None:
        from twinarm.compose.episodes import ExpertSource

        return ExpertSource(episodes, robot.spec.control_hz)
    from twinarm.robot.chunking import AsyncChunkSource

    policy.reset()
    refill = cfg.refill_at if cfg.refill_at >= 0 else max(1, policy.config.chunk_size - policy.config.n_action_steps)
    return episode.enter_context(AsyncChunkSource(policy.predict_chunk, refill_at=refill, blend_steps=cfg.blend_steps))


def _episode_info(k: int, seed: int, success: bool | None, report: LoopReport, source: Any) -> dict[str, Any]:
    return {
        "episode": k,
        "seed": seed,
        "success": success,
        "steps": report.steps,
        "stopped_by": report.stopped_by,
        "loop": report._asdict(),
        "chunks": getattr(source, "chunks_received", None),
        "starved_steps": getattr(source, "starved_steps", None),
    }


def _episode_line(info: dict[str, Any], report: LoopReport) -> str:
    outcome = {True: "success", False: "failure", None: "done"}[info["success"]]
    chunks = f", {info['chunks']} chunks, {info['starved_steps']} starved steps" if info["chunks"] is not None else ""
    return f"episode {info['episode']} (seed {info['seed']}): {outcome}; {report.summary()}{chunks}"


def _summary(cfg: Config, out: Any, episodes: list[dict[str, Any]]) -> None:
    known = [e["success"] for e in episodes if e["success"] is not None]
    info: dict[str, Any] = {"config": dataclasses.asdict(cfg), "episodes": episodes}
    if known:
        from twinarm.policies.evaluate import wilson_interval

        k, n = sum(known), len(known)
        lo, hi = wilson_interval(k, n)
        info.update(successes=k, success_rate=k / n, ci_low=lo, ci_high=hi)
        print(f"success {k}/{n} = {k / n:.0%} (95% CI {lo:.0%}-{hi:.0%}) on task {cfg.task}")
    trips = sum(e["loop"]["watchdog_trips"] for e in episodes)
    overruns = sum(e["loop"]["overruns"] for e in episodes)
    print(f"{len(episodes)} episodes, {overruns} loop overruns, {trips} watchdog trips")
    (out / "deploy_info.json").write_text(json.dumps(info, indent=2, default=_json_default))
    print(f"results: {out / 'deploy_info.json'}")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
