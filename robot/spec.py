"""Robot specs: plain values describing a robot model, and the gymnasium spaces derived from them.

A sim robot and a hardware robot of the same model share one :class:`RobotSpec`, and therefore identical
observation and action spaces. Units: joint positions in [rad], velocities in [rad/s], rates in [Hz].

Observation (a ``dict[str, np.ndarray]``):
    ``joint_pos``      (n,) float32 [rad], zero at the simulator model's zero
    ``joint_vel``      (n,) float32 [rad/s]
    ``image_<camera>`` (H, W, 3) uint8 RGB, one per camera in the spec
Action: (n,) float32 joint position targets [rad], in the spec's joint order (gripper included).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import gymnasium as gym
import numpy as np

from twinarm.robot.errors import SpecError
from twinarm.robot.features import IMAGE_PREFIX, JOINT_POS, JOINT_VEL, image_key

__all__ = ["IMAGE_PREFIX", "JOINT_POS", "JOINT_VEL", "CameraSpec", "JointSpec", "RobotSpec", "image_key"]

#: Observation bounds are the joint limits widened by this much [rad]: real encoders and soft sim limits read
#: slightly past a limit, and that is a measurement, not a contract violation.
POSITION_MARGIN = 0.1


class JointSpec(NamedTuple):
    """One actuated joint. ``lower``/``upper`` in [rad]; ``max_velocity`` in [rad/s] (> 0)."""

    name: str
    lower: float
    upper: float
    max_velocity: float


class CameraSpec(NamedTuple):
    """One camera: images are (height, width, 3) uint8 RGB."""

    name: str
    height: int = 96
    width: int = 96


@dataclasses.dataclass(frozen=True)
class RobotSpec:
    """Everything the shared contract needs to know about a robot model.

    Attributes:
        name: model name, e.g. ``"so101"``; the same for its sim and hardware robots.
        joints: actuated joints in action/observation order.
        cameras: cameras whose images join the observation (may be empty).
        control_hz: control rate in [Hz]: one ``send_action`` per period.
        max_velocity_scale: fraction of each joint's ``max_velocity`` allowed per control step; the safety layer
            limits a command's change per step to ``max_velocity * max_velocity_scale / control_hz`` [rad].
    """

    name: str
    joints: tuple[JointSpec, ...]
    cameras: tuple[CameraSpec, ...] = ()
    control_hz: float = 30.0
    max_velocity_scale: float = 1.0

    def __post_init__(self) -> None:
        validate_spec(self)

    # -- derived values ------------------------------------------------------------------------------------
    @property
    def joint_names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def lower(self) -> np.ndarray:
        """Joint lower limits, (n,) float32 [rad]."""
        return np.array([j.lower for j in self.joints], dtype=np.float32)

    @property
    def upper(self) -> np.ndarray:
        """Joint upper limits, (n,) float32 [rad]."""
        return np.array([j.upper for j in self.joints], dtype=np.float32)

    @property
    def max_velocity(self) -> np.ndarray:
        """Joint velocity limits, (n,) float32 [rad/s]."""
        return np.array([j.max_velocity for j in self.joints], dtype=np.float32)

    @property
    def control_period_s(self) -> float:
        """Control period in [s]."""
        return 1.0 / self.control_hz

    @property
    def max_step(self) -> np.ndarray:
        """Largest allowed change of a joint target per control step, (n,) float32 [rad]."""
        return (self.max_velocity * np.float32(self.max_velocity_scale / self.control_hz)).astype(np.float32)

    def camera(self, name: str) -> CameraSpec:
        for cam in self.cameras:
            if cam.name == name:
                return cam
        valid = ", ".join(c.name for c in self.cameras) or "(none)"
        raise SpecError(f"robot {self.name!r} has no camera {name!r}; cameras: {valid}")

    def joint_index(self, name: str) -> int:
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise SpecError(
                f"robot {self.name!r} has no joint {name!r}; joints: {', '.join(self.joint_names)}"
            ) from None

    # -- spaces -------------------------------------------------------------------------------------------
    def action_space(self) -> gym.spaces.Box:
        """Joint position targets [rad], bounded by the joint limits."""
        return gym.spaces.Box(self.lower, self.upper, dtype=np.float32)

    def observation_space(self) -> gym.spaces.Dict:
        """Joint state plus one RGB image per camera (see the module docstring)."""
        n = self.num_joints
        spaces: dict[str, gym.spaces.Space] = {
            JOINT_POS: gym.spaces.Box(self.lower - POSITION_MARGIN, self.upper + POSITION_MARGIN, dtype=np.float32),
            JOINT_VEL: gym.spaces.Box(-np.inf, np.inf, shape=(n,), dtype=np.float32),
        }
        for cam in self.cameras:
            spaces[image_key(cam.name)] = gym.spaces.Box(0, 255, shape=(cam.height, cam.width, 3), dtype=np.uint8)
        return gym.spaces.Dict(spaces)

    def with_cameras(self, cameras: tuple[CameraSpec, ...]) -> RobotSpec:
        """A copy with another camera set (e.g. other resolutions, or none for state-only control)."""
        return dataclasses.replace(self, cameras=tuple(cameras))

    def with_rate(self, control_hz: float) -> RobotSpec:
        """A copy controlled at another rate in [Hz]."""
        return dataclasses.replace(self, control_hz=float(control_hz))


def validate_spec(spec: RobotSpec) -> None:
    """Raise :class:`SpecError` naming the first inconsistency in ``spec``."""
    if not spec.joints:
        raise SpecError(f"robot {spec.name!r}: a spec needs at least one joint")
    names = [j.name for j in spec.joints]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise SpecError(f"robot {spec.name!r}: duplicate joint names {sorted(dup)}")
    for j in spec.joints:
        if not (np.isfinite(j.lower) and np.isfinite(j.upper) and j.lower < j.upper):
            raise SpecError(
                f"robot {spec.name!r}, joint {j.name!r}: limits [{j.lower}, {j.upper}] rad "
                "must be finite with lower < upper"
            )
        if not (np.isfinite(j.max_velocity) and j.max_velocity > 0):
            raise SpecError(f"robot {spec.name!r}, joint {j.name!r}: max_velocity {j.max_velocity} rad/s must be > 0")
    cam_names = [c.name for c in spec.cameras]
    if len(set(cam_names)) != len(cam_names):
        raise SpecError(f"robot {spec.name!r}: duplicate camera names {cam_names}")
    for c in spec.cameras:
        if not c.name or "." in c.name or "/" in c.name:
            raise SpecError(f"robot {spec.name!r}: camera name {c.name!r} must be non-empty without '.' or '/'")
        if c.height <= 0 or c.width <= 0:
            raise SpecError(f"robot {spec.name!r}, camera {c.name!r}: size {c.height}x{c.width} must be positive")
    if not (np.isfinite(spec.control_hz) and spec.control_hz > 0):
        raise SpecError(f"robot {spec.name!r}: control_hz {spec.control_hz} must be > 0")
    if not (0 < spec.max_velocity_scale <= 10):
        raise SpecError(f"robot {spec.name!r}: max_velocity_scale {spec.max_velocity_scale} must be in (0, 10]")


def concatenated(name: str, parts: tuple[RobotSpec, ...], cameras: tuple[CameraSpec, ...] = ()) -> RobotSpec:
    """The spec of a robot made of ``parts`` (e.g. an arm and the hand on its wrist): their joints in part order,
    ``cameras``, and the parts' common control rate [Hz]; SpecError when the rates differ or joint names clash."""
    rates = {p.control_hz for p in parts}
    if len(rates) != 1:
        raise SpecError(f"robot {name!r}: parts {[p.name for p in parts]} run at different rates {sorted(rates)} Hz")
    return RobotSpec(name, tuple(j for p in parts for j in p.joints), tuple(cameras), rates.pop())
