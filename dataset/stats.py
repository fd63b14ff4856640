"""Feature statistics in lerobot's ``stats.json`` shape: min, max, mean, std, count and quantiles.

Low-dimensional features get exact per-episode stats (the whole episode is buffered at save time). Images get
per-channel stats over a subsample of frames (every ``every``-th frame, strided to at most ~150 px a side),
normalised to [0, 1] with shape (3, 1, 1), as lerobot stores them. Episodes merge with the parallel-variance
formula for mean/std, exact min/max, and count-weighted averages of the per-episode quantiles (the same
approximation lerobot uses; exact quantiles would need every value of every episode).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from twinarm.dataset.errors import DatasetFormatError

QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}
Stats = dict[str, np.ndarray]  # stat name -> array; "count" is (1,)


def array_stats(values: np.ndarray) -> Stats:
    """Stats over axis 0 of ``values`` (N, ...) (N >= 1), as float64 arrays; count = N."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    out: Stats = {
        "min": v.min(axis=0),
        "max": v.max(axis=0),
        "mean": v.mean(axis=0),
        "std": v.std(axis=0),
        "count": np.array([v.shape[0]], dtype=np.int64),
    }
    qs = np.quantile(v, list(QUANTILES.values()), axis=0)
    for i, name in enumerate(QUANTILES):
        out[name] = qs[i]
    return out


class ImageStats:
    """Per-channel stats of a camera stream over a subsample; ``add`` is cheap when a frame is skipped."""

    def __init__(self, every: int = 10, max_side: int = 150, pixels_per_frame: int = 1024) -> None:
        self.every = max(1, int(every))
        self.max_side = max_side
        self.pixels_per_frame = pixels_per_frame
        self._seen = 0
        self._frames = 0
        self._sum = np.zeros(3)
        self._sumsq = np.zeros(3)
        self._n_px = 0
        self._min = np.full(3, np.inf)
        self._max = np.full(3, -np.inf)
        self._samples: list[np.ndarray] = []  # (k, 3) uint8 pixel samples for quantiles
        self._rng = np.random.default_rng(0)

    def add(self, image: np.ndarray) -> None:
        """Account for one (H, W, 3) uint8 frame (only every ``every``-th frame is measured)."""
        self._seen += 1
        if (self._seen - 1) % self.every:
            return
        h, w = image.shape[:2]
        stride = max(1, int(max(h, w) // self.max_side))
        px = image[::stride, ::stride].reshape(-1, 3).astype(np.float64)
        self._frames += 1
        self._sum += px.sum(axis=0)
        self._sumsq += (px * px).sum(axis=0)
        self._n_px += px.shape[0]
        np.minimum(self._min, px.min(axis=0), out=self._min)
        np.maximum(self._max, px.max(axis=0), out=self._max)
        pick = self._rng.integers(0, px.shape[0], size=min(self.pixels_per_frame, px.shape[0]))
        self._samples.append(px[pick].astype(np.uint8))

    def result(self) -> Stats | None:
        """Stats normalised to [0, 1], each (3, 1, 1); ``count`` = frames measured. None if no frame."""
        if not self._frames:
            return None
        mean = self._sum / self._n_px
        var = np.maximum(self._sumsq / self._n_px - mean * mean, 0.0)
        out: Stats = {
            "min": self._min / 255.0,
            "max": self._max / 255.0,
            "mean": mean / 255.0,
            "std": np.sqrt(var) / 255.0,
        }
        samples = np.concatenate(self._samples).astype(np.float64) / 255.0
        qs = np.quantile(samples, list(QUANTILES.values()), axis=0)
        for i, name in enumerate(QUANTILES):
            out[name] = qs[i]
        out = {k: v.reshape(3, 1, 1) for k, v in out.items()}
        out["count"] = np.array([self._frames], dtype=np.int64)
        return out


def merge_stats(parts: Iterable[Stats]) -> Stats:
    """Merge stats of disjoint sets of samples (see the module docstring for the quantile approximation)."""
    parts = [p for p in parts if p]
    if not parts:
        raise DatasetFormatError("merge_stats got no stats to merge (every part was empty); give at least one")
    counts = np.array([float(p["count"][0]) for p in parts])
    total = counts.sum()
    shape = (-1,) + (1,) * np.asarray(parts[0]["mean"]).ndim
    w = (counts / total).reshape(shape)
    means = np.stack([np.asarray(p["mean"], dtype=np.float64) for p in parts])
    variances = np.stack([np.asarray(p["std"], dtype=np.float64) ** 2 for p in parts])
    mean = (means * w).sum(axis=0)
    var = ((variances + (means - mean) ** 2) * w).sum(axis=0)
    out: Stats = {
        "min": np.min(np.stack([p["min"] for p in parts]), axis=0),
        "max": np.max(np.stack([p["max"] for p in parts]), axis=0),
        "mean": mean,
        "std": np.sqrt(var),
        "count": np.array([int(total)], dtype=np.int64),
    }
    for name in QUANTILES:
        if all(name in p for p in parts):
            out[name] = (np.stack([np.asarray(p[name], dtype=np.float64) for p in parts]) * w).sum(axis=0)
    return out


def merge_dataset_stats(episodes: Iterable[dict[str, Stats]]) -> dict[str, Stats]:
    """Merge per-episode ``{feature: stats}`` dicts into dataset stats (union of features)."""
    episodes = list(episodes)
    keys = sorted({k for ep in episodes for k in ep})
    return {k: merge_stats(ep[k] for ep in episodes if k in ep) for k in keys}


def to_json(stats: dict[str, Stats]) -> dict:
    return {k: {s: np.asarray(v).tolist() for s, v in st.items()} for k, st in stats.items()}


def from_json(obj: dict) -> dict[str, Stats]:
    return {k: {s: np.asarray(v) for s, v in st.items()} for k, st in obj.items()}
