"""PPO (stable-baselines3) on the privileged reach task, on the batched vector env: a flat, readable RL example.

Needs the optional ``rl`` extra (``pip install -e '.[rl]'``: stable-baselines3, which brings torch). It trains
``twinarm/SO101Reach-v0`` with ``obs_mode="privileged"`` and the dense reward (minus the distance [m] from the
grasp point to the target) on ``gym.make_vec(id, num_envs=N)`` (:class:`twinarm.sim.vector_env.BatchedTaskEnv`),
and every ``--eval-every`` env-steps counts the success rate of the deterministic policy over ``--eval-episodes``
fresh episodes (success: the grasp point ends the 150-step episode within 2 cm of the target, the task's test on
the last step). The curve (env-steps, wall time, success, final distance) goes to ``--out`` as JSON lines.

Choices, all in :class:`ReachVecEnv`: the policy sees the joints, the grasp point and the target (not the cube, which
sits aside in this task); its action in [-1, 1] moves each arm joint's target by up to ``action_scale`` x the
robot's max step from the last target sent (the Robot safety clip still applies), the gripper holds its home
opening. Observations and rewards are normalised with SB3's ``VecNormalize``.

    python examples/ppo_reach.py [--minutes 15] [--envs 16] [--out ppo_reach_curve.jsonl]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.sim.envs import ENV_IDS

ENV_ID = ENV_IDS["reach"]
OBS_KEYS = ("joint_pos", "joint_vel", "grasp_pos", "target_pos")
ARM_JOINTS = 5  # the SO-101's joints before the gripper
#: PPO settings (SB3 names): short horizon (a reach takes ~0.5 s = 15 steps), small net, low initial exploration
PPO_KWARGS: dict[str, Any] = {
    "n_steps": 128,
    "batch_size": 512,
    "n_epochs": 10,
    "learning_rate": 5e-4,
    "gamma": 0.95,
    "gae_lambda": 0.95,
    "policy_kwargs": {"net_arch": [128, 128], "log_std_init": -1.0},
}


class ReachVecEnv(VecEnv):
    """SB3's VecEnv over ``num_envs`` batched reach envs: flat float32 observations (:data:`OBS_KEYS` and the
    target offset), actions in [-1, 1] as joint-target increments of ``action_scale`` max steps [rad]. Episodes
    end by the task's time limit; finished envs reset in the same step (SB3's convention, the last observation in
    ``info["terminal_observation"]``), and ``info["is_success"]`` is the task's test on that step."""

    def __init__(self, num_envs: int, seed: int = 0, action_scale: float = 1.0, num_threads: int | None = None) -> None:
        self.env = gym.make_vec(
            ENV_ID, num_envs=num_envs, num_threads=num_threads, obs_mode="privileged", reward_mode="dense"
        )
        spec = self.env.envs[0].robot.spec
        self._step = action_scale * spec.max_step[:ARM_JOINTS]
        self._seed = seed
        self._target = np.zeros((num_envs, spec.num_joints), np.float32)
        size = sum(self.env.single_observation_space[k].shape[0] for k in OBS_KEYS) + 3
        obs_space = gym.spaces.Box(-np.inf, np.inf, (size,), np.float32)
        act_space = gym.spaces.Box(-1.0, 1.0, (ARM_JOINTS,), np.float32)
        super().__init__(num_envs, obs_space, act_space)
        self._actions: np.ndarray | None = None

    @staticmethod
    def flat(obs: dict[str, np.ndarray]) -> np.ndarray:
        offset = obs["target_pos"] - obs["grasp_pos"]
        return np.concatenate([*(obs[k] for k in OBS_KEYS), offset], axis=1).astype(np.float32)

    def reset(self) -> np.ndarray:
        obs, _ = self.env.reset(seed=self._seed)
        self._seed += self.num_envs  # the next reset() draws new episodes
        self._target[:] = np.stack([e.robot.last_target for e in self.env.envs])
        return self.flat(obs)

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.clip(actions, -1.0, 1.0)

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        target = self._target.copy()
        target[:, :ARM_JOINTS] += self._actions * self._step
        obs, reward, terminated, truncated, info = self.env.step(target)
        self._target[:] = info["action_sent"]
        done = terminated | truncated
        flat = self.flat(obs)
        infos: list[dict[str, Any]] = [
            {"is_success": bool(s), "TimeLimit.truncated": bool(tr and not te)}
            for s, te, tr in zip(info["is_success"], terminated, truncated)
        ]
        if done.any():
            for i in np.flatnonzero(done):
                infos[i]["terminal_observation"] = flat[i].copy()
            obs, _ = self.env.reset(options={"reset_mask": done})
            fresh = self.flat(obs)
            flat[done] = fresh[done]
            for i in np.flatnonzero(done):
                self._target[i] = self.env.envs[i].robot.last_target
        return flat, reward.astype(np.float32), done, infos

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        return [getattr(self, attr_name)] * self.num_envs

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
        return list(self.env.call(method_name, *args, **kwargs))

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False] * self.num_envs


