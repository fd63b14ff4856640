"""A batched vector env of every task: ``num_envs`` task envs in one process, stepped in parallel native threads.

``gym.make_vec("twinarm/SO101Lift-v0", num_envs=N)`` returns a :class:`BatchedTaskEnv` (the ids register it as
their ``vector_entry_point``). It follows gymnasium 1.x's ``VectorEnv`` contract exactly as ``SyncVectorEnv`` over
``gym.make(id)`` envs does: batched spaces, ``NEXT_STEP`` autoreset (the step after an episode ends resets that env
and returns reward 0), truncation after ``max_episode_steps``, infos as dicts of (N, ...) arrays with ``_key``
masks, ``reset(seed=s)`` seeding env ``i`` with ``s + i``. Results equal those of N independent envs bit for bit.

Each sub-env is a full :class:`sim.envs.TaskEnv` with its own ``SimRobot`` (its own ``MjModel`` and ``MjData``), so
the Robot safety clip runs per env unchanged, and per-env model parameters can be edited in place
(:attr:`BatchedTaskEnv.models`). The envs are split into ``num_threads`` contiguous
partitions, each stepped by one pinned thread (:mod:`sim.threads`); MuJoCo releases the GIL in ``mj_step`` and
while rendering, so physics and cameras of different partitions run at once. Use the env from one thread: the
caller's thread runs the first partition and owns its GL contexts.

Envs without cameras take a vectorized step (:mod:`sim.batch_step`); for the arm tasks its physics is one native
``mujoco.batch`` call per phase over all envs (:mod:`sim.native_batch`). Hand tasks, whose Python reads each env's
``MjData`` every period (scene motion, contact scoring), step each env with ``mj_step`` on the pinned threads:
``mujoco.batch`` would have to copy every env's whole ``MjData`` out per step for them. In the native batch a
sub-env's own ``MjData`` lags behind the batch's copy; ``call``, ``get_attr``, ``render``, ``reset`` and ``close``
bring it up to date first (read ``env.envs[i].robot.data`` yourself only after one of them).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space, create_empty_array

from twinarm.robot.errors import ActionError, ConfigError, TwinarmError
from twinarm.sim.batch_step import FastStep
from twinarm.sim.envs import TaskEnv, family_of
from twinarm.sim.episode_clock import EpisodeClock, reset_mask, reset_seeds
from twinarm.sim.render import CameraRenderer
from twinarm.sim.threads import PinnedThreads
from twinarm.sim.vector_info import stack_infos, step_infos


class ResetNeededError(TwinarmError, gym.error.ResetNeeded):
    """``step`` was called before the first ``reset``."""


def default_threads(num_envs: int) -> int:
    """One thread per usable CPU core, at most one per env."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(num_envs, cores))


