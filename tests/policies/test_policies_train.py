"""Training loop: LR schedule, augmentation, EMA, pickle-free checkpoints with resume, end-to-end runs."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tests.policies.helpers_policies import batch, observation, source, tiny_policy
from twinarm.policies.augment import AugmentConfig, augment_batch, color_jitter, random_shift
from twinarm.policies.base import Policy
from twinarm.policies.checkpoint import optimizer_from_flat, optimizer_to_flat
from twinarm.policies.data import TorchDataset
from twinarm.policies.ema import EMA
from twinarm.policies.train import TrainConfig, lr_at, train


def test_lr_warms_up_linearly_then_decays_by_cosine() -> None:
    cfg = TrainConfig(steps=110, lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(0, cfg) == pytest.approx(0.1)
    assert lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(60, cfg) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_at(110, cfg) == pytest.approx(0.1)
    lrs = [lr_at(s, cfg) for s in range(10, 110)]
    assert all(a >= b for a, b in itertools.pairwise(lrs))


def test_random_shift_moves_content_by_at_most_pad_pixels() -> None:
    x = torch.zeros(16, 1, 3, 20, 20)
    x[:, :, :, 10, 10] = 1.0
    out = random_shift(x, 3, torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    positions = {tuple(torch.nonzero(out[i, 0, 0])[0].tolist()) for i in range(16)}
    assert len(positions) > 1 and all(abs(r - 10) <= 3 and abs(c - 10) <= 3 for r, c in positions)
    assert torch.equal(random_shift(x, 0), x)


def test_color_jitter_stays_in_range_and_augmentation_can_be_disabled() -> None:
    x = torch.rand(8, 2, 3, 12, 12)
    out = color_jitter(x, AugmentConfig(brightness=0.5, contrast=0.5, saturation=0.5))
    assert out.min() >= 0 and out.max() <= 1 and not torch.allclose(out, x)
    b = batch("bc")
    assert augment_batch(b, AugmentConfig(enabled=False)) is b
    aug = augment_batch(b, AugmentConfig())
    assert aug["observation.images.front"].shape == b["observation.images.front"].shape
    assert torch.equal(aug["action"], b["action"])


def test_ema_tracks_weights_with_warmup() -> None:
    model = torch.nn.Linear(2, 2)
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model, step=0)  # warm-up decay = 0.1: mostly the new weights
    diff = (model.weight - ema.model.weight).abs().max()
    assert 0 < diff <= 0.1 + 1e-6
    assert not ema.model.weight.requires_grad


def test_optimizer_state_round_trips_without_pickle() -> None:
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    opt.step()
    tensors, rest = optimizer_to_flat(opt)
    json.dumps(rest)
    fresh = torch.optim.AdamW(model.parameters(), lr=0.5)
    optimizer_from_flat(fresh, tensors, json.loads(json.dumps(rest)))
    a, b = opt.state_dict(), fresh.state_dict()
    assert b["param_groups"][0]["lr"] == 0.1
    for pid in a["state"]:
        for key, value in a["state"][pid].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(b["state"][pid][key]))


@pytest.mark.parametrize("name", ["bc", "diffusion"])
def test_tiny_training_run_writes_checkpoint_curve_and_resumes(name: str, tmp_path: Path) -> None:
    policy = tiny_policy(name)
    data = TorchDataset(source(name, size=24))
    evals = []
    cfg = TrainConfig(
        output_dir=str(tmp_path / "run"),
        steps=6,
        batch_size=8,
        warmup_steps=2,
        log_every=3,
        save_every=3,
        eval_every=3,
        progress=False,
    )
    result = train(policy, data, cfg, eval_fn=lambda p, step: evals.append(step) or {"score": 1.0})
    assert result.checkpoint == tmp_path / "run" / "checkpoints" / "000006" / "pretrained_model"
    assert (tmp_path / "run" / "checkpoints" / "last").resolve().name == "000006"
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    assert evals == [3, 6] and np.isfinite(result.final_loss) and result.samples_per_s > 0
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [3, 6]
    loaded = Policy.load(result.checkpoint)
    assert loaded.predict_chunk(observation()).shape == (8, 6)
    state = tmp_path / "run" / "checkpoints" / "000006" / "training_state"
    assert not list(tmp_path.rglob("*.pt")) and not list(tmp_path.rglob("*.pkl"))
    if name == "diffusion":  # released weights are the EMA, raw weights are kept for resuming
        raw = load_file(str(state / "model_raw.safetensors"))
        released = load_file(str(result.checkpoint / "model.safetensors"))
        assert any(not torch.equal(raw[k], released[k]) for k in raw if k.startswith("unet"))
    resumed = train(tiny_policy(name), data, TrainConfig(**{**cfg.__dict__, "steps": 8, "resume": True}))
    assert resumed.checkpoint.parent.name == "000008"
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [3, 6, 8]  # continued at step 6, not from scratch


def test_training_reduces_loss_on_learnable_synthetic_demos(tmp_path: Path) -> None:
    policy = tiny_policy("bc")
    data = TorchDataset(source("bc", size=32))
    cfg = TrainConfig(
        output_dir=str(tmp_path), steps=40, batch_size=16, lr=3e-3, warmup_steps=5, log_every=10, progress=False
    )
    history = train(policy, data, cfg).history
    assert history[-1]["loss"] < 0.85 * history[0]["loss"]
