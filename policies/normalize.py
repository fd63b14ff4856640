"""Feature normalization with dataset statistics stored as buffers (they travel in ``model.safetensors``).

Stats follow the lerobot ``stats.json`` layout: ``{feature: {"mean", "std", "min", "max": array-like}}``.
State and action use the mode chosen in the policy config; images (already in [0, 1]) use per-channel
mean/std with shape (3, 1, 1), defaulting to mean 0.5 and std 0.25 when the stats do not hold them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from twinarm.policies.config import PolicyConfig
from twinarm.policies.data import ACTION, IMAGE_FEATURE_PREFIX, STATE, image_feature
from twinarm.policies.errors import PolicyError

EPS = 1e-6
#: A feature whose spread is below this (a joint that never moved) is only shifted, not scaled up.
MIN_SCALE = 1e-2


class FeatureNorm(nn.Module):
    """``(x - shift) / scale`` and its inverse; ``shift``/``scale`` broadcast over the last dims of ``x``."""

    def __init__(self, shape: tuple[int, ...], shift: float = 0.0, scale: float = 1.0) -> None:
        super().__init__()
        self.register_buffer("shift", torch.full(shape, float(shift)))
        self.register_buffer("scale", torch.full(shape, float(scale)))

    def normalize(self, x: Tensor) -> Tensor:
        return (x - self.shift) / self.scale

    def unnormalize(self, x: Tensor) -> Tensor:
        return x * self.scale + self.shift

    def set(self, shift: np.ndarray | Tensor, scale: np.ndarray | Tensor) -> None:
        shift_t = torch.as_tensor(np.asarray(shift, dtype=np.float32)).reshape(self.shift.shape)
        scale_t = torch.as_tensor(np.asarray(scale, dtype=np.float32)).reshape(self.scale.shape)
        self.shift.copy_(shift_t)
        self.scale.copy_(scale_t.clamp_min(MIN_SCALE))


class Normalization(nn.Module):
    """One :class:`FeatureNorm` per feature the policy reads or writes."""

    def __init__(self, config: PolicyConfig) -> None:
        super().__init__()
        self.modes = {STATE: config.state_norm, ACTION: config.action_norm}
        self.norms = nn.ModuleDict(
            {
                _slot(STATE): FeatureNorm((config.state_dim,)),
                _slot(ACTION): FeatureNorm((config.action_dim,)),
            }
        )
        for cam in config.cameras:
            self.norms[_slot(image_feature(cam))] = FeatureNorm((3, 1, 1), shift=0.5, scale=0.25)

    def set_stats(self, stats: dict[str, dict[str, Any]]) -> None:
        """Fill the buffers from dataset statistics; state and action stats are required."""
        for feature in (STATE, ACTION):
            if feature not in stats:
                raise PolicyError(f"normalization stats lack {feature!r}; features present: {sorted(stats)}")
            mode = self.modes[feature]
            s = stats[feature]
            if mode == "mean_std":
                self.norms[_slot(feature)].set(s["mean"], np.asarray(s["std"], dtype=np.float32) + EPS)
            elif mode == "min_max":
                lo, hi = np.asarray(s["min"], dtype=np.float32), np.asarray(s["max"], dtype=np.float32)
                self.norms[_slot(feature)].set((hi + lo) / 2, (hi - lo) / 2 + EPS)
        for slot, norm in self.norms.items():
            feature = slot.replace("__", ".")
            if feature.startswith(IMAGE_FEATURE_PREFIX) and feature in stats:
                s = stats[feature]
                if "mean" in s and "std" in s:
                    norm.set(s["mean"], np.asarray(s["std"], dtype=np.float32) + EPS)

    def normalize(self, feature: str, x: Tensor) -> Tensor:
        if self.modes.get(feature) == "identity":
            return x
        return self.norms[_slot(feature)].normalize(x)

    def unnormalize(self, feature: str, x: Tensor) -> Tensor:
        if self.modes.get(feature) == "identity":
            return x
        return self.norms[_slot(feature)].unnormalize(x)


def _slot(feature: str) -> str:
    """ModuleDict keys may not hold dots."""
    return feature.replace(".", "__")
