"""Dynamixel protocol 2.0 instructions (ROBOTIS e-Manual, "DYNAMIXEL Protocol 2.0",
https://emanual.robotis.com/docs/en/dxl/protocol2/; cross-checked against dynamixel-sdk 4.1.0,
``protocol2_packet_handler.py``): an encoder per instruction, status packets, FAST_SYNC_READ's one-packet reply.

The framing (header, LEN, CRC-16, byte stuffing, the streaming decoder) is :mod:`hardware.dynamixel.framing`; its
names are re-exported here, so a bus or emulator needs this one module (as :mod:`hardware.feetech.protocol`).
Multi-byte fields (addresses, lengths, values) are little-endian.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum

from twinarm.hardware.dynamixel.framing import (
    _STUFF_MARK,
    BROADCAST_ID,
    HEADER,
    MAX_ID,
    MAX_LENGTH,
    MIN_LENGTH,
    STATUS,
    STATUS_OVERHEAD,
    Packet,
    PacketDecoder,
    crc16,
    decode_packet,
    encode_packet,
    stuff,
    unstuff,
)
from twinarm.hardware.errors import EncodingError, MalformedPacketError

__all__ = [
    "BROADCAST_ID",
    "HEADER",
    "MAX_ID",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "STATUS",
    "STATUS_OVERHEAD",
    "FactoryReset",
    "Instruction",
    "Packet",
    "PacketDecoder",
    "crc16",
    "decode_packet",
    "encode_packet",
    "stuff",
    "unstuff",
]


class Instruction(IntEnum):
    PING = 0x01
    READ = 0x02
    WRITE = 0x03
    REG_WRITE = 0x04
    ACTION = 0x05
    FACTORY_RESET = 0x06
    REBOOT = 0x08
    CLEAR = 0x10
    SYNC_READ = 0x82
    SYNC_WRITE = 0x83
    FAST_SYNC_READ = 0x8A
    BULK_READ = 0x92
    BULK_WRITE = 0x93


class FactoryReset(IntEnum):
    """FACTORY_RESET parameter (e-Manual): what survives the reset."""

    ALL = 0xFF
    KEEP_ID = 0x01
    KEEP_ID_AND_BAUD = 0x02


def _check_id(servo_id: int, broadcast_ok: bool = True) -> None:
    if not (0 <= servo_id <= MAX_ID or (broadcast_ok and servo_id == BROADCAST_ID)):
        valid = f"0..{MAX_ID}" + (f" or {BROADCAST_ID} (broadcast)" if broadcast_ok else "")
        raise EncodingError(f"servo id {servo_id} invalid; valid: {valid}")


def _u16(value: int) -> bytes:
    return int(value).to_bytes(2, "little")


def ping_packet(servo_id: int) -> bytes:
    return encode_packet(servo_id, Instruction.PING)


def read_packet(servo_id: int, address: int, size: int) -> bytes:
    _check_id(servo_id, broadcast_ok=False)
    return encode_packet(servo_id, Instruction.READ, _u16(address) + _u16(size))


def write_packet(servo_id: int, address: int, data: bytes) -> bytes:
    return encode_packet(servo_id, Instruction.WRITE, _u16(address) + bytes(data))


def reg_write_packet(servo_id: int, address: int, data: bytes) -> bytes:
    return encode_packet(servo_id, Instruction.REG_WRITE, _u16(address) + bytes(data))


def action_packet(servo_id: int = BROADCAST_ID) -> bytes:
    return encode_packet(servo_id, Instruction.ACTION)


def reboot_packet(servo_id: int) -> bytes:
    return encode_packet(servo_id, Instruction.REBOOT)


def factory_reset_packet(servo_id: int, option: FactoryReset = FactoryReset.KEEP_ID_AND_BAUD) -> bytes:
    return encode_packet(servo_id, Instruction.FACTORY_RESET, (int(option),))


def _ids(ids: Iterable[int]) -> bytes:
    ids = bytes(ids)
    for i in ids:
        _check_id(i, broadcast_ok=False)
    return ids


def sync_read_packet(address: int, size: int, ids: Iterable[int]) -> bytes:
    """SYNC_READ: each of ``ids`` answers with its own status packet, in the order given."""
    return encode_packet(BROADCAST_ID, Instruction.SYNC_READ, _u16(address) + _u16(size) + _ids(ids))


def fast_sync_read_packet(address: int, size: int, ids: Iterable[int]) -> bytes:
    """FAST_SYNC_READ: the servos answer together in ONE status packet (see :func:`fast_status_packet`)."""
    return encode_packet(BROADCAST_ID, Instruction.FAST_SYNC_READ, _u16(address) + _u16(size) + _ids(ids))


def sync_write_packet(address: int, size: int, items: Iterable[tuple[int, bytes]]) -> bytes:
    """SYNC_WRITE of ``size`` bytes at ``address`` for each ``(servo_id, data)`` (no reply)."""
    params = bytearray(_u16(address) + _u16(size))
    for servo_id, data in items:
        _check_id(servo_id, broadcast_ok=False)
        if len(data) != size:
            raise EncodingError(f"sync write: servo {servo_id} data has {len(data)} bytes, expected {size}")
        params.append(servo_id)
        params += data
    return encode_packet(BROADCAST_ID, Instruction.SYNC_WRITE, params)


def bulk_read_packet(items: Iterable[tuple[int, int, int]]) -> bytes:
    """BULK_READ of ``(servo_id, address, size)`` per servo (each answers in order with its own status packet)."""
    params = bytearray()
    for servo_id, address, size in items:
        _check_id(servo_id, broadcast_ok=False)
        params.append(servo_id)
        params += _u16(address) + _u16(size)
    return encode_packet(BROADCAST_ID, Instruction.BULK_READ, params)


def bulk_write_packet(items: Iterable[tuple[int, int, bytes]]) -> bytes:
    """BULK_WRITE of ``(servo_id, address, data)`` per servo (no reply)."""
    params = bytearray()
    for servo_id, address, data in items:
        _check_id(servo_id, broadcast_ok=False)
        params.append(servo_id)
        params += _u16(address) + _u16(len(data)) + bytes(data)
    return encode_packet(BROADCAST_ID, Instruction.BULK_WRITE, params)


def status_packet(servo_id: int, error: int = 0, params: bytes = b"") -> bytes:
    return encode_packet(servo_id, STATUS, bytes((error,)) + bytes(params))


def fast_status_packet(blocks: Sequence[tuple[int, int, bytes]]) -> bytes:
    """The one status packet answering FAST_SYNC_READ: id 0xFE, then per servo ``ERR ID DATA CRC_L CRC_H``, the
    last block's CRC being the packet's (the layout dynamixel-sdk's ``fastSyncReadRxPacket`` parses). The CRC
    inside each earlier block is the running CRC of the frame up to it (each servo computes it while appending
    its block); receivers check only the packet CRC, which covers them."""
    if not blocks:
        raise EncodingError("fast status packet: needs at least one (servo_id, error, data) block")
    body = bytearray((STATUS,))
    for k, (servo_id, error, data) in enumerate(blocks):
        _check_id(servo_id, broadcast_ok=False)
        body += bytes((error, servo_id)) + bytes(data)
        if k < len(blocks) - 1:
            body += b"\x00\x00"  # placeholder, filled below once the frame before it is known
    # fill the block CRCs: each covers the frame (header, id, final LEN) up to the end of its data
    packet = _fast_status_unstuffed(blocks, body)
    if packet is not None:
        return packet
    # LEN counts the stuffing, which depends on the CRC bytes, which depend on LEN: fill the CRCs for a LEN, restuff,
    # until LEN holds (the first pass almost always; a CRC byte that makes or breaks an FF FF FD needs a second)
    length = len(stuff(bytes(body))) + 2
    for _ in range(8):
        _fill_block_crcs(blocks, body, length)
        length, was = len(stuff(bytes(body))) + 2, length
        if length == was:
            break
    return encode_packet(BROADCAST_ID, body[0], body[1:])


def _fill_block_crcs(blocks: Sequence[tuple[int, int, bytes]], body: bytearray, length: int) -> None:
    """Write each block's CRC into ``body`` (in place): the running CRC of the frame with LEN ``length``."""
    crc = crc16(HEADER + bytes((BROADCAST_ID, length & 0xFF, length >> 8)))
    # stuffing a prefix of the body gives a prefix of the stuffed body, so the CRC runs on (linear time)
    pos, done = 1, 0  # body bytes so far; stuffed bytes already in the running CRC
    for _id, _error, data in blocks[:-1]:
        pos += 2 + len(data)
        stuffed = stuff(bytes(body[:pos]))
        crc = crc16(memoryview(stuffed)[done:], crc)
        done = len(stuffed)
        body[pos : pos + 2] = bytes((crc & 0xFF, crc >> 8))
        pos += 2


def _fast_status_unstuffed(blocks: Sequence[tuple[int, int, bytes]], body: bytearray) -> bytes | None:
    """:func:`fast_status_packet` in one CRC pass, for the usual reply that needs no byte stuffing (None if it
    does: no ``FF FF FD`` anywhere in the filled body means none in any prefix, nor with zero placeholders)."""
    length = len(body) + 2
    head = HEADER + bytes((BROADCAST_ID, length & 0xFF, length >> 8))
    body = bytearray(body)
    crc, done, pos = crc16(head), 0, 1
    for _id, _error, data in blocks[:-1]:
        pos += 2 + len(data)
        crc = crc16(memoryview(body)[done:pos], crc)
        body[pos : pos + 2] = bytes((crc & 0xFF, crc >> 8))
        done, pos = pos, pos + 2
    if _STUFF_MARK in body:
        return None
    crc = crc16(memoryview(body)[done:], crc)
    return head + bytes(body) + bytes((crc & 0xFF, crc >> 8))


def split_fast_status(params: bytes, size: int) -> list[tuple[int, int, bytes]]:
    """``(servo_id, error, data)`` per block of a FAST_SYNC_READ status packet's parameters (error byte included,
    block CRCs skipped); MalformedPacketError if the parameters are not whole blocks of ``size`` data bytes."""
    block = size + 4
    if (len(params) + 2) % block:
        raise MalformedPacketError(f"fast sync read reply of {len(params)} bytes is not whole blocks of {size} bytes")
    offsets = range(0, len(params), block)
    return [(params[off + 1], params[off], bytes(params[off + 2 : off + 2 + size])) for off in offsets]
