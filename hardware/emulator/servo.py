"""One emulated Feetech servo: its control-table bytes and their semantics (no I/O, no timing).

Semantics modelled: EEPROM writes ignored while Lock=1; read-only registers ignore writes; homing offset
(present = actual - offset, sign bit 11) and Phase bit 4 (multi-turn: no wrap of the present position);
min/max position limits clamp goals (both 0: no clamp); REG_WRITE staged until ACTION; status bits from
voltage and temperature limits and an overload flag.
"""

from __future__ import annotations

from twinarm.hardware.feetech.registers import ModelTable, Register

MEMORY_SIZE = 256
FLAG_VOLTAGE, FLAG_OVERHEAT, FLAG_OVERLOAD = 0x01, 0x04, 0x20

# Factory-like defaults (STS3215 datasheet values where known); registers absent from a table are skipped.
_DEFAULTS = {
    "Firmware_Major_Version": 3,
    "Firmware_Minor_Version": 10,
    "Baud_Rate": 0,
    "Response_Status_Level": 1,
    "Max_Temperature_Limit": 70,
    "Max_Voltage_Limit": 140,
    "Min_Voltage_Limit": 40,
    "Max_Torque_Limit": 1000,
    "Phase": 0x0C,
    "Unloading_Condition": 44,
    "LED_Alarm_Condition": 47,
    "P_Coefficient": 32,
    "D_Coefficient": 32,
    "Minimum_Startup_Force": 16,
    "CW_Dead_Zone": 1,
    "CCW_Dead_Zone": 1,
    "Protection_Current": 500,
    "Angular_Resolution": 1,
    "Protective_Torque": 20,
    "Protection_Time": 200,
    "Overload_Torque": 80,
    "Torque_Limit": 1000,
    "Lock": 1,
    "Present_Voltage": 120,
    "Present_Temperature": 30,
}


class ServoMemory:
    """The control-table bytes of one emulated servo (any family) and raw access to them (no access rules)."""

    def __init__(self, table: ModelTable) -> None:
        self.table = table
        self.mem = bytearray(MEMORY_SIZE)
        self._order = table.byte_order
        self._writable = bytearray(MEMORY_SIZE)  # 1 where the host may write
        for reg in table:
            if reg.writable:
                self._writable[reg.address : reg.address + reg.size] = b"\x01" * reg.size
        self._a_torque = table.TORQUE_ENABLE.address

    def get(self, reg: Register) -> int:
        return reg.decode(bytes(self.mem[reg.address : reg.address + reg.size]), self._order)

    def set(self, reg: Register, value: int) -> None:
        self.mem[reg.address : reg.address + reg.size] = reg.encode(value, self._order)

    @property
    def id(self) -> int:
        return self.mem[self.table.ID.address]

    @property
    def torque_enabled(self) -> bool:
        return bool(self.mem[self._a_torque])

    @property
    def return_delay_s(self) -> float:
        """Return_Delay_Time [s] (2 us units in both families)."""
        return self.mem[self.table.RETURN_DELAY_TIME.address] * 2e-6


