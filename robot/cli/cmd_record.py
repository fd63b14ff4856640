"""``twinarm record task=... episodes=N``: record LeRobot v3.0 episodes through a fixed-rate loop.

Sources: ``source=sim`` (default) runs the sim task's gymnasium env (``twinarm/...``) driven by its scripted
expert (``sim.experts``); ``source=synthetic`` is a smooth moving-pattern stream for dry runs without sim.
"""

from __future__ import annotations

import dataclasses
import importlib
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from robot.errors import ConfigError

HELP = "record episodes (sim scripted expert or a synthetic stream) into a LeRobot v3.0 dataset"


@dataclasses.dataclass
class DatasetTarget:
    root: str = ""  # default outputs/record/<time>/dataset; an existing dataset is resumed (appended to)
    codec: str = "h264"  # h264 | av1


@dataclasses.dataclass
class Config:
    source: str = "sim"  # sim | synthetic
    sim_task: str = "lift"  # sim task name (lift, reach, place) or a full gymnasium env id
    task: str = "Lift the cube"  # natural-language task stored with every episode
    episodes: int = 2
    episode_time_s: float = 10.0
    reset_time_s: float = 0.0
    fps: float = 30.0
    cameras: list[str] = dataclasses.field(default_factory=lambda: ["front", "wrist"])
    camera_height: int = 96
    camera_width: int = 96
    seed: int = 0
    dataset: DatasetTarget = dataclasses.field(default_factory=DatasetTarget)


class SyntheticSource:
    """Smooth joint motion inside the limits and a moving block in every camera (no simulator needed)."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.i = 0
        self.phase = 0.0

    def reset(self, episode: int) -> None:
        self.i, self.phase = 0, 0.7 * episode

    def step(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        self.i += 1
        mid, half = (self.spec.upper + self.spec.lower) / 2, (self.spec.upper - self.spec.lower) / 2
        t = self.i / self.spec.control_hz + self.phase
        pos = (mid + 0.5 * half * np.sin(t + np.arange(self.spec.num_joints))).astype(np.float32)
        obs = {"joint_pos": pos, "joint_vel": np.zeros_like(pos)}
        for cam in self.spec.cameras:
            img = np.full((cam.height, cam.width, 3), 60, np.uint8)
            x = int((self.i * 2) % max(1, cam.width - cam.width // 6))
            img[cam.height // 3 : cam.height // 2, x : x + cam.width // 6] = (220, 60, 40)
            obs[f"image.{cam.name}"] = img
        return obs, pos.copy()


class SimExpertSource:
    """A sim env driven by its scripted expert: ``expert.reset(...)``, ``expert.act(obs, privileged)``."""

    def __init__(self, cfg: Config, spec: Any) -> None:
        import gymnasium as gym

        from robot.cli.cmd_eval import env_id_for_task

        env_id = env_id_for_task(cfg.sim_task)
        try:
            experts = importlib.import_module("sim.experts")
        except ImportError as exc:
            raise ConfigError(f"source=sim needs sim.experts (scripted experts): {exc}; try source=synthetic") from exc
        make = getattr(experts, "make_expert", None)
        if make is None:
            raise ConfigError("sim.experts has no make_expert(task); cannot drive the sim task, try source=synthetic")
        self.env = gym.make(env_id, cameras=tuple(spec.cameras), control_hz=spec.control_hz)
        self.expert = make(cfg.sim_task)
        self.seed = cfg.seed
        self._obs: dict[str, np.ndarray] = {}
        self._info: dict[str, Any] = {}

    def reset(self, episode: int) -> None:
        self._obs, self._info = self.env.reset(seed=self.seed + episode)
        self.expert.reset(self._info.get("privileged"))

    def step(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        obs = self._obs
        action = np.asarray(self.expert.act(obs, self._info.get("privileged")), dtype=np.float32)
        self._obs, _, _, _, self._info = self.env.step(action)
        sent = self._info.get("action_sent", action)  # the clipped target when the env reports it
        return obs, np.asarray(sent, dtype=np.float32)

    def close(self) -> None:
        self.env.close()


def run(cfg: Config) -> None:
    from robot.dataset import Recorder, RecorderSettings, VideoSettings
    from robot.dataset.session import record_episodes
    from robot.models import SO101
    from robot.spec import CameraSpec

    if cfg.episodes < 1 or cfg.episode_time_s <= 0 or cfg.fps <= 0:
        raise ConfigError("episodes >= 1, episode_time_s > 0 and fps > 0 are required")
    spec = SO101.with_rate(cfg.fps).with_cameras(
        tuple(CameraSpec(c, cfg.camera_height, cfg.camera_width) for c in cfg.cameras)
    )
    if cfg.source == "synthetic":
        source: Any = SyntheticSource(spec)
    elif cfg.source == "sim":
        source = SimExpertSource(cfg, spec)
    else:
        raise ConfigError(f"source={cfg.source!r} is invalid; valid: sim, synthetic")
    root = (
        Path(cfg.dataset.root)
        if cfg.dataset.root
        else (Path("outputs/record") / datetime.now().strftime("%Y-%m-%d_%H-%M-%S") / "dataset")
    )
    settings = RecorderSettings(fps=cfg.fps, video=VideoSettings(codec=cfg.dataset.codec))
    with Recorder(root, spec, settings) as rec:
        for m in rec.messages:
            print(f"[record] repaired: {m}")
        first = rec.num_episodes
        print(
            f"[record] {cfg.episodes} episodes x {cfg.episode_time_s:.1f}s @ {cfg.fps:g} fps from {cfg.source} "
            f"-> {root}" + (f" (appending after {first} episodes)" if first else "")
        )

        def progress(s: Any) -> None:
            print(
                f"[record] episode {s.episode_index}: {s.frames} frames, dropped {s.dropped_frames}, "
                f"late {s.late_frames}, saved in {s.save_s * 1e3:.0f} ms"
            )

        summaries = record_episodes(
            rec, source, cfg.episodes, cfg.episode_time_s, cfg.task, cfg.reset_time_s, on_episode=progress
        )
    if hasattr(source, "close"):
        source.close()
    frames = sum(s.frames for s in summaries)
    dropped = sum(s.dropped_frames for s in summaries)
    late = sum(s.late_frames for s in summaries)
    print(
        f"[record] done: {len(summaries)} episodes, {frames} frames, {dropped} dropped, {late} late; "
        f"max save {max(s.save_s for s in summaries) * 1e3:.0f} ms; dataset at {root}"
    )
