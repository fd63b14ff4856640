"""Evaluation throughput: episodes/s of the local executor vs Ray with local workers (``compose.eval_jobs``).

The policy is an untrained BC image policy (default size) (one 64x64 camera, the demo's size), so every episode runs its
full ``--max-steps`` steps: the figure is the cost of stepping, rendering and inference, not of a success rate.
Each executor evaluates the same ``--episodes`` seeds in waves of ``--num-envs`` envs (Ray: one batched env of
``--num-envs`` per worker, one wave per shard); the script checks that both give the same per-seed returns.
Ray is timed three ways: starting the local cluster, the first job (actors start, import twinarm, build their
envs) and the same job again on the warm actors, which keep their envs (what each further evaluation of a long
run pays); the local executor builds its envs in every run (included in its time; 4 envs with a 64x64 camera:
3.3 s at load 13 on 2 cores).
The machine load (``os.getloadavg``) is printed before and after: on a shared machine the ratio is what to read.

Run: ``python benchmarks/ray_eval.py [--episodes 16] [--num-envs 4] [--workers 2] [--max-steps 100]``
(needs ``pip install "twinarm[ray]"``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from twinarm.compose.eval_jobs import evaluate_on
from twinarm.compose.executor import LocalExecutor, RayConfig
from twinarm.policies.contract import make_contract
from twinarm.policies.data import SyntheticDemos, compute_stats
from twinarm.policies.registry import make_policy
from twinarm.robot.models import SO101
from twinarm.sim.envs import env_id

HW = (64, 64)


def untrained_bc():
    """An untrained BC policy (the demo's default configuration) for the SO-101 with one HW-sized front camera."""
    import torch

    torch.manual_seed(0)
    policy = make_policy("bc", stats=compute_stats(SyntheticDemos(size=16, image_hw=HW)), cameras=("front",))
    policy.set_contract(make_contract(policy.config, SO101.name, SO101.joint_names, SO101.control_hz, {"front": HW}))
    return policy


def load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--episodes", type=int, default=16)
    ap.add_argument("--num-envs", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=100)
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows when the output is a file
    from twinarm.compose.ray_executor import RayExecutor

    policy = untrained_bc()
    task = env_id("lift")
    run = {"episodes": args.episodes, "num_envs": args.num_envs, "seed": 0, "max_steps": args.max_steps}
    print(f"{os.cpu_count()} cores; before: {load()}")
    print(f"{args.episodes} episodes x {args.max_steps} steps of {task}, waves of {args.num_envs} envs")

    t = time.perf_counter()
    local = evaluate_on(LocalExecutor(), policy, task, **run)
    local_s = time.perf_counter() - t
    print(f"local executor           {args.episodes / local_s:6.2f} episodes/s ({local_s:.1f} s)")

    t = time.perf_counter()
    ray_executor = RayExecutor(RayConfig(workers=args.workers))
    start_s = time.perf_counter() - t
    try:
        timings = []
        for _ in range(2):
            t = time.perf_counter()
            result = evaluate_on(ray_executor, policy, task, **run)
            timings.append(time.perf_counter() - t)
            assert result.episode_returns == local.episode_returns, "Ray and local evaluations differ"
    finally:
        ray_executor.close()
    first, warm = timings
    print(f"ray: cluster start       {start_s:6.1f} s")
    print(f"ray {args.workers} workers, 1st job {args.episodes / first:6.2f} episodes/s ({first:.1f} s: actors start)")
    print(f"ray {args.workers} workers, warm      {args.episodes / warm:6.2f} episodes/s ({warm:.1f} s)")
    print(f"warm Ray / local         {local_s / warm:6.2f}x; results identical per seed: yes")
    print(f"after: {load()}; mean return {np.mean(local.episode_returns):.3f}")


if __name__ == "__main__":
    main()
