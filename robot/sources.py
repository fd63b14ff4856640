"""Action sources that need nothing but the Robot contract.

:class:`LeaderSource` mirrors a leader arm onto a follower joint to joint: both robots speak the simulator's joint
radians through their own calibrations, so no per-arm mapping is needed. (Other sources: ``robot.teleop`` for
keyboard/gamepad through IK, ``robot.chunking`` for policies, the scripted experts in ``sim``.)
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import JOINT_POS


class LeaderSource:
    """Reads the leader's joint positions [rad] each cycle and returns them as the follower's targets."""

    def __init__(self, leader: Robot, follower_joints: tuple[str, ...]) -> None:
        if leader.spec.joint_names != follower_joints:
            raise ConfigError(
                f"leader joints {leader.spec.joint_names} do not match the follower's {follower_joints}: "
                "a leader must have the follower's joints in the same order"
            )
        self.leader = leader
        self.last: np.ndarray | None = None

    def reset(self) -> None:
        self.last = None

    def act(self, obs: Observation) -> np.ndarray:
        self.last = self.leader.get_observation()[JOINT_POS]
        return self.last
