"""Video streams: a background encoder per camera (recording) and a seeking, caching decoder (loading).

Encoding runs in a thread per camera fed by a bounded queue, so the control loop only copies a frame into the
queue; libx264/SVT-AV1 and the RGB->YUV conversion run in native code. Frame ``i`` of a stream gets
``pts = i`` in a time base of ``1/fps``, so its timestamp is exactly ``i / fps`` as lerobot expects.
"""

from __future__ import annotations

import os
import queue
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from twinarm.dataset.errors import DatasetCorruptError, DatasetError, MissingFileError
from twinarm.dataset.stats import ImageStats

#: Codec names as stored in info.json -> (PyAV encoder, encoder options).
_ENCODERS = {
    "h264": ("libx264", {"preset": "ultrafast", "tune": "zerolatency"}),
    "av1": ("libsvtav1", {"preset": "12"}),
}


@dataclass(frozen=True)
class VideoSettings:
    """How camera streams are encoded.

    Attributes:
        codec: ``"h264"`` (libx264, default) or ``"av1"`` (libsvtav1, when PyAV's ffmpeg has it).
        crf: constant rate factor (lower = better quality, bigger files).
        gop: keyframe interval in frames; small values make random access (training) fast.
        pix_fmt: pixel format of the stream.
        threads: encoder threads per stream (0 = codec default).
    """

    codec: str = "h264"
    crf: int = 23
    gop: int = 2
    pix_fmt: str = "yuv420p"
    threads: int = 1


def available_codecs() -> list[str]:
    """The codec names of :class:`VideoSettings` whose encoder this PyAV build has."""
    out = []
    for name, (encoder, _) in _ENCODERS.items():
        try:
            av.codec.Codec(encoder, "w")
        except Exception:  # noqa: BLE001 - PyAV raises several types for a missing codec
            continue
        out.append(name)
    return out


def _encoder_for(settings: VideoSettings) -> tuple[str, dict[str, str]]:
    if settings.codec not in _ENCODERS:
        raise DatasetError(f"unknown video codec {settings.codec!r}; valid: {', '.join(_ENCODERS)}")
    if settings.codec not in available_codecs():
        raise DatasetError(
            f"video codec {settings.codec!r} ({_ENCODERS[settings.codec][0]}) is not in this PyAV build; "
            f"available: {', '.join(available_codecs()) or '(none)'}"
        )
    encoder, opts = _ENCODERS[settings.codec]
    if settings.codec == "av1":
        os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner to stderr unless told otherwise
    opts = {**opts, "crf": str(settings.crf), "g": str(settings.gop)}
    if settings.threads:
        opts["threads"] = str(settings.threads)
    return encoder, opts