class BatchedTaskEnv(VectorEnv):
    """``num_envs`` copies of task ``task`` of robot ``robot`` (further keyword arguments go to every
    :class:`sim.envs.TaskEnv`). ``max_episode_steps`` (None: the task's) truncates episodes; ``num_threads`` (None:
    :func:`default_threads`) sets the parallelism; ``copy`` returns fresh observation arrays (False: the batch's
    buffers, overwritten by the next call); ``shared_renderer``: the envs of a thread render their cameras with one
    renderer (one GL context; False: one per env)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        task: str = "lift",
        robot: str = "so101",
        max_episode_steps: int | None = None,
        num_threads: int | None = None,
        copy: bool = True,
        render_mode: str | None = None,
        shared_renderer: bool = True,
        **env_kwargs: Any,
    ) -> None:
        if num_envs < 1:
            raise ConfigError(f"BatchedTaskEnv needs num_envs >= 1, got {num_envs}")
        family = family_of(robot)
        self.envs = [TaskEnv(task, robot, render_mode=render_mode, **env_kwargs) for _ in range(num_envs)]
        self.num_envs = num_envs
        self.max_episode_steps = int(max_episode_steps or family.tasks[task].max_steps)
        self.render_mode = render_mode
        self.copy = copy
        self.metadata = {**self.metadata, "render_fps": self.envs[0].metadata["render_fps"]}
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

        n_threads = default_threads(num_envs) if num_threads is None else min(int(num_threads), num_envs)
        self._threads = PinnedThreads(n_threads)
        bounds = np.linspace(0, num_envs, n_threads + 1).round().astype(int)
        self._parts = [range(int(a), int(b)) for a, b in itertools.pairwise(bounds)]

        self._obs = create_empty_array(self.single_observation_space, num_envs, fn=np.zeros)
        self._rewards = np.zeros(num_envs, dtype=np.float64)
        self._clock = EpisodeClock(num_envs, self.max_episode_steps)
        self._infos: list[dict[str, Any]] = [{} for _ in range(num_envs)]
        self._was_reset = False
        self._fast: FastStep | None = None  # built at the first reset when no env renders cameras
        self.call("connect")  # each env's model and renderers, made on the env's own thread
        self._shared: list[CameraRenderer | None] = [None] * n_threads
        if shared_renderer:
            self._threads.run(self._share_renderer, list(range(n_threads)))

    @property
    def num_threads(self) -> int:
        return self._threads.n_threads

    @property
    def models(self) -> list[mujoco.MjModel]:
        """Each env's own MjModel, to edit per-env parameters in place (effective from the next step; a task may
        overwrite what it sets itself at reset, like the hand's object)."""
        return [env.robot.model for env in self.envs]

    # -- gymnasium VectorEnv ------------------------------------------------------------------------------------
    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Reset every env (or those in ``options["reset_mask"]``); ``seed``: None, one int (env ``i`` gets
        ``seed + i``) or one per env."""
        seeds = reset_seeds(seed, self.num_envs)
        mask, env_options = reset_mask(options, self.num_envs)

        def work(part: range) -> None:
            for i in part:
                if mask[i]:
                    obs, self._infos[i] = self.envs[i].reset(seed=seeds[i], options=env_options)
                    self._write_obs(i, obs)

        self._sync()
        self._threads.run(work, self._parts)
        self._was_reset = True
        if self._fast is None and FastStep.supports(self.envs):
            self._fast = FastStep(self.envs, self.num_threads)
        elif self._fast is not None:
            for i in np.flatnonzero(mask):
                self._fast.load(i)
        self._clock.reset(mask)
        infos = stack_infos([info if m else {} for info, m in zip(self._infos, mask)], self.num_envs)
        return self._observations(), infos

    def step(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Step every env with its row of ``actions`` (N, n) [rad]; envs whose episode ended last step reset
        instead (reward 0, not terminated or truncated)."""
        if not self._was_reset:
            raise ResetNeededError("BatchedTaskEnv.step() called before reset(); call reset() first")
        actions = np.asarray(actions)
        if actions.shape[:1] != (self.num_envs,):
            raise ActionError(
                f"BatchedTaskEnv.step: actions of shape {actions.shape}; expected ({self.num_envs}, n), one row per env"
            )
        if self._fast is not None:
            return self._step_fast(actions)

        clock = self._clock
        live, _ = clock.live()

        def work(part: range) -> None:
            for i in part:
                env = self.envs[i]
                if live[i]:
                    obs, self._rewards[i], terminated, truncated, self._infos[i] = env.step(actions[i])
                    clock.count(i, terminated, truncated)
                else:
                    obs, self._infos[i] = env.reset()
                    self._rewards[i] = 0.0
                    clock.restart(i)
                self._write_obs(i, obs)

        self._threads.run(work, self._parts)
        terminations, truncations = clock.finish()
        infos = stack_infos(self._infos, self.num_envs)
        return self._observations(), self._rewards.copy(), terminations, truncations, infos

    def _step_fast(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """:meth:`step` through :class:`sim.batch_step.FastStep`: the same results, the Python vectorized."""
        fast, (live, every) = self._fast, self._clock.live()  # every: no env resets in this step
        sent = fast.prepare(actions, live)
        resets: dict[int, dict[str, np.ndarray]] = {}
        native = fast.run_native(live, every)  # every live env's physics at once, or False
        if not native or not every:
            fast.sync(np.flatnonzero(~live))

            def work(part: range) -> None:
                for i in part:
                    if not live[i]:
                        resets[i], self._infos[i] = self.envs[i].reset()
                    elif not native:
                        fast.physics(i)

            self._threads.run(work, self._parts)
        for i in resets:
            fast.load(i)
        obs, rewards, success, privileged = fast.observe(live)
        for key, buf in self._obs.items():  # the buffers keep every env's latest (a partial reset returns them)
            buf[:] = obs[key]
        fresh = self.copy and not resets  # observe() made new arrays, the caller's own: hand them out
        terminations, truncations = self._clock.tick(live, bool(resets))  # (tasks never terminate)
        if resets:
            rewards[~live] = 0.0
            for i, reset_obs in resets.items():
                self._write_obs(i, reset_obs)
        infos = step_infos(success, sent, privileged, {i: self._infos[i] for i in resets})
        observations = {key: obs[key] for key in self._obs} if fresh else self._observations()
        return observations, rewards, terminations, truncations, infos

    def render(self) -> tuple[np.ndarray | None, ...] | None:
        """Every env's ``render()`` (rendered on the env's own thread)."""
        if self.render_mode is None:
            return None
        return tuple(self.call("render"))

    def call(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        """``getattr(env, name)(*args, **kwargs)`` (or the attribute, if not callable) of every sub-env, each run
        on the env's own thread; e.g. ``call("privileged_state")``."""
        results: list[Any] = [None] * self.num_envs
        self._sync()

        def work(part: range) -> None:
            for i in part:
                attr = getattr(self.envs[i], name)
                results[i] = attr(*args, **kwargs) if callable(attr) else attr

        self._threads.run(work, self._parts)
        return tuple(results)

    def get_attr(self, name: str) -> tuple[Any, ...]:
        """Attribute ``name`` of every sub-env."""
        self._sync()
        return tuple(getattr(env, name) for env in self.envs)

    def close_extras(self, **kwargs: Any) -> None:
        """Close every env on its own thread (its renderers live there), then stop the threads."""

        self._sync()

        def work(k: int) -> None:
            for i in self._parts[k]:
                self.envs[i].close()
            if self._shared[k] is not None:
                self._shared[k].close()

        try:
            self._threads.run(work, list(range(self.num_threads)))
        finally:
            self._threads.close()

    # -- helpers ------------------------------------------------------------------------------------------------
    def _sync(self) -> None:
        """Every env's own ``MjData`` up to date (the native batch steps copies of them)."""
        if self._fast is not None:
            self._fast.sync()

    def _share_renderer(self, k: int) -> None:
        """On thread ``k``: one camera renderer for its envs instead of one each."""
        robots = [self.envs[i].robot for i in self._parts[k]]
        if robots[0]._renderer is None:
            return
        self._shared[k] = shared = CameraRenderer(robots[0].model, robots[0]._renderer.cameras)
        for robot in robots:
            robot._renderer.close()
            robot._renderer = shared.view(robot.model)

    def _write_obs(self, i: int, obs: dict[str, np.ndarray]) -> None:
        for key, buf in self._obs.items():
            buf[i] = obs[key]

    def _observations(self) -> dict[str, np.ndarray]:
        return {key: buf.copy() for key, buf in self._obs.items()} if self.copy else self._obs
