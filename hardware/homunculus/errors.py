"""Errors of the Homunculus glove / exoskeleton stream. Every one names the port (or the file) and, for a bad
line, the line itself, so a user can tell a loose sensor cable from a wrong baud rate from the wrong device."""

from __future__ import annotations

from twinarm.hardware.errors import BusError, ProtocolError
from twinarm.robot.errors import TwinarmError


class LineFormatError(ProtocolError):
    """Bytes that are not one line of the device's stream (no port involved: raised by the codec)."""


class GarbledLineError(BusError):
    """Lines from the port kept failing to parse (``max_bad_lines`` in a row); ``line`` is the last bad one."""

    def __init__(self, message: str, *, port: str, line: bytes) -> None:
        super().__init__(f"{message}; last bad line: {line!r}", port=port)
        self.line = line


class StreamTimeoutError(BusError):
    """No valid line arrived within the timeout (device unplugged, wrong port, or a board not streaming)."""


class DeviceCalibrationError(TwinarmError, ValueError):
    """A Homunculus calibration (file or recording) is unusable; the message names the file or sensor at fault."""
