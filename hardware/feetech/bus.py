"""FeetechBus: register access to Feetech servos on one serial bus (no joints, no radians: see calibration).

The transactions, retries and instructions shared with other protocols live in :class:`hardware.serial_bus.ServoBus`
(one blocking read sized to the expected replies, failures classified and retried, servo error bits raised as
:class:`ServoStatusError`). Feetech specifics here: the status framing, PING + READ of the model number, the
broadcast scan, and EEPROM writes through :meth:`write_eeprom` / :meth:`unlocked` (Lock register), which refuse
while torque is on.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence

from twinarm.hardware.errors import PortLostError, TorqueEnabledError
from twinarm.hardware.feetech import diagnostics
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.registers import Register
from twinarm.hardware.feetech.tables import STS3215
from twinarm.hardware.serial_bus import PORT_FAILURES, BusStats, ServoBus, ServoState

__all__ = ["BusStats", "FeetechBus", "ServoState"]


class FeetechBus(ServoBus):
    """One Feetech serial bus. ``port`` is anything :func:`hardware.ports.open_port` accepts.

    ``timeout_s`` [s] is the deadline of one attempt; ``retries`` extra attempts follow a timeout or a
    corrupt reply. ``status_mask`` selects the status bits that raise (all by default); ``last_status`` maps
    servo id -> error byte of its latest reply.
    """

    proto = proto
    default_table = STS3215

    # -- protocol hooks -------------------------------------------------------------------------------------
    def _status_size(self, nparams: int) -> int:
        return proto.STATUS_OVERHEAD + nparams

    def _framing(self) -> diagnostics.Framing:
        return diagnostics.FEETECH

    def _parse_clean(self, data: bytes, ids: Sequence[int], nparams: int) -> list[tuple[int, bytes]] | None:
        size, length = proto.STATUS_OVERHEAD + nparams, nparams + 2
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
                return None
            out.append((data[off + 4], data[off + 5 : off + 5 + nparams]))
        return out

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
                except PORT_FAILURES as exc:
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

    def _write_eeprom(self, servo_id: int, new_id: int, register: Register, value: int) -> None:
        """Lock=0, write, Lock=1 (at ``new_id`` once an ID write went through; even on errors)."""
        self.write(servo_id, self.table.LOCK, 0)
        written = False
        try:
            self.write(servo_id, register, value)
            written = True
        finally:
            self.write(new_id if written else servo_id, self.table.LOCK, 1)
