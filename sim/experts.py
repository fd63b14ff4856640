"""The scripted expert of every simulated task (arm: ``sim.arm_experts``, hand: ``sim.hand_experts``, LEAP Hand:
``sim.leap_hand``; all follow plans with ``sim.plan_expert.PlanExpert``) by task name, and the rollout helper of
``twinarm sim`` and the tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from twinarm.robot.errors import ConfigError
from twinarm.sim.arm_experts import ARM_EXPERTS, ExpertFactory
from twinarm.sim.arm_hand_experts import ARM_HAND_EXPERTS
from twinarm.sim.envs import env_id
from twinarm.sim.hand_experts import HAND_EXPERTS
from twinarm.sim.hopejr_expert import HOPEJR_EXPERTS
from twinarm.sim.hopejr_hand_expert import HOPEJR_HAND_EXPERTS
from twinarm.sim.leap_hand import LEAP_EXPERTS
from twinarm.sim.plan_expert import PlanExpert

EXPERTS: dict[str, ExpertFactory] = {
    **ARM_EXPERTS,
    **HAND_EXPERTS,
    **ARM_HAND_EXPERTS,
    **LEAP_EXPERTS,
    **HOPEJR_HAND_EXPERTS,
    **HOPEJR_EXPERTS,
}


def make_expert(task: str, control_hz: float = 30.0) -> PlanExpert:
    """The scripted expert of ``task`` (any robot) at ``control_hz`` [Hz]; a :class:`ConfigError` lists the tasks."""
    if task not in EXPERTS:
        raise ConfigError(f"no scripted expert for task {task!r}; valid tasks: {', '.join(EXPERTS)}")
    return EXPERTS[task](control_hz)


def run_expert_episodes(
    task: str, seeds: Sequence[int], on_step: Callable[[gym.Env], None] | None = None, **env_kwargs: Any
) -> list[bool]:
    """Run the scripted expert of ``task`` once per seed (state-only env by default); returns each success.

    ``on_step(env)`` is called after every step (e.g. to render a video frame).
    """
    env = gym.make(env_id(task), **{"cameras": (), **env_kwargs})
    expert = make_expert(task, env.unwrapped.robot.spec.control_hz)
    results = []
    try:
        for seed in seeds:
            obs, info = env.reset(seed=seed)
            expert.reset(info["privileged"])
            done = False
            while not done:
                obs, _, terminated, truncated, info = env.step(expert.act(obs, info["privileged"]))
                done = terminated or truncated
                if on_step is not None:
                    on_step(env)
            results.append(bool(info["is_success"]))
    finally:
        env.close()
    return results
