"""The HopeJR arm as data: 7 Feetech servos on one 1 Mbaud bus, ids 1..7 in the spec's joint order.

Two builds are published and both are data here (:data:`HOPEJR_ARM_BUILDS`):

``bom``  TheRobotStudio/HOPEJr ``Arm/BOM.md``: an SM8512BL at shoulder_pitch, STS3250 at shoulder_yaw and
         elbow_flex ("1x shoulder yaw, 1x elbow flex"), 12 V STS3215 on the other four (shoulder_roll and the three
         wrist joints).
``lerobot``  LeRobot's ``hope_jr_arm`` driver (``lerobot/robots/hope_jr/hope_jr_arm.py``): the SM8512BL at
         shoulder_pitch, STS3250 on the other six.

The default (:data:`HOPEJR_ARM_BUILD`) is ``bom``: the bill of materials is what a builder buys, whereas LeRobot
connects with ``handshake=False`` (no model-number check), so its labels do not show which servos an arm carries
(STS3215 and STS3250 share one control table and 4096 ticks per turn, so its driver works either way). Our driver
checks every servo's model number at connect: an arm of the other build fails with a ModelMismatchError naming the
servo; pick the build by setting :data:`HOPEJR_ARM_BUILD` (the registry entry reads it).

Driver settings as LeRobot's ``configure()`` leaves the arm: Return_Delay_Time 0 (the fast reply a SYNC_READ of the
SM8512BL needs, see ``feetech.tables``); P_Coefficient left at the factory 32 (written: the sim's servo model
assumes it). No gripper. Drive signs default to +1; ``twinarm calibrate robot=hopejr_arm`` records the zero pose.
"""

from __future__ import annotations

from twinarm.hardware.feetech.tables import SM8512BL, STS3215, STS3250
from twinarm.hardware.motors import ArmDescription, Mapping, Motor, Role
from twinarm.hardware.registers import ModelTable
from twinarm.robot.errors import ConfigError
from twinarm.robot.models import HOPEJR_ARM

#: Servo model per joint (spec order) of each published build.
HOPEJR_ARM_MOTOR_MIX: dict[str, tuple[ModelTable, ...]] = {
    "bom": (SM8512BL, STS3250, STS3215, STS3250, STS3215, STS3215, STS3215),
    "lerobot": (SM8512BL,) + (STS3250,) * 6,
}
#: The build the registry serves (see the module docstring for why).
HOPEJR_ARM_BUILD = "bom"

#: Factory P_Coefficient of the STS/SMS series (servos.md); written so the sim's gains hold on the real arm.
HOPEJR_ARM_P_GAIN = 32

# Gear ratios (reference only: the encoder is on the output shaft): STS3215 and STS3250 1:345 (Feetech; Robonine's
# servo comparison); the SM8512BL's is not published (recorded as 1).
_GEARS = {STS3215.name: 345.0, STS3250.name: 345.0, SM8512BL.name: 1.0}

HOPEJR_ARM_ZERO_POSE = """\
  shoulder_pitch  the arm hanging straight down beside the body
  shoulder_yaw    the arm against the side of the body (not swung out)
  shoulder_roll   the elbow's bending plane facing forward
  elbow_flex      the elbow straight
  wrist_roll      the palm facing the body
  wrist_yaw       the hand in line with the forearm (seen from the front)
  wrist_pitch     the hand in line with the forearm (seen from the side)"""


def hopejr_arm_follower(build: str = HOPEJR_ARM_BUILD) -> ArmDescription:
    """The follower description of HopeJR arm ``build`` (a key of :data:`HOPEJR_ARM_MOTOR_MIX`); ConfigError lists
    the builds."""
    if build not in HOPEJR_ARM_MOTOR_MIX:
        raise ConfigError(f"unknown HopeJR arm build {build!r}; valid builds: {', '.join(HOPEJR_ARM_MOTOR_MIX)}")
    models = HOPEJR_ARM_MOTOR_MIX[build]
    motors = tuple(
        Motor(joint, i + 1, 1, _GEARS[t.name], Mapping.ZERO_POSE, t)
        for i, (joint, t) in enumerate(zip(HOPEJR_ARM.joint_names, models))
    )
    return ArmDescription(
        name=f"hopejr_arm_follower_{build}",
        spec=HOPEJR_ARM,
        role=Role.FOLLOWER,
        table=STS3215,
        motors=motors,
        p_gain=HOPEJR_ARM_P_GAIN,
        gripper_joint=None,
        zero_pose_help=HOPEJR_ARM_ZERO_POSE,
        motor_registers=(("Return_Delay_Time", (0,) * len(motors)),),
    )


HOPEJR_ARM_FOLLOWERS: dict[str, ArmDescription] = {b: hopejr_arm_follower(b) for b in HOPEJR_ARM_MOTOR_MIX}
HOPEJR_ARM_FOLLOWER = HOPEJR_ARM_FOLLOWERS[HOPEJR_ARM_BUILD]
