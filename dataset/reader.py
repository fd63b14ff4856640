"""LeRobotDatasetReader: numpy access to a LeRobot v3.0 dataset for training (no torch).

All low-dim columns (state, action, index columns, ...) are loaded into memory at open (they are small);
camera frames are decoded on demand: ``video`` features through :class:`~twinarm.dataset.video.VideoReader` (LRU
frame cache, decoder kept open for sequential access), ``image`` features (PNG/JPEG bytes in the data parquet, as
lerobot writes them without videos) through :class:`~twinarm.dataset.images.ImageColumns`. Features of other
dtypes (``string``, ``audio``, ...) are listed in ``unsupported_keys`` and not served. Keys follow lerobot:
``observation.state``, ``observation.images.<cam>``, ``action``; windows requested with ``delta_timestamps``
get a leading time axis and a ``<key>_is_pad`` mask.
Reads datasets written by twinarm and by lerobot (several episodes per data/video file).
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from twinarm.dataset import layout, metadata
from twinarm.dataset.errors import DatasetCorruptError, DatasetFormatError, FrameIndexError
from twinarm.dataset.images import ImageColumns
from twinarm.dataset.stats import Stats, from_json
from twinarm.dataset.video import VideoReader

_MAX_OPEN_VIDEOS = 8


class LeRobotDatasetReader:
    """A v3.0 dataset at ``root``: ``len`` = frames; ``get(i)`` = one training sample as numpy arrays."""

    def __init__(self, root: str | Path, video_cache_frames: int = 64) -> None:
        self.root = Path(root)
        self.info = metadata.read_info(self.root)
        self.features: dict[str, dict] = self.info["features"]
        self.fps = float(self.info["fps"])
        self.video_keys = layout.video_keys(self.features)
        self.image_keys = layout.image_keys(self.features)
        #: every camera feature, video or image: ``frame(key, i)`` serves each of them
        self.camera_keys = self.video_keys + self.image_keys
        self.lowdim_keys = layout.lowdim_keys(self.features)
        self.unsupported_keys = layout.unsupported_keys(self.features)
        self.episodes = metadata.read_episodes(self.root)
        self.tasks = metadata.read_tasks(self.root) if (self.root / layout.TASKS_PATH).exists() else []
        self._cache_frames = video_cache_frames
        self._videos: OrderedDict[Path, VideoReader] = OrderedDict()
        self._pid = os.getpid()
        self._images = ImageColumns(self.root)
        self._data_paths: list[Path] = []
        self._row_file = self._row_pos = np.zeros(0, np.int64)  # data file number and row in it, per frame
        self._data = self._load_lowdim()
        self._ep_by_index = {int(r["episode_index"]): r for r in self.episodes}
        stats_path = self.root / layout.STATS_PATH
        self.stats: dict[str, Stats] = {}
        if stats_path.exists():
            self.stats = from_json(json.loads(stats_path.read_text()))

    # -- sizes and boundaries -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._data["index"])

    @property
    def num_episodes(self) -> int:
        return len(self.episodes)

    def episode_bounds(self, episode_index: int) -> tuple[int, int]:
        """[from, to) frame indices of an episode."""
        r = self._episode(episode_index)
        return int(r["dataset_from_index"]), int(r["dataset_to_index"])

    def episode_task(self, episode_index: int) -> str:
        return self._episode(episode_index)["tasks"][0]

    def lowdim(self) -> dict[str, np.ndarray]:
        """Every low-dim column of the whole dataset at once: (N,) scalars, (N, n) vectors (copies)."""
        return {k: v.copy() for k, v in self._data.items()}

    # -- samples --------------------------------------------------------------------------------------------
    def get(self, index: int, delta_timestamps: dict[str, list[float]] | None = None) -> dict[str, Any]:
        """Frame ``index`` as a dict of numpy arrays (images (H, W, 3) uint8) plus ``task`` text.

        For each key in ``delta_timestamps`` (offsets [s], multiples of 1/fps), the value gets a leading axis
        over the offsets, clamped to the episode, with ``<key>_is_pad`` (k,) bool marking the padded ones.
        """
        n = len(self)
        if not -n <= index < n:
            raise FrameIndexError(f"{self.root}: frame index {index} out of range [0, {n})")
        index = int(index) % n
        ep = int(self._data["episode_index"][index])
        lo, hi = self.episode_bounds(ep)
        deltas = self._delta_indices(delta_timestamps or {})
        item: dict[str, Any] = {}
        for key in self.lowdim_keys + self.camera_keys:
            if key in deltas:
                q = index + deltas[key]
                item[f"{key}_is_pad"] = (q < lo) | (q >= hi)
                rows = np.clip(q, lo, hi - 1)
            else:
                rows = index
            if key in self.image_keys:
                item[key] = self._image_rows(key, rows)
            elif key in self.video_keys:
                item[key] = self._frames(key, ep, rows)
            else:
                item[key] = self._data[key][rows]
        ti = int(self._data["task_index"][index]) if "task_index" in self._data else 0
        item["task"] = self.tasks[ti] if ti < len(self.tasks) else ""
        return item

    def frame(self, key: str, index: int) -> np.ndarray:
        """One decoded (H, W, 3) uint8 image of camera feature ``key`` (video or image) at frame ``index``."""
        if key in self.image_keys:
            return self._image_rows(key, int(index))
        if key not in self.video_keys:
            raise DatasetFormatError(
                f"{self.root}: {key!r} is not a camera feature; camera features: {', '.join(self.camera_keys) or '-'}"
            )
        return self._frames(key, int(self._data["episode_index"][index]), int(index))

    def close(self) -> None:
        for v in self._videos.values():
            v.close()
        self._videos.clear()
        self._images.clear()

    def __getstate__(self) -> dict:  # open decoders stay in their process
        state = self.__dict__.copy()
        state["_videos"] = OrderedDict()
        state["_images"] = ImageColumns(self.root)
        return state

    # -- internals ------------------------------------------------------------------------------------------
    def _episode(self, episode_index: int) -> dict[str, Any]:
        try:
            return self._ep_by_index[int(episode_index)]
        except KeyError:
            raise FrameIndexError(
                f"{self.root}: no episode {episode_index}; episodes: 0..{self.num_episodes - 1}"
            ) from None

    def _delta_indices(self, delta_timestamps: dict[str, list[float]]) -> dict[str, np.ndarray]:
        out = {}
        for key, ts in delta_timestamps.items():
            if key not in self.features:
                raise DatasetFormatError(
                    f"{self.root}: delta_timestamps key {key!r} is not a feature; features: {', '.join(self.features)}"
                )
            d = np.asarray(ts, dtype=np.float64) * self.fps
            if np.any(np.abs(d - np.round(d)) > 1e-3 * self.fps):
                raise DatasetFormatError(f"delta_timestamps[{key!r}] = {list(ts)} are not multiples of 1/{self.fps} s")
            out[key] = np.round(d).astype(np.int64)
        return out

    def _frames(self, key: str, ep: int, rows: np.ndarray | int) -> np.ndarray:
        r = self._episode(ep)
        chunk, file = r[f"videos/{key}/chunk_index"], r[f"videos/{key}/file_index"]
        path = self.root / self.info["video_path"].format(video_key=key, chunk_index=chunk, file_index=file)
        if self._pid != os.getpid():  # forked (e.g. a DataLoader worker): never share the parent's decoders
            self._videos, self._pid = OrderedDict(), os.getpid()
        reader = self._videos.get(path)
        if reader is None:
            reader = self._videos[path] = VideoReader(path, self.fps, self._cache_frames)
            while len(self._videos) > _MAX_OPEN_VIDEOS:
                self._videos.popitem(last=False)[1].close()
        self._videos.move_to_end(path)
        offset = float(r[f"videos/{key}/from_timestamp"])
        ts = self._data["timestamp"][rows]
        if np.ndim(ts) == 0:
            return reader.frame_at(offset + float(ts))
        return np.stack([reader.frame_at(offset + float(t)) for t in ts])

    def _image_rows(self, key: str, rows: np.ndarray | int) -> np.ndarray:
        if np.ndim(rows) == 0:
            i = int(rows)
            return self._images.image(key, self._data_paths[self._row_file[i]], int(self._row_pos[i]))
        return np.stack([self._image_rows(key, int(i)) for i in np.asarray(rows)])

    def _load_lowdim(self) -> dict[str, np.ndarray]:
        files: list[tuple[int, int]] = sorted(
            {(int(r["data/chunk_index"]), int(r["data/file_index"])) for r in self.episodes}
        )
        tables, paths = [], []
        for chunk, file in files:
            path = self.root / self.info["data_path"].format(chunk_index=chunk, file_index=file)
            present = set(metadata.parquet_columns(path))
            tables.append(metadata.read_parquet(path, columns=[k for k in self.lowdim_keys if k in present]))
            paths.append(path)
        self._data_paths = paths
        self._row_file = np.concatenate([np.full(t.num_rows, n, np.int64) for n, t in enumerate(tables)] or [[]])
        self._row_pos = np.concatenate([np.arange(t.num_rows, dtype=np.int64) for t in tables] or [[]])
        self._row_file, self._row_pos = self._row_file.astype(np.int64), self._row_pos.astype(np.int64)
        data: dict[str, np.ndarray] = {}
        for key in self.lowdim_keys:
            parts = [metadata.column_numpy(t, key, self.features[key], p) for t, p in zip(tables, paths)]
            ft = self.features[key]
            empty = np.zeros((0, *[int(s) for s in ft["shape"]]) if list(ft["shape"]) != [1] else (0,), ft["dtype"])
            data[key] = np.concatenate(parts) if parts else empty
        if "index" in data and len(data["index"]):
            order = np.argsort(data["index"], kind="stable")
            if not np.array_equal(data["index"][order], np.arange(len(order))):
                raise DatasetCorruptError(
                    f"{self.root}/data: the 'index' column is not 0..{len(order) - 1} "
                    "without gaps (missing or duplicated frames)"
                )
            if not np.array_equal(order, np.arange(len(order))):
                data = {k: v[order] for k, v in data.items()}
                self._row_file, self._row_pos = self._row_file[order], self._row_pos[order]
        expected = sum(int(r["length"]) for r in self.episodes)
        if len(data.get("index", ())) != expected:
            raise DatasetCorruptError(
                f"{self.root}: data files hold {len(data.get('index', ()))} frames, "
                f"meta/episodes says {expected} (frame count mismatch)"
            )
        return data
