"""End to end on the HopeJR models: a recorded glove (exoskeleton) stream replayed by the device emulator on a pty
-> ``source=homunculus`` -> the HopeJR hand (arm) in simulation, whose joints follow the replayed motion; and
``twinarm teleop source=homunculus`` on the same path."""

from __future__ import annotations

import contextlib
import json
import math

import numpy as np
import pytest

from twinarm.cli import cmd_teleop
from twinarm.compose.backends import RobotConfig, open_robot
from twinarm.compose.homunculus import HomunculusSettings
from twinarm.compose.sources import PolicyRef, SourceOptions, TeleopSettings, build_source, leader_default
from twinarm.hardware.homunculus.calibration_file import save_device_calibration
from twinarm.hardware.homunculus.emulator import DeviceEmulator, DeviceEmulatorConfig
from twinarm.hardware.homunculus.joint_map import MAPS, JointScaler
from twinarm.hardware.homunculus.motion import SineMotion
from twinarm.hardware.homunculus.stream import DEVICES, format_line, line_time_s
from twinarm.robot.loop import run_loop
from twinarm.robot.spec import JOINT_POS


class OneWay:
    """Each sensor from rest to half its positive range and back, ``i`` phase-shifted: an arm motion clear of the
    body and the table (below rest the simulated arm's shoulder meets them)."""

    def __init__(self, n: int, frequency_hz: float) -> None:
        self.omega, self.phase = 2 * math.pi * frequency_hz, np.arange(n) * 2 * math.pi / n

    def __call__(self, t_s: float) -> np.ndarray:
        return 0.25 * (1 - np.cos(self.omega * t_s + self.phase))


def _recording(tmp_path, device: str, motion, seconds: float):
    """A capture file of ``motion`` (what ``HallDevice(capture=...)`` writes), the emulated device's calibration
    file, and the signed positions of the line the replaying emulator sends ``t`` [s] after its start."""
    spec = DEVICES[device]
    maker = DeviceEmulator(DeviceEmulatorConfig(device), motion)  # never started: only its line maker
    lines, starts, t = [], [], 0.0
    while t < seconds:
        lines.append(format_line(spec, maker.fields_at(t)))
        starts.append(t)
        t += max(spec.scan_period_s, line_time_s(spec, len(lines[-1])))  # the emulator's own pacing
    path = tmp_path / f"{device}.txt"
    path.write_bytes(b"".join(lines))
    cal = save_device_calibration(maker.calibration, tmp_path / f"{device}.json")
    starts_s = np.array(starts)

    def sent_at(t_s: float) -> np.ndarray:
        return motion(starts_s[max(int(np.searchsorted(starts_s, t_s, side="right")) - 1, 0)])

    return path, cal, sent_at


class Trace:
    def __init__(self) -> None:
        self.t: list[float] = []
        self.sent: list[np.ndarray] = []
        self.measured: list[np.ndarray] = []

    def on_step(self, obs, sent: np.ndarray, t: float) -> None:
        self.t.append(t)
        self.sent.append(sent.copy())
        self.measured.append(np.asarray(obs[JOINT_POS], dtype=np.float64))


def _fit(t: np.ndarray, got: np.ndarray, want) -> tuple[float, np.ndarray]:
    """The delay (0..400 ms) at which ``got`` (steps, joints) fits ``want(t - delay)`` best; the errors then."""
    best = None
    for lag in np.arange(0.0, 0.4, 0.01):
        err = np.abs(got - np.stack([want(ti - lag) for ti in t]))
        if best is None or err.mean() < best[1].mean():
            best = (float(lag), err)
    assert best is not None
    return best


