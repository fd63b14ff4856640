"""Action sources that need nothing but the Robot contract.

:class:`LeaderSource` mirrors a leader arm onto a follower joint to joint: both robots speak the simulator's joint
radians through their own calibrations, so no per-arm mapping is needed. (Other sources: ``robot.teleop`` for
keyboard/gamepad through IK, ``robot.chunking`` for policies, the scripted experts in ``sim``.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.robot.loop import ActionSource
from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, RobotSpec


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


class JointMixSource:
    """Several sources, each driving the robot joints it names (a leader arm for the arm of an arm + hand robot,
    hand poses for the hand). ``sources``: (source, the joint names of its output, in its output order); output
    joints the robot does not have are ignored. Each source sees the observation of its own joints. A robot joint no
    source drives holds the position observed at the first ``act``. None from every source: None (nothing new)."""

    def __init__(self, spec: RobotSpec, sources: Sequence[tuple[ActionSource, Sequence[str]]]) -> None:
        robot = spec.joint_names
        self.parts = []
        taken: set[str] = set()
        for source, names in sources:
            mine = [n for n in names if n in robot]
            clash = taken & set(mine)
            if clash:
                raise ConfigError(f"{spec.name}: joints {sorted(clash)} are driven by two sources")
            taken |= set(mine)
            names = list(names)
            src_idx = np.array([names.index(n) for n in mine], dtype=np.intp)
            obs_idx = np.array([robot.index(n) for n in names if n in robot], dtype=np.intp)
            self.parts.append((source, src_idx, np.array([robot.index(n) for n in mine], dtype=np.intp), obs_idx))
        self._target: np.ndarray | None = None

    def reset(self) -> None:
        self._target = None
        for source, *_ in self.parts:
            source.reset()

    def act(self, obs: Observation) -> np.ndarray | None:
        if self._target is None:
            self._target = np.asarray(obs[JOINT_POS], dtype=np.float32).copy()
        fresh = False
        for source, src_idx, robot_idx, obs_idx in self.parts:
            sub = {key: np.asarray(obs[key])[obs_idx] for key in (JOINT_POS, JOINT_VEL) if key in obs}
            out = source.act(sub)
            if out is not None:
                self._target[robot_idx] = np.asarray(out, dtype=np.float32)[src_idx]
                fresh = True
        return self._target.copy() if fresh else None
