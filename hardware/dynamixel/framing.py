"""Dynamixel protocol 2.0 framing (ROBOTIS e-Manual, "DYNAMIXEL Protocol 2.0",
https://emanual.robotis.com/docs/en/dxl/protocol2/; cross-checked against dynamixel-sdk 4.1.0,
``protocol2_packet_handler.py``): header, LEN, CRC-16, byte stuffing, and the streaming decoder.

Frame: ``FF FF FD 00 | ID | LEN_L LEN_H | INST | P1..Pn | CRC_L CRC_H``; a status packet has ``INST = 0x55``
followed by an error byte, then the parameters. ``LEN`` counts the bytes after itself (INST, the stuffed
parameters and the CRC). The CRC is CRC-16 with polynomial ``x^16 + x^15 + x^2 + 1`` (0x8005), initial value 0, no
reflection (the e-Manual's "CRC" page), over every byte from the header to the last parameter, after stuffing,
little-endian. Byte stuffing: inside INST..Pn every ``FF FF FD`` gets an extra ``FD`` so the header never appears
in a body (the receiver drops it again). The instructions are in :mod:`hardware.dynamixel.protocol`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from twinarm.hardware.errors import ChecksumError, EncodingError, MalformedPacketError
from twinarm.hardware.packet_stream import PacketStream

HEADER = b"\xff\xff\xfd\x00"
_STUFF_MARK = b"\xff\xff\xfd"
BROADCAST_ID = 0xFE
MAX_ID = 0xFC  # highest addressable servo id (0xFD is reserved)
STATUS = 0x55  # the instruction byte of every status packet
MIN_LENGTH = 3  # LEN of an instruction packet without parameters (INST + CRC)
STATUS_OVERHEAD = 11  # bytes of an unstuffed status packet besides its parameters (header..ERR, CRC)
MAX_LENGTH = 1024 - 7  # the SDK's TXPACKET_MAX_LEN / RXPACKET_MAX_LEN (1 KiB) minus header, id and LEN


class Packet(NamedTuple):
    """A decoded frame: ``code`` is the instruction (instruction packets) or, for a status packet decoded by a
    status decoder, the error byte; ``params`` are unstuffed."""

    servo_id: int
    code: int
    params: bytes


def _crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16 (poly 0x8005, MSB first) of ``data`` continuing from ``crc``."""
    table = _CRC_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ byte) & 0xFF]
    return crc


def stuff(body: bytes) -> bytes:
    """``body`` (INST..Pn) with an ``FD`` added after every ``FF FF FD``."""
    if _STUFF_MARK not in body:
        return body
    out = bytearray()
    for i, byte in enumerate(body):
        out.append(byte)
        if byte == 0xFD and i >= 2 and body[i - 1] == 0xFF and body[i - 2] == 0xFF:
            out.append(0xFD)
    return bytes(out)


def unstuff(body: bytes | bytearray | memoryview) -> bytes:
    """Inverse of :func:`stuff`: drop the ``FD`` following every ``FF FF FD``."""
    body = bytes(body)
    if _STUFF_MARK not in body:
        return body
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        byte = body[i]
        out.append(byte)
        i += 1
        if byte == 0xFD and len(out) >= 3 and out[-2] == 0xFF and out[-3] == 0xFF and i < n and body[i] == 0xFD:
            i += 1
    return bytes(out)


def encode_packet(servo_id: int, instruction: int, params: bytes | Sequence[int] = b"") -> bytes:
    """One complete frame: header, id, LEN, stuffed INST + params, CRC."""
    if not 0 <= servo_id <= BROADCAST_ID or servo_id == 0xFD:
        raise EncodingError(f"servo id {servo_id} invalid; valid: 0..{MAX_ID} or {BROADCAST_ID} (broadcast)")
    body = stuff(bytes((instruction,)) + bytes(params))
    length = len(body) + 2
    if length > MAX_LENGTH:
        raise EncodingError(f"packet for servo {servo_id}: LEN {length} exceeds {MAX_LENGTH}")
    frame = HEADER + bytes((servo_id, length & 0xFF, length >> 8)) + body
    crc = crc16(frame)
    return frame + bytes((crc & 0xFF, crc >> 8))


