"""lerobot itself loads a packed twinarm dataset: episode and frame counts, values, decoded pixels, load times.

Records ``--episodes`` episodes of ``--seconds`` at 30 fps from two ``--size`` px cameras (the frames of
``benchmarks/packed.py``) into a packed dataset (default limits: 100 MB data / 500 MB video files), then opens it
with lerobot's ``LeRobotDataset(repo_id, root=..., video_backend="pyav")`` (local files, no hub) and compares
``--samples`` random items (and their ``delta_timestamps`` windows) with twinarm's reader. Prints files on disk,
lerobot's load time and per-item times, and the largest value and pixel differences.

Needs an environment where both twinarm and lerobot import. lerobot 0.6.x declares Python >= 3.12 and
torch < 2.12; without a CPU torch wheel for that pair (PyPI's Linux torch pulls ~3 GB of CUDA libraries), it was run
on Python 3.11 with torch 2.13 (CPU), lerobot's five PEP 695 lines rewritten to ``TypeVar``/``Generic`` and PyAV
15.1 (lerobot's pin); the dataset code paths are lerobot's own.

    python benchmarks/lerobot_interop.py [--episodes 1000] [--seconds 0.5] [--size 64] [--samples 200] [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from packed import frames, spec

from twinarm.dataset import LeRobotDatasetReader, Recorder, RecorderSettings


def record(root: Path, episodes: int, n: int, size: int) -> float:
    s = spec(size)
    t0 = time.perf_counter()
    with Recorder(root, s, RecorderSettings(fps=30.0)) as rec:
        for ep in range(episodes):
            rec.start_episode(f"task {ep % 3}")
            for obs, act in frames(s, n, ep):
                rec.add_frame(obs, act, timestamp=0.0)
            rec.save_episode()
    return time.perf_counter() - t0


def compare(root: Path, samples: int, seed: int = 0) -> dict:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    t0 = time.perf_counter()
    theirs = LeRobotDataset("local/twinarm", root=root, video_backend="pyav")
    load_s = time.perf_counter() - t0
    ours = LeRobotDatasetReader(root)
    idx = np.random.default_rng(seed).choice(len(ours), size=min(samples, len(ours)), replace=False)
    value_diff = pixel_diff = 0.0
    t_theirs = t_ours = 0.0
    for i in map(int, idx):
        t = time.perf_counter()
        a = theirs[i]
        t_theirs += time.perf_counter() - t
        t = time.perf_counter()
        b = ours.get(i)
        t_ours += time.perf_counter() - t
        for key in ("observation.state", "action", "timestamp", "frame_index", "episode_index", "index"):
            value_diff = max(value_diff, float(np.abs(np.asarray(a[key], float) - np.asarray(b[key], float)).max()))
        for key in ours.camera_keys:
            img = (np.asarray(a[key]).transpose(1, 2, 0) * 255).round()
            pixel_diff = max(pixel_diff, float(np.abs(img - b[key].astype(float)).max()))
    deltas = {"action": [k / theirs.fps for k in range(8)], "observation.images.front": [-1 / theirs.fps, 0.0]}
    windowed = LeRobotDataset("local/twinarm", root=root, video_backend="pyav", delta_timestamps=deltas)
    window_diff = 0.0
    for i in map(int, idx[:20]):
        a, b = windowed[i], ours.get(i, deltas)
        window_diff = max(window_diff, float(np.abs(np.asarray(a["action"]) - b["action"]).max()))
    return {
        "episodes": (theirs.num_episodes, ours.num_episodes),
        "frames": (theirs.num_frames, len(ours)),
        "load_s": load_s,
        "item_ms": (1e3 * t_theirs / len(idx), 1e3 * t_ours / len(idx)),
        "value_diff": value_diff,
        "pixel_diff": pixel_diff,
        "window_diff": window_diff,
        "samples": len(idx),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=0.5)
    p.add_argument("--size", type=int, default=64, help="camera height and width [px]")
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--out", type=Path, default=None, help="keep the dataset here (default: a temp dir, deleted)")
    args = p.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="twinarm_lerobot_")) / "ds"
    try:
        record_s = record(root, args.episodes, max(1, round(args.seconds * 30)), args.size)
        on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        payload = [f for f in on_disk if not f.startswith("meta/")]
        print(f"recorded {args.episodes} episodes x {args.seconds:g} s in {record_s:.1f} s")
        print(f"files: {len(on_disk)} in all, {len(payload)} data/video: {', '.join(payload)}")
        r = compare(root, args.samples)
        print(f"lerobot vs twinarm episodes {r['episodes']}, frames {r['frames']}")
        print(f"lerobot LeRobotDataset load {r['load_s']:.2f} s; per item {r['item_ms'][0]:.1f} ms (twinarm reader")
        print(f"  {r['item_ms'][1]:.1f} ms) over {r['samples']} random items")
        print(f"largest difference: values {r['value_diff']:.3g}, pixels {r['pixel_diff']:.0f}/255, action windows")
        print(f"  {r['window_diff']:.3g}")
    finally:
        if args.out is None:
            shutil.rmtree(root.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
