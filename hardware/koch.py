"""The Koch v1.1 arm as data: a Dynamixel follower (2x XL430-W250 + 4x XL330-M288) and leader (6x XL330-M077).

Wiring (jess-moss/koch-v1-1 and LeRobot's Koch configuration): ids 1..6 in joint order (shoulder_pan,
shoulder_lift, elbow_flex, wrist_flex, wrist_roll, gripper) on one 1 Mbaud protocol 2.0 bus; the follower's two
shoulder joints are XL430-W250, the rest XL330-M288; the leader is six XL330-M077. Operating modes as LeRobot runs
the arm: extended position (4) on every joint, the gripper in current-based position mode (5) so a closed grip
pushes with a capped current instead of stalling at full torque. Gear ratios are the e-Manual's (reference only:
the encoder is on the output shaft). Drive signs default to +1; ``twinarm calibrate`` records the real ones.
"""

from __future__ import annotations

from twinarm.hardware.dynamixel.tables import XL330_M077, XL330_M288, XL430_W250, OperatingMode
from twinarm.hardware.motors import ArmDescription, BusKind, CurrentLimitedGripper, Mapping, Motor, Role
from twinarm.robot.models import KOCH

# e-Manual specifications: gear ratio XL430-W250 258.5:1, XL330-M288 288.35:1, XL330-M077 77.163:1.
_FOLLOWER_MODELS = (XL430_W250, XL430_W250, XL330_M288, XL330_M288, XL330_M288, XL330_M288)
_GEARS = {XL430_W250.name: 258.5, XL330_M288.name: 288.35, XL330_M077.name: 77.163}

#: The gripper's current cap in current-based position mode [mA]: a fifth of the XL330-M288's factory
#: Current_Limit of 1750 mA (e-Manual XL330-M288 control table), enough to hold a light object without cooking it.
KOCH_GRIPPER = CurrentLimitedGripper(goal_current_ma=350)

KOCH_ZERO_POSE = """\
  shoulder_pan   the arm points straight ahead
  shoulder_lift  the upper arm vertical
  elbow_flex     the forearm horizontal, pointing forward
  wrist_flex     the gripper in line with the forearm
  wrist_roll     the gripper's fixed jaw level
  gripper        anywhere (its range ends are recorded during the sweep and mapped onto its limits)"""


def _motors(models: tuple) -> tuple[Motor, ...]:
    return tuple(
        Motor(joint, i + 1, 1, _GEARS[t.name], Mapping.RANGE if joint == "gripper" else Mapping.ZERO_POSE, t)
        for i, (joint, t) in enumerate(zip(KOCH.joint_names, models))
    )


KOCH_FOLLOWER = ArmDescription(
    name="koch_follower",
    spec=KOCH,
    role=Role.FOLLOWER,
    table=XL430_W250,
    motors=_motors(_FOLLOWER_MODELS),
    p_gain=None,  # the factory Position_P_Gain (800); the sim's servo model is fitted to the datasheets
    gripper=KOCH_GRIPPER,
    zero_pose_help=KOCH_ZERO_POSE,
    bus=BusKind.DYNAMIXEL,
    operating_mode=OperatingMode.EXTENDED_POSITION,
    gripper_operating_mode=OperatingMode.CURRENT_BASED_POSITION,
)
KOCH_LEADER = ArmDescription(
    name="koch_leader",
    spec=KOCH,
    role=Role.LEADER,
    table=XL330_M077,
    motors=_motors((XL330_M077,) * 6),
    p_gain=None,
    gripper=KOCH_GRIPPER,
    zero_pose_help=KOCH_ZERO_POSE,
    bus=BusKind.DYNAMIXEL,
    operating_mode=OperatingMode.EXTENDED_POSITION,
    gripper_operating_mode=OperatingMode.CURRENT_BASED_POSITION,
)