def decode_packet(frame: bytes | bytearray | memoryview) -> Packet:
    """Decode exactly one complete frame (instruction byte in ``code``); ChecksumError / MalformedPacketError."""
    frame = bytes(frame)
    if len(frame) < 10 or frame[:4] != HEADER:
        raise MalformedPacketError(f"frame {frame[:8].hex(' ')}: needs header FF FF FD 00 and at least 10 bytes")
    servo_id, length = frame[4], frame[5] | frame[6] << 8
    if length < MIN_LENGTH or len(frame) != length + 7:
        raise MalformedPacketError(f"servo {servo_id}: LEN {length} does not match a frame of {len(frame)} bytes")
    want = crc16(frame[:-2])
    if frame[-2] | frame[-1] << 8 != want:
        raise ChecksumError(f"servo {servo_id}: CRC 0x{frame[-2] | frame[-1] << 8:04X}, expected 0x{want:04X}")
    body = unstuff(frame[7:-2])
    return Packet(servo_id, body[0], body[1:])


class PacketDecoder(PacketStream):
    """Streaming decoder: feed bytes as they arrive, pop packets as they complete.

    Resynchronises on garbage by scanning for the header ``FF FF FD 00``. A LEN outside
    ``[min_length, max_length]`` or an id of 0xFD/0xFF is rejected at once (one byte dropped, scan resumes), and a
    frame failing its CRC also drops only one byte, so a bogus header cannot swallow a real packet behind it.
    :meth:`pop` raises a typed :class:`~hardware.errors.ProtocolError` for each rejected frame, after consuming it.
    ``status=True``: every packet must be a status packet (INST 0x55 and an error byte); :meth:`pop` returns it
    with the error byte as ``code`` and the data as ``params``.
    """

    def __init__(self, max_length: int = MAX_LENGTH, status: bool = False) -> None:
        self.min_length = MIN_LENGTH + 1 if status else MIN_LENGTH
        if not self.min_length <= max_length <= MAX_LENGTH:
            raise EncodingError(f"max_length {max_length} outside [{self.min_length}, {MAX_LENGTH}]")
        super().__init__()
        self.max_length = max_length
        self.status = status

    def pop(self) -> Packet | None:
        """The next complete packet, None if more bytes are needed; raises ProtocolError on a rejected frame."""
        buf = self._buf
        while True:
            start = buf.find(HEADER)
            if start < 0:
                keep = next((k for k in (3, 2, 1) if buf.endswith(HEADER[:k])), 0)  # a header may be cut
                self._drop(len(buf) - keep)
                return None
            if start:
                self._drop(start)
            if len(buf) < 7:
                return None
            servo_id, length = buf[4], buf[5] | buf[6] << 8
            if servo_id in (0xFD, 0xFF) or not self.min_length <= length <= self.max_length:
                self._drop(1)
                raise MalformedPacketError(
                    f"servo {servo_id}: LEN {length} outside [{self.min_length}, {self.max_length}] or id invalid; "
                    "resynchronising"
                )
            end = 7 + length
            if len(buf) < end:
                return None
            got, want = buf[end - 2] | buf[end - 1] << 8, crc16(memoryview(buf)[: end - 2])
            if got != want:
                self._drop(1)
                raise ChecksumError(f"servo {servo_id}: CRC 0x{got:04X}, expected 0x{want:04X}; resynchronising")
            body = unstuff(buf[7 : end - 2])
            del buf[:end]
            if not self.status:
                return Packet(servo_id, body[0], body[1:])
            if body[0] != STATUS or len(body) < 2:
                self.discarded += end
                raise MalformedPacketError(
                    f"servo {servo_id}: instruction 0x{body[0]:02X} where a status packet (0x55 + error) was expected"
                )
            return Packet(servo_id, body[1], body[2:])
