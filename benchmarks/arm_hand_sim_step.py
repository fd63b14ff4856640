"""Env steps/s of the SO-101 + Amazing Hand task (state only) against raw ``mujoco.mj_step`` on the same model.

For every seed the scripted expert's episode is recorded first (untimed). Then, interleaved per seed so that
machine load hits all alike, the episode is replayed from the same reset: through ``env.step`` (gymnasium wrappers,
Robot safety layer, transmission, task, observation, privileged info), through the unwrapped env, and as the bare
physics it amounts to (the recorded actuator commands written from numpy, ``mj_step`` with the same number of
substeps). The figure is the ratio env / raw (1.0 = no overhead). Times are CPU time of this process
(``time.process_time``), so other processes on a shared machine count against neither side.

    python benchmarks/arm_hand_sim_step.py [--episodes 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import mujoco
import numpy as np

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.sim.arm_hand_tasks import ARM_HAND_TASKS
from twinarm.sim.envs import ENV_IDS
from twinarm.sim.experts import make_expert


def record(env: gym.Env, task: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The expert's episode: actions (T, n) and the actuator commands they became (T, n_actuators)."""
    expert = make_expert(task)
    obs, info = env.reset(seed=seed)
    robot = env.unwrapped.robot
    expert.reset(info["privileged"])
    actions, ctrl = [], []
    done = False
    while not done:
        action = expert.act(obs, info["privileged"])
        obs, _, terminated, truncated, info = env.step(action)
        actions.append(action)
        ctrl.append(robot.data.ctrl[: robot.sim_model.transmission.size].copy())
        done = terminated or truncated
    return np.array(actions), np.array(ctrl)


def time_env(env: gym.Env, seed: int, actions: np.ndarray, unwrapped: bool = False) -> float:
    env.reset(seed=seed)
    step = env.unwrapped.step if unwrapped else env.step
    t0 = time.process_time()
    for a in actions:
        step(a)
    return time.process_time() - t0


def time_raw(env: gym.Env, seed: int, ctrl: np.ndarray) -> float:
    env.reset(seed=seed)
    robot = env.unwrapped.robot
    m, d, n, nu = robot.model, robot.data, robot.n_substeps, ctrl.shape[1]
    t0 = time.process_time()
    for k in range(len(ctrl)):
        d.ctrl[:nu] = ctrl[k]
        mujoco.mj_step(m, d, nstep=n)
    return time.process_time() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=5, help="seeds per task")
    parser.add_argument("--repeats", type=int, default=3, help="timed replays per seed and mode")
    args = parser.parse_args()
    print(f"mujoco {mujoco.__version__}; {args.episodes} episodes x {args.repeats} replays per task, state only")
    for task in ARM_HAND_TASKS:
        env_id = ENV_IDS[task]
        env = gym.make(env_id, cameras=())
        try:
            episodes = [(seed, *record(env, task, seed)) for seed in range(args.episodes)]
            t_env = t_bare = t_raw = 0.0
            steps = 0
            for _ in range(args.repeats):
                for seed, actions, ctrl in episodes:
                    t_env += time_env(env, seed, actions)
                    t_bare += time_env(env, seed, actions, unwrapped=True)
                    t_raw += time_raw(env, seed, ctrl)
                    steps += len(actions)
            n_sub = env.unwrapped.robot.n_substeps
        finally:
            env.close()
        env_rate, bare_rate, raw_rate = steps / t_env, steps / t_bare, steps / t_raw
        print(
            f"{env_id:42s} env {env_rate:6.0f}/s (unwrapped {bare_rate:6.0f}/s)  raw mj_step {raw_rate:6.0f}/s "
            f"({n_sub} substeps, {raw_rate * n_sub:6.0f} physics steps/s)  ratio env/raw {env_rate / raw_rate:.3f} "
            f"(unwrapped {bare_rate / raw_rate:.3f})  overhead {1e6 * (1 / env_rate - 1 / raw_rate):.0f} us/step"
        )


if __name__ == "__main__":
    main()
