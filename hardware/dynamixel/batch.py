"""Whole-transaction codecs for the bus's hot path: every status packet of a SYNC_READ (or the one packet of a
FAST_SYNC_READ) checked and decoded in one vectorised pass, and a SYNC_WRITE encoded from an array of values.

The CRC-16 of :mod:`hardware.dynamixel.framing` starts at 0 and has no final XOR, so it is linear over GF(2): the
CRC of a message is the XOR, over its bytes, of the CRC of that byte followed by as many zero bytes as follow it
in the message (:func:`crc_rows` tabulates those). A batch of equal-length frames is then one table gather and one
XOR reduction, with no per-byte Python loop. A codec only accepts what it can prove clean (headers, ids, LEN, the
status instruction and every CRC as expected, hence no byte stuffing); anything else returns None and the bus
falls back to the resynchronising decoder, which classifies the failure (:mod:`hardware.bus_diagnostics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from twinarm.hardware import bus_diagnostics as diagnostics
from twinarm.hardware.dynamixel import protocol as proto
from twinarm.hardware.dynamixel.framing import _CRC_TABLE, _STUFF_MARK, HEADER
from twinarm.hardware.errors import ProtocolError
from twinarm.hardware.registers import Register, RegisterSpan

Replies = list[tuple[int, bytes]]  # (error byte, data) per id, in the order asked


def _status_decoder(nparams: int) -> proto.PacketDecoder:
    # a stuffed reply may be up to a third longer than its LEN without stuffing
    return proto.PacketDecoder(max_length=min(proto.MAX_LENGTH, 4 + nparams + nparams // 3 + 1), status=True)


#: How :func:`hardware.bus_diagnostics.diagnose` decodes Dynamixel status packets.
FRAMING = diagnostics.Framing(_status_decoder, lambda n: proto.STATUS_OVERHEAD + n)

_rows = np.array([_CRC_TABLE], np.uint16)  # _rows[j, b]: CRC of byte b followed by j zero bytes


def crc_rows(length: int) -> np.ndarray:
    """(length, 256) uint16: row ``j`` is the CRC of each byte value followed by ``j`` zero bytes (grown lazily)."""
    global _rows
    if len(_rows) < length:
        table = np.array(_CRC_TABLE, np.uint16)
        rows = [*_rows]
        while len(rows) < length:  # one more zero byte: the table-driven CRC step with a 0 input byte
            prev = rows[-1]
            rows.append(((prev << 8) & 0xFFFF) ^ table[prev >> 8])
        _rows = np.stack(rows)
    return _rows[:length]


class _Crc:
    """CRC-16 of the first ``length`` bytes of each row of a (n, >= length) uint8 array, vectorised."""

    def __init__(self, length: int) -> None:
        rows = crc_rows(length)
        self._flat = rows.ravel()
        self._offsets = (np.arange(length - 1, -1, -1) * 256).astype(np.intp)  # row of each byte position
        self.length = length

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        return np.bitwise_xor.reduce(self._flat[frames[:, : self.length] + self._offsets], axis=1)


def _decode_columns(span: RegisterSpan, data: np.ndarray) -> tuple[np.ndarray, ...]:
    """One int64 (n,) array per register of ``span`` from (n, span.size) little-endian bytes (as
    :meth:`RegisterSpan.decode <hardware.registers.RegisterSpan.decode>`)."""
    out = []
    base = span.address
    for reg in span.registers:
        lo = reg.address - base
        raw = np.ascontiguousarray(data[:, lo : lo + reg.size])
        kind = "i" if reg.twos_complement else "u"
        values = raw.view(f"<{kind}{reg.size}")[:, 0].astype(np.int64)
        if reg.sign_bit is not None:  # sign-magnitude (not a Dynamixel encoding, kept for completeness)
            sign = 1 << reg.sign_bit
            values = np.where(values & sign, -(values ^ sign), values)
        out.append(values)
    return tuple(out)


class Decoded(NamedTuple):
    """A clean reply: ``errors`` (n,) uint8 status error byte per id; ``values`` one int64 (n,) per register."""

    errors: np.ndarray
    values: tuple[np.ndarray, ...]


class SyncReadCodec:
    """SYNC_READ of ``span`` from ``ids``: the request, and the n status packets back to back, decoded at once."""

    def __init__(self, span: RegisterSpan, ids: Sequence[int]) -> None:
        self.span, self.ids = span, tuple(ids)
        self.request = proto.sync_read_packet(span.address, span.size, self.ids)
        self.frame = proto.STATUS_OVERHEAD + span.size
        self.expected = self.frame * len(self.ids)
        self.packets = len(self.ids)
        length = span.size + 4  # LEN of a status packet: INST, ERR, data, CRC
        head = HEADER + bytes((0, length & 0xFF, length >> 8, proto.STATUS))
        self._heads = b"".join(head[:4] + bytes((i,)) + head[5:] for i in self.ids)
        self._crc = _Crc(self.frame - 2)

    def decode(self, data: bytes) -> Decoded | None:
        """The replies in ``data`` if it is exactly the n clean status packets in order, else None."""
        if len(data) != self.expected:
            return None
        frames = np.frombuffer(data, np.uint8).reshape(len(self.ids), self.frame)
        if frames[:, :8].tobytes() != self._heads:
            return None
        if self._crc(frames).astype("<u2").tobytes() != frames[:, self.frame - 2 :].tobytes():  # CRC_L CRC_H
            return None
        return Decoded(frames[:, 8].copy(), _decode_columns(self.span, frames[:, 9 : 9 + self.span.size]))

    def diagnose(self, data: bytes) -> tuple[Replies | None, diagnostics.Diagnosis]:
        """Resynchronising parse of replies that were not clean: the replies if every id answered, and what
        arrived."""
        diag = diagnostics.diagnose(data, self.ids, self.span.size, framing=FRAMING)
        ok = diag.kind is diagnostics.ReplyKind.OK
        return ([diag.found[i] for i in self.ids] if ok else None), diag


class FastSyncReadCodec:
    """FAST_SYNC_READ of ``span`` from ``ids``: one status packet (id 0xFE) with a block ``ERR ID DATA CRC`` per
    servo (:func:`~hardware.dynamixel.protocol.fast_status_packet`); only the packet CRC is checked, as the
    vendor SDK does (the block CRCs are covered by it)."""

    def __init__(self, span: RegisterSpan, ids: Sequence[int]) -> None:
        self.span, self.ids = span, tuple(ids)
        self.request = proto.fast_sync_read_packet(span.address, span.size, self.ids)
        self.block = span.size + 4
        self.expected = 8 + self.block * len(self.ids)
        self.packets = 1
        length = self.expected - 7
        self._head = HEADER + bytes((proto.BROADCAST_ID, length & 0xFF, length >> 8, proto.STATUS))
        self._ids = np.array(self.ids, np.uint8)
        self._crc = _Crc(self.expected - 2)

    def decode(self, data: bytes) -> Decoded | None:
        """The blocks of ``data`` if it is exactly the clean, unstuffed reply for ``ids`` in order, else None."""
        if len(data) != self.expected or data[:8] != self._head:
            return None
        frame = np.frombuffer(data, np.uint8)
        if int(self._crc(frame[None, :])[0]) != data[-2] | data[-1] << 8:
            return None
        blocks = frame[8:].reshape(len(self.ids), self.block)  # each row: ERR ID DATA CRC_L CRC_H
        if not np.array_equal(blocks[:, 1], self._ids):
            return None
        return Decoded(blocks[:, 0].copy(), _decode_columns(self.span, blocks[:, 2 : 2 + self.span.size]))

    def diagnose(self, data: bytes) -> tuple[Replies | None, diagnostics.Diagnosis]:
        """A reply that was not clean, through the streaming decoder (CRC, unstuffing): the blocks if it is whole
        and in order, and what arrived (cut: SHORT, naming the blocks so far; bad CRC: BAD_CHECKSUM)."""
        size, ids = self.span.size, self.ids
        decoder = proto.PacketDecoder()
        decoder.feed(data)
        try:
            packet = decoder.pop()
            blocks = proto.split_fast_status(packet.params, size) if packet is not None else []
        except ProtocolError:
            packet, blocks = None, []
        got = {servo_id: (err, d) for servo_id, err, d in blocks} if blocks else _blocks_so_far(data, size)
        if packet is not None and packet.servo_id == proto.BROADCAST_ID and tuple(got) == ids:
            return [got[i] for i in ids], diagnostics.Diagnosis(diagnostics.ReplyKind.OK, got, (), 0, 0, len(data))
        noisy = bool(data) and (packet is None and len(data) >= self.expected)
        kind = diagnostics.ReplyKind.BAD_CHECKSUM if noisy else diagnostics.ReplyKind.SHORT
        if not data:
            kind = diagnostics.ReplyKind.SILENT
        return None, diagnostics.Diagnosis(kind, got, ids if noisy else (), 0, 0, len(data))


def _blocks_so_far(data: bytes, size: int) -> dict[int, tuple[int, bytes]]:
    """id -> (error, data) of the whole blocks of a cut FAST_SYNC_READ reply (unverified: for error messages)."""
    found = {}
    for off in range(8, len(data) - size - 1, size + 4):
        found[data[off + 1]] = (data[off], bytes(data[off + 2 : off + 2 + size]))
    return found


class SyncWriteCodec:
    """SYNC_WRITE of ``register`` to ``ids``: the packet from an array of values, without a per-value loop."""

    def __init__(self, register: Register, ids: Sequence[int]) -> None:
        self.register, self.ids = register, tuple(ids)
        size = register.size
        template = proto.sync_write_packet(register.address, size, [(i, bytes(size)) for i in self.ids])
        self._template = np.frombuffer(template, np.uint8)
        self._dtype = np.dtype(f"<{'i' if register.twos_complement else 'u'}{size}")
        self._crc = _Crc(len(template) - 2)

    def encode(self, values: Sequence[int] | np.ndarray) -> bytes | None:
        """The packet, or None where the generic encoder must decide: a value out of range (it raises, naming
        it), a wrong count, or a packet that needs byte stuffing."""
        reg, n = self.register, len(self.ids)
        try:  # as int() would: integers as they are, floats truncated
            v = np.asarray(values).astype(np.int64, copy=False)
        except (OverflowError, ValueError, TypeError):
            return None
        if not n or v.shape != (n,) or reg.sign_bit is not None:
            return None
        if v.min() < reg.min_value or v.max() > reg.max_magnitude:
            return None
        frame = self._template.copy()
        frame[12:-2].reshape(n, reg.size + 1)[:, 1:] = v.astype(self._dtype).view(np.uint8).reshape(n, reg.size)
        crc = int(self._crc(frame[None, :])[0])
        frame[-2], frame[-1] = crc & 0xFF, crc >> 8
        packet = frame.tobytes()
        return None if _STUFF_MARK in packet[7:-2] else packet
