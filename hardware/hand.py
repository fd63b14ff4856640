"""The Amazing Hand (Pollen Robotics, open hardware) on a Feetech bus: descriptions as data and a factory.

Eight SCS0009 servos on one 1 Mbaud bus, two per finger, ordered finger by finger (index, middle, ring, thumb),
servo 1 then servo 2. A right hand uses ids 1..8, a left hand 11..18 by default, so two hands can share a bus
(the published demo's convention). Joint space is the shared ``AMAZING_HAND`` spec (flexion and abduction per
finger) through the two-servo transmission of :mod:`robot.transmission`: ``m1 = abduction + flexion``,
``m2 = abduction - flexion`` (servo angles [rad] after calibration: the published demo's convention, open about
(-35, +35) deg, closed (+90, -90) deg). The left hand is a mirror image, so its transmission mirrors abduction:
one joint command makes the mirrored gesture on either hand (as the demo's left-hand poses do).

Calibration is per servo: a zero tick (the hand open flat) and a drive sign; the travel is the zero +- 90 deg
(each motor +-pi/2 in the published model). ``twinarm calibrate robot=amazing_hand side=right port=...``
records it; :func:`calibration_from_published` imports the published per-servo ``offset`` / ``invert`` config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from twinarm.hardware.calibration import Calibration, CalibrationError
from twinarm.hardware.calibration_io import nominal_calibration, travel_calibration
from twinarm.hardware.feetech.tables import SCS0009
from twinarm.hardware.motors import ArmDescription, Motor, Role
from twinarm.hardware.robots import FeetechRobot, resolve_calibration
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import AMAZING_HAND, HAND_FINGERS
from twinarm.robot.transmission import LinearTransmission, finger_pairs

HAND_SIDES = ("right", "left")
DEFAULT_IDS: dict[str, tuple[int, ...]] = {"right": tuple(range(1, 9)), "left": tuple(range(11, 19))}
MOTOR_TRAVEL_RAD = np.pi / 2  # each motor +-pi/2 around its zero (the published MuJoCo export's motor ranges)
MOTOR_NAMES = tuple(f"{finger}_m{k}" for finger in HAND_FINGERS for k in (1, 2))

HAND_ZERO_POSE = """\
  the hand open flat: every finger straight and in the plane of the palm, not spread sideways
  (the servo horns at their assembly position; each finger's two servos then read their zero)"""


def mirrored_finger_pairs(n_fingers: int) -> LinearTransmission:
    """Two servos per finger with abduction mirrored (a left hand): flexion = (m1 - m2)/2, abduction = -(m1 + m2)/2."""
    return LinearTransmission(np.kron(np.eye(n_fingers), np.array([[0.5, -0.5], [-0.5, -0.5]])))


def hand_description(side: str = "right", ids: Sequence[int] | None = None) -> ArmDescription:
    """The description of a right or left hand whose servos have ``ids`` (default: right 1..8, left 11..18)."""
    if side not in HAND_SIDES:
        raise ConfigError(f"side={side!r} is not a hand side; valid: {', '.join(HAND_SIDES)}")
    ids = tuple(DEFAULT_IDS[side] if ids is None or len(ids) == 0 else (int(i) for i in ids))
    if len(ids) != len(MOTOR_NAMES):
        raise ConfigError(
            f"ids={list(ids)}: an Amazing Hand needs {len(MOTOR_NAMES)} servo ids, in the order {list(MOTOR_NAMES)}"
        )
    n = len(HAND_FINGERS)
    return ArmDescription(
        name=f"amazing_hand_{side}",
        spec=AMAZING_HAND,
        role=Role.FOLLOWER,
        table=SCS0009,
        motors=tuple(Motor(name, servo_id, 1, 1.0) for name, servo_id in zip(MOTOR_NAMES, ids)),
        p_gain=None,  # keep the servos' own gains: no sim was fitted to them
        gripper_joint=None,
        zero_pose_help=HAND_ZERO_POSE,
        transmission=finger_pairs(n) if side == "right" else mirrored_finger_pairs(n),
        motor_travel_rad=MOTOR_TRAVEL_RAD,
    )


AMAZING_HAND_RIGHT = hand_description("right")
AMAZING_HAND_LEFT = hand_description("left")


def amazing_hand(
    port: str,
    side: str = "right",
    ids: Sequence[int] | None = None,
    calibration: Calibration | str | Path | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> FeetechRobot:
    """An Amazing Hand on ``port``. ``calibration``: a Calibration, a file, or None for the default file of
    ``name`` (default: the side, e.g. ``amazing_hand_follower_right.json``). Other keyword arguments go to
    :class:`FeetechRobot` (park_pose, bus_timeout_s, ...)."""
    desc = hand_description(side, ids)
    return FeetechRobot(desc, port, resolve_calibration(desc, calibration, name or side), **kwargs)


def nominal_hand_calibration(side: str = "right", ids: Sequence[int] | None = None) -> Calibration:
    """Every servo's zero at the middle tick (511), drive sign +1: what the emulated hand needs."""
    return nominal_calibration(hand_description(side, ids), name="nominal")


def calibration_from_published(
    config: Mapping[str, Any] | str | Path, side: str = "right", ids: Sequence[int] | None = None, name: str = ""
) -> Calibration:
    """Import the published per-servo config (AHControl ``r_hand.toml``: ``[[motors]]`` with ``finger_name``,
    ``motor1``/``motor2`` = ``{id, offset [rad], invert, model}``, fingers in the order index, middle, ring,
    thumb) as our calibration: servo angle = sign * (motor + offset) with sign -1 when inverted, so the zero tick
    is ``511 + sign * offset`` in ticks and the drive sign is ``sign``. Ids come from the file unless ``ids``."""
    source = str(config) if not isinstance(config, Mapping) else "published config"
    data = config if isinstance(config, Mapping) else _read_toml(Path(config))
    fingers = data.get("motors")
    if not isinstance(fingers, list) or len(fingers) != len(HAND_FINGERS):
        raise CalibrationError(f"{source}: expected {len(HAND_FINGERS)} [[motors]] entries (one per finger)")
    entries = [(f, f.get(key)) for f in fingers for key in ("motor1", "motor2")]
    file_ids = []
    for k, (finger, entry) in enumerate(entries):
        where = f"{source}: {finger.get('finger_name', f'finger {k // 2 + 1}')}.motor{k % 2 + 1}"
        if not isinstance(entry, Mapping) or not {"id", "offset"} <= set(entry):
            raise CalibrationError(f"{where}: needs keys 'id' and 'offset' (and optionally 'invert', 'model')")
        if str(entry.get("model", "SCS0009")).upper() != SCS0009.name:
            raise CalibrationError(f"{where}: model {entry['model']!r}; the Amazing Hand uses SCS0009 servos")
        file_ids.append(int(entry["id"]))
    desc = hand_description(side, ids if ids else file_ids)
    ticks_per_rad = SCS0009.ticks_per_turn / (2 * np.pi)
    signs = [-1 if entry.get("invert", False) else 1 for _, entry in entries]
    zeros = [SCS0009.center_tick + s * float(e["offset"]) * ticks_per_rad for s, (_, e) in zip(signs, entries)]
    return travel_calibration(desc, name or side, zeros, signs)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        import tomllib  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        raise ConfigError(f"{path}: reading TOML needs Python >= 3.11; pass the parsed mapping instead") from None
    if not path.is_file():
        raise CalibrationError(f"published hand config {path} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationError(f"{path} is not valid TOML: {exc}") from None
