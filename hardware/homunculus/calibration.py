"""Per-sensor calibration of a Homunculus device: rest reading, swept range and direction -> a signed position.

A calibration is recorded in two steps (the library never prompts; ``twinarm calibrate-device`` does): the user
holds the **rest pose** (glove: hand open flat; exo: the robot arm's zero pose) -- each sensor's ``rest`` reading
becomes joint angle zero -- then **sweeps** every joint through its range: the extremes become ``low``/``high``.

:func:`positions` turns sensor readings into signed positions in [-1, 1]: 0 at rest, +1 at the swept end on the
``sign`` side, -1 at the other end (one-sided sensors rest at an end: 0..1). The joint map scales +1 to a joint's
upper limit and -1 to its lower one. Angle sensors (0..3600, wrapping) are unwrapped around ``rest``:
``low``/``high`` may lie outside 0..3600 (a range across the wrap is fine; a sweep over more than a turn is not).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from twinarm.hardware.homunculus.errors import DeviceCalibrationError
from twinarm.hardware.homunculus.stream import ANGLE_TURN, DeviceSpec, SensorKind, Travel

DEVICE_CALIBRATION_VERSION = 1
SIDES = ("right", "left")
MIN_SIDE_FRACTION = 0.05  # a side of the sweep shorter than this fraction of the whole is noise: it maps to 0
MIN_SPAN = 20  # a sweep narrower than this [counts or 0.1 deg] is a sensor not moved (or not connected)


class SensorCalibration(NamedTuple):
    """One sensor: ``rest`` reading (joint zero), swept ``low``..``high`` (unwrapped, see module doc), ``sign``
    +1 when readings rise with the joint angle, -1 when they fall."""

    name: str
    rest: int
    low: int
    high: int
    sign: int


class DeviceCalibration(NamedTuple):
    """A device's sensors, in the device spec's sensor order."""

    device: str
    side: str
    name: str
    sensors: tuple[SensorCalibration, ...]
    created: str = ""
    version: int = DEVICE_CALIBRATION_VERSION


def sensor_values(spec: DeviceSpec, fields: np.ndarray) -> np.ndarray:
    """The (n_sensors,) readings of the named sensors out of a line's (fields,) values."""
    return np.asarray(fields)[[s.field for s in spec.sensors]]


def deltas(spec: DeviceSpec, cal: DeviceCalibration, values: np.ndarray) -> np.ndarray:
    """(n,) readings minus rest [counts or 0.1 deg]; angle sensors wrapped into [-1800, 1800)."""
    rest = np.array([c.rest for c in cal.sensors], dtype=np.float64)
    d = np.asarray(values, dtype=np.float64) - rest
    angle = np.array([s.kind is SensorKind.ANGLE for s in spec.sensors])
    half = ANGLE_TURN / 2
    return np.where(angle, (d + half) % ANGLE_TURN - half, d)


class Scale(NamedTuple):
    """Per-sensor factors of :func:`positions`: ``sign``, and 1 / extent of the positive and negative sides."""

    sign: np.ndarray
    inv_pos: np.ndarray
    inv_neg: np.ndarray


def scale_of(cal: DeviceCalibration) -> Scale:
    sign = np.array([c.sign for c in cal.sensors], dtype=np.float64)
    ext_a = sign * np.array([c.high - c.rest for c in cal.sensors], dtype=np.float64)
    ext_b = sign * np.array([c.low - c.rest for c in cal.sensors], dtype=np.float64)
    pos, neg = np.maximum(np.maximum(ext_a, ext_b), 0.0), np.maximum(-np.minimum(ext_a, ext_b), 0.0)
    span = pos + neg
    keep_pos, keep_neg = pos >= MIN_SIDE_FRACTION * span, neg >= MIN_SIDE_FRACTION * span
    inv_pos = np.where(keep_pos & (pos > 0), 1.0 / np.where(pos > 0, pos, 1.0), 0.0)
    inv_neg = np.where(keep_neg & (neg > 0), 1.0 / np.where(neg > 0, neg, 1.0), 0.0)
    return Scale(sign, inv_pos, inv_neg)


