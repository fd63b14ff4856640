"""The input/output contract of a trained policy, saved beside its weights as ``policy_contract.json``
(:mod:`twinarm.robot.contract_file`).

A :class:`PolicyContract` says what the policy was trained on and therefore what any robot running it must
provide: the robot model, its joint names (positions in [rad]), each camera's name and the exact image
preprocessing (:mod:`twinarm.robot.observation`: aspect-preserving centre crop, then resize to the input size;
RGB; uint8 scaled to float in [0, 1]), the control rate [Hz], how many past observations it sees, and what its
actions mean (absolute joint position targets [rad], ``chunk_size`` per inference, ``n_action_steps`` executed).
Normalization statistics live in ``model.safetensors``. Contracts are versioned (:data:`CONTRACT_VERSION`).
:func:`check_robot_spec` refuses a robot that cannot feed a contract. Torch-free: the CLI and the composition
layer read contracts without loading a model.
"""

from __future__ import annotations

import dataclasses
import enum

from twinarm.robot.errors import TwinarmError
from twinarm.robot.spec import RobotSpec

CONTRACT_VERSION = 1
#: Relative control-rate difference tolerated between a policy and a robot.
RATE_TOLERANCE = 1e-6


class ContractError(TwinarmError, ValueError):
    """A ``policy_contract.json`` is missing a key, has an unknown one, or holds an invalid value."""


class PolicyMismatchError(TwinarmError, ValueError):
    """A robot (or env) cannot provide an input the policy needs: the message names both sides, in one line."""


class ImageRule(str, enum.Enum):
    """How a captured frame becomes a policy input: crop the centre to the input's aspect ratio, then resize."""

    CENTER_CROP_RESIZE = "center_crop_resize"


class ColorOrder(str, enum.Enum):
    RGB = "rgb"


class ActionKind(str, enum.Enum):
    """Actions are absolute joint position targets [rad] in the contract's joint order."""

    ABSOLUTE_JOINT_POSITION = "absolute_joint_position"


@dataclasses.dataclass(frozen=True)
class CameraInput:
    """One camera the policy sees: input ``height`` x ``width`` [px]; ``capture_height`` x ``capture_width`` [px]
    is the size the training frames were captured at (simulated cameras render at it by default)."""

    name: str
    height: int
    width: int
    capture_height: int
    capture_width: int


@dataclasses.dataclass(frozen=True)
class ImagePreprocessing:
    """Frame -> input: ``rule`` to the camera's input size, channels in ``color_order``, ``dtype`` pixels, then
    multiplied by ``scale`` (uint8 / 255 -> float in [0, 1]) and laid out channels-first by the policy."""

    rule: ImageRule = ImageRule.CENTER_CROP_RESIZE
    color_order: ColorOrder = ColorOrder.RGB
    dtype: str = "uint8"
    scale: float = 1.0 / 255.0


@dataclasses.dataclass(frozen=True)
class ActionSemantics:
    """``kind`` in ``unit``; ``chunk_size`` actions per inference, the first ``n_action_steps`` executed."""

    chunk_size: int
    n_action_steps: int
    kind: ActionKind = ActionKind.ABSOLUTE_JOINT_POSITION
    unit: str = "rad"


@dataclasses.dataclass(frozen=True)
class PolicyContract:
    """What a policy expects and produces (see the module docstring). ``task``: the training episodes' task
    text; ``sim_task``: the simulated task they came from ("" if unknown); ``dataset``: the training dataset's
    id (its path). ``legacy``: built for a checkpoint saved without a contract (assumed values)."""

    robot: str
    joint_names: tuple[str, ...]
    cameras: tuple[CameraInput, ...]
    control_hz: float
    n_obs_steps: int
    action: ActionSemantics
    image: ImagePreprocessing = ImagePreprocessing()
    joint_unit: str = "rad"
    task: str = ""
    sim_task: str = ""
    dataset: str = ""
    version: int = CONTRACT_VERSION
    legacy: bool = False

    @property
    def camera_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cameras)

    def camera(self, name: str) -> CameraInput:
        for cam in self.cameras:
            if cam.name == name:
                return cam
        raise PolicyMismatchError(f"the policy has no camera {name!r}; its cameras: {list(self.camera_names)}")

    def summary(self) -> str:
        """Multi-line human-readable description (``twinarm policy info``)."""
        cams = [
            f"  camera {c.name}: {c.height}x{c.width} px input (captured at {c.capture_height}x{c.capture_width})"
            for c in self.cameras
        ]
        act = self.action
        assumed = " (ASSUMED: checkpoint saved without a contract)" if self.legacy else ""
        joints = ", ".join(self.joint_names)
        return "\n".join(
            [
                f"contract v{self.version}{assumed}",
                f"  robot {self.robot}, {self.control_hz:g} Hz, joints ({self.joint_unit}): {joints}",
                *(cams or ["  cameras: none (state only)"]),
                f"  images: {self.image.rule.value}, {self.image.color_order.value}, "
                f"{self.image.dtype} x {self.image.scale:.6g}",
                f"  observation history: {self.n_obs_steps} step(s)",
                f"  actions: {act.kind.value} [{act.unit}], chunk {act.chunk_size}, execute {act.n_action_steps}",
                f"  task: {self.task or '?'} (sim task {self.sim_task or '?'}); dataset: {self.dataset or '?'}",
            ]
        )


