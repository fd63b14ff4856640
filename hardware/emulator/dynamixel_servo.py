"""One emulated Dynamixel X-series servo: its control table and its semantics (no I/O, no timing).

Semantics modelled (ROBOTIS e-Manual, X-series control tables): writes to read-only addresses or to EEPROM (< 64)
while torque is on are refused with an access error (7), reads or writes outside the table with a data range
error (4); Homing_Offset (present = actual + offset, e-Manual "Homing Offset(20)"); goals clamped to
Min/Max_Position_Limit in position mode (3), not in extended-position (4) or current-based position (5) mode;
Present_Velocity in 0.229 rpm; hardware errors (voltage, overheat, overload) in Hardware_Error_Status and the
alert bit 0x80 of every status packet. Not modelled: profiles (Profile_Velocity/Acceleration are stored, the
motion model sets the speed), current limiting, torque shutdown on a hardware error.
"""

from __future__ import annotations

import struct

from twinarm.hardware.dynamixel.tables import VELOCITY_UNIT_TPS, OperatingMode
from twinarm.hardware.emulator.servo import MEMORY_SIZE, ServoMemory
from twinarm.hardware.registers import ModelTable, Register

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
_VOLTS = {
    "XL430": (140, 60, 115),
    "XL330": (70, 35, 50),
    "XC330": (70, 35, 50),
}  # Max/Min_Voltage_Limit, present input [0.1 V]


def _packer(size: int, signed: bool) -> struct.Struct:
    """Little-endian struct of a register of ``size`` bytes (the hot paths pack into ``mem`` directly)."""
    code = {1: "b", 2: "h", 4: "i"}[size]
    return struct.Struct("<" + (code if signed else code.upper()))


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
        self._limits = (t.MIN_POSITION_LIMIT, t.MAX_POSITION_LIMIT)
        # hot paths (the motion step, SYNC_WRITE of goals, status bytes) use addresses and structs looked up once
        self._hot = {r: (r.address, _packer(r.size, r.twos_complement)) for r in (*self._hot_registers(), self._r_load)}
        self._a_mode, self._a_moving = t.OPERATING_MODE.address, t.MOVING.address
        self._a_hw_error, self._a_id = t.HARDWARE_ERROR_STATUS.address, t.ID.address
        self._a_return_delay, self._a_status_level = t.RETURN_DELAY_TIME.address, t.STATUS_RETURN_LEVEL.address
        self._a_volts = (t.MIN_VOLTAGE_LIMIT.address, t.PRESENT_INPUT_VOLTAGE.address, t.MAX_VOLTAGE_LIMIT.address)
        self._a_temps = (t.PRESENT_TEMPERATURE.address, t.TEMPERATURE_LIMIT.address)
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

    def _hot_registers(self) -> tuple[Register, ...]:
        t = self.table
        return (t.GOAL_POSITION, t.HOMING_OFFSET, t.PRESENT_POSITION, t.PRESENT_VELOCITY, *self._limits)

    def _get(self, reg: Register) -> int:
        address, codec = self._hot[reg]
        return codec.unpack_from(self.mem, address)[0]

    def _set(self, reg: Register, value: int) -> None:
        address, codec = self._hot[reg]
        codec.pack_into(self.mem, address, value)

    @property
    def id(self) -> int:
        return self.mem[self._a_id]

    @property
    def status_return_level(self) -> int:
        return self.mem[self._a_status_level]

    @property
    def return_delay_s(self) -> float:
        """Return_Delay_Time [s] (2 us units)."""
        return self.mem[self._a_return_delay] * 2e-6

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
        self._offset = offset = self._get(self._r_offset)
        goal = self._get(self._r_goal)
        if self.mem[self._a_mode] == OperatingMode.POSITION:
            low, high = self._limits
            goal = min(max(goal, self._get(low)), self._get(high))
        self.goal_actual = float(goal - offset)  # [ticks], shaft frame
        self._set(self._r_pos, round(self.actual) + offset)  # a new offset shows at once

    def update(self, actual: float, velocity: float, load: float) -> None:
        """Store the motion model's state (velocity [ticks/s], load [0.1 %]) in the Present_* registers."""
        self.actual = actual
        mem, hot = self.mem, self._hot
        address, codec = hot[self._r_pos]
        codec.pack_into(mem, address, round(actual) + self._offset)
        address, codec = hot[self._r_vel]
        codec.pack_into(mem, address, round(velocity / VELOCITY_UNIT_TPS))
        address, codec = hot[self._r_load]
        codec.pack_into(mem, address, max(-1000, min(1000, round(load))))
        mem[self._a_moving] = 1 if abs(velocity) > 10 else 0
        mem[self._a_hw_error] = self._hardware_errors()

    def _hardware_errors(self) -> int:
        mem, bits = self.mem, 0
        low, volts, high = self._a_volts  # Min/Max_Voltage_Limit and the present input voltage: 2 bytes each
        if not mem[low] | mem[low + 1] << 8 <= mem[volts] | mem[volts + 1] << 8 <= mem[high] | mem[high + 1] << 8:
            bits |= HW_VOLTAGE
        temperature, limit = self._a_temps
        if mem[temperature] > mem[limit]:
            bits |= HW_OVERHEAT
        if self.overload:
            bits |= HW_OVERLOAD
        return bits

    def status_flags(self, error: int = 0) -> int:
        """Error byte of a status packet: ``error`` number plus the alert bit while a hardware error is set."""
        return error | (ALERT if self.mem[self._a_hw_error] else 0)
