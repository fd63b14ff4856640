"""The one plan follower of arm and hand experts (``sim.plan_expert``): speed limit, holds, the end of a plan."""

from __future__ import annotations

import numpy as np
import pytest

from twinarm.sim.hand_experts import Keyframe
from twinarm.sim.plan_expert import PlanExpert

HZ = 30.0


class TwoSteps(PlanExpert[Keyframe]):
    """One joint: out to 0.1 rad at 3 rad/s (one period), hold ``hold_s``, then back to 0 and hold for good."""

    def __init__(self, hold_s: float) -> None:
        super().__init__(HZ)
        self.hold_s = hold_s

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        return [Keyframe(np.array([0.1]), 3.0, self.hold_s), Keyframe(np.array([0.0]), 3.0, 30.0)]


@pytest.mark.parametrize("periods", [1, 2, 3, 6, 10])
def test_a_hold_of_k_periods_lasts_k_periods(periods: int) -> None:
    expert = TwoSteps(hold_s=periods / HZ)  # k / 30 s: float sums of 1/30 must not add a period
    expert.reset({})
    obs = {"joint_pos": np.zeros(1, np.float32)}
    commands = [float(expert.act(obs)[0]) for _ in range(periods + 3)]
    assert commands[:periods] == pytest.approx([0.1] * periods)
    assert commands[periods] == pytest.approx(0.0)  # the next step starts at once, one period's move away
    assert expert.done is False  # the last step is held for good


def test_the_command_moves_at_most_speed_per_period_from_the_observed_pose() -> None:
    expert = TwoSteps(hold_s=0.0)
    expert.reset({})
    obs = {"joint_pos": np.array([-0.5], np.float32)}  # 0.6 rad away: six periods at 0.1 rad each
    commands = [float(expert.act(obs)[0]) for _ in range(6)]
    assert np.diff([-0.5, *commands]) == pytest.approx([0.1] * 6)
    assert expert.act(obs).dtype == np.float32