def validate_contract(c: PolicyContract, where: str = "policy contract") -> None:
    """Raise :class:`ContractError` naming the first invalid value of ``c``."""

    def need(ok: bool, key: str, valid: str) -> None:
        if not ok:
            raise ContractError(f"{where}: key {key!r} is invalid; expected {valid}")

    need(isinstance(c.robot, str) and bool(c.robot), "robot", "a robot model name, e.g. 'so101'")
    need(len(set(c.joint_names)) == len(c.joint_names), "joint_names", "distinct names")
    need(c.joint_unit == "rad", "joint_unit", "'rad'")
    need(isinstance(c.control_hz, (int, float)) and c.control_hz > 0, "control_hz", "a rate > 0 [Hz]")
    need(isinstance(c.n_obs_steps, int) and c.n_obs_steps > 0, "n_obs_steps", "an integer > 0")
    names = [cam.name for cam in c.cameras]
    need(len(set(names)) == len(names), "cameras", "distinct camera names")
    for i, cam in enumerate(c.cameras):
        need(isinstance(cam.name, str) and bool(cam.name), f"cameras[{i}].name", "a non-empty camera name")
        for key in ("height", "width", "capture_height", "capture_width"):
            value = getattr(cam, key)
            need(isinstance(value, int) and value > 0, f"cameras[{i}].{key}", "an integer > 0 [px]")
    a = c.action
    need(isinstance(a.chunk_size, int) and a.chunk_size > 0, "action.chunk_size", "an integer > 0")
    need(
        isinstance(a.n_action_steps, int) and 0 < a.n_action_steps <= a.chunk_size,
        "action.n_action_steps",
        f"in [1, chunk_size={a.chunk_size}], an integer",
    )
    need(a.unit == "rad", "action.unit", "'rad'")
    need(c.image.dtype == "uint8", "image.dtype", "'uint8'")
    need(isinstance(c.image.scale, (int, float)) and c.image.scale > 0, "image.scale", "a number > 0")


# -- compatibility -------------------------------------------------------------------------------------------
def check_robot_spec(contract: PolicyContract, spec: RobotSpec, what: str = "the policy") -> None:
    """Refuse a robot that cannot feed ``contract``: another model, other joints, another control rate or a
    missing camera raise :class:`PolicyMismatchError` naming both sides. Camera sizes may differ: frames are
    converted by :func:`twinarm.robot.observation.fit_image`."""
    if spec.name != contract.robot:
        raise PolicyMismatchError(f"{what} was trained on robot {contract.robot!r}; this robot is {spec.name!r}")
    if tuple(spec.joint_names) != tuple(contract.joint_names):
        raise PolicyMismatchError(
            f"{what} expects joints {list(contract.joint_names)}; robot {spec.name!r} has {list(spec.joint_names)}"
        )
    if abs(spec.control_hz - contract.control_hz) > RATE_TOLERANCE * contract.control_hz:
        raise PolicyMismatchError(
            f"{what} runs at {contract.control_hz:g} Hz; robot {spec.name!r} is controlled at {spec.control_hz:g} Hz "
            f"(set robot.control_hz={contract.control_hz:g})"
        )
    have = [c.name for c in spec.cameras]
    missing = [c for c in contract.camera_names if c not in have]
    if missing:
        raise PolicyMismatchError(
            f"{what} needs cameras {list(contract.camera_names)}; robot {spec.name!r} has {have or 'none'} "
            f"(missing {missing})"
        )
