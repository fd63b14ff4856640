"""twinarm's shared robot contract: specs, the Robot base, safety, the conformance checker.

The core of this package imports none of ``hardware``, ``sim`` or ``policies``; only ``robot.cli`` composes them.
"""

from robot.check import CheckReport, check_robot
from robot.errors import (
    ActionError,
    ConfigError,
    NotConnectedError,
    RobotCheckError,
    SafetyError,
    SpecError,
    TwinarmError,
)
from robot.models import SO101, get_model
from robot.robot import Observation, Robot
from robot.spec import JOINT_POS, JOINT_VEL, CameraSpec, JointSpec, RobotSpec, image_key

__all__ = [
    "JOINT_POS",
    "JOINT_VEL",
    "SO101",
    "ActionError",
    "CameraSpec",
    "CheckReport",
    "ConfigError",
    "JointSpec",
    "NotConnectedError",
    "Observation",
    "Robot",
    "RobotCheckError",
    "RobotSpec",
    "SafetyError",
    "SpecError",
    "TwinarmError",
    "check_robot",
    "get_model",
    "image_key",
]
