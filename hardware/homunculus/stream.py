"""The Homunculus devices' serial stream as data: which field of a line is which sensor, and the line codec.

Facts (public sources, checked 2026-11):

* Glove (Project Homunculus, ``glove/firmware.ino``; lerobot ``teleoperators/homunculus/homunculus_glove.py``):
  an ESP32-C3 scans 16 SS49E linear Hall sensors through a CD74HC4067 mux (100 us settle per channel, then a
  12-bit ``analogRead``: 0..4095) and prints one ASCII line per scan: each value in decimal followed by one space
  (so the line ends ``"... 1503 \\r\\n"``, Arduino ``println``), then ``delay(1)``. Serial is opened at 115200
  baud. lerobot names the 16 fields, in line order, as in :data:`GLOVE`.
* Exoskeleton arm (HOPEJr ``Arm/code/exo.cs``; lerobot ``homunculus_arm.py``): the same board and scan, then 5
  angles each from a sin/cos pair of Hall sensors on a diametric magnet (raw pairs (2,3) (5,6) (10,11) (12,13)
  (14,15), pair 2 flipped ``4095 - v``), ``atan2`` -> ``(deg + 180) * 10`` truncated: 0..3600 [0.1 deg]. Line: 16
  raw values each followed by a space, then the 5 angles separated by single spaces, ``\\r\\n``: 21 fields. lerobot
  reads wrist pitch/yaw from raw fields 0/1 and the other joints from the angles, as in :data:`EXO`.

Line period: 16 x (100 us + ADC) + 1 ms ~ 3 ms on the board; at 115200 baud (10 bits a byte) an 80..106-byte line
takes 7..9 ms on a UART. The ESP32-C3's USB-CDC ignores the baud rate, so a real device may stream faster than a
UART could: the driver never assumes a rate (it measures it).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import NamedTuple

import numpy as np

from twinarm.hardware.homunculus.errors import LineFormatError

BAUDRATE = 115_200  # both firmwares' Serial.begin [baud]
ADC_MAX = 4095  # 12-bit ADC full scale [counts]
ANGLE_TURN = 3600  # the exo's angle field per turn [0.1 deg]


class SensorKind(enum.Enum):
    LINEAR = "linear"  # one SS49E through the ADC [counts 0..4095]
    ANGLE = "angle"  # atan2 of a sin/cos Hall pair [0.1 deg, 0..3600], wraps at a turn


class Travel(enum.Enum):
    """Where the rest pose (open flat hand, exo at the robot's zero pose) lies in a sensor's sweep."""

    ONE_SIDED = "one_sided"  # at one end (finger flexion): the sweep direction is found at calibration
    TWO_SIDED = "two_sided"  # inside the range (abduction, arm joints): the direction is data (``inverted``)


class Sensor(NamedTuple):
    """One named sensor: ``field`` is its index in the line; ``inverted`` sides: where raw counts rise as the
    joint's angle falls (two-sided sensors; the sweep decides for one-sided ones)."""

    name: str
    field: int
    kind: SensorKind = SensorKind.LINEAR
    travel: Travel = Travel.TWO_SIDED
    inverted: frozenset[str] = frozenset()  # sides ("left", "right") where this sensor reads backwards


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    """A Homunculus device's stream: ``fields`` per line, ``trailing_space`` after the last field, the named
    ``sensors``; ``angle_pairs`` (exo): the raw (sin, cos) fields behind each angle field, ``flipped_pairs`` the
    pairs read as ``4095 - v``; ``scan_period_s`` [s]: the board's time per line (mux settle + ADC + delay)."""

    name: str
    fields: int
    sensors: tuple[Sensor, ...]
    trailing_space: bool
    angle_pairs: tuple[tuple[int, int], ...] = ()
    flipped_pairs: frozenset[int] = frozenset()
    baudrate: int = BAUDRATE
    scan_period_s: float = 16 * 120e-6 + 1e-3  # 16 x (100 us settle + ~20 us ADC) + delay(1) [s]

    @property
    def sensor_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sensors)

    @property
    def raw_fields(self) -> int:
        return self.fields - len(self.angle_pairs)


def _glove_sensors() -> tuple[Sensor, ...]:
    one, two = Travel.ONE_SIDED, Travel.TWO_SIDED
    names: list[tuple[str, Travel]] = [(f"thumb_{j}", one) for j in ("cmc", "mcp", "pip", "dip")]
    for finger in ("index", "middle", "ring", "pinky"):
        names += [(f"{finger}_mcp_abduction", two), (f"{finger}_mcp_flexion", one), (f"{finger}_dip", one)]
    # mirror images: abduction reads backwards on the other side (to check on a real glove)
    return tuple(
        Sensor(n, i, SensorKind.LINEAR, t, frozenset({"left"}) if t is two else frozenset())
        for i, (n, t) in enumerate(names)
    )


