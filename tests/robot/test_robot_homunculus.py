"""source=homunculus on a test-only robot with the HopeJR joint names: the glove and exo emulators on ptys drive
the hand and arm joints through their calibration files; a robot without those joints is refused."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from tests.robot.fake_robot import FakeRobot
from twinarm.compose.homunculus import HomunculusSettings
from twinarm.compose.sources import PolicyRef, SourceOptions, TeleopSettings, build_source, leader_default
from twinarm.hardware.homunculus.calibration_file import save_device_calibration
from twinarm.hardware.homunculus.emulator import DeviceEmulator, DeviceEmulatorConfig
from twinarm.hardware.homunculus.joint_map import EXO_TO_HOPEJR_ARM, GLOVE_TO_HOPEJR_HAND, JointScaler
from twinarm.robot import ConfigError, JointSpec, RobotSpec
from twinarm.robot.loop import run_loop

HAND = tuple(
    JointSpec(n, -0.35, 0.35, 30.0) if n.endswith("_abd") else JointSpec(n, 0.0, 1.6, 30.0)
    for n in GLOVE_TO_HOPEJR_HAND.joint_names
)
ARM = tuple(JointSpec(n, -1.2, 1.4, 30.0) for n in EXO_TO_HOPEJR_ARM.joint_names)


class Trace:
    def __init__(self) -> None:
        self.t: list[float] = []
        self.sent: list[np.ndarray] = []

    def on_step(self, obs, sent: np.ndarray, t: float) -> None:
        self.t.append(t)
        self.sent.append(sent.copy())


def _options(**kw) -> SourceOptions:
    return SourceOptions(leader_default(), TeleopSettings(), PolicyRef(), homunculus=HomunculusSettings(**kw))


def test_glove_and_exo_drive_hand_and_arm_joints_through_their_calibration_files(tmp_path) -> None:
    spec = RobotSpec("fake_hopejr", ARM + HAND + (JointSpec("waist", -1, 1, 1),), control_hz=100.0)
    glove_cfg = DeviceEmulatorConfig("homunculus_glove", frequency_hz=0.5)
    exo_cfg = DeviceEmulatorConfig("homunculus_exo", frequency_hz=0.5)
    with contextlib.ExitStack() as stack:
        glove = stack.enter_context(DeviceEmulator(glove_cfg))
        exo = stack.enter_context(DeviceEmulator(exo_cfg))
        options = _options(
            glove=glove.port,
            exo=exo.port,
            glove_calibration=str(save_device_calibration(glove.calibration, tmp_path / "g.json")),
            exo_calibration=str(save_device_calibration(exo.calibration, tmp_path / "e.json")),
            glove_cutoff_hz=0.0,
            exo_cutoff_hz=0.0,
        )
        robot = stack.enter_context(FakeRobot(spec, start=np.zeros(spec.num_joints, np.float32)))
        built = build_source("homunculus", robot, options, None, stack)
        trace = Trace()
        report = run_loop(robot, built.source, [trace], duration_s=1.0)
    assert report.watchdog_trips == 0
    sent, t = np.stack(trace.sent), np.array(trace.t)
    hand, arm = JointScaler(GLOVE_TO_HOPEJR_HAND, HAND), JointScaler(EXO_TO_HOPEJR_ARM, ARM)
    want_hand = np.stack([hand(glove.motion(ti - glove.started_s)) for ti in t])
    want_arm = np.stack([arm(exo.motion(ti - exo.started_s)) for ti in t])
    late = t > t[0] + 0.1  # past the robot's max-velocity ramp from its zero start pose
    hand_err = np.abs(sent[late, 7:23] - want_hand[late]) / (spec.upper - spec.lower)[7:23]
    arm_err = np.abs(sent[late, :7] - want_arm[late]) / (spec.upper - spec.lower)[:7]
    # 0.5 Hz sinusoids move <= 1.6 % of a joint's range per 10 ms of latency (a line, a loop period, scheduling):
    # typically within 2 %, always within 6 % (~40 ms late on a loaded machine)
    assert np.median(hand_err) < 0.02 and np.median(arm_err) < 0.02
    assert hand_err.max() < 0.06 and arm_err.max() < 0.06
    assert np.ptp(sent[:, 7:23], axis=0).min() > 0.1  # every hand joint moved
    np.testing.assert_array_equal(sent[:, -1], 0.0)  # the joint no device maps holds


def test_emulator_ports_need_no_calibration_file_and_a_stall_is_held() -> None:
    spec = RobotSpec("fake_hand", HAND, control_hz=400.0)  # faster than the glove's ~140 lines/s
    with contextlib.ExitStack() as stack:
        robot = stack.enter_context(FakeRobot(spec))
        source = build_source("homunculus", robot, _options(glove="emulator"), None, stack).source
        fresh: list[bool] = []

        class Counting:
            def reset(self) -> None:
                source.reset()

            def act(self, obs):
                out = source.act(obs)
                fresh.append(out is not None)
                return out

        report = run_loop(robot, Counting(), duration_s=1.0)  # the emulated glove rests 0.5 s, then moves
    assert 0 < np.ptp(np.stack(robot.sent), axis=0).max()
    # ~140 lines/s into a 400 Hz loop (slower on a loaded machine): many cycles have no new line and hold, without
    # tripping the watchdog
    assert 0.1 < np.mean(fresh) < 0.9 and report.watchdog_trips == 0


def test_source_needs_a_device_and_joints_it_maps() -> None:
    arm_only = RobotSpec("fake_arm", ARM)
    with contextlib.ExitStack() as stack, FakeRobot(arm_only) as robot:
        with pytest.raises(ConfigError, match=r"homunculus\.glove=PORT"):
            build_source("homunculus", robot, _options(), None, stack)
        with pytest.raises(ConfigError, match=r"homunculus.glove: .* use it with hopejr_hand"):
            build_source("homunculus", robot, _options(glove="emulator"), None, stack)


def test_missing_calibration_file_names_the_command_that_records_it(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TWINARM_HOME", str(tmp_path))
    spec = RobotSpec("fake_hand", HAND)
    with contextlib.ExitStack() as stack, FakeRobot(spec) as robot, DeviceEmulator(DeviceEmulatorConfig()) as emu:
        with pytest.raises(Exception, match=r"homunculus_glove_right_default.json does not exist.*calibrate-device"):
            build_source("homunculus", robot, _options(glove=emu.port), None, stack)
