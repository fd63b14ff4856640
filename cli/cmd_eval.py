"""``twinarm eval policy.path=CKPT task=lift episodes=50``: success rate in simulation, with videos."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from twinarm.compose.sim_config import RealityConfig, SimConfig
from twinarm.robot.errors import ConfigError

HELP = "evaluate a trained policy in a simulated task: success rate (Wilson 95% CI), episode length, videos"


def env_id_for_task(task: str) -> str:
    """The env id of a task name (or ``task`` itself when it is already an id); importing sim registers the envs."""
    if "/" in task:
        import twinarm.sim  # noqa: F401

        return task
    from twinarm.sim.envs import env_id

    return env_id(task)


@dataclasses.dataclass
class PolicyRef:
    path: str = ""  # checkpoint directory holding config.json + model.safetensors


@dataclasses.dataclass
class Config:
    policy: PolicyRef = dataclasses.field(default_factory=PolicyRef)
    task: str = "lift"
    episodes: int = 50
    num_envs: int = 4
    seed: int = 1000  # episode i uses seed + i
    max_steps: int = 2000
    videos: int = 3
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    output_dir: str = ""
    threads: int = 0
    sim: SimConfig = dataclasses.field(default_factory=SimConfig)  # sim.params=PRESET|PATH (servo models, delay)
    reality: RealityConfig = dataclasses.field(default_factory=RealityConfig)  # reality.seed=N: a hidden reality


def run(cfg: Config) -> None:
    import torch
    from twinarm.compose.sim_config import model_of_task, sim_params_for
    from twinarm.policies.base import Policy
    from twinarm.policies.evaluate import evaluate

    if not cfg.policy.path:
        raise ConfigError("policy.path is required: a checkpoint directory (config.json + model.safetensors)")
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    policy = Policy.load(cfg.policy.path)
    env_id = env_id_for_task(cfg.task)
    params = sim_params_for(model_of_task(env_id), cfg.sim, cfg.reality)
    out = Path(cfg.output_dir or Path("outputs/eval") / time.strftime("%Y-%m-%d_%H-%M-%S"))
    print(f"evaluating {policy.name} from {cfg.policy.path} on {env_id}: {cfg.episodes} episodes")
    result = evaluate(
        policy,
        env_id,
        cfg.episodes,
        cfg.num_envs,
        cfg.seed,
        {"sim_params": params, **cfg.env_kwargs},
        cfg.max_steps,
        out / "videos",
        cfg.videos,
    )
    out.mkdir(parents=True, exist_ok=True)
    info = {
        **result._asdict(),
        "videos": [str(p) for p in result.videos],
        "env_id": env_id,
        "policy_path": cfg.policy.path,
    }
    (out / "eval_info.json").write_text(json.dumps(info, indent=2))
    print(result.summary())
    print(f"results: {out / 'eval_info.json'}; videos: {out / 'videos'}")
