"""Loader benchmark: training samples/s (batch 32, a 96x96 and a 224x224 camera, action chunk 20).

Builds a synthetic dataset (default 6 episodes x 10 s at 30 fps), then draws shuffled batches through
``LeRobotDatasetReader.get`` in the main process (the baseline) and with 2 worker processes
(multiprocessing, each with its own reader and decoders). Prints samples/s, the speed-up ratio against the
baseline, and peak resident memory.

    python benchmarks/loader.py [--batches 20] [--workers 2] [--episodes 6]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from twinarm.dataset import LeRobotDatasetReader, Recorder
from twinarm.robot.spec import CameraSpec, JointSpec, RobotSpec

SPEC = RobotSpec(
    name="bench",
    joints=tuple(JointSpec(f"j{i}", -3, 3, 5) for i in range(6)),
    cameras=(CameraSpec("wrist", 96, 96), CameraSpec("front", 224, 224)),
)
BATCH = 32
CHUNK = 20
DELTA = {"action": [i / 30 for i in range(CHUNK)]}
_reader: LeRobotDatasetReader | None = None


def build(root: Path, episodes: int, seconds: float) -> None:
    rng = np.random.default_rng(0)
    base = {c.name: rng.integers(40, 200, (c.height, c.width, 3), dtype=np.uint8) for c in SPEC.cameras}
    with Recorder(root, SPEC) as rec:
        for ep in range(episodes):
            rec.start_episode("bench")
            for i in range(int(seconds * 30)):
                obs = {
                    "joint_pos": np.sin(i * 0.05 + np.arange(6) + ep).astype(np.float32),
                    "joint_vel": np.zeros(6, np.float32),
                }
                for c in SPEC.cameras:
                    img = base[c.name].copy()
                    x = (i * 3) % (c.width - 20)
                    img[10:30, x : x + 20] = 255
                    obs[f"image_{c.name}"] = img
                while not rec.add_frame(obs, obs["joint_pos"]):
                    time.sleep(0.01)  # building the fixture, not measuring: wait for the encoder
            rec.save_episode()


def _init(root: str) -> None:
    global _reader
    _reader = LeRobotDatasetReader(root)


def _batch(indices: list[int]) -> int:
    items = [_reader.get(i, DELTA) for i in indices]
    batch = {k: np.stack([it[k] for it in items]) for k in items[0] if k != "task"}
    assert batch["action"].shape == (len(indices), CHUNK, 6)
    return len(indices)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--episodes", type=int, default=6)
    p.add_argument("--seconds", type=float, default=10.0)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="twinarm_bench_loader_"))
    root = tmp / "ds"
    t = time.perf_counter()
    build(root, args.episodes, args.seconds)
    n = len(LeRobotDatasetReader(root))
    print(
        f"dataset: {args.episodes} episodes, {n} frames, cameras 96x96 + 224x224 (built in "
        f"{time.perf_counter() - t:.1f}s)"
    )
    rng = np.random.default_rng(1)
    batches = [rng.integers(0, n, BATCH).tolist() for _ in range(args.batches)]

    _init(str(root))
    t = time.perf_counter()
    done = sum(_batch(b) for b in batches)
    base = done / (time.perf_counter() - t)
    print(f"1 process (baseline)       {base:8.1f} samples/s")

    _reader.close()  # decoder threads must not be forked
    ctx = mp.get_context("spawn")
    with ctx.Pool(args.workers, initializer=_init, initargs=(str(root),)) as pool:
        pool.map(_batch, batches[: args.workers])  # warm-up: open files in the workers
        t = time.perf_counter()
        done = sum(pool.imap_unordered(_batch, batches))
        rate = done / (time.perf_counter() - t)
    print(
        f"{args.workers} workers                  {rate:8.1f} samples/s = {rate / base:.2f}x baseline "
        f"({rate / BATCH:.1f} batches/s of {BATCH})"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS                   main {own:.0f} MiB, largest worker {kids:.0f} MiB")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
