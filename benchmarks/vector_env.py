"""Env-steps/s of the batched vector env against gymnasium's SyncVectorEnv and AsyncVectorEnv, and its overhead.

For 1, 2, 4, 8, 16 envs of ``lift``: state only, holding the start pose; state only, the lift expert's cube
squeezed in the jaws (the gripper at its force limit, so the servos' overload model runs every step, as during most
of a grasp); and with two 96x96 cameras (front, wrist):

* ``batched``: ``gym.make_vec(id, num_envs=N)`` (:mod:`sim.vector_env`, one pinned thread per core), and the same
  on one thread (``batched/1t``); with cameras also with one renderer per env (``batched/own``; the default
  shares one per thread);
* ``sync`` / ``async``: ``SyncVectorEnv`` / ``AsyncVectorEnv`` (spawned processes) of ``gym.make(id)`` envs;
* ``raw``: the physics (and camera renders) alone on the same N models, one after another on one thread: N x
  ``mj_step(nstep=n_substeps)`` (+ ``CameraRenderer.render`` per camera) per batch step, from the same states and
  with the same resets as the env (see :func:`raw_stepper`).

Goals (issue 14, 2 cores): batched >= 1.8x one env with state observations; per-env overhead of ``batched/1t``
over ``raw`` <= 5 %. Two tables per observation kind: env-steps/s by the wall clock (what a user gets, but on a
shared machine other processes take cores away), and process CPU time per env-step, which other processes change
less (they still inflate it through shared caches: compare rows measured at similar load). The CPU table gives the
overhead, ``in situ`` (:func:`python_share`: the batch's CPU outside its native physics calls over the CPU inside
them, on its own states: the reliable figure while gripping, where ``raw``'s states drift away from the env's as the
cube slips differently), the share ``s`` of a step's time spent outside ``mj_step``/rendering (Python, which holds
the GIL while physics and renders release it) and ``busy`` (the cores the batched env kept busy). From these, the
speedup over one env on an idle machine with ``T`` cores is estimated as ``min(T, 1 / s, N) x CPU(1 env) /
CPU(batched)``: threads overlap until the GIL is busy all the time, at most one thread per env. It is an upper
estimate: it assumes the cores do not slow each other down (on the 2-core VM raw ``mj_step`` costs 14 % more CPU
per step with both cores busy, the batched env 30-40 % more). Each figure is the best of short alternating rounds;
the 1-minute load is printed before and after.

    python benchmarks/vector_env.py [--seconds 1] [--envs 1,2,4,8,16] [--no-async]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import NamedTuple

import gymnasium as gym
import mujoco
import numpy as np

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.sim.envs import ENV_IDS
from twinarm.sim.experts import make_expert
from twinarm.sim.vector_env import BatchedTaskEnv

TASK = ENV_IDS["lift"]
ROUNDS = 6
CONTROL_HZ = 30.0  # the envs' default
GRASP_STEPS = 60  # lift expert steps until the jaws squeeze the cube (at 30 Hz they close at ~40), see hold_actions
LONG = 10**9  # max_episode_steps while gripping: no autoreset puts the cube back on the table
# observation kind -> (env kwargs, grasp: hold the cube squeezed instead of the start pose)
KINDS = {
    "state": ({"obs_mode": "state"}, False),
    "state, gripping": ({"obs_mode": "state", "max_episode_steps": LONG}, True),
    "2 cams 96x96": ({"cameras": ("front", "wrist"), "image_size": (96, 96)}, False),
}


class Rate(NamedTuple):
    """One method's figures: ``wall`` env-steps/s, ``cpu_us`` process CPU time per env-step [us] (every thread of
    this process, the GL rasterizer's included; not the workers of AsyncVectorEnv), ``busy`` = CPU / wall time (the
    cores this process kept busy)."""

    wall: float
    cpu_us: float
    busy: float


def rate(fn: Callable[[], object], seconds: float, envs: int, rounds: int = 3) -> Rate:
    """``fn`` steps ``envs`` envs; the best of ``rounds`` rounds by wall time (the least disturbed one)."""
    for _ in range(3):
        fn()
    best = Rate(0.0, 0.0, 0.0)
    for _ in range(rounds):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while (elapsed := time.perf_counter() - t0) < seconds / rounds:
            fn()
            n += 1
        cpu = time.process_time() - c0
        if n * envs / elapsed > best.wall:
            best = Rate(n * envs / elapsed, cpu / (n * envs) * 1e6, cpu / elapsed)
    return best


def hold_actions(env: gym.vector.VectorEnv, grasp: bool = False) -> np.ndarray:
    """The targets every env then holds: its start pose; ``grasp``: the lift expert's targets after
    ``GRASP_STEPS`` steps from ``reset(seed=0)``, the cube squeezed in the jaws (the gripper servo at its force
    limit, so the overload model runs every step, as it does for most of an expert's or a policy's lift)."""
    obs, info = env.reset(seed=0)
    act = np.asarray(obs["joint_pos"], dtype=np.float32).copy()
    if not grasp:
        return act
    n = len(act)
    experts = [make_expert("lift", CONTROL_HZ) for _ in range(n)]
    for i, expert in enumerate(experts):
        expert.reset({k: v[i] for k, v in info["privileged"].items()})
    for _ in range(GRASP_STEPS):
        rows = [({k: v[i] for k, v in obs.items()}, {k: v[i] for k, v in info["privileged"].items()}) for i in range(n)]
        act = np.stack([e.act(o, p) for e, (o, p) in zip(experts, rows)]).astype(np.float32)
        obs, _, _, _, info = env.step(act)
    return act


def raw_stepper(env: BatchedTaskEnv) -> Callable[[], None]:
    """The physics and renders of ``env``'s N models, serially, without the env: the same states as the env's
    (each starts from its env's state now, after :func:`hold_actions`, is held at the same command and is put back
    to that state every ``max_episode_steps`` periods, as the env's autoreset does), so the settling after a reset
    costs both alike."""
    robots = list(env.get_attr("robot"))  # (get_attr brings each env's MjData up to date)
    cams = [c.name for c in robots[0].spec.cameras]
    datas = [mujoco.MjData(r.model) for r in robots]
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    starts = []
    for r, d in zip(robots, datas):
        start = np.empty(mujoco.mj_stateSize(r.model, spec))
        mujoco.mj_getState(r.model, r.data, start, spec)
        mujoco.mj_setState(r.model, d, start, spec)
        starts.append(start)
    horizon, count = env.max_episode_steps, [0]

    def step() -> None:
        count[0] += 1
        for r, d, start in zip(robots, datas, starts):
            if count[0] % horizon == 0:
                mujoco.mj_setState(r.model, d, start, spec)
            mujoco.mj_step(r.model, d, nstep=r.n_substeps)
            for cam in cams:
                r._renderer.render(d, cam)

    return step


def python_share(env: BatchedTaskEnv, act: np.ndarray, steps: int = 300, rounds: int = 3) -> float:
    """The CPU time of ``env``'s steps outside its native physics calls over the time inside them (``env`` on one
    thread, with the native batch): the batch's own overhead measured on its own states, which a separate ``raw``
    run only approximates once the states diverge (a held cube slips differently). Best of ``rounds``."""
    if env._fast is None or env._fast.native is None:
        return float("nan")  # (envs with cameras step env by env)
    batch = env._fast.native.batch
    native_step, inside = batch.step, [0]

    def timed(*args: object, **kwargs: object) -> None:
        t0 = time.thread_time_ns()
        native_step(*args, **kwargs)
        inside[0] += time.thread_time_ns() - t0

    batch.step = timed
    best = float("inf")
    try:
        for _ in range(rounds):
            inside[0], t0 = 0, time.thread_time_ns()
            for _ in range(steps):
                env.step(act)
            best = min(best, (time.thread_time_ns() - t0 - inside[0]) / inside[0])
    finally:
        del batch.step  # the instance attribute: the method again
    return best


def measure(n: int, kwargs: dict, grasp: bool, seconds: float, with_async: bool) -> tuple[dict[str, Rate], float]:
    """Env-steps/s of each method for ``n`` envs (all measured in alternating rounds), holding the start pose or
    (``grasp``) the cube squeezed; and :func:`python_share` of ``batched/1t``."""
    envs: dict[str, gym.vector.VectorEnv] = {
        "batched": gym.make_vec(TASK, num_envs=n, **kwargs),
        "batched/1t": gym.make_vec(TASK, num_envs=n, num_threads=1, **kwargs),
        "sync": gym.make_vec(TASK, num_envs=n, vectorization_mode="sync", **kwargs),
    }
    if "cameras" in kwargs:  # the batch's default shares one renderer per thread; this is one renderer per env
        envs["batched/own"] = gym.make_vec(TASK, num_envs=n, shared_renderer=False, **kwargs)
    if with_async:  # spawn, not fork: a forked child inherits the parent's GL state and can deadlock in EGL
        envs["async"] = gym.make_vec(
            TASK, num_envs=n, vectorization_mode="async", vector_kwargs={"context": "spawn"}, **kwargs
        )
    fns: dict[str, Callable[[], object]] = {}
    for name, env in envs.items():
        act = hold_actions(env, grasp)
        fns[name] = lambda env=env, act=act: env.step(act)
    fns["raw"] = raw_stepper(envs["batched/1t"])
    single = gym.vector.SyncVectorEnv([lambda: gym.make(TASK, **kwargs)])  # settled like the others, then
    hold_actions(single, grasp)
    one = single.envs[0]  # stepped without the vector env: one env, the baseline of "vs 1 env"
    hold = one.unwrapped.robot.last_target
    fns["1 env"] = lambda: one.step(hold)
    best = dict.fromkeys(fns, Rate(0.0, 0.0, 0.0))
    for _ in range(ROUNDS):  # short alternating rounds: each method gets its share of the machine's quiet moments
        for name, fn in fns.items():
            r = rate(fn, seconds / ROUNDS, 1 if name == "1 env" else n, rounds=2)
            best[name] = max(best[name], r)  # by wall rate
    share = python_share(envs["batched/1t"], hold_actions(envs["batched/1t"], grasp))
    for env in [*envs.values(), single]:
        env.close()
    return best, share


def bench_renderers(n: int, seconds: float) -> tuple[Rate, Rate]:
    """96x96 front-camera renders of ``n`` envs on one thread: each env's own renderer (one GL context each, as
    the envs render now) against one renderer drawing every env's data (one context per thread)."""
    env = gym.make_vec(TASK, num_envs=n, num_threads=1, cameras=("front",), image_size=(96, 96), shared_renderer=False)
    env.reset(seed=0)
    robots = [e.robot for e in env.envs]
    shared = mujoco.Renderer(robots[0].model, 96, 96)

    def own() -> None:
        for r in robots:
            r._renderer.render(r.data, "front")

    def one() -> None:
        for r in robots:
            shared.update_scene(r.data, camera="front")
            shared.render()

    result = (rate(own, seconds, n), rate(one, seconds, n))
    shared.close()
    env.close()
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0, help="measuring time per method and size [s]")
    ap.add_argument("--envs", default="1,2,4,8,16")
    ap.add_argument("--no-async", action="store_true", help="skip AsyncVectorEnv (slow to spawn)")
    ap.add_argument("--obs", choices=[*KINDS, "all"], default="all", help="observation kind(s) to measure")
    args = ap.parse_args()
    sizes = [int(x) for x in args.envs.split(",")]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{TASK}, {cores} cores, load at start {os.getloadavg()[0]:.2f} (1 min)")
    wall_cols = ["1 env", "batched", "batched/1t", "batched/own", "sync", "async", "raw"]
    cpu_cols = ["1 env", "batched", "batched/1t", "batched/own", "raw"]
    for what, (kwargs, grasp) in KINDS.items():
        if args.obs not in ("all", what):
            continue
        results = {n: measure(n, kwargs, grasp, args.seconds, not args.no_async) for n in sizes}
        rows = {n: r for n, (r, _) in results.items()}
        print(f"\n{what}: env-steps/s (wall clock)")
        print(f"{'envs':>4} " + " ".join(f"{c:>11}" for c in wall_cols) + f" {'vs 1 env':>9}")
        for n, r in rows.items():
            row = " ".join(f"{r[c].wall:11.0f}" if c in r else f"{'-':>11}" for c in wall_cols)
            print(f"{n:4d} {row} {r['batched'].wall / r['1 env'].wall:8.2f}x")
        print(f"{what}: CPU time per env-step [us] (less sensitive to other processes' load)")
        head = " ".join(f"{c:>11}" for c in cpu_cols)
        print(
            f"{'envs':>4} {head} {'overhead':>9} {'in situ':>8} {'GIL s':>6} {'busy':>5}  "
            "upper est. vs 1 env, idle machine"
        )
        for n, r in rows.items():
            row = " ".join(f"{r[c].cpu_us:11.1f}" if c in r else f"{'-':>11}" for c in cpu_cols)
            overhead = r["batched/1t"].cpu_us / r["raw"].cpu_us - 1.0  # extra CPU per env-step over the physics
            gil = max(0.0, 1.0 - r["raw"].cpu_us / r["batched/1t"].cpu_us)  # share outside mj_step/render
            per_step = r["1 env"].cpu_us / r["batched"].cpu_us
            est = ", ".join(f"{t} cores {min(t, 1.0 / max(gil, 1e-9), n) * per_step:.1f}x" for t in (2, 4, 8, 16))
            in_situ = f"{results[n][1]:7.1%}" if not np.isnan(results[n][1]) else f"{'-':>7}"
            print(f"{n:4d} {row} {overhead:8.1%} {in_situ:>8} {gil:6.2f} {r['batched'].busy:5.2f}  {est}")
    if args.obs == "all":
        own, one = bench_renderers(8, args.seconds)
        print(
            f"\n96x96 renders of 8 envs on one thread: own renderer per env {own.cpu_us:.0f} us CPU "
            f"({own.wall:.0f}/s), one shared renderer {one.cpu_us:.0f} us CPU ({one.wall:.0f}/s)"
        )
    print(f"load at end {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
