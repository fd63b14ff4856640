"""Training samples from a LeRobot v3 dataset on disk (``twinarm.dataset``), windowed for a policy.

Low-dim columns come from the reader in one piece; camera frames are decoded once, sequentially, into memory
when they fit in ``preload_bytes`` (random access into a video would re-decode a GOP per sample), else on demand.
Windows follow lerobot's ``delta_timestamps``: indices clamped to the episode, ``action_is_pad`` marks the
steps past its end. With a policy contract, frames are converted to its input sizes by the one image function
(:func:`twinarm.robot.observation.fit_image`) every robot observation goes through too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from twinarm.dataset.units import JointConversion
from twinarm.policies.config import PolicyConfig
from twinarm.policies.data import ACTION, ACTION_IS_PAD, STATE, compute_stats, image_feature
from twinarm.policies.errors import PolicyError
from twinarm.robot.features import camera_of_feature
from twinarm.robot.observation import fit_image
from twinarm.robot.policy_contract import PolicyContract


class DatasetFeatures(NamedTuple):
    """What a policy config needs from a dataset: dims, camera names (sorted) and frame rate [Hz]."""

    state_dim: int
    action_dim: int
    cameras: tuple[str, ...]
    fps: float


def dataset_features(root: str | Path) -> DatasetFeatures:
    """Read ``meta/info.json`` of the dataset at ``root``."""
    from twinarm.dataset import metadata

    info = metadata.read_info(Path(root))
    feats = info["features"]
    for key in (STATE, ACTION):
        if key not in feats:
            raise PolicyError(f"{root}: dataset has no {key!r} feature; features: {sorted(feats)}")
    cams = tuple(sorted(cam for cam in map(camera_of_feature, feats) if cam is not None))
    return DatasetFeatures(int(feats[STATE]["shape"][0]), int(feats[ACTION]["shape"][0]), cams, float(info["fps"]))


class LeRobotSource:
    """``len`` = frames of the dataset; item ``i`` = lerobot-keyed numpy sample for ``config``'s windows; camera
    frames at ``contract``'s input sizes (at the dataset's size without a contract); state and action through
    ``conversion`` (:func:`twinarm.dataset.units.joint_conversion`: the robot's joint order, in [rad]) when given."""

    def __init__(
        self,
        root: str | Path,
        config: PolicyConfig,
        preload_bytes: int = 2 << 30,
        contract: PolicyContract | None = None,
        conversion: JointConversion | None = None,
    ) -> None:
        from twinarm.dataset import LeRobotDatasetReader

        self.reader = LeRobotDatasetReader(root)
        self.root = Path(root)
        self.config = config
        missing = [k for k in (STATE, ACTION, *map(image_feature, config.cameras)) if k not in self.reader.features]
        if missing:
            raise PolicyError(
                f"{self.root}: dataset lacks features {missing} needed by the {config.cameras} policy; "
                f"features: {sorted(self.reader.features)}"
            )
        low = self.reader.lowdim()
        self.conversion = conversion if conversion is not None and not conversion.identity else None
        self.state = low[STATE].astype(np.float32)
        self.action = low[ACTION].astype(np.float32)
        if self.conversion is not None:  # the dataset's units and joint order -> the robot's, in [rad]
            self.state, self.action = self.conversion.apply(self.state), self.conversion.apply(self.action)
        episode = low["episode_index"].astype(np.int64)
        bounds = {e: self.reader.episode_bounds(int(e)) for e in np.unique(episode)}
        self.lo = np.array([bounds[e][0] for e in episode], dtype=np.int64)
        self.hi = np.array([bounds[e][1] for e in episode], dtype=np.int64)
        self.obs_offsets = np.arange(-config.n_obs_steps + 1, 1)
        self.action_offsets = np.arange(config.chunk_size)
        self.images: dict[str, np.ndarray] = {}
        native = {c: tuple(self.reader.features[image_feature(c)]["shape"][:2]) for c in config.cameras}
        self.image_hw = {c.name: (c.height, c.width) for c in contract.cameras} if contract else native
        frame_bytes = sum(h * w * 3 for h, w in self.image_hw.values())
        if frame_bytes * len(self) <= preload_bytes:
            for cam in config.cameras:
                self.images[cam] = np.stack([self._frame(cam, i) for i in range(len(self))])
            self.reader.close()

    def __len__(self) -> int:
        return len(self.state)

    def __getitem__(self, index: int) -> dict[str, Any]:
        lo, hi = self.lo[index], self.hi[index]
        obs_rows = np.clip(index + self.obs_offsets, lo, hi - 1)
        act_q = index + self.action_offsets
        sample: dict[str, Any] = {
            STATE: self.state[obs_rows],
            ACTION: self.action[np.clip(act_q, lo, hi - 1)],
            ACTION_IS_PAD: act_q >= hi,
        }
        for cam in self.config.cameras:
            if cam in self.images:
                sample[image_feature(cam)] = self.images[cam][obs_rows]
            else:
                sample[image_feature(cam)] = np.stack([self._frame(cam, int(r)) for r in obs_rows])
        return sample

    def _frame(self, cam: str, row: int) -> np.ndarray:
        return fit_image(self.reader.frame(image_feature(cam), row), self.image_hw[cam])

    def stats(self) -> dict[str, dict[str, np.ndarray]]:
        """State/action stats from the dataset's ``stats.json`` (computed from the data when absent or converted),
        plus its per-camera image stats when present."""
        stored = self.reader.stats
        stats = {k: stored[k] for k in (STATE, ACTION) if k in stored}
        if self.conversion is not None:  # stored stats are in the dataset's units: recompute in [rad]
            stats = {k: _array_stats(v) for k, v in ((STATE, self.state), (ACTION, self.action))}
        if len(stats) < 2:
            stats = compute_stats(self)
        for cam in self.config.cameras:
            if image_feature(cam) in stored:
                stats[image_feature(cam)] = stored[image_feature(cam)]
        return stats


def _array_stats(x: np.ndarray) -> dict[str, np.ndarray]:
    """Mean/std/min/max over the rows of ``x`` (frames, joints)."""
    return {"mean": x.mean(0), "std": x.std(0), "min": x.min(0), "max": x.max(0)}
