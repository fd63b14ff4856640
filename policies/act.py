"""ACT: Action Chunking with Transformers (Zhao et al., 2023), sized for CPU.

A transformer encoder reads [style latent z, joint state, image feature tokens of every camera]; a decoder with
``chunk_size`` learned queries outputs the chunk. Training is a CVAE: a small style encoder reads
[CLS, state, action chunk] and gives q(z | obs, actions); the loss is L1 on actions plus ``kl_weight`` * KL.
At inference z = 0 (the prior mean). Optional temporal ensembling re-plans every step and averages the
overlapping predictions with weights exp(-coeff * i), oldest first.
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque

import numpy as np
import torch
from torch import Tensor, nn

from twinarm.policies.base import Batch, Policy
from twinarm.policies.config import PolicyConfig, check_field
from twinarm.policies.encoders import ResNetEncoder
from twinarm.policies.registry import register_policy
from twinarm.robot.features import ACTION, ACTION_IS_PAD, JOINT_POS


@dataclasses.dataclass(frozen=True)
class ACTConfig(PolicyConfig):
    """ACT sizes. ``temporal_ensemble_coeff`` (e.g. 0.01) re-plans every step and ensembles; None disables it."""

    chunk_size: int = 20
    n_action_steps: int = 10
    dim_model: int = 128
    n_heads: int = 4
    dim_feedforward: int = 512
    n_encoder_layers: int = 3
    n_decoder_layers: int = 2
    n_vae_encoder_layers: int = 2
    dropout: float = 0.1
    latent_dim: int = 32
    use_vae: bool = True
    kl_weight: float = 10.0
    backbone_channels: tuple[int, ...] = (16, 32, 64, 128)
    temporal_ensemble_coeff: float | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_field(
            self.dim_model % self.n_heads == 0, "dim_model", self.dim_model, f"a multiple of n_heads={self.n_heads}"
        )
        check_field(self.n_obs_steps == 1, "n_obs_steps", self.n_obs_steps, "1 for ACT")


def sinusoid_2d(h: int, w: int, dim: int) -> Tensor:
    """Fixed 2D sine/cosine position embedding, (h*w, dim): half the channels for y, half for x."""
    quarter = dim // 4
    freq = torch.exp(-math.log(10000.0) * torch.arange(quarter, dtype=torch.float32) / quarter)
    ys = torch.arange(h, dtype=torch.float32)[:, None] * freq  # (h, q)
    xs = torch.arange(w, dtype=torch.float32)[:, None] * freq  # (w, q)
    y_emb = torch.cat([ys.sin(), ys.cos()], -1)[:, None, :].expand(h, w, 2 * quarter)
    x_emb = torch.cat([xs.sin(), xs.cos()], -1)[None, :, :].expand(h, w, 2 * quarter)
    emb = torch.cat([y_emb, x_emb], -1).reshape(h * w, 4 * quarter)
    return nn.functional.pad(emb, (0, dim - 4 * quarter))


def _encoder(cfg: ACTConfig, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        cfg.dim_model, cfg.n_heads, cfg.dim_feedforward, cfg.dropout, batch_first=True, norm_first=True
    )
    return nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(cfg.dim_model), enable_nested_tensor=False)


@register_policy
class ACTPolicy(Policy):
    name = "act"
    config_class = ACTConfig
    config: ACTConfig

    def __init__(self, config: ACTConfig, stats=None) -> None:
        super().__init__(config, stats)
        d = config.dim_model
        self.backbone = ResNetEncoder(config.backbone_channels)
        self.input_proj = nn.Conv2d(self.backbone.out_channels, d, 1)
        self.camera_embed = nn.Parameter(torch.zeros(max(1, len(config.cameras)), d))
        self.state_proj = nn.Linear(config.state_dim, d)
        self.latent_proj = nn.Linear(config.latent_dim, d)
        self.token_embed = nn.Parameter(torch.zeros(2, d))  # latent and state tokens
        self.encoder = _encoder(config, config.n_encoder_layers)
        dec_layer = nn.TransformerDecoderLayer(
            d, config.n_heads, config.dim_feedforward, config.dropout, batch_first=True, norm_first=True
        )
        self.decoder = nn.TransformerDecoder(dec_layer, config.n_decoder_layers, norm=nn.LayerNorm(d))
        self.queries = nn.Parameter(torch.randn(config.chunk_size, d) * 0.02)
        self.action_head = nn.Linear(d, config.action_dim)
        if config.use_vae:
            self.vae_cls = nn.Parameter(torch.zeros(1, d))
            self.vae_state_proj = nn.Linear(config.state_dim, d)
            self.vae_action_proj = nn.Linear(config.action_dim, d)
            self.vae_pos = nn.Parameter(torch.randn(config.chunk_size + 2, d) * 0.02)
            self.vae_encoder = _encoder(config, config.n_vae_encoder_layers)
            self.latent_head = nn.Linear(d, 2 * config.latent_dim)
        self._pos_cache: dict[tuple[int, int], Tensor] = {}
        self._ensemble: deque[tuple[Tensor, int]] = deque(maxlen=config.chunk_size)
        self._step = 0

    # -- model --------------------------------------------------------------------------------------------
    def _image_tokens(self, images: dict[str, Tensor]) -> list[Tensor]:
        tokens = []
        for i, cam in enumerate(self.config.cameras):
            feat = self.input_proj(self.backbone(images[cam][:, -1]))  # (B, d, h, w)
            _, d, h, w = feat.shape
            if (h, w) not in self._pos_cache:
                self._pos_cache[(h, w)] = sinusoid_2d(h, w, d)
            pos = self._pos_cache[(h, w)].to(feat.dtype)
            tokens.append(feat.flatten(2).transpose(1, 2) + pos + self.camera_embed[i])
        return tokens

    def _decode(self, batch: Batch, z: Tensor) -> Tensor:
        state = batch["state"][:, -1]
        b = state.shape[0]
        head = torch.stack([self.latent_proj(z), self.state_proj(state)], dim=1) + self.token_embed
        memory = self.encoder(torch.cat([head, *self._image_tokens(batch["images"])], dim=1))
        out = self.decoder(self.queries.expand(b, -1, -1), memory)
        return self.action_head(out)  # (B, chunk, action_dim)

    def _posterior(self, batch: Batch) -> tuple[Tensor, Tensor]:
        state, action, pad = batch["state"][:, -1], batch[ACTION], batch[ACTION_IS_PAD]
        b = state.shape[0]
        tokens = torch.cat(
            [self.vae_cls.expand(b, 1, -1), self.vae_state_proj(state)[:, None], self.vae_action_proj(action)], 1
        )
        mask = torch.cat([torch.zeros(b, 2, dtype=torch.bool, device=pad.device), pad], dim=1)
        cls = self.vae_encoder(tokens + self.vae_pos, src_key_padding_mask=mask)[:, 0]
        mu, log_var = self.latent_head(cls).chunk(2, dim=-1)
        return mu, log_var

    def compute_loss(self, batch: Batch) -> tuple[Tensor, dict[str, float]]:
        b = batch["state"].shape[0]
        if self.config.use_vae:
            mu, log_var = self._posterior(batch)
            z = mu + torch.randn_like(mu) * (0.5 * log_var).exp()
            kld = (-0.5 * (1 + log_var - mu.pow(2) - log_var.exp())).sum(-1).mean()
        else:
            z = torch.zeros(b, self.config.latent_dim)
            kld = torch.zeros(())
        pred = self._decode(batch, z)
        valid = (~batch[ACTION_IS_PAD]).unsqueeze(-1).to(pred.dtype)
        l1 = ((pred - batch[ACTION]).abs() * valid).sum() / (valid.sum() * pred.shape[-1]).clamp_min(1)
        loss = l1 + self.config.kl_weight * kld
        return loss, {"l1": float(l1.detach()), "kld": float(kld.detach())}

    def sample_chunk(self, batch: Batch) -> Tensor:
        b = batch["state"].shape[0]
        return self._decode(batch, torch.zeros(b, self.config.latent_dim))

    # -- inference with temporal ensembling ---------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        self._ensemble.clear()
        self._step = 0

    @torch.no_grad()
    def select_action(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        coeff = self.config.temporal_ensemble_coeff
        if coeff is None:
            return super().select_action(obs)
        batched = np.asarray(obs[JOINT_POS]).ndim == 2
        self._ensemble.append((self._plan(self._observe(obs)), self._step))
        # chunks still covering this step, oldest first: weight exp(-coeff * i)
        preds = [chunk[:, self._step - start] for chunk, start in self._ensemble]
        weights = torch.exp(-coeff * torch.arange(len(preds), dtype=torch.float32))
        action = (torch.stack(preds, 0) * weights[:, None, None]).sum(0) / weights.sum()
        self._step += 1
        return action.numpy() if batched else action[0].numpy()
