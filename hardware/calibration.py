"""Calibration: servo ticks <-> the simulator's joint radians, and the range sweep used to record it.

Ticks here are *present-position* ticks as the servo reports them (after its Homing_Offset is applied,
``present = actual - offset``), 0..ticks_per_turn-1 on a single-turn servo. For every motor::

    rad = drive_sign * scale * (tick - zero_tick) * 2*pi / ticks_per_turn

where ``zero_tick`` is the tick at the sim model's zero (so101_new_calib convention: the recorded "middle" pose)
and ``scale`` is 1 for direct-drive joints; the gripper maps its swept range ends onto its joint limits, so its
scale is whatever makes that fit. A calibrated range ``[range_min_tick, range_max_tick]`` may cross 4095 -> 0
(``range_min_tick > range_max_tick``): every conversion unwraps ticks relative to the range, so the arithmetic
never jumps by a turn. Commands are rounded half-to-even to ticks and clamped to the calibrated range.
``ticks_per_turn`` need not be a whole number: a servo whose ticks cover less than a turn (the SCS0009: 1024 ticks
over 300 deg, 1228.8 ticks per turn) never wraps, and its calibrated ranges never cross the end of the scale.
The file format lives in :mod:`hardware.calibration_file`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import NamedTuple

import numpy as np

from twinarm.robot.errors import TwinarmError

#: Version of the calibration file format written by this code.
CALIBRATION_VERSION = 1
ROLES = ("follower", "leader")


class CalibrationError(TwinarmError, ValueError):
    """A calibration is missing, malformed or inconsistent; the message names the file, the key and what is valid."""


class MotorCalibration(NamedTuple):
    """Calibration of one motor driving one joint. Ticks are present-position ticks (after the homing offset).

    Attributes:
        joint: joint name in the robot spec.
        id: servo id on the bus.
        drive_sign: +1 when increasing ticks increase the sim joint angle, else -1.
        homing_offset: Homing_Offset [ticks] expected in the servo's EEPROM (``present = actual - offset``).
        zero_tick: present tick at the joint's zero [ticks] (may be fractional for range-mapped joints).
        range_min_tick: lower end of the swept range [ticks], 0..ticks_per_turn-1.
        range_max_tick: upper end of the swept range [ticks]; smaller than ``range_min_tick`` if it wraps.
        ticks_per_turn: encoder ticks per full turn [ticks/turn] (4096 for the STS3215, 1228.8 for the SCS0009).
        scale: joint radians per servo radian (1.0 unless the joint maps its range onto its limits).
    """

    joint: str
    id: int
    drive_sign: int
    homing_offset: int
    zero_tick: float
    range_min_tick: int
    range_max_tick: int
    ticks_per_turn: float = 4096
    scale: float = 1.0

    @property
    def span_ticks(self) -> int:
        """Width of the calibrated range [ticks], wrap-aware."""
        return round((self.range_max_tick - self.range_min_tick) % self.ticks_per_turn)

    @property
    def wraps(self) -> bool:
        """True when the range crosses ticks_per_turn-1 -> 0."""
        return self.range_max_tick < self.range_min_tick

    @property
    def rad_per_tick(self) -> float:
        """Joint radians per tick, sign excluded."""
        return self.scale * 2.0 * math.pi / self.ticks_per_turn


def joint_calibration(
    joint: str,
    id: int,
    drive_sign: int,
    homing_offset: int,
    zero_tick: float,
    range_min: int,
    range_max: int,
    ticks_per_turn: float = 4096,
) -> MotorCalibration:
    """A direct-drive joint: its zero is the recorded pose ``zero_tick``, one servo radian per joint radian."""
    return MotorCalibration(
        joint, id, drive_sign, homing_offset, float(zero_tick), range_min, range_max, ticks_per_turn
    )


def range_mapped_calibration(
    joint: str,
    id: int,
    drive_sign: int,
    homing_offset: int,
    range_min: int,
    range_max: int,
    lower: float,
    upper: float,
    ticks_per_turn: float = 4096,
) -> MotorCalibration:
    """A joint whose swept range ends map onto its joint limits ``[lower, upper]`` [rad] (the SO-101 gripper).

    With ``drive_sign`` +1 ``range_min`` maps to ``lower``; with -1 it maps to ``upper``.
    """
    span = (range_max - range_min) % ticks_per_turn
    if span == 0:
        raise CalibrationError(f"joint {joint!r} (id {id}): swept range {range_min}..{range_max} ticks is empty")
    rad_per_tick = (upper - lower) / span
    end = lower if drive_sign > 0 else upper  # the joint angle at range_min
    zero = (range_min - drive_sign * end / rad_per_tick) % ticks_per_turn
    scale = rad_per_tick * ticks_per_turn / (2.0 * math.pi)
    return MotorCalibration(
        joint, id, drive_sign, homing_offset, float(zero), range_min, range_max, ticks_per_turn, float(scale)
    )


@dataclasses.dataclass(frozen=True)
class Calibration:
    """A robot's calibration: one :class:`MotorCalibration` per joint, in the spec's joint order."""

    model: str
    role: str
    name: str
    motors: tuple[MotorCalibration, ...]
    created: str = ""  # ISO 8601 timestamp (UTC)
    version: int = CALIBRATION_VERSION

    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(m.joint for m in self.motors)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(m.id for m in self.motors)

    def motor(self, joint: str) -> MotorCalibration:
        for m in self.motors:
            if m.joint == joint:
                return m
        raise CalibrationError(f"calibration {self.name!r} has no joint {joint!r}; joints: {self.joint_names}")

    @functools.cached_property
    def ticks(self) -> TickMap:
        """The vectorised converter for these motors."""
        return TickMap(self.motors)


class TickMap:
    """Vectorised tick <-> radian conversion for a tuple of motors (arrays in motor order).

    Radians here are calibrated motor angles: joint angles on a direct-drive arm, servo angles before the
    transmission on a hand (see ``robot.transmission``).
    """

    def __init__(self, motors: tuple[MotorCalibration, ...]) -> None:
        self.tpt = np.array([m.ticks_per_turn for m in motors], dtype=np.float64)
        self.lo = np.array([m.range_min_tick for m in motors], dtype=np.int64)
        self.span = np.array([m.span_ticks for m in motors], dtype=np.int64)
        zero = np.array([m.zero_tick for m in motors], dtype=np.float64)
        self.zero_u = self.lo + np.mod(zero - self.lo, self.tpt)  # zero in range-unwrapped ticks
        self.gain = np.array([m.drive_sign * m.rad_per_tick for m in motors], dtype=np.float64)  # [rad/tick]

    def unwrap(self, ticks: np.ndarray) -> np.ndarray:
        """Ticks as positions along the calibrated range (lo..lo+span); outside it, towards the nearer end."""
        d = np.mod(np.asarray(ticks, dtype=np.int64) - self.lo, self.tpt)
        below = d > self.span + (self.tpt - self.span) / 2  # in the gap, nearer range_min: read it as negative
        return self.lo + np.where(below, d - self.tpt, d)

    def to_rad(self, ticks: np.ndarray) -> np.ndarray:
        """Present ticks (n,) int -> calibrated positions (n,) float32 [rad]."""
        return ((self.unwrap(ticks) - self.zero_u) * self.gain).astype(np.float32)

    def travel(self) -> tuple[np.ndarray, np.ndarray]:
        """The calibrated range of every motor in radians: (lower, upper), each (n,) float32 [rad]."""
        a = ((self.lo - self.zero_u) * self.gain).astype(np.float32)
        b = ((self.lo + self.span - self.zero_u) * self.gain).astype(np.float32)
        return np.minimum(a, b), np.maximum(a, b)

    def velocity_to_rad(self, ticks_per_s: np.ndarray) -> np.ndarray:
        """Signed velocities (n,) [ticks/s] -> (n,) float32 [rad/s]."""
        return (np.asarray(ticks_per_s, dtype=np.float64) * self.gain).astype(np.float32)

    def to_ticks(self, rad: np.ndarray) -> np.ndarray:
        """Calibrated positions (n,) [rad] -> goal ticks (n,) int64: rounded half-to-even, clamped to the range."""
        u = np.rint(self.zero_u + np.asarray(rad, dtype=np.float64) / self.gain)
        u = np.clip(u, self.lo, self.lo + self.span).astype(np.int64)
        return np.rint(np.mod(u, self.tpt)).astype(np.int64)


class SweepRange(NamedTuple):
    """Result of a range sweep for one joint, in ticks (0..ticks_per_turn-1; min > max if it wraps)."""

    min_tick: int
    max_tick: int
    mid_tick: int
    span_ticks: int


class RangeSweep:
    """Wrap-aware min/max tracking while a user moves joints through their ranges (pure: feed it samples).

    Each sample is unwrapped against the previous one (steps larger than half a turn are read as the shorter
    way round), so a joint crossing 4095 -> 0 keeps a continuous position.
    """

    def __init__(self, first: np.ndarray, ticks_per_turn: int = 4096, names: tuple[str, ...] = ()) -> None:
        first = np.asarray(first, dtype=np.int64)
        self.tpt = int(ticks_per_turn)
        self.names = tuple(names) or tuple(f"motor #{i}" for i in range(len(first)))
        self._last = first.copy()
        self._pos = first.copy()  # unwrapped position (n,) [ticks]
        self._min = first.copy()
        self._max = first.copy()

    def update(self, ticks: np.ndarray) -> None:
        """Feed one sample (n,) of present ticks."""
        ticks = np.asarray(ticks, dtype=np.int64)
        half = self.tpt // 2
        self._pos += np.mod(ticks - self._last + half, self.tpt) - half
        self._last = ticks.copy()
        np.minimum(self._min, self._pos, out=self._min)
        np.maximum(self._max, self._pos, out=self._max)

    @property
    def spans(self) -> np.ndarray:
        """Swept width per joint (n,) [ticks]."""
        return self._max - self._min

    def ranges(self) -> list[SweepRange]:
        """Per joint min/max/middle so far (no checks: for live display)."""
        out = []
        for lo, hi in zip(self._min.tolist(), self._max.tolist()):
            span = hi - lo
            out.append(SweepRange(lo % self.tpt, hi % self.tpt, (lo + span // 2) % self.tpt, span))
        return out

    def results(self) -> list[SweepRange]:
        """Per joint min/max/middle; a sweep of a full turn or more cannot be a range and raises."""
        for i, span in enumerate(self.spans.tolist()):
            if span >= self.tpt:
                raise CalibrationError(
                    f"{self.names[i]}: swept {span} ticks, a full turn or more (or moved too fast between samples); "
                    f"a single-turn range must be < {self.tpt} ticks: sweep it again, slowly"
                )
        return self.ranges()


def homing_offset_for(
    present_tick: int, current_offset: int, ticks_per_turn: int = 4096, max_abs: int = 2047, sign: int = -1
) -> int:
    """Homing offset that makes the servo report half a turn (2048) at its current pose.

    ``present = actual + sign * offset``: Feetech ``sign = -1`` (servos.md; the register holds +-``max_abs``,
    sign bit 11), Dynamixel ``+1`` (e-Manual "Homing Offset(20)").
    """
    actual = (present_tick - sign * current_offset) % ticks_per_turn
    return int(np.clip(sign * (ticks_per_turn // 2 - actual), -max_abs, max_abs))
