"""The LEAP Hand as data: 16 Dynamixel XC330-M288-T on one 4 Mbaud protocol 2.0 bus, ids 0..15 in joint order.

Configuration as the LEAP Hand API's ``python/main.py`` sets it (leap-hand/LEAP_Hand_API): current-based
position mode (5) on every servo, Position_P_Gain 600 and Position_D_Gain 200 (three quarters of both on the
side-to-side joints 0, 4, 8), Position_I_Gain 0, and Goal_Current 550 mA, the full hand's current cap (the API's
readme: "raise the current limit from 300 mA to 550 mA" on the full hand; 350 mA in ``main.py`` for the lite).
Zero = the LEAPsim convention (motor 180 deg = the nominal calibration's middle tick); drive signs +1 (the API
adds pi to the sim angles, no sign flips).
"""

from __future__ import annotations

from twinarm.hardware.dynamixel.tables import XC330_M288, OperatingMode
from twinarm.hardware.motors import ArmDescription, BusKind, Motor, Role
from twinarm.robot.models import LEAP_HAND

LEAP_CURRENT_LIMIT_MA = 550
_SIDE = {0, 4, 8}  # MCP side-to-side joints: softer gains (the API's 0.75 factor)
_P, _D = 600, 200
_GEAR = 288.35  # reference only: the XC330-M288-T's 288.35:1 (ROBOTIS e-Manual)

LEAP_HAND_ZERO_POSE = """\
  every finger   flat and straight, the MCP side joints centred (the hand laid open)
  thumb          its four servos at their middle (180 deg) position"""

LEAP_HAND_DESC = ArmDescription(
    name="leap_hand",
    spec=LEAP_HAND,
    role=Role.FOLLOWER,
    table=XC330_M288,
    motors=tuple(Motor(joint, i, 1, _GEAR) for i, joint in enumerate(LEAP_HAND.joint_names)),
    p_gain=None,
    gripper_joint=None,
    baudrate=4_000_000,
    zero_pose_help=LEAP_HAND_ZERO_POSE,
    bus=BusKind.DYNAMIXEL,
    operating_mode=OperatingMode.CURRENT_BASED_POSITION,
    motor_registers=(
        ("Position_P_Gain", tuple(int(_P * 0.75) if i in _SIDE else _P for i in range(16))),
        ("Position_I_Gain", (0,) * 16),
        ("Position_D_Gain", tuple(int(_D * 0.75) if i in _SIDE else _D for i in range(16))),
        ("Goal_Current", (LEAP_CURRENT_LIMIT_MA,) * 16),
    ),
)
