from __future__ import annotations

import time

import numpy as np
import pytest

from twinarm.robot.chunking import AsyncChunkSource, blend_weights


def ramp_policy(latency_s: float = 0.0, k: int = 10):
    """Plans a ramp: the chunk from the observation at joint value x is x+0.01, x+0.02, ..."""

    def predict(obs: dict) -> np.ndarray:
        time.sleep(latency_s)
        x = float(obs["joint_pos"][0])
        return (x + 0.01 * np.arange(1, k + 1, dtype=np.float32))[:, None].repeat(2, axis=1)

    return predict


def drive(source: AsyncChunkSource, steps: int, period_s: float) -> list[np.ndarray | None]:
    pos = np.zeros(2, np.float32)
    out = []
    for _ in range(steps):
        a = source.act({"joint_pos": pos.copy()})
        out.append(a)
        if a is not None:
            pos = a.copy()
        time.sleep(period_s)
    return out


def test_inference_latency_never_blocks_act() -> None:
    with AsyncChunkSource(ramp_policy(latency_s=0.05, k=30), refill_at=15, blend_steps=2) as source:
        t0 = time.monotonic()
        source.act({"joint_pos": np.zeros(2, np.float32)})
        assert time.monotonic() - t0 < 0.01  # returned at once, inference runs in the worker
        actions = drive(source, 60, 0.01)
    got = [a for a in actions if a is not None]
    assert source.chunks_received >= 3
    # after the first chunk arrives the plan never runs dry: refill starts early enough
    first = next(i for i, a in enumerate(actions) if a is not None)
    assert all(a is not None for a in actions[first:])
    # motion stays smooth across chunk boundaries: no step larger than a few planned increments
    steps = np.abs(np.diff(np.stack(got)[:, 0]))
    assert steps.max() < 0.035


def test_blending_crossfades_old_and_new_plans() -> None:
    w = blend_weights(3)
    np.testing.assert_allclose(w, [0.25, 0.5, 0.75])
    source = AsyncChunkSource(lambda obs: np.zeros((4, 1), np.float32), blend_steps=3)
    source._plan, source._plan_start, source._step = np.ones((10, 1), np.float32), 0, 2
    source._merge(2, np.zeros((6, 1), np.float32))
    np.testing.assert_allclose(source._plan[:4, 0], [0.75, 0.5, 0.25, 0.0])


def test_policy_errors_surface_in_the_loop_thread() -> None:
    def broken(obs: dict) -> np.ndarray:
        raise ValueError("bad checkpoint")

    with AsyncChunkSource(broken) as source:
        source.act({"joint_pos": np.zeros(2)})
        time.sleep(0.05)
        with pytest.raises(ValueError, match="bad checkpoint"):
            source.act({"joint_pos": np.zeros(2)})


def test_a_chunk_computed_before_reset_never_reaches_the_next_episode() -> None:
    import threading

    release = threading.Event()

    def slow(obs: dict) -> np.ndarray:
        release.wait(2.0)
        return np.full((5, 1), float(obs["joint_pos"][0]), np.float32)

    with AsyncChunkSource(slow, refill_at=2) as source:
        source.act({"joint_pos": np.array([1.0])})  # episode 1 asks for a chunk planned from 1.0
        time.sleep(0.02)
        source.reset()  # new episode while that chunk is still being computed
        release.set()
        time.sleep(0.05)
        got = [source.act({"joint_pos": np.array([2.0])}) for _ in range(3)]
        time.sleep(0.05)
        got += [source.act({"joint_pos": np.array([2.0])}) for _ in range(3)]
    planned = [a for a in got if a is not None]
    assert planned and all(float(a[0]) == 2.0 for a in planned)
