"""The HopeJR hand as data: every dimension, moment arm and range in ONE file a user can correct.

HopeJR (The Robot Studio / Hugging Face, open hardware): a right hand with 16 Feetech SCS0009 servos in the forearm
pulling fishing-line tendons through PTFE tubes; fingers on rolling-contact joints. Each of index, middle, ring and
pinky has a radial and an ulnar flexor (both pull: MCP flexion; one more than the other: MCP ab/adduction) and a
pip_dip servo (PIP, with the DIP following: the hand's "underactuated DOF at the DIP joint"); the thumb has one
servo per joint (cmc, mcp, pip, dip). Joint space (``robot.models.HOPEJR_HAND``) is radians, zero = the flat open
hand (fingers straight in the palm plane, thumb straight out sideways) = the MJCF's zero.

Sources (facts; no file was copied). [R] = TheRobotStudio/HOPEJr, Arm/README.md and Arm/BOM.md (26/06/2025 release):
16 SCS0009 for the hand, 5 V 4 A hand supply, 0.33 mm fishing line, PTFE tubes, springs, rolling-contact finger
joints, "spools were added to linearize the movement of the fingers relative to motor angle" (our basis for a
LINEAR transmission), DIP underactuated. [S] = Arm/3dprint files/arm/spoolcover.stl of [R]: a 17.0 mm disc.
[U] = song-jisu/hopejr_hand_description, urdf/hopejr_hand.urdf (commit b945e0b) and its collision meshes: a
community URDF of the HopeJR hand CAD; each rolling joint is two half joints 15.2 mm apart. [O] = our assumption
(no published figure found): to check on a real HopeJR (listed in sim/README.md, "HopeJR hand").
Hand frame (the MJCF's ``palm`` body, as [U]'s ``hand`` link): wrist interface near the origin, fingers along +z,
the palm's front (where fingers close) at +x, index side (radial, a right hand) at +y. Units: m, kg, rad.
"""

from __future__ import annotations

import math

from twinarm.robot.tendon import Coupling, Tendon, motor_matrix, motor_travel, tendon_transmission

FINGERS = ("index", "middle", "ring", "pinky")  # the four long fingers; the thumb is separate
THUMB_JOINTS = ("thumb_cmc", "thumb_mcp", "thumb_pip", "thumb_dip")
# servos, ids 1..16 in this order (lerobot's hope_jr_hand motor names)
SERVOS = THUMB_JOINTS + tuple(f"{f}_{s}" for f in FINGERS for s in ("radial_flexor", "ulnar_flexor", "pip_dip"))
JOINTS = THUMB_JOINTS + tuple(f"{f}_{j}" for f in FINGERS for j in ("mcp_flex", "mcp_abd", "pip"))

# -- dimensions ----------------------------------------------------------------------------------------------------
# MCP rolling-joint centre of each finger (hand frame [m]): [U]'s {finger}_mcp_1 origin plus half the 15.2 mm
# half-joint spacing along the finger; splay [rad] = the finger's direction in the palm plane ([U]'s mcp_1
# orientation: index +5.0, middle +0.3, ring -9.0, pinky -20.0 deg; + towards the index side).
FINGER_BASE = {
    "index": (0.0072, 0.0263, 0.0929),
    "middle": (0.0025, 0.0078, 0.0949),
    "ring": (0.0088, -0.0144, 0.0930),
    "pinky": (0.0175, -0.0341, 0.0845),
}
FINGER_SPLAY = {
    "index": math.radians(5.0),
    "middle": math.radians(0.3),
    "ring": -math.radians(9.0),
    "pinky": -math.radians(20.0),
}
# joint centre to joint centre [m], [U]: MCP -> PIP 36.3 mm, PIP -> DIP 25.8 mm; DIP -> tip 27.2 mm (half a rolling
# joint, 7.6 mm, plus the distal link's 19.6 mm reach in [U]'s dip_2 mesh). The same for the four fingers in [U].
PHALANX_LENGTHS = (0.0363, 0.0258, 0.0272)
# capsule radius [m]: [U]'s phalanx meshes are 15.2 mm wide and 13.6 mm thick; 7.0 mm sits between.
FINGER_RADIUS = 0.0070
# masses [kg], [U] inertials: proximal = mcp_2 + pip links, middle = dip_1, distal = dip_2; the knuckle carries mcp_1
KNUCKLE_MASS, PHALANX_MASSES = 0.0048, (0.0074, 0.0051, 0.0054)
# thumb: its base at [U]'s thumb_mcp_2 joint origin; cmc link to the first flexion centre 33.4 mm (25.8 mm in [U]
# plus half a rolling joint), then 32.0 / 28.0 / 27.2 mm between the rolling joints' centres and to the tip [U].
# The orientation is OURS [O], simplified like the Amazing Hand's thumb: at cmc 0 it points straight out sideways
# (+y) in the palm plane; cmc turns it about the palm's long axis until (cmc = pi/2) it stands out of the palm's
# front (+x); mcp/pip/dip flex it towards the fingertips (+z).
THUMB_BASE = (0.0198, 0.0286, 0.0058)
THUMB_LENGTHS = (0.0334, 0.0320, 0.0280, 0.0272)
THUMB_RADIUS = 0.0075  # [U]'s thumb meshes are 15.2 mm wide, like the fingers'
THUMB_MASSES = (0.0088, 0.0071, 0.0061, 0.0054)  # [kg], [U]: thumb_mcp_2, pip_1, pip_2, dip
# palm box (half extents, centre) [m]: [U]'s hand mesh spans 93 mm across (with the thumb base) and its fingers
# start at z 0.08-0.09; thickness 26 mm is OURS [O] (the mesh's 58 mm includes the servo-horn housings).
PALM_HALF = (0.013, 0.040, 0.043)
PALM_CENTRE = (-0.004, -0.004, 0.043)
PALM_MASS = 0.2529  # [kg], [U] hand link

