"""Small ResNet-style image encoders in plain torch, trained from scratch (no pretrained weights).

GroupNorm instead of BatchNorm (batch statistics break with small batches, EMA and batch-1 inference).
A :class:`ResNetEncoder` maps (B, 3, H, W) to a feature map (B, C, H/16, W/16); :class:`ImageEncoder` adds
pooling (global average or spatial softmax keypoints) and a projection to a feature vector.
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from twinarm.policies.errors import PolicyConfigError


def group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels // 4) or 1, channels)


class ResidualBlock(nn.Module):
    """conv3x3-GN-ReLU-conv3x3-GN plus a (strided 1x1 when the shape changes) skip, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.norm1 = group_norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.norm2 = group_norm(c_out)
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), group_norm(c_out))

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        y = self.norm2(self.conv2(y))
        return F.relu(y + self.skip(x))


class ResNetEncoder(nn.Module):
    """Stem (stride 2) then one residual block per stage, each halving the resolution: stride 2**len(channels).

    ``channels[0]`` is the stem width; each further entry is one stage. (B, 3, H, W) -> (B, channels[-1], h, w).
    """

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 128)) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, channels[0], 3, 2, 1, bias=False), group_norm(channels[0]), nn.ReLU())
        self.stages = nn.Sequential(
            *(ResidualBlock(c_in, c_out, stride=2) for c_in, c_out in itertools.pairwise(channels))
        )
        self.out_channels = channels[-1]
        self.stride = 2 ** len(channels)

    def forward(self, x: Tensor) -> Tensor:
        return self.stages(self.stem(x))


class SpatialSoftmax(nn.Module):
    """Feature map (B, C, h, w) -> expected image coordinates in [-1, 1] of ``num_keypoints`` softmax maps,
    (B, 2 * num_keypoints) as (x, y) pairs (Levine et al., 2016)."""

    def __init__(self, in_channels: int, num_keypoints: int = 32) -> None:
        super().__init__()
        self.keypoints = nn.Conv2d(in_channels, num_keypoints, 1)
        self.num_keypoints = num_keypoints

    def forward(self, feat: Tensor) -> Tensor:
        b, _, h, w = feat.shape
        logits = self.keypoints(feat).flatten(2)  # (B, K, h*w)
        attn = logits.softmax(-1)
        ys = torch.linspace(-1, 1, h, device=feat.device, dtype=feat.dtype)
        xs = torch.linspace(-1, 1, w, device=feat.device, dtype=feat.dtype)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(h * w, 2)  # (h*w, 2) as (x, y)
        return (attn @ grid).reshape(b, 2 * self.num_keypoints)


class ImageEncoder(nn.Module):
    """(B, 3, H, W) normalized image -> (B, out_dim) feature: ResNet, pooling, linear + ReLU.

    ``pool`` is ``"spatial_softmax"`` (keypoints; keeps where things are) or ``"avg"`` (global average).
    """

    def __init__(
        self,
        out_dim: int = 64,
        channels: tuple[int, ...] = (16, 32, 64, 128),
        pool: str = "spatial_softmax",
        num_keypoints: int = 32,
    ) -> None:
        super().__init__()
        if pool not in ("spatial_softmax", "avg"):
            raise PolicyConfigError(f"image encoder pool={pool!r} is invalid; expected 'spatial_softmax' or 'avg'")
        self.backbone = ResNetEncoder(channels)
        if pool == "spatial_softmax":
            self.pool: nn.Module = SpatialSoftmax(self.backbone.out_channels, num_keypoints)
            pooled = 2 * num_keypoints
        else:
            self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
            pooled = self.backbone.out_channels
        self.proj = nn.Sequential(nn.Linear(pooled, out_dim), nn.ReLU())
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(self.pool(self.backbone(x)))
