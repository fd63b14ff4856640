"""Named Amazing Hand poses in joint space, and a terminal-key action source that moves smoothly between them.

A pose is (flexion, abduction) per finger [rad] in the ``AMAZING_HAND`` spec's joint order (flexion +: closing,
-0.61 rad is fully open; abduction +-0.35 rad). The named poses are the published demo's gestures, converted from
its servo-angle pairs (m1, m2) with ``flexion = (m1 - m2) / 2``, ``abduction = (m1 + m2) / 2`` (see
``robot.transmission``) and clipped to the spec. Being joint-space data, they drive a sim hand and a real one
(right or left: the hardware mirrors the left hand's abduction) alike.

:class:`HandPoseSource` reads keys (``o`` open, ``c``/``f`` close, ``p`` pinch, ``i`` point, ``z`` flat, ``1``-``4``
select a finger, up/down flex it, left/right spread it, ``q``/Esc quit) and steps its target towards the chosen
goal at a bounded speed, one control period per ``act``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from twinarm.robot.errors import ConfigError
from twinarm.robot.models import AMAZING_HAND, HAND_FINGERS
from twinarm.robot.robot import Observation
from twinarm.robot.spec import JOINT_POS, RobotSpec

# degrees (flexion, abduction) per finger; from the demo's servo pairs: open (-35, 35), close (90, -90),
# "Index_Pointing" (-40, 40) for the index with the others closed, "Perfect" (thumb-to-index pinch): index (50, -50),
# middle (0, 0), ring (-20, 20), thumb (65, 12)
_POSES_DEG: dict[str, dict[str, tuple[float, float]]] = {
    "flat": {f: (0.0, 0.0) for f in HAND_FINGERS},  # the calibration pose
    "open": {f: (-35.0, 0.0) for f in HAND_FINGERS},
    "close": {f: (90.0, 0.0) for f in HAND_FINGERS},
    "point": {"index": (-40.0, 0.0), "middle": (90.0, 0.0), "ring": (90.0, 0.0), "thumb": (90.0, 0.0)},
    "pinch": {"index": (50.0, 0.0), "middle": (0.0, 0.0), "ring": (-20.0, 0.0), "thumb": (26.5, 38.5)},
}
POSE_ALIASES = {"fist": "close"}
POSE_NAMES = tuple(_POSES_DEG) + tuple(POSE_ALIASES)

#: key -> pose name
POSE_KEYS = {"o": "open", "c": "close", "f": "close", "p": "pinch", "i": "point", "z": "flat"}
FINGER_KEYS = {str(k + 1): finger for k, finger in enumerate(HAND_FINGERS)}
QUIT_KEYS = ("q", "esc")
HAND_KEYS_HELP = (
    "keys: o open, c/f close, p pinch, i point, z flat; 1-4 select index/middle/ring/thumb, "
    "up/down flex it, left/right spread it; q/Esc quit"
)


class Keys(Protocol):
    """What the source needs from a key reader (``robot.keyboard.TerminalKeys``)."""

    def poll(self) -> list[str]: ...


def _finger_index(spec: RobotSpec, finger: str) -> tuple[int, int]:
    """(flexion, abduction) joint indices of ``finger`` in ``spec``; SpecError names a missing joint."""
    return spec.joint_index(f"{finger}_flexion"), spec.joint_index(f"{finger}_abduction")


def hand_pose(name: str, spec: RobotSpec = AMAZING_HAND) -> np.ndarray:
    """Joint targets (n,) float32 [rad] of the named pose (see ``POSE_NAMES``), clipped to ``spec``'s limits;
    ConfigError lists the valid names."""
    key = POSE_ALIASES.get(name, name)
    if key not in _POSES_DEG:
        raise ConfigError(f"unknown hand pose {name!r}; valid: {', '.join(POSE_NAMES)}")
    q = np.zeros(spec.num_joints, dtype=np.float64)
    for finger, (flex, abd) in _POSES_DEG[key].items():
        i_flex, i_abd = _finger_index(spec, finger)
        q[i_flex], q[i_abd] = np.deg2rad(flex), np.deg2rad(abd)
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
        self.fingers = {f: _finger_index(spec, f) for f in HAND_FINGERS}
        self.poses = {name: hand_pose(name, spec) for name in _POSES_DEG}
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
        elif key in FINGER_KEYS:
            self.selected = FINGER_KEYS[key]
        elif key in ("up", "down", "left", "right"):
            i_flex, i_abd = self.fingers[self.selected]
            joint = i_flex if key in ("up", "down") else i_abd
            self._goal[joint] += self.step_rad if key in ("up", "right") else -self.step_rad
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
