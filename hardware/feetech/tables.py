"""Feetech control tables as data (addresses from the STS/SCS memory maps, see shared/reference/servos.md).

The types (:class:`~hardware.feetech.registers.ModelTable`, ``Register``) live in :mod:`hardware.feetech.registers`;
:func:`table_for` finds a table by model name or number.
"""

from __future__ import annotations

from twinarm.hardware.feetech.registers import ByteOrder, ModelTable, Register, StsPhase
from twinarm.robot.errors import ConfigError


def _table(rows: list[tuple], eeprom_end: int, read_only: set[str]) -> dict[str, Register]:
    regs = {}
    for name, address, size, *sign in rows:
        sign_bit = sign[0] if sign else None
        regs[name] = Register(name, address, size, sign_bit, address < eeprom_end, name not in read_only)
    return regs


# STS/SMS series (STS3215 datasheet memory map). (name, address, size[, sign bit])
_STS_ROWS = [
    ("Firmware_Major_Version", 0, 1),
    ("Firmware_Minor_Version", 1, 1),
    ("Model_Number", 3, 2),
    ("ID", 5, 1),
    ("Baud_Rate", 6, 1),
    ("Return_Delay_Time", 7, 1),
    ("Response_Status_Level", 8, 1),
    ("Min_Position_Limit", 9, 2),
    ("Max_Position_Limit", 11, 2),
    ("Max_Temperature_Limit", 13, 1),
    ("Max_Voltage_Limit", 14, 1),
    ("Min_Voltage_Limit", 15, 1),
    ("Max_Torque_Limit", 16, 2),
    ("Phase", 18, 1),
    ("Unloading_Condition", 19, 1),
    ("LED_Alarm_Condition", 20, 1),
    ("P_Coefficient", 21, 1),
    ("D_Coefficient", 22, 1),
    ("I_Coefficient", 23, 1),
    ("Minimum_Startup_Force", 24, 2),
    ("CW_Dead_Zone", 26, 1),
    ("CCW_Dead_Zone", 27, 1),
    ("Protection_Current", 28, 2),
    ("Angular_Resolution", 30, 1),
    ("Homing_Offset", 31, 2, 11),
    ("Operating_Mode", 33, 1),
    ("Protective_Torque", 34, 1),
    ("Protection_Time", 35, 1),
    ("Overload_Torque", 36, 1),
    ("Velocity_P_Coefficient", 37, 1),
    ("Over_Current_Protection_Time", 38, 1),
    ("Velocity_I_Coefficient", 39, 1),
    ("Torque_Enable", 40, 1),
    ("Acceleration", 41, 1),
    ("Goal_Position", 42, 2, 15),
    ("Goal_Time", 44, 2),
    ("Goal_Velocity", 46, 2, 15),
    ("Torque_Limit", 48, 2),
    ("Lock", 55, 1),
    ("Present_Position", 56, 2, 15),
    ("Present_Velocity", 58, 2, 15),
    ("Present_Load", 60, 2, 10),
    ("Present_Voltage", 62, 1),
    ("Present_Temperature", 63, 1),
    ("Status", 65, 1),
    ("Moving", 66, 1),
    ("Present_Current", 69, 2),
    ("Maximum_Velocity_Limit", 84, 1),
    ("Maximum_Acceleration", 85, 1),
    ("Acceleration_Multiplier", 86, 1),
]
_STS_READ_ONLY = {
    "Firmware_Major_Version",
    "Firmware_Minor_Version",
    "Model_Number",
    "Present_Position",
    "Present_Velocity",
    "Present_Load",
    "Present_Voltage",
    "Present_Temperature",
    "Status",
    "Moving",
    "Present_Current",
}

# SCS series (SCS0009), checked against three public sources that agree on every address below: the vendor SDK
# header SCSCL.h (memory table), the SCS-series table of LeRobot (lerobot/motors/feetech/tables.py, from the Feetech
# SCSCL e-manual) and Pollen Robotics' rustypot scs0009.rs (the driver of the Amazing Hand). Differences from STS:
# big-endian words, 10-bit positions (plain unsigned 0..1023: no sign bit, no Homing_Offset, no Operating_Mode),
# Lock at 48 (STS: 55), protection registers at 37..39, no Torque_Limit/Protection_Current. Present_Velocity and
# Present_Load are sign-magnitude (bit 15 and bit 10: rustypot decodes them so); Overload_Torque (39) is listed
# by rustypot only and Present_Current (69) by SCSCL.h only.
_SCS_ROWS = [
    ("Firmware_Major_Version", 0, 1),
    ("Firmware_Minor_Version", 1, 1),
    ("Model_Number", 3, 2),
    ("ID", 5, 1),
    ("Baud_Rate", 6, 1),
    ("Return_Delay_Time", 7, 1),
    ("Response_Status_Level", 8, 1),
    ("Min_Position_Limit", 9, 2),
    ("Max_Position_Limit", 11, 2),
    ("Max_Temperature_Limit", 13, 1),
    ("Max_Voltage_Limit", 14, 1),
    ("Min_Voltage_Limit", 15, 1),
    ("Max_Torque_Limit", 16, 2),
    ("Phase", 18, 1),  # named so by LeRobot and rustypot; its bits are not the STS ones (phase_bits=None)
    ("Unloading_Condition", 19, 1),
    ("LED_Alarm_Condition", 20, 1),
    ("P_Coefficient", 21, 1),
    ("D_Coefficient", 22, 1),
    ("I_Coefficient", 23, 1),
    ("Minimum_Startup_Force", 24, 2),
    ("CW_Dead_Zone", 26, 1),
    ("CCW_Dead_Zone", 27, 1),
    ("Protective_Torque", 37, 1),
    ("Protection_Time", 38, 1),
    ("Overload_Torque", 39, 1),
    ("Torque_Enable", 40, 1),
    ("Acceleration", 41, 1),
    ("Goal_Position", 42, 2),
    ("Goal_Time", 44, 2),
    ("Goal_Velocity", 46, 2),
    ("Lock", 48, 1),
    ("Present_Position", 56, 2),
    ("Present_Velocity", 58, 2, 15),
    ("Present_Load", 60, 2, 10),
    ("Present_Voltage", 62, 1),
    ("Present_Temperature", 63, 1),
    ("Sync_Write_Flag", 64, 1),
    ("Status", 65, 1),
    ("Moving", 66, 1),
    ("Present_Current", 69, 2),
]
_SCS_READ_ONLY = _STS_READ_ONLY | {"Sync_Write_Flag"}

