"""``twinarm sim task=lift episodes=5``: the scripted expert in simulation, its success rate and a video.

``robot=<model> task=<rule>`` names a robot's task by the rule it shares with other robots
(``twinarm sim robot=hopejr_arm task=reach`` runs ``hopejr_arm_reach``); without ``robot`` the task name is as is."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from twinarm.cli.common import output_dir
from twinarm.compose.sim_config import RealityConfig, SimConfig

HELP = "run the scripted expert of a sim task (reach, lift, place); print success; save an mp4 under outputs/"


@dataclasses.dataclass
class Config:
    task: str = "lift"
    robot: str = ""  # a robot model: task is then one of its tasks or their rule (reach, lift, ...); "": task as is
    episodes: int = 5
    seed: int = 0  # episode i uses seed + i
    video: bool = True
    video_height: int = 240
    video_width: int = 320
    output_dir: str = ""
    sim: SimConfig = dataclasses.field(default_factory=SimConfig)  # sim.params=PRESET|PATH (servo models, delay)
    reality: RealityConfig = dataclasses.field(default_factory=RealityConfig)  # reality.seed=N: a hidden reality
    randomize: str = "none"  # domain randomization per episode: none|physics|full[,RANGE=LOW:HIGH...] (sim.randomize)

    def validate(self) -> None:
        """Ranges (run by the CLI before ``run``)."""
        from twinarm.cli.checks import at_least

        at_least(self, ("episodes",), 1)
        at_least(self, ("video_height", "video_width"), 16)


def run(cfg: Config) -> None:
    from twinarm.compose.sim_config import reality_env_kwargs, sim_model_of_task, sim_params_for
    from twinarm.robot.video import write_video
    from twinarm.sim.envs import task_for_robot
    from twinarm.sim.experts import run_expert_episodes
    from twinarm.sim.randomize import randomize_config

    frames: list[np.ndarray] = []
    rate_hz = 30.0

    def grab(env: object) -> None:
        nonlocal rate_hz
        robot = env.unwrapped.robot
        rate_hz = robot.spec.control_hz
        h, w = cfg.video_height, cfg.video_width
        scene_cams = {robot.model.camera(i).name for i in range(robot.model.ncam)}
        views = [robot.render(cam, h, w) for cam in ("front", "wrist") if cam in scene_cams]
        frames.append(np.concatenate(views, axis=1))

    t0 = time.monotonic()
    task = task_for_robot(cfg.task, cfg.robot) if cfg.robot else cfg.task
    seeds = range(cfg.seed, cfg.seed + cfg.episodes)
    params = sim_params_for(sim_model_of_task(task), cfg.sim, cfg.reality)
    randomize = randomize_config(cfg.randomize)  # a bad preset or range fails before anything starts
    on_step = grab if cfg.video else None
    look = reality_env_kwargs(cfg.reality)  # a hidden reality's look shows in the video
    results = run_expert_episodes(task, seeds, on_step=on_step, sim_params=params, randomize=randomize, **look)
    for seed, ok in zip(seeds, results):
        print(f"episode {seed - cfg.seed} (seed {seed}): {'success' if ok else 'failure'}")
    successes = sum(results)
    elapsed = time.monotonic() - t0
    print(
        f"task {task}: success {successes}/{cfg.episodes} ({100.0 * successes / max(cfg.episodes, 1):.0f}%) "
        f"in {elapsed:.1f} s"
    )
    if cfg.video and frames:
        path = write_video(frames, output_dir("sim", cfg.output_dir) / f"{task}.mp4", fps=rate_hz)
        print(f"video: {path}")
