"""Policy inference latency and training throughput on CPU (2 threads, batch 1).

Cameras: one 96x96 ("front") and one 224x224 ("wrist"). Figures: ACT per chunk and per control step (queue
replay amortises one chunk over n_action_steps), Diffusion per chunk (DDIM, default steps), BC per chunk,
parameter counts, training samples/s at batch 32 (96x96 cameras). Ratios are against the in-run baseline: one
forward pass of the shared ResNet image encoder on both images, the floor every image policy pays.
Reference (a widely used implementation, same kind of machine): ACT 50-70 ms/chunk at 96x96 (52 M params),
Diffusion 66 s/chunk with 100 DDPM steps (263 M params). Goals here: ACT <= 20 ms, Diffusion <= 200 ms.

Run: ``python benchmarks/policy.py [--repeats N] [--train-steps N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from twinarm.policies.data import SyntheticDemos, TorchDataset, compute_stats
from twinarm.policies.encoders import ResNetEncoder
from twinarm.policies.registry import make_policy

CAMERAS = ("front", "wrist")


def _obs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "joint_pos": rng.uniform(-1, 1, 6).astype(np.float32),
        "joint_vel": np.zeros(6, np.float32),
        "image_front": rng.integers(0, 256, (96, 96, 3), dtype=np.uint8),
        "image_wrist": rng.integers(0, 256, (224, 224, 3), dtype=np.uint8),
    }


def _median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def _train_throughput(name: str, steps: int) -> float:
    src = SyntheticDemos(
        size=256,
        chunk_size=16 if name == "diffusion" else 20,
        cameras=CAMERAS,
        n_obs_steps=2 if name == "diffusion" else 1,
    )
    policy = make_policy(name, stats=compute_stats(src, max_samples=64), cameras=CAMERAS)
    ds = TorchDataset(src)
    batch = torch.utils.data.default_collate([ds[i] for i in range(32)])
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-4)

    def step() -> None:
        loss, _ = policy(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return 32 * steps / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--train-steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    obs = _obs(rng)
    enc = ResNetEncoder().eval()
    imgs = [torch.rand(1, 3, 96, 96), torch.rand(1, 3, 224, 224)]
    with torch.no_grad():
        base = _median_ms(lambda: [enc(x) for x in imgs], args.repeats)
    print(f"baseline: ResNet encoder on 96x96 + 224x224: {base:.2f} ms")
    rows = []
    for name in ("act", "diffusion", "bc"):
        policy = make_policy(name, cameras=CAMERAS).eval()
        chunk_ms = _median_ms(lambda p=policy: (p.reset(), p.predict_chunk(obs)), args.repeats)
        n_steps = policy.config.n_action_steps
        policy.reset()
        step_times = []
        for _ in range(3 * n_steps):
            t = time.perf_counter()
            policy.select_action(obs)
            step_times.append(time.perf_counter() - t)
        step_ms = 1000 * float(np.mean(step_times))
        rows.append((name, policy.num_parameters(), chunk_ms, step_ms, _train_throughput(name, args.train_steps)))
    print(f"{'policy':<10} {'params':>8} {'ms/chunk':>9} {'x base':>7} {'ms/step':>8} {'train samples/s':>16}")
    for name, params, chunk_ms, step_ms, sps in rows:
        print(f"{name:<10} {params / 1e6:>7.2f}M {chunk_ms:>9.1f} {chunk_ms / base:>7.1f} {step_ms:>8.2f} {sps:>16.1f}")
    act, diff = rows[0], rows[1]
    print(f"ACT chunk vs goal 20 ms: {act[2] / 20:.2f}x; vs reference 50 ms: {act[2] / 50:.2f}x")
    print(f"Diffusion chunk vs goal 200 ms: {diff[2] / 200:.2f}x; vs reference 66 s: {diff[2] / 66000:.4f}x")


if __name__ == "__main__":
    main()
