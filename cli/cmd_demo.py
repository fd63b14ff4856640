"""``twinarm demo``: the whole loop on the built-in default, in simulation, in one command.

1. record ``demos`` scripted-expert episodes of the task with the robot's cameras into a LeRobot v3 dataset;
2. train an image policy that sees only what the real arm sees (camera images + joint state, never the
   simulator's cube pose);
3. evaluate it on ``eval_episodes`` unseen seeds and print a report: success rate (Wilson 95% interval), timings,
   and where the dataset, checkpoint, loss curve and rollout videos are, plus the ``twinarm eval`` and
   ``twinarm deploy`` commands for that checkpoint (its contract carries the cameras and image size, so they
   need no other keys).

Defaults are sized to finish in under 15 minutes on 2 CPU cores (measured: 6.8 min, 90% lift success).
``robot=koch`` runs the same loop on another simulated arm: ``task`` then names its task (``lift`` is the Koch's
``koch_lift``, see ``sim.envs.task_for_robot``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from twinarm.cli.common import output_dir
from twinarm.compose.sim_config import RealityConfig, SimConfig

HELP = "record expert demos in sim, train an image policy, evaluate it, report (the default main job)"

DEMO_SEED = 10_000  # demonstrations use seeds DEMO_SEED + i; evaluation uses seed + i (disjoint)


@dataclasses.dataclass
class Config:
    task: str = "lift"
    robot: str = ""  # simulated robot model (so101, koch, ...); "" = the robot whose task `task` is
    demos: int = 80
    demo_frames: int = 100  # frames per demonstration (at 30 Hz: the expert lifts within ~70)
    cameras: list[str] = dataclasses.field(default_factory=lambda: ["front", "wrist"])
    image_size: int = 64  # camera image height [px] (and width, unless image_width is set)
    image_width: int = 0  # camera image width [px]; 0 = image_size (square)
    policy: str = "bc"  # bc | act | diffusion
    steps: int = 2500
    batch_size: int = 64
    lr: float = 1e-3
    eval_episodes: int = 50
    num_envs: int = 4
    videos: int = 3
    seed: int = 0
    threads: int = 0  # torch CPU threads; 0 = automatic: the cores not already busy (policies.threads)
    output_dir: str = ""
    sim: SimConfig = dataclasses.field(default_factory=SimConfig)  # sim.params=PRESET|PATH (servo models, delay)
    reality: RealityConfig = dataclasses.field(default_factory=RealityConfig)  # reality.seed=N: a hidden reality

    def validate(self) -> None:
        """Ranges (run by the CLI before ``run``)."""
        from twinarm.cli.checks import at_least

        at_least(self, ("demos", "demo_frames", "steps", "batch_size", "eval_episodes", "num_envs"), 1)
        at_least(self, ("image_size",), 16)
        at_least(self, ("videos", "threads"), 0)


def image_width(cfg: Config) -> int:
    return cfg.image_width or cfg.image_size


def resolved(cfg: Config) -> Config:
    """``cfg`` with ``task`` the robot's own task name and ``robot`` the model it runs on (ConfigError: an unknown
    robot, or a task it does not have, listing the valid ones)."""
    from twinarm.sim.envs import find_task, task_for_robot

    if not cfg.robot:
        return dataclasses.replace(cfg, robot=find_task(cfg.task)[0])
    return dataclasses.replace(cfg, task=task_for_robot(cfg.task, cfg.robot))


def follow_up_commands(checkpoint: Path | str, cfg: Config) -> list[str]:
    """The next steps for a trained checkpoint: evaluate it on the demo's own seeds (the same figure), then run it
    on the emulated arm when the model has hardware; cameras, image size and task come from the checkpoint's
    contract."""
    from twinarm.compose.backends import RobotConfig
    from twinarm.compose.registry import get_model
    from twinarm.compose.sim_config import sim_overrides

    cfg = resolved(cfg)
    physics = "".join(f" {key}" for key in sim_overrides(cfg.sim, cfg.reality))
    commands = [f"twinarm eval policy.path={checkpoint} episodes={cfg.eval_episodes} seed={cfg.seed}{physics}"]
    if get_model(cfg.robot).buses:
        model = "" if cfg.robot == RobotConfig().model else f" robot.model={cfg.robot}"  # not deploy's default
        commands.append(f"twinarm deploy policy.path={checkpoint} task={cfg.task}{model} robot.port=emulator{physics}")
    return commands


def record_demos(cfg: Config, root: Path, sim_params: object = "") -> float:
    """Record the expert in sim as fast as it runs (timestamps are frame_index / fps); returns seconds taken.
    ``sim_params``: the simulator's physics (see compose.sim_config; "" = the default)."""
    from tqdm import tqdm

    from twinarm.compose.backends import RobotConfig, open_robot
    from twinarm.compose.episodes import ExpertSource, TaskEpisodes
    from twinarm.dataset.recorder import Recorder
    from twinarm.dataset.session import EpisodePlan, record_episodes

    t0 = time.monotonic()
    cams = RobotConfig(
        model=cfg.robot, cameras=list(cfg.cameras), camera_height=cfg.image_size, camera_width=image_width(cfg)
    )
    with open_robot(cams, sim_params) as robot, Recorder(root, robot.spec) as recorder:
        episodes = TaskEpisodes(cfg.task, robot)
        plan = EpisodePlan(cfg.demos, cfg.demo_frames / recorder.fps, f"{cfg.task} the cube", realtime=False)
        with tqdm(total=cfg.demos, desc="record demos", unit="episode") as bar:
            record_episodes(
                recorder,
                robot,
                ExpertSource(episodes, robot.spec.control_hz),
                plan,
                reset_scene=lambda k: episodes.reset(k, DEMO_SEED + k),
                on_episode=lambda e: bar.update(),
            )
    return time.monotonic() - t0


