"""Robot models as data: the specs that a model's sim and hardware robots share.

Adding a robot model means adding a spec here (plus its MJCF under ``sim/models``, its motor table under
``hardware/`` and one entry in ``twinarm.compose.registry``), not writing a new robot class.
"""

from __future__ import annotations

import math

from twinarm.robot import hopejr_hand as _hopejr_hand
from twinarm.robot.spec import CameraSpec, JointSpec, RobotSpec, concatenated

# STS3215 no-load speed: 0.222 s / 60 deg at 7.4 V (Feetech STS3215 datasheet) = 4.71 rad/s. The SO-101
# follower runs them geared 1/345 with the output at the joint, so this is the joint speed bound.
STS3215_MAX_VELOCITY = 4.71  # [rad/s]

# Joint ranges of the SO-101 follower (shared/reference/so101.md, from the public MuJoCo description derived
# from The Robot Studio's so101_new_calib model; zero = middle of each joint's range). wrist_roll's actuator
# allows up to 2.84121 rad, but the joint range is symmetric and is what we promise.
SO101_JOINTS = (
    JointSpec("shoulder_pan", -1.91986, 1.91986, STS3215_MAX_VELOCITY),
    JointSpec("shoulder_lift", -1.7453293, 1.7453293, STS3215_MAX_VELOCITY),
    JointSpec("elbow_flex", -1.69, 1.69, STS3215_MAX_VELOCITY),
    JointSpec("wrist_flex", -1.658063, 1.658063, STS3215_MAX_VELOCITY),
    JointSpec("wrist_roll", -2.7438473, 2.7438473, STS3215_MAX_VELOCITY),
    JointSpec("gripper", -0.174533, 1.7453292, STS3215_MAX_VELOCITY),
)

SO101 = RobotSpec(
    name="so101",
    joints=SO101_JOINTS,
    cameras=(CameraSpec("front", 96, 96), CameraSpec("wrist", 96, 96)),
    control_hz=30.0,
)

# Amazing Hand (Pollen Robotics): 4 fingers (index, middle, ring, thumb), each a parallel mechanism driven by two
# SCS0009 servos; joint space is (flexion, abduction) per finger, see robot.transmission.finger_pairs. Flexion
# spans open (servos at about -35/+35 deg) to closed (+90/-90 deg) (shared/reference/servos.md); abduction is
# kept to +-20 deg so both servos stay inside their +-90 deg travel at mid flexion.
# SCS0009 speed: 0.1 s / 60 deg no-load at 6 V (Feetech SCS0009 datasheet) = 10.5 rad/s per servo; a finger
# joint moves at the mean of two servos, so 5.0 rad/s is a conservative bound.
SCS0009_FINGER_VELOCITY = 5.0  # [rad/s]
HAND_FINGERS = ("index", "middle", "ring", "thumb")
AMAZING_HAND = RobotSpec(
    name="amazing_hand",
    joints=tuple(
        joint
        for finger in HAND_FINGERS
        for joint in (
            JointSpec(f"{finger}_flexion", -0.6109, 1.5708, SCS0009_FINGER_VELOCITY),
            JointSpec(f"{finger}_abduction", -0.3491, 0.3491, SCS0009_FINGER_VELOCITY),
        )
    ),
    cameras=(),
    control_hz=30.0,
)

# The SO-101 arm without its gripper (the first five joints), as the part of a robot that carries a hand instead.
SO101_ARM = RobotSpec(name="so101_arm", joints=SO101_JOINTS[:5], cameras=(), control_hz=30.0)

# The SO-101 with the Amazing Hand on its wrist in place of the gripper: arm joints, then hand joints (each part on
# its own Feetech bus; twinarm.compose.registry).
SO101_AMAZING_HAND = concatenated("so101_amazing_hand", (SO101_ARM, AMAZING_HAND), cameras=SO101.cameras)

