"""What an emulated Homunculus device reads: the nominal calibration of the emulated sensors and synthetic motions.

The nominal figures follow the readings lerobot's HopeJR guide prints while calibrating a real glove and exo
(``docs/source/hope_jr.mdx``: glove sensors ~1450..2140 counts, exo wrist ~1975..2185, exo angles anywhere in
0..3600); one exo angle (shoulder_roll) is set across the 3600 -> 0 wrap on purpose.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np

from twinarm.hardware.homunculus.calibration import (
    DeviceCalibration,
    SensorCalibration,
    scale_of,
)
from twinarm.hardware.homunculus.stream import ANGLE_TURN, DeviceSpec, SensorKind, Travel

# (rest, low, high) per kind and travel [counts or 0.1 deg]
_NOMINAL = {
    (SensorKind.LINEAR, Travel.ONE_SIDED): (1500, 1500, 2100),
    (SensorKind.LINEAR, Travel.TWO_SIDED): (1750, 1450, 2050),
    (SensorKind.ANGLE, Travel.TWO_SIDED): (1800, 900, 2700),
    (SensorKind.ANGLE, Travel.ONE_SIDED): (600, 600, 2000),  # a human elbow's ~140 deg of flexion
}
_ACROSS_WRAP = {"shoulder_roll": (3400, 2500, 4300)}  # high 4300 = 700 after the wrap


def nominal_calibration(spec: DeviceSpec, side: str = "right") -> DeviceCalibration:
    """The emulated device's own calibration (what a perfect recording on it gives), for dry runs and tests."""
    out = []
    for s in spec.sensors:
        rest, low, high = _ACROSS_WRAP.get(s.name) or _NOMINAL[(s.kind, s.travel)]
        sign = -1 if side in s.inverted else 1
        out.append(SensorCalibration(s.name, rest, low, high, sign))
    return DeviceCalibration(spec.name, side, "emulator", tuple(out), "")


class Motion(Protocol):
    """Signed positions in [-1, 1] (0 = rest, see ``calibration``) of every sensor at time ``t_s`` [s]."""

    def __call__(self, t_s: float) -> np.ndarray: ...


class SineMotion:
    """Every sensor at rest for ``hold_s`` [s] (a rest pose to calibrate on), then slow sinusoids through each
    sensor's whole range eased in over ``ramp_s`` [s], sensor ``i`` phase-shifted by ``i`` x 2 pi / n: one-sided
    sensors ``(1 - cos)/2``, two-sided ``sin``."""

    def __init__(self, spec: DeviceSpec, frequency_hz: float = 0.25, hold_s: float = 0.5, ramp_s: float = 0.5):
        n = len(spec.sensors)
        self.omega, self.hold_s, self.ramp_s = 2 * math.pi * frequency_hz, hold_s, ramp_s
        self.phase = np.arange(n) * 2 * math.pi / n
        self.one_sided = np.array([s.travel is Travel.ONE_SIDED for s in spec.sensors])

    def __call__(self, t_s: float) -> np.ndarray:
        t = max(t_s - self.hold_s, 0.0)
        ease = min(t / self.ramp_s, 1.0) if self.ramp_s > 0 else 1.0
        a = self.omega * t + self.phase
        return ease * np.where(self.one_sided, (1 - np.cos(a)) / 2, np.sin(a))


def readings(spec: DeviceSpec, cal: DeviceCalibration, signed: np.ndarray) -> np.ndarray:
    """(n,) sensor readings [counts / 0.1 deg] that ``cal`` reads as ``signed`` positions (the inverse of
    ``calibration.positions``; angles wrapped into 0..3600)."""
    scale = scale_of(cal)
    p = np.clip(np.asarray(signed, dtype=np.float64), -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(
            p >= 0,
            p / np.where(scale.inv_pos > 0, scale.inv_pos, np.inf),
            p / np.where(scale.inv_neg > 0, scale.inv_neg, np.inf),
        )
    x = np.nan_to_num(x)
    rest = np.array([c.rest for c in cal.sensors], dtype=np.float64)
    v = rest + scale.sign * x
    angle = np.array([s.kind is SensorKind.ANGLE for s in spec.sensors])
    return np.where(angle, v % ANGLE_TURN, v)
