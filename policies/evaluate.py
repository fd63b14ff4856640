"""Policy rollouts in a gymnasium env: success rate with a Wilson 95% interval, episode lengths, videos.

Episodes run in waves of ``num_envs`` vectorised environments that start together, so one batched
``policy.select_action`` call (one shared action queue) serves the whole wave; an env that finishes early keeps
stepping until the wave ends but its further steps are not counted. The env's observations must follow the
Robot contract (``joint_pos``, ``image_<cam>``) and its ``info`` must report ``is_success`` (or ``success``).

A registered env id is made with the policy's contract (:func:`contract_env_kwargs`: its cameras, rendered at the
size the training frames were captured at, and its control rate), so evaluating a checkpoint needs no extra keys
to reproduce the figure its training run printed; ``env_kwargs`` override those and the env's robot is then
checked against the contract (a missing camera, other joints or another rate are refused).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from tqdm import tqdm

from twinarm.policies.base import Policy
from twinarm.robot.features import IMAGE_PREFIX
from twinarm.robot.policy_contract import PolicyContract, check_robot_spec
from twinarm.robot.video import write_video

SUCCESS_KEYS = ("is_success", "success")


class EvalResult(NamedTuple):
    episodes: int
    successes: int
    success_rate: float
    ci_low: float  # Wilson 95% interval of the success rate
    ci_high: float
    mean_length: float  # [steps]
    mean_return: float
    seconds: float
    videos: list[Path]
    seeds: tuple[int, ...] = ()  # per episode, in order
    episode_successes: tuple[bool, ...] = ()
    episode_returns: tuple[float, ...] = ()

    def summary(self) -> str:
        return (
            f"success {self.successes}/{self.episodes} = {self.success_rate:.0%} "
            f"(95% CI {self.ci_low:.0%}-{self.ci_high:.0%}), mean length {self.mean_length:.1f} steps, "
            f"{self.seconds:.1f} s"
        )


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (95% for the default ``z``); (0, 1) when ``n`` is 0."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _success(info: dict[str, Any], num_envs: int) -> np.ndarray:
    for key in SUCCESS_KEYS:
        if key in info:
            value = np.asarray(info[key], dtype=bool).reshape(num_envs)
            mask = np.asarray(info.get("_" + key, np.ones(num_envs, bool)), dtype=bool).reshape(num_envs)
            return value & mask
    return np.zeros(num_envs, dtype=bool)


def _frame(obs: dict[str, np.ndarray], i: int) -> np.ndarray | None:
    """The camera images of env ``i`` side by side, (H, sum W, 3) uint8, or None without cameras."""
    images = [np.asarray(v[i]) for k, v in sorted(obs.items()) if k.startswith(IMAGE_PREFIX)]
    if not images:
        return None
    h = max(img.shape[0] for img in images)
    images = [np.pad(img, ((0, h - img.shape[0]), (0, 0), (0, 0))) for img in images]
    return np.concatenate(images, axis=1)


def contract_env_kwargs(contract: PolicyContract | None) -> dict[str, Any]:
    """Keyword arguments of a ``twinarm/`` env that feeds ``contract``: its cameras rendered at their training
    capture size (the first camera's; the pipeline fits any other) and its control rate [Hz]."""
    if contract is None:
        return {}
    kwargs: dict[str, Any] = {"cameras": contract.camera_names, "control_hz": contract.control_hz}
    if contract.cameras:
        kwargs["image_size"] = (contract.cameras[0].capture_height, contract.cameras[0].capture_width)
    return kwargs


def check_env(policy: Policy, env: gym.Env) -> None:
    """Refuse an env whose robot cannot feed ``policy``'s contract (see ``check_robot_spec``)."""
    robot = getattr(env.unwrapped, "robot", None)
    if policy.contract is not None and robot is not None and hasattr(robot, "spec"):
        check_robot_spec(policy.contract, robot.spec, f"the {policy.name} policy")


class EpisodeOutcome(NamedTuple):
    """One evaluated episode."""

    length: int  # [steps]
    ret: float  # summed reward
    success: bool
    video: Path | None  # its video, when it was one of the recorded episodes


def open_vector_env(env_id: str | Callable[[], gym.Env], num_envs: int, kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    """``num_envs`` envs of ``env_id``: a registered id with a ``vector_entry_point`` (every ``twinarm/`` task) gives
    its batched env (``sim.vector_env.BatchedTaskEnv``: one process, native threads); other ids and env factories
    a ``SyncVectorEnv``. Both give the same episodes for the same seeds."""
    if isinstance(env_id, str) and gym.spec(env_id).vector_entry_point is not None:
        return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    make = env_id if callable(env_id) else (lambda: gym.make(env_id, **kwargs))
    return gym.vector.SyncVectorEnv([make] * num_envs)


def first_env(envs: gym.vector.VectorEnv) -> gym.Env:
    """Sub-env 0 of a ``SyncVectorEnv`` or a batched env (to check its robot against a policy)."""
    return envs.envs[0]


def run_episodes(
    policy: Policy,
    envs: gym.vector.VectorEnv,
    seed: int,
    first: int,
    episodes: int,
    max_steps: int = 2000,
    video_dir: str | Path | None = None,
    videos: int = 0,
    fps: float = 30.0,
    on_wave: Callable[[list[bool]], None] | None = None,
) -> list[EpisodeOutcome]:
    """Episodes ``first`` .. ``first + episodes - 1`` of an evaluation (episode ``k`` uses seed ``seed + k``) in
    waves of ``envs.num_envs``, starting at ``first``; episodes below ``videos`` are recorded to ``video_dir``.

    A wave depends only on its seeds: the policy is reset and torch's random generator seeded (``seed`` + the
    wave's first episode; the caller's generator state is restored after) at its start, so an evaluation split
    into shards of whole waves gives the same episodes as one run (see ``compose.eval_jobs``)."""
    import torch

    num_envs = envs.num_envs
    outcomes: list[EpisodeOutcome] = []
    for start in range(first, first + episodes, num_envs):
        active = min(num_envs, first + episodes - start)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + start)
            outcomes += _wave(policy, envs, seed, start, active, max_steps, video_dir, videos, fps)
        if on_wave is not None:
            on_wave([o.success for o in outcomes[-active:]])
    return outcomes


def _wave(
    policy: Policy,
    envs: gym.vector.VectorEnv,
    seed: int,
    start: int,
    active: int,
    max_steps: int,
    video_dir: str | Path | None,
    videos: int,
    fps: float,
) -> list[EpisodeOutcome]:
    num_envs = envs.num_envs
    obs, _ = envs.reset(seed=[seed + start + i for i in range(num_envs)])
    policy.reset()
    done = np.zeros(num_envs, dtype=bool)
    done[active:] = True
    length, ret, success = np.zeros(num_envs, int), np.zeros(num_envs), np.zeros(num_envs, bool)
    recording = [i for i in range(active) if video_dir is not None and start + i < videos]
    frames: dict[int, list[np.ndarray]] = {i: [] for i in recording}
    for _ in range(max_steps):
        for i in recording:
            if not done[i] and (f := _frame(obs, i)) is not None:
                frames[i].append(f)
        obs, reward, terminated, truncated, info = envs.step(policy.select_action(obs))
        live = ~done
        length[live] += 1
        ret[live] += np.asarray(reward)[live]
        success[live] |= _success(info, num_envs)[live]
        # an episode ends at its first success (the success rate counts success at any step)
        done |= np.asarray(terminated) | np.asarray(truncated) | success
        if done.all():
            break
    paths: dict[int, Path] = {}
    for i in recording:
        if frames[i]:
            name = f"episode_{start + i:03d}_{'success' if success[i] else 'fail'}.mp4"
            paths[i] = write_video(frames[i], Path(video_dir) / name, fps)
    return [EpisodeOutcome(int(length[i]), float(ret[i]), bool(success[i]), paths.get(i)) for i in range(active)]


def eval_result(outcomes: list[EpisodeOutcome], seed: int, seconds: float) -> EvalResult:
    """The :class:`EvalResult` of episodes ``0 .. len(outcomes) - 1`` (seeds ``seed + k``), in order."""
    successes = [o.success for o in outcomes]
    k, n = int(np.sum(successes)), len(outcomes)
    lo, hi = wilson_interval(k, n)
    return EvalResult(
        n,
        k,
        k / n if n else 0.0,
        lo,
        hi,
        float(np.mean([o.length for o in outcomes])) if n else 0.0,
        float(np.mean([o.ret for o in outcomes])) if n else 0.0,
        seconds,
        [o.video for o in outcomes if o.video is not None],
        tuple(range(seed, seed + n)),
        tuple(successes),
        tuple(o.ret for o in outcomes),
    )


def evaluate(
    policy: Policy,
    env_id: str | Callable[[], gym.Env],
    episodes: int = 50,
    num_envs: int = 4,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    max_steps: int = 2000,
    video_dir: str | Path | None = None,
    videos: int = 3,
    fps: float = 30.0,
    progress: bool = True,
) -> EvalResult:
    """Roll ``policy`` out for ``episodes`` episodes (seeds ``seed``, ``seed + 1``, ...) in ``env_id`` (a
    registered id (made with the policy's contract, ``env_kwargs`` on top) or an env factory) and report success;
    the first ``videos`` episodes go to ``video_dir``. In this process; ``compose.eval_jobs`` runs the same
    episodes on an executor (e.g. a Ray cluster)."""
    kwargs = {**contract_env_kwargs(policy.contract), **(env_kwargs or {})}
    num_envs = max(1, min(num_envs, episodes))
    envs = open_vector_env(env_id, num_envs, kwargs)
    try:
        check_env(policy, first_env(envs))
    except BaseException:
        envs.close()
        raise
    policy.eval()
    t0 = time.perf_counter()
    bar = tqdm(total=episodes, disable=not progress, desc=f"eval {policy.name}")
    tally: list[bool] = []

    def on_wave(wave: list[bool]) -> None:
        tally.extend(wave)
        bar.update(len(wave))
        bar.set_postfix(success=f"{np.mean(tally):.0%}")

    try:
        outcomes = run_episodes(policy, envs, seed, 0, episodes, max_steps, video_dir, videos, fps, on_wave)
    finally:
        bar.close()
        envs.close()
    return eval_result(outcomes, seed, time.perf_counter() - t0)
