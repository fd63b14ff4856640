"""``twinarm sim task=lift episodes=5``: the scripted expert in simulation, its success rate and a video."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from robot.cli.common import output_dir

HELP = "run the scripted expert of a sim task (reach, lift, place); print success; save an mp4 under outputs/"


@dataclasses.dataclass
class Config:
    task: str = "lift"
    episodes: int = 5
    seed: int = 0  # episode i uses seed + i
    video: bool = True
    video_height: int = 240
    video_width: int = 320
    output_dir: str = ""


def run(cfg: Config) -> None:
    import gymnasium as gym

    import sim
    from robot.video import write_video
    from sim.envs import env_id
    from sim.experts import make_expert

    env = gym.make(env_id(cfg.task), cameras=())
    expert = make_expert(cfg.task)
    robot: sim.SimRobot = env.unwrapped.robot
    frames: list[np.ndarray] = []
    successes, t0 = 0, time.monotonic()
    try:
        for k in range(cfg.episodes):
            obs, info = env.reset(seed=cfg.seed + k)
            expert.reset(info["privileged"])
            steps, done = 0, False
            while not done:
                obs, _, terminated, truncated, info = env.step(expert.act(obs, info["privileged"]))
                steps, done = steps + 1, terminated or truncated
                if cfg.video:
                    h, w = cfg.video_height, cfg.video_width
                    frames.append(np.concatenate([robot.render("front", h, w), robot.render("wrist", h, w)], axis=1))
            successes += bool(info["is_success"])
            print(f"episode {k} (seed {cfg.seed + k}): {'success' if info['is_success'] else 'failure'}, {steps} steps")
    finally:
        env.close()
    elapsed = time.monotonic() - t0
    print(
        f"task {cfg.task}: success {successes}/{cfg.episodes} ({100.0 * successes / max(cfg.episodes, 1):.0f}%) "
        f"in {elapsed:.1f} s"
    )
    if cfg.video and frames:
        path = write_video(frames, output_dir("sim", cfg.output_dir) / f"{cfg.task}.mp4", fps=robot.spec.control_hz)
        print(f"video: {path}")
