"""The HopeJR hand's scripted grasp: curl each finger to where it first touches the object, found on a private copy.

Like the Amazing Hand's ``sim.hand_experts.GraspExpert``: from the object's pose, shape and size the expert sweeps,
on a private copy of the model's kinematics, each finger's curl (MCP flexion and, a little behind it, the PIP; the
DIP coupled) and the thumb's (mcp, pip, dip together, the cmc opposed) until it first touches the object. It
pre-shapes every finger short of that, closes them all together so they touch at once (a ball cannot roll away),
then squeezes a little past contact and holds; all before the task lifts the wrist at 1.5 s. The servos' stall
torque sets the squeeze. A finger that never touches curls to :data:`MAX_CURL`.
"""

from __future__ import annotations

import numpy as np

from twinarm.robot.hopejr_hand import COUPLINGS, FINGERS
from twinarm.sim.hand_experts import ContactRig, HandExpert, Keyframe
from twinarm.sim.hopejr_hand import HOPEJR_HAND_SIM, THUMB_OPPOSED, hopejr_pose

# curl s [rad] -> joints: fingers (mcp_flex, mcp_abd, pip) = s * FINGER_CURL, thumb (mcp, pip, dip) = s * THUMB_CURL.
# The PIP lags the MCP (0.8) so the fingertips reach further down the object's far side before they curl in
# (tuned on seeds 0-199: PIP 0.7 / 0.8 / 1.0 / 1.2 x MCP -> 187 / 189 / 180 / 168 successes).
FINGER_CURL = np.array((1.0, 0.0, 0.8))
THUMB_CURL = np.array((0.6, 1.0, 1.0))
MAX_CURL = 1.5708  # [rad], the flexion limit
DIGITS = ("thumb", *FINGERS)


class CurlContactModel(ContactRig):
    """First-contact curl of the thumb and each finger (``DIGITS`` order) with the object; see the module docstring."""

    def __init__(self, step: float = 0.02) -> None:
        m = HOPEJR_HAND_SIM.load()
        super().__init__(m, np.arange(0.0, MAX_CURL + 1e-9, step))
        adr = {name: m.jnt_qposadr[m.joint(name).id] for name in (m.joint(j).name for j in range(m.njnt))}
        self.joints = {
            "thumb": ([adr["thumb_mcp"], adr["thumb_pip"], adr["thumb_dip"]], THUMB_CURL),
            **{f: ([adr[f"{f}_mcp_flex"], adr[f"{f}_pip"], adr[f"{f}_dip"]], self._finger_curl(f)) for f in FINGERS},
        }
        self.thumb_cmc = adr["thumb_cmc"]
        self.geoms = {d: self.digit_geoms(f"{d}_") for d in DIGITS}

    @staticmethod
    def _finger_curl(finger: str) -> np.ndarray:
        ratio = next(c.ratio for c in COUPLINGS if c.driver == f"{finger}_pip")
        return np.array((FINGER_CURL[0], FINGER_CURL[2], ratio * FINGER_CURL[2]))  # mcp_flex, pip, dip

    def contact_curl(self, privileged: dict[str, np.ndarray]) -> np.ndarray:
        """(5,) curl [rad] at first contact, in ``DIGITS`` order (``MAX_CURL`` where none)."""
        obj = self.place(privileged)
        self.data.qpos[self.thumb_cmc] = THUMB_OPPOSED[0]
        return np.array([self.first_touch(*self.joints[digit], self.geoms[digit], obj, MAX_CURL) for digit in DIGITS])


class HopeJRGraspExpert(HandExpert):
    """Pre-shape short of contact, touch with every digit at once, squeeze a little past contact, hold."""

    pre_margin = 0.3  # [rad] of curl short of contact
    touch_margin = 0.05  # [rad] past contact
    # [rad] past contact (capped at MAX_CURL): the servo saturates ~0.1 rad past it (stall 0.19 N m / kp 2 N m/rad);
    # curling further only pushes the object out of the thumb's way (tuned: 0.2 -> 94/100 seeds, 0.4 -> 27/30)
    finger_squeeze, thumb_squeeze = 0.2, 0.3
    shape_speed, touch_speed, squeeze_speed = 3.0, 1.5, 1.5  # [rad/s]

    def __init__(self, control_hz: float = 30.0) -> None:
        super().__init__(control_hz)
        self.contacts = CurlContactModel()

    @staticmethod
    def pose(curl: np.ndarray) -> np.ndarray:
        """Joint targets (16,) [rad] with the thumb opposed and every digit at ``curl`` (``DIGITS`` order)."""
        c = np.clip(curl, 0.0, MAX_CURL)
        thumb = (THUMB_OPPOSED[0], *(c[0] * THUMB_CURL))
        return hopejr_pose(thumb, **{f: tuple(c[k + 1] * FINGER_CURL) for k, f in enumerate(FINGERS)})

    def plan(self, privileged: dict[str, np.ndarray]) -> list[Keyframe]:
        touch = self.contacts.contact_curl(privileged)
        squeeze = touch + np.array([self.thumb_squeeze] + [self.finger_squeeze] * len(FINGERS))
        return [
            Keyframe(self.pose(touch - self.pre_margin), self.shape_speed, hold_s=0.05),
            Keyframe(self.pose(touch + self.touch_margin), self.touch_speed, hold_s=0.05),
            Keyframe(self.pose(squeeze), self.squeeze_speed, hold_s=30.0),
        ]


HOPEJR_HAND_EXPERTS: dict[str, type[HandExpert]] = {"hopejr_grasp": HopeJRGraspExpert}