class VideoStreamWriter:
    """Encodes frames pushed with :meth:`try_put` into ``path`` from a background thread."""

    def __init__(
        self,
        path: Path,
        height: int,
        width: int,
        fps: float,
        settings: VideoSettings,
        queue_frames: int,
        stats_every: int = 10,
    ) -> None:
        if height % 2 or width % 2:
            raise DatasetError(f"{path}: {height}x{width} video needs an even height and width for {settings.pix_fmt}")
        self.path = path
        self.frames_written = 0
        self.stats = ImageStats(every=stats_every)
        self._shape = (height, width, 3)
        self._fps = Fraction(fps).limit_denominator(1001)
        self._settings = settings
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=max(1, queue_frames))
        self._error: BaseException | None = None
        self._abort = False
        self._encoder, self._options = _encoder_for(settings)
        self._thread = threading.Thread(target=self._run, name=f"encode-{path.parent.parent.name}", daemon=True)
        self._thread.start()

    def try_put(self, frame: np.ndarray) -> bool:
        """Queue a copy of an (H, W, 3) uint8 frame; False (frame not queued) when the queue is full."""
        if self._error is not None:
            raise DatasetError(f"video encoder for {self.path} failed: {self._error}") from self._error
        try:
            self._queue.put_nowait(np.array(frame, dtype=np.uint8, copy=True))
        except queue.Full:
            return False
        return True

    def put(self, frame: np.ndarray) -> None:
        """Queue a copy of an (H, W, 3) uint8 frame, waiting while the queue is full (the encoder is behind)."""
        frame = np.array(frame, dtype=np.uint8, copy=True)
        while True:
            if self._error is not None:
                raise DatasetError(f"video encoder for {self.path} failed: {self._error}") from self._error
            if not self._thread.is_alive():
                raise DatasetError(f"video encoder for {self.path} stopped; no more frames can be queued")
            try:
                self._queue.put(frame, timeout=0.2)
                return
            except queue.Full:
                continue

    def queue_full(self) -> bool:
        """True when the next :meth:`try_put` would be refused (the encoder is behind)."""
        return self._queue.full()

    def abort(self) -> None:
        """Stop without encoding what is queued and delete the file."""
        self._abort = True
        self._queue.put(None)
        self._thread.join()
        self.path.unlink(missing_ok=True)

    def finish(self) -> int:
        """Encode what is queued, close the file; returns the number of frames written."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise DatasetError(f"video encoder for {self.path} failed: {self._error}") from self._error
        return self.frames_written

    def _run(self) -> None:
        try:
            with av.open(str(self.path), mode="w", format="mp4") as container:
                stream = container.add_stream(self._encoder, rate=self._fps, options=self._options)
                stream.height, stream.width = self._shape[0], self._shape[1]
                stream.pix_fmt = self._settings.pix_fmt
                stream.codec_context.time_base = 1 / self._fps
                while True:
                    img = self._queue.get()
                    if img is None:
                        break
                    if self._abort:
                        continue
                    if img.shape != self._shape:
                        raise DatasetError(f"frame shape {img.shape} != {self._shape}")
                    self.stats.add(img)
                    frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                    frame.pts = self.frames_written
                    container.mux(stream.encode(frame))
                    self.frames_written += 1
                container.mux(stream.encode(None))
        except BaseException as e:  # noqa: BLE001 - reported to the recording thread
            self._error = e
            while True:  # unblock a producer; drain until the sentinel
                try:
                    if self._queue.get_nowait() is None:
                        break
                except queue.Empty:
                    break


class VideoReader:
    """Frames of one mp4 file by timestamp, with an LRU cache and a decoder kept open for sequential reads.

    Decoding is sequential when the next request is a little ahead of the last decoded frame (no seek);
    otherwise it seeks to the keyframe before the timestamp and decodes forward.
    """

    def __init__(self, path: Path, fps: float, cache_frames: int = 64) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.cache_frames = cache_frames
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._container = None
        self._stream = None
        self._frames = None  # decode iterator
        self._last = -1  # frame number last decoded

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container = self._stream = self._frames = None
        self._last = -1

    def _open(self) -> None:
        if not self.path.is_file():
            raise MissingFileError(f"video file {self.path} is missing")
        try:
            self._container = av.open(str(self.path))
            self._stream = self._container.streams.video[0]
        except (av.error.FFmpegError, IndexError) as e:
            raise DatasetCorruptError(f"video file {self.path} cannot be opened: {e}") from e

    def frame_at(self, t_s: float) -> np.ndarray:
        """The (H, W, 3) uint8 RGB frame shown at ``t_s`` [s] (file time), within half a frame period."""
        want = round(t_s * self.fps)
        hit = self._cache.get(want)
        if hit is not None:
            self._cache.move_to_end(want)
            return hit
        if self._container is None:
            self._open()
        if self._frames is None or not (self._last < want <= self._last + 2 * self.fps):
            self._container.seek(max(0, int(t_s / self._stream.time_base)), stream=self._stream, backward=True)
            self._frames = self._container.decode(self._stream)
        try:
            for frame in self._frames:
                num = round(frame.time * self.fps) if frame.time is not None else self._last + 1
                self._last = num
                if num < want - 1:
                    continue
                self._put(num, frame.to_ndarray(format="rgb24"))
                if num >= want:
                    break
        except av.error.FFmpegError as e:
            self._frames = None
            raise DatasetCorruptError(f"video file {self.path}: decoding failed near t={t_s:.3f}s: {e}") from e
        hit = self._cache.get(want)
        if hit is None:
            self._frames = None
            raise DatasetCorruptError(
                f"video file {self.path} has no frame at t={t_s:.4f}s (frame {want}); last decoded {self._last}"
            )
        return hit

    def _put(self, num: int, arr: np.ndarray) -> None:
        self._cache[num] = arr
        self._cache.move_to_end(num)
        while len(self._cache) > self.cache_frames:
            self._cache.popitem(last=False)


def count_frames(path: Path, from_s: float = 0.0, to_s: float = float("inf"), fps: float = 30.0) -> int:
    """Video packets of ``path`` whose time lies in [from_s, to_s) (demux only, no decoding)."""
    if not Path(path).is_file():
        raise MissingFileError(f"video file {path} is missing")
    half = 0.5 / fps
    n = 0
    try:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            for pkt in c.demux(stream):
                if pkt.pts is None:
                    continue
                t = float(pkt.pts * stream.time_base)
                if from_s - half <= t < to_s - half:
                    n += 1
    except (av.error.FFmpegError, IndexError) as e:
        raise DatasetCorruptError(f"video file {path} cannot be read: {e}") from e
    return n
