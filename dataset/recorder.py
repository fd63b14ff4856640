"""Recorder: writes frames from any control loop into a LeRobot v3.0 dataset without blocking it.

``add_frame`` only copies the low-dim values into a buffer and each camera image into its encoder's bounded
queue (encoding runs in background threads while the episode runs), so ``save_episode`` only waits for the
last queued frames, writes one small parquet file and the metadata.

File layout: an episode is encoded into ``.recording/`` while it runs and saved into files of its own (a quick
save: a rename and one small parquet). Every ``pack_every`` saves and on close, :meth:`Recorder.pack` merges
those into packed files of up to ``data_file_mb`` (data) and ``video_file_mb`` (mp4 per camera), as lerobot lays
out v3.0 (episodes located by chunk, file and from/to timestamp; ``twinarm.dataset.packing``); 0 keeps one file
per episode. Commit order of ``save_episode``: videos (fsync, rename out of ``.recording/``), data parquet, tasks,
then the episodes metadata file (atomic replace = the commit point), then stats.json and info.json (re-derivable
from the episodes metadata, see ``recovery``). A crash loses at most the episode being recorded.

Frame policy (live recording, the default): if any camera queue is full the whole frame is dropped (state, action
and images) and counted in ``dropped_frames``, so a control loop never waits; a frame arriving more than
``late_factor / fps`` after the previous one counts in ``late_frames``. Offline (``wait_for_encoders``: frames of an
episode that already ran, or of a simulation faster than real time) ``add_frame`` waits for queue space instead and
nothing is dropped. Stored timestamps are nominal (``frame_index / fps``), as lerobot expects.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
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
from twinarm.robot.features import image_feature
from twinarm.robot.files import replace_durably, write_json_atomic
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, RobotSpec, image_key


@dataclass(frozen=True)
class RecorderSettings:
    """fps: frame rate [Hz]; queue_s: encoder queue length [s of frames] per camera; image_stats_every:
    measure every k-th image for stats; late_factor: frame interval (in periods) above which a frame is late;
    wait_for_encoders: ``add_frame`` waits while an encoder is behind instead of dropping the frame (offline
    recording: frames arrive faster than real time, none may be lost)."""

    fps: float = 30.0
    video: VideoSettings = field(default_factory=VideoSettings)
    queue_s: float = 2.0
    image_stats_every: int = 10
    late_factor: float = 1.5
    data_file_mb: float = layout.DATA_FILES_SIZE_IN_MB  # pack episodes into data files up to this size; 0 = one each
    video_file_mb: float = layout.VIDEO_FILES_SIZE_IN_MB  # same for each camera's mp4 files
    pack_every: int = 25  # merge saved episodes into the packed files every this many saves (and on close); 0 = close
    wait_for_encoders: bool = False


def offline(fps: float) -> RecorderSettings:
    """Settings for recording frames faster than real time at ``fps`` [Hz] (simulated or replayed episodes):
    :attr:`RecorderSettings.wait_for_encoders`, so every frame is kept."""
    return RecorderSettings(fps=fps, wait_for_encoders=True)


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
            write_json_atomic(self.info, self.root / layout.INFO_PATH)
        self.features = self.info["features"]
        self.fps = float(self.info["fps"])
        self._cams = [c for c in spec.cameras]
        self._writers: dict[str, VideoStreamWriter] = {}
        self._task: str | None = None
        self._unpacked = 0  # episodes saved since the last pack()
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
            key = image_feature(cam.name)
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
        """Buffer one frame (never blocks, unless ``wait_for_encoders``). ``timestamp`` [s] (default
        ``time.monotonic()``) is used to count late frames. Returns False when the frame was dropped because an
        encoder queue was full."""
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
        wait = self.settings.wait_for_encoders
        if not wait and any(w.queue_full() for w in self._writers.values()):
            self.dropped_frames += 1
            return False
        images = []
        for cam in self._cams:
            img = obs.get(image_key(cam.name))
            if img is None or img.shape != (cam.height, cam.width, 3):
                raise RecorderError(
                    f"observation {image_key(cam.name)!r}: expected ({cam.height}, {cam.width}, 3) "
                    f"uint8, got {None if img is None else img.shape}"
                )
            images.append((self._writers[image_feature(cam.name)], img))
        for writer, img in images:  # (every image checked first: a bad one leaves no camera a frame ahead)
            if wait:
                writer.put(img)
            else:
                writer.try_put(img)
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
        self._commit_rows([*self._rows, row], [ep])  # <- commit point
        self._write_summary_files()
        shutil.rmtree(self.root / layout.STAGING_DIR, ignore_errors=True)
        counts = (self.dropped_frames, self.late_frames)
        self._task = None
        self._reset_buffers()
        self._unpacked += 1
        if self.settings.pack_every and self._unpacked >= self.settings.pack_every:
            self.pack()
        return EpisodeSummary(ep, n, *counts, time.monotonic() - t0)

    def pack(self) -> int:
        """Merge the episodes saved in files of their own into the packed files (``packing``); returns how many
        episodes moved. Runs every ``pack_every`` saves and on :meth:`close`; crash-safe at every step."""
        if self._task is not None:
            raise RecorderError(f"{self.root}: pack() while an episode is open; save or discard it first")
        self._unpacked = 0
        s = self.settings
        packed = packing.pack_tail(self.root, self.info, self._rows, s.data_file_mb, s.video_file_mb)
        if packed.moved:
            self._commit_rows(packed.rows, packed.moved)  # <- commit point: the episodes live in the packed files
            for path in packed.obsolete:
                path.unlink(missing_ok=True)
        return len(packed.moved)

    def close(self, pack: bool = True) -> None:
        """Discard an unsaved episode, stop the encoders and (``pack``) merge the episodes saved since the last
        :meth:`pack` into the packed files; the dataset on disk stays as committed."""
        if self._task is not None:
            self.discard_episode()
        if pack:
            self.pack()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(pack=exc_type is None)  # unwinding an error: leave the files as they are, fast

    # -- internals ------------------------------------------------------------------------------------------
    def _reset_buffers(self) -> None:
        self._buf: dict[str, list[np.ndarray]] = {layout.STATE: [], layout.VELOCITY: [], layout.ACTION: []}
        self.dropped_frames = 0
        self.late_frames = 0
        self._last_t: float | None = None

    def _next_file(self, prefix: str) -> tuple[int, int]:
        """(chunk, file) of a new ``prefix`` (``data`` or ``videos/<key>``) file, past every one in use."""
        used = [-1] + [
            int(r[f"{prefix}/chunk_index"]) * layout.CHUNKS_SIZE + int(r[f"{prefix}/file_index"])
            for r in self._rows
            if r.get(f"{prefix}/chunk_index") is not None
        ]
        return layout.chunk_file(max(used) + 1)

    def _save_video(self, key: str, staged: Path, n: int) -> dict[str, Any]:
        """Move the staged episode video to a new file of its own (:meth:`pack` merges it later)."""
        chunk, file = self._next_file(f"videos/{key}")
        replace_durably(staged, self.root / layout.VIDEO_PATH.format(video_key=key, chunk_index=chunk, file_index=file))
        return {
            f"videos/{key}/chunk_index": chunk,
            f"videos/{key}/file_index": file,
            f"videos/{key}/from_timestamp": 0.0,
            f"videos/{key}/to_timestamp": n / self.fps,
        }

    def _save_data(self, table: pa.Table) -> dict[str, Any]:
        """Write the episode's rows to a new data file of its own (:meth:`pack` merges it later)."""
        chunk, file = self._next_file("data")
        metadata.write_parquet_atomic(table, self.root / layout.DATA_PATH.format(chunk_index=chunk, file_index=file))
        return {"data/chunk_index": chunk, "data/file_index": file}

    def _commit_rows(self, rows: list[dict[str, Any]], changed: Iterable[int]) -> None:
        """Atomically replace every episodes metadata file holding a row of ``changed`` (episode indices)."""
        files = {(rows[i]["meta/episodes/chunk_index"], rows[i]["meta/episodes/file_index"]) for i in changed}
        for chunk, file in sorted(files):
            same = [r for r in rows if (r["meta/episodes/chunk_index"], r["meta/episodes/file_index"]) == (chunk, file)]
            path = self.root / layout.EPISODES_PATH.format(chunk_index=chunk, file_index=file)
            metadata.write_parquet_atomic(metadata.episodes_table(same), path)
        self._rows = rows

    def _write_summary_files(self) -> None:
        ep_stats = [metadata.episode_stats(r) for r in self._rows]
        write_json_atomic(to_json(merge_dataset_stats(ep_stats)), self.root / layout.STATS_PATH)
        self.info["total_episodes"] = len(self._rows)
        self.info["total_frames"] = sum(int(r["length"]) for r in self._rows)
        self.info["total_tasks"] = len(self._tasks)
        self.info["splits"] = {"train": f"0:{len(self._rows)}"}
        write_json_atomic(self.info, self.root / layout.INFO_PATH)

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
