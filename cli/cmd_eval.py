"""``twinarm eval policy.path=CKPT task=lift episodes=50``: success rate in simulation, with videos.

The env is built from the checkpoint's contract (its cameras at their training capture size, its control rate;
``task`` defaults to the simulated task it was trained on), so no extra keys are needed to reproduce the figure
its training run printed. ``env_kwargs`` overrides stay possible and are checked against the contract.

``executor=ray`` runs the episodes on a Ray cluster (``ray.address=...``; none: a local cluster of ``ray.workers``
actors), each worker with its own batched env of ``num_envs`` envs and a copy of the policy; the figures are the
same as ``executor=local`` (this process) for the same seeds (``compose.eval_jobs``). Needs ``pip install
"twinarm[ray]"``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from twinarm.compose.executor import ExecutorConfig, RayConfig
from twinarm.compose.policy import PolicyRef
from twinarm.compose.sim_config import RealityConfig, SimConfig

HELP = "evaluate a trained policy in a simulated task: success rate (Wilson 95% CI), episode length, videos"


def env_id_for_task(task: str) -> str:
    """The env id of a task name (or ``task`` itself when it is already an id); importing sim registers the envs."""
    if "/" in task:
        import twinarm.sim  # noqa: F401

        return task
    from twinarm.sim.envs import env_id

    return env_id(task)


DEFAULT_TASK = "lift"


@dataclasses.dataclass
class Config:
    policy: PolicyRef = dataclasses.field(default_factory=PolicyRef)
    task: str = ""  # sim task or env id; empty: the policy's training task (its contract's sim_task), else lift
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
    randomize: str = "none"  # domain randomization per episode: none|physics|full[,RANGE=LOW:HIGH...] (sim.randomize)
    executor: str = "local"  # local (this process) | ray (a Ray cluster: ray.address, ray.workers)
    ray: RayConfig = dataclasses.field(default_factory=RayConfig)

    def validate(self) -> None:
        """Ranges (run by the CLI before ``run``)."""
        from twinarm.cli.checks import at_least

        at_least(self, ("episodes", "num_envs", "max_steps"), 1)
        at_least(self, ("videos", "threads"), 0)
        self.executor_config().validate()  # executor=ray without Ray installed: MissingExtraError, before loading

    def executor_config(self) -> ExecutorConfig:
        return ExecutorConfig(self.executor, self.ray)


def run(cfg: Config) -> None:
    import torch
    from tqdm import tqdm

    from twinarm.compose.eval_jobs import evaluate_on
    from twinarm.compose.executor import open_executor
    from twinarm.compose.policy import load_policy
    from twinarm.compose.sim_config import reality_env_kwargs, sim_model_of_task, sim_params_for
    from twinarm.policies.evaluate import contract_env_kwargs
    from twinarm.sim.randomize import randomize_config

    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    policy = load_policy(cfg.policy, command="eval")
    env_id = env_id_for_task(cfg.task or policy.contract.sim_task or DEFAULT_TASK)
    params = sim_params_for(sim_model_of_task(env_id), cfg.sim, cfg.reality)
    randomize_config(cfg.randomize)  # a bad preset or range fails before anything starts
    out = Path(cfg.output_dir or Path("outputs/eval") / time.strftime("%Y-%m-%d_%H-%M-%S"))
    print(f"evaluating {policy.name} from {cfg.policy.path} on {env_id}: {cfg.episodes} episodes")
    env_kwargs = {**contract_env_kwargs(policy.contract), **dict(cfg.env_kwargs)}
    where = "this process" if cfg.executor == "local" else f"Ray ({cfg.ray.address or 'local cluster'})"
    successes: list[bool] = []
    with open_executor(cfg.executor_config()) as executor, tqdm(total=cfg.episodes, desc=f"eval on {where}") as bar:

        def progress(shard: list[bool]) -> None:
            successes.extend(shard)
            bar.update(len(shard))
            bar.set_postfix(success=f"{sum(successes) / len(successes):.0%}")

        result = evaluate_on(
            executor,
            policy,
            env_id,
            cfg.episodes,
            cfg.num_envs,
            cfg.seed,
            {"sim_params": params, "randomize": cfg.randomize, **reality_env_kwargs(cfg.reality), **env_kwargs},
            cfg.max_steps,
            out / "videos",
            cfg.videos,
            progress,
        )
    out.mkdir(parents=True, exist_ok=True)
    info = {
        **result._asdict(),
        "videos": [str(p) for p in result.videos],
        "env_id": env_id,
        "env_kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in env_kwargs.items()},
        "policy_path": cfg.policy.path,
        "randomize": cfg.randomize,
        "executor": cfg.executor,
    }
    (out / "eval_info.json").write_text(json.dumps(info, indent=2))
    print(result.summary())
    print(f"results: {out / 'eval_info.json'}; videos: {out / 'videos'}")
