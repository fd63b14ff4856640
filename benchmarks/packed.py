"""Packed vs one-file-per-episode datasets: save time per episode and files per 1,000 episodes.

Records ``--episodes`` episodes of ``--seconds`` at 30 fps from two ``--size`` x ``--size`` cameras (a textured
background with a moving block, not trivially compressible) as fast as the encoder goes, once with episodes
packed into files of up to 100 MB (data) / 500 MB (video per camera) and once with one file per episode, and
prints per mode: ``save_episode`` time (median, p95, max, mean over the last tenth; packing runs every
``pack_every`` saves and rewrites the newest packed file, so those saves grow with it), the final ``close`` (packs
the rest), files on disk, and files per 1,000 episodes (packed: extrapolated from the measured bytes per episode
and the size limits).

    python benchmarks/packed.py [--episodes 200] [--seconds 2] [--size 96] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from twinarm.dataset import Recorder, RecorderSettings, layout
from twinarm.robot.spec import CameraSpec, JointSpec, RobotSpec


def spec(size: int) -> RobotSpec:
    return RobotSpec(
        name="bench",
        joints=tuple(JointSpec(f"j{i}", -3, 3, 5) for i in range(6)),
        cameras=(CameraSpec("front", size, size), CameraSpec("wrist", size, size)),
    )


def frames(s: RobotSpec, n: int, seed: int):
    rng = np.random.default_rng(seed)
    base = {c.name: rng.integers(0, 255, (c.height, c.width, 3), dtype=np.uint8) // 4 + 64 for c in s.cameras}
    for i in range(n):
        obs = {
            "joint_pos": np.sin(i * 0.05 + np.arange(6)).astype(np.float32),
            "joint_vel": np.cos(i * 0.05 + np.arange(6)).astype(np.float32),
        }
        for c in s.cameras:
            img = base[c.name].copy()
            w = max(4, c.width // 5)
            x = (i * 3) % (c.width - w)
            img[c.height // 3 : c.height // 3 + w, x : x + w] = (255, 40, 40)
            obs[f"image_{c.name}"] = img
        yield obs, obs["joint_pos"]


def run(root: Path, s: RobotSpec, episodes: int, n: int, settings: RecorderSettings) -> dict:
    saves = []
    t0 = time.perf_counter()
    rec = Recorder(root, s, settings)
    for ep in range(episodes):
        rec.start_episode("benchmark")
        for obs, act in frames(s, n, ep):
            rec.add_frame(obs, act, timestamp=0.0)
        saves.append(rec.save_episode().save_s)
    t_close = time.perf_counter()
    rec.close()  # packs the episodes saved since the last periodic pack
    close_s = time.perf_counter() - t_close
    wall = time.perf_counter() - t0
    data = list((root / "data").rglob("*.parquet"))
    videos = list((root / "videos").rglob("*.mp4"))
    return {
        "saves": np.array(saves),
        "close_s": close_s,
        "wall": wall,
        "files": len(data) + len(videos),
        "data_bytes": sum(p.stat().st_size for p in data),
        "video_bytes": sum(p.stat().st_size for p in videos),
    }


def files_per_1000(r: dict, episodes: int, cameras: int, settings: RecorderSettings) -> float:
    """Files 1,000 such episodes take: one per episode and kind without packing, else by bytes over the limits."""
    if settings.data_file_mb <= 0:
        return 1000.0 * r["files"] / episodes
    data = math.ceil(1000 * r["data_bytes"] / episodes / (settings.data_file_mb * 2**20))
    video = cameras * math.ceil(1000 * r["video_bytes"] / cameras / episodes / (settings.video_file_mb * 2**20))
    return float(data + video)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--size", type=int, default=96, help="camera height and width [px]")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    base = args.out or Path(tempfile.mkdtemp(prefix="twinarm_bench_packed_"))
    s = spec(args.size)
    n = round(args.seconds * 30)
    modes = {
        "packed": RecorderSettings(),
        "one file per episode": RecorderSettings(data_file_mb=0, video_file_mb=0),
    }
    print(
        f"{args.episodes} episodes x {n} frames, 2 cameras {args.size}x{args.size} @30 fps "
        f"(packing limits {layout.DATA_FILES_SIZE_IN_MB} MB data, {layout.VIDEO_FILES_SIZE_IN_MB} MB video)"
    )
    for name, settings in modes.items():
        root = base / name.replace(" ", "_")
        r = run(root, s, args.episodes, n, settings)
        saves = r["saves"] * 1e3
        tail = saves[-max(1, len(saves) // 10) :]
        print(
            f"{name:<22} save_episode median {np.median(saves):6.1f} ms, p95 {np.percentile(saves, 95):6.1f} ms, "
            f"max {saves.max():6.1f} ms, last tenth mean {tail.mean():6.1f} ms, close {r['close_s'] * 1e3:6.1f} ms"
            f" | files {r['files']:5d} "
            f"({(r['data_bytes'] + r['video_bytes']) / 2**20:.1f} MB), per 1,000 episodes "
            f"{files_per_1000(r, args.episodes, len(s.cameras), settings):7.0f} | wall {r['wall']:.1f} s"
        )
    if args.out is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
