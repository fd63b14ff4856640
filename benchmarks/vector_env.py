"""Env-steps/s of the batched vector env against gymnasium's SyncVectorEnv and AsyncVectorEnv, and its overhead.

For 1, 2, 4, 8, 16 envs of ``lift``, state only and with two 96x96 cameras (front, wrist):

* ``batched``: ``gym.make_vec(id, num_envs=N)`` (:mod:`sim.vector_env`, one pinned thread per core), and the same
  on one thread (``batched/1t``);
* ``sync`` / ``async``: ``SyncVectorEnv`` / ``AsyncVectorEnv`` (spawned processes) of ``gym.make(id)`` envs;
* ``raw``: the physics (and camera renders) alone on the same N models, one after another on one thread: N x
  ``mj_step(nstep=n_substeps)`` (+ ``CameraRenderer.render`` per camera) per batch step.

Goals (issue 14, 2 cores): batched >= 1.8x one env with state observations; per-env overhead of ``batched/1t``
over ``raw`` <= 5 %. Scaling: a step's Python work (share ``s`` = 1 - raw / batched/1t of its time) holds the GIL
while the physics and renders release it, so threads overlap until the GIL is busy all the time: on ``T`` cores the
speedup over one thread is at most ``min(T, 1 / s)``; the table prints that bound for larger machines. The machine
may be shared: each figure is the best of interleaved rounds, and the 1-minute load is printed.

    python benchmarks/vector_env.py [--seconds 1] [--envs 1,2,4,8,16] [--no-async]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import gymnasium as gym
import mujoco
import numpy as np
import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.sim.envs import ENV_IDS
from twinarm.sim.vector_env import BatchedTaskEnv

TASK = ENV_IDS["lift"]
CAMERAS = {"state": {"obs_mode": "state"}, "2 cams 96x96": {"cameras": ("front", "wrist"), "image_size": (96, 96)}}


def rate(fn: Callable[[], object], seconds: float, rounds: int = 3) -> float:
    """Calls/s of ``fn``: the best of ``rounds`` rounds (the least disturbed one on a shared machine)."""
    for _ in range(3):
        fn()
    best = 0.0
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds / rounds:
            fn()
            n += 1
        best = max(best, n / elapsed)
    return best


def hold_actions(env: gym.vector.VectorEnv) -> np.ndarray:
    obs, _ = env.reset(seed=0)
    return np.asarray(obs["joint_pos"], dtype=np.float32).copy()


def raw_stepper(env: BatchedTaskEnv) -> Callable[[], None]:
    """The physics and renders of ``env``'s N models, serially, without the env."""
    robots = [e.robot for e in env.envs]
    cams = [c.name for c in robots[0].spec.cameras]

    def step() -> None:
        for r in robots:
            mujoco.mj_step(r.model, r.data, nstep=r.n_substeps)
            for cam in cams:
                r._renderer.render(r.data, cam)

    return step


def measure(n: int, kwargs: dict, seconds: float, with_async: bool) -> dict[str, float]:
    """Env-steps/s of each method for ``n`` envs (all measured in alternating rounds)."""
    envs: dict[str, gym.vector.VectorEnv] = {
        "batched": gym.make_vec(TASK, num_envs=n, **kwargs),
        "batched/1t": gym.make_vec(TASK, num_envs=n, num_threads=1, **kwargs),
        "sync": gym.make_vec(TASK, num_envs=n, vectorization_mode="sync", **kwargs),
    }
    if with_async:  # spawn, not fork: a forked child inherits the parent's GL state and can deadlock in EGL
        envs["async"] = gym.make_vec(
            TASK, num_envs=n, vectorization_mode="async", vector_kwargs={"context": "spawn"}, **kwargs
        )
    fns: dict[str, Callable[[], object]] = {}
    for name, env in envs.items():
        act = hold_actions(env)
        fns[name] = lambda env=env, act=act: env.step(act)
    fns["raw"] = raw_stepper(envs["batched/1t"])
    single = gym.make(TASK, **kwargs)  # one env, the baseline of "vs 1 env"
    single.reset(seed=0)
    hold = single.unwrapped.robot.last_target
    fns["1 env"] = lambda: single.step(hold)
    best = dict.fromkeys(fns, 0.0)
    for _ in range(2):
        for name, fn in fns.items():
            best[name] = max(best[name], rate(fn, seconds / 2) * (1 if name == "1 env" else n))
    for env in [*envs.values(), single]:
        env.close()
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0, help="measuring time per method and size [s]")
    ap.add_argument("--envs", default="1,2,4,8,16")
    ap.add_argument("--no-async", action="store_true", help="skip AsyncVectorEnv (slow to spawn)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.envs.split(",")]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{TASK}, {cores} cores, load at start {os.getloadavg()[0]:.2f} (1 min)")
    for what, kwargs in CAMERAS.items():
        print(f"\n{what}: env-steps/s")
        cols = ["1 env", "batched", "batched/1t", "sync", "async", "raw"]
        print(f"{'envs':>4} " + " ".join(f"{c:>11}" for c in cols) + f" {'vs 1 env':>9} {'overhead':>9} {'GIL s':>6}")
        gil = 0.0
        for n in sizes:
            r = measure(n, kwargs, args.seconds, not args.no_async)
            overhead = r["raw"] / r["batched/1t"] - 1.0  # extra time per env-step over the physics alone
            gil = max(0.0, 1.0 - r["batched/1t"] / r["raw"])  # share of a step's time outside mj_step/render
            row = " ".join(f"{r[c]:11.0f}" if c in r else f"{'-':>11}" for c in cols)
            print(f"{n:4d} {row} {r['batched'] / r['1 env']:8.2f}x {overhead:8.1%} {gil:6.2f}")
        bound = ", ".join(f"{t} cores {min(t, 1.0 / max(gil, 1e-9)):.1f}x" for t in (4, 8, 16, 32))
        print(f"   speedup bound min(T, 1/s) at s = {gil:.2f} (largest size): {bound}")
    print(f"load at end {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
