"""End-effector teleoperation: keyboard or gamepad deltas of the gripper frame, turned into joint targets by IK.

The input devices produce :class:`EECommand` values (Cartesian velocity of the gripper frame in the robot's base
frame, plus a gripper open/close rate). :class:`CartesianTeleopSource` integrates them into a target pose, keeps it
inside a workspace box, and asks an :class:`IKSolver` for joint targets [rad] (the solver respects joint limits;
the MuJoCo-model solver lives in ``sim/``, the CLI wires it in). The same source drives the sim and the real arm.
"""

from __future__ import annotations

import os
import select
import struct
from typing import NamedTuple, Protocol

import numpy as np

from twinarm.robot.keyboard import KeyReader
from twinarm.robot.robot import Observation
from twinarm.robot.spec import JOINT_POS, RobotSpec


class EECommand(NamedTuple):
    """Gripper-frame velocity in the base frame: ``lin`` (3,) [m/s], ``yaw`` [rad/s] about base z; ``grip`` in
    [-1, 1] (+1 opens, -1 closes, 0 holds)."""

    lin: np.ndarray
    yaw: float
    grip: float


class IKSolver(Protocol):
    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Joint positions (n,) [rad] -> gripper frame position (3,) [m] and rotation (3, 3) in the base frame."""
        ...

    def solve(self, q0: np.ndarray, pos: np.ndarray, rot: np.ndarray) -> np.ndarray:
        """Joint positions (n,) [rad] within limits reaching ``pos``/``rot`` as well as possible, starting at q0."""
        ...


class InputDevice(Protocol):
    def read(self, dt: float) -> EECommand:
        """The command for the next ``dt`` [s]."""
        ...


# key -> (axis, sign): axes 0..2 = x, y, z, 3 = yaw, 4 = gripper
KEY_MAP = {
    "w": (0, +1), "s": (0, -1), "a": (1, +1), "d": (1, -1), "up": (2, +1), "down": (2, -1),
    "q": (3, +1), "e": (3, -1), "o": (4, +1), "c": (4, -1),
}  # fmt: skip
KEYBOARD_HELP = "keys: w/s x, a/d y, up/down z, q/e yaw, o/c open/close gripper"


class KeyboardEE:
    """Terminal keys as an input device. Terminals send no key-up events: each press (and auto-repeat) moves the
    target by one increment (``step_m`` [m], ``step_rad`` [rad], gripper ``grip_step`` of full range)."""

    def __init__(self, keys: KeyReader, step_m: float = 0.005, step_rad: float = 0.05, grip_step: float = 0.1):
        self.keys, self.step_m, self.step_rad, self.grip_step = keys, step_m, step_rad, grip_step

    def read(self, dt: float) -> EECommand:
        acc = np.zeros(5)
        for k in self.keys.poll():
            if k in KEY_MAP:
                axis, sign = KEY_MAP[k]
                acc[axis] += sign
        lin = acc[:3] * self.step_m / dt
        return EECommand(lin, float(acc[3] * self.step_rad / dt), float(np.clip(acc[4] * self.grip_step / dt, -10, 10)))


JS_EVENT = struct.Struct("<IhBB")  # linux/joystick.h: time [ms], value, type, number
JS_BUTTON, JS_AXIS, JS_INIT = 0x01, 0x02, 0x80


class LinuxGamepad:
    """A gamepad through the kernel joystick API (``/dev/input/js0``): no window system, works over SSH.

    Left stick x/y move in base x/y, right stick y moves z, right stick x turns yaw; buttons ``open_button`` /
    ``close_button`` drive the gripper. ``max_speed`` [m/s] at full deflection; ``deadzone`` in [0, 1).
    """

    def __init__(self, fd: int, max_speed: float = 0.1, max_yaw: float = 1.0, deadzone: float = 0.1,
                 open_button: int = 5, close_button: int = 4) -> None:  # fmt: skip
        self.fd, self.max_speed, self.max_yaw, self.deadzone = fd, max_speed, max_yaw, deadzone
        self.open_button, self.close_button = open_button, close_button
        self.axes: dict[int, float] = {}
        self.buttons: dict[int, int] = {}
        self._buf = b""

    @classmethod
    def open(cls, path: str = "/dev/input/js0", **kwargs: float) -> LinuxGamepad:
        return cls(os.open(path, os.O_RDONLY | os.O_NONBLOCK), **kwargs)

    def _pump(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            chunk = os.read(self.fd, JS_EVENT.size * 32)
            if not chunk:
                break
            self._buf += chunk
        n = len(self._buf) // JS_EVENT.size
        for i in range(n):
            _, value, etype, number = JS_EVENT.unpack_from(self._buf, i * JS_EVENT.size)
            if etype & ~JS_INIT == JS_AXIS:
                self.axes[number] = value / 32767.0
            elif etype & ~JS_INIT == JS_BUTTON:
                self.buttons[number] = value
        self._buf = self._buf[n * JS_EVENT.size :]

    def _axis(self, number: int) -> float:
        v = self.axes.get(number, 0.0)
        return 0.0 if abs(v) < self.deadzone else v

    def read(self, dt: float) -> EECommand:
        self._pump()
        # stick up is negative on the joystick API: forward (+x) is -axis1
        lin = np.array([-self._axis(1), -self._axis(0), -self._axis(4)]) * self.max_speed
        grip = float(self.buttons.get(self.open_button, 0) - self.buttons.get(self.close_button, 0))
        return EECommand(lin, -self._axis(3) * self.max_yaw, grip)


class Workspace(NamedTuple):
    """Axis-aligned box [m] in the base frame that the target gripper position must stay in."""

    low: np.ndarray
    high: np.ndarray


class CartesianTeleopSource:
    """Action source: device deltas -> target gripper pose -> IK -> joint targets [rad].

    ``gripper_joint`` names the spec joint driven directly by the ``grip`` rate at ``gripper_speed`` [rad/s]; None
    for an arm without a gripper (the ``grip`` rate is then ignored).
    """

    def __init__(self, spec: RobotSpec, device: InputDevice, ik: IKSolver, workspace: Workspace,
                 gripper_joint: str | None = "gripper", gripper_speed: float = 2.0) -> None:  # fmt: skip
        self.spec, self.device, self.ik, self.workspace = spec, device, ik, workspace
        self.grip_index = None if gripper_joint is None else spec.joint_index(gripper_joint)
        self.gripper_speed = gripper_speed
        self.dt = spec.control_period_s
        self._q: np.ndarray | None = None
        self._pos = np.zeros(3)
        self._rot = np.eye(3)

    def reset(self) -> None:
        self._q = None

    def act(self, obs: Observation) -> np.ndarray:
        if self._q is None:  # start from where the robot is
            self._q = np.asarray(obs[JOINT_POS], dtype=np.float64).copy()
            self._pos, self._rot = self.ik.forward(self._q)
        cmd = self.device.read(self.dt)
        self._pos = np.clip(self._pos + cmd.lin * self.dt, self.workspace.low, self.workspace.high)
        c, s = np.cos(cmd.yaw * self.dt), np.sin(cmd.yaw * self.dt)
        self._rot = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ self._rot
        q = np.asarray(self.ik.solve(self._q, self._pos, self._rot), dtype=np.float64)
        if self.grip_index is not None:
            grip = self._q[self.grip_index] + cmd.grip * self.gripper_speed * self.dt
            q[self.grip_index] = np.clip(grip, self.spec.joints[self.grip_index].lower,
                                         self.spec.joints[self.grip_index].upper)  # fmt: skip
        self._q = q
        return q.astype(np.float32)
