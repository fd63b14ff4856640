"""A Homunculus glove or exoskeleton on a pty: the firmware's exact lines at its pace, from a synthetic motion or a
captured stream.

``with DeviceEmulator(DeviceEmulatorConfig("homunculus_glove")) as emu: HallDevice(GLOVE, emu.port)`` -- the pty
is a real tty (``link`` makes a symlink), so ``twinarm teleop`` or a serial terminal can open it like
``/dev/ttyACM0``. Pacing: one line every ``max(scan period, line bytes x 10 / baud)`` (``wire_timing``; the board's
scan period alone without it). ``replay``: a file of captured lines (``HallDevice(capture=...)``) sent verbatim, in
a loop. ``garble_prob``: a line is sent with one byte replaced by a non-digit (checks the driver's bad-line path).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import threading
import time
import tty
from pathlib import Path

import numpy as np

from twinarm.hardware.homunculus.calibration import DeviceCalibration
from twinarm.hardware.homunculus.errors import LineFormatError
from twinarm.hardware.homunculus.motion import Motion, SineMotion, nominal_calibration, readings
from twinarm.hardware.homunculus.stream import (
    ADC_MAX,
    DEVICES,
    DeviceSpec,
    angle_field,
    format_line,
    line_time_s,
    pair_for_angle,
    parse_line,
)
from twinarm.robot.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class DeviceEmulatorConfig:
    device: str = "homunculus_glove"  # homunculus_glove | homunculus_exo
    side: str = "right"
    link: str | None = None  # symlink to the pty
    replay: str = ""  # a file of captured lines to send instead of the synthetic motion
    frequency_hz: float = 0.25  # synthetic sinusoids [Hz]
    noise_counts: float = 0.0  # std of Gaussian noise on every ADC reading [counts]
    garble_prob: float = 0.0  # probability a line is corrupted
    wire_timing: bool = True  # pace lines at the baud rate (else at the board's scan period)
    seed: int = 0

    def validate(self) -> DeviceSpec:
        if self.device not in DEVICES:
            raise ConfigError(f"device={self.device!r} is unknown; valid: {', '.join(DEVICES)}")
        if not 0.0 <= self.garble_prob <= 1.0:
            raise ConfigError(f"garble_prob={self.garble_prob} must be in [0, 1]")
        if self.noise_counts < 0 or self.frequency_hz < 0:
            raise ConfigError("noise_counts and frequency_hz must be >= 0")
        return DEVICES[self.device]


def load_replay(spec: DeviceSpec, path: str | Path) -> list[bytes]:
    """The lines of a capture file (terminators kept); LineFormatError names the file and the line number."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"replay file {path} does not exist (capture one with HallDevice(capture=...))")
    lines = path.read_bytes().splitlines(keepends=True)
    for i, line in enumerate(lines, 1):
        try:
            parse_line(spec, line)
        except LineFormatError as exc:
            raise LineFormatError(f"replay file {path}, line {i}: {exc}") from None
    if not lines:
        raise ConfigError(f"replay file {path} has no lines")
    return lines


class DeviceEmulator:
    """Stream ``config``'s device on a pty from a thread until :meth:`stop`; ``calibration`` is the emulated
    sensors' nominal calibration (what ``twinarm teleop`` uses on it), ``started_s`` the stream's time zero
    (time.monotonic) of ``motion``."""

    def __init__(self, config: DeviceEmulatorConfig, motion: Motion | None = None) -> None:
        self.spec = config.validate()
        self.config = config
        self.calibration: DeviceCalibration = nominal_calibration(self.spec, config.side)
        self.motion: Motion = motion or SineMotion(self.spec, config.frequency_hz)
        self.replay = load_replay(self.spec, config.replay) if config.replay else None
        self._rng = np.random.default_rng(config.seed)
        self._garble = random.Random(config.seed)
        self.lines = self.dropped = self.garbled = 0
        self.started_s = 0.0
        self._master = self._slave = -1
        self._tty = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> str:
        if not self._tty:
            raise ConfigError("device emulator not started: use `with DeviceEmulator(cfg) as emu:`")
        return self.config.link or self._tty

    def start(self) -> DeviceEmulator:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self._tty = os.ttyname(self._slave)
        link = self.config.link
        if link:
            if os.path.lexists(link):
                if not os.path.islink(link):
                    self._close_fds()
                    raise ConfigError(f"emulator link={link!r} exists and is not a symlink; choose another path")
                os.unlink(link)
            os.symlink(self._tty, link)
        self.started_s = time.monotonic()
        self._thread = threading.Thread(target=self._serve, name=f"{self.spec.name}-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        link = self.config.link
        if link and os.path.islink(link) and os.readlink(link) == self._tty:
            os.unlink(link)
        self._close_fds()

    def _close_fds(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def __enter__(self) -> DeviceEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the stream --------------------------------------------------------------------------------------------
    def fields_at(self, t_s: float) -> np.ndarray:
        """The (fields,) values of the line the synthetic device prints at ``t_s`` [s] after start."""
        spec = self.spec
        values = readings(spec, self.calibration, self.motion(t_s))
        raw = np.full(spec.raw_fields, ADC_MAX // 2, dtype=np.float64)
        angles = np.zeros(len(spec.angle_pairs), dtype=np.int64)
        wanted = {}
        for s, v in zip(spec.sensors, values):
            if s.field < spec.raw_fields:
                raw[s.field] = v
            else:
                wanted[s.field - spec.raw_fields] = v
        for k, (i_sin, i_cos) in enumerate(spec.angle_pairs):
            raw[i_sin], raw[i_cos] = pair_for_angle(spec, k, wanted.get(k, 0.0))
        if self.config.noise_counts > 0:
            raw = raw + self._rng.normal(0.0, self.config.noise_counts, raw.shape)
        raw = np.clip(np.rint(raw), 0, ADC_MAX).astype(np.int64)
        for k, (i_sin, i_cos) in enumerate(spec.angle_pairs):  # the firmware's own angle of the pair it read
            angles[k] = angle_field(spec, k, int(raw[i_sin]), int(raw[i_cos]))
        return np.concatenate([raw, angles])

    def _next_line(self, t_s: float) -> bytes:
        if self.replay is not None:
            return self.replay[self.lines % len(self.replay)]
        return format_line(self.spec, self.fields_at(t_s))

    def _serve(self) -> None:
        deadline = self.started_s
        while not self._stop.is_set():
            now = time.monotonic()
            line = self._next_line(now - self.started_s)
            if self.config.garble_prob and self._garble.random() < self.config.garble_prob:
                i = self._garble.randrange(len(line) - 2)
                line = line[:i] + b"#" + line[i + 1 :]
                self.garbled += 1
            try:
                os.write(self._master, line)
            except (BlockingIOError, OSError):
                self.dropped += 1  # nobody reading and the pty buffer full: a USB device drops it too
            self.lines += 1
            period = self.spec.scan_period_s
            if self.config.wire_timing:
                period = max(period, line_time_s(self.spec, len(line)))
            # The device's clock never stalls: lines due while this thread was starved (the GIL held by a simulator
            # loading) go out in a burst, as a real device's would sit in the host's buffer; over 1 s behind, resync.
            deadline += period
            if now - deadline > 1.0:
                deadline = now
            self._stop.wait(max(0.0, deadline - time.monotonic()))
