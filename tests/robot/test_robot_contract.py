from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tests.robot.fake_robot import FakeRobot, UnclippedRobot
from twinarm.robot import (
    SO101,
    ActionError,
    CameraSpec,
    JointSpec,
    NotConnectedError,
    RobotCheckError,
    RobotSpec,
    SpecError,
    check_robot,
    image_key,
)

PACKAGES = ("robot", "dataset", "hardware", "sim", "policies", "compose", "cli")


def test_spaces_follow_the_spec() -> None:
    obs_space = SO101.observation_space()
    assert set(obs_space.spaces) == {"joint_pos", "joint_vel", "image_front", "image_wrist"}
    assert obs_space["image_front"].shape == (96, 96, 3)
    act = SO101.action_space()
    assert act.shape == (6,) and act.dtype == np.float32
    np.testing.assert_allclose(act.high[-1], 1.7453292, rtol=1e-6)
    assert SO101.with_cameras(()).observation_space().spaces.keys() == {"joint_pos", "joint_vel"}


def test_max_step_scales_with_rate() -> None:
    fast = SO101.with_rate(300.0)
    np.testing.assert_allclose(fast.max_step * 10, SO101.max_step, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(joints=()), "at least one joint"),
        (dict(joints=(JointSpec("a", 1.0, -1.0, 1.0),)), "'a'"),
        (dict(joints=(JointSpec("a", -1, 1, 1), JointSpec("a", -1, 1, 1))), "duplicate"),
        (dict(joints=(JointSpec("a", -1, 1, 0.0),)), "max_velocity"),
        (dict(joints=(JointSpec("a", -1, 1, 1),), cameras=(CameraSpec("x.y"),)), "x.y"),
        (dict(joints=(JointSpec("a", -1, 1, 1),), control_hz=0.0), "control_hz"),
    ],
)
def test_bad_specs_name_the_fault(kwargs: dict, fragment: str) -> None:
    with pytest.raises(SpecError, match=None) as info:
        RobotSpec(name="bad", **kwargs)
    assert fragment in str(info.value)


def test_check_robot_passes_a_conforming_robot() -> None:
    robot = FakeRobot(SO101)
    report = check_robot(robot, allow_motion=True)
    assert report.motion_checked
    assert set(report.clipped_joints) == set(SO101.joint_names)
    assert robot.connect_calls == 1 and robot.disconnect_calls == 1 and not robot.torque


@pytest.mark.parametrize("fault", ["float64", "missing_key", "bad_image"])
def test_check_robot_catches_observation_faults(fault: str) -> None:
    with pytest.raises(RobotCheckError):
        check_robot(FakeRobot(SO101, faults=frozenset({fault})))


class _TorqueStuckRobot(FakeRobot):
    """A robot whose torque release fails (e.g. its port vanished)."""

    def _disconnect(self) -> None:
        super()._disconnect()
        raise OSError("torque release failed: port gone")


def test_a_failing_disconnect_never_hides_why_the_check_failed() -> None:
    with pytest.raises(RobotCheckError) as info:
        check_robot(_TorqueStuckRobot(SO101, faults=frozenset({"missing_key"})))
    assert any("torque release failed" in note for note in getattr(info.value, "__notes__", []))


def test_check_robot_catches_missing_clipping() -> None:
    with pytest.raises(RobotCheckError, match=r"escapes the joint limits|unclipped|max step"):
        check_robot(UnclippedRobot(SO101), allow_motion=True)


def test_use_before_connect_raises() -> None:
    robot = FakeRobot(SO101)
    with pytest.raises(NotConnectedError, match="connect"):
        robot.get_observation()
    with pytest.raises(NotConnectedError):
        robot.send_action(np.zeros(6))


def test_send_action_clips_to_limits_and_max_step() -> None:
    with FakeRobot(SO101) as robot:
        sent = robot.send_action(np.full(6, 10.0))
        np.testing.assert_allclose(sent, SO101.max_step, rtol=1e-6)
        for _ in range(200):
            sent = robot.send_action(np.full(6, 10.0))
        np.testing.assert_allclose(sent, SO101.upper, rtol=1e-6)
        assert robot.sent[-1] is not sent  # a copy is returned
    assert not robot.torque


