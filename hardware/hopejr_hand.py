"""The HopeJR hand on a Feetech bus, as data: 16 SCS0009 (protocol 1, big-endian SCS table), ids 1..16, 1 Mbaud.

Servos in lerobot's hope_jr_hand order (``robot.hopejr_hand.SERVOS``); joint space is the ``HOPEJR_HAND`` spec
through the tendon transmission of ``robot.hopejr_hand`` (spool angle -> tendon length -> joint angles; the PIP-DIP
tendon's coupled DIP folded in). The SCS firmware has no SYNC_READ: the driver reads the servos one by one and
writes one SYNC_WRITE per cycle, as on the Amazing Hand (``hardware.feetech.tables.SCS0009``).

Calibration is per servo: the zero tick is recorded with the hand flat (``twinarm calibrate robot=hopejr_hand
port=...``), each servo's travel is ``robot.hopejr_hand.SERVO_TRAVEL`` around it (asymmetric: a flexor winds one
way from the flat hand), clipped to the servo's 300 deg scale. Every command is clipped to that travel per servo
(``hardware.joint_map``), on top of the joint limits. Drive signs +1: a servo that winds the wrong way is an
inverted servo in its calibration file (drive sign -1). The servos keep their own gains (no P written).
"""

from __future__ import annotations

from twinarm.hardware.feetech.tables import SCS0009
from twinarm.hardware.motors import ArmDescription, Motor, Role
from twinarm.robot import hopejr_hand as data
from twinarm.robot.models import HOPEJR_HAND

HOPEJR_HAND_ZERO_POSE = """\
  the hand open flat: fingers straight in the plane of the palm, not spread sideways; the thumb straight out
  sideways in the palm plane; every tendon just taut (the servo horns at their assembly position)"""

HOPEJR_HAND_DESC = ArmDescription(
    name="hopejr_hand",
    spec=HOPEJR_HAND,
    role=Role.FOLLOWER,
    table=SCS0009,
    motors=tuple(Motor(name, servo_id, 1, 1.0) for servo_id, name in enumerate(data.SERVOS, start=1)),
    p_gain=None,
    gripper_joint=None,
    baudrate=1_000_000,  # the Amazing Hand's SCS0009 bus rate (shared/reference/servos.md)
    zero_pose_help=HOPEJR_HAND_ZERO_POSE,
    transmission=data.TRANSMISSION,
    motor_travel_rad=data.SERVO_TRAVEL,
)
