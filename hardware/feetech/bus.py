"""FeetechBus: register access to Feetech servos on one serial bus (no joints, no radians: see calibration).

Every transaction flushes stale input, writes one request and reads the whole expected reply with ONE blocking
read sized to it (the serial timeout is the deadline: no busy-wait). Failures are classified (timeout, corrupt
reply) and retried up to ``retries`` times; servo error bits raise :class:`ServoStatusError` at once (they are
conditions, not transmission noise). EEPROM registers are written through :meth:`write_eeprom` /
:meth:`unlocked`, which refuse while torque is on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import serial

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
from twinarm.hardware.feetech import diagnostics
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.registers import ModelTable, Register, RegisterSpan
from twinarm.hardware.feetech.tables import STS3215
from twinarm.hardware.ports import open_port
from twinarm.robot.errors import NotConnectedError

_NO_PARAMS: tuple[bytes, ...] = (b"",)

try:  # what a port that vanished (USB unplug, emulator killed) raises: tcflush fails with termios.error (EIO)
    import termios

    _PORT_FAILURES: tuple[type[BaseException], ...] = (serial.SerialException, OSError, termios.error)
except ImportError:  # pragma: no cover - no termios on Windows
    _PORT_FAILURES = (serial.SerialException, OSError)


class ServoState(NamedTuple):
    """Present state of the servos of one read, in the order of the ids asked for."""

    position: np.ndarray  # (n,) int64 [ticks], Present_Position decoded (sign-magnitude where the table says)
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


class FeetechBus:
    """One Feetech serial bus. ``port`` is anything :func:`hardware.ports.open_port` accepts.

    ``timeout_s`` [s] is the deadline of one attempt; ``retries`` extra attempts follow a timeout or a
    corrupt reply. ``status_mask`` selects the status bits that raise (all by default); ``last_status`` maps
    servo id -> error byte of its latest reply.
    """

    def __init__(
        self,
        port: str,
        baudrate: int = 1_000_000,
        table: ModelTable = STS3215,
        timeout_s: float = 0.02,
        retries: int = 2,
    ) -> None:
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
        self._state_span = RegisterSpan.of((table.PRESENT_POSITION, table.PRESENT_VELOCITY))
        self._spans: dict[Register, RegisterSpan] = {}  # one-register spans of sync_read, built once

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

    def __enter__(self) -> FeetechBus:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FeetechBus({self.port!r}, {self.baudrate} baud, {self.table.name}, open={self.is_open})"

    # -- transactions ---------------------------------------------------------------------------------------
    def _serial(self) -> serial.Serial:
        if self._ser is None:
            raise NotConnectedError(f"{self.port}: bus is not open; call open() or use `with FeetechBus(...)`")
        return self._ser

    def _send(self, request: bytes) -> None:
        ser = self._serial()
        try:
            ser.reset_input_buffer()
            ser.write(request)
        except _PORT_FAILURES as exc:
            raise PortLostError(f"write failed ({exc!r}); is the adapter still connected?", port=self.port) from exc
        self.stats.transactions += 1

    def _transact(
        self,
        request: bytes,
        ids: Sequence[int],
        nparams: int,
        register: Register | RegisterSpan | None,
        retries: int | None = None,
    ) -> list[bytes]:
        """Send ``request``, expect one status packet with ``nparams`` parameter bytes from each of ``ids`` in order.

        Returns the parameter bytes per id. Raises BusTimeoutError / CorruptPacketError after the retries,
        ServoStatusError when a reply carries masked error bits.
        """
        size = proto.STATUS_OVERHEAD + nparams
        expected = size * len(ids)
        length = nparams + 2
        attempts = 1 + (self.retries if retries is None else retries)
        seen: list[diagnostics.Diagnosis] = []
        for attempt in range(attempts):
            if attempt:
                self.stats.retries += 1
            self._send(request)
            try:
                data = self._serial().read(expected)
            except _PORT_FAILURES as exc:
                raise PortLostError(f"read failed ({exc!r}); is the adapter still connected?", port=self.port) from exc
            # fast path: exactly the expected packets, back to back
            if len(data) == expected:
                out = []
                for i, servo_id in enumerate(ids):
                    off = i * size
                    if (
                        data[off] != 0xFF
                        or data[off + 1] != 0xFF
                        or data[off + 2] != servo_id
                        or data[off + 3] != length
                        or (~sum(data[off + 2 : off + size - 1]) & 0xFF) != data[off + size - 1]
                    ):
                        break
                    out.append((data[off + 4], data[off + 5 : off + 5 + nparams]))
                else:
                    return self._check_status(out, ids, register)
            diag = diagnostics.diagnose(data, ids, length)  # resynchronising parse, failure classified
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
                raise ServoStatusError(port=self.port, servo_id=servo_id, register=register, flags=err)
            params.append(data)
        return params

    # -- instructions ---------------------------------------------------------------------------------------
    def ping(self, servo_id: int, retries: int | None = None) -> int:
        """Ping ``servo_id`` and return its model number (read from Model_Number)."""
        with self._lock:
            self._transact(proto.ping_packet(servo_id), (servo_id,), 0, None, retries)
            data = self._transact(proto.read_packet(servo_id, 3, 2), (servo_id,), 2, None, retries)[0]
        return int.from_bytes(data, self.table.byte_order.value)

    def broadcast_ping(self, window_s: float = 0.5) -> bytes:
        """PING the broadcast id 0xFE; every byte received until the line stays quiet for ``timeout_s`` or
        ``window_s`` [s] pass (each servo answers with its own status packet after its return delay)."""
        with self._lock:
            self._send(proto.ping_packet(proto.BROADCAST_ID))
            ser, data, t_end = self._serial(), bytearray(), time.monotonic() + window_s
            while time.monotonic() < t_end:
                try:
                    chunk = ser.read(max(1, ser.in_waiting))
                except _PORT_FAILURES as exc:
                    raise PortLostError(
                        f"read failed ({exc!r}); is the adapter still connected?", port=self.port
                    ) from exc
                if not chunk:
                    break
                data += chunk
        return bytes(data)

    def scan(self, ids: Iterable[int] = range(proto.MAX_ID + 1)) -> dict[int, int]:
        """id -> model number for the ``ids`` that answer (:func:`~.diagnostics.scan`: a broadcast PING on a
        clean line; CorruptPacketError, not a partial result, when noise hides ids)."""
        return diagnostics.scan(self, ids)

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
        """Decoded value of ``register`` on ``servo_id`` (sign-magnitude applied)."""
        with self._lock:
            request = proto.read_packet(servo_id, register.address, register.size)
            data = self._transact(request, (servo_id,), register.size, register)[0]
        return register.decode(data, self.table.byte_order)

    def write(self, servo_id: int, register: Register, value: int) -> None:
        """Write ``value`` and wait for the status reply (none for the broadcast id 0xFE)."""
        request = proto.write_packet(servo_id, register.address, register.encode(value, self.table.byte_order))
        with self._lock:
            if servo_id == proto.BROADCAST_ID:
                self._send(request)
            else:
                self._transact(request, (servo_id,), 0, register)

    def reg_write(self, servo_id: int, register: Register, value: int) -> None:
        """Stage a write that takes effect on :meth:`action` (REG_WRITE)."""
        request = proto.reg_write_packet(servo_id, register.address, register.encode(value, self.table.byte_order))
        with self._lock:
            if servo_id == proto.BROADCAST_ID:
                self._send(request)
            else:
                self._transact(request, (servo_id,), 0, register)

    def action(self, servo_id: int = proto.BROADCAST_ID) -> None:
        """Apply staged REG_WRITEs (broadcast by default: no reply)."""
        with self._lock:
            if servo_id == proto.BROADCAST_ID:
                self._send(proto.action_packet(servo_id))
            else:
                self._transact(proto.action_packet(servo_id), (servo_id,), 0, None)

    def sync_read(self, register: Register, ids: Sequence[int]) -> np.ndarray:
        """Decoded values of ``register`` for ``ids``, int64 (len(ids),) in the given order (:meth:`sync_read_span`)."""
        span = self._spans.get(register)
        if span is None:
            span = self._spans[register] = RegisterSpan((register,))
        return self.sync_read_span(span, ids)[0]

    def sync_read_state(self, ids: Sequence[int]) -> ServoState:
        """Present position and velocity of ``ids`` in ONE transaction (the 4 bytes from Present_Position on)."""
        return ServoState(*self.sync_read_span(self._state_span, ids))

    def sync_read_span(self, span: RegisterSpan, ids: Sequence[int]) -> tuple[np.ndarray, ...]:
        """Decoded values of each register of ``span`` for ``ids``: one int64 (len(ids),) array per register, ids in
        the given order, sign-magnitude applied per the table. One SYNC_READ where the model supports it (each
        servo answers in order), else one READ of the span per servo."""
        ids = tuple(ids)
        what = span.registers[0] if len(span.registers) == 1 else span  # named in errors
        if not self.table.supports_sync_read:
            with self._lock:
                replies = [
                    self._transact(proto.read_packet(i, span.address, span.size), (i,), span.size, what)[0] for i in ids
                ]
            return span.decode(replies, self.table.byte_order)
        key = (span.address, span.size, ids)
        request = self._sync_read_requests.get(key)
        if request is None:
            request = self._sync_read_requests[key] = proto.sync_read_packet(span.address, span.size, ids)
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
        request = proto.sync_write_packet(register.address, register.size, items)
        with self._lock:
            self._send(request)

    # -- EEPROM ---------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def unlocked(self, servo_id: int, register: Register | None = None) -> Iterator[None]:
        """Lock=0 for the block, Lock=1 after (even on errors). TorqueEnabledError if torque is on."""
        lock = self.table.LOCK
        if self.read(servo_id, self.table.TORQUE_ENABLE):
            raise TorqueEnabledError(port=self.port, servo_id=servo_id, register=register or lock)
        self.write(servo_id, lock, 0)
        try:
            yield
        finally:
            self.write(servo_id, lock, 1)

    def write_eeprom(self, servo_id: int, register: Register, value: int, verify: bool = True) -> None:
        """Unlock, write ``register``, re-lock; with ``verify`` read it back (BusError if it did not stick).

        Writing ``ID`` re-locks and verifies at the new id. Torque must be off (TorqueEnabledError).
        """
        new_id = value if register.address == self.table.ID.address else servo_id
        with self._lock:
            if self.read(servo_id, self.table.TORQUE_ENABLE):
                raise TorqueEnabledError(port=self.port, servo_id=servo_id, register=register)
            self.write(servo_id, self.table.LOCK, 0)
            written = False
            try:
                self.write(servo_id, register, value)
                written = True
            finally:
                self.write(new_id if written else servo_id, self.table.LOCK, 1)
            if verify:
                got = self.read(new_id, register)
                if got != value:
                    raise BusError(
                        f"servo {servo_id}: wrote {value} to {register.name} (addr {register.address}) "
                        f"but read back {got}",
                        port=self.port,
                    )
