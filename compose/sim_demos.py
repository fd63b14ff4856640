"""Expert demonstrations and DAgger rollouts recorded from a simulated task env into a LeRobot v3 dataset.

:func:`record_rollouts` runs a ``twinarm/`` task env (so domain randomization, a hidden reality's physics and look,
image noise and blur all reach the recorded frames exactly as a policy will see them) for one episode per seed and
records each frame's observation with the privileged scripted expert's action (``sim.experts``):

- plain demonstrations (``student=None``): the expert acts and its actions are recorded; ``keep_failures=False``
  keeps only the episodes it solved (a randomized world sometimes defeats the open-loop plan);
- DAgger (``student`` given): the student acts with probability ``1 - beta`` per step, the expert otherwise; every
  frame is labelled with the expert's action for the state actually visited. The expert re-plans from the measured
  simulator state when the world left its plan (the cube moved while not held), so its labels stay corrective.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np

from twinarm.dataset.recorder import Recorder, offline
from twinarm.robot.spec import JOINT_POS

Student = Callable[[dict[str, np.ndarray]], np.ndarray]
REPLAN_CUBE_SHIFT_M = 0.01  # [m] the cube moved this far from where the plan expected it: plan again


class RolloutStats(NamedTuple):
    episodes: int  # rolled out
    kept: int  # saved to the dataset
    expert_successes: int  # episodes the acting policy solved
    frames: int  # saved frames


def _cube_moved(plan_cube: np.ndarray | None, privileged: dict[str, np.ndarray], gripper_open: bool) -> bool:
    if plan_cube is None or "cube_pos" not in privileged or not gripper_open:
        return False
    return float(np.linalg.norm(privileged["cube_pos"][:2] - plan_cube[:2])) > REPLAN_CUBE_SHIFT_M


def record_rollouts(
    recorder: Recorder,
    env: gym.Env,
    task: str,
    seeds: Sequence[int],
    frames: int,
    text: str,
    student: Student | None = None,
    beta: float = 1.0,
    keep_failures: bool = False,
    on_episode: Callable[[bool], None] | None = None,
    max_kept: int | None = None,
) -> RolloutStats:
    """Record one episode of ``frames`` steps per seed of ``env`` (a twinarm task env, not vectorised) into
    ``recorder``, labelled by the scripted expert of ``task`` (see the module docstring); stop early once
    ``max_kept`` episodes are saved."""
    from twinarm.sim.experts import make_expert

    base = env.unwrapped
    expert = make_expert(task, base.robot.spec.control_hz)
    rng = np.random.default_rng([int(seeds[0]) if len(seeds) else 0, 15])
    grip = base.robot.spec.joint_index("gripper") if "gripper" in base.robot.spec.joint_names else None
    kept = solved = saved = tried = 0
    for seed in seeds:
        if max_kept is not None and kept >= max_kept:
            break
        tried += 1
        obs, info = env.reset(seed=int(seed))
        expert.reset(info["privileged"])
        plan_cube = info["privileged"].get("cube_pos")
        if student is not None and hasattr(student, "reset"):
            student.reset()
        recorder.start_episode(text)
        success, n = False, 0
        for _ in range(frames):
            privileged = info["privileged"]
            gripper_open = grip is not None and float(obs[JOINT_POS][grip]) > 0.3
            if student is not None and _cube_moved(plan_cube, privileged, gripper_open):
                expert.reset(privileged)  # re-plan from the world as it is now
                plan_cube = privileged.get("cube_pos")
            label = expert.act(obs, privileged)
            act = label
            if student is not None and rng.random() >= beta:
                act = np.asarray(student(obs), dtype=np.float32)
            recorder.add_frame(obs, label)
            n += 1
            obs, _, terminated, truncated, info = env.step(act)
            success |= bool(info["is_success"])
            if terminated or truncated:
                break
        solved += success
        if success or keep_failures:
            recorder.save_episode()
            kept, saved = kept + 1, saved + n
        else:
            recorder.discard_episode()
        if on_episode is not None:
            on_episode(success)
    return RolloutStats(tried, kept, solved, saved)


def policy_student(policy: Any) -> Student:
    """A policy (``policies.base.Policy``: batched ``select_action``, ``reset``) as a single-env DAgger student."""

    class _Student:
        def reset(self) -> None:
            policy.reset()

        def __call__(self, obs: dict[str, np.ndarray]) -> np.ndarray:
            return policy.select_action({k: np.asarray(v)[None] for k, v in obs.items()})[0]

    return _Student()


def dagger_round(
    policy: Any, task: str, root: Path, env_kwargs: dict[str, Any], seeds: Sequence[int], frames: int, beta: float
) -> RolloutStats:
    """One DAgger round: ``policy`` rolls out in ``task`` (env made with ``env_kwargs``: cameras, size, rate,
    randomization) for each seed, the expert labels every visited state, all episodes are added to the dataset at
    ``root``."""
    from twinarm.sim.envs import env_id

    env = gym.make(env_id(task), **env_kwargs)
    try:
        spec = env.unwrapped.robot.spec
        with Recorder(root, spec, offline(spec.control_hz)) as recorder:
            text = f"{task} the cube"
            return record_rollouts(
                recorder, env, task, seeds, frames, text, policy_student(policy), beta, keep_failures=True
            )
    finally:
        env.close()
