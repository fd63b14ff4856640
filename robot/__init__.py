"""twinarm's shared robot contract: specs, the Robot base, safety, the conformance checker.

The contract imports nothing else of twinarm; only ``twinarm.compose`` and ``twinarm.cli`` compose the packages.
"""

from twinarm.robot.check import CheckReport, check_robot
from twinarm.robot.errors import (
    ActionError,
    ConfigError,
    NotConnectedError,
    RobotCheckError,
    SafetyError,
    SpecError,
    TwinarmError,
)
from twinarm.robot.models import SO101
from twinarm.robot.robot import Observation, Robot
from twinarm.robot.spec import JOINT_POS, JOINT_VEL, CameraSpec, JointSpec, RobotSpec, image_key

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
    "image_key",
]
