"""Behaviour cloning baseline: per-camera CNN features + joint state -> MLP -> the whole action chunk (L1)."""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor, nn

from twinarm.policies.base import Batch, Policy
from twinarm.policies.config import PolicyConfig, check_field
from twinarm.policies.encoders import ImageEncoder
from twinarm.policies.registry import register_policy
from twinarm.robot.features import ACTION, ACTION_IS_PAD


@dataclasses.dataclass(frozen=True)
class BCConfig(PolicyConfig):
    """BC sizes: one shared image encoder (``pool``: spatial_softmax or avg), an MLP with ``hidden_dims``."""

    chunk_size: int = 20
    n_action_steps: int = 10
    image_feature_dim: int = 64
    num_keypoints: int = 32
    pool: str = "spatial_softmax"
    backbone_channels: tuple[int, ...] = (16, 32, 64, 128)
    hidden_dims: tuple[int, ...] = (256, 256)
    dropout: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_field(self.pool in ("spatial_softmax", "avg"), "pool", self.pool, "'spatial_softmax' or 'avg'")


@register_policy
class BCPolicy(Policy):
    name = "bc"
    config_class = BCConfig
    config: BCConfig

    def __init__(self, config: BCConfig, stats=None) -> None:
        super().__init__(config, stats)
        self.image_encoder = ImageEncoder(
            config.image_feature_dim, config.backbone_channels, config.pool, config.num_keypoints
        )
        width = config.n_obs_steps * (config.state_dim + len(config.cameras) * config.image_feature_dim)
        layers: list[nn.Module] = []
        for hidden in config.hidden_dims:
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(config.dropout)]
            width = hidden
        layers.append(nn.Linear(width, config.chunk_size * config.action_dim))
        self.mlp = nn.Sequential(*layers)

    def _predict(self, batch: Batch) -> Tensor:
        state = batch["state"]  # (B, T, n)
        b, t = state.shape[:2]
        feats = [state]
        for cam in self.config.cameras:
            feats.append(self.image_encoder(batch["images"][cam].flatten(0, 1)).reshape(b, t, -1))
        out = self.mlp(torch.cat(feats, dim=-1).flatten(1))
        return out.reshape(b, self.config.chunk_size, self.config.action_dim)

    def compute_loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        pred = self._predict(batch)
        valid = (~batch[ACTION_IS_PAD]).unsqueeze(-1).to(pred.dtype)
        l1 = ((pred - batch[ACTION]).abs() * valid).sum() / (valid.sum() * pred.shape[-1]).clamp_min(1)
        return l1, {"l1": float(l1.detach())}

    def sample_chunk(self, batch: Batch) -> Tensor:
        return self._predict(batch)
