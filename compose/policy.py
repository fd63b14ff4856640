"""Running a policy checkpoint on a robot: the one ``policy.path`` config section, contract-driven robot setup
and the compatibility check every command (``eval``, ``deploy``, ``record source=policy``) shares.

The checkpoint's :class:`~twinarm.robot.policy_contract.PolicyContract` decides what the robot must provide; a
command's robot keys left at "unset" take the contract's values (cameras, capture size), keys set by the user
are kept and then checked against the contract (:func:`check_robot_spec`), never silently replaced.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from twinarm.compose.backends import RobotConfig
from twinarm.robot.errors import ConfigError
from twinarm.robot.policy_contract import PolicyContract, check_robot_spec
from twinarm.robot.spec import RobotSpec

#: Camera size [px] when neither the user nor a policy contract sets one (the RobotConfig default).
DEFAULT_CAMERA_HW = (RobotConfig.camera_height, RobotConfig.camera_width)


@dataclasses.dataclass
class PolicyRef:
    """A trained policy: ``path`` is a checkpoint directory (config.json, model.safetensors, policy_contract.json)."""

    path: str = ""


def require_path(ref: PolicyRef, command: str) -> str:
    if not ref.path:
        raise ConfigError(
            f"{command}: policy.path is required: a checkpoint directory (config.json + model.safetensors), "
            "e.g. the one `twinarm demo` or `twinarm train` printed"
        )
    return ref.path


def load_policy(ref: PolicyRef, spec: RobotSpec | None = None, command: str = "policy") -> Any:
    """Load ``ref`` (a ``twinarm.policies.Policy``); with ``spec``, refuse a robot that cannot feed it."""
    from twinarm.policies.base import Policy

    policy = Policy.load(require_path(ref, command))
    if spec is not None:
        check_robot_spec(policy.contract, spec, f"the policy {ref.path}")
    return policy


def robot_for_contract(cfg: RobotConfig, contract: PolicyContract | None) -> RobotConfig:
    """``cfg`` with its unset camera keys (``cameras=[]``, ``camera_height/width=0``) taken from ``contract``:
    the policy's cameras at the size its training frames were captured at. Set keys are kept as given."""
    cams = list(cfg.cameras) or (list(contract.camera_names) if contract else [])
    first = contract.cameras[0] if contract and contract.cameras else None
    h = cfg.camera_height or (first.capture_height if first else DEFAULT_CAMERA_HW[0])
    w = cfg.camera_width or (first.capture_width if first else DEFAULT_CAMERA_HW[1])
    return dataclasses.replace(cfg, cameras=cams, camera_height=h, camera_width=w)


def check_robot(contract: PolicyContract, spec: RobotSpec, ref: PolicyRef, hint: str = "") -> None:
    """:func:`check_robot_spec` with the checkpoint named (and a command-specific ``hint`` appended)."""
    from twinarm.robot.policy_contract import PolicyMismatchError

    try:
        check_robot_spec(contract, spec, f"the policy {ref.path}")
    except PolicyMismatchError as exc:
        if hint:
            raise PolicyMismatchError(f"{exc}; {hint}") from None
        raise
