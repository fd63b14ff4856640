"""Diffusion Policy (Chi et al., 2023), sized for CPU: a 1D conv U-Net denoises an action chunk.

Observations (the last ``n_obs_steps`` joint states and per-camera spatial-softmax image features) form a
global condition that, with the diffusion step embedding, modulates every residual block through FiLM
(per-channel scale and bias). Training: DDPM noise prediction with a squared-cosine beta schedule. Inference:
deterministic DDIM with ``num_inference_steps`` steps. Actions are normalized to [-1, 1] (min_max).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from twinarm.policies.base import Batch, Policy
from twinarm.policies.config import PolicyConfig, check_field
from twinarm.policies.encoders import ImageEncoder
from twinarm.policies.registry import register_policy
from twinarm.robot.features import ACTION, ACTION_IS_PAD


@dataclasses.dataclass(frozen=True)
class DiffusionConfig(PolicyConfig):
    """Diffusion sizes; ``chunk_size`` must be divisible by 2**(len(down_dims) - 1)."""

    chunk_size: int = 16
    n_action_steps: int = 8
    n_obs_steps: int = 2
    state_norm: str = "min_max"
    action_norm: str = "min_max"
    ema_decay: float = 0.995
    down_dims: tuple[int, ...] = (64, 128, 256)
    kernel_size: int = 5
    step_embed_dim: int = 64
    image_feature_dim: int = 64
    num_keypoints: int = 32
    backbone_channels: tuple[int, ...] = (16, 32, 64, 128)
    num_train_timesteps: int = 100
    num_inference_steps: int = 10
    prediction_type: str = "epsilon"
    clip_sample: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        div = 2 ** (len(self.down_dims) - 1)
        check_field(self.chunk_size % div == 0, "chunk_size", self.chunk_size, f"a multiple of {div}")
        check_field(
            self.prediction_type in ("epsilon", "sample"),
            "prediction_type",
            self.prediction_type,
            "'epsilon' or 'sample'",
        )
        check_field(
            0 < self.num_inference_steps <= self.num_train_timesteps,
            "num_inference_steps",
            self.num_inference_steps,
            f"in [1, num_train_timesteps={self.num_train_timesteps}]",
        )


def squaredcos_alphas_cumprod(steps: int, max_beta: float = 0.999) -> Tensor:
    """Cumulative products of (1 - beta) for the squared-cosine schedule (Nichol & Dhariwal, 2021), (steps,)."""

    def alpha_bar(t: float) -> float:
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    betas = [min(1 - alpha_bar((i + 1) / steps) / alpha_bar(i / steps), max_beta) for i in range(steps)]
    return torch.cumprod(1 - torch.tensor(betas, dtype=torch.float64), 0).float()


def step_embedding(t: Tensor, dim: int) -> Tensor:
    """Sinusoidal embedding of diffusion steps (B,) -> (B, dim)."""
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / (half - 1))
    arg = t.float()[:, None] * freq[None]
    return torch.cat([arg.sin(), arg.cos()], dim=-1)


class ConvBlock(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, kernel: int) -> None:
        super().__init__(nn.Conv1d(c_in, c_out, kernel, padding=kernel // 2), nn.GroupNorm(8, c_out), nn.Mish())


class FiLMResBlock(nn.Module):
    """Two conv blocks; the condition sets a per-channel scale and bias between them; residual 1x1 skip."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int, kernel: int) -> None:
        super().__init__()
        self.block1, self.block2 = ConvBlock(c_in, c_out, kernel), ConvBlock(c_out, c_out, kernel)
        self.film = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * c_out))
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:  # x (B, C, T), cond (B, cond_dim)
        scale, bias = self.film(cond).unsqueeze(-1).chunk(2, dim=1)
        return self.block2(self.block1(x) * (1 + scale) + bias) + self.skip(x)


