"""Dynamixel X-series control tables as data (protocol 2.0; the shared types of :mod:`hardware.registers`).

Addresses and sizes from the ROBOTIS e-Manual control tables (https://emanual.robotis.com/docs/en/dxl/x/xl430-w250/,
.../xl330-m288/, .../xl330-m077/, section "Control Table"), cross-checked against LeRobot's
``lerobot/motors/dynamixel/tables.py`` (X_SERIES_CONTROL_TABLE, MODEL_NUMBER_TABLE: xl430-w250 1060, xl330-m288
1200, xl330-m077 1190; operating modes xl430 {1, 3, 4, 16}, xl330 {0, 1, 3, 4, 5, 16}). Every value is
little-endian; signed registers are two's complement. EEPROM is addresses 0..63 (writable only with torque off,
the servo answers an access error otherwise); there is no Lock register. Differences between the models: the XL430
has no current sensing (no Current_Limit / Goal_Current; address 126 is Present_Load [0.1 %]), the XL330 does
(126 is Present_Current [mA]).
"""

from __future__ import annotations

from enum import IntEnum

from twinarm.hardware.registers import ByteOrder, ModelTable, Register
from twinarm.robot.errors import ConfigError

EEPROM_END = 64


class OperatingMode(IntEnum):
    """Operating_Mode (address 11) values, e-Manual "Operating Mode(11)"."""

    CURRENT = 0
    VELOCITY = 1
    POSITION = 3
    EXTENDED_POSITION = 4  # multi-turn: Present_Position is not wrapped (+-256 turns)
    CURRENT_BASED_POSITION = 5  # position control with Goal_Current as the current limit (XL330 only)
    PWM = 16


# (name, address, size[, signed]); read-only names below.
_X_ROWS_COMMON = [
    ("Model_Number", 0, 2),
    ("Model_Information", 2, 4),
    ("Firmware_Version", 6, 1),
    ("ID", 7, 1),
    ("Baud_Rate", 8, 1),
    ("Return_Delay_Time", 9, 1),  # [2 us], factory 250
    ("Drive_Mode", 10, 1),
    ("Operating_Mode", 11, 1),
    ("Secondary_ID", 12, 1),
    ("Protocol_Type", 13, 1),
    ("Homing_Offset", 20, 4, True),  # [ticks], present = actual + offset (e-Manual "Homing Offset(20)")
    ("Moving_Threshold", 24, 4),
    ("Temperature_Limit", 31, 1),  # [deg C]
    ("Max_Voltage_Limit", 32, 2),  # [0.1 V]
    ("Min_Voltage_Limit", 34, 2),  # [0.1 V]
    ("PWM_Limit", 36, 2),
    ("Velocity_Limit", 44, 4),
    ("Max_Position_Limit", 48, 4),
    ("Min_Position_Limit", 52, 4),
    ("Shutdown", 63, 1),
    ("Torque_Enable", 64, 1),
    ("LED", 65, 1),
    ("Status_Return_Level", 68, 1),  # 0: PING only, 1: PING and READ, 2: all (factory)
    ("Registered_Instruction", 69, 1),
    ("Hardware_Error_Status", 70, 1),
    ("Velocity_I_Gain", 76, 2),
    ("Velocity_P_Gain", 78, 2),
    ("Position_D_Gain", 80, 2),
    ("Position_I_Gain", 82, 2),
    ("Position_P_Gain", 84, 2),
    ("Feedforward_2nd_Gain", 88, 2),
    ("Feedforward_1st_Gain", 90, 2),
    ("Bus_Watchdog", 98, 1),
    ("Goal_PWM", 100, 2, True),
    ("Goal_Velocity", 104, 4, True),  # [0.229 rpm]
    ("Profile_Acceleration", 108, 4),
    ("Profile_Velocity", 112, 4),
    ("Goal_Position", 116, 4, True),  # [ticks]
    ("Realtime_Tick", 120, 2),  # [ms]
    ("Moving", 122, 1),
    ("Moving_Status", 123, 1),
    ("Present_PWM", 124, 2, True),
    ("Present_Velocity", 128, 4, True),  # [0.229 rpm]
    ("Present_Position", 132, 4, True),  # [ticks]
    ("Velocity_Trajectory", 136, 4, True),
    ("Position_Trajectory", 140, 4, True),
    ("Present_Input_Voltage", 144, 2),  # [0.1 V]
    ("Present_Temperature", 146, 1),  # [deg C]
]
_XL430_ROWS = [*_X_ROWS_COMMON, ("Present_Load", 126, 2, True)]  # [0.1 %]
_XL330_ROWS = [
    *_X_ROWS_COMMON,
    ("Current_Limit", 38, 2),  # [mA] (XL330: 1 mA units)
    ("Goal_Current", 102, 2, True),  # [mA]
    ("Present_Current", 126, 2, True),  # [mA]
]
_READ_ONLY = {
    "Model_Number",
    "Model_Information",
    "Firmware_Version",
    "Registered_Instruction",
    "Hardware_Error_Status",
    "Realtime_Tick",
    "Moving",
    "Moving_Status",
    "Present_PWM",
    "Present_Load",
    "Present_Current",
    "Present_Velocity",
    "Present_Position",
    "Velocity_Trajectory",
    "Position_Trajectory",
    "Present_Input_Voltage",
    "Present_Temperature",
}