def test_bad_actions_are_refused_with_the_joint_named() -> None:
    with FakeRobot(SO101) as robot:
        with pytest.raises(ActionError, match=r"\(6,\)"):
            robot.send_action(np.zeros(5))
        action = np.zeros(6)
        action[5] = np.nan
        with pytest.raises(ActionError, match="gripper"):
            robot.send_action(action)
        assert robot.sent == []


def test_exit_on_exception_releases_torque() -> None:
    robot = FakeRobot(SO101)
    with pytest.raises(RuntimeError), robot:
        robot.send_action(np.zeros(6))
        raise RuntimeError("policy crashed")
    assert not robot.torque and not robot.is_connected


def test_hold_resends_last_target() -> None:
    with FakeRobot(SO101, start=np.full(6, 0.2, np.float32)) as robot:
        held = robot.hold()
        np.testing.assert_allclose(held, 0.2, rtol=1e-6)
        np.testing.assert_allclose(robot.sent[-1], 0.2, rtol=1e-6)


def test_image_key() -> None:
    assert image_key("front") == "image_front"


class NarrowingRobot(FakeRobot):
    """A device with a limit of its own (like a servo's travel): joint 0 never goes above ``cap`` [rad]."""

    def __init__(self, spec: RobotSpec, cap: float) -> None:
        super().__init__(spec)
        self.cap = cap
        self.hook_calls: list[tuple[np.ndarray, ...]] = []
        self.device_out: np.ndarray | None = None
        self.got_hook_output: list[bool] = []

    def _device_target(
        self, target: np.ndarray, low: np.ndarray, high: np.ndarray, previous: np.ndarray | None
    ) -> np.ndarray:
        self.hook_calls.append((target.copy(), low.copy(), high.copy(), previous))
        self.device_out = target.copy()
        self.device_out[0] = min(self.device_out[0], self.cap)
        return self.device_out

    def _send_action(self, target: np.ndarray) -> None:
        self.got_hook_output.append(target is self.device_out)
        super()._send_action(target)


def test_device_target_hook_narrows_inside_the_base_box() -> None:
    step = SO101.max_step
    with NarrowingRobot(SO101, cap=float(step[0]) / 2) as robot:
        sent = robot.send_action(np.full(6, 10.0))  # beyond every limit and max step
        ((target, low, high, previous),) = robot.hook_calls
        np.testing.assert_array_equal(previous, np.zeros(6))  # the measured start
        np.testing.assert_allclose(low, np.maximum(SO101.lower, -step), rtol=1e-6)
        np.testing.assert_allclose(high, np.minimum(SO101.upper, step), rtol=1e-6)
        np.testing.assert_array_equal(target, high)  # the base clipped once, before the hook
        assert sent[0] == pytest.approx(step[0] / 2) and np.array_equal(sent[1:], high[1:])
        assert robot.got_hook_output == [True]  # _send_action gets the hook's array itself
        np.testing.assert_array_equal(robot.last_target, sent)
        robot.clip(np.full(6, 10.0))  # the next box is anchored at what was sent, not at what was asked
        np.testing.assert_array_equal(robot.hook_calls[-1][3], sent)


def _robot_subclass_attribute_uses(private: set[str]) -> list[str]:
    """``self.<name>`` uses of the base's ``private`` attributes in any Robot subclass of any package."""
    root = Path(__file__).resolve().parents[2]
    trees = {p: ast.parse(p.read_text()) for pkg in PACKAGES for p in (root / pkg).rglob("*.py")}
    robots = {"Robot"}
    for _ in range(3):  # subclasses of subclasses (FeetechRobot <- a hand robot ...)
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) in robots for b in node.bases):
                    robots.add(node.name)
    uses = []
    for path, tree in trees.items():
        if path.name == "robot.py" and path.parent.name == "robot":
            continue
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name in robots):
            for node in ast.walk(cls):
                if isinstance(node, ast.Attribute) and getattr(node.value, "id", "") == "self" and node.attr in private:
                    uses.append(f"{path.relative_to(root)}:{node.lineno} {cls.name} uses self.{node.attr}")
    return uses


def test_robot_subclasses_use_no_private_field_of_the_base() -> None:
    private = {name for name in vars(FakeRobot(SO101)) if name.startswith("_")}
    assert {"_lower", "_upper", "_max_step", "_target", "_low", "_high"} <= private
    assert _robot_subclass_attribute_uses(private) == []
