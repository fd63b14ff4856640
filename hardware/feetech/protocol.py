"""Feetech SCS/STS packet codec (protocol "1.0", see shared/reference/servos.md).

Instruction: ``FF FF | ID | LEN | INST | P1..Pn | CHK``; status: ``FF FF | ID | LEN | ERR | P1..Pn | CHK``;
``LEN = n + 2``, ``CHK = ~(ID + LEN + INST/ERR + sum(P)) & 0xFF``. Both directions share the framing, so one
:class:`Packet` type and one :class:`PacketDecoder` serve the bus (status packets) and the emulator
(instruction packets). Byte order only matters for register values (see ``registers.Register.encode``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import NamedTuple

from twinarm.hardware.errors import ChecksumError, EncodingError, MalformedPacketError
from twinarm.hardware.packet_stream import PacketStream

HEADER = b"\xff\xff"
BROADCAST_ID = 0xFE
MAX_ID = 0xFD  # highest addressable servo id
MIN_LENGTH = 2  # LEN of a packet without parameters
STATUS_OVERHEAD = 6  # bytes of a status packet besides its parameters


class Instruction(IntEnum):
    PING = 0x01
    READ = 0x02
    WRITE = 0x03
    REG_WRITE = 0x04
    ACTION = 0x05
    SYNC_READ = 0x82
    SYNC_WRITE = 0x83


class Packet(NamedTuple):
    """A decoded frame; ``code`` is the instruction (instruction packets) or the error byte (status packets)."""

    servo_id: int
    code: int
    params: bytes


def checksum(body: bytes | bytearray | memoryview) -> int:
    """Checksum of ``ID LEN INST/ERR P...`` (the frame without header and checksum)."""
    return ~sum(body) & 0xFF


def _check_id(servo_id: int, broadcast_ok: bool = True) -> None:
    if not (0 <= servo_id <= MAX_ID or (broadcast_ok and servo_id == BROADCAST_ID)):
        valid = f"0..{MAX_ID}" + (f" or {BROADCAST_ID} (broadcast)" if broadcast_ok else "")
        raise EncodingError(f"servo id {servo_id} invalid; valid: {valid}")


def encode_packet(servo_id: int, code: int, params: bytes | Sequence[int] = b"") -> bytes:
    """One complete frame (header, length, checksum added)."""
    _check_id(servo_id)
    params = bytes(params)
    if len(params) > 253:
        raise EncodingError(f"packet for servo {servo_id}: {len(params)} parameter bytes, at most 253 fit")
    body = bytes((servo_id, len(params) + 2, code)) + params
    return HEADER + body + bytes((checksum(body),))


def ping_packet(servo_id: int) -> bytes:
    return encode_packet(servo_id, Instruction.PING)


def read_packet(servo_id: int, address: int, size: int) -> bytes:
    return encode_packet(servo_id, Instruction.READ, (address, size))


def write_packet(servo_id: int, address: int, data: bytes) -> bytes:
    return encode_packet(servo_id, Instruction.WRITE, bytes((address,)) + data)


def reg_write_packet(servo_id: int, address: int, data: bytes) -> bytes:
    return encode_packet(servo_id, Instruction.REG_WRITE, bytes((address,)) + data)


def action_packet(servo_id: int = BROADCAST_ID) -> bytes:
    return encode_packet(servo_id, Instruction.ACTION)


def sync_read_packet(address: int, size: int, ids: Iterable[int]) -> bytes:
    ids = bytes(ids)
    for i in ids:
        _check_id(i, broadcast_ok=False)
    return encode_packet(BROADCAST_ID, Instruction.SYNC_READ, bytes((address, size)) + ids)


def sync_write_packet(address: int, size: int, items: Iterable[tuple[int, bytes]]) -> bytes:
    """SYNC_WRITE of ``size`` bytes at ``address`` for each ``(servo_id, data)``."""
    params = bytearray((address, size))
    for servo_id, data in items:
        _check_id(servo_id, broadcast_ok=False)
        if len(data) != size:
            raise EncodingError(f"sync write: servo {servo_id} data has {len(data)} bytes, expected {size}")
        params.append(servo_id)
        params += data
    return encode_packet(BROADCAST_ID, Instruction.SYNC_WRITE, params)


def status_packet(servo_id: int, error: int = 0, params: bytes = b"") -> bytes:
    return encode_packet(servo_id, error, params)


def decode_packet(frame: bytes | bytearray | memoryview) -> Packet:
    """Decode exactly one complete frame; ChecksumError / MalformedPacketError otherwise."""
    frame = bytes(frame)
    if len(frame) < 6 or frame[:2] != HEADER:
        raise MalformedPacketError(f"frame {frame[:8].hex(' ')}: needs header FF FF and at least 6 bytes")
    servo_id, length = frame[2], frame[3]
    if servo_id > BROADCAST_ID:
        raise MalformedPacketError(f"frame with invalid id {servo_id}; valid 0..{BROADCAST_ID}")
    if length < MIN_LENGTH or len(frame) != length + 4:
        raise MalformedPacketError(f"servo {servo_id}: LEN {length} does not match a frame of {len(frame)} bytes")
    if checksum(frame[2:-1]) != frame[-1]:
        raise ChecksumError(f"servo {servo_id}: checksum 0x{frame[-1]:02X}, expected 0x{checksum(frame[2:-1]):02X}")
    return Packet(servo_id, frame[4], frame[5:-1])


class PacketDecoder(PacketStream):
    """Streaming decoder: feed bytes as they arrive, pop packets as they complete.

    Resynchronises on garbage by scanning for ``FF FF``. A length is never trusted blindly: LEN outside
    ``[2, max_length]`` or an id above 0xFE is rejected at once (one byte dropped, scan resumes), and a frame
    failing its checksum also drops only one byte, so a bogus header cannot swallow a real packet behind it.
    :meth:`pop` raises a typed :class:`~hardware.errors.ProtocolError` for each rejected frame, after consuming
    it, so the caller may catch and call again.
    """

    def __init__(self, max_length: int = 255) -> None:
        if not MIN_LENGTH <= max_length <= 255:
            raise EncodingError(f"max_length {max_length} outside [{MIN_LENGTH}, 255]")
        super().__init__()
        self.max_length = max_length

    def pop(self) -> Packet | None:
        """The next complete packet, None if more bytes are needed; raises ProtocolError on a rejected frame."""
        buf = self._buf
        while True:
            start = buf.find(HEADER)
            if start < 0:
                # keep a trailing FF: it may be the first half of a header
                self._drop(len(buf) - 1 if buf.endswith(b"\xff") else len(buf))
                return None
            if start:
                self._drop(start)
            if len(buf) < 4:
                return None
            servo_id, length = buf[2], buf[3]
            if servo_id == 0xFF:  # FF FF FF ...: the header starts one byte later
                self._drop(1)
                continue
            if not MIN_LENGTH <= length <= self.max_length:
                self._drop(1)
                raise MalformedPacketError(
                    f"servo {servo_id}: LEN {length} outside [{MIN_LENGTH}, {self.max_length}]; resynchronising"
                )
            end = 4 + length
            if len(buf) < end:
                return None
            got, want = buf[end - 1], checksum(buf[2 : end - 1])
            if got != want:
                self._drop(1)
                raise ChecksumError(f"servo {servo_id}: checksum 0x{got:02X}, expected 0x{want:02X}; resynchronising")
            packet = Packet(servo_id, buf[4], bytes(buf[5 : end - 1]))
            del buf[:end]
            return packet
