"""The bus side of calibration (no prompts: the interactive procedure lives in ``cli/cmd_calibrate.py``).

Procedure for an arm (STS servos), as the CLI drives it:

1. :func:`prepare_for_calibration`: torque off, single-turn feedback, position mode.
2. With the arm in the zero ("middle") pose, :func:`center_homing_offsets` writes each servo's Homing_Offset so
   the pose reads half a turn (2048 on an STS3215): the joint's range then sits far from the 4095 -> 0 wrap.
3. The user moves every joint through its range; the CLI feeds :func:`read_positions` samples to a
   :class:`~hardware.calibration.RangeSweep`.
4. :func:`build_calibration` turns offsets, zero pose and sweep into a :class:`Calibration`;
   :func:`write_calibration` stores homing offsets and position limits in the servos' EEPROM.

A hand (SCS servos: no Homing_Offset, a fixed travel per motor, ``ArmDescription.motor_travel_rad``) skips the
offsets and the sweep: the pose read in step 2 is each servo's zero and :func:`travel_calibration` spans the
travel around it; only position limits go to EEPROM.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from twinarm.hardware.calibration import (
    Calibration,
    CalibrationError,
    MotorCalibration,
    SweepRange,
    homing_offset_for,
    joint_calibration,
    range_mapped_calibration,
)
from twinarm.hardware.calibration_file import now_iso
from twinarm.hardware.motors import ArmDescription, Mapping
from twinarm.hardware.registers import ModelTable, Register
from twinarm.hardware.serial_bus import ServoBus

POSITION_MODE = 0  # Operating_Mode 0 = position


def _ticks_per_turn(arm: ArmDescription) -> float:
    """The servo model's ticks per turn: an int for whole-turn encoders (4096), else the exact figure (1228.8)."""
    tpt = float(arm.table.ticks_per_turn)
    return int(tpt) if tpt.is_integer() else tpt


def _eeprom_registers(table: ModelTable) -> dict[str, Register]:
    """Calibration registers a model has, by calibration key (SCS servos have no Homing_Offset)."""
    names = {
        "homing_offset": "Homing_Offset",
        "min_position_limit": "Min_Position_Limit",
        "max_position_limit": "Max_Position_Limit",
    }
    return {key: table[name] for key, name in names.items() if name in table}


class EepromMismatch(NamedTuple):
    """One EEPROM value that differs from the calibration file."""

    joint: str
    id: int
    register: str  # "homing_offset", "min_position_limit" or "max_position_limit"
    file_value: int
    servo_value: int


def expected_eeprom(m: MotorCalibration) -> dict[str, int]:
    """EEPROM values a calibrated servo should hold; a wrapping range cannot be a limit, so it gets none."""
    lo, hi = (0, round(m.ticks_per_turn) - 1) if m.wraps else (m.range_min_tick, m.range_max_tick)
    return {"homing_offset": m.homing_offset, "min_position_limit": lo, "max_position_limit": hi}


def compare_eeprom(cal: Calibration, servo_values: dict[int, dict[str, int]]) -> list[EepromMismatch]:
    """Mismatches between ``cal`` and values read from the servos (``{id: {register: value}}``); empty = agree."""
    out = []
    for m in cal.motors:
        have = servo_values.get(m.id, {})
        for reg, want in expected_eeprom(m).items():
            if reg in have and int(have[reg]) != want:
                out.append(EepromMismatch(m.joint, m.id, reg, want, int(have[reg])))
    return out


