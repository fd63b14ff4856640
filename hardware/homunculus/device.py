"""The Homunculus device driver: a reader thread turns the serial stream into the latest (filtered) sensor frame.

``with HallDevice(GLOVE, "/dev/ttyACM0", calibration=cal) as glove: glove.positions()`` -- the port opens through
:func:`twinarm.hardware.ports.open_port` (a device path, an emulator pty or a pyserial URL take the same path).

Stream handling: a partial first line (the port opened mid-line) and an occasional garbled line are skipped and
counted (``stats``); ``max_bad_lines`` bad lines in a row raise :class:`GarbledLineError` naming the port and the
last bad line; no valid line for ``timeout_s`` raises :class:`StreamTimeoutError`. The reader consumes every
complete line, so the frame is always the newest (no backlog however slowly the caller polls).

Filtering: a one-pole low-pass per sensor, run on every line with the measured line interval ``dt`` (alpha =
1 - exp(-2 pi f_c dt)), on the reading's distance from rest (so angle sensors filter across their wrap). It
needs the calibration; without one (while calibrating) :meth:`raw` gives the unfiltered readings.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
import serial

from twinarm.hardware.errors import PortLostError
from twinarm.hardware.homunculus.calibration import DeviceCalibration, deltas, positions, scale_of, sensor_values
from twinarm.hardware.homunculus.errors import (
    DeviceCalibrationError,
    GarbledLineError,
    LineFormatError,
    StreamTimeoutError,
)
from twinarm.hardware.homunculus.stream import DeviceSpec, parse_line
from twinarm.hardware.ports import open_port

MAX_LINE = 256  # no valid line is longer [bytes]: more without a newline is noise


@dataclasses.dataclass
class StreamStats:
    lines: int = 0  # valid lines
    bad_lines: int = 0  # skipped: garbled, partial or wrong field count
    first_s: float = 0.0  # time.monotonic of the first and last valid line
    last_s: float = 0.0

    @property
    def rate_hz(self) -> float:
        """Measured valid-line rate [Hz]."""
        span = self.last_s - self.first_s
        return (self.lines - 1) / span if self.lines > 1 and span > 0 else 0.0


class Frame(NamedTuple):
    """The newest line: ``seq`` counts valid lines (1 = first), ``t`` its arrival (time.monotonic) [s],
    ``values`` the sensors' readings (n_sensors,), ``fields`` the whole line (fields,)."""

    seq: int
    t: float
    values: np.ndarray
    fields: np.ndarray


