"""A serial port that vanishes mid-run (USB unplug; the emulator's pty closed under us): one typed error naming the
port, within a short time; a torque release that fails on the way out is a note on that error, never its
replacement."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.robot.scripted_leader import scripted_leader
from twinarm.cli.main import main
from twinarm.hardware.calibration_io import nominal_calibration, write_calibration
from twinarm.hardware.emulator import Emulator, EmulatorConfig
from twinarm.hardware.errors import PortLostError, TorqueReleaseError
from twinarm.hardware.feetech.bus import FeetechBus
from twinarm.hardware.motors import SO101_FOLLOWER
from twinarm.hardware.robots import so101_follower

CAL = nominal_calibration(SO101_FOLLOWER)


def calibrated_emulator() -> Emulator:
    emu = Emulator(EmulatorConfig()).start()
    with FeetechBus(emu.port) as bus:
        write_calibration(bus, CAL)
    return emu


def test_port_lost_mid_loop_keeps_the_cause_and_notes_the_failed_release() -> None:
    emu = calibrated_emulator()
    robot = so101_follower(emu.port, CAL)
    t0 = 0.0
    with pytest.raises(PortLostError) as info:
        with robot:
            for k in range(100):
                robot.send_action(robot.last_target)
                robot.get_observation()
                if k == 5:
                    emu.stop()
                    t0 = time.monotonic()
    assert time.monotonic() - t0 < 2.0
    assert str(info.value).startswith(f"{emu.port}: ") and "is the adapter still connected?" in str(info.value)
    notes = getattr(info.value, "__notes__", [])
    assert len(notes) == 1 and "could not turn torque off on servo id(s) [1, 2, 3, 4, 5, 6]" in notes[0], notes
    assert not robot.is_connected and not robot.bus.is_open


def test_port_lost_before_a_plain_disconnect_raises_the_release_failure() -> None:
    emu = calibrated_emulator()
    robot = so101_follower(emu.port, CAL)
    robot.connect()
    emu.stop()
    with pytest.raises(TorqueReleaseError, match=rf"^{emu.port}: could not turn torque off .*still connected"):
        robot.disconnect()
    assert not robot.is_connected and not robot.bus.is_open


def test_teleop_exits_with_one_error_line_when_the_leader_vanishes(tmp_path: Path, capsys) -> None:
    with scripted_leader(tmp_path) as leader:
        threading.Timer(2.5, leader.emulator.stop).start()  # unplugged while teleop runs (after its ~1 s start)
        t0 = time.monotonic()
        code = main(
            [
                "teleop",
                f"output_dir={tmp_path / 'out'}",
                "source=leader",
                "robot.port=emulator",
                f"leader.port={leader.port}",
                f"leader.calibration={leader.calibration_file}",
                "keys=none",
                "duration_s=20",
            ]
        )
        elapsed = time.monotonic() - t0
    err = capsys.readouterr().err
    assert code == 1 and elapsed < 10.0, (code, elapsed, err)
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"twinarm teleop: error: {leader.port}: "), err
    assert "is the adapter still connected?" in lines[0] and "Traceback" not in err
    assert all(line.startswith("twinarm teleop: note: ") for line in lines[1:]), err
