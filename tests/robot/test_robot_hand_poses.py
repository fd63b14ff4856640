"""Named hand poses and the key-driven HandPoseSource, fed a scripted key stream through a pipe."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from twinarm.robot.errors import ConfigError
from twinarm.robot.hand_poses import POSE_NAMES, HandPoseSource, hand_pose
from twinarm.robot.keyboard import TerminalKeys
from twinarm.robot.models import AMAZING_HAND
from twinarm.robot.spec import JOINT_POS

SPEC = AMAZING_HAND
FLEX = [SPEC.joint_index(f"{f}_flexion") for f in ("index", "middle", "ring", "thumb")]
ABD = [SPEC.joint_index(f"{f}_abduction") for f in ("index", "middle", "ring", "thumb")]
UP, DOWN, RIGHT = b"\x1b[A", b"\x1b[B", b"\x1b[C"


def test_named_poses_are_joint_targets_within_the_spec() -> None:
    for name in POSE_NAMES:
        q = hand_pose(name)
        assert q.dtype == np.float32 and q.shape == (8,)
        assert np.all(q >= SPEC.lower) and np.all(q <= SPEC.upper), name
    np.testing.assert_allclose(hand_pose("open")[FLEX], np.deg2rad(-35), atol=1e-6)
    np.testing.assert_allclose(hand_pose("close")[FLEX], np.pi / 2, atol=1e-6)
    np.testing.assert_array_equal(hand_pose("fist"), hand_pose("close"))
    point = hand_pose("point")
    assert point[FLEX[0]] == SPEC.lower[FLEX[0]]  # the demo's -40 deg, clipped to fully open
    np.testing.assert_allclose(point[FLEX[1:]], np.pi / 2, atol=1e-6)
    pinch = hand_pose("pinch")
    assert pinch[ABD[3]] == SPEC.upper[ABD[3]]  # the demo's thumb spread (38.5 deg) clipped to the spec's 20 deg
    with pytest.raises(ConfigError, match="'wave'; valid: flat, open, close"):
        hand_pose("wave")


@pytest.fixture
def pipe() -> Iterator[tuple[TerminalKeys, int]]:
    r, w = os.pipe()
    try:
        with TerminalKeys(r) as keys:
            yield keys, w
    finally:
        os.close(r)
        os.close(w)


def obs(q: np.ndarray) -> dict[str, np.ndarray]:
    return {JOINT_POS: np.asarray(q, dtype=np.float32), "joint_vel": np.zeros(8, np.float32)}


def test_source_starts_where_the_hand_is_and_moves_rate_limited_to_the_pose(pipe) -> None:
    keys, w = pipe
    source = HandPoseSource(keys, speed_rad_s=1.5)
    start = hand_pose("open")
    assert np.array_equal(source.act(obs(start)), start)  # no key yet: hold
    os.write(w, b"c")
    limit = 1.5 / SPEC.control_hz
    previous, steps = start, 0
    while not np.allclose(previous, hand_pose("close")):
        target = source.act(obs(previous))
        assert target.dtype == np.float32 and np.all(np.abs(target - previous) <= limit + 1e-6)
        previous, steps = target, steps + 1
        assert steps < 100
    travel = np.deg2rad(90 + 35)
    assert steps == int(np.ceil(travel / limit - 1e-6))  # every step at the speed limit, none wasted


def test_keys_select_a_finger_and_nudge_it(pipe) -> None:
    keys, w = pipe
    source = HandPoseSource(keys, step_rad=0.1)
    q = hand_pose("flat")
    source.act(obs(q))
    os.write(w, b"2" + UP + UP + RIGHT)  # middle finger: flex twice, spread once
    source.act(obs(q))
    want = hand_pose("flat")
    want[FLEX[1]], want[ABD[1]] = 0.2, 0.1
    np.testing.assert_allclose(source.goal, want, atol=1e-6)
    assert source.selected == "middle"
    os.write(w, b"4" + DOWN * 20)  # thumb: open far past the limit, clipped to it
    source.act(obs(q))
    assert source.goal[FLEX[3]] == pytest.approx(SPEC.lower[FLEX[3]])


def test_pose_keys_and_quit(pipe) -> None:
    keys, w = pipe
    source = HandPoseSource(keys)
    source.act(obs(hand_pose("flat")))
    for key, pose in ((b"p", "pinch"), (b"i", "point"), (b"o", "open"), (b"f", "close"), (b"z", "flat")):
        os.write(w, key)
        source.act(obs(hand_pose("flat")))
        np.testing.assert_allclose(source.goal, hand_pose(pose))
    assert not source.quit
    os.write(w, b"x\x1b")  # unknown keys are ignored; a lone Escape quits
    source.act(obs(hand_pose("flat")))
    assert source.quit
    source.reset()
    assert not source.quit and source.goal is None