GLOVE = DeviceSpec(name="homunculus_glove", fields=16, sensors=_glove_sensors(), trailing_space=True)

_ANGLE = SensorKind.ANGLE
EXO = DeviceSpec(
    name="homunculus_exo",
    fields=21,
    sensors=(
        Sensor("shoulder_pitch", 19, _ANGLE),
        Sensor("shoulder_yaw", 18, _ANGLE),
        Sensor("shoulder_roll", 20, _ANGLE),
        Sensor("elbow_flex", 17, _ANGLE, Travel.ONE_SIDED),  # the zero pose has the arm straight: an end
        Sensor("wrist_roll", 16, _ANGLE),
        Sensor("wrist_yaw", 1),
        Sensor("wrist_pitch", 0),
    ),
    trailing_space=False,
    angle_pairs=((2, 3), (5, 6), (10, 11), (12, 13), (14, 15)),
    flipped_pairs=frozenset({1}),
)

DEVICES: dict[str, DeviceSpec] = {d.name: d for d in (GLOVE, EXO)}


def parse_line(spec: DeviceSpec, line: bytes) -> np.ndarray:
    """The ``spec.fields`` integers of one line (terminator optional) as (fields,) int32. LineFormatError says
    what is wrong: a partial line, a wrong field count (another device?), a non-number or an out-of-range value."""
    text = line.rstrip(b"\r\n")
    try:
        words = text.decode("ascii").split()
    except UnicodeDecodeError:
        raise LineFormatError(f"{spec.name}: non-ASCII bytes in line {line!r} (wrong baud rate?)") from None
    if len(words) != spec.fields:
        raise LineFormatError(f"{spec.name}: {len(words)} fields in line {line!r}, expected {spec.fields}")
    try:
        values = np.array([int(w) for w in words], dtype=np.int32)
    except ValueError:
        raise LineFormatError(f"{spec.name}: a field of line {line!r} is not a decimal integer") from None
    raw, angles = values[: spec.raw_fields], values[spec.raw_fields :]
    if raw.min() < 0 or raw.max() > ADC_MAX or (angles.size and (angles.min() < 0 or angles.max() > ANGLE_TURN)):
        raise LineFormatError(f"{spec.name}: line {line!r} has a value outside 0..{ADC_MAX} (angles 0..{ANGLE_TURN})")
    return values


def angle_field(spec: DeviceSpec, pair: int, sin_raw: int, cos_raw: int) -> int:
    """The exo firmware's angle [0.1 deg, 0..3600] of raw pair ``pair`` (flipped pairs read ``4095 - v``)."""
    if pair in spec.flipped_pairs:
        sin_raw, cos_raw = ADC_MAX - sin_raw, ADC_MAX - cos_raw
    s = sin_raw * 2.0 / ADC_MAX - 1.0
    c = cos_raw * 2.0 / ADC_MAX - 1.0
    return int((math.degrees(math.atan2(s, c)) + 180.0) * 10.0)  # uint16 cast of a positive float: truncation


def pair_for_angle(spec: DeviceSpec, pair: int, tenths: float) -> tuple[int, int]:
    """Raw (sin, cos) counts that :func:`angle_field` reads back as ``tenths`` [0.1 deg] (to +-1): the
    emulator's inverse of the firmware."""
    rad = math.radians(tenths / 10.0 - 180.0)
    sin_raw = round((math.sin(rad) + 1.0) * ADC_MAX / 2.0)
    cos_raw = round((math.cos(rad) + 1.0) * ADC_MAX / 2.0)
    if pair in spec.flipped_pairs:
        sin_raw, cos_raw = ADC_MAX - sin_raw, ADC_MAX - cos_raw
    return sin_raw, cos_raw


def format_line(spec: DeviceSpec, values: np.ndarray) -> bytes:
    """One line exactly as the firmware prints ``values`` ((fields,) ints): the glove's ``"v v ... v \\r\\n"``,
    the exo's ``"r r ... r a a a a a\\r\\n"``."""
    if len(values) != spec.fields:
        raise LineFormatError(f"{spec.name}: {len(values)} values, expected {spec.fields}")
    words = [str(int(v)) for v in values]
    if spec.trailing_space:
        return (" ".join(words) + " \r\n").encode("ascii")
    raw, angles = words[: spec.raw_fields], words[spec.raw_fields :]
    return ("".join(w + " " for w in raw) + " ".join(angles) + "\r\n").encode("ascii")


def line_time_s(spec: DeviceSpec, nbytes: int) -> float:
    """Time [s] a line of ``nbytes`` takes at the device's baud rate (8N1: 10 bits a byte)."""
    return nbytes * 10.0 / spec.baudrate
