"""Small policy configs and synthetic batches shared by the policies tests."""

from __future__ import annotations

import numpy as np
import torch

from twinarm.policies.base import Policy
from twinarm.policies.contract import make_contract
from twinarm.policies.data import SyntheticDemos, TorchDataset, compute_stats
from twinarm.policies.registry import make_policy
from twinarm.robot.models import SO101

HW = (48, 48)
TINY = {
    "act": {
        "dim_model": 32,
        "n_heads": 2,
        "dim_feedforward": 64,
        "n_encoder_layers": 1,
        "n_decoder_layers": 1,
        "n_vae_encoder_layers": 1,
        "latent_dim": 8,
        "backbone_channels": (8, 16, 32),
        "chunk_size": 8,
        "n_action_steps": 4,
        "dropout": 0.0,
    },
    "diffusion": {
        "down_dims": (16, 32),
        "step_embed_dim": 16,
        "image_feature_dim": 16,
        "num_keypoints": 8,
        "backbone_channels": (8, 16, 32),
        "chunk_size": 8,
        "n_action_steps": 4,
        "num_inference_steps": 5,
    },
    "bc": {
        "image_feature_dim": 16,
        "num_keypoints": 8,
        "backbone_channels": (8, 16, 32),
        "hidden_dims": (64,),
        "chunk_size": 8,
        "n_action_steps": 4,
    },
}
POLICIES = sorted(TINY)


def source(name: str, size: int = 16, cameras=("front",), seed: int = 0) -> SyntheticDemos:
    n_obs = 2 if name == "diffusion" else 1
    return SyntheticDemos(size=size, chunk_size=8, cameras=cameras, image_hw=HW, n_obs_steps=n_obs, seed=seed)


def tiny_policy(name: str, cameras=("front",), contract: bool = True, **overrides) -> Policy:
    """A tiny SO-101 policy with synthetic stats and (unless ``contract=False``) a contract for HW-sized cameras."""
    torch.manual_seed(0)
    stats = compute_stats(source(name, cameras=cameras))
    policy = make_policy(name, stats=stats, cameras=cameras, **{**TINY[name], **overrides})
    if contract:
        policy.set_contract(
            make_contract(policy.config, SO101.name, SO101.joint_names, SO101.control_hz, dict.fromkeys(cameras, HW))
        )
    return policy


def batch(name: str, size: int = 8, cameras=("front",)) -> dict[str, torch.Tensor]:
    ds = TorchDataset(source(name, size=size, cameras=cameras))
    return torch.utils.data.default_collate([ds[i] for i in range(size)])


def observation(batch_size: int | None = None, seed: int = 0, cameras=("front",)) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    lead = () if batch_size is None else (batch_size,)
    obs = {
        "joint_pos": rng.uniform(-1, 1, (*lead, 6)).astype(np.float32),
        "joint_vel": np.zeros((*lead, 6), np.float32),
    }
    for cam in cameras:
        obs[f"image_{cam}"] = rng.integers(0, 256, (*lead, *HW, 3), dtype=np.uint8)
    return obs
