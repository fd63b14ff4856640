"""Emulated Dynamixel X-series servos (protocol 2.0): their control tables and what they answer.

Semantics modelled (ROBOTIS e-Manual, X-series control table and protocol 2.0 pages): PING answers model number
and firmware version; READ / WRITE / REG_WRITE + ACTION / SYNC_READ / SYNC_WRITE / FAST_SYNC_READ / BULK_READ /
BULK_WRITE / REBOOT / FACTORY_RESET; writes to read-only addresses or to EEPROM (< 64) while torque is on are
refused with an access error (7), reads or writes outside the table with a data range error (4), unknown
instructions with an instruction error (2); Status_Return_Level 0/1/2 (answer PING only / PING and READ / all);
Homing_Offset (present = actual + offset, e-Manual "Homing Offset(20)"); goals clamped to
Min/Max_Position_Limit in position mode (3), not in extended-position (4) or current-based position (5) mode;
Present_Velocity in 0.229 rpm; hardware errors (voltage, overheat, overload) in Hardware_Error_Status and the
alert bit 0x80 of every status packet. Not modelled: profiles (Profile_Velocity/Acceleration are stored, the
motion model sets the speed), current limiting, torque shutdown on a hardware error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twinarm.hardware.dynamixel import protocol as proto
from twinarm.hardware.dynamixel.protocol import Instruction
from twinarm.hardware.dynamixel.tables import VELOCITY_UNIT_TPS, OperatingMode, table_for
from twinarm.hardware.emulator.servo import MEMORY_SIZE, ServoMemory
from twinarm.hardware.registers import ModelTable

if TYPE_CHECKING:  # pragma: no cover
    from twinarm.hardware.emulator.handlers import Reply
    from twinarm.hardware.emulator.server import Emulator

ERR_INSTRUCTION, ERR_DATA_RANGE, ERR_ACCESS = 2, 4, 7
ALERT = 0x80
HW_VOLTAGE, HW_OVERHEAT, HW_OVERLOAD = 0x01, 0x04, 0x20  # Hardware_Error_Status bits (e-Manual "(70)")
FIRMWARE_VERSION = 52  # reported by PING and Firmware_Version (a plausible X-series firmware)

# Factory defaults (e-Manual control tables); by model family where they differ (XL330 runs on 5 V).
_DEFAULTS = {
    "Baud_Rate": 1,  # 57600 from the factory; the emulator serves at whatever its config says
    "Operating_Mode": OperatingMode.POSITION,
    "Protocol_Type": 2,
    "Moving_Threshold": 10,
    "Temperature_Limit": 72,
    "PWM_Limit": 885,
    "Velocity_Limit": 265,
    "Max_Position_Limit": 4095,
    "Shutdown": 52,
    "Status_Return_Level": 2,
    "Velocity_I_Gain": 1000,
    "Velocity_P_Gain": 100,
    "Position_P_Gain": 800,
    "Present_Temperature": 30,
}
_VOLTS = {"XL430": (140, 60, 115), "XL330": (70, 35, 50)}  # Max/Min_Voltage_Limit, present input [0.1 V]


class DynamixelServo(ServoMemory):
    """Control table of one Dynamixel servo; ``actual`` positions are shaft ticks before the homing offset."""

    def __init__(self, servo_id: int, table: ModelTable, position: float, return_delay: int = 0) -> None:
        super().__init__(table)
        self.staged: tuple[int, bytes] | None = None
        self.overload = False
        t = self.table
        self._r_goal, self._r_offset, self._r_pos, self._r_vel = (
            t.GOAL_POSITION,
            t.HOMING_OFFSET,
            t.PRESENT_POSITION,
            t.PRESENT_VELOCITY,
        )
        self._r_load = t.PRESENT_CURRENT if "Present_Current" in t else t.PRESENT_LOAD
        for name, value in _DEFAULTS.items():
            self.set(t[name], value)
        vmax, vmin, volts = _VOLTS[t.name[:5]]
        self.set(t.MAX_VOLTAGE_LIMIT, vmax)
        self.set(t.MIN_VOLTAGE_LIMIT, vmin)
        self.set(t.PRESENT_INPUT_VOLTAGE, volts)
        self.set(t.MODEL_NUMBER, t.model_number)
        self.set(t.FIRMWARE_VERSION, FIRMWARE_VERSION)
        self.set(t.ID, servo_id)
        self.set(t.RETURN_DELAY_TIME, return_delay)
        self.set(t.PRESENT_POSITION, round(position))
        self.set(t.GOAL_POSITION, round(position))
        self.actual = float(position)
        self._refresh_goal()

    @property
    def status_return_level(self) -> int:
        return self.mem[self.table.STATUS_RETURN_LEVEL.address]

    def inject_faults(self, overheat: bool = False, low_voltage: bool = False, overload: bool = False) -> None:
        """Fault injection: temperature above its limit, voltage below its limit, an overload flag."""
        t = self.table
        self.overload = overload
        if overheat:
            self.set(t.PRESENT_TEMPERATURE, self.get(t.TEMPERATURE_LIMIT) + 5)
        if low_voltage:
            self.set(t.PRESENT_INPUT_VOLTAGE, max(0, self.get(t.MIN_VOLTAGE_LIMIT) - 5))
        self.mem[t.HARDWARE_ERROR_STATUS.address] = self._hardware_errors()

    # -- host instructions ----------------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes | None:
        """Bytes for a READ; None if the range leaves the table (the servo answers a data range error)."""
        if size == 0 or address + size > MEMORY_SIZE:
            return None
        return bytes(self.mem[address : address + size])

    def write(self, address: int, data: bytes) -> int:
        """Apply a WRITE; the status error number (0: written; access / data range error: nothing written)."""
        end = address + len(data)
        if not data or end > MEMORY_SIZE:
            return ERR_DATA_RANGE
        if not all(self._writable[address:end]):
            return ERR_ACCESS
        if address < self.table.eeprom_end and self.torque_enabled:
            return ERR_ACCESS
        self.mem[address:end] = data
        self._refresh_goal()
        return 0

    def action(self) -> int:
        staged, self.staged = self.staged, None
        self.mem[self.table.REGISTERED_INSTRUCTION.address] = 0
        return 0 if staged is None else self.write(*staged)

    def factory_reset(self, option: int) -> None:
        keep_id, keep_baud = option in (0x01, 0x02), option == 0x02
        servo_id, baud = self.id, self.get(self.table.BAUD_RATE)
        delay = self.get(self.table.RETURN_DELAY_TIME)
        self.__init__(servo_id if keep_id else 1, self.table, self.actual, delay)  # type: ignore[misc]
        if keep_baud:
            self.set(self.table.BAUD_RATE, baud)

    # -- motion interface -----------------------------------------------------------------------------------
    def _refresh_goal(self) -> None:
        self._offset = self.get(self._r_offset)
        goal = self.get(self._r_goal)
        if self.mem[self.table.OPERATING_MODE.address] == OperatingMode.POSITION:
            goal = min(max(goal, self.get(self.table.MIN_POSITION_LIMIT)), self.get(self.table.MAX_POSITION_LIMIT))
        self.goal_actual = float(goal - self._offset)  # [ticks], shaft frame
        self.set(self._r_pos, round(self.actual) + self._offset)  # a new offset shows at once

    def update(self, actual: float, velocity: float, load: float) -> None:
        """Store the motion model's state (velocity [ticks/s], load [0.1 %]) in the Present_* registers."""
        self.actual = actual
        self.set(self._r_pos, round(actual) + self._offset)
        self.set(self._r_vel, round(velocity / VELOCITY_UNIT_TPS))
        self.set(self._r_load, max(-1000, min(1000, round(load))))
        self.mem[self.table.MOVING.address] = 1 if abs(velocity) > 10 else 0
        self.mem[self.table.HARDWARE_ERROR_STATUS.address] = self._hardware_errors()

    def _hardware_errors(self) -> int:
        t, bits = self.table, 0
        if not self.get(t.MIN_VOLTAGE_LIMIT) <= self.get(t.PRESENT_INPUT_VOLTAGE) <= self.get(t.MAX_VOLTAGE_LIMIT):
            bits |= HW_VOLTAGE
        if self.get(t.PRESENT_TEMPERATURE) > self.get(t.TEMPERATURE_LIMIT):
            bits |= HW_OVERHEAT
        if self.overload:
            bits |= HW_OVERLOAD
        return bits

    def status_flags(self, error: int = 0) -> int:
        """Error byte of a status packet: ``error`` number plus the alert bit while a hardware error is set."""
        return error | (ALERT if self.mem[self.table.HARDWARE_ERROR_STATUS.address] else 0)


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