def run(cfg: Config) -> None:
    from twinarm.compose.sim_config import sim_model_of_task, sim_params_for
    from twinarm.policies.contract import contract_from_dataset
    from twinarm.policies.data import TorchDataset
    from twinarm.policies.dataset import LeRobotSource, dataset_features
    from twinarm.policies.evaluate import evaluate
    from twinarm.policies.registry import make_policy
    from twinarm.policies.threads import apply_threads
    from twinarm.policies.train import TrainConfig, train
    from twinarm.sim.envs import env_id

    cfg = resolved(cfg)
    print(f"threads: {apply_threads(cfg.threads).describe()}")
    out = output_dir("demo", cfg.output_dir)
    dataset_root, train_dir = out / "dataset", out / "train"
    t_start = time.monotonic()

    print(f"[1/3] recording {cfg.demos} expert demonstrations of {cfg.task!r} -> {dataset_root}")
    params = sim_params_for(sim_model_of_task(cfg.task), cfg.sim, cfg.reality)
    record_s = record_demos(cfg, dataset_root, params)

    print(f"[2/3] training {cfg.policy} for {cfg.steps} steps on cameras {cfg.cameras} + joint state")
    t0 = time.monotonic()
    feats = dataset_features(dataset_root)
    policy = make_policy(cfg.policy, state_dim=feats.state_dim, action_dim=feats.action_dim, cameras=feats.cameras)
    policy.set_contract(contract_from_dataset(policy.config, dataset_root, sim_task=cfg.task))
    source = LeRobotSource(dataset_root, policy.config, contract=policy.contract)
    policy.normalization.set_stats(source.stats())
    train_cfg = TrainConfig(
        output_dir=str(train_dir), steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, seed=cfg.seed, log_every=100
    )
    result = train(policy, TorchDataset(source), train_cfg)
    train_s = time.monotonic() - t0

    print(f"[3/3] evaluating on {cfg.eval_episodes} unseen episodes")
    t0 = time.monotonic()
    ev = evaluate(  # the env comes from the policy's contract, exactly as `twinarm eval` builds it
        policy,
        env_id(cfg.task),
        episodes=cfg.eval_episodes,
        num_envs=cfg.num_envs,
        seed=cfg.seed,
        env_kwargs={"sim_params": params},
        video_dir=out / "videos",
        videos=cfg.videos,
    )
    eval_s = time.monotonic() - t0
    total_s = time.monotonic() - t_start

    report = {
        "robot": cfg.robot,
        "task": cfg.task,
        "policy": cfg.policy,
        "success_rate": ev.success_rate,
        "successes": ev.successes,
        "episodes": ev.episodes,
        "ci95": [ev.ci_low, ev.ci_high],
        "seeds": list(ev.seeds),
        "episode_successes": list(ev.episode_successes),
        "episode_returns": list(ev.episode_returns),
        "mean_episode_length_steps": ev.mean_length,
        "seconds": {"record": record_s, "train": train_s, "eval": eval_s, "total": total_s},
        "train_samples_per_s": result.samples_per_s,
        "dataset": str(dataset_root),
        "checkpoint": str(result.checkpoint),
        "loss_curve": str(train_dir / "loss.png"),
        "videos": [str(v) for v in ev.videos],
    }
    (out / "report.json").write_text(json.dumps(report, indent=2))
    print()
    print(f"twinarm demo: {cfg.robot} {cfg.task} with {cfg.policy} from {cfg.demos} demos")
    ci = f"95% CI {ev.ci_low:.0%}-{ev.ci_high:.0%}"
    print(f"  success     {ev.successes}/{ev.episodes} = {ev.success_rate:.0%} ({ci})")
    print(f"  timings     record {record_s:.0f} s, train {train_s:.0f} s, eval {eval_s:.0f} s, total {total_s:.0f} s")
    print(f"  checkpoint  {result.checkpoint}")
    print(f"  dataset     {dataset_root}")
    print(f"  loss curve  {train_dir / 'loss.png'}")
    for v in ev.videos:
        print(f"  video       {v}")
    print(f"  report      {out / 'report.json'}")
    print()
    commands = follow_up_commands(result.checkpoint, cfg)
    hil = ", or run it on the emulated arm (hardware in the loop)" if len(commands) > 1 else ""
    print(f"next: evaluate this checkpoint again{hil}:")
    for command in commands:
        print(f"  {command}")