class UNet1d(nn.Module):
    """(B, chunk, action_dim) noisy actions, (B,) steps, (B, cond_dim) condition -> (B, chunk, action_dim)."""

    def __init__(self, cfg: DiffusionConfig, global_cond_dim: int) -> None:
        super().__init__()
        e, k = cfg.step_embed_dim, cfg.kernel_size
        self.step_mlp = nn.Sequential(nn.Linear(e, 4 * e), nn.Mish(), nn.Linear(4 * e, e))
        self.step_dim = e
        cond = e + global_cond_dim
        dims = (cfg.action_dim, *cfg.down_dims)
        self.down = nn.ModuleList()
        for i, (a, b) in enumerate(itertools.pairwise(dims)):
            last = i == len(dims) - 2
            down = nn.Identity() if last else nn.Conv1d(b, b, 3, 2, 1)
            self.down.append(nn.ModuleList([FiLMResBlock(a, b, cond, k), FiLMResBlock(b, b, cond, k), down]))
        mid = dims[-1]
        self.mid = nn.ModuleList([FiLMResBlock(mid, mid, cond, k), FiLMResBlock(mid, mid, cond, k)])
        self.up = nn.ModuleList()
        for a, b in reversed(list(itertools.pairwise(dims[1:]))):
            up = nn.ConvTranspose1d(a, a, 4, 2, 1)
            self.up.append(nn.ModuleList([FiLMResBlock(2 * b, a, cond, k), FiLMResBlock(a, a, cond, k), up]))
        self.final = nn.Sequential(ConvBlock(dims[1], dims[1], k), nn.Conv1d(dims[1], cfg.action_dim, 1))

    def forward(self, x: Tensor, t: Tensor, global_cond: Tensor) -> Tensor:
        cond = torch.cat([self.step_mlp(step_embedding(t, self.step_dim)), global_cond], dim=-1)
        h = x.transpose(1, 2)  # (B, action_dim, chunk)
        skips = []
        for res1, res2, down in self.down:
            h = res2(res1(h, cond), cond)
            skips.append(h)
            h = down(h)
        for res in self.mid:
            h = res(h, cond)
        for res1, res2, up in self.up:
            h = torch.cat([h, skips.pop()], dim=1)
            h = up(res2(res1(h, cond), cond))
        return self.final(h).transpose(1, 2)


@register_policy
class DiffusionPolicy(Policy):
    name = "diffusion"
    config_class = DiffusionConfig
    config: DiffusionConfig

    def __init__(self, config: DiffusionConfig, stats=None) -> None:
        super().__init__(config, stats)
        self.image_encoder = ImageEncoder(
            config.image_feature_dim, config.backbone_channels, "spatial_softmax", config.num_keypoints
        )
        per_step = config.state_dim + len(config.cameras) * config.image_feature_dim
        self.unet = UNet1d(config, per_step * config.n_obs_steps)
        self.register_buffer("alphas_cumprod", squaredcos_alphas_cumprod(config.num_train_timesteps), persistent=False)

    def _global_cond(self, batch: Batch) -> Tensor:
        state = batch["state"]  # (B, T, n)
        b, t = state.shape[:2]
        feats = [state]
        for cam in self.config.cameras:
            img = batch["images"][cam]  # (B, T, 3, H, W)
            feats.append(self.image_encoder(img.flatten(0, 1)).reshape(b, t, -1))
        return torch.cat(feats, dim=-1).flatten(1)

    def compute_loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        cfg = self.config
        x0 = batch[ACTION]
        b = x0.shape[0]
        noise = torch.randn_like(x0)
        t = torch.randint(0, cfg.num_train_timesteps, (b,), device=x0.device)
        ac = self.alphas_cumprod[t][:, None, None]
        noisy = ac.sqrt() * x0 + (1 - ac).sqrt() * noise
        pred = self.unet(noisy, t, self._global_cond(batch))
        target = noise if cfg.prediction_type == "epsilon" else x0
        valid = (~batch[ACTION_IS_PAD]).unsqueeze(-1).to(pred.dtype)
        mse = (F.mse_loss(pred, target, reduction="none") * valid).sum() / (valid.sum() * x0.shape[-1]).clamp_min(1)
        return mse, {"mse": float(mse.detach())}

    def sample_chunk(self, batch: Batch, generator: torch.Generator | None = None) -> Tensor:
        """Deterministic DDIM (eta = 0) from Gaussian noise in ``num_inference_steps`` steps."""
        cfg = self.config
        cond = self._global_cond(batch)
        b = cond.shape[0]
        x = torch.randn(b, cfg.chunk_size, cfg.action_dim, generator=generator)
        ratio = cfg.num_train_timesteps // cfg.num_inference_steps
        for t in range((cfg.num_inference_steps - 1) * ratio, -1, -ratio):
            ac = self.alphas_cumprod[t]
            ac_prev = self.alphas_cumprod[t - ratio] if t - ratio >= 0 else torch.ones(())
            out = self.unet(x, torch.full((b,), t, dtype=torch.long), cond)
            if cfg.prediction_type == "epsilon":
                x0 = (x - (1 - ac).sqrt() * out) / ac.sqrt()
            else:
                x0 = out
            if cfg.clip_sample:
                x0 = x0.clamp(-1, 1)
            eps = (x - ac.sqrt() * x0) / (1 - ac).sqrt()
            x = ac_prev.sqrt() * x0 + (1 - ac_prev).sqrt() * eps
        return x
