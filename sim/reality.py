"""The hidden-reality family: plausible physical arms drawn per seed from the identified servo figures.

``draw_reality(model, seed)`` picks a servo/supply class, spreads every servo parameter per joint, and draws the
latency, backlash and sensing noise, all from ranges grounded in public figures (reference/servos.md); the result is
a :class:`SimParams` that a SimRobot or the HIL emulator runs as "the real arm" and that sysid must recover. The
same seed always gives the same reality; its truth can be written with :func:`sim.sim_params.save_sim_params`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from twinarm.sim.servo_models import SCS0009, STS3215_7V4, STS3215_12V, ServoClass, amazing_hand_params, so101_params
from twinarm.sim.sim_params import JointParams, Sensing, SimParams, SimParamsError


class RealityFamily(NamedTuple):
    """Ranges of the hidden physics: servo/supply ``classes`` (drawn uniformly), a per-joint multiplicative
    ``spread`` (uniform in [1 - spread, 1 + spread]) of kp, damping, armature, frictionloss and force limit,
    ``delay_s`` and ``backlash_rad`` (uniform ranges), ``velocity_noise_rad_s`` (upper bound of the noise std)."""

    classes: tuple[tuple[ServoClass, float], ...]
    spread: float = 0.10  # +-10 % per joint (issue figure; Playground's LEAP recipe uses +-20 % on kp/damping)
    delay_s: tuple[float, float] = (0.015, 0.045)  # command-to-motion delay, 15-45 ms (servos.md)
    backlash_rad: tuple[float, float] = (0.0, math.radians(0.5))  # gear play 0-0.5 deg (so101.md's backlash class)
    velocity_noise_rad_s: float = 0.05  # below one Present_Velocity step (0.077 rad/s, servos.md)


#: The SO-101 family: the 7.4 V servo on a 6 V or a 5 V supply, or the 12 V servo (servos.md, "Stall torque").
FAMILIES: dict[str, RealityFamily] = {
    "so101": RealityFamily(((STS3215_7V4, 6.0), (STS3215_7V4, 5.0), (STS3215_12V, 12.0))),
    "amazing_hand": RealityFamily(((SCS0009, 6.0), (SCS0009, 5.0))),
}

_SPREAD_FIELDS = ("kp", "damping", "armature", "frictionloss", "force_limit")


def _spread(jp: JointParams, rng: np.random.Generator, spread: float, backlash: tuple[float, float]) -> JointParams:
    f = rng.uniform(1.0 - spread, 1.0 + spread, len(_SPREAD_FIELDS))
    out = jp.scaled(**dict(zip(_SPREAD_FIELDS, f.tolist())))
    if jp.overload_force_limit is not None:  # the cut-back is a fraction of the same (spread) stall torque
        out = out._replace(overload_force_limit=jp.overload_force_limit * float(f[-1]))
    return out._replace(backlash=float(rng.uniform(*backlash)))


def draw_reality(model: str, seed: int) -> SimParams:
    """The hidden physics of reality ``seed`` for robot ``model`` (``so101`` or ``amazing_hand``)."""
    if model not in FAMILIES:
        raise SimParamsError(f"no hidden-reality family for robot {model!r}; valid: {', '.join(FAMILIES)}")
    family = FAMILIES[model]
    rng = np.random.default_rng([seed, 12])  # independent of other seeded draws of the same integer
    servo, supply = family.classes[int(rng.integers(len(family.classes)))]
    base = so101_params(servo, supply) if model == "so101" else amazing_hand_params(supply)
    joints = {name: _spread(jp, rng, family.spread, family.backlash_rad) for name, jp in base.joints.items()}
    sensing = Sensing(
        base.sensing.position_resolution_rad,
        base.sensing.velocity_resolution_rad_s,
        0.0,
        float(rng.uniform(0.0, family.velocity_noise_rad_s)),
    )
    delay = float(rng.uniform(*family.delay_s))
    return SimParams(joints, delay, sensing, f"reality_{seed}_{servo.name}_{supply:g}v")
