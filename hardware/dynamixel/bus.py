"""DynamixelBus: register access to Dynamixel protocol 2.0 servos on one serial bus (no joints, no radians).

Same shape, typed errors and classified retries as :class:`~hardware.feetech.bus.FeetechBus` (both are
:class:`~hardware.serial_bus.ServoBus`); protocol 2.0 adds FAST_SYNC_READ (every servo's data in one status
packet), BULK_READ / BULK_WRITE (a register per servo), REBOOT and FACTORY_RESET. The status error byte is an
error number (bits 0..6) plus the hardware-alert bit 7 (e-Manual "Status Packet"); any set bit raises
:class:`ServoStatusError` naming it. EEPROM (addresses < 64) is writable only with torque off: :meth:`write_eeprom`
checks first and raises :class:`TorqueEnabledError` (the servo itself would answer an access error).

The control-cycle path (SYNC_READ, FAST_SYNC_READ, SYNC_WRITE) runs through :mod:`hardware.dynamixel.batch`: a clean
reply is checked (headers, ids, CRCs) and decoded in one vectorised pass, goals are encoded from an array; any
other reply (stuffed, cut, noisy) goes through the resynchronising decoder, classified and retried as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from twinarm.hardware import bus_diagnostics as diagnostics
from twinarm.hardware.dynamixel import batch
from twinarm.hardware.dynamixel import protocol as proto
from twinarm.hardware.dynamixel.tables import XL430_W250
from twinarm.hardware.errors import (
    BusTimeoutError,
    CorruptPacketError,
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


FRAMING = batch.FRAMING
_ReadCodec = batch.SyncReadCodec | batch.FastSyncReadCodec


class DynamixelBus(ServoBus):
    """One Dynamixel protocol 2.0 bus. ``port`` is anything :func:`hardware.ports.open_port` accepts; ``table``
    the model every register is read as (the X-series share addresses, see :mod:`hardware.dynamixel.tables`)."""

    proto = proto
    default_table = XL430_W250

    def __init__(self, *args: object, **kwargs: object) -> None:
        """As :class:`~hardware.serial_bus.ServoBus` (port, baudrate, table, timeout_s, retries)."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._read_codecs: dict[tuple[type, RegisterSpan, tuple[int, ...]], _ReadCodec] = {}
        self._write_codecs: dict[tuple[Register, tuple[int, ...]], batch.SyncWriteCodec] = {}

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

    def sync_read_span(self, span: RegisterSpan, ids: Sequence[int]) -> tuple[np.ndarray, ...]:
        """As :meth:`ServoBus.sync_read_span <hardware.serial_bus.ServoBus.sync_read_span>`; the replies are
        checked and decoded in one vectorised pass (:mod:`hardware.dynamixel.batch`) while they are clean."""
        if not self.table.supports_sync_read:
            return super().sync_read_span(span, ids)
        return self._batch_read(self._codec(batch.SyncReadCodec, span, ids))

    def fast_sync_read(self, register: Register, ids: Sequence[int]) -> np.ndarray:
        """Like :meth:`sync_read`, with FAST_SYNC_READ: one status packet carries every servo's value (X series
        only: MX servos with protocol 2.0 firmware do not answer it)."""
        span = self._spans.get(register)
        if span is None:
            span = self._spans[register] = RegisterSpan((register,))
        return self.fast_sync_read_span(span, ids)[0]

    def fast_sync_read_span(self, span: RegisterSpan, ids: Sequence[int]) -> tuple[np.ndarray, ...]:
        """:meth:`sync_read_span` with FAST_SYNC_READ (ids in the given order; retries as any transaction)."""
        return self._batch_read(self._codec(batch.FastSyncReadCodec, span, ids))

    def sync_write(self, register: Register, ids: Sequence[int], values: Sequence[int]) -> None:
        """As :meth:`ServoBus.sync_write <hardware.serial_bus.ServoBus.sync_write>`, encoded without a per-value
        loop while no value is out of range and no byte stuffing is needed."""
        ids = tuple(ids)
        codec = self._write_codecs.get((register, ids))
        if codec is None:
            codec = self._write_codecs[register, ids] = batch.SyncWriteCodec(register, ids)
        request = codec.encode(values) if len(values) == len(ids) else None
        if request is None:
            super().sync_write(register, ids, values)  # raises the typed error, or stuffs
            return
        with self._lock:
            self._send(request)

    def _codec(self, kind: type[_ReadCodec], span: RegisterSpan, ids: Sequence[int]) -> _ReadCodec:
        key = (kind, span, tuple(ids))
        codec = self._read_codecs.get(key)
        if codec is None:
            codec = self._read_codecs[key] = kind(span, ids)
        return codec

    def _batch_read(self, codec: _ReadCodec) -> tuple[np.ndarray, ...]:
        """One read transaction: a clean reply decoded at once; anything else completed if byte stuffing made it
        longer, then decoded by the resynchronising decoder (``codec.diagnose``); failures classified and retried;
        status bits raise :class:`ServoStatusError`."""
        span, ids = codec.span, codec.ids
        what = span.registers[0] if len(span.registers) == 1 else span
        seen: list[diagnostics.Diagnosis] = []
        with self._lock:
            for attempt in range(1 + self.retries):
                if attempt:
                    self.stats.retries += 1
                self._send(codec.request)
                data = self._read(codec.expected)
                clean = codec.decode(data)
                if clean is not None:
                    errors = clean.errors.tolist()
                    if not any(e & self.status_mask for e in errors):
                        self.last_status.update(zip(ids, errors))
                        return clean.values
                    self._check_status([(e, b"") for e in errors], ids, what)  # raises for the first masked bit
                if len(data) == codec.expected:
                    more = self._shortfall(data, codec.packets)
                    if more:
                        data += self._read(more)
                replies, diag = codec.diagnose(data)
                if replies is not None:
                    return span.decode(self._check_status(replies, ids, what), self.table.byte_order)
                seen.append(diag)
                if diag.is_noise:
                    self.stats.corrupt += 1
                else:
                    self.stats.timeouts += 1
        name = "FAST_SYNC_READ" if isinstance(codec, batch.FastSyncReadCodec) else "SYNC_READ"
        detail = f"{name} {what.name}, deadline {self.timeout_s * 1e3:.1f} ms per attempt"
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
