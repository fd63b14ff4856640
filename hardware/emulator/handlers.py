"""What emulated servos answer, per protocol: a :class:`Handler` turns one decoded request into status packets.

The :class:`~hardware.emulator.server.Emulator` owns the pty, timing, fault injection and motion; it picks the
handler from the servo models of its config (:func:`handler_for`): Feetech (:class:`FeetechHandler`, here) or
Dynamixel protocol 2.0 (:class:`~hardware.emulator.dynamixel.DynamixelHandler`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from twinarm.hardware.emulator.servo import EmulatedServo
from twinarm.hardware.feetech import protocol as proto
from twinarm.hardware.feetech.protocol import Instruction
from twinarm.hardware.feetech.tables import MODELS_BY_NAME as FEETECH_MODELS
from twinarm.hardware.feetech.tables import table_for
from twinarm.robot.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from twinarm.hardware.emulator.server import Emulator

#: (servo that answers, the complete status packet it sends)
Reply = tuple[Any, bytes]


class Handler(Protocol):
    """One protocol's side of the emulator."""

    name: str

    def make_servo(self, servo_id: int, model: str, position: float, return_delay: int) -> Any: ...
    def decoder(self) -> Any: ...
    def frame_size(self, packet: Any) -> int: ...
    def dispatch(self, emu: Emulator, packet: Any) -> list[Reply]: ...


class FeetechHandler:
    """Feetech SCS/STS servos (protocol "1.0" framing, see :mod:`hardware.feetech.protocol`)."""

    name = "feetech"

    def make_servo(self, servo_id: int, model: str, position: float, return_delay: int) -> EmulatedServo:
        return EmulatedServo(servo_id, table_for(model), position, return_delay)

    def decoder(self) -> proto.PacketDecoder:
        return proto.PacketDecoder()

    def frame_size(self, packet: proto.Packet) -> int:
        return len(packet.params) + 6

    def dispatch(self, emu: Emulator, packet: proto.Packet) -> list[Reply]:
        inst, params, target = packet.code, packet.params, packet.servo_id
        replies: list[tuple[EmulatedServo, int, bytes]] = []  # (servo, id it was addressed as, reply params)
        if inst == Instruction.SYNC_READ and len(params) >= 2:
            address, size = params[0], params[1]
            for servo_id in params[2:]:
                servo = emu.by_id(servo_id)  # a model without SYNC_READ (many SCS firmwares) stays silent
                if servo is not None and not emu.silent(servo_id) and servo.table.supports_sync_read:
                    data = servo.read(address, size)
                    if data is not None:
                        replies.append((servo, servo_id, data))
        elif inst == Instruction.SYNC_WRITE and len(params) >= 2:
            address, size = params[0], params[1]
            chunk = size + 1
            for off in range(2, len(params) - chunk + 1, chunk):
                servo = emu.by_id(params[off])
                if servo is not None and not emu.silent(params[off]):
                    servo.write(address, params[off + 1 : off + chunk])
        elif inst == Instruction.PING and target == proto.BROADCAST_ID:
            # every servo answers a broadcast PING with its own id, each after its return delay (lerobot's
            # scan_port / setup_motors rely on it); in id order, serialised by the emulator
            for servo in sorted(emu.servos, key=lambda s: s.id):
                if not emu.silent(servo.id):
                    replies.append((servo, servo.id, b""))
        else:
            targets = emu.servos if target == proto.BROADCAST_ID else [emu.by_id(target)]
            for servo in targets:
                if servo is None or emu.silent(servo.id):
                    continue
                reply = self._apply(servo, inst, params)  # a servo changing its ID still answers as the old one
                if reply is not None and target != proto.BROADCAST_ID:
                    replies.append((servo, target, reply))
            if inst == Instruction.WRITE and len(params) > 1 and params[0] <= 5 < params[0] + len(params) - 1:
                emu.reindex()  # an ID changed
        return [(servo, proto.status_packet(rid, servo.status_flags(), data)) for servo, rid, data in replies]

    @staticmethod
    def _apply(servo: EmulatedServo, inst: int, params: bytes) -> bytes | None:
        """Execute one addressed instruction; the reply parameters, or None for no reply."""
        if inst == Instruction.PING:
            return b""
        if inst == Instruction.READ:
            return servo.read(params[0], params[1]) if len(params) == 2 else None
        if inst == Instruction.WRITE and len(params) >= 2:
            ok = servo.write(params[0], params[1:])
        elif inst == Instruction.REG_WRITE and len(params) >= 2:
            servo.staged, ok = (params[0], bytes(params[1:])), True
        elif inst == Instruction.ACTION:
            servo.action()
            ok = True
        else:
            return None  # unknown or malformed instruction: a real servo stays silent
        return b"" if ok and servo.replies_to_all else None


def handler_for(models: Sequence[str]) -> Handler:
    """The handler of a bus whose servos are ``models``: all Feetech or all Dynamixel (ConfigError otherwise)."""
    from twinarm.hardware.dynamixel.tables import MODELS_BY_NAME as DXL_MODELS
    from twinarm.hardware.emulator.dynamixel import DynamixelHandler

    names = {str(m).lower() for m in models}
    if names <= set(FEETECH_MODELS):
        return FeetechHandler()
    if names <= set(DXL_MODELS):
        return DynamixelHandler()
    raise ConfigError(
        f"emulator servo models {sorted(names)}: one bus speaks one protocol; give only Feetech models "
        f"{sorted(FEETECH_MODELS)} or only Dynamixel models {sorted(DXL_MODELS)}"
    )
