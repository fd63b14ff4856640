"""LeRobot EnvHub-style entry point: ``make_env(n_envs, use_async_envs)`` for every twinarm task.

LeRobot loads an environment package through a function ``make_env(n_envs: int = 1, use_async_envs: bool =
False)`` (its EnvHub convention, lerobot >= 0.4) and accepts a mapping ``{suite: {task_id: VectorEnv}}``, the same
shape its own ``EnvConfig.create_envs`` returns. A hub repository's ``env.py`` can therefore be one line::

    from twinarm.sim.envhub import make_env  # noqa: F401

Without async envs the batch is twinarm's single-process :class:`sim.vector_env.BatchedTaskEnv` (physics and
rendering in native threads, no pipes); with ``use_async_envs=True`` and more than one env it is gymnasium's
``AsyncVectorEnv`` (one process per env), which pays a pipe round trip per step but isolates crashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym

from twinarm.robot.errors import ConfigError
from twinarm.sim.envs import ENV_IDS, env_id

#: The suite name under which the envs are returned (LeRobot keys results by suite, then task id).
SUITE = "twinarm"
DEFAULT_TASKS = ("lift",)


def make_env(
    n_envs: int = 1,
    use_async_envs: bool = False,
    tasks: Sequence[str] = DEFAULT_TASKS,
    **env_kwargs: Any,
) -> dict[str, dict[int, gym.vector.VectorEnv]]:
    """``{"twinarm": {i: VectorEnv}}``: one batch of ``n_envs`` environments per task in ``tasks`` (task names
    such as ``lift`` or gymnasium ids such as ``twinarm/SO101Lift-v0``), ``i`` in the order given.
    ``env_kwargs`` go to every env (``obs_mode``, ``reward_mode``, ``cameras``, ``image_size``, ``randomize``...).
    A ConfigError names a bad ``n_envs`` or task and lists the valid tasks."""
    if int(n_envs) < 1:
        raise ConfigError(f"make_env needs n_envs >= 1, got {n_envs}")
    if not tasks:
        raise ConfigError(f"make_env needs at least one task; valid tasks: {', '.join(ENV_IDS)}")
    ids = [env_id(t) for t in tasks]  # validates every name before building anything
    return {SUITE: {i: _batch(gid, int(n_envs), use_async_envs, env_kwargs) for i, gid in enumerate(ids)}}


def _batch(gid: str, n_envs: int, use_async: bool, env_kwargs: dict[str, Any]) -> gym.vector.VectorEnv:
    if use_async and n_envs > 1:
        return gym.vector.AsyncVectorEnv([lambda: gym.make(gid, **env_kwargs) for _ in range(n_envs)])
    return gym.make_vec(gid, num_envs=n_envs, vectorization_mode="vector_entry_point", **env_kwargs)
