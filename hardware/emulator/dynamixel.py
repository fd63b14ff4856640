"""What emulated Dynamixel servos answer (protocol 2.0): the emulator's handler for them.

PING answers model number and firmware version; READ / WRITE / REG_WRITE + ACTION / SYNC_READ / SYNC_WRITE /
FAST_SYNC_READ / BULK_READ / BULK_WRITE / REBOOT / FACTORY_RESET; unknown instructions get an instruction error
(2); Status_Return_Level 0/1/2 (answer PING only / PING and READ / all). The servos themselves are
:class:`~hardware.emulator.dynamixel_servo.DynamixelServo`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twinarm.hardware.dynamixel import protocol as proto
from twinarm.hardware.dynamixel.protocol import Instruction
from twinarm.hardware.dynamixel.tables import table_for
from twinarm.hardware.emulator.dynamixel_servo import (
    ERR_ACCESS,
    ERR_DATA_RANGE,
    ERR_INSTRUCTION,
    FIRMWARE_VERSION,
    DynamixelServo,
)

if TYPE_CHECKING:  # pragma: no cover
    from twinarm.hardware.emulator.handlers import Reply
    from twinarm.hardware.emulator.server import Emulator


def _u16(params: bytes, off: int) -> int:
    return params[off] | params[off + 1] << 8


class DynamixelHandler:
    """Dynamixel protocol 2.0 (see :mod:`hardware.dynamixel.protocol`)."""

    name = "dynamixel"

    def make_servo(self, servo_id: int, model: str, position: float, return_delay: int) -> DynamixelServo:
        return DynamixelServo(servo_id, table_for(model), position, return_delay)

    def decoder(self) -> proto.PacketDecoder:
        return proto.PacketDecoder()

    def frame_size(self, packet: proto.Packet) -> int:
        return len(packet.params) + 10

    def dispatch(self, emu: Emulator, packet: proto.Packet) -> list[Reply]:
        inst, params, target = packet.code, packet.params, packet.servo_id
        if inst in (Instruction.SYNC_READ, Instruction.FAST_SYNC_READ) and len(params) >= 4:
            address, size = _u16(params, 0), _u16(params, 2)
            reads = [(i, address, size) for i in params[4:]]
            return self._reads(emu, reads, fast=inst == Instruction.FAST_SYNC_READ)
        if inst == Instruction.BULK_READ:
            reads = [(params[k], _u16(params, k + 1), _u16(params, k + 3)) for k in range(0, len(params) - 4, 5)]
            return self._reads(emu, reads, fast=False)
        if inst == Instruction.SYNC_WRITE and len(params) >= 4:
            address, size = _u16(params, 0), _u16(params, 2)
            for off in range(4, len(params) - size, size + 1):
                servo = emu.by_id(params[off])
                if servo is not None and not emu.silent(servo.id):
                    servo.write(address, params[off + 1 : off + 1 + size])
            return []
        if inst == Instruction.BULK_WRITE:
            off = 0
            while off + 5 <= len(params):
                servo, address, size = emu.by_id(params[off]), _u16(params, off + 1), _u16(params, off + 3)
                if servo is not None and not emu.silent(servo.id):
                    servo.write(address, params[off + 5 : off + 5 + size])
                off += 5 + size
            return []
        broadcast = target == proto.BROADCAST_ID
        targets = sorted(emu.servos, key=lambda s: s.id) if broadcast else [emu.by_id(target)]
        replies: list[Reply] = []
        for servo in targets:
            if servo is None or emu.silent(servo.id):
                continue
            reply = self._apply(servo, inst, params)  # a servo changing its ID still answers as the old one
            level = servo.status_return_level
            wanted = inst == Instruction.PING or level == 2 or (level == 1 and inst == Instruction.READ)
            if reply is not None and wanted and (not broadcast or inst == Instruction.PING):
                error, data = reply
                reply_id = servo.id if broadcast else target
                replies.append((servo, proto.status_packet(reply_id, servo.status_flags(error), data)))
        if inst in (Instruction.WRITE, Instruction.FACTORY_RESET):
            emu.reindex()  # an ID may have changed
        return replies

    @staticmethod
    def _apply(servo: DynamixelServo, inst: int, params: bytes) -> tuple[int, bytes] | None:
        """Execute one addressed instruction: (error number, reply data), or None for no reply."""
        if inst == Instruction.PING:
            return 0, servo.table.model_number.to_bytes(2, "little") + bytes((FIRMWARE_VERSION,))
        if inst == Instruction.READ and len(params) == 4:
            data = servo.read(_u16(params, 0), _u16(params, 2))
            return (ERR_DATA_RANGE, b"") if data is None else (0, data)
        if inst == Instruction.WRITE and len(params) > 2:
            return servo.write(_u16(params, 0), params[2:]), b""
        if inst == Instruction.REG_WRITE and len(params) > 2:
            servo.staged = (_u16(params, 0), bytes(params[2:]))
            servo.mem[servo.table.REGISTERED_INSTRUCTION.address] = 1
            return 0, b""
        if inst == Instruction.ACTION:
            return servo.action(), b""
        if inst == Instruction.REBOOT:
            servo.set(servo.table.TORQUE_ENABLE, 0)
            return 0, b""
        if inst == Instruction.FACTORY_RESET and len(params) == 1:
            if servo.torque_enabled:
                return ERR_ACCESS, b""
            servo.factory_reset(params[0])
            return 0, b""
        return ERR_INSTRUCTION, b""

    @staticmethod
    def _reads(emu: Emulator, reads: list[tuple[int, int, int]], fast: bool) -> list[Reply]:
        """SYNC_READ / BULK_READ: a status packet per servo in the order asked. FAST_SYNC_READ: one packet with a
        block per servo; it is cut where a servo does not answer (the servos after it wait for its block)."""
        blocks = []
        for servo_id, address, size in reads:
            servo = emu.by_id(servo_id)
            if servo is None or emu.silent(servo_id):
                if fast:
                    break
                continue
            data = servo.read(address, size)
            error = 0 if data is not None else ERR_DATA_RANGE
            blocks.append((servo, servo.status_flags(error), data if data is not None else bytes(size)))
        if not fast:
            return [(s, proto.status_packet(s.id, err, data)) for s, err, data in blocks]
        if not blocks:
            return []
        size = reads[0][2]
        answered = [(s.id, e, d) for s, e, d in blocks]
        if len(blocks) == len(reads):
            return [(blocks[0][0], proto.fast_status_packet(answered))]
        # the packet as far as the answering servos got: its LEN counts every servo asked
        whole = proto.fast_status_packet(answered + [(i, 0, bytes(size)) for i, _, _ in reads[len(blocks) :]])
        return [(blocks[0][0], whole[: 8 + (size + 4) * len(blocks)])]