def read_eeprom(bus: ServoBus, ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Homing offset (where the model has one) and position limits of ``ids`` as ``{id: {register: value}}``."""
    values = {name: bus.sync_read(reg, ids) for name, reg in _eeprom_registers(bus.table).items()}
    return {i: {name: int(v[k]) for name, v in values.items()} for k, i in enumerate(ids)}


def write_calibration(bus: ServoBus, cal: Calibration) -> int:
    """Store ``cal``'s homing offsets and position limits in EEPROM (torque must be off); returns writes made.

    Only values that differ are written (EEPROM wears out). The offset goes first: limits are in present ticks.
    """
    regs = _eeprom_registers(bus.table)
    have = read_eeprom(bus, cal.ids)
    writes = 0
    for m in cal.motors:
        for name, value in expected_eeprom(m).items():
            if name in regs and have[m.id][name] != value:
                bus.write_eeprom(m.id, regs[name], value)
                writes += 1
    return writes


def set_torque(bus: ServoBus, ids: Sequence[int], on: bool) -> None:
    """Torque on/off for ``ids`` in one SYNC_WRITE."""
    bus.sync_write(bus.table.TORQUE_ENABLE, ids, [int(on)] * len(ids))


def prepare_for_calibration(bus: ServoBus, arm: ArmDescription) -> None:
    """Torque off, single-turn feedback (STS Phase bit 4 clear) and the arm's operating modes where the model has
    them (Feetech: position mode 0)."""
    t, ids = bus.table, arm.ids
    set_torque(bus, ids, False)
    if t.phase_bits is not None:
        for servo_id, phase in zip(ids, bus.sync_read(t.PHASE, ids).tolist()):
            if t.phase_bits.single_turn(phase) != phase:
                bus.write_eeprom(servo_id, t.PHASE, t.phase_bits.single_turn(phase))
    if "Operating_Mode" in t:
        for servo_id, mode, want in zip(ids, bus.sync_read(t.OPERATING_MODE, ids).tolist(), arm.operating_modes):
            if mode != want:
                bus.write_eeprom(servo_id, t.OPERATING_MODE, want)


def read_positions(bus: ServoBus, ids: Sequence[int]) -> np.ndarray:
    """Present positions (n,) int64 [ticks]."""
    return bus.sync_read(bus.table.PRESENT_POSITION, ids)


def center_homing_offsets(bus: ServoBus, arm: ArmDescription) -> tuple[list[int], np.ndarray]:
    """Write homing offsets so the current pose reads half a turn; returns (offsets, zero-pose ticks read back).

    Position limits are opened to the full turn first, so the shifted zero is never clamped.
    """
    t, ids, tpt = bus.table, arm.ids, _ticks_per_turn(arm)
    if "Homing_Offset" not in t:
        raise CalibrationError(f"{arm.name}: {t.name} servos have no Homing_Offset; use travel_calibration")
    present = read_positions(bus, ids)
    old = bus.sync_read(t.HOMING_OFFSET, ids)
    limit = min(t.HOMING_OFFSET.max_magnitude, 2047)
    offsets = [homing_offset_for(int(p), int(o), tpt, limit, t.homing_sign) for p, o in zip(present, old)]
    lims = {t.MIN_POSITION_LIMIT: 0, t.MAX_POSITION_LIMIT: tpt - 1}
    for k, servo_id in enumerate(ids):
        for reg, value in lims.items():
            if bus.read(servo_id, reg) != value:
                bus.write_eeprom(servo_id, reg, value)
        if int(old[k]) != offsets[k]:
            bus.write_eeprom(servo_id, t.HOMING_OFFSET, offsets[k])
    return offsets, read_positions(bus, ids)


def build_calibration(
    arm: ArmDescription,
    name: str,
    offsets: Sequence[int],
    zero_ticks: Sequence[int],
    ranges: Sequence[SweepRange],
    drive_signs: Sequence[int] | None = None,
) -> Calibration:
    """A :class:`Calibration` from the recorded zero pose and sweep; ``drive_signs`` default to the arm's."""
    tpt = _ticks_per_turn(arm)
    signs = [m.drive_sign for m in arm.motors] if drive_signs is None else list(drive_signs)
    motors: list[MotorCalibration] = []
    for k, motor in enumerate(arm.motors):
        r, name = ranges[k], motor.joint
        if r.span_ticks == 0:
            raise CalibrationError(f"joint {name!r} (id {motor.id}) did not move during the range sweep")
        if motor.mapping is Mapping.RANGE:
            joint = arm.spec.joints[arm.spec.joint_index(name)]
            m = range_mapped_calibration(
                name, motor.id, signs[k], offsets[k], r.min_tick, r.max_tick, joint.lower, joint.upper, tpt
            )
        else:
            m = joint_calibration(name, motor.id, signs[k], offsets[k], zero_ticks[k], r.min_tick, r.max_tick, tpt)
            if (m.zero_tick - m.range_min_tick) % tpt > m.span_ticks:
                raise CalibrationError(
                    f"joint {name!r} (id {motor.id}): zero pose tick {zero_ticks[k]} lies outside the swept "
                    f"range {r.min_tick}..{r.max_tick}; sweep again, passing through the zero pose"
                )
        motors.append(m)
    return Calibration(arm.spec.name, arm.role.value, name, tuple(motors), created=now_iso())


def nominal_calibration(arm: ArmDescription, name: str = "nominal", margin_rad: float = 0.05) -> Calibration:
    """An ideal calibration: homing offsets 0, zero pose at half a turn, ranges = joint limits (+ ``margin_rad``).

    What an emulated arm (servos around tick 2048) needs; on a real arm, record one with ``twinarm calibrate``.
    An arm with a fixed motor travel (a hand) gets :func:`travel_calibration` around the model's middle tick.
    """
    if arm.motor_travels is not None:
        zeros = [arm.table.center_tick + d for d in nominal_zero_offsets(arm)]
        return travel_calibration(arm, name, zeros)
    tpt = _ticks_per_turn(arm)
    half = tpt // 2
    ticks_per_rad = tpt / (2 * np.pi)
    ranges, zeros = [], []
    for motor, joint in zip(arm.motors, arm.spec.joints):
        lo_rad, hi_rad = sorted((motor.drive_sign * joint.lower, motor.drive_sign * joint.upper))
        if motor.mapping is Mapping.ZERO_POSE:
            lo_rad, hi_rad = lo_rad - margin_rad, hi_rad + margin_rad
        lo = max(0, int(np.floor(half + lo_rad * ticks_per_rad)))
        hi = min(tpt - 1, int(np.ceil(half + hi_rad * ticks_per_rad)))
        ranges.append(SweepRange(lo, hi, (lo + hi) // 2, hi - lo))
        zeros.append(half)
    return build_calibration(arm, name, [0] * len(arm.motors), zeros, ranges)


def nominal_zero_offsets(arm: ArmDescription) -> tuple[int, ...]:
    """Zero tick minus middle tick of each motor in the nominal calibration of an arm with a fixed motor travel: the
    zero that centres the motor's travel on the servo's scale (0 for a symmetric travel) [ticks]."""
    travels = arm.motor_travels
    if travels is None:
        raise CalibrationError(f"{arm.name} has no fixed motor travel; its nominal zeros are the middle ticks")
    tpr = _ticks_per_turn(arm) / (2 * np.pi)
    return tuple(-round(0.5 * (lo + hi) * tpr * m.drive_sign) for m, (lo, hi) in zip(arm.motors, travels))


def travel_calibration(
    arm: ArmDescription, name: str, zero_ticks: Sequence[float], drive_signs: Sequence[int] | None = None
) -> Calibration:
    """Calibration of an arm with a fixed motor travel (a hand): each motor's zero is ``zero_ticks`` (the pose
    recorded by the user), its range the zero plus the motor's travel (``arm.motor_travels``, [rad] in motor angle)
    clipped to the servo's scale; no homing offsets. ``drive_signs`` default to the arm's (an "inverted" servo has
    -1, so its tick range mirrors the travel)."""
    travels = arm.motor_travels
    if travels is None:
        raise CalibrationError(f"{arm.name} has no fixed motor travel; record a range sweep instead")
    tpt, last = _ticks_per_turn(arm), arm.table.resolution - 1
    tpr = tpt / (2 * np.pi)
    signs = [m.drive_sign for m in arm.motors] if drive_signs is None else list(drive_signs)
    motors = []
    for motor, zero, sign, travel in zip(arm.motors, zero_ticks, signs, travels, strict=True):
        if not 0 <= zero <= last:
            raise CalibrationError(f"motor {motor.joint!r} (id {motor.id}): zero tick {zero} outside 0..{last}")
        a, b = sorted((zero + sign * travel[0] * tpr, zero + sign * travel[1] * tpr))  # [ticks]
        lo, hi = max(0, int(np.floor(a))), min(last, int(np.ceil(b)))
        motors.append(joint_calibration(motor.joint, motor.id, sign, 0, float(zero), lo, hi, tpt))
    return Calibration(arm.spec.name, arm.role.value, name, tuple(motors), created=now_iso())
