"""Exponential moving average of a module's weights (used for diffusion; evaluation runs the average)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """Shadow copy updated as ``avg = decay_t * avg + (1 - decay_t) * weights`` with a warm-up
    ``decay_t = min(decay, (1 + step) / (10 + step))`` so early averages do not hold the random init."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        for avg, new in zip(self.model.parameters(), model.parameters()):
            avg.lerp_(new.detach(), 1 - decay)
        for avg, new in zip(self.model.buffers(), model.buffers()):
            avg.copy_(new)
