from __future__ import annotations

import numpy as np
import pytest

from tests.robot.fake_robot import FakeRobot
from twinarm.robot import SO101, ConfigError, JointSpec, RobotSpec
from twinarm.robot.loop import run_loop
from twinarm.robot.sources import LeaderSource


def test_follower_tracks_leader_through_the_safety_layer() -> None:
    spec = SO101.with_cameras(()).with_rate(100.0)
    leader = FakeRobot(spec, start=np.full(6, 0.3, np.float32))
    with leader, FakeRobot(spec) as follower:
        run_loop(follower, LeaderSource(leader, spec.joint_names), max_steps=30)
        # 0.3 rad away, 0.047 rad max step at 100 Hz: reached within 7 cycles, never jumped
        np.testing.assert_allclose(follower.pos, 0.3, atol=1e-6)
        assert np.abs(np.diff(np.stack(follower.sent), axis=0)).max() <= spec.max_step.max() + 1e-6


def test_mismatched_leader_is_refused() -> None:
    other = RobotSpec("other", (JointSpec("a", -1, 1, 1),))
    with pytest.raises(ConfigError, match="same order"):
        LeaderSource(FakeRobot(other), SO101.joint_names)
