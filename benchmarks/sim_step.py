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

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.sim.envs import SO101_ENV_IDS as ENV_IDS


def rate(fn, seconds: float) -> float:
    """Calls per second of ``fn``: the best of 5 rounds (the machine is shared: the best round is the least
    disturbed one)."""
    for _ in range(50):
        fn()
    best = 0.0
    for _ in range(5):
        n, t0 = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds / 5:
            for _ in range(50):
                fn()
            n += 50
        best = max(best, n / elapsed)
    return best


def interleaved(fns: dict[str, object], seconds: float, rounds: int = 4) -> dict[str, float]:
    """Best rate of each function over ``rounds`` alternating rounds, so load changes hit all of them alike."""
    best = dict.fromkeys(fns, 0.0)
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = max(best[name], rate(fn, seconds / rounds))
    return best


def bench_task(task: str, seconds: float) -> tuple[float, float, float]:
    env = gym.make(ENV_IDS[task], cameras=())
    env.reset(seed=0)
    robot = env.unwrapped.robot
    hold = robot.last_target
    m, d, n = robot.model, robot.data, robot.n_substeps
    ctrl = np.asarray(hold, dtype=np.float64)

    def raw() -> None:
        d.ctrl[:6] = ctrl
        mujoco.mj_step(m, d, nstep=n)

    best = interleaved(
        {"wrapped": lambda: env.step(hold), "bare": lambda: env.unwrapped.step(hold), "raw": raw}, seconds
    )
    env.close()
    return best["wrapped"], best["bare"], best["raw"]


def bench_vector(seconds: float, cameras: tuple[str, ...]) -> tuple[float, float]:
    """Steps/s of one env in this process and of an AsyncVectorEnv of 2 worker processes (sum over both)."""
    kwargs = {"cameras": cameras, "image_size": (96, 96)}
    one = gym.make(ENV_IDS["lift"], **kwargs)
    one.reset(seed=0)
    hold = one.unwrapped.robot.last_target
    single = rate(lambda: one.step(hold), seconds)
    one.close()
    # spawn, not fork: a forked child inherits the parent's GL state and can deadlock in EGL
    vec = gym.vector.AsyncVectorEnv([lambda: gym.make(ENV_IDS["lift"], **kwargs)] * 2, context="spawn")
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
    for cams in ((), ("front", "wrist")):
        single, vec = bench_vector(args.seconds, cams)
        what = "state only" if not cams else "2 cameras 96x96"
        print(
            f"vector env lift, {what}: 1 env {single:.0f} steps/s, AsyncVectorEnv x2 {vec:.0f} steps/s "
            f"= {vec / single:.2f}x"
        )


if __name__ == "__main__":
    main()
