"""A whole-robot fake: an ideal position-controlled arm that reaches each target in one step."""

from __future__ import annotations

import numpy as np

from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, RobotSpec, image_key


class FakeRobot(Robot):
    """Records every call; ``faults`` lets tests break one promise at a time."""

    def __init__(self, spec: RobotSpec, start: np.ndarray | None = None, faults: frozenset[str] = frozenset()):
        super().__init__(spec)
        self.faults = faults
        self.pos = np.zeros(spec.num_joints, np.float32) if start is None else np.asarray(start, np.float32)
        self.vel = np.zeros(spec.num_joints, np.float32)
        self.sent: list[np.ndarray] = []
        self.torque = False
        self.connect_calls = 0
        self.disconnect_calls = 0

    def _connect(self) -> None:
        self.connect_calls += 1
        self.torque = True

    def _disconnect(self) -> None:
        self.disconnect_calls += 1
        self.torque = False

    def _get_observation(self) -> Observation:
        pos = self.pos.astype(np.float64 if "float64" in self.faults else np.float32)
        obs = {JOINT_POS: pos, JOINT_VEL: self.vel.copy()}
        if "missing_key" in self.faults:
            del obs[JOINT_VEL]
        for cam in self.spec.cameras:
            h = cam.height + (1 if "bad_image" in self.faults else 0)
            obs[image_key(cam.name)] = np.full((h, cam.width, 3), 128, np.uint8)
        return obs

    def _send_action(self, target: np.ndarray) -> None:
        self.sent.append(target.copy())
        dt = 1.0 / self.spec.control_hz
        self.vel = ((target - self.pos) / dt).astype(np.float32)
        self.pos = target.copy()


class UnclippedRobot(FakeRobot):
    """Breaks the contract on purpose: skips the base's safety layer."""

    def clip(self, action: np.ndarray) -> np.ndarray:
        return self.validate_action(action)
