"""Every observation key and dataset feature name, defined once.

Robot observations (``robot.spec``) carry ``joint_pos`` (n,) [rad], ``joint_vel`` (n,) [rad/s] and one
``image_<camera>`` (H, W, 3) uint8 RGB per camera. The LeRobot dataset format and the policies name the same
quantities ``observation.state``, ``observation.velocity``, ``observation.images.<camera>`` and ``action`` (joint
targets [rad]); training batches add ``action_is_pad``. Code that needs one of these strings imports it from here.
"""

from __future__ import annotations

# -- robot observation keys -----------------------------------------------------------------------------------
JOINT_POS = "joint_pos"
JOINT_VEL = "joint_vel"
IMAGE_PREFIX = "image_"

# -- dataset / policy feature names (lerobot's) ---------------------------------------------------------------
STATE = "observation.state"
VELOCITY = "observation.velocity"
ACTION = "action"
ACTION_IS_PAD = "action_is_pad"
IMAGE_FEATURE_PREFIX = "observation.images."


def image_key(camera: str) -> str:
    """Observation key of a camera's image: ``image_<camera>``."""
    return IMAGE_PREFIX + camera


def image_feature(camera: str) -> str:
    """Dataset feature of a camera's images: ``observation.images.<camera>``."""
    return IMAGE_FEATURE_PREFIX + camera


def camera_of_feature(feature: str) -> str | None:
    """The camera name of an ``observation.images.<camera>`` feature, else None."""
    return feature[len(IMAGE_FEATURE_PREFIX) :] if feature.startswith(IMAGE_FEATURE_PREFIX) else None
