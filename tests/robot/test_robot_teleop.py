from __future__ import annotations

import os

import numpy as np

from twinarm.robot.keyboard import TerminalKeys
from twinarm.robot.spec import JointSpec, RobotSpec
from twinarm.robot.teleop import (
    JS_AXIS,
    JS_BUTTON,
    JS_EVENT,
    CartesianTeleopSource,
    KeyboardEE,
    LinuxGamepad,
    Workspace,
)

SPEC = RobotSpec(
    name="cartesian",
    joints=(
        JointSpec("x", -1, 1, 1.0),
        JointSpec("y", -1, 1, 1.0),
        JointSpec("z", -1, 1, 1.0),
        JointSpec("gripper", 0.0, 1.0, 1.0),
    ),
    control_hz=10.0,
)


class CartesianIK:
    """A gantry: joint i is the gripper's position along base axis i."""

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.array(q[:3], dtype=np.float64), np.eye(3)

    def solve(self, q0: np.ndarray, pos: np.ndarray, rot: np.ndarray) -> np.ndarray:
        q = np.array(q0, dtype=np.float64)
        q[:3] = np.clip(pos, -1, 1)
        return q


def test_scripted_keys_move_the_gripper_frame_and_the_gripper() -> None:
    r, w = os.pipe()
    try:
        with TerminalKeys(r) as keys:
            box = Workspace(np.full(3, -0.5), np.full(3, 0.5))
            source = CartesianTeleopSource(SPEC, KeyboardEE(keys, step_m=0.01), CartesianIK(), box, gripper_speed=1.0)
            obs = {"joint_pos": np.array([0.1, 0.0, 0.2, 0.5], np.float32)}
            os.write(w, b"www\x1b[Ao")
            q = source.act(obs)
            np.testing.assert_allclose(q[:3], [0.13, 0.0, 0.21], atol=1e-6)
            assert q[3] > 0.5  # opening
            os.write(w, b"d" * 200)  # far past the workspace edge
            q = source.act(obs)
            assert q[1] == -0.5
            assert q.dtype == np.float32 and q.shape == (4,)
    finally:
        os.close(r)
        os.close(w)


def test_gamepad_events_from_the_kernel_joystick_api() -> None:
    r, w = os.pipe()
    try:
        pad = LinuxGamepad(r, max_speed=0.2, deadzone=0.1)
        os.write(w, JS_EVENT.pack(0, -32767, JS_AXIS, 1) + JS_EVENT.pack(0, 1000, JS_AXIS, 0))
        os.write(w, JS_EVENT.pack(0, 1, JS_BUTTON, 5))
        cmd = pad.read(0.1)
        np.testing.assert_allclose(cmd.lin, [0.2, 0.0, 0.0], atol=1e-4)  # small x stick is in the deadzone
        assert cmd.grip == 1.0
    finally:
        os.close(r)
        os.close(w)
