"""DynamixelBus: register access to Dynamixel protocol 2.0 servos on one serial bus (no joints, no radians).

Same shape, typed errors and classified retries as :class:`~hardware.feetech.bus.FeetechBus` (both are
:class:`~hardware.serial_bus.ServoBus`); protocol 2.0 adds FAST_SYNC_READ (every servo's data in one status
packet), BULK_READ / BULK_WRITE (a register per servo), REBOOT and FACTORY_RESET. The status error byte is an
error number (bits 0..6) plus the hardware-alert bit 7 (e-Manual "Status Packet"); any set bit raises
:class:`ServoStatusError` naming it. EEPROM (addresses < 64) is writable only with torque off: :meth:`write_eeprom`
checks first and raises :class:`TorqueEnabledError` (the servo itself would answer an access error).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from twinarm.hardware import bus_diagnostics as diagnostics
from twinarm.hardware.dynamixel import protocol as proto
from twinarm.hardware.dynamixel.tables import XL430_W250
from twinarm.hardware.errors import (
    BusTimeoutError,
    CorruptPacketError,
    ProtocolError,
    ServoStatusError,
)
from twinarm.hardware.registers import Register, RegisterSpan
from twinarm.hardware.serial_bus import ServoBus

#: Error numbers of the status error byte, bits 0..6 (e-Manual "Status Packet" / dynamixel-sdk ERRNUM_*).
STATUS_ERRORS = {
    1: "result fail",
    2: "instruction error",
    3: "CRC error",
    4: "data range error",
    5: "data length error",
    6: "data limit error",
    7: "access error",
}
ALERT_BIT = 0x80  # a hardware error: read Hardware_Error_Status (70) for its cause


def describe_status(error: int) -> str:
    """Human-readable status byte, e.g. ``"access error"`` or ``"hardware alert (see Hardware_Error_Status)"``."""
    parts = []
    number = error & 0x7F
    if number:
        parts.append(STATUS_ERRORS.get(number, f"unknown error number {number}"))
    if error & ALERT_BIT:
        parts.append("hardware alert (see Hardware_Error_Status)")
    return ", ".join(parts) or "none"


def _status_decoder(nparams: int) -> proto.PacketDecoder:
    # a stuffed reply may be up to a third longer than its LEN without stuffing
    return proto.PacketDecoder(max_length=min(proto.MAX_LENGTH, 4 + nparams + nparams // 3 + 1), status=True)


FRAMING = diagnostics.Framing(_status_decoder, lambda n: proto.STATUS_OVERHEAD + n)


class DynamixelBus(ServoBus):
    """One Dynamixel protocol 2.0 bus. ``port`` is anything :func:`hardware.ports.open_port` accepts; ``table``
    the model every register is read as (the X-series share addresses, see :mod:`hardware.dynamixel.tables`)."""

    proto = proto
    default_table = XL430_W250

    def __init__(self, *args: object, **kwargs: object) -> None:
        """As :class:`~hardware.serial_bus.ServoBus` (port, baudrate, table, timeout_s, retries)."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._fast_requests: dict[tuple[int, int, tuple[int, ...]], bytes] = {}

    # -- protocol hooks -------------------------------------------------------------------------------------
    def _status_size(self, nparams: int) -> int:
        return proto.STATUS_OVERHEAD + nparams

    def _framing(self) -> diagnostics.Framing:
        return FRAMING

    def _parse_clean(self, data: bytes, ids: Sequence[int], nparams: int | list[int]) -> list[tuple[int, bytes]] | None:
        sizes = nparams if isinstance(nparams, list) else [nparams] * len(ids)
        out, off, crc16 = [], 0, proto.crc16
        for servo_id, n in zip(ids, sizes):
            end = off + proto.STATUS_OVERHEAD + n
            length = n + 4
            if (
                data[off : off + 4] != proto.HEADER
                or data[off + 4] != servo_id
                or data[off + 5] != length & 0xFF
                or data[off + 6] != length >> 8
                or data[off + 7] != proto.STATUS
                or crc16(data[off : end - 2]) != data[end - 2] | data[end - 1] << 8
            ):
                return None
            out.append((data[off + 8], data[off + 9 : end - 2]))
            off = end
        return out

    def _shortfall(self, data: bytes, count: int) -> int:
        off = 0
        for _ in range(count):
            if off + 7 > len(data) or data[off : off + 4] != proto.HEADER:
                return 0
            off += 7 + (data[off + 5] | data[off + 6] << 8)
        return max(0, off - len(data))

    def _status_error(self, servo_id: int, register: Register | RegisterSpan | None, flags: int) -> ServoStatusError:
        return ServoStatusError(
            port=self.port, servo_id=servo_id, register=register, flags=flags, description=describe_status(flags)
        )

    # -- instructions ---------------------------------------------------------------------------------------
    def ping(self, servo_id: int, retries: int | None = None) -> int:
        """Ping ``servo_id`` and return its model number (from the PING reply: model LE16, firmware version)."""
        with self._lock:
            data = self._transact(proto.ping_packet(servo_id), (servo_id,), 3, None, retries)[0]
        return data[0] | data[1] << 8

    def scan(self, ids: Iterable[int] = range(proto.MAX_ID + 1)) -> dict[int, int]:
        """id -> model number for the ``ids`` that answer a PING (one attempt each; noise is retried)."""
        found = {}
        for servo_id in ids:
            try:
                found[servo_id] = self.ping(servo_id, retries=0)
            except BusTimeoutError:
                continue
            except CorruptPacketError:
                try:
                    found[servo_id] = self.ping(servo_id)
                except BusTimeoutError:
                    continue
        return found

    def reboot(self, servo_id: int) -> None:
        """REBOOT (clears a hardware-error shutdown); waits for the status reply."""
        self._request(proto.reboot_packet(servo_id), servo_id, None)

    def factory_reset(self, servo_id: int, option: proto.FactoryReset = proto.FactoryReset.KEEP_ID_AND_BAUD) -> None:
        """FACTORY_RESET keeping what ``option`` says; torque must be off (the servo refuses otherwise)."""
        self._request(proto.factory_reset_packet(servo_id, option), servo_id, None)

    def fast_sync_read(self, register: Register, ids: Sequence[int]) -> np.ndarray:
        """Like :meth:`sync_read`, with FAST_SYNC_READ: one status packet carries every servo's value."""
        span = self._spans.get(register)
        if span is None:
            span = self._spans[register] = RegisterSpan((register,))
        return self.fast_sync_read_span(span, ids)[0]

    def fast_sync_read_span(self, span: RegisterSpan, ids: Sequence[int]) -> tuple[np.ndarray, ...]:
        """:meth:`sync_read_span` with FAST_SYNC_READ (ids in the given order; retries as any transaction)."""
        ids = tuple(ids)
        what = span.registers[0] if len(span.registers) == 1 else span
        key = (span.address, span.size, ids)
        request = self._fast_requests.get(key)
        if request is None:
            request = self._fast_requests[key] = proto.fast_sync_read_packet(span.address, span.size, ids)
        expected = 8 + (span.size + 4) * len(ids)
        seen: list[diagnostics.Diagnosis] = []
        with self._lock:
            for attempt in range(1 + self.retries):
                if attempt:
                    self.stats.retries += 1
                self._send(request)
                data = self._read(expected)
                more = self._shortfall(data, 1)
                if more:
                    data += self._read(more)
                decoder = proto.PacketDecoder()
                decoder.feed(data)
                try:
                    packet = decoder.pop()
                    blocks = proto.split_fast_status(packet.params, span.size) if packet is not None else []
                except ProtocolError:
                    packet, blocks = None, []
                got = {servo_id: (err, d) for servo_id, err, d in blocks} if blocks else _blocks_so_far(data, span.size)
                if packet is not None and packet.servo_id == proto.BROADCAST_ID and tuple(got) == ids:
                    replies = self._check_status([got[i] for i in ids], ids, what)
                    return span.decode(replies, self.table.byte_order)
                noisy = bool(data) and (packet is None and len(data) >= expected)
                kind = diagnostics.ReplyKind.BAD_CHECKSUM if noisy else diagnostics.ReplyKind.SHORT
                if not data:
                    kind = diagnostics.ReplyKind.SILENT
                seen.append(diagnostics.Diagnosis(kind, got, ids if noisy else (), 0, 0, len(data)))
                if noisy:
                    self.stats.corrupt += 1
                else:
                    self.stats.timeouts += 1
        detail = f"FAST_SYNC_READ {what.name}, deadline {self.timeout_s * 1e3:.1f} ms per attempt"
        raise diagnostics.failure_error(self.port, ids, seen, detail, what)

    def bulk_read(self, items: Sequence[tuple[int, Register]]) -> list[int]:
        """BULK_READ: one register per servo (``(servo_id, register)``), decoded values in the given order."""
        if not items:
            return []
        ids = [i for i, _ in items]
        request = proto.bulk_read_packet([(i, reg.address, reg.size) for i, reg in items])
        with self._lock:
            replies = self._transact(request, ids, [reg.size for _, reg in items], None)
        return [reg.decode(data, self.table.byte_order) for (_, reg), data in zip(items, replies)]

    def bulk_write(self, items: Sequence[tuple[int, Register, int]]) -> None:
        """BULK_WRITE: one register and value per servo (``(servo_id, register, value)``); no reply."""
        order = self.table.byte_order
        request = proto.bulk_write_packet([(i, reg.address, reg.encode(v, order)) for i, reg, v in items])
        with self._lock:
            self._send(request)


def _blocks_so_far(data: bytes, size: int) -> dict[int, tuple[int, bytes]]:
    """id -> (error, data) of the whole blocks of a cut FAST_SYNC_READ reply (unverified: for error messages)."""
    found = {}
    for off in range(8, len(data) - size - 1, size + 4):
        found[data[off + 1]] = (data[off], bytes(data[off + 2 : off + 2 + size]))
    return found
