"""Named hand poses in joint space, per hand model as data, and a terminal-key source that moves between them.

Every hand has the same pose names (``POSE_NAMES``) and keys; its :class:`HandPoseTable` says which joints the
poses set and which joints the keys nudge. Tables:

* Amazing Hand: (flexion, abduction) per finger [rad] in the ``AMAZING_HAND`` spec's order (flexion +: closing,
  -0.61 rad is fully open; abduction +-0.35 rad). The named poses are the published demo's gestures, converted
  from its servo-angle pairs (m1, m2) with ``flexion = (m1 - m2) / 2``, ``abduction = (m1 + m2) / 2`` (see
  ``robot.transmission``) and clipped to the spec.
* HopeJR hand: (mcp_flex, mcp_abd, pip) per finger and (cmc, mcp, pip, dip) for the thumb [rad] in the
  ``HOPEJR_HAND`` spec's order; five fingers (key 5 selects the pinky), up/down bend the selected finger's flexions,
  left/right its abduction (the thumb's cmc).
* LEAP Hand: (mcp_side, mcp_forward, pip, dip) per finger [rad] in the ``LEAP_HAND`` spec's order (0 = the LEAPsim
  flat hand; + closes, the thumb's mcp_side + swings it under the palm). Up/down bend a finger's mcp_forward, pip
  and dip together; left/right turn its mcp_side.

Being joint-space data, the poses drive a sim hand and a real one alike (right or left: the Amazing Hand hardware
mirrors the left hand's abduction). :class:`HandPoseSource` reads keys (``o`` open, ``c``/``f`` close, ``p`` pinch,
``i`` point, ``z`` flat, ``1``-``4`` select a finger, up/down flex it, left/right spread it, ``q``/Esc quit) and
steps its target towards the chosen goal at a bounded speed, one control period per ``act``.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.robot.models import AMAZING_HAND, HAND_FINGERS, HOPEJR_HAND, LEAP_HAND
from twinarm.robot.robot import Observation
from twinarm.robot.spec import JOINT_POS, RobotSpec


class FingerParts(NamedTuple):
    """A finger's joints (``{finger}_{part}`` per part) and the parts up/down (``flex``), left/right (``spread``)
    nudge."""

    parts: tuple[str, ...]
    flex: tuple[str, ...]
    spread: str


class HandPoseTable(NamedTuple):
    """One hand's poses: ``parts`` of each finger's joints (joint ``{finger}_{part}``), ``poses_deg`` per pose name
    and finger (one value per part [deg]; a finger not given stays at 0), the parts up/down (``flex``) and
    left/right (``spread``) nudge. ``fingers``: the hand's fingers in key order (keys 1, 2, ...); ``thumb``: the
    thumb's own parts when its joints differ from the fingers' (None: the same)."""

    parts: tuple[str, ...]
    poses_deg: dict[str, dict[str, tuple[float, ...]]]
    flex: tuple[str, ...]
    spread: str
    fingers: tuple[str, ...] = HAND_FINGERS
    thumb: FingerParts | None = None

    def finger(self, name: str) -> FingerParts:
        """The parts of finger ``name``."""
        if name == "thumb" and self.thumb is not None:
            return self.thumb
        return FingerParts(self.parts, self.flex, self.spread)

    def joint_names(self) -> tuple[str, ...]:
        return tuple(f"{f}_{p}" for f in self.fingers for p in self.finger(f).parts)


# degrees (flexion, abduction) per finger; from the demo's servo pairs: open (-35, 35), close (90, -90),
# "Index_Pointing" (-40, 40) for the index with the others closed, "Perfect" (thumb-to-index pinch): index (50, -50),
# middle (0, 0), ring (-20, 20), thumb (65, 12)
AMAZING_HAND_POSES = HandPoseTable(
    parts=("flexion", "abduction"),
    poses_deg={
        "flat": {f: (0.0, 0.0) for f in HAND_FINGERS},  # the calibration pose
        "open": {f: (-35.0, 0.0) for f in HAND_FINGERS},
        "close": {f: (90.0, 0.0) for f in HAND_FINGERS},
        "point": {"index": (-40.0, 0.0), "middle": (90.0, 0.0), "ring": (90.0, 0.0), "thumb": (90.0, 0.0)},
        "pinch": {"index": (50.0, 0.0), "middle": (0.0, 0.0), "ring": (-20.0, 0.0), "thumb": (26.5, 38.5)},
    },
    flex=("flexion",),
    spread="abduction",
)
# degrees (mcp_side, mcp_forward, pip, dip) per finger, inside the LEAPsim limits (robot.models LEAP_HAND); our own
# gestures, the thumb's found by a kinematic grid search on the sim model (sim/models/leap_hand.xml): "pinch" puts
# the thumb tip against the index tip (tip sites 21 mm apart, the tips' 9.5 mm radii touching), "close" lays the
# thumb over the curled index and middle fingers.
_LEAP_CURLED = (0.0, 90.0, 75.0, 60.0)
LEAP_THUMB_CLOSE = (40.0, 60.0, 70.0, 70.0)
LEAP_INDEX_PINCH = (0.0, 45.0, 40.0, 30.0)
LEAP_THUMB_PINCH = (80.0, 10.0, 50.0, -15.0)
AMAZING_POSE_NAMES = tuple(AMAZING_HAND_POSES.poses_deg)
LEAP_HAND_POSES = HandPoseTable(
    parts=("mcp_side", "mcp_forward", "pip", "dip"),
    poses_deg={
        "flat": {},  # the LEAPsim zero: the calibration pose
        "open": {"index": (-8.0, -10.0, 0.0, 0.0), "ring": (8.0, -10.0, 0.0, 0.0), "middle": (0.0, -10.0, 0.0, 0.0)},
        "close": {"index": _LEAP_CURLED, "middle": _LEAP_CURLED, "ring": _LEAP_CURLED, "thumb": LEAP_THUMB_CLOSE},
        "point": {"middle": _LEAP_CURLED, "ring": _LEAP_CURLED, "thumb": LEAP_THUMB_CLOSE},
        "pinch": {"index": LEAP_INDEX_PINCH, "thumb": LEAP_THUMB_PINCH},
    },
    flex=("mcp_forward", "pip", "dip"),
    spread="mcp_side",
)
# degrees per finger for the HopeJR hand (robot/hopejr_hand.py: 0 = the flat hand, the thumb straight out sideways):
# (mcp_flex, mcp_abd, pip) per finger, (cmc, mcp, pip, dip) for the thumb; our gestures, the thumb's found by a
# kinematic grid search on the sim model (sim/models/hopejr_hand.xml): "pinch" puts the thumb tip 14 mm from the
# index tip (the tips' 7 mm radii touching), "close" lays the thumb tip on the curled index and middle fingers.
_HJ_CURLED = (90.0, 0.0, 90.0)
_HJ_THUMB_CLOSE = (40.0, 90.0, 45.0, 0.0)
HOPEJR_HAND_POSES = HandPoseTable(
    parts=("mcp_flex", "mcp_abd", "pip"),
    poses_deg={
        "flat": {},  # the calibration pose
        "open": {
            "index": (0.0, 10.0, 0.0),
            "ring": (0.0, -8.0, 0.0),
            "pinky": (0.0, -15.0, 0.0),
            "thumb": (30.0, 0, 0, 0),
        },
        "close": {
            "index": _HJ_CURLED,
            "middle": _HJ_CURLED,
            "ring": _HJ_CURLED,
            "pinky": _HJ_CURLED,
            "thumb": _HJ_THUMB_CLOSE,
        },
        "point": {"middle": _HJ_CURLED, "ring": _HJ_CURLED, "pinky": _HJ_CURLED, "thumb": _HJ_THUMB_CLOSE},
        "pinch": {"index": (50.0, 0.0, 45.0), "thumb": (90.0, 60.0, 15.0, 15.0)},
    },
    flex=("mcp_flex", "pip"),
    spread="mcp_abd",
    fingers=(*HAND_FINGERS, "pinky"),  # keys 1-4 as on the other hands, 5 the pinky
    thumb=FingerParts(("cmc", "mcp", "pip", "dip"), ("mcp", "pip", "dip"), "cmc"),
)
#: Each hand model's table, by spec name (a robot carrying a hand finds its table by joint names: :func:`hand_table`).
HAND_POSE_TABLES: dict[str, HandPoseTable] = {
    AMAZING_HAND.name: AMAZING_HAND_POSES,
    LEAP_HAND.name: LEAP_HAND_POSES,
    HOPEJR_HAND.name: HOPEJR_HAND_POSES,
}
POSE_ALIASES = {"fist": "close"}
POSE_NAMES = AMAZING_POSE_NAMES + tuple(POSE_ALIASES)

#: key -> pose name
POSE_KEYS = {"o": "open", "c": "close", "f": "close", "p": "pinch", "i": "point", "z": "flat"}
FINGER_KEYS = {str(k + 1): finger for k, finger in enumerate(HAND_FINGERS)}
QUIT_KEYS = ("q", "esc")
HAND_KEYS_HELP = (
    "keys: o open, c/f close, p pinch, i point, z flat; 1-4 select index/middle/ring/thumb (5 pinky), "
    "up/down flex it, left/right spread it; q/Esc quit"
)


class Keys(Protocol):
    """What the source needs from a key reader (``robot.keyboard.TerminalKeys``)."""

    def poll(self) -> list[str]: ...


def hand_table(spec: RobotSpec) -> HandPoseTable:
    """The pose table of the hand whose joints ``spec`` has (a hand, or a robot carrying one); ConfigError names the
    hands that have poses."""
    names = set(spec.joint_names)
    for table in HAND_POSE_TABLES.values():
        if set(table.joint_names()) <= names:
            return table
    raise ConfigError(f"robot {spec.name!r} has no hand with poses; hands with poses: {', '.join(HAND_POSE_TABLES)}")


def hand_pose(name: str, spec: RobotSpec = AMAZING_HAND) -> np.ndarray:
    """Joint targets (n,) float32 [rad] of the named pose (see ``POSE_NAMES``) for ``spec``'s hand (its other joints
    at 0), clipped to ``spec``'s limits; ConfigError lists the valid names."""
    key = POSE_ALIASES.get(name, name)
    table = hand_table(spec)
    if key not in table.poses_deg:
        raise ConfigError(f"unknown hand pose {name!r}; valid: {', '.join(POSE_NAMES)}")
    q = np.zeros(spec.num_joints, dtype=np.float64)
    for finger, values in table.poses_deg[key].items():
        for part, value in zip(table.finger(finger).parts, values):
            q[spec.joint_index(f"{finger}_{part}")] = np.deg2rad(value)
    return np.clip(q, spec.lower, spec.upper).astype(np.float32)


