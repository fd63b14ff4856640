from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import twinarm.sim  # noqa: F401  (registers the envs)
from twinarm.robot.errors import ActionError, ConfigError
from twinarm.sim.envs import ENV_IDS
from twinarm.sim.episode_clock import EpisodeClock
from twinarm.sim.sim_params import Sensing
from twinarm.sim.threads import PinnedThreads
from twinarm.sim.vector_env import BatchedTaskEnv
from twinarm.sim.vector_info import stack_infos


def assert_same(a: Any, b: Any, where: str = "") -> None:
    """Equal nested dicts of arrays, bit for bit (same keys, dtypes and values)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}.{k}")
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} != {b.dtype}{b.shape}"
        np.testing.assert_array_equal(a, b, err_msg=where)


def step_both(batched: gym.vector.VectorEnv, sync: gym.vector.VectorEnv, act: np.ndarray, where: str) -> tuple:
    """Step both vector envs with ``act``; their results must be the same bits. Returns ``sync``'s."""
    out_b, out_s = batched.step(act), sync.step(act)
    for name, x, y in zip(("obs", "reward", "terminated", "truncated", "info"), out_b, out_s):
        assert_same(x, y, f"{where} {name}")
    return out_s


def actions_near(pos: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random targets around the current poses (N, n), many beyond the per-step clip, some beyond the limits."""
    return (pos + rng.normal(0.0, 0.5, size=pos.shape)).astype(np.float32)


@pytest.mark.parametrize(
    ("task", "kwargs", "fast"),  # fast: no cameras, so the batch takes its vectorized path (sim.batch_step)
    [
        ("lift", {"cameras": ("front", "wrist"), "image_size": (16, 20)}, False),
        ("lift", {"cameras": ("front",), "image_size": (16, 20), "randomize": "full"}, False),  # per-env looks
        ("reach", {"cameras": ()}, True),
        ("grasp", {}, True),
        ("reach_pose", {"cameras": ("side",), "image_size": (12, 16)}, False),
        ("place", {"obs_mode": "privileged", "reward_mode": "sparse"}, True),
        ("koch_lift", {"obs_mode": "state", "randomize": "physics"}, True),  # per-env delays, play, noise, limits
        ("dexterous_lift", {"obs_mode": "privileged"}, True),
    ],
)
def test_batched_env_equals_sync_vector_env_of_single_envs(task: str, kwargs: dict, fast: bool) -> None:
    n, steps, horizon = 3, 9, 4  # two autoresets inside the run
    batched = gym.make_vec(ENV_IDS[task], num_envs=n, num_threads=2, max_episode_steps=horizon, **kwargs)
    sync = gym.vector.SyncVectorEnv(
        [lambda: gym.make(ENV_IDS[task], max_episode_steps=horizon, **kwargs) for _ in range(n)]
    )
    try:
        assert isinstance(batched, BatchedTaskEnv) and batched.num_threads == 2
        assert batched.observation_space == sync.observation_space
        assert batched.action_space == sync.action_space
        obs_b, info_b = batched.reset(seed=11)
        obs_s, info_s = sync.reset(seed=11)
        assert (batched._fast is not None) == fast
        if fast:  # the arm tasks' physics runs in one native mujoco.batch; the hands' env by env on the threads
            assert (batched._fast.native is not None) == (task in ("reach", "place", "koch_lift"))
        if not fast:  # envs 0 and 1 run on thread 0 and share its renderer, each drawing its own model
            views = [env.robot._renderer for env in batched.envs[:2]]
            assert views[0].renderer is views[1].renderer and views[0].model is not views[1].model
        assert_same(obs_b, obs_s, "reset obs")
        assert_same(info_b, info_s, "reset info")
        rng, truncations = np.random.default_rng(0), 0
        for t in range(steps):
            act = actions_near(obs_s["joint_pos"], rng)
            obs_s, _, _, truncated, _ = step_both(batched, sync, act, f"step {t}")
            truncations += int(truncated.sum())
        assert truncations == 2 * n  # every env ran into the horizon twice (steps 4 and 9)
    finally:
        batched.close()
        sync.close()


def test_make_vec_returns_the_batched_env_with_gymnasium_metadata() -> None:
    env = gym.make_vec(ENV_IDS["lift"], num_envs=2, cameras=())
    try:
        assert isinstance(env, BatchedTaskEnv)
        assert env.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
        assert env.max_episode_steps == gym.spec(ENV_IDS["lift"]).max_episode_steps
        assert env.observation_space["joint_pos"].shape == (2, 6)
        obs, info = env.reset(seed=0)
        assert obs["joint_pos"].shape == (2, 6) and info["_privileged"].all()
        assert info["privileged"]["cube_pos"].shape == (2, 3) and info["privileged"]["_cube_pos"].all()
    finally:
        env.close()


def test_safety_clip_applies_per_env() -> None:
    env = gym.make_vec(ENV_IDS["reach"], num_envs=2, cameras=())
    try:
        env.reset(seed=1)
        spec = env.envs[0].robot.spec
        start = np.stack([e.robot.last_target for e in env.envs])  # where each env's clip is anchored
        target = np.stack([spec.upper + 1.0, spec.lower - 1.0]).astype(np.float32)  # far outside the limits
        _, _, _, _, info = env.step(target)
        sent = info["action_sent"]
        assert np.all(np.abs(sent - start) <= spec.max_step + 1e-6)  # one max step per env at most
        assert np.all(sent[0] > start[0]) and np.all(sent[1] < start[1])  # each towards its own target
    finally:
        env.close()


def test_models_are_per_env_and_editable_in_place() -> None:
    env = gym.make_vec(ENV_IDS["lift"], num_envs=2, num_threads=2, cameras=())
    try:
        env.reset(seed=[3, 3])  # the same episode twice
        models = env.models
        assert models[0] is not models[1]
        models[0].opt.gravity[:] = (0.0, 0.0, 0.0)  # env 0 only
        hold = np.repeat(env.envs[0].robot.last_target[None], 2, axis=0)
        for _ in range(5):
            obs, *_ = env.step(hold)
        assert not np.array_equal(obs["joint_pos"][0], obs["joint_pos"][1])
        assert models[1].opt.gravity[2] < 0
    finally:
        env.close()


def test_step_before_reset_and_wrong_action_shapes_are_refused() -> None:
    env = gym.make_vec(ENV_IDS["reach"], num_envs=2, cameras=())
    try:
        with pytest.raises(gym.error.ResetNeeded, match="reset"):
            env.step(np.zeros((2, 6), np.float32))
        env.reset(seed=0)
        with pytest.raises(ActionError, match=r"\(2, n\)"):
            env.step(np.zeros((3, 6), np.float32))
        with pytest.raises(ActionError, match="shape"):
            env.step(np.zeros((2, 5), np.float32))  # the Robot's own check, per env
    finally:
        env.close()


def test_reset_mask_resets_only_the_selected_envs() -> None:
    env = gym.make_vec(ENV_IDS["lift"], num_envs=2, cameras=())
    try:
        _, info = env.reset(seed=0)
        cube = info["privileged"]["cube_pos"].copy()
        _, info = env.reset(seed=[None, 50], options={"reset_mask": np.array([False, True])})
        assert list(info["_privileged"]) == [False, True]
        assert not np.array_equal(info["privileged"]["cube_pos"][1], cube[1])
        with pytest.raises(ConfigError, match="reset_mask"):
            env.reset(options={"reset_mask": np.array([False, False])})
    finally:
        env.close()


def test_stack_infos_masks_missing_keys() -> None:
    out = stack_infos([{"a": 1.0, "d": {"x": np.ones(2)}}, {"b": True}], 2)
    assert out["a"].dtype == np.float64 and list(out["_a"]) == [True, False]
    assert out["b"].dtype == np.bool_ and list(out["_b"]) == [False, True]
    assert out["d"]["x"].shape == (2, 2) and list(out["d"]["_x"]) == [True, False]


def test_pinned_threads_run_each_part_on_its_own_thread_and_reraise() -> None:
    import threading

    pool = PinnedThreads(3)
    try:
        seen: dict[int, set[int]] = {k: set() for k in range(3)}
        for _ in range(4):
            pool.run(lambda k: seen[k].add(threading.get_ident()), [0, 1, 2])
        assert all(len(ids) == 1 for ids in seen.values())
        assert len(set().union(*seen.values())) == 3
        assert threading.get_ident() in seen[0]

        def fail(k: int) -> None:
            if k == 2:
                raise ValueError("part 2")

        with pytest.raises(ValueError, match="part 2"):
            pool.run(fail, [0, 1, 2])
    finally:
        pool.close()


def test_batched_env_equals_single_envs_with_per_env_servo_params() -> None:
    """Each env its own delay (2 periods and a remainder, none, the default), play, resolution, sensing noise and
    overload cut-back (env 1: every servo, soon)."""
    task, n, horizon = ENV_IDS["lift"], 3, 5
    batched = gym.make_vec(task, num_envs=n, num_threads=2, max_episode_steps=horizon, obs_mode="state")
    sync = gym.vector.SyncVectorEnv([lambda: gym.make(task, max_episode_steps=horizon, obs_mode="state")] * n)
    try:
        base = batched.envs[0].robot.sim_params
        play = {name: jp._replace(backlash=0.01) for name, jp in base.joints.items()}
        cut = {k: p._replace(overload_force_limit=0.3 * p.force_limit, overload_after_s=0.03) for k, p in play.items()}
        params = [
            dataclasses.replace(base, joints=play, action_delay_s=0.07, sensing=Sensing(0.0, 0.02, 0.002, 0.05)),
            dataclasses.replace(base, joints=cut, action_delay_s=0.0, sensing=Sensing(0.001, 0.0, 0.0, 0.01)),
            base,
        ]
        for i, p in enumerate(params):
            sync.envs[i].unwrapped.connect()
            for env in (batched.envs[i], sync.envs[i].unwrapped):
                env.robot.set_sim_params(p, seed=i)
        obs_b, _ = batched.reset(seed=5)
        obs_s, _ = sync.reset(seed=5)
        assert list(batched._fast.servo.k) == [2, 0, 0] and batched._fast.servo.noisy == [0, 1]
        assert batched._fast.native is not None  # three delay remainders: three phases of the native batch
        assert_same(obs_b, obs_s, "reset obs")
        rng, cut_back, restored = np.random.default_rng(1), [], False
        for t in range(12):
            act = actions_near(obs_s["joint_pos"], rng)
            obs_s = step_both(batched, sync, act, f"step {t}")[0]
            limits = [(cut[name].force_limit, batched.models[1].actuator(name).forcerange[1]) for name in cut]
            now_cut = {name for name, (full, now) in zip(cut, limits) if now < full}
            reset = t % (horizon + 1) == horizon  # the autoreset steps (which restore every limit)
            restored |= bool(cut_back and cut_back[-1] - now_cut and not reset)
            cut_back.append(now_cut)
            if not reset:  # the overload model read no env's MjData: the batch stays ahead of every one
                assert batched._fast.native._stale.all(), f"step {t}"
        assert any(cut_back) and restored  # env 1's overload model cut servos back and restored one
    finally:
        batched.close()
        sync.close()


def test_native_batch_syncs_each_envs_own_mjdata_before_it_is_read() -> None:
    """The arm tasks' physics runs in mujoco.batch; call/get_attr/close see every env's MjData as the single env's."""
    task, n = ENV_IDS["place"], 3
    batched = gym.make_vec(task, num_envs=n, num_threads=2, obs_mode="state")
    singles = [gym.make(task, obs_mode="state").unwrapped for _ in range(n)]
    try:
        obs, _ = batched.reset(seed=4)
        for i, env in enumerate(singles):
            env.reset(seed=4 + i)
        assert batched._fast.native is not None
        rng = np.random.default_rng(2)
        for _ in range(6):  # small moves: no servo saturates, so the overload model syncs nothing on its own
            act = (obs["joint_pos"] + rng.normal(0.0, 0.02, obs["joint_pos"].shape)).astype(np.float32)
            obs, *_ = batched.step(act)
            for i, env in enumerate(singles):
                env.step(act[i])
        assert batched._fast.native._stale.all()  # the batch is ahead of every env's own MjData
        for i, (mine, single) in enumerate(zip(batched.call("privileged_state"), singles)):
            assert_same(mine, single.privileged_state(), f"env {i} privileged")
        assert not batched._fast.native._stale.any()
        for mine, single in zip(batched.get_attr("robot"), (env.robot for env in singles)):
            np.testing.assert_array_equal(mine.data.qpos, single.data.qpos)
            np.testing.assert_array_equal(mine.data.qvel, single.data.qvel)
            np.testing.assert_array_equal(mine.data.xpos, single.data.xpos)  # derived fields too
    finally:
        batched.close()
        for env in singles:
            env.close()


def test_partial_resets_keep_each_envs_episode_clock() -> None:
    """Resets of some envs (reset_mask), also while another waits for its autoreset, move only those envs'
    truncation: every step equals SyncVectorEnv's (the batch counts quiet steps without masks)."""
    task, n, horizon = ENV_IDS["reach"], 3, 4
    batched = gym.make_vec(task, num_envs=n, num_threads=1, max_episode_steps=horizon, obs_mode="state")
    sync = gym.vector.SyncVectorEnv([lambda: gym.make(task, max_episode_steps=horizon, obs_mode="state")] * n)
    # (steps before the reset, envs reset): env 2 mid-episode; envs 0 and 1 while env 2 waits for its autoreset
    plan = [(2, [False, False, True]), (5, [True, True, False]), (9, None)]
    try:
        obs_b, _ = batched.reset(seed=3)
        obs_s, _ = sync.reset(seed=3)
        assert batched._fast.native is not None
        rng, seed, truncated = np.random.default_rng(3), 30, []
        for steps, mask in plan:
            for t in range(steps):
                act = actions_near(obs_s["joint_pos"], rng)
                obs_s, _, _, trunc, _ = step_both(batched, sync, act, f"{mask} step {t}")
                truncated.append(trunc.tolist())
            if mask is not None:
                seed += 10
                options = {"reset_mask": np.array(mask)}
                (obs_b, info_b), (obs_s, info_s) = (e.reset(seed=seed, options=options) for e in (batched, sync))
                assert_same(obs_b, obs_s, f"reset {mask} obs")
                assert_same(info_b, info_s, f"reset {mask} info")
        # envs 0, 1 truncate at step 4, are reset after step 7 (mid-episode: their autoreset was step 5), truncate
        # at 11 and (autoreset at 12) at 16; env 2 is reset after step 2, truncates at 6, (autoreset 7) 11 and 16
        assert [t for t, row in enumerate(truncated, 1) if row[0]] == [4, 11, 16]
        assert [t for t, row in enumerate(truncated, 1) if row[2]] == [6, 11, 16]
    finally:
        batched.close()
        sync.close()


def test_episode_clock_truncates_at_max_steps_and_autoresets_next() -> None:
    clock = EpisodeClock(2, max_steps=3)
    clock.reset(np.ones(2, np.bool_))
    seen = []
    for t in range(8):
        live, every = clock.live()
        if t == 1:  # env 1 starts over after its first step (a partial reset between steps)
            clock.reset(np.array([False, True]))
            live, every = clock.live()
        _, truncations = clock.tick(live, not every)
        seen.append((live.tolist(), truncations.tolist()))
    assert [t for t, (_, trunc) in enumerate(seen) if trunc[0]] == [2, 6]  # steps 3 and 3 after its autoreset
    assert [t for t, (_, trunc) in enumerate(seen) if trunc[1]] == [3, 7]  # restarted after step 1
    assert [t for t, (live, _) in enumerate(seen) if not live[0]] == [3, 7]  # the steps after, it resets
    assert [t for t, (live, _) in enumerate(seen) if not live[1]] == [4]
    clock.reset(np.ones(2, np.bool_))
    live, every = clock.live()
    assert every and live.all() and not live.flags.writeable  # the shared all-live mask cannot be altered