def evaluate(model: PPO, norm: VecNormalize, episodes: int, seed: int) -> tuple[float, float]:
    """(success rate, mean final distance [m]) of the deterministic policy over ``episodes`` episodes, one per env
    of a fresh batch (seeds ``seed ...``), with the training run's observation normalisation (frozen)."""
    env = ReachVecEnv(episodes, seed=seed)
    try:
        obs = env.reset()
        for _ in range(env.env.max_episode_steps):
            action, _ = model.predict(norm.normalize_obs(obs), deterministic=True)
            obs, _, done, infos = env.step(action)
            if done.all():  # the last step: infos hold the task's test, terminal observations the final state
                final = np.stack([info["terminal_observation"] for info in infos])
                dist = np.linalg.norm(final[:, -3:], axis=1)
                return float(np.mean([info["is_success"] for info in infos])), float(dist.mean())
        raise RuntimeError("evaluation episodes did not end at the time limit")
    finally:
        env.close()


class Curve(BaseCallback):
    """Evaluates every ``every`` env-steps and appends (env-steps, wall [s], success, distance [m]) to ``out``;
    stops training once ``minutes`` of wall time have passed (or ``max_steps`` env-steps)."""

    def __init__(self, out: Path, every: int, episodes: int, minutes: float, max_steps: int | None = None) -> None:
        super().__init__()
        self.out, self.every, self.episodes, self.limit_s = out, every, episodes, 60.0 * minutes
        self.max_steps = max_steps
        self.t0 = time.perf_counter()
        self.next_eval = 0
        self.points: list[dict[str, float]] = []

    def point(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        success, dist = evaluate(self.model, self.model.get_vec_normalize_env(), self.episodes, seed=10_000)
        point = {"env_steps": self.num_timesteps, "wall_s": round(wall, 1), "success": success, "final_dist_m": dist}
        self.points.append(point)
        with self.out.open("a") as f:
            f.write(json.dumps(point) + "\n")
        print(json.dumps(point), flush=True)
        return point

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next_eval:
            self.next_eval += self.every
            self.point()
        within = self.max_steps is None or self.num_timesteps < self.max_steps
        return within and time.perf_counter() - self.t0 < self.limit_s


def train(
    minutes: float,
    envs: int,
    out: Path,
    eval_every: int = 50_000,
    eval_episodes: int = 50,
    seed: int = 0,
    max_steps: int | None = None,
) -> list[dict[str, float]]:
    """Train for at most ``minutes`` [min] of wall time (and ``max_steps`` env-steps); returns the curve (also
    written to ``out``): the untrained policy first, the final one last."""
    torch.set_num_threads(1)  # the env threads use the cores; a small MLP gains nothing from more
    out.write_text("")
    venv = VecNormalize(ReachVecEnv(envs, seed=seed), gamma=PPO_KWARGS["gamma"])
    model = PPO("MlpPolicy", venv, seed=seed, device="cpu", **PPO_KWARGS)
    curve = Curve(out, eval_every, eval_episodes, minutes, max_steps)
    try:
        model.learn(total_timesteps=10**9, callback=curve)
        curve.point()  # the final policy
    finally:
        venv.close()
    return curve.points


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=15.0, help="wall-time budget [min]")
    ap.add_argument("--envs", type=int, default=16, help="envs in the batch")
    ap.add_argument("--eval-every", type=int, default=50_000, help="env-steps between evaluations")
    ap.add_argument("--eval-episodes", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("ppo_reach_curve.jsonl"))
    args = ap.parse_args()
    points = train(args.minutes, args.envs, args.out, args.eval_every, args.eval_episodes, args.seed)
    best = max(points, key=lambda p: p["success"])
    print(f"best success {best['success']:.0%} at {best['env_steps']} env-steps, {best['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