class HandPoseSource:
    """Action source: terminal keys choose a goal pose (or nudge one finger), the target follows at a bounded speed.

    ``speed_rad_s`` [rad/s]: the largest change of any joint target per second (per ``act``: times the spec's
    control period). ``step_rad`` [rad]: one up/down or left/right press. Starts from the measured position.
    """

    def __init__(
        self, keys: Keys, spec: RobotSpec = AMAZING_HAND, speed_rad_s: float = 2.0, step_rad: float = np.deg2rad(10)
    ) -> None:
        self.keys, self.spec = keys, spec
        table = hand_table(spec)
        self.flex = {f: [spec.joint_index(f"{f}_{p}") for p in table.finger(f).flex] for f in table.fingers}
        self.spread = {f: [spec.joint_index(f"{f}_{table.finger(f).spread}")] for f in table.fingers}
        self.finger_keys = {str(k + 1): finger for k, finger in enumerate(table.fingers)}
        self.poses = {name: hand_pose(name, spec) for name in table.poses_deg}
        self.max_step = float(speed_rad_s) * spec.control_period_s  # [rad] per act
        self.step_rad = float(step_rad)
        self.selected = HAND_FINGERS[0]
        self.quit = False  # set by q/Esc: the caller stops its loop
        self._target: np.ndarray | None = None  # (n,) float64 [rad]
        self._goal: np.ndarray | None = None

    @property
    def goal(self) -> np.ndarray | None:
        """The pose the target moves towards, (n,) float32 [rad] (None before the first ``act``)."""
        return None if self._goal is None else self._goal.astype(np.float32)

    def reset(self) -> None:
        self._target = self._goal = None
        self.quit = False

    def press(self, key: str) -> None:
        """Apply one key (as ``TerminalKeys.poll`` names it); unknown keys are ignored."""
        assert self._goal is not None, "act() anchors the goal first"
        if key in POSE_KEYS:
            self._goal = self.poses[POSE_KEYS[key]].astype(np.float64)
        elif key in self.finger_keys:
            self.selected = self.finger_keys[key]
        elif key in ("up", "down", "left", "right"):
            joints = (self.flex if key in ("up", "down") else self.spread)[self.selected]
            self._goal[joints] += self.step_rad if key in ("up", "right") else -self.step_rad
            np.clip(self._goal, self.spec.lower, self.spec.upper, out=self._goal)
        elif key in QUIT_KEYS:
            self.quit = True

    def act(self, obs: Observation) -> np.ndarray:
        if self._target is None:
            start = np.clip(np.asarray(obs[JOINT_POS], dtype=np.float64), self.spec.lower, self.spec.upper)
            self._target, self._goal = start, start.copy()
        for key in self.keys.poll():
            self.press(key)
        assert self._goal is not None
        self._target = self._target + np.clip(self._goal - self._target, -self.max_step, self.max_step)
        return self._target.astype(np.float32)
