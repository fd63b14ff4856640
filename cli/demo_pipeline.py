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
    from twinarm.compose.executor import Executor

DEMO_SEED = 10_000  # demonstrations use seeds DEMO_SEED + i; evaluation uses seed + i (disjoint)


def image_width(cfg: Config) -> int:
    return cfg.image_width or cfg.image_size


def demo_env(cfg: Config, sim_params: object, randomize: str) -> gym.Env:
    """The task env the demonstrations are recorded in (the cameras at the demo's image size)."""
    import gymnasium as gym

    from twinarm.sim.envs import env_id

    return gym.make(env_id(cfg.task), **demo_env_kwargs(cfg, sim_params, randomize))


def demo_env_kwargs(cfg: Config, sim_params: object, randomize: str) -> dict[str, Any]:
    """Keyword arguments of the task env the demonstrations are recorded in (the cameras at the demo's image size;
    in a hidden reality, its look too)."""
    from twinarm.compose.sim_config import reality_env_kwargs

    size = (cfg.image_size, image_width(cfg))
    kwargs = {"cameras": tuple(cfg.cameras), "image_size": size, "sim_params": sim_params, "randomize": randomize}
    return {**kwargs, **reality_env_kwargs(cfg.reality)}


def record_demos(
    cfg: Config,
    root: Path,
    sim_params: object = "",
    student: object = None,
    seed0: int = DEMO_SEED,
    executor: Executor | None = None,
):
    """Record ``cfg.demos`` solved expert episodes (or, with ``student``, ``cfg.dagger_episodes`` DAgger rollouts)
    as fast as the sim runs (timestamps are frame_index / fps) into the dataset at ``root`` (created or grown);
    returns (:class:`compose.sim_demos.RolloutStats`, seconds taken). ``sim_params``: the simulator's physics.
    Expert demonstrations run on ``executor`` (None: this process) in batched envs of ``cfg.num_envs``
    (``compose.collect``: the same dataset whatever the executor); DAgger rollouts run here, one env."""
    from tqdm import tqdm

    from twinarm.compose.collect import CollectJob, collect_demos
    from twinarm.compose.sim_demos import record_rollouts
    from twinarm.dataset.recorder import Recorder, offline

    t0 = time.monotonic()
    dagger = student is not None
    keep_all = dagger or cfg.keep_failed_demos
    n = cfg.dagger_episodes if dagger else cfg.demos
    seeds = range(seed0, seed0 + (n if dagger else 3 * n))  # failures are dropped: room to replace them
    text = f"{cfg.task} the cube"
    if not dagger:
        job = CollectJob(cfg.task, demo_env_kwargs(cfg, sim_params, cfg.randomize), cfg.num_envs, cfg.demo_frames)
        spec = _spec_of(cfg, sim_params)
        with Recorder(root, spec, offline(spec.control_hz)) as recorder, tqdm(total=n, desc="demos") as bar:
            on_episode = lambda ok: bar.update(1 if (ok or keep_all) else 0)  # noqa: E731
            stats = collect_demos(executor, job, recorder, seeds, text, keep_all, n, on_episode)
    else:
        env = demo_env(cfg, sim_params, cfg.randomize)
        try:
            spec = env.unwrapped.robot.spec
            with Recorder(root, spec, offline(spec.control_hz)) as recorder, tqdm(total=n, desc="dagger") as bar:
                stats = record_rollouts(
                    recorder,
                    env,
                    cfg.task,
                    seeds,
                    cfg.demo_frames,
                    text,
                    student=student,
                    beta=cfg.dagger_beta,
                    keep_failures=keep_all,
                    on_episode=lambda ok: bar.update(1),
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


def _spec_of(cfg: Config, sim_params: object) -> Any:
    """The robot spec of the demo's env (what the dataset records), read from one env made and closed here."""
    env = demo_env(cfg, sim_params, cfg.randomize)
    try:
        return env.unwrapped.robot.spec
    finally:
        env.close()


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
