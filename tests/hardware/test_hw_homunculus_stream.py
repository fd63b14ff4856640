"""The Homunculus driver against its pty emulator (and raw ptys): pacing, following, bad lines, silence, capture."""

from __future__ import annotations

import math
import os
import time
import tty

import numpy as np
import pytest

from twinarm.hardware.homunculus.device import HallDevice
from twinarm.hardware.homunculus.emulator import DeviceEmulator, DeviceEmulatorConfig
from twinarm.hardware.homunculus.errors import GarbledLineError, LineFormatError, StreamTimeoutError
from twinarm.hardware.homunculus.motion import nominal_calibration
from twinarm.hardware.homunculus.stream import EXO, GLOVE, format_line, line_time_s


@pytest.mark.parametrize(("device", "spec"), [("homunculus_glove", GLOVE), ("homunculus_exo", EXO)])
def test_driver_follows_the_emulated_motion_at_the_wire_rate(device: str, spec) -> None:
    cfg = DeviceEmulatorConfig(device, frequency_hz=1.0)
    with DeviceEmulator(cfg) as emu, HallDevice(spec, emu.port, emu.calibration, cutoff_hz=0.0) as dev:
        errors = []
        seq = 0
        end = time.monotonic() + 0.6
        while time.monotonic() < end:
            frame = dev.wait_frame(seq)
            seq = frame.seq
            signed, _ = dev.positions()
            errors.append(np.abs(signed - emu.motion(frame.t - emu.started_s)).max())
        rate = dev.stats.rate_hz
    # every sensor within 4 % of its range of the motion it was sent (1 Hz: 2 pi x 1 % per 1.6 ms of latency)
    assert np.percentile(errors, 90) < 0.04
    wire_hz = 1 / line_time_s(spec, len(format_line(spec, emu.fields_at(0.0))))
    assert 0.8 * wire_hz < rate < 1.1 * wire_hz  # paced by 115200 baud, not the board's 3 ms scan


def _pty():
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


def test_garbage_raises_naming_the_port_and_the_line_after_skipping_a_few() -> None:
    master, slave, path = _pty()
    try:
        with HallDevice(GLOVE, path, nominal_calibration(GLOVE), max_bad_lines=5) as dev:
            good = format_line(GLOVE, np.full(16, 1600))
            os.write(master, b"0 1600 \r\n" + good + b"12 #4 55\r\n" + good)  # partial first line, one garbled
            assert dev.wait_frame(1).seq == 2 and dev.stats.bad_lines == 2
            os.write(master, b"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21\r\n" * 5)  # the exo's lines
            with pytest.raises(GarbledLineError) as info:
                dev.wait_frame(2, timeout_s=2.0)
        msg = str(info.value)
        assert msg.startswith(path) and "21 fields" in msg and "b'1 2 3 4 5" in msg and "wrong port" in msg
    finally:
        os.close(master)
        os.close(slave)


def test_silence_raises_a_timeout_naming_the_port() -> None:
    master, slave, path = _pty()
    try:
        with HallDevice(GLOVE, path, timeout_s=0.2) as dev, pytest.raises(StreamTimeoutError, match="plugged in"):
            dev.wait_frame(0)
    finally:
        os.close(master)
        os.close(slave)


def test_low_pass_has_its_stated_time_constant() -> None:
    """One-pole at f_c: after a step, 1 - exp(-1) of it is reached after tau = 1 / (2 pi f_c)."""
    master, slave, path = _pty()
    cal = nominal_calibration(GLOVE)
    rest = np.array([c.rest for c in cal.sensors])
    try:
        with HallDevice(GLOVE, path, cal, cutoff_hz=5.0) as dev:
            os.write(master, format_line(GLOVE, rest))
            dev.wait_frame(0)
            step = rest + 300  # 300 counts = half of a one-sided sensor's 600-count range
            tau = 1 / (2 * math.pi * 5.0)
            t0 = time.monotonic()
            seq = 1
            while time.monotonic() - t0 < tau:
                os.write(master, format_line(GLOVE, step))
                seq = dev.wait_frame(seq).seq
                time.sleep(0.002)
            signed, frame = dev.positions()
            elapsed = frame.t - t0
        want = 0.5 * (1 - math.exp(-elapsed / tau))
        assert signed[0] == pytest.approx(want, abs=0.06)
        assert 0.2 < signed[0] < 0.45  # filtered: neither the raw step (0.5) nor stuck at rest
    finally:
        os.close(master)
        os.close(slave)


def test_capture_replays_byte_for_byte(tmp_path) -> None:
    capture = tmp_path / "glove.txt"
    with (
        DeviceEmulator(DeviceEmulatorConfig(noise_counts=3.0)) as emu,
        HallDevice(GLOVE, emu.port, capture=capture) as dev,
    ):
        dev.wait_frame(20)
    lines = capture.read_bytes().splitlines(keepends=True)
    assert len(lines) >= 20 and all(line.endswith(b" \r\n") for line in lines)
    replay = DeviceEmulatorConfig(replay=str(capture), wire_timing=False)
    with DeviceEmulator(replay) as emu:
        fd = os.open(emu.port, os.O_RDONLY | os.O_NOCTTY)
        try:
            got = b""
            while got.count(b"\n") < len(lines):
                got += os.read(fd, 4096)
        finally:
            os.close(fd)
    assert got.splitlines(keepends=True)[: len(lines)] == lines


def test_a_replay_file_of_another_device_is_refused_with_its_line_number(tmp_path) -> None:
    path = tmp_path / "exo.txt"
    path.write_bytes(format_line(EXO, np.zeros(21, int)) * 2)
    with pytest.raises(LineFormatError, match=r"exo.txt, line 1: homunculus_glove: 21 fields"):
        DeviceEmulator(DeviceEmulatorConfig(replay=str(path)))


def test_emulate_command_serves_the_exo_and_its_calibration_until_sigterm(tmp_path) -> None:
    import signal
    import subprocess
    import sys

    from twinarm.hardware.homunculus.calibration_file import load_device_calibration

    link = tmp_path / "exo"
    cmd = [sys.executable, "-m", "twinarm.cli.main", "emulate", "device=homunculus_exo", f"link={link}"]
    cmd += [f"output_dir={tmp_path}", "stream.garble_prob=0.2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving"):
                break
        assert f"port: {link}" in "".join(lines), lines
        cal = load_device_calibration(tmp_path / "homunculus_exo_calibration.json", device="homunculus_exo")
        with HallDevice(EXO, str(link), cal) as dev:
            dev.wait_frame(100, timeout_s=5.0)
            assert dev.stats.bad_lines > 0  # garbled lines were skipped, not fatal
            signed, _ = dev.positions()
        assert np.all(np.abs(signed) <= 1.0)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "lines/s" in out and "garbled" in out
    assert not link.exists()


def test_an_unplugged_device_raises_port_lost_naming_the_port() -> None:
    from twinarm.hardware.errors import PortLostError

    emu = DeviceEmulator(DeviceEmulatorConfig()).start()
    with HallDevice(GLOVE, emu.port) as dev:
        port = emu.port
        dev.wait_frame(2)
        emu.stop()  # the pty goes away like a USB device pulled out
        with pytest.raises(PortLostError, match=f"^{port}: homunculus_glove stream stopped"):
            dev.wait_frame(10**6, timeout_s=2.0)
