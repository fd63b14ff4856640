"""Write a list of RGB frames to an mp4 (PyAV), for episode videos of commands and evaluations."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_video(frames: list[np.ndarray], path: Path, fps: float = 30.0) -> Path:
    """Encode RGB frames (H, W, 3) uint8 to an mp4 with PyAV (H.264 when available, else MPEG-4 part 2); the same
    frames always give the same file."""
    import av

    h, w = frames[0].shape[:2]
    h2, w2 = h + h % 2, w + w % 2  # yuv420p needs even sizes
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = w2, h2, "yuv420p"
        stream.codec_context.thread_count = 1  # one encoder thread: the same frames give the same bytes every run
        for f in frames:
            f = np.pad(f, ((0, h2 - h), (0, w2 - w), (0, 0)))
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