# Koch v1.1 follower (jess-moss/koch-v1-1, a revision of AlexanderKoch-Koch/low_cost_robot): shoulder_pan and
# shoulder_lift are Dynamixel XL430-W250-T on 12 V, the other four XL330-M288-T on 5 V (the repository's bill of
# materials and wiring: 12 V supply, a 5 V reducer for the XL330 chain).
# No-load speeds (ROBOTIS e-Manual): XL430-W250 61 rev/min at 12.0 V = 6.39 rad/s; XL330-M288 103 rev/min at
# 5.0 V = 10.79 rad/s. The servo horn is the joint, so these bound the joint speeds.
XL430_W250_MAX_VELOCITY = 61 * 2 * math.pi / 60  # [rad/s]
XL330_M288_MAX_VELOCITY = 103 * 2 * math.pi / 60  # [rad/s]
# XC330-M288-T (the LEAP Hand's): 81 rev/min at 5.0 V = 8.48 rad/s (e-Manual; the LEAP_Hand_Sim URDF's velocity limit)
XC330_M288_MAX_VELOCITY = 81 * 2 * math.pi / 60  # [rad/s]

# Joint ranges of our Koch MJCF (sim/models/koch.xml). Zero pose = the published MJCF's zero
# (low_cost_robot/simulation/low_cost_robot_6dof/low_cost_robot.xml): upper arm vertical, forearm horizontal
# pointing forward, wrist straight, jaws closed. Signs: positive shoulder_lift / elbow_flex / wrist_flex tilt the
# arm forward and down; positive gripper opens. The published model declares +-pi on every arm joint (the servos
# run in extended-position mode, no hard stop); the ranges below are OUR choice, narrowed to poses where the
# links clear each other and the base. The gripper range is the published actuator range (-1.52 .. 0.032 rad, with
# the opposite sign convention).
KOCH_JOINTS = (
    JointSpec("shoulder_pan", -1.91986, 1.91986, XL430_W250_MAX_VELOCITY),
    JointSpec("shoulder_lift", -1.74533, 1.74533, XL430_W250_MAX_VELOCITY),
    JointSpec("elbow_flex", -1.65806, 1.65806, XL330_M288_MAX_VELOCITY),
    JointSpec("wrist_flex", -1.74533, 1.74533, XL330_M288_MAX_VELOCITY),
    JointSpec("wrist_roll", -3.14159, 3.14159, XL330_M288_MAX_VELOCITY),
    JointSpec("gripper", -0.032, 1.52, XL330_M288_MAX_VELOCITY),
)

KOCH = RobotSpec(
    name="koch",
    joints=KOCH_JOINTS,
    cameras=(CameraSpec("front", 96, 96), CameraSpec("wrist", 96, 96)),
    control_hz=30.0,
)

# LEAP Hand (leap-hand/LEAP_Hand_API): 16 Dynamixel servos, ids 0..15, index (0-3), middle (4-7), ring (8-11),
# thumb (12-15), each finger MCP side, MCP forward, PIP, DIP (the API's joint convention comment). Zero = the
# LEAPsim convention (motor 180 deg, the flat hand); limits are the API's LEAPsim_limits ("regular") [rad].
# Velocity limit: the XC330-M288-T's no-load speed on the hand's 5 V supply.
_LEAP_FINGERS = ("index", "middle", "ring", "thumb")
_LEAP_PARTS = ("mcp_side", "mcp_forward", "pip", "dip")
_LEAP_LIMITS = (
    (-1.047, 1.047),
    (-0.314, 2.23),
    (-0.506, 1.885),
    (-0.366, 2.042),
) * 3 + ((-0.349, 2.094), (-0.47, 2.443), (-1.20, 1.90), (-1.34, 1.88))
LEAP_HAND = RobotSpec(
    name="leap_hand",
    joints=tuple(
        JointSpec(f"{finger}_{part}", lo, hi, XC330_M288_MAX_VELOCITY)
        for (finger, part), (lo, hi) in zip(((f, p) for f in _LEAP_FINGERS for p in _LEAP_PARTS), _LEAP_LIMITS)
    ),
    cameras=(),
    control_hz=30.0,
)

