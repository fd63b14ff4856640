"""Which device sensor drives which robot joint, as data, and the signed-position -> joint-angle scaling.

The HopeJR hand's Robot interface is joint space (16 joints, zero = flat open hand), so the glove maps sensor to
joint one to one: each finger's MCP flexion/abduction sensors to ``<finger>_mcp_flex``/``_mcp_abd``, its DIP sensor
to ``<finger>_pip`` (the MJCF couples DIP to PIP), the thumb 1:1. The radial/ulnar tendon mix that lerobot applies
on the glove side (``joints_translation.py``: flexor = flexion +- splay x abduction) belongs to the hand's
transmission here. The exoskeleton maps each arm joint to its sensor by name.

A signed position ``p`` in [-1, 1] (0 at the rest pose, see ``calibration``) becomes ``p * upper`` for ``p >= 0``
and ``-p * lower`` for ``p < 0`` [rad], with (lower, upper) the link's ``range_rad`` or else the robot joint's
limits, then clipped into the limits: the swept human range fills the robot joint's range.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from twinarm.hardware.homunculus.stream import EXO, GLOVE, DeviceSpec
from twinarm.robot.errors import ConfigError
from twinarm.robot.spec import JointSpec


class Link(NamedTuple):
    """Robot ``joint`` follows device ``sensor``; ``range_rad`` (lower, upper) [rad] overrides the joint limits."""

    joint: str
    sensor: str
    range_rad: tuple[float, float] | None = None


class DeviceMap(NamedTuple):
    device: DeviceSpec
    robot: str  # registry name of the robot (or the part) it drives
    links: tuple[Link, ...]

    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(link.joint for link in self.links)


def _glove_links() -> tuple[Link, ...]:
    links = [Link(f"thumb_{j}", f"thumb_{j}") for j in ("cmc", "mcp", "pip", "dip")]
    for f in ("index", "middle", "ring", "pinky"):
        links += [
            Link(f"{f}_mcp_flex", f"{f}_mcp_flexion"),
            Link(f"{f}_mcp_abd", f"{f}_mcp_abduction"),
            Link(f"{f}_pip", f"{f}_dip"),
        ]
    return tuple(links)


GLOVE_TO_HOPEJR_HAND = DeviceMap(GLOVE, "hopejr_hand", _glove_links())
EXO_TO_HOPEJR_ARM = DeviceMap(EXO, "hopejr_arm", tuple(Link(s.name, s.name) for s in EXO.sensors))

MAPS: dict[str, DeviceMap] = {m.device.name: m for m in (GLOVE_TO_HOPEJR_HAND, EXO_TO_HOPEJR_ARM)}


class JointScaler:
    """The links of ``dmap`` that name joints in ``joints`` (a robot's spec), as arrays: :meth:`__call__` maps the
    device's (n_sensors,) signed positions to (k,) joint targets [rad] for :attr:`joint_names`. ConfigError when
    none of the robot's joints is in the map."""

    def __init__(self, dmap: DeviceMap, joints: Sequence[JointSpec]) -> None:
        by_name = {j.name: j for j in joints}
        links = [link for link in dmap.links if link.joint in by_name]
        if not links:
            raise ConfigError(
                f"{dmap.device.name} drives joints {list(dmap.joint_names)}; the robot has none of them "
                f"({list(by_name)}): use it with {dmap.robot} (or a robot containing it)"
            )
        self.joint_names = tuple(link.joint for link in links)
        self.sensor_idx = np.array([dmap.device.sensor_names.index(link.sensor) for link in links], dtype=np.intp)
        lim = np.array([(by_name[link.joint].lower, by_name[link.joint].upper) for link in links], dtype=np.float64)
        rng = np.array([link.range_rad or tuple(lim[i]) for i, link in enumerate(links)], dtype=np.float64)
        self.lower, self.upper = lim[:, 0], lim[:, 1]
        self.neg, self.pos = np.minimum(rng[:, 0], 0.0), np.maximum(rng[:, 1], 0.0)

    def __call__(self, signed: np.ndarray) -> np.ndarray:
        p = np.asarray(signed, dtype=np.float64)[self.sensor_idx]
        q = np.where(p >= 0, p * self.pos, -p * self.neg)
        return np.clip(q, self.lower, self.upper)
