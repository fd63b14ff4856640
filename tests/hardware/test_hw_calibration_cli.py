"""`twinarm calibrate` on the emulator with a scripted operator; `twinarm find-port` with a fake port lister."""

from __future__ import annotations

import builtins
import json
import time
from pathlib import Path

import numpy as np
import pytest

from twinarm.cli import cmd_calibrate, cmd_find_port
from twinarm.cli.main import main
from twinarm.hardware.calibration import Calibration
from twinarm.hardware.calibration_file import load_calibration, save_calibration
from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator.config import EmulatorConfig
from twinarm.hardware.emulator.server import Emulator
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.feetech.tables import STS3215
from twinarm.hardware.motors import SO101_FOLLOWER
from twinarm.hardware.robots import so101_follower
from twinarm.robot.check import check_robot
from twinarm.robot.models import SO101

TICKS_PER_RAD = 4096 / (2 * np.pi)
#: Present ticks (after homing) each joint is swept to: a little beyond the spec limits, like a real arm.
SWEEP = [(2048 + int(j.lower * TICKS_PER_RAD) - 20, 2048 + int(j.upper * TICKS_PER_RAD) + 20) for j in SO101.joints]


class Operator:
    """Answers prompts like a person: holds the zero pose, sweeps the joints, then picks ``choices`` in order."""

    def __init__(self, emu: Emulator, choices: list[str] = ()) -> None:
        self.emu = emu
        self.start = {s.id: s.actual for s in emu.servos}  # shaft ticks of the zero pose
        self.choices = list(choices)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if "[" in prompt:
            return self.choices.pop(0)
        if prompt == "":  # the sweep: move each joint smoothly to one stop, the other, and back to the zero pose
            for servo_id, (lo, hi) in enumerate(SWEEP, start=1):
                path = np.concatenate([np.linspace(2048, lo, 4), np.linspace(lo, hi, 8), np.linspace(hi, 2048, 4)])
                for present in path.round():
                    self.emu.set_position(servo_id, self.start[servo_id] + present - 2048)
                    self.wait_for_samples(2)
        return ""

    def wait_for_samples(self, n: int, timeout_s: float = 2.0) -> None:
        """Hold the pose until the sampler has read the bus ``n`` more times (deterministic under CPU load)."""
        goal, deadline = self.emu.stats.requests + n, time.monotonic() + timeout_s
        while self.emu.stats.requests < goal and time.monotonic() < deadline:
            time.sleep(0.001)


def cfg_for(emu: Emulator, tmp_path: Path, **kw) -> cmd_calibrate.Config:
    return cmd_calibrate.Config(port=emu.port, path=str(tmp_path / "cal.json"), sweep_hz=1000.0, **kw)


@pytest.fixture
def emu():
    emulator = Emulator(EmulatorConfig()).start()
    yield emulator
    emulator.stop()


def test_calibrate_records_zero_and_ranges_and_the_robot_then_works(emu: Emulator, tmp_path: Path) -> None:
    lines: list[str] = []
    cal = cmd_calibrate.run(cfg_for(emu, tmp_path), ask=Operator(emu), out=lines.append, live=False)
    text = "\n".join(lines)
    assert "Torque is OFF" in text and "zero pose" in text and "wrist_roll" in text
    saved = load_calibration(tmp_path / "cal.json", joints=SO101.joint_names)
    assert saved.motors == cal.motors
    for k, m in enumerate(cal.motors[:5]):
        assert m.zero_tick == 2048  # the zero pose reads half a turn after homing
        assert (m.range_min_tick, m.range_max_tick) == SWEEP[k]
    grip = cal.motors[5]
    ends = cal.ticks.to_rad(np.array([2048, 2048, 2048, 2048, 2048, grip.range_max_tick]))
    assert ends[5] == pytest.approx(SO101.joints[5].upper, abs=1e-4)  # range end -> joint limit
    for s in emu.servos:  # EEPROM now holds the calibration
        m = cal.motors[s.id - 1]
        assert s.get(STS3215.HOMING_OFFSET) == m.homing_offset
        assert (s.get(STS3215.MIN_POSITION_LIMIT), s.get(STS3215.MAX_POSITION_LIMIT)) == SWEEP[s.id - 1]
        assert not s.torque_enabled
    robot = so101_follower(emu.port, tmp_path / "cal.json")
    check_robot(robot, allow_motion=True)
    with robot:
        assert np.abs(robot.get_observation()["joint_pos"][:5]).max() < 0.01  # back at the zero pose