# -- HopeJR arm (The Robot Studio / Hugging Face; TheRobotStudio/HOPEJr Arm/, LeRobot's hope_jr_arm) --------------
# 7 joints on one Feetech bus, in LeRobot's motor order (ids 1..7). Our zero pose (sim/models/hopejr_arm.xml): the
# right arm hanging straight down beside the body, palm facing the body, elbow and wrist straight. Signs: positive
# shoulder_pitch raises the arm forward (flexion), shoulder_yaw swings it out sideways (abduction), shoulder_roll
# turns it outward (external rotation), elbow_flex bends the elbow, wrist_roll pronates (palm towards the floor
# with the elbow bent), wrist_yaw deviates the hand towards the thumb (radial), wrist_pitch flexes it (palm side).
# Ranges [rad] (NEEDS A CHECK ON A REAL HOPEJR: no official figures are published): shoulder_yaw, shoulder_roll,
# wrist_roll and wrist_pitch take the limits of a community URDF of the arm (song-jisu/hopejr_right_arm_description,
# unofficial, zero convention assumed to be ours); shoulder_pitch and elbow_flex keep that URDF's spans (3.41, 2.385
# rad) placed on our zero: shoulder extension 60 deg, elbow straight at 0 (AAOS normal range of motion: shoulder
# extension 60 deg); wrist_yaw is the human range (AAOS: radial 20 deg, ulnar 30 deg deviation).
# Velocity bounds: the slower servo of the two builds (hardware/hopejr_arm.py) at each joint: SM8512BL 60 rev/min
# (6.28 rad/s, unverified), STS3250 0.133 s / 60 deg at 12 V (7.87 rad/s, Feetech specification), STS3215 12 V
# 45 rev/min = 0.22 s / 60 deg (Feetech figure quoted by Robonine's STS3215 test; the 7.4 V servo's 4.71 rad/s).
SM8512BL_MAX_VELOCITY = 60 * 2 * math.pi / 60  # [rad/s]
STS3250_MAX_VELOCITY = math.radians(60) / 0.133  # [rad/s]
HOPEJR_ARM_JOINTS = (
    JointSpec("shoulder_pitch", -1.05, 2.36, SM8512BL_MAX_VELOCITY),
    JointSpec("shoulder_yaw", -0.557, 1.284, STS3250_MAX_VELOCITY),
    JointSpec("shoulder_roll", -0.894, 1.161, STS3215_MAX_VELOCITY),
    JointSpec("elbow_flex", 0.0, 2.385, STS3250_MAX_VELOCITY),
    JointSpec("wrist_roll", -2.388, 2.137, STS3215_MAX_VELOCITY),
    JointSpec("wrist_yaw", -0.524, 0.349, STS3215_MAX_VELOCITY),
    JointSpec("wrist_pitch", -0.532, 0.956, STS3215_MAX_VELOCITY),
)
HOPEJR_ARM = RobotSpec(
    name="hopejr_arm",
    joints=HOPEJR_ARM_JOINTS,
    cameras=(CameraSpec("front", 96, 96),),
    control_hz=30.0,
)

# HopeJR hand (The Robot Studio / Hugging Face): 16 SCS0009 pulling tendons; joint space, names and ranges are the
# data of robot/hopejr_hand.py (sources there). Velocity: the Amazing Hand's SCS0009 bound (above); a joint turns
# at about the spool's speed (moment arms close to the spool radius).
HOPEJR_HAND = RobotSpec(
    name="hopejr_hand",
    joints=tuple(JointSpec(j, *_hopejr_hand.JOINT_RANGES[j], SCS0009_FINGER_VELOCITY) for j in _hopejr_hand.JOINTS),
    cameras=(),
    control_hz=30.0,
)

# HopeJR (arm + hand): the HopeJR arm with the HopeJR hand on its wrist flange: arm joints, then hand joints (each
# part on its own Feetech bus: the arm's STS/SM servos at 12 V, the hand's SCS0009 at 5 V; twinarm.compose.registry).
# Cameras: the arm scene's `front` and the hand's `wrist` (on the palm).
HOPEJR = concatenated(
    "hopejr", (HOPEJR_ARM, HOPEJR_HAND), cameras=(CameraSpec("front", 96, 96), CameraSpec("wrist", 96, 96))
)