@pytest.mark.parametrize(
    ("device", "model", "motion"),
    [
        ("homunculus_glove", "hopejr_hand", SineMotion(DEVICES["homunculus_glove"], 0.5, hold_s=0.0, ramp_s=0.0)),
        ("homunculus_exo", "hopejr_arm", OneWay(len(DEVICES["homunculus_exo"].sensors), 0.25)),
    ],
)
def test_replayed_stream_drives_the_simulated_hopejr(tmp_path, device: str, model: str, motion) -> None:
    path, cal, sent_at = _recording(tmp_path, device, motion, 8.0)
    key = device.removeprefix("homunculus_")
    with contextlib.ExitStack() as stack:
        robot = stack.enter_context(open_robot(RobotConfig(model=model, cameras=[])))
        emu = stack.enter_context(DeviceEmulator(DeviceEmulatorConfig(device, replay=str(path))))
        settings = HomunculusSettings(**{key: emu.port, f"{key}_calibration": str(cal), f"{key}_cutoff_hz": 0.0})
        options = SourceOptions(leader_default(), TeleopSettings(), PolicyRef(), homunculus=settings)
        built = build_source("homunculus", robot, options, None, stack)
        trace = Trace()
        report = run_loop(robot, built.source, [trace], duration_s=3.0)
        spec = robot.spec
    scaler = JointScaler(MAPS[device], spec.joints)
    assert scaler.joint_names == spec.joint_names  # the map covers every joint of the model
    t = np.array(trace.t) - emu.started_s
    late = t > t[0] + 0.5  # past the first moves from the start pose (max_step per cycle)
    span = spec.upper - spec.lower

    def want(ts: float) -> np.ndarray:
        return scaler(sent_at(ts))

    lag_sent, err_sent = _fit(t[late], np.stack(trace.sent)[late], want)
    lag_meas, err_meas = _fit(t[late], np.stack(trace.measured)[late], want)
    assert report.watchdog_trips == 0
    # targets: the replayed line of that moment (a line is 7..9 ms, a loop period 33 ms)
    assert lag_sent <= 0.05 and np.median(err_sent / span, axis=0).max() < 0.02
    # the simulated joints: the same motion, later by the servos' tracking lag, within 5 % of each joint's range
    assert lag_meas <= 0.3 and np.median(err_meas / span, axis=0).max() < 0.05
    moved = np.ptp(np.stack([want(ti) for ti in t[late]]), axis=0) / span
    assert moved.min() > 0.1  # every joint was driven through a tenth of its range or more


def test_teleop_command_drives_the_simulated_arm_from_an_emulated_exoskeleton(tmp_path) -> None:
    cfg = cmd_teleop.Config(
        source="homunculus",
        robot=RobotConfig(model="hopejr_arm", cameras=[]),
        homunculus=HomunculusSettings(exo="emulator"),
        keys="none",
        duration_s=2.0,
        output_dir=str(tmp_path),
    )
    cmd_teleop.run(cfg)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["source"] == "homunculus" and report["homunculus"] == {"homunculus_exo": "emulator"}
    assert report["loop"]["steps"] >= 50 and report["loop"]["watchdog_trips"] == 0
    final = np.array(list(report["tracking"]["final_target_rad"].values()))
    assert np.abs(final).max() > 0.1  # the emulated exo (rest for 0.5 s, then sinusoids) moved the arm


@pytest.mark.parametrize("port", [None, "emulator"])  # the MuJoCo hand; the hand's SCS0009 bus emulated (tendons)
def test_teleop_command_drives_the_hand_from_an_emulated_glove(tmp_path, port: str | None) -> None:
    cfg = cmd_teleop.Config(
        source="homunculus",
        robot=RobotConfig(model="hopejr_hand", port=port, cameras=[]),
        homunculus=HomunculusSettings(glove="emulator"),
        keys="none",
        duration_s=2.0,
        output_dir=str(tmp_path),
    )
    cmd_teleop.run(cfg)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["source"] == "homunculus" and report["homunculus"] == {"homunculus_glove": "emulator"}
    assert report["loop"]["steps"] >= 50 and report["loop"]["watchdog_trips"] == 0
    final = np.array(list(report["tracking"]["final_measured_rad"].values()))
    assert np.abs(final).max() > 0.1  # the emulated glove (rest for 0.5 s, then sinusoids) moved the hand
    assert max(report["tracking"]["rms_rad"].values()) < 0.15  # and the hand kept up with the targets [rad]


def test_glove_and_exo_drive_the_combined_hopejr_together(tmp_path) -> None:
    cfg = cmd_teleop.Config(
        source="homunculus",
        robot=RobotConfig(model="hopejr", cameras=[]),
        homunculus=HomunculusSettings(glove="emulator", exo="emulator"),
        keys="none",
        duration_s=2.0,
        output_dir=str(tmp_path),
    )
    cmd_teleop.run(cfg)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["homunculus"] == {"homunculus_glove": "emulator", "homunculus_exo": "emulator"}
    assert report["loop"]["watchdog_trips"] == 0
    final = report["tracking"]["final_measured_rad"]
    arm = [final[j] for j in MAPS["homunculus_exo"].joint_names]
    hand = [final[j] for j in MAPS["homunculus_glove"].joint_names]
    assert max(map(abs, arm)) > 0.1 and max(map(abs, hand)) > 0.1  # each device moved its part