class EmulatedServo(ServoMemory):
    """Control table of one Feetech servo; ``actual`` positions are shaft ticks before the homing offset."""

    def __init__(self, servo_id: int, table: ModelTable, position: float, return_delay: int = 0) -> None:
        super().__init__(table)
        self._eeprom_end = table.eeprom_end
        self._lock_addr = table.LOCK.address
        self._has_offset = "Homing_Offset" in table
        self.overload = False
        # hot-path registers, looked up once
        self._r_goal, self._r_offset = table.GOAL_POSITION, (table.HOMING_OFFSET if "Homing_Offset" in table else None)
        self._r_min, self._r_max = table.MIN_POSITION_LIMIT, table.MAX_POSITION_LIMIT
        self._r_pos, self._r_vel, self._r_load = table.PRESENT_POSITION, table.PRESENT_VELOCITY, table.PRESENT_LOAD
        self._r_cur = table.PRESENT_CURRENT
        self._a_moving, self._a_status = table.MOVING.address, table.STATUS.address
        self._a_phase = table.PHASE.address if table.phase_bits else None  # SCS: no multi-turn bit
        self._multi_turn_bit = table.phase_bits.multi_turn_bit if table.phase_bits else 0
        self._a_volt, self._a_vmin, self._a_vmax = (
            table.PRESENT_VOLTAGE.address,
            table.MIN_VOLTAGE_LIMIT.address,
            table.MAX_VOLTAGE_LIMIT.address,
        )
        self._a_temp, self._a_tmax = table.PRESENT_TEMPERATURE.address, table.MAX_TEMPERATURE_LIMIT.address
        self._signed_feedback = table.PRESENT_VELOCITY.sign_bit is not None
        self.staged: tuple[int, bytes] | None = None  # REG_WRITE waiting for ACTION
        for name, value in _DEFAULTS.items():
            if name in table:
                self.set(table[name], value)
        self.set(table.MODEL_NUMBER, table.model_number)
        self.set(table.ID, servo_id)
        self.set(table.RETURN_DELAY_TIME, return_delay)
        self.set(table.MAX_POSITION_LIMIT, table.resolution - 1)
        present = round(position) % table.resolution
        self.set(table.PRESENT_POSITION, present)
        self.set(table.GOAL_POSITION, present)
        self.actual = float(position)
        self._refresh_goal()

    @property
    def replies_to_all(self) -> bool:
        """Response_Status_Level: 0 = reply only to READ and PING."""
        return self.mem[self.table.RESPONSE_STATUS_LEVEL.address] != 0

    def inject_faults(self, overheat: bool = False, low_voltage: bool = False, overload: bool = False) -> None:
        """Fault injection: temperature above its limit, voltage below its limit, an overload flag."""
        t = self.table
        self.overload = overload
        if overheat:
            self.set(t.PRESENT_TEMPERATURE, self.get(t.MAX_TEMPERATURE_LIMIT) + 5)
        if low_voltage:
            self.set(t.PRESENT_VOLTAGE, max(0, self.get(t.MIN_VOLTAGE_LIMIT) - 5))

    # -- host instructions ----------------------------------------------------------------------------------
    def read(self, address: int, size: int) -> bytes | None:
        """Bytes for a READ; None (no reply) if the range leaves the table."""
        if size == 0 or address + size > MEMORY_SIZE:
            return None
        return bytes(self.mem[address : address + size])

    def write(self, address: int, data: bytes) -> bool:
        """Apply a WRITE; bytes of read-only registers, and of EEPROM while locked, are ignored.

        Returns False if the range leaves the table (no effect).
        """
        if address + len(data) > MEMORY_SIZE:
            return False
        locked = self.mem[self._lock_addr] != 0
        for i, byte in enumerate(data):
            addr = address + i
            if not self._writable[addr] or (locked and addr < self._eeprom_end and addr != self._lock_addr):
                continue
            self.mem[addr] = byte
        self._refresh_goal()
        return True

    def action(self) -> None:
        if self.staged is not None:
            self.write(*self.staged)
            self.staged = None

    # -- motion interface -----------------------------------------------------------------------------------
    def _put(self, reg: Register, value: int) -> None:
        """Fast register store of an in-range value (sign-magnitude applied)."""
        if value < 0 and reg.sign_bit is not None:
            value = -value | (1 << reg.sign_bit)
        self.mem[reg.address : reg.address + reg.size] = value.to_bytes(reg.size, self._order.value)

    def _refresh_goal(self) -> None:
        """Cache what the motion loop needs after any write: offset, multi-turn flag, goal in the shaft frame."""
        self._offset = 0 if self._r_offset is None else self.get(self._r_offset)
        self._multi = self._a_phase is not None and bool(self.mem[self._a_phase] & self._multi_turn_bit)
        goal = self.get(self._r_goal)
        lo, hi = self.get(self._r_min), self.get(self._r_max)
        if lo or hi:
            goal = min(max(goal, lo), hi)
        self.goal_actual = float(goal + self._offset)  # [ticks], shaft frame

    def update(self, actual: float, velocity: float, load: float) -> None:
        """Store the motion model's state in the Present_* registers and the status bits."""
        self.actual = actual
        present = round(actual) - self._offset
        if self._multi:
            present = max(-32767, min(32767, present))
        else:
            present %= self.table.resolution
        self._put(self._r_pos, present)
        vel, ld = round(velocity), round(load)
        if not self._signed_feedback:
            vel, ld = abs(vel), abs(ld)
        self._put(self._r_vel, max(-32767, min(32767, vel)))
        self._put(self._r_load, max(-1000, min(1000, ld)))
        self._put(self._r_cur, min(abs(ld), 2000))
        self.mem[self._a_moving] = 1 if abs(velocity) > 10 else 0
        self.mem[self._a_status] = self.status_flags()

    def status_flags(self) -> int:
        """Error byte of a status packet, derived from the table state."""
        m = self.mem
        flags = 0
        if not m[self._a_vmin] <= m[self._a_volt] <= m[self._a_vmax]:
            flags |= FLAG_VOLTAGE
        if m[self._a_temp] > m[self._a_tmax]:
            flags |= FLAG_OVERHEAT
        if self.overload:
            flags |= FLAG_OVERLOAD
        return flags