# -- tendons -------------------------------------------------------------------------------------------------------
# Spool radius 7.0 mm [O]: inside [S]'s 8.5 mm cover radius, minus a 1.5 mm flange (ours).
SPOOL_RADIUS = 0.0070
# Moment arms [m] [O]: a tendon over a rolling-contact joint of two 7.6 mm-radius surfaces ([U]: half joints 15.2 mm
# apart) shortens by about the surface radius times the angle. The flexors pass the MCP's abduction axis 5 mm
# either side of the finger's mid-plane [O] (half the finger's 15.2 mm width, less the tube wall).
FLEX_ARM, ABD_ARM, PIP_ARM, DIP_ARM = 0.0076, 0.0050, 0.0076, 0.0076
# DIP follows PIP 1:1 [O]: one tendon with equal moment arms over two joints with equal return springs bends them
# equally in free motion. On contact the real DIP yields (the "underactuated DOF" of [R]); the sim couples it
# by a nearly rigid joint equality (sim/hopejr_hand_model.py), so it does not.
DIP_PIP_RATIO = 1.0
THUMB_ARM = SPOOL_RADIUS  # [O] each thumb servo turns its joint 1:1 (the lead's wiring note; [R]'s "1:1 teleop")

TENDONS = tuple(Tendon(j, SPOOL_RADIUS, {j: THUMB_ARM}) for j in THUMB_JOINTS) + tuple(
    tendon
    for f in FINGERS
    for tendon in (
        Tendon(f"{f}_radial_flexor", SPOOL_RADIUS, {f"{f}_mcp_flex": FLEX_ARM, f"{f}_mcp_abd": ABD_ARM}),
        Tendon(f"{f}_ulnar_flexor", SPOOL_RADIUS, {f"{f}_mcp_flex": FLEX_ARM, f"{f}_mcp_abd": -ABD_ARM}),
        Tendon(f"{f}_pip_dip", SPOOL_RADIUS, {f"{f}_pip": PIP_ARM, f"{f}_dip": DIP_ARM}),
    )
)
COUPLINGS = tuple(Coupling(f"{f}_dip", f"{f}_pip", DIP_PIP_RATIO) for f in FINGERS)

# -- joint ranges [rad] --------------------------------------------------------------------------------------------
# [U] allows each half of a rolling joint 0..67.5 deg (135 deg per joint) and MCP ab/adduction +-23.8 deg (0.4154).
# Our flexion ranges stop at 90 deg [O] (human-hand scale, and inside [U]'s); flexion stops at the flat hand (the
# springs return the fingers to it; no hyperextension). Thumb cmc 0..1.8 rad [O] (out sideways .. across the palm).
FLEX_RANGE, ABD_RANGE = (0.0, math.pi / 2), (-0.4154, 0.4154)
JOINT_RANGES = {
    "thumb_cmc": (0.0, 1.8),
    "thumb_mcp": FLEX_RANGE,
    "thumb_pip": FLEX_RANGE,
    "thumb_dip": FLEX_RANGE,
    **{
        f"{f}_{j}": (ABD_RANGE if j == "mcp_abd" else FLEX_RANGE)
        for f in FINGERS
        for j in ("mcp_flex", "mcp_abd", "pip")
    },
}

#: joint = A @ motor (motors in SERVOS order, joints in JOINTS order)
TRANSMISSION = tendon_transmission(TENDONS, JOINTS, COUPLINGS)
MOTOR_MATRIX = motor_matrix(TENDONS, JOINTS, COUPLINGS)  # motor = M @ joint
# Each servo's travel [rad of spool] around its zero (the flat hand): what the joint box needs, plus 0.1 rad [O].
# The PIP servos wind the most: (7.6 + 7.6 mm) x 90 deg / 7 mm = 3.4 rad, inside the SCS0009's 300 deg (5.24 rad).
SERVO_TRAVEL = motor_travel(
    MOTOR_MATRIX, [JOINT_RANGES[j][0] for j in JOINTS], [JOINT_RANGES[j][1] for j in JOINTS], margin_rad=0.1
)