def positions(scale: Scale, d: np.ndarray) -> np.ndarray:
    """(n,) signed positions in [-1, 1] of (n,) deltas from rest (see the module doc)."""
    x = scale.sign * np.asarray(d, dtype=np.float64)
    return np.where(x >= 0, np.minimum(x * scale.inv_pos, 1.0), -np.minimum(-x * scale.inv_neg, 1.0))


class RangeRecorder:
    """Non-interactive recording: :meth:`rest` with the readings of the rest pose, :meth:`add` every reading of
    the sweep, :meth:`result` the calibration. ``inverted``: names of two-sided sensors to read backwards on top
    of the device's per-side defaults."""

    def __init__(self, spec: DeviceSpec, side: str, inverted: tuple[str, ...] = ()) -> None:
        if side not in SIDES:
            raise DeviceCalibrationError(f"side={side!r} is invalid; valid: {', '.join(SIDES)}")
        unknown = sorted(set(inverted) - set(spec.sensor_names))
        if unknown:
            raise DeviceCalibrationError(f"inverted={unknown}: not sensors of {spec.name} ({spec.sensor_names})")
        self.spec, self.side, self.inverted = spec, side, set(inverted)
        self._rest: np.ndarray | None = None
        self._low = self._high = np.zeros(len(spec.sensors))
        self.samples = 0

    def rest(self, values: np.ndarray) -> None:
        """The readings [counts / 0.1 deg] of the rest pose (a mean of a few lines is best)."""
        self._rest = np.asarray(values, dtype=np.float64).round()
        self._low = self._high = np.zeros(len(self.spec.sensors))

    @property
    def rest_values(self) -> np.ndarray:
        """The (n,) rest readings (zeros before :meth:`rest`)."""
        return np.zeros(len(self.spec.sensors)) if self._rest is None else self._rest.copy()

    def add(self, values: np.ndarray) -> None:
        """One reading of the sweep."""
        if self._rest is None:
            raise DeviceCalibrationError("record the rest pose (RangeRecorder.rest) before the sweep")
        d = deltas(self.spec, self._provisional(), values)
        self._low, self._high = np.minimum(self._low, d), np.maximum(self._high, d)
        self.samples += 1

    def _provisional(self) -> DeviceCalibration:
        assert self._rest is not None
        sensors = tuple(
            SensorCalibration(s.name, int(r), int(r), int(r), 1) for s, r in zip(self.spec.sensors, self._rest)
        )
        return DeviceCalibration(self.spec.name, self.side, "", sensors)

    def extents(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) deltas from rest seen so far, (n,) each (for a live table)."""
        return self._low.copy(), self._high.copy()

    def result(self, name: str = "default", created: str = "") -> DeviceCalibration:
        """The calibration; DeviceCalibrationError names every sensor that was not moved through a range."""
        if self._rest is None or self.samples == 0:
            raise DeviceCalibrationError("no sweep recorded: record the rest pose, then move every joint")
        still = [s.name for s, lo, hi in zip(self.spec.sensors, self._low, self._high) if hi - lo < MIN_SPAN]
        if still:
            raise DeviceCalibrationError(
                f"{self.spec.name}: sensors {still} moved less than {MIN_SPAN} counts during the sweep; move each "
                "joint stop to stop (or check the sensor's cable)"
            )
        out = []
        for s, r, lo, hi in zip(self.spec.sensors, self._rest, self._low, self._high):
            if s.travel is Travel.ONE_SIDED:
                sign = 1 if hi >= -lo else -1  # the sweep's far end is the joint's flexed end
            else:
                sign = -1 if (self.side in s.inverted) != (s.name in self.inverted) else 1
            out.append(SensorCalibration(s.name, int(r), int(r + lo), int(r + hi), sign))
        return DeviceCalibration(self.spec.name, self.side, name, tuple(out), created)
