"""Env steps/s of the Amazing Hand tasks (state only) against raw ``mujoco.mj_step`` on the same model, same run.

For every task and seed the scripted expert's episode is recorded first (untimed). Then, interleaved per seed so
that machine load hits all alike, the episode is replayed from the same reset: through ``env.step`` (gymnasium
wrappers, Robot safety layer, transmission, task, observation, privileged info), through the unwrapped env, and as
the bare physics it amounts to (``ctrl`` and the wrist mocap written from numpy, ``mj_step`` with the same number
of substeps). The figure is the ratio env / raw (1.0 = no overhead; goal >= 0.90). Times are CPU time of this
process (``time.process_time``), so other processes on a shared machine count against neither side.

    python benchmarks/hand_sim_step.py [--episodes 5] [--repeats 3] [--tasks grasp hopejr_grasp ...]

Default tasks: the Amazing Hand's; ``--tasks`` takes any hand task ids (``leap_grasp``, ``hopejr_grasp``).
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import mujoco
import numpy as np

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.sim.envs import ENV_IDS, HAND_ENV_IDS
from twinarm.sim.experts import make_expert


def record(env: gym.Env, task: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The expert's episode: actions (T, n), the motor commands they became (T, n_motor), wrist mocap (T, 3)."""
    expert = make_expert(task)
    obs, info = env.reset(seed=seed)
    robot, scene = env.unwrapped.robot, env.unwrapped._scene
    expert.reset(info["privileged"])
    actions, ctrl, wrist = [], [], []
    done = False
    while not done:
        action = expert.act(obs, info["privileged"])
        obs, _, terminated, truncated, info = env.step(action)
        actions.append(action)
        ctrl.append(robot.data.ctrl[: robot.sim_model.transmission.size].copy())
        wrist.append(scene.wrist_pos())
        done = terminated or truncated
    return np.array(actions), np.array(ctrl), np.array(wrist)


def time_env(env: gym.Env, seed: int, actions: np.ndarray, unwrapped: bool = False) -> float:
    env.reset(seed=seed)
    step = env.unwrapped.step if unwrapped else env.step
    t0 = time.process_time()
    for a in actions:
        step(a)
    return time.process_time() - t0


def time_raw(env: gym.Env, seed: int, ctrl: np.ndarray, wrist: np.ndarray) -> float:
    env.reset(seed=seed)
    robot, scene = env.unwrapped.robot, env.unwrapped._scene
    m, d, n = robot.model, robot.data, robot.n_substeps
    nu, mocap = ctrl.shape[1], scene.wrist_mocap
    t0 = time.process_time()
    for k in range(len(ctrl)):
        d.ctrl[:nu] = ctrl[k]
        d.mocap_pos[mocap] = wrist[k]
        mujoco.mj_step(m, d, nstep=n)
    return time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=5, help="seeds per task")
    parser.add_argument("--repeats", type=int, default=3, help="timed replays per seed and mode")
    parser.add_argument("--tasks", nargs="*", default=list(HAND_ENV_IDS), help="hand task ids (default: Amazing Hand)")
    args = parser.parse_args()
    print(f"mujoco {mujoco.__version__}; {args.episodes} episodes x {args.repeats} replays per task, state only")
    ratios = []
    for task, env_id in ((t, ENV_IDS[t]) for t in args.tasks):
        env = gym.make(env_id)
        try:
            episodes = [(seed, *record(env, task, seed)) for seed in range(args.episodes)]
            t_env = t_bare = t_raw = 0.0
            steps = 0
            for _ in range(args.repeats):
                for seed, actions, ctrl, wrist in episodes:
                    t_env += time_env(env, seed, actions)
                    t_bare += time_env(env, seed, actions, unwrapped=True)
                    t_raw += time_raw(env, seed, ctrl, wrist)
                    steps += len(actions)
            n_sub = env.unwrapped.robot.n_substeps
        finally:
            env.close()
        env_rate, bare_rate, raw_rate = steps / t_env, steps / t_bare, steps / t_raw
        ratio = env_rate / raw_rate
        ratios.append(ratio)
        print(
            f"{env_id:32s} env {env_rate:6.0f}/s (unwrapped {bare_rate:6.0f}/s)  raw mj_step {raw_rate:6.0f}/s "
            f"({n_sub} substeps, {raw_rate * n_sub:6.0f} physics steps/s)  ratio {ratio:.3f} "
            f"(unwrapped {bare_rate / raw_rate:.3f})  overhead {1e6 * (1 / env_rate - 1 / raw_rate):.0f} us/step"
        )
    print(f"worst ratio env/raw: {min(ratios):.3f} (goal >= 0.90)")


if __name__ == "__main__":
    main()
