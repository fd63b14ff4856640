"""The steps of ``twinarm demo`` (``cli.cmd_demo``) as functions, shared with ``benchmarks/reality_gap.py``:
record expert demonstrations in a (randomized) task env, train an image policy on them, optionally DAgger."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gymnasium as gym

    from twinarm.cli.cmd_demo import Config

DEMO_SEED = 10_000  # demonstrations use seeds DEMO_SEED + i; evaluation uses seed + i (disjoint)


def image_width(cfg: Config) -> int:
    return cfg.image_width or cfg.image_size


def demo_env(cfg: Config, sim_params: object, randomize: str) -> gym.Env:
    """The task env the demonstrations are recorded in (the cameras at the demo's image size)."""
    import gymnasium as gym

    from twinarm.compose.sim_config import reality_env_kwargs
    from twinarm.sim.envs import env_id

    size = (cfg.image_size, image_width(cfg))
    look = reality_env_kwargs(cfg.reality)  # recording in a hidden reality: its look too
    kwargs = {"cameras": tuple(cfg.cameras), "image_size": size, "sim_params": sim_params, "randomize": randomize}
    return gym.make(env_id(cfg.task), **kwargs, **look)


def record_demos(cfg: Config, root: Path, sim_params: object = "", student: object = None, seed0: int = DEMO_SEED):
    """Record ``cfg.demos`` solved expert episodes (or, with ``student``, ``cfg.dagger_episodes`` DAgger rollouts)
    as fast as the sim runs (timestamps are frame_index / fps) into the dataset at ``root`` (created or grown);
    returns (:class:`compose.sim_demos.RolloutStats`, seconds taken). ``sim_params``: the simulator's physics."""
    from tqdm import tqdm

    from twinarm.compose.sim_demos import record_rollouts
    from twinarm.dataset.recorder import Recorder

    t0 = time.monotonic()
    dagger = student is not None
    keep_all = dagger or cfg.keep_failed_demos
    env = demo_env(cfg, sim_params, cfg.randomize)
    n = cfg.dagger_episodes if dagger else cfg.demos
    seeds = range(seed0, seed0 + (n if dagger else 3 * n))  # failures are dropped: room to replace them
    try:
        with (
            Recorder(root, env.unwrapped.robot.spec) as recorder,
            tqdm(total=n, desc="dagger" if dagger else "demos") as bar,
        ):
            stats = record_rollouts(
                recorder,
                env,
                cfg.task,
                seeds,
                cfg.demo_frames,
                f"{cfg.task} the cube",
                student=student,
                beta=cfg.dagger_beta if dagger else 1.0,
                keep_failures=keep_all,
                on_episode=lambda ok: bar.update(1 if (ok or keep_all) else 0),
                max_kept=n,
            )
    finally:
        env.close()
    if stats.kept == 0:
        from twinarm.robot.errors import ConfigError

        raise ConfigError(
            f"the expert solved none of {stats.episodes} {cfg.task} episodes in {cfg.demo_frames} frames "
            f"(randomize={cfg.randomize}); give more demo_frames or keep_failed_demos=true"
        )
    return stats, time.monotonic() - t0


def train_policy(cfg: Config, dataset_root: Path, out: Path, sim_params: object) -> tuple[Any, Any, list[dict]]:
    """Train ``cfg.policy`` on the dataset for ``cfg.steps``, then ``cfg.dagger_rounds`` DAgger rounds (student
    rollouts relabelled by the expert, added to the dataset, ``cfg.dagger_steps`` more steps each);
    returns (policy, last TrainResult, per-round log)."""
    from twinarm.compose.sim_demos import policy_student
    from twinarm.policies.contract import contract_from_dataset
    from twinarm.policies.data import TorchDataset
    from twinarm.policies.dataset import LeRobotSource, dataset_features
    from twinarm.policies.registry import make_policy
    from twinarm.policies.train import TrainConfig, train

    feats = dataset_features(dataset_root)
    policy = make_policy(cfg.policy, state_dim=feats.state_dim, action_dim=feats.action_dim, cameras=feats.cameras)
    policy.set_contract(contract_from_dataset(policy.config, dataset_root, sim_task=cfg.task))
    source = LeRobotSource(dataset_root, policy.config, contract=policy.contract)
    policy.normalization.set_stats(source.stats())
    train_cfg = TrainConfig(
        output_dir=str(out / "train"), steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, seed=cfg.seed,
        log_every=100,
    )  # fmt: skip
    result = train(policy, TorchDataset(source), train_cfg)
    log = []
    for r in range(cfg.dagger_rounds):
        stats, secs = record_demos(cfg, dataset_root, sim_params, policy_student(policy), DEMO_SEED + 100_000 * (r + 1))
        print(f"      dagger round {r + 1}: solved {stats.expert_successes}/{stats.episodes} (beta {cfg.dagger_beta})")
        source = LeRobotSource(dataset_root, policy.config, contract=policy.contract)
        round_cfg = dataclasses.replace(
            train_cfg, output_dir=str(out / f"train_dagger{r + 1}"), steps=cfg.dagger_steps, seed=cfg.seed + r + 1
        )
        result = train(policy, TorchDataset(source), round_cfg)
        log.append({"round": r + 1, "rollouts": stats._asdict(), "record_s": secs, "frames": len(source)})
    return policy, result, log
