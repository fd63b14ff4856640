"""The training loop: AdamW, linear warm-up then cosine LR, gradient clipping, EMA, augmentation, checkpoints
with resume, a loss curve PNG and an optional periodic evaluation callback.

Multi-process: launched under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the loop joins a gloo
process group, wraps the policy in DistributedDataParallel and shards the data with a DistributedSampler;
``batch_size`` is per process and rank 0 alone logs and writes checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler
from tqdm import tqdm

from twinarm.policies.augment import AugmentConfig, augment_batch
from twinarm.policies.base import Policy
from twinarm.policies.checkpoint import PRETRAINED, last_checkpoint, load_checkpoint, save_checkpoint
from twinarm.policies.ema import EMA
from twinarm.policies.errors import PolicyConfigError
from twinarm.policies.threads import busy_note
from twinarm.robot.features import ACTION

#: ``eval_fn(policy, step) -> {metric: value}``, called on rank 0 with the weights evaluation should use.
EvalFn = Callable[[Policy, int], dict[str, float]]


@dataclasses.dataclass
class TrainConfig:
    """Training hyper-parameters. ``save_every``/``eval_every``/``log_every`` in steps (0 = only at the end /
    never / never); ``lr`` is the peak learning rate, reached after ``warmup_steps`` and decayed by a cosine
    to ``lr * min_lr_ratio``; ``resume`` continues from ``<output_dir>/checkpoints/last``."""

    output_dir: str = ""  # empty: outputs/train/<YYYY-mm-dd_HH-MM-SS>
    steps: int = 3000
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    grad_clip: float = 10.0
    num_workers: int = 0
    seed: int = 0
    log_every: int = 50
    save_every: int = 0
    eval_every: int = 0
    resume: bool = False
    progress: bool = True
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        for key in ("steps", "batch_size"):
            if getattr(self, key) <= 0:
                raise PolicyConfigError(f"train config {key}={getattr(self, key)} is invalid; expected > 0")
        if self.lr <= 0:
            raise PolicyConfigError(f"train config lr={self.lr} is invalid; expected > 0")


class TrainResult(NamedTuple):
    output_dir: Path
    checkpoint: Path  # the released model (``pretrained_model``) of the last checkpoint
    steps: int
    final_loss: float  # mean loss over the last ``log_every`` steps
    samples_per_s: float  # over all processes
    history: list[dict[str, float]]


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up, then cosine decay to ``lr * min_lr_ratio``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.steps - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def _batches(loader: DataLoader, sampler, epoch: int) -> Iterator[dict]:
    while True:
        if isinstance(sampler, DistributedSampler):
            sampler.set_epoch(epoch)
        yield from loader
        epoch += 1


def _init_distributed() -> tuple[int, int, bool]:
    """(rank, world_size, initialised_here) from the torchrun environment."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, False
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), False
    dist.init_process_group("gloo")
    return dist.get_rank(), dist.get_world_size(), True


def train(policy: Policy, dataset: Dataset, cfg: TrainConfig, eval_fn: EvalFn | None = None) -> TrainResult:
    """Train ``policy`` on ``dataset`` (lerobot-keyed torch samples) and return where the checkpoint went."""
    rank, world, owns_group = _init_distributed()
    try:
        return _train(policy, dataset, cfg, eval_fn, rank, world)
    finally:
        if owns_group:
            dist.destroy_process_group()


