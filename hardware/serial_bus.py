"""ServoBus: register access to the servos of one serial bus, whatever their protocol (no joints, no radians).

The protocol lives in a module with the same encoder names for every family (``ping_packet``, ``read_packet``,
``write_packet``, ``reg_write_packet``, ``action_packet``, ``sync_read_packet``, ``sync_write_packet``,
``BROADCAST_ID``, ``MAX_ID``: :mod:`hardware.feetech.protocol`, :mod:`hardware.dynamixel.protocol`) and in three
hooks a subclass gives: the size of a status packet, a fast parse of a clean reply, and the decoder a failed
attempt is diagnosed with (:mod:`hardware.bus_diagnostics`).

Every transaction flushes stale input, writes one request and reads the whole expected reply with ONE blocking
read sized to it (the serial timeout is the deadline: no busy-wait). Failures are classified (timeout, corrupt
reply) and retried up to ``retries`` times; servo error bits raise :class:`ServoStatusError` at once (they are
conditions, not transmission noise).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import NamedTuple

import numpy as np
import serial

from twinarm.hardware import bus_diagnostics as diagnostics
from twinarm.hardware.errors import (
    BusError,
    BusTimeoutError,
    CorruptPacketError,
    EncodingError,
    ModelMismatchError,
    PortLostError,
    ServoStatusError,
    TorqueEnabledError,
)
from twinarm.hardware.ports import open_port
from twinarm.hardware.registers import ModelTable, Register, RegisterSpan
from twinarm.robot.errors import NotConnectedError

try:  # what a port that vanished (USB unplug, emulator killed) raises: tcflush fails with termios.error (EIO)
    import termios

    PORT_FAILURES: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover - no termios on Windows
    PORT_FAILURES = (serial.SerialException, OSError)


class ServoState(NamedTuple):
    """Present state of the servos of one read, in the order of the ids asked for."""

    position: np.ndarray  # (n,) int64 [ticks], Present_Position decoded (signs applied as the table says)
    velocity: np.ndarray  # (n,) int64 [Present_Velocity units: ModelTable.phase_bits / speed_unit_tps]


@dataclasses.dataclass
class BusStats:
    """Counters since the bus was created (``reset()`` zeroes them)."""

    transactions: int = 0  # requests sent (retries included)
    retries: int = 0  # repeated transactions
    timeouts: int = 0  # attempts that ended with missing or short replies
    corrupt: int = 0  # attempts that ended with bad checksums / malformed replies
    status_errors: int = 0  # replies with error bits that raised ServoStatusError

    def reset(self) -> None:
        for field in dataclasses.fields(self):
            setattr(self, field.name, 0)


class ServoBus:
    """One serial servo bus. ``port`` is anything :func:`hardware.ports.open_port` accepts.

        ``timeout_s`` [s] is the deadline of one attempt; ``retries`` extra attempts follow a timeout or a
        corrupt reply. ``status_mask`` selects the status bits that raise (all by default); ``last_status`` maps
        servo id -> error byte of its latest reply. ``table``: the servo model every register is read as (None: the
    family's ``default_table``). Subclasses set ``proto`` (the protocol module), ``default_table`` and the hooks.
    """

    proto: ModuleType
    default_table: ModelTable

    def __init__(
        self,
        port: str,
        baudrate: int = 1_000_000,
        table: ModelTable | None = None,
        timeout_s: float = 0.02,
        retries: int = 2,
    ) -> None:
        table = self.default_table if table is None else table
        self.port = port
        self.baudrate = baudrate
        self.table = table
        self.timeout_s = timeout_s
        self.retries = retries
        self.status_mask = 0xFF
        self.stats = BusStats()
        self.last_status: dict[int, int] = {}
        self._ser: serial.Serial | None = None
        self._lock = threading.RLock()
        self._sync_read_requests: dict[tuple[int, int, tuple[int, ...]], bytes] = {}
        state = sorted((table.PRESENT_POSITION, table.PRESENT_VELOCITY), key=lambda r: r.address)
        self._state_span = RegisterSpan.of(tuple(state))
        self._position_first = state[0] is table.PRESENT_POSITION
        self._spans: dict[Register, RegisterSpan] = {}  # one-register spans of sync_read, built once

    # -- protocol hooks -------------------------------------------------------------------------------------
    def _status_size(self, nparams: int) -> int:
        """[bytes] of one clean status packet carrying ``nparams`` parameter bytes."""
        raise NotImplementedError

    def _parse_clean(self, data: bytes, ids: Sequence[int], nparams: int | list[int]) -> list[tuple[int, bytes]] | None:
        """(error, params) per id if ``data`` is exactly the clean replies back to back, else None."""
        raise NotImplementedError

    def _framing(self) -> diagnostics.Framing:
        """How :func:`~.diagnostics.diagnose` decodes this protocol's status packets."""
        raise NotImplementedError

    def _shortfall(self, data: bytes, count: int) -> int:
        """Bytes still missing from ``count`` replies whose start is ``data`` (0 unless a reply grew, e.g. byte
        stuffing): the bus reads them before parsing."""
        return 0

    def _status_error(self, servo_id: int, register: Register | RegisterSpan | None, flags: int) -> ServoStatusError:
        return ServoStatusError(port=self.port, servo_id=servo_id, register=register, flags=flags)

    # -- lifecycle ------------------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self._ser is not None

    def open(self) -> None:
        """Open the port (idempotent); PortError names the port and lists existing ones."""
        if self._ser is None:
            self._ser = open_port(self.port, self.baudrate, self.timeout_s)

    def close(self) -> None:
        """Close the port (idempotent). Does not touch servo state: robots turn torque off before."""
        ser, self._ser = self._ser, None
        if ser is not None:
            ser.close()

    def __enter__(self) -> ServoBus:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.port!r}, {self.baudrate} baud, {self.table.name}, open={self.is_open})"

    # -- transactions ---------------------------------------------------------------------------------------
    def _serial(self) -> serial.Serial:
        if self._ser is None:
            name = type(self).__name__
            raise NotConnectedError(f"{self.port}: bus is not open; call open() or use `with {name}(...)`")
        return self._ser

    def _send(self, request: bytes) -> None:
        ser = self._serial()
        try:
            ser.reset_input_buffer()
            ser.write(request)
        except PORT_FAILURES as exc:
            raise PortLostError(f"write failed ({exc!r}); is the adapter still connected?", port=self.port) from exc
        self.stats.transactions += 1

    def _read(self, size: int) -> bytes:
        try:
            return self._serial().read(size)
        except PORT_FAILURES as exc:
            raise PortLostError(f"read failed ({exc!r}); is the adapter still connected?", port=self.port) from exc

    def _transact(
        self,
        request: bytes,
        ids: Sequence[int],
        nparams: int | list[int],
        register: Register | RegisterSpan | None,
        retries: int | None = None,
    ) -> list[bytes]:
        """Send ``request``, expect one status packet with ``nparams`` parameter bytes (or ``nparams[k]`` for
        ``ids[k]``) from each of ``ids`` in order.

        Returns the parameter bytes per id. Raises BusTimeoutError / CorruptPacketError after the retries,
        ServoStatusError when a reply carries masked error bits.
        """
        sizes = nparams if isinstance(nparams, list) else None
        expected = self._status_size(nparams) * len(ids) if sizes is None else sum(map(self._status_size, sizes))
        attempts = 1 + (self.retries if retries is None else retries)
        seen: list[diagnostics.Diagnosis] = []
        for attempt in range(attempts):
            if attempt:
                self.stats.retries += 1
            self._send(request)
            data = self._read(expected)
            if len(data) == expected:
                clean = self._parse_clean(data, ids, nparams)
                if clean is not None:
                    return self._check_status(clean, ids, register)
                more = self._shortfall(data, len(ids))
                if more:
                    data += self._read(more)
            diag = diagnostics.diagnose(data, ids, nparams, framing=self._framing())  # resynchronising parse
            if diag.kind is diagnostics.ReplyKind.OK:
                return self._check_status([diag.found[i] for i in ids], ids, register)
            seen.append(diag)
            if diag.is_noise:
                self.stats.corrupt += 1
            else:
                self.stats.timeouts += 1
        what = f"register {register.name} (addr {register.address})" if register else "request"
        detail = f"{what}, deadline {self.timeout_s * 1e3:.1f} ms per attempt"
        raise diagnostics.failure_error(self.port, ids, seen, detail, register)

    def _check_status(
        self, replies: list[tuple[int, bytes]], ids: Sequence[int], register: Register | RegisterSpan | None
    ) -> list:
        params = []
        for servo_id, (err, data) in zip(ids, replies):
            self.last_status[servo_id] = err
            if err & self.status_mask:
                self.stats.status_errors += 1
                raise self._status_error(servo_id, register, err)
            params.append(data)
        return params

    def _request(self, request: bytes, servo_id: int, register: Register | None) -> None:
        """Send a request that a broadcast gets no reply to; else wait for the servo's status."""
        with self._lock:
            if servo_id == self.proto.BROADCAST_ID:
                self._send(request)
            else:
                self._transact(request, (servo_id,), 0, register)

    # -- instructions ---------------------------------------------------------------------------------------
    def ping(self, servo_id: int, retries: int | None = None) -> int:
        """Ping ``servo_id`` and return its model number."""
        raise NotImplementedError

    def check_servos(self, expected: Mapping[int, int] | Iterable[int]) -> dict[int, int]:
        """Ping every expected id; MissingServoError (missing + answered ids) or ModelMismatchError if a
        mapping id -> model number is given and a model differs. Returns id -> model number."""
        expected_models = dict(expected) if isinstance(expected, Mapping) else dict.fromkeys(expected)
        found: dict[int, int] = {}
        noisy: dict[int, CorruptPacketError] = {}
        for servo_id in expected_models:
            try:
                found[servo_id] = self.ping(servo_id)
            except BusTimeoutError:
                continue
            except CorruptPacketError as exc:  # answered with bad checksums, or noise instead of a reply
                noisy[servo_id] = exc
        if len(found) < len(expected_models):
            raise diagnostics.check_error(self.port, expected_models, found, noisy, f"{self.baudrate} baud")
        for servo_id, model in expected_models.items():
            if model is not None and found[servo_id] != model:
                raise ModelMismatchError(port=self.port, servo_id=servo_id, expected=model, found=found[servo_id])
        return found

    def read(self, servo_id: int, register: Register) -> int:
        """Decoded value of ``register`` on ``servo_id`` (signs applied as the table says)."""
        with self._lock:
            request = self.proto.read_packet(servo_id, register.address, register.size)
            data = self._transact(request, (servo_id,), register.size, register)[0]
        return register.decode(data, self.table.byte_order)

    def write(self, servo_id: int, register: Register, value: int) -> None:
        """Write ``value`` and wait for the status reply (none for the broadcast id)."""
        data = register.encode(value, self.table.byte_order)
        self._request(self.proto.write_packet(servo_id, register.address, data), servo_id, register)

    def reg_write(self, servo_id: int, register: Register, value: int) -> None:
        """Stage a write that takes effect on :meth:`action` (REG_WRITE)."""
        data = register.encode(value, self.table.byte_order)
        self._request(self.proto.reg_write_packet(servo_id, register.address, data), servo_id, register)

    def action(self, servo_id: int | None = None) -> None:
        """Apply staged REG_WRITEs (broadcast by default: no reply)."""
        servo_id = self.proto.BROADCAST_ID if servo_id is None else servo_id
        self._request(self.proto.action_packet(servo_id), servo_id, None)

    def sync_read(self, register: Register, ids: Sequence[int]) -> np.ndarray:
        """Decoded values of ``register`` for ``ids``, int64 (len(ids),) in the given order (:meth:`sync_read_span`)."""
        span = self._spans.get(register)
        if span is None:
            span = self._spans[register] = RegisterSpan((register,))
        return self.sync_read_span(span, ids)[0]

    def sync_read_state(self, ids: Sequence[int]) -> ServoState:
        """Present position and velocity of ``ids`` in ONE transaction (the span covering both registers)."""
        first, second = self.sync_read_span(self._state_span, ids)
        return ServoState(first, second) if self._position_first else ServoState(second, first)

    def sync_read_span(self, span: RegisterSpan, ids: Sequence[int]) -> tuple[np.ndarray, ...]:
        """Decoded values of each register of ``span`` for ``ids``: one int64 (len(ids),) array per register, ids in
        the given order, signs applied per the table. One SYNC_READ where the model supports it (each servo
        answers in order), else one READ of the span per servo."""
        ids = tuple(ids)
        what = span.registers[0] if len(span.registers) == 1 else span  # named in errors
        if not self.table.supports_sync_read:
            with self._lock:
                replies = [
                    self._transact(self.proto.read_packet(i, span.address, span.size), (i,), span.size, what)[0]
                    for i in ids
                ]
            return span.decode(replies, self.table.byte_order)
        key = (span.address, span.size, ids)
        request = self._sync_read_requests.get(key)
        if request is None:
            request = self._sync_read_requests[key] = self.proto.sync_read_packet(span.address, span.size, ids)
        with self._lock:
            replies = self._transact(request, ids, span.size, what)
        return span.decode(replies, self.table.byte_order)

    def sync_write(self, register: Register, ids: Sequence[int], values: Sequence[int]) -> None:
        """Write one value per id in a single SYNC_WRITE (no reply)."""
        if len(ids) != len(values):
            raise EncodingError(
                f"sync_write {register.name}: {len(ids)} ids but {len(values)} values; give one value per id"
            )
        order = self.table.byte_order
        items = [(i, register.encode(v, order)) for i, v in zip(ids, values)]
        request = self.proto.sync_write_packet(register.address, register.size, items)
        with self._lock:
            self._send(request)

    # -- EEPROM ---------------------------------------------------------------------------------------------
    def write_eeprom(self, servo_id: int, register: Register, value: int, verify: bool = True) -> None:
        """Write an EEPROM ``register`` (torque must be off: TorqueEnabledError otherwise, naming the register);
        with ``verify`` read it back (BusError if it did not stick). Writing ``ID`` verifies at the new id."""
        new_id = value if register.address == self.table.ID.address else servo_id
        with self._lock:
            if self.read(servo_id, self.table.TORQUE_ENABLE):
                raise TorqueEnabledError(port=self.port, servo_id=servo_id, register=register)
            self._write_eeprom(servo_id, new_id, register, value)
            if verify:
                got = self.read(new_id, register)
                if got != value:
                    raise BusError(
                        f"servo {servo_id}: wrote {value} to {register.name} (addr {register.address}) "
                        f"but read back {got}",
                        port=self.port,
                    )

    def _write_eeprom(self, servo_id: int, new_id: int, register: Register, value: int) -> None:
        """The write itself (a family with an EEPROM lock unlocks around it; ``new_id``: the id after it)."""
        self.write(servo_id, register, value)