def calibrated(emu: Emulator, tmp_path: Path) -> Calibration:
    """A calibration file and matching servo EEPROM, as a previous `twinarm calibrate` leaves them (but faster)."""
    cal = nominal_calibration(SO101_FOLLOWER, name="default")
    with FeetechBus(emu.port) as bus:
        write_calibration(bus, cal)
    save_calibration(cal, tmp_path / "cal.json")
    return cal


def test_existing_matching_file_can_be_kept(emu: Emulator, tmp_path: Path) -> None:
    first = calibrated(emu, tmp_path)
    op = Operator(emu, ["k"])
    lines: list[str] = []
    kept = cmd_calibrate.run(cfg_for(emu, tmp_path), ask=op, out=lines.append)
    assert kept.motors == first.motors and op.prompts == ["[k]eep it (default) or [r]ecalibrate? "]
    assert any("matches the servos" in line for line in lines)


def test_mismatch_offers_write_file_to_servos(emu: Emulator, tmp_path: Path) -> None:
    cal = calibrated(emu, tmp_path)
    with FeetechBus(emu.port) as bus:
        bus.write_eeprom(3, STS3215.HOMING_OFFSET, 99)
    lines: list[str] = []
    op = Operator(emu, ["x", "w"])  # an invalid answer is asked again
    cmd_calibrate.run(cfg_for(emu, tmp_path), ask=op, out=lines.append)
    assert len(op.prompts) == 2 and "[w]rite" in op.prompts[0]
    assert any("elbow_flex" in line and "homing_offset" in line and "99" in line for line in lines)
    assert emu.servo(3).get(STS3215.HOMING_OFFSET) == cal.motors[2].homing_offset


def test_mismatch_quit_changes_nothing(emu: Emulator, tmp_path: Path) -> None:
    calibrated(emu, tmp_path)
    before = (tmp_path / "cal.json").read_text()
    with FeetechBus(emu.port) as bus:
        bus.write_eeprom(3, STS3215.HOMING_OFFSET, 99)
    cmd_calibrate.run(cfg_for(emu, tmp_path), ask=Operator(emu, ["q"]), out=lambda _: None)
    assert emu.servo(3).get(STS3215.HOMING_OFFSET) == 99
    assert (tmp_path / "cal.json").read_text() == before


def test_bad_drive_signs_are_a_config_error(emu: Emulator, tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"drive_signs=\[1, 2\]"):
        cmd_calibrate.run(cfg_for(emu, tmp_path, drive_signs=[1, 2]), ask=Operator(emu), out=lambda _: None)


def test_console_command_composes_config_and_runs(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(builtins, "input", Operator(emu))
    path = tmp_path / "c.json"
    code = main(["calibrate", f"port={emu.port}", f"path={path}", "sweep_hz=1000", "drive_signs=[1,1,1,1,1,-1]"])
    assert code == 0
    data = json.loads(path.read_text())
    assert data["role"] == "follower" and data["joints"]["gripper"]["drive_sign"] == -1
    assert str(path) in capsys.readouterr().out


def test_find_port_reports_the_port_that_disappeared() -> None:
    listings = iter([["/dev/ttyACM0", "/dev/ttyACM1"], ["/dev/ttyACM0"]])
    lines: list[str] = []
    port = cmd_find_port.run(cmd_find_port.Config(settle_s=0), lambda: next(listings), lambda _: "", lines.append)
    assert port == "/dev/ttyACM1" and "port=/dev/ttyACM1" in lines[-1]


@pytest.mark.parametrize(
    ("before", "after", "match"),
    [([], [], "no serial ports"), (["/dev/a"], ["/dev/a"], "no port disappeared"), (["/a", "/b"], [], "several")],
)
def test_find_port_errors(before: list[str], after: list[str], match: str) -> None:
    listings = iter([before, after])
    with pytest.raises(cmd_find_port.PortNotFoundError, match=match):
        cmd_find_port.run(cmd_find_port.Config(settle_s=0), lambda: next(listings), lambda _: "", lambda _: None)
