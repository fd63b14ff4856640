"""One torchrun worker of the DDP smoke test: trains a tiny BC policy, writes its weight checksum."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from twinarm.policies.data import SyntheticDemos, TorchDataset, compute_stats
from twinarm.policies.registry import make_policy
from twinarm.policies.train import TrainConfig, train


def main(out: str) -> None:
    torch.set_num_threads(1)
    src = SyntheticDemos(size=32, chunk_size=8, cameras=("front",), image_hw=(32, 32))
    torch.manual_seed(0)  # identical initial weights on every rank (DDP also broadcasts rank 0's)
    policy = make_policy(
        "bc",
        stats=compute_stats(src),
        cameras=("front",),
        chunk_size=8,
        n_action_steps=4,
        image_feature_dim=16,
        num_keypoints=8,
        backbone_channels=(8, 16),
        hidden_dims=(32,),
    )
    cfg = TrainConfig(output_dir=out, steps=4, batch_size=4, warmup_steps=1, log_every=2, progress=False)
    world_before = dist.is_initialized()
    result = train(policy, TorchDataset(src), cfg)
    rank = int(__import__("os").environ["RANK"])
    checksum = float(sum(p.double().sum() for p in policy.parameters()))
    Path(out, f"rank{rank}.json").write_text(
        json.dumps({"checksum": checksum, "samples_per_s": result.samples_per_s, "initialised_before": world_before})
    )


if __name__ == "__main__":
    main(sys.argv[1])