def _train(policy: Policy, dataset: Dataset, cfg: TrainConfig, eval_fn: EvalFn | None, rank: int, world: int):
    out = Path(cfg.output_dir or Path("outputs/train") / time.strftime("%Y-%m-%d_%H-%M-%S"))
    torch.manual_seed(cfg.seed + rank)
    policy.train()
    ema = EMA(policy, policy.config.ema_decay) if policy.config.ema_decay > 0 else None
    eval_policy = ema.model if ema else policy
    decay, no_decay = [], []
    for name, p in policy.named_parameters():
        (no_decay if p.ndim < 2 or "norm" in name else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr
    )
    start = 0
    if cfg.resume and (ckpt := last_checkpoint(out)) is not None:
        start = load_checkpoint(ckpt, policy, eval_policy, opt)
    model: torch.nn.Module = DistributedDataParallel(policy) if world > 1 else policy
    sampler = (
        DistributedSampler(dataset, world, rank, seed=cfg.seed)
        if world > 1
        else RandomSampler(dataset, generator=torch.Generator().manual_seed(cfg.seed + start))
    )
    loader = DataLoader(
        dataset,
        cfg.batch_size,
        sampler=sampler,
        num_workers=cfg.num_workers,
        drop_last=False,
        persistent_workers=cfg.num_workers > 0,
    )
    batches = _batches(loader, sampler, epoch=start)
    history: list[dict[str, float]] = []
    recent: list[float] = []
    main = rank == 0
    if main:
        out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=cfg.steps, initial=start, disable=not (main and cfg.progress), desc=f"train {policy.name}")
    t0, samples, ckpt_dir = time.perf_counter(), 0, None
    for step in range(start, cfg.steps):
        batch = augment_batch(next(batches), cfg.augment)
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        loss, logs = model(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip)
        opt.step()
        if ema:
            ema.update(policy, step)
        samples += len(batch[ACTION]) * world
        recent.append(float(loss.detach()))
        bar.update(1)
        done = step + 1
        if main and cfg.log_every and (done % cfg.log_every == 0 or done == cfg.steps):
            row = {
                "step": done,
                "loss": sum(recent) / len(recent),
                "lr": lr_at(step, cfg),
                "grad_norm": float(grad_norm),
                "samples_per_s": samples / (time.perf_counter() - t0),
                **logs,
            }
            history.append(row)
            recent = recent if done == cfg.steps else []
            busy = busy_note()  # a busy machine explains a slow step rate
            bar.set_postfix(loss=f"{row['loss']:.4f}", **({"cpu": busy} if busy else {}))
            if busy:
                row["cpu"] = busy
            with (out / "metrics.jsonl").open("a") as f:
                f.write(json.dumps(row) + "\n")
        if main and eval_fn and cfg.eval_every and done % cfg.eval_every == 0 and done != cfg.steps:
            _log_eval(out, done, eval_fn(eval_policy, done), history)
        if (cfg.save_every and done % cfg.save_every == 0) or done == cfg.steps:
            if main:
                ckpt_dir = save_checkpoint(out, done, policy, eval_policy, opt)
            if world > 1:
                dist.barrier()
    bar.close()
    policy.eval()
    throughput = samples / max(time.perf_counter() - t0, 1e-9)
    final = sum(recent) / len(recent) if recent else float("nan")
    if main:
        if eval_fn and cfg.eval_every:
            _log_eval(out, cfg.steps, eval_fn(eval_policy, cfg.steps), history)
        save_loss_curve(history, out / "loss.png")
    if ckpt_dir is None:
        ckpt_dir = last_checkpoint(out) or out / "checkpoints" / f"{cfg.steps:06d}"
    return TrainResult(out, ckpt_dir / PRETRAINED, cfg.steps, final, throughput, history)


def _log_eval(out: Path, step: int, metrics: dict[str, float], history: list[dict[str, float]]) -> None:
    row = {"step": step, **{f"eval/{k}": float(v) for k, v in metrics.items()}}
    history.append(row)
    with (out / "metrics.jsonl").open("a") as f:
        f.write(json.dumps(row) + "\n")


def save_loss_curve(history: list[dict[str, float]], path: Path) -> None:
    """Training loss (log scale) against step as a PNG (matplotlib Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in history if "loss" in r]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if rows:
        ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label="train loss")
        if all(r["loss"] > 0 for r in rows):
            ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
