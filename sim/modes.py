"""Observation and reward modes of the task envs (``gym.make(id, obs_mode=..., reward_mode=...)``).

========================  ==========================================================================================
``obs_mode="rgb"``        what the real robot sees (the default): ``joint_pos``, ``joint_vel`` and one
                          ``image_<camera>`` per camera (``robot.features.image_key``)
``obs_mode="state"``      joints only: ``joint_pos`` [rad], ``joint_vel`` [rad/s]; no cameras are rendered
``obs_mode="privileged"`` joints plus the task's simulator-only state (``Task.privileged``: object poses [m,
                          quaternion w x y z], targets, grasp point), each entry a flat float32 vector under its own
                          key (``cube_pos``, ``target_pos``, ...): for teachers and state-based RL; no cameras
``reward_mode="dense"``   the task's shaped reward (the default; see ``sim.arm_tasks`` and ``sim.hand_tasks``)
``reward_mode="sparse"``  1.0 on a step where the task's success test holds, else 0.0
========================  ==========================================================================================

Every observation key is free of dots, so torch RL libraries can name modules after them; the dataset's feature
names (``observation.images.<camera>``) are defined beside them, in ``robot.features``.
"""

from __future__ import annotations

import enum
from typing import TypeVar

import gymnasium as gym
import numpy as np

from twinarm.robot.errors import ConfigError


class ObsMode(str, enum.Enum):
    RGB = "rgb"
    STATE = "state"
    PRIVILEGED = "privileged"


class RewardMode(str, enum.Enum):
    DENSE = "dense"
    SPARSE = "sparse"


E = TypeVar("E", ObsMode, RewardMode)


def parse_mode(kind: type[E], value: str | E) -> E:
    """``value`` as a member of ``kind``; a ConfigError lists the valid values."""
    try:
        return kind(value)
    except ValueError:
        valid = ", ".join(repr(m.value) for m in kind)
        raise ConfigError(f"invalid {kind.__name__} {value!r}; valid: {valid}") from None


def privileged_observation(privileged: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The task's privileged state as observation entries: each value a flat float32 vector."""
    return {key: np.asarray(value, dtype=np.float32).reshape(-1) for key, value in privileged.items()}


def privileged_spaces(privileged: dict[str, np.ndarray]) -> dict[str, gym.spaces.Box]:
    """Unbounded float32 boxes shaped like :func:`privileged_observation` of ``privileged``."""
    return {
        key: gym.spaces.Box(-np.inf, np.inf, shape=value.shape, dtype=np.float32)
        for key, value in privileged_observation(privileged).items()
    }


def task_reward(mode: RewardMode, dense: float, success: bool) -> float:
    """The reward of a step in ``mode``, from the task's dense reward and success test."""
    return float(success) if mode is RewardMode.SPARSE else float(dense)
