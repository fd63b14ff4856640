"""Env step throughput of every SO-101 task (state only) against raw ``mujoco.mj_step`` on the same model.

Baseline: the same compiled model and physics timestep, ``mj_step(m, d, nstep=n_substeps)`` per control step with
the same constant control, measured in the same run. Ratio = env steps/s / raw steps/s (goal >= 0.90). Also a
gymnasium AsyncVectorEnv on 2 processes against one env stepped in this process (goal >= 1.7x).

    python benchmarks/sim_step.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import mujoco
import numpy as np

import sim  # noqa: F401  (registers the envs)
from sim.envs import ENV_IDS


def rate(fn, seconds: float) -> float:
    for _ in range(50):
        fn()
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        for _ in range(100):
            fn()
        n += 100
    return n / elapsed


def bench_task(task: str, seconds: float) -> tuple[float, float, float]:
    env = gym.make(ENV_IDS[task], cameras=())
    env.reset(seed=0)
    robot = env.unwrapped.robot
    hold = robot.last_target
    wrapped = rate(lambda: env.step(hold), seconds)
    bare = rate(lambda: env.unwrapped.step(hold), seconds)
    m, d, n = robot.model, robot.data, robot.n_substeps
    ctrl = np.asarray(hold, dtype=np.float64)

    def raw() -> None:
        d.ctrl[:6] = ctrl
        mujoco.mj_step(m, d, nstep=n)

    raw_rate = rate(raw, seconds)
    env.close()
    return wrapped, bare, raw_rate


def bench_vector(seconds: float) -> tuple[float, float]:
    one = gym.make(ENV_IDS["lift"], cameras=())
    one.reset(seed=0)
    hold = one.unwrapped.robot.last_target
    single = rate(lambda: one.step(hold), seconds)
    one.close()
    vec = gym.vector.AsyncVectorEnv([lambda: gym.make(ENV_IDS["lift"], cameras=())] * 2)
    vec.reset(seed=0)
    actions = np.stack([hold, hold])
    vec_rate = rate(lambda: vec.step(actions), seconds) * 2
    vec.close()
    return single, vec_rate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    head = f"{'task':<8} {'env (gym.make)':>16} {'env (unwrapped)':>16} {'raw mj_step':>14}"
    print(f"{head} {'ratio':>7} {'ratio bare':>11}")
    for task in ENV_IDS:
        wrapped, bare, raw = bench_task(task, args.seconds)
        print(f"{task:<8} {wrapped:14.0f}/s {bare:14.0f}/s {raw:12.0f}/s {wrapped / raw:7.3f} {bare / raw:11.3f}")
    single, vec = bench_vector(args.seconds)
    print(f"vector env lift: 1 env {single:.0f} steps/s, AsyncVectorEnv x2 {vec:.0f} steps/s = {vec / single:.2f}x")


if __name__ == "__main__":
    main()