#: SCS0009 travel: 1024 ticks over 300 deg. Datasheet figures (Feetech SCS0009, sold by Waveshare as "SC09"):
#: "rotation angle 300 deg (0~1023)", "position sensor resolution 0.293 deg (300 deg / 1024)", no-load speed
#: 0.1 s / 60 deg at 6 V; rustypot converts with the same 300 deg / 1024 ticks. A full turn would thus be
#: 1024 * 360 / 300 = 1228.8 ticks; the other 60 deg are the potentiometer's dead band (positions never wrap).
SCS0009_TRAVEL_DEG = 300.0

STS3215 = ModelTable.build(
    name="STS3215",
    model_number=777,
    byte_order=ByteOrder.LITTLE,
    resolution=4096,
    ticks_per_turn=4096.0,
    registers=_table(_STS_ROWS, 40, _STS_READ_ONLY),
    supports_sync_read=True,
    center_tick=2048,
    phase_bits=StsPhase(),
)
# STS3250 (the HopeJR arm's; Feetech product specification 2024-01-16 as tabled by Robonine's STS3250 evaluation):
# 12 V class (6-12.6 V), stall 50 kg cm = 4.90 N m and no-load 0.133 s / 60 deg (7.87 rad/s) at 12 V, 12-bit
# magnetic encoder (4096 ticks per turn), gear 1:345; same memory map as the STS3215 (servos.md; LeRobot's
# STS_SMS_SERIES_CONTROL_TABLE serves both), model number 2825.
STS3250 = STS3215.with_model("STS3250", 2825)
# SM8512BL (the HopeJR's shoulder pitch; HOPEJr Arm/BOM.md): a brushless SMS-series servo, RS-485 physical layer
# (the URT-1 adapter of the BOM drives TTL and RS-485 from one USB port: one bus). Its control table is the STS one:
# the vendor SDK serves SMS and STS with one class (FTServo SMS_STS.h) and LeRobot maps "sm8512bl" to
# STS_SMS_SERIES_CONTROL_TABLE, protocol 0 (little-endian), 4096 ticks per turn, model number 11272. VERIFY on a
# servo: one public fork lists 65536 ticks per turn for it; LeRobot reads it with a plain READ, not SYNC_READ
# (a public bring-up log says SYNC_READ works once Return_Delay_Time is 0, which the HopeJR description writes).
# Figures: 85 kg cm = 8.34 N m stall at 12 V (the BOM's listing "12V-24V 85kg 8 Nm"), no-load 60 rev/min
# (6.28 rad/s; one public driver's figure, unverified).
SM8512BL = STS3215.with_model("SM8512BL", 11272)
SCS0009 = ModelTable.build(
    name="SCS0009",
    model_number=1284,
    byte_order=ByteOrder.BIG,
    resolution=1024,
    ticks_per_turn=1024 * 360 / SCS0009_TRAVEL_DEG,
    registers=_table(_SCS_ROWS, 40, _SCS_READ_ONLY),
    supports_sync_read=False,  # no SYNC_READ on many SCS firmware versions (rustypot: supports_sync_read false)
    center_tick=511,  # rustypot's zero (the Amazing Hand's): rad = (tick - 511) * 300 deg / 1024
)

MODELS_BY_NUMBER: dict[int, ModelTable] = {t.model_number: t for t in (STS3215, SCS0009, STS3250, SM8512BL)}
MODELS_BY_NAME: dict[str, ModelTable] = {t.name.lower(): t for t in MODELS_BY_NUMBER.values()}


def table_for(model: str | int) -> ModelTable:
    """The table of a model given by name (case-insensitive, e.g. ``"sts3215"``) or model number."""
    table = MODELS_BY_NUMBER.get(model) if isinstance(model, int) else MODELS_BY_NAME.get(str(model).lower())
    if table is None:
        raise ConfigError(
            f"unknown servo model {model!r}; known: {sorted(MODELS_BY_NAME)} / {sorted(MODELS_BY_NUMBER)}"
        )
    return table
