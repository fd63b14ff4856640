"""``twinarm train policy=act dataset.root=PATH [train.steps=...] [+policy_args.chunk_size=...]``.

The checkpoint carries the policy's contract (``policy_contract.json``): the dataset's robot, joints, rate and
camera frame sizes; ``image_size=[H,W]`` trains on another input size (frames are centre-cropped and resized by
the same function every robot observation goes through).

Sim-trained policies train robust by default: the simulator this command builds (the evaluation during training,
``eval.task``, and DAgger rollouts) runs domain randomization ``randomize`` (default ``full``; ``none`` for the
nominal sim). ``dagger.rounds=N`` (needs ``eval.task``) runs DAgger after the training: the policy rolls out in
the task, the privileged scripted expert labels every state it visits, the rollouts join a copy of the dataset
(``<output_dir>/dagger_dataset``) and training continues ``dagger.steps`` steps per round.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

from twinarm.robot.errors import ConfigError

HELP = "train a policy (act, diffusion, bc) on a LeRobot v3 dataset; optional periodic sim evaluation"


@dataclasses.dataclass
class DatasetConfig:
    root: str = ""  # LeRobot v3 dataset directory (required)
    preload_gb: float = 2.0  # decode camera frames into memory when they fit in this many GiB
    units: list[str] = dataclasses.field(default_factory=list)  # joint units when info.json states none: [deg]...
    convert_units: bool = False  # convert deg / range_* units and lerobot '<joint>.pos' names to the robot's [rad]


@dataclasses.dataclass
class EvalDuring:
    task: str = ""  # sim task (lift, reach, ...) or env id; empty = no evaluation during training
    every: int = 0  # [steps]; 0 = only once at the end (when task is set)
    episodes: int = 10
    num_envs: int = 2


@dataclasses.dataclass
class DaggerConfig:
    rounds: int = 0  # DAgger rounds after training (0 = off); needs eval.task (a sim task with a scripted expert)
    episodes: int = 20  # student rollouts per round
    frames: int = 100  # steps per rollout
    beta: float = 0.3  # per-step probability that the expert acts instead of the student
    steps: int = 800  # training steps after each round


def _train_defaults():
    from twinarm.policies.train import TrainConfig

    return TrainConfig(output_dir="")


@dataclasses.dataclass
class Config:
    policy: str = "act"  # act | diffusion | bc
    policy_args: dict[str, Any] = dataclasses.field(default_factory=dict)  # policy config fields
    dataset: DatasetConfig = dataclasses.field(default_factory=DatasetConfig)
    train: Any = dataclasses.field(default_factory=_train_defaults)  # policies.train.TrainConfig
    eval: EvalDuring = dataclasses.field(default_factory=EvalDuring)
    image_size: list[int] = dataclasses.field(default_factory=list)  # [H, W] policy input [px]; []: dataset's size
    threads: int = 0  # torch CPU threads; 0 = automatic: the cores not already busy (policies.threads)
    robot: str = ""  # robot model the policy is for (so101, amazing_hand); "" = the dataset's robot_type
    randomize: str = "full"  # domain randomization of the sim built here (eval, DAgger): none|physics|full[,...]
    dagger: DaggerConfig = dataclasses.field(default_factory=DaggerConfig)

    def validate(self) -> None:
        """Ranges (run by the CLI before ``run``); TrainConfig checks its own fields."""
        from twinarm.cli.checks import at_least, one_of
        from twinarm.policies.registry import available_policies

        one_of("policy", self.policy, available_policies())
        at_least(self, ("dataset.preload_gb", "threads", "eval.every", "train.num_workers"), 0)
        at_least(self, ("eval.episodes", "eval.num_envs", "dagger.frames", "dagger.steps"), 1)
        at_least(self, ("dagger.rounds", "dagger.episodes"), 0)


def _output_dir(cfg: Config) -> str:
    if cfg.train.output_dir:
        return cfg.train.output_dir
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise ConfigError("train.output_dir must be given under torchrun (every rank needs the same directory)")
    return str(Path("outputs/train") / time.strftime("%Y-%m-%d_%H-%M-%S"))


def _joint_conversion(cfg: Config) -> tuple[Any, Any]:
    """(robot spec, :class:`~twinarm.dataset.units.JointConversion`) the dataset is trained through; (None, None)
    for a dataset of a robot outside the registry that states [rad] (trained as is, as before units existed)."""
    from twinarm.compose.registry import MODELS, get_model
    from twinarm.dataset import metadata
    from twinarm.dataset.errors import UnitsMismatchError
    from twinarm.dataset.units import VALID_UNITS, joint_conversion, stored_units

    root = cfg.dataset.root
    info = metadata.read_info(Path(root))
    name = cfg.robot or info.get("robot_type") or ""
    if cfg.robot or name in MODELS:
        spec = get_model(name).spec
        return spec, joint_conversion(info, root, spec, cfg.dataset.units, cfg.dataset.convert_units)
    units = stored_units(info, root)
    if units is None or set(units) != {"rad"} or cfg.dataset.units:
        stated = f"stores joints in {sorted(set(units))}" if units else "meta/info.json states no joint units"
        raise UnitsMismatchError(
            f"{root}: {stated} and its robot_type {name!r} is not a twinarm robot model; pass robot=<model> (valid: "
            f"{', '.join(sorted(MODELS))}) with dataset.units=[UNIT] (UNIT in {VALID_UNITS}; when info.json has "
            "none) and dataset.convert_units=true to check and convert it"
        )
    return None, None


def run(cfg: Config) -> None:
    from twinarm.policies.contract import contract_from_dataset
    from twinarm.policies.data import TorchDataset
    from twinarm.policies.dataset import LeRobotSource, dataset_features
    from twinarm.policies.registry import make_policy
    from twinarm.policies.train import train

    if not cfg.dataset.root:
        raise ConfigError("dataset.root is required: the LeRobot v3 dataset directory to train on")
    if cfg.dagger.rounds and (not cfg.eval.task or "/" in cfg.eval.task):
        raise ConfigError("dagger.rounds needs eval.task=<sim task> (lift, reach, ...): the task its expert labels")
    from twinarm.policies.threads import apply_threads

    print(f"threads: {apply_threads(cfg.threads).describe()}")
    feats = dataset_features(cfg.dataset.root)
    robot, conversion = _joint_conversion(cfg)
    fields = {"state_dim": feats.state_dim, "action_dim": feats.action_dim, "cameras": feats.cameras, **cfg.policy_args}
    policy = make_policy(cfg.policy, **fields)
    if cfg.image_size and len(cfg.image_size) != 2:
        raise ConfigError(f"image_size={list(cfg.image_size)} is invalid; expected [height, width] in px")
    image_hw = (int(cfg.image_size[0]), int(cfg.image_size[1])) if cfg.image_size else None
    sim_task = cfg.eval.task if "/" not in cfg.eval.task else ""
    policy.set_contract(contract_from_dataset(policy.config, cfg.dataset.root, image_hw, sim_task, robot))
    preload = int(cfg.dataset.preload_gb * 2**30)
    source = LeRobotSource(
        cfg.dataset.root, policy.config, preload_bytes=preload, contract=policy.contract, conversion=conversion
    )
    if source.conversion is not None:
        print(f"joints: converted from {list(source.conversion.units)} to {robot.name}'s joints in rad")
    policy.normalization.set_stats(source.stats())
    out = _output_dir(cfg)
    train_cfg = dataclasses.replace(cfg.train, output_dir=out)
    eval_fn = None
    if cfg.eval.task:
        from twinarm.cli.cmd_eval import env_id_for_task
        from twinarm.policies.evaluate import evaluate

        env_id = env_id_for_task(cfg.eval.task)

        def eval_fn(p, step):
            kwargs = {"randomize": cfg.randomize}
            r = evaluate(p, env_id, cfg.eval.episodes, cfg.eval.num_envs, 100_000, kwargs, progress=False)
            print(f"step {step}: {r.summary()}")
            return {"success_rate": r.success_rate, "mean_length": r.mean_length}

        if not cfg.eval.every:
            train_cfg = dataclasses.replace(train_cfg, eval_every=train_cfg.steps)
        else:
            train_cfg = dataclasses.replace(train_cfg, eval_every=cfg.eval.every)
    print(
        f"training {cfg.policy} ({policy.num_parameters() / 1e6:.2f} M params) on {cfg.dataset.root}: "
        f"{len(source)} frames, cameras {list(policy.config.cameras)}, {train_cfg.steps} steps"
    )
    result = train(policy, TorchDataset(source), train_cfg, eval_fn=eval_fn)
    if cfg.dagger.rounds:
        result = _dagger(cfg, policy, source, train_cfg, eval_fn)
    print(f"done: final loss {result.final_loss:.4f}, {result.samples_per_s:.0f} samples/s")
    print(f"checkpoint: {result.checkpoint}\nloss curve: {result.output_dir / 'loss.png'}")


def _dagger(cfg: Config, policy: Any, source: Any, train_cfg: Any, eval_fn: Any) -> Any:
    """``cfg.dagger.rounds`` DAgger rounds on a copy of the dataset; returns the last round's TrainResult."""
    import shutil

    from twinarm.compose.sim_demos import dagger_round
    from twinarm.policies.data import TorchDataset
    from twinarm.policies.dataset import LeRobotSource
    from twinarm.policies.evaluate import contract_env_kwargs
    from twinarm.policies.train import train
    from twinarm.sim.randomize import randomize_config

    if source.conversion is not None:
        raise ConfigError("dagger.rounds needs a dataset in the robot's own joint units (rad); it was converted")
    randomize_config(cfg.randomize)
    out = Path(train_cfg.output_dir)
    root = out / "dagger_dataset"
    shutil.copytree(cfg.dataset.root, root, dirs_exist_ok=False)
    kwargs = {**contract_env_kwargs(policy.contract), "randomize": cfg.randomize}
    d, result = cfg.dagger, None
    for r in range(d.rounds):
        seeds = range(200_000 + r * d.episodes, 200_000 + (r + 1) * d.episodes)  # not the evaluation's seeds
        stats = dagger_round(policy, cfg.eval.task, root, kwargs, seeds, d.frames, d.beta)
        print(
            f"dagger round {r + 1}: the student solved {stats.expert_successes}/{stats.episodes}; {stats.frames} frames"
        )
        data = LeRobotSource(root, policy.config, contract=policy.contract)
        round_cfg = dataclasses.replace(
            train_cfg, output_dir=str(out / f"dagger{r + 1}"), steps=d.steps, seed=train_cfg.seed + r + 1
        )
        result = train(policy, TorchDataset(data), round_cfg, eval_fn=eval_fn)
    return result
