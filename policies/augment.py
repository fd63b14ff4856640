"""Image augmentation on training batches, in plain torch: random shift (pad + crop) and colour jitter.

Images are (B, [T,] 3, H, W) float in [0, 1]; every sample draws its own shift and jitter, shared across the
time steps of that sample so motion between frames stays consistent.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor
from torch.nn import functional as F

from twinarm.policies.data import IMAGE_FEATURE_PREFIX


@dataclasses.dataclass
class AugmentConfig:
    """``shift_px``: max shift in [px] (replicate padding then a random crop, DrQ style); ``brightness``,
    ``contrast``, ``saturation``: max relative change (0 disables each)."""

    enabled: bool = True
    shift_px: int = 4
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2


def random_shift(x: Tensor, pad: int, generator: torch.Generator | None = None) -> Tensor:
    """Shift each sample of (B, N, 3, H, W) by up to ``pad`` px in x and y (same shift for its N frames)."""
    if pad <= 0:
        return x
    b, n, c, h, w = x.shape
    padded = F.pad(x.reshape(b, n * c, h, w), (pad, pad, pad, pad), mode="replicate")
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(b, n * c, h, w + 2 * pad)
    out = padded.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w)[None])[:, None, None, :].expand(b, n * c, h, w)
    return out.gather(3, cols).reshape(b, n, c, h, w)


def color_jitter(x: Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> Tensor:
    """Per-sample brightness, contrast and saturation factors in [1 - s, 1 + s] on (B, N, 3, H, W)."""
    b = x.shape[0]

    def factor(strength: float) -> Tensor:
        return (1 + (torch.rand(b, generator=generator) * 2 - 1) * strength).view(b, 1, 1, 1, 1)

    if cfg.brightness > 0:
        x = x * factor(cfg.brightness)
    if cfg.contrast > 0:
        mean = x.mean(dim=(-3, -2, -1), keepdim=True)
        x = (x - mean) * factor(cfg.contrast) + mean
    if cfg.saturation > 0:
        gray = (0.299 * x[:, :, 0:1] + 0.587 * x[:, :, 1:2] + 0.114 * x[:, :, 2:3]).expand_as(x)
        x = (x - gray) * factor(cfg.saturation) + gray
    return x.clamp(0, 1)


def augment_batch(batch: dict[str, Tensor], cfg: AugmentConfig, generator: torch.Generator | None = None) -> dict:
    """A copy of ``batch`` with every ``observation.images.*`` tensor shifted and jittered."""
    if not cfg.enabled:
        return batch
    out = dict(batch)
    for key, img in batch.items():
        if not key.startswith(IMAGE_FEATURE_PREFIX):
            continue
        x = img if img.ndim == 5 else img.unsqueeze(1)
        x = color_jitter(random_shift(x, cfg.shift_px, generator), cfg, generator)
        out[key] = x if img.ndim == 5 else x.squeeze(1)
    return out
