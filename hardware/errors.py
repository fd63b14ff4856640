"""Errors of the hardware layer (serial ports, Feetech buses, packet codec).

Every bus failure derives from :class:`BusError` and names the port; errors about one servo also name the
servo id and, where one was involved, the register. Packet-level problems found while decoding bytes (no port
involved) are :class:`ProtocolError` s; the bus turns them into :class:`CorruptPacketError` after its retries.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from twinarm.robot.errors import TwinarmError

if TYPE_CHECKING:  # pragma: no cover
    from twinarm.hardware.registers import Register, RegisterSpan

#: Status error bits of a Feetech status packet (SCS/STS datasheets), by bit value.
STATUS_FLAG_NAMES: dict[int, str] = {
    0x01: "input voltage",
    0x02: "angle sensor",
    0x04: "overheat",
    0x08: "over-current",
    0x20: "overload",
}


def describe_flags(flags: int) -> str:
    """Human-readable names of the set status bits, e.g. ``"overheat, overload"``."""
    names = [name for bit, name in STATUS_FLAG_NAMES.items() if flags & bit]
    unknown = flags & ~sum(STATUS_FLAG_NAMES)
    if unknown:
        names.append(f"unknown bits 0x{unknown:02X}")
    return ", ".join(names) or "none"


def _reg_name(register: Register | RegisterSpan | None) -> str:
    return "-" if register is None else f"{register.name} (addr {register.address})"


class ProtocolError(TwinarmError, ValueError):
    """Bytes that are not a valid Feetech packet (no port involved: raised by the codec)."""


class ChecksumError(ProtocolError):
    """A complete frame whose checksum byte does not match its content."""


class MalformedPacketError(ProtocolError):
    """A frame with an impossible length, id or layout (for example a status packet of the wrong size)."""


class EncodingError(TwinarmError, ValueError):
    """A value cannot be encoded into a register (out of range for its size or sign bit), or a bad servo id."""


class UnknownRegisterError(TwinarmError, KeyError, AttributeError):
    """A control table has no register of that name (a KeyError for ``table[name]``, an AttributeError for
    ``table.NAME``, so ``in`` / ``hasattr`` / ``getattr`` keep working); the message lists the valid names."""

    __str__ = Exception.__str__  # the message itself, not KeyError's quoted repr


class BusError(TwinarmError):
    """A failure talking to servos on one serial bus; ``port`` names the bus."""

    def __init__(self, message: str, *, port: str) -> None:
        super().__init__(f"{port}: {message}")
        self.port = port


class PortError(BusError):
    """The serial port cannot be opened (missing, busy, no permission); the message lists existing ports."""


class PortLostError(BusError):
    """The open serial port failed under us (USB adapter unplugged, emulator killed): nothing more can be sent."""


class TorqueReleaseError(BusError):
    """Torque could not be turned off on the way out (the servos may still hold torque)."""


class BusTimeoutError(BusError):
    """No reply, or a short reply, before the deadline (after the bus retries)."""

    def __init__(
        self, message: str, *, port: str, servo_id: int | None, register: Register | RegisterSpan | None = None
    ) -> None:
        super().__init__(message, port=port)
        self.servo_id = servo_id
        self.register = register


class CorruptPacketError(BusError):
    """Replies kept failing their checksum or layout (after the bus retries)."""

    def __init__(
        self, message: str, *, port: str, servo_id: int | None, register: Register | RegisterSpan | None = None
    ) -> None:
        super().__init__(message, port=port)
        self.servo_id = servo_id
        self.register = register


class ServoStatusError(BusError):
    """A servo answered with error bits set (Feetech: voltage, angle sensor, overheat, over-current, overload;
    Dynamixel: an error number and the hardware alert bit, named by ``description``)."""

    def __init__(
        self,
        *,
        port: str,
        servo_id: int,
        register: Register | RegisterSpan | None,
        flags: int,
        description: str | None = None,
    ) -> None:
        super().__init__(
            f"servo {servo_id} reported status 0x{flags:02X} ({description or describe_flags(flags)}) "
            f"while accessing {_reg_name(register)}",
            port=port,
        )
        self.servo_id = servo_id
        self.register = register
        self.flags = flags


class MissingServoError(BusError):
    """Some expected servos did not answer; ``missing`` and ``answered`` are sorted id lists."""

    def __init__(self, *, port: str, missing: Iterable[int], answered: Iterable[int], detail: str = "") -> None:
        self.missing = sorted(missing)
        self.answered = sorted(answered)
        msg = f"servo id(s) {self.missing} did not answer; ids that answered: {self.answered or 'none'}"
        super().__init__(msg + (f" ({detail})" if detail else ""), port=port)


class ModelMismatchError(BusError):
    """A servo answered with another model number than expected."""

    def __init__(self, *, port: str, servo_id: int, expected: int, found: int) -> None:
        super().__init__(f"servo {servo_id} is model {found}, expected model {expected}", port=port)
        self.servo_id = servo_id
        self.expected = expected
        self.found = found


class TorqueEnabledError(BusError):
    """An EEPROM write was attempted while the servo's torque is on (turn torque off first)."""

    def __init__(self, *, port: str, servo_id: int, register: Register) -> None:
        super().__init__(
            f"servo {servo_id}: cannot write EEPROM register {_reg_name(register)} while Torque_Enable=1; "
            "write Torque_Enable=0 first",
            port=port,
        )
        self.servo_id = servo_id
        self.register = register


class CameraCalibrationError(TwinarmError, ValueError):
    """Camera calibration input is unusable (too few board detections, mismatched poses, a bad image or poses
    file); the message names the file or view at fault and what would be valid."""
