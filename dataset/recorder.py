"""Recorder: writes frames from any control loop into a LeRobot v3.0 dataset without blocking it.

``add_frame`` only copies the low-dim values into a buffer and each camera image into its encoder's bounded
queue (encoding runs in background threads while the episode runs), so ``save_episode`` only waits for the
last queued frames, writes one small parquet file and the metadata.

File layout (``twinarm.dataset.packing``): episodes are packed into data files of up to ``data_file_mb`` and
mp4 files of up to ``video_file_mb`` per camera, as lerobot does (episodes located by chunk, file and from/to
timestamp); 0 gives every episode its own files. An episode is encoded into ``.recording/`` while it runs; saving
appends it to the newest files by rewriting them (committed prefix unchanged) and replacing them atomically.
Commit order of ``save_episode``: videos, data parquet, tasks, then the episodes metadata file (atomic replace =
the commit point), then stats.json and info.json (re-derivable from the episodes metadata, see ``recovery``). A
crash loses at most the episode being recorded: an uncommitted tail in the newest files is trimmed on open.

Frame policy: if any camera queue is full the whole frame is dropped (state, action and images) and counted
in ``dropped_frames``; a frame arriving more than ``late_factor / fps`` after the previous one counts in
``late_frames``. Stored timestamps are nominal (``frame_index / fps``), as lerobot expects.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
from twinarm.dataset import layout, metadata, packing
from twinarm.dataset.errors import DatasetFormatError, RecorderError
from twinarm.dataset.recovery import recover
from twinarm.dataset.stats import array_stats, merge_dataset_stats, to_json
from twinarm.dataset.video import VideoSettings, VideoStreamWriter
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, RobotSpec, image_key


@dataclass(frozen=True)
class RecorderSettings:
    """fps: frame rate [Hz]; queue_s: encoder queue length [s of frames] per camera; image_stats_every:
    measure every k-th image for stats; late_factor: frame interval (in periods) above which a frame is late."""

    fps: float = 30.0
    video: VideoSettings = field(default_factory=VideoSettings)
    queue_s: float = 2.0
    image_stats_every: int = 10
    late_factor: float = 1.5
    data_file_mb: float = layout.DATA_FILES_SIZE_IN_MB  # pack episodes into data files up to this size; 0 = one each
    video_file_mb: float = layout.VIDEO_FILES_SIZE_IN_MB  # same for each camera's mp4 files


class EpisodeSummary(NamedTuple):
    episode_index: int
    frames: int
    dropped_frames: int
    late_frames: int
    save_s: float  # time spent in save_episode [s]


class Recorder:
    """Creates ``root`` as a new dataset, or resumes it (after discarding any partial episode)."""

    def __init__(
        self, root: str | Path, spec: RobotSpec, settings: RecorderSettings | None = None, robot_type: str | None = None
    ) -> None:
        self.root = Path(root)
        self.spec = spec
        self.settings = settings or RecorderSettings()
        self.messages: list[str] = []  # what opening the dataset repaired
        s = self.settings
        features = layout.features_from_spec(spec, s.fps, s.video.codec, s.video.pix_fmt)
        if (self.root / layout.INFO_PATH).exists():
            self.messages = recover(self.root)
            self.info = metadata.read_info(self.root)
            self._check_compatible(features)
            self._rows = metadata.read_episodes(self.root, with_stats=True)
            self._tasks = metadata.read_tasks(self.root) if (self.root / layout.TASKS_PATH).exists() else []
        else:
            self.info = layout.new_info(features, s.fps, robot_type or spec.name)
            self._rows, self._tasks = [], []
            layout.write_json_atomic(self.info, self.root / layout.INFO_PATH)
        self.features = self.info["features"]
        self.fps = float(self.info["fps"])
        self._cams = [c for c in spec.cameras]
        self._writers: dict[str, VideoStreamWriter] = {}
        self._task: str | None = None
        self._open_data: pa.Table | None = None  # committed rows of the newest data file, once read
        self._reset_buffers()

    # -- lifecycle ------------------------------------------------------------------------------------------
    @property
    def num_episodes(self) -> int:
        return len(self._rows)

    @property
    def recording(self) -> bool:
        return self._task is not None

    def start_episode(self, task: str) -> None:
        """Open a new episode for ``task`` (natural-language text)."""
        if self._task is not None:
            raise RecorderError(f"{self.root}: start_episode() while an episode is open; save or discard it first")
        staging = self.root / layout.STAGING_DIR
        staging.mkdir(parents=True, exist_ok=True)
        q = max(1, int(self.settings.queue_s * self.fps))
        for cam in self._cams:
            key = layout.video_key(cam.name)
            self._writers[key] = VideoStreamWriter(
                staging / f"{key}.mp4",
                cam.height,
                cam.width,
                self.fps,
                self.settings.video,
                q,
                self.settings.image_stats_every,
            )
        self._task = task
        self._reset_buffers()

    def add_frame(self, obs: dict[str, np.ndarray], action: np.ndarray, timestamp: float | None = None) -> bool:
        """Buffer one frame (never blocks). ``timestamp`` [s] (default ``time.monotonic()``) is used to count
        late frames. Returns False when the frame was dropped because an encoder queue was full."""
        if self._task is None:
            raise RecorderError(f"{self.root}: add_frame() without an open episode; call start_episode(task) first")
        t = time.monotonic() if timestamp is None else float(timestamp)
        if self._last_t is not None and t - self._last_t > self.settings.late_factor / self.fps:
            self.late_frames += 1
        self._last_t = t
        n = self.spec.num_joints
        values = {}
        for key, src in (
            (layout.STATE, obs.get(JOINT_POS)),
            (layout.VELOCITY, obs.get(JOINT_VEL)),
            (layout.ACTION, action),
        ):
            a = None if src is None else np.asarray(src, dtype=np.float32).reshape(-1)
            if a is None or a.shape != (n,):
                raise RecorderError(
                    f"{key}: expected ({n},) float32 for joints {list(self.spec.joint_names)}, "
                    f"got {None if a is None else a.shape}"
                )
            values[key] = a
        if any(w.queue_full() for w in self._writers.values()):
            self.dropped_frames += 1
            return False
        for cam in self._cams:
            img = obs.get(image_key(cam.name))
            if img is None or img.shape != (cam.height, cam.width, 3):
                raise RecorderError(
                    f"observation {image_key(cam.name)!r}: expected ({cam.height}, {cam.width}, 3) "
                    f"uint8, got {None if img is None else img.shape}"
                )
            self._writers[layout.video_key(cam.name)].try_put(img)
        for key, a in values.items():
            self._buf[key].append(a)
        return True

    def discard_episode(self) -> None:
        """Drop the open episode: no frame of it reaches the dataset."""
        for w in self._writers.values():
            w.abort()
        self._writers.clear()
        shutil.rmtree(self.root / layout.STAGING_DIR, ignore_errors=True)
        self._task = None
        self._reset_buffers()

    def save_episode(self) -> EpisodeSummary:
        """Finish the open episode and commit it durably; returns its summary."""
        if self._task is None:
            raise RecorderError(f"{self.root}: save_episode() without an open episode")
        n = len(self._buf[layout.STATE])
        if n == 0:
            raise RecorderError(f"{self.root}: cannot save an episode without frames; discard_episode() instead")
        t0 = time.monotonic()
        ep = len(self._rows)
        task = self._task
        frame_index = np.arange(n, dtype=np.int64)
        start = sum(int(r["length"]) for r in self._rows)
        if task not in self._tasks:
            self._tasks.append(task)
            metadata.write_tasks(self.root, self._tasks)
        columns: dict[str, Any] = {k: np.stack(v) for k, v in self._buf.items()}
        columns.update(
            timestamp=(frame_index / self.fps).astype(np.float32),
            frame_index=frame_index,
            episode_index=np.full(n, ep, np.int64),
            index=start + frame_index,
            task_index=np.full(n, self._tasks.index(task), np.int64),
        )
        row: dict[str, Any] = {
            "episode_index": ep,
            "tasks": [task],
            "length": n,
            "dataset_from_index": start,
            "dataset_to_index": start + n,
        }
        stats = {k: array_stats(v) for k, v in columns.items() if k in self.features}
        for key, w in self._writers.items():
            written = w.finish()
            if written != n:
                raise RecorderError(f"{w.path}: encoder wrote {written} frames, the episode has {n}")
            row.update(self._save_video(key, w.path, n))
            if (img_stats := w.stats.result()) is not None:
                stats[key] = img_stats
        self._writers.clear()
        row.update(self._save_data(metadata.frames_table(columns, self.features)))
        meta_chunk, meta_file = layout.chunk_file(ep // layout.CHUNKS_SIZE)
        row.update(
            {
                "meta/episodes/chunk_index": meta_chunk,
                "meta/episodes/file_index": meta_file,
                "dropped_frames": self.dropped_frames,
                "late_frames": self.late_frames,
            }
        )
        for feat, st in stats.items():
            row.update({f"stats/{feat}/{name}": v for name, v in st.items()})
        self._rows.append(row)
        same_file = [
            r
            for r in self._rows
            if r["meta/episodes/file_index"] == meta_file and r["meta/episodes/chunk_index"] == meta_chunk
        ]
        path = self.root / layout.EPISODES_PATH.format(chunk_index=meta_chunk, file_index=meta_file)
        metadata.write_parquet_atomic(metadata.episodes_table(same_file), path)  # <- commit point
        self._write_summary_files()
        shutil.rmtree(self.root / layout.STAGING_DIR, ignore_errors=True)
        summary = EpisodeSummary(ep, n, self.dropped_frames, self.late_frames, time.monotonic() - t0)
        self._task = None
        self._reset_buffers()
        return summary

    def close(self) -> None:
        """Discard an unsaved episode and stop the encoders; the dataset on disk stays as committed."""
        if self._task is not None:
            self.discard_episode()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------------------
    def _reset_buffers(self) -> None:
        self._buf: dict[str, list[np.ndarray]] = {layout.STATE: [], layout.VELOCITY: [], layout.ACTION: []}
        self.dropped_frames = 0
        self.late_frames = 0
        self._last_t: float | None = None

    def _newest(self, prefix: str) -> tuple[int, int] | None:
        """(chunk, file) of the ``prefix`` (``data`` or ``videos/<key>``) file of the newest committed episode."""
        if not self._rows or f"{prefix}/chunk_index" not in self._rows[-1]:
            return None
        return int(self._rows[-1][f"{prefix}/chunk_index"]), int(self._rows[-1][f"{prefix}/file_index"])

    def _next_file(self, prefix: str) -> tuple[int, int]:
        """(chunk, file) of a new ``prefix`` file, past every one the committed episodes use."""
        used = [-1] + [
            int(r[f"{prefix}/chunk_index"]) * layout.CHUNKS_SIZE + int(r[f"{prefix}/file_index"])
            for r in self._rows
            if r.get(f"{prefix}/chunk_index") is not None
        ]
        return layout.chunk_file(max(used) + 1)

    def _save_video(self, key: str, staged: Path, n: int) -> dict[str, Any]:
        """Append the staged episode video to the newest file of ``key`` if it fits, else start a new file."""
        newest = self._newest(f"videos/{key}")
        path = (
            None
            if newest is None
            else self.root / layout.VIDEO_PATH.format(video_key=key, chunk_index=newest[0], file_index=newest[1])
        )
        if newest is not None and packing.fits(path, staged.stat().st_size, self.settings.video_file_mb):
            chunk, file = newest
            start_s = round(float(self._rows[-1][f"videos/{key}/to_timestamp"]) * self.fps) / self.fps
            packing.append_video(path, start_s, staged, staged.with_name(staged.name + ".pack.mp4"), self.fps)
        else:
            (chunk, file), start_s = self._next_file(f"videos/{key}"), 0.0
            path = self.root / layout.VIDEO_PATH.format(video_key=key, chunk_index=chunk, file_index=file)
            layout.replace_durably(staged, path)
        return {
            f"videos/{key}/chunk_index": chunk,
            f"videos/{key}/file_index": file,
            f"videos/{key}/from_timestamp": start_s,
            f"videos/{key}/to_timestamp": (round(start_s * self.fps) + n) / self.fps,
        }

    def _save_data(self, table: pa.Table) -> dict[str, Any]:
        """Append the episode's rows to the newest data file if they fit, else start a new file."""
        newest = self._newest("data")
        path = (
            None if newest is None else self.root / layout.DATA_PATH.format(chunk_index=newest[0], file_index=newest[1])
        )
        committed = None
        if newest is not None and packing.fits(path, table.nbytes, self.settings.data_file_mb):
            if self._open_data is None:
                self._open_data = metadata.read_parquet(path)
            try:
                table.cast(self._open_data.schema)
                chunk, file, committed = newest[0], newest[1], self._open_data
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):  # e.g. a file lerobot typed otherwise
                pass
        if committed is None:
            chunk, file = self._next_file("data")
            path = self.root / layout.DATA_PATH.format(chunk_index=chunk, file_index=file)
        self._open_data = packing.append_data(path, committed, table)
        return {"data/chunk_index": chunk, "data/file_index": file}

    def _write_summary_files(self) -> None:
        ep_stats = [metadata.episode_stats(r) for r in self._rows]
        layout.write_json_atomic(to_json(merge_dataset_stats(ep_stats)), self.root / layout.STATS_PATH)
        self.info["total_episodes"] = len(self._rows)
        self.info["total_frames"] = sum(int(r["length"]) for r in self._rows)
        self.info["total_tasks"] = len(self._tasks)
        self.info["splits"] = {"train": f"0:{len(self._rows)}"}
        layout.write_json_atomic(self.info, self.root / layout.INFO_PATH)

    def _check_compatible(self, features: dict) -> None:
        have = self.info["features"]
        problems = []
        for key, ft in features.items():
            if key not in have:
                problems.append(f"missing feature {key!r}")
            elif list(have[key]["shape"]) != list(ft["shape"]) or have[key].get("names") != ft.get("names"):
                problems.append(
                    f"feature {key!r} is {have[key]['shape']}/{have[key].get('names')}, "
                    f"the robot gives {ft['shape']}/{ft.get('names')}"
                )
        if float(self.info["fps"]) != float(self.settings.fps):
            problems.append(f"fps is {self.info['fps']}, the recorder runs at {self.settings.fps}")
        if problems:
            raise DatasetFormatError(f"{self.root / layout.INFO_PATH}: cannot append: " + "; ".join(problems))
