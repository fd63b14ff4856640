"""Torch side of the data: lerobot-keyed samples -> tensors, robot observations -> batches, synthetic demos.

Sample format (numpy, from the dataset reader): ``observation.state`` ([T,] n) float32 [rad],
``observation.images.<cam>`` ([T,] H, W, 3) uint8, ``action`` (chunk, n) float32 [rad] future joint targets,
``action_is_pad`` (chunk,) bool. :func:`sample_to_tensors` turns images into ([T,] 3, H, W) float32 in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from twinarm.policies.errors import MissingObservationError, SampleIndexError
from twinarm.robot.features import (
    ACTION,
    ACTION_IS_PAD,
    IMAGE_FEATURE_PREFIX,
    JOINT_POS,
    STATE,
    image_feature,
    image_key,
)

__all__ = ["ACTION", "ACTION_IS_PAD", "IMAGE_FEATURE_PREFIX", "STATE", "image_feature"]


def images_to_float(x: np.ndarray | Tensor) -> Tensor:
    """(..., H, W, 3) uint8 -> (..., 3, H, W) float32 in [0, 1]."""
    t = torch.as_tensor(np.ascontiguousarray(x)) if isinstance(x, np.ndarray) else x
    return t.movedim(-1, -3).float().div_(255.0)


def sample_to_tensors(sample: dict[str, Any]) -> dict[str, Tensor]:
    """One dataset sample (numpy) -> tensors; unknown keys (indices, timestamps) are dropped."""
    out: dict[str, Tensor] = {}
    for key, value in sample.items():
        if key.startswith(IMAGE_FEATURE_PREFIX) and not key.endswith("_is_pad"):
            out[key] = images_to_float(np.asarray(value))
        elif key in (STATE, ACTION):
            out[key] = torch.as_tensor(np.asarray(value, dtype=np.float32))
        elif key == ACTION_IS_PAD:
            out[key] = torch.as_tensor(np.asarray(value, dtype=bool))
    return out


def observation_to_batch(obs: dict[str, np.ndarray], cameras: Sequence[str]) -> dict[str, Tensor]:
    """Robot observation (``joint_pos`` (n,) or (B, n), ``image_<cam>`` (H, W, 3) or (B, H, W, 3) uint8) ->
    lerobot-keyed tensors with a batch axis: ``observation.state`` (B, n), images (B, 3, H, W) in [0, 1]."""
    pos = np.asarray(obs[JOINT_POS], dtype=np.float32)
    batched = pos.ndim == 2
    out = {STATE: torch.as_tensor(pos if batched else pos[None])}
    for cam in cameras:
        key = image_key(cam)
        if key not in obs:
            raise MissingObservationError(f"observation lacks {key!r} needed by the policy; keys: {sorted(obs)}")
        img = np.asarray(obs[key])
        out[image_feature(cam)] = images_to_float(img if batched else img[None])
    return out


class SampleSource(Protocol):
    """Anything indexable giving lerobot-keyed numpy samples (the dataset reader, a synthetic set)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> dict[str, Any]: ...


class TorchDataset(torch.utils.data.Dataset):
    """Adapts a :class:`SampleSource` to torch: every item goes through :func:`sample_to_tensors`."""

    def __init__(self, source: SampleSource) -> None:
        self.source = source

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return sample_to_tensors(self.source[index])


def delta_timestamps(fps: float, chunk_size: int, n_obs_steps: int, cameras: Sequence[str]) -> dict[str, list]:
    """Lerobot ``delta_timestamps`` [s] for a policy: observations at t-(T-1)/fps..t, actions t..t+chunk-1."""
    obs = [(i - n_obs_steps + 1) / fps for i in range(n_obs_steps)]
    out: dict[str, list] = {STATE: obs, ACTION: [i / fps for i in range(chunk_size)]}
    for cam in cameras:
        out[image_feature(cam)] = list(obs)
    return out


def compute_stats(source: SampleSource, max_samples: int = 2000, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Mean/std/min/max of state and action (over every step of a chunk) from up to ``max_samples`` samples."""
    rng = np.random.default_rng(seed)
    n = len(source)
    idx = rng.choice(n, size=min(n, max_samples), replace=False) if n > max_samples else np.arange(n)
    cols: dict[str, list[np.ndarray]] = {STATE: [], ACTION: []}
    for i in idx:
        s = source[int(i)]
        for key in cols:
            v = np.asarray(s[key], dtype=np.float32)
            if key == ACTION and ACTION_IS_PAD in s:
                v = v[~np.asarray(s[ACTION_IS_PAD], dtype=bool)]
            cols[key].append(v.reshape(-1, v.shape[-1]))
    stats = {}
    for key, parts in cols.items():
        x = np.concatenate(parts, axis=0)
        stats[key] = {"mean": x.mean(0), "std": x.std(0), "min": x.min(0), "max": x.max(0)}
    return stats


class SyntheticDemos:
    """Learnable synthetic samples for tests and benchmarks: the action chunk is a smooth function of the state
    and of a bright square's position in each image, so a policy that reads both can fit it."""

    def __init__(
        self,
        size: int = 64,
        state_dim: int = 6,
        chunk_size: int = 20,
        cameras: Sequence[str] = ("front",),
        image_hw: tuple[int, int] = (96, 96),
        n_obs_steps: int = 1,
        seed: int = 0,
    ) -> None:
        self.size, self.state_dim, self.chunk_size = size, state_dim, chunk_size
        self.cameras, self.image_hw, self.n_obs_steps, self.seed = tuple(cameras), image_hw, n_obs_steps, seed

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < self.size:
            raise SampleIndexError(f"synthetic sample {index} out of range [0, {self.size})")
        rng = np.random.default_rng(self.seed * 100_003 + index)
        n, (h, w), t = self.state_dim, self.image_hw, self.n_obs_steps
        state = rng.uniform(-1, 1, size=n).astype(np.float32)
        target = rng.uniform(-1, 1, size=2).astype(np.float32)  # square position, as seen by the cameras
        images = np.zeros((h, w, 3), dtype=np.uint8)
        cy, cx = int((target[0] + 1) / 2 * (h - 12)), int((target[1] + 1) / 2 * (w - 12))
        images[cy : cy + 12, cx : cx + 12] = (255, 200, 50)
        goal = np.resize(target, n).astype(np.float32)
        frac = np.linspace(0, 1, self.chunk_size, dtype=np.float32)[:, None]
        action = (state + frac * (goal - state)).astype(np.float32)
        sample: dict[str, Any] = {
            STATE: np.repeat(state[None], t, 0) if t > 1 else state,
            ACTION: action,
            ACTION_IS_PAD: np.zeros(self.chunk_size, dtype=bool),
        }
        for cam in self.cameras:
            sample[image_feature(cam)] = np.repeat(images[None], t, 0) if t > 1 else images
        return sample
