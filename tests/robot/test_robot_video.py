"""Episode videos: odd frame sizes are padded to even, and the same frames always encode to the same bytes."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from twinarm.robot.video import write_video


def test_the_same_frames_give_the_same_file_and_odd_sizes_are_padded(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, size=(45, 61, 3), dtype=np.uint8) for _ in range(40)]  # noise: hard to encode
    files = [write_video(frames, tmp_path / f"{k}.mp4", fps=30.0) for k in range(3)]
    assert files[0].read_bytes() == files[1].read_bytes() == files[2].read_bytes()
    with av.open(str(files[0])) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 40 and decoded[0].shape == (46, 62, 3)