#: Present_Velocity unit: 0.229 rpm (e-Manual "Present Velocity(128)") = 0.229 * 4096 / 60 ticks/s.
VELOCITY_UNIT_TPS = 0.229 * 4096 / 60


def _registers(rows: list[tuple]) -> dict[str, Register]:
    regs = {}
    for name, address, size, *signed in sorted(rows, key=lambda r: r[1]):
        regs[name] = Register(
            name, address, size, None, address < EEPROM_END, name not in _READ_ONLY, bool(signed and signed[0])
        )
    return regs


def _x_table(name: str, model_number: int, rows: list[tuple]) -> ModelTable:
    return ModelTable.build(
        name=name,
        model_number=model_number,
        byte_order=ByteOrder.LITTLE,
        resolution=4096,  # 0.088 deg per tick (e-Manual specifications)
        ticks_per_turn=4096.0,
        registers=_registers(rows),
        supports_sync_read=True,
        center_tick=2048,
        speed_unit_tps=VELOCITY_UNIT_TPS,
        eeprom_end=EEPROM_END,
        homing_sign=+1,  # e-Manual "Homing Offset(20)": Present_Position = actual position + Homing_Offset
    )


XL430_W250 = _x_table("XL430-W250", 1060, _XL430_ROWS)
XL330_M288 = _x_table("XL330-M288", 1200, _XL330_ROWS)
XL330_M077 = _x_table("XL330-M077", 1190, _XL330_ROWS)
# XC330-M288-T (the LEAP Hand's servo): the XL330 control-table layout (e-Manual XC330-M288 control table); model
# number 1240 as published driver tables list it (not in LeRobot's table).
XC330_M288 = _x_table("XC330-M288", 1240, _XL330_ROWS)

MODELS_BY_NUMBER: dict[int, ModelTable] = {t.model_number: t for t in (XL430_W250, XL330_M288, XL330_M077, XC330_M288)}
MODELS_BY_NAME: dict[str, ModelTable] = {t.name.lower(): t for t in MODELS_BY_NUMBER.values()}

#: Baud_Rate (address 8) register value per baud rate (e-Manual "Baud Rate(8)").
BAUD_RATE_VALUES = {9_600: 0, 57_600: 1, 115_200: 2, 1_000_000: 3, 2_000_000: 4, 3_000_000: 5, 4_000_000: 6}


def table_for(model: str | int) -> ModelTable:
    """The table of a model given by name (case-insensitive, e.g. ``"xl430-w250"``) or model number."""
    table = MODELS_BY_NUMBER.get(model) if isinstance(model, int) else MODELS_BY_NAME.get(str(model).lower())
    if table is None:
        raise ConfigError(
            f"unknown Dynamixel model {model!r}; known: {sorted(MODELS_BY_NAME)} / {sorted(MODELS_BY_NUMBER)}"
        )
    return table