class HallDevice:
    """Stream reader of one device. ``cutoff_hz`` [Hz] of the low-pass (0: none); ``capture``: a file every
    valid line is appended to, byte for byte (replay it with the emulator)."""

    def __init__(
        self,
        spec: DeviceSpec,
        port: str,
        calibration: DeviceCalibration | None = None,
        cutoff_hz: float = 10.0,
        timeout_s: float = 1.0,
        max_bad_lines: int = 20,
        capture: str | Path | None = None,
    ) -> None:
        if calibration is not None and calibration.device != spec.name:
            raise DeviceCalibrationError(
                f"{port}: the calibration {calibration.name!r} is for {calibration.device}, not {spec.name}"
            )
        self.spec, self.port_name, self.calibration = spec, port, calibration
        self.cutoff_hz, self.timeout_s, self.max_bad_lines = cutoff_hz, timeout_s, max_bad_lines
        self.capture = Path(capture) if capture else None
        self.stats = StreamStats()
        self._scale = scale_of(calibration) if calibration is not None else None
        self._lock = threading.Lock()
        self._new = threading.Condition(self._lock)
        self._frame: Frame | None = None
        self._filtered: np.ndarray | None = None  # (n,) deltas from rest, low-passed
        self._error: Exception | None = None
        self._stop = threading.Event()
        self._port: serial.Serial | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def open(self) -> HallDevice:
        self._port = open_port(self.port_name, baudrate=self.spec.baudrate, timeout_s=0.05)
        self._thread = threading.Thread(target=self._read_loop, name=f"{self.spec.name}-reader", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._port is not None:
            self._port.close()
            self._port = None

    def __enter__(self) -> HallDevice:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------------------------
    def wait_frame(self, after_seq: int = 0, timeout_s: float | None = None) -> Frame:
        """The newest frame with ``seq > after_seq``, waiting up to ``timeout_s`` (default the device's)."""
        timeout = self.timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        with self._new:
            while self._error is None and (self._frame is None or self._frame.seq <= after_seq):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StreamTimeoutError(
                        f"no valid {self.spec.name} line for {timeout:g} s ({self.stats.lines} valid, "
                        f"{self.stats.bad_lines} bad so far); is the device plugged in and streaming?",
                        port=self.port_name,
                    )
                self._new.wait(left)
            if self._error is not None:
                raise self._error
            assert self._frame is not None
            return self._frame

    def raw(self) -> Frame:
        """The newest frame, unfiltered (waits for the first)."""
        return self.wait_frame(0)

    def positions(self) -> tuple[np.ndarray, Frame]:
        """(n,) filtered signed positions in [-1, 1] (see ``calibration``) and the frame they include."""
        frame = self.wait_frame(0)
        if self._scale is None:
            raise DeviceCalibrationError(
                f"{self.spec.name} on {self.port_name}: positions need a calibration (twinarm calibrate-device)"
            )
        with self._lock:
            d = self._filtered.copy() if self._filtered is not None else None
        assert d is not None
        return positions(self._scale, d), frame

    # -- reader thread -----------------------------------------------------------------------------------------
    def _read_loop(self) -> None:
        buf = bytearray()
        bad_run = 0
        sink: BinaryIO | None = self.capture.open("ab") if self.capture else None
        first = True  # the first chunk may start mid-line: a bad first line is expected, not counted as a run
        try:
            while not self._stop.is_set():
                try:
                    assert self._port is not None
                    chunk = self._port.read(max(1, self._port.in_waiting))
                except (serial.SerialException, OSError) as exc:
                    raise PortLostError(f"{self.spec.name} stream stopped ({exc})", port=self.port_name) from exc
                now = time.monotonic()
                if not chunk:
                    continue
                buf += chunk
                *lines, rest = bytes(buf).split(b"\n")
                buf = bytearray(rest if len(rest) <= MAX_LINE else b"")
                good = []
                for line in lines:
                    try:
                        good.append(parse_line(self.spec, line))
                    except LineFormatError as exc:
                        self.stats.bad_lines += 1
                        bad_run += 0 if first else 1
                        first = False
                        if bad_run >= self.max_bad_lines:
                            raise GarbledLineError(
                                f"{bad_run} bad {self.spec.name} lines in a row ({exc}); wrong port or baud rate?",
                                port=self.port_name,
                                line=line,
                            ) from exc
                        continue
                    first, bad_run = False, 0
                    if sink is not None:
                        sink.write(line + b"\n")
                # lines that came in one read share its time: spread them over the interval since the last
                last = self.stats.last_s or now
                for i, fields in enumerate(good):
                    self._accept(fields, last + (now - last) * (i + 1) / len(good))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through wait_frame
            with self._new:
                self._error = exc
                self._new.notify_all()
        finally:
            if sink is not None:
                sink.close()

    def _accept(self, fields: np.ndarray, now: float) -> None:
        values = sensor_values(self.spec, fields)
        with self._new:
            if self.calibration is not None:
                d = deltas(self.spec, self.calibration, values)
                if self._filtered is None or self.cutoff_hz <= 0:
                    self._filtered = d
                else:
                    dt = max(now - self.stats.last_s, 0.0)
                    alpha = 1.0 - math.exp(-2.0 * math.pi * self.cutoff_hz * dt)
                    self._filtered = self._filtered + alpha * (d - self._filtered)
            st = self.stats
            st.lines += 1
            st.first_s = st.first_s or now
            st.last_s = now
            self._frame = Frame(st.lines, now, values, fields)
            self._new.notify_all()
