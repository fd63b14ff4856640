"""The hidden-reality family: plausible physical robots drawn per seed from the identified servo figures.

``draw_reality(model, seed)`` draws from the family of sim model ``model`` (its ``physics.reality``, a
:class:`sim.servo_physics.RealityFamily`): it picks a servo/supply class, spreads every servo parameter per joint,
and draws the latency, backlash and sensing noise, all from ranges grounded in public figures (reference/servos.md);
the result is a :class:`SimParams` that a SimRobot or the HIL emulator runs as "the real robot" and that sysid must
recover. The same seed always gives the same reality; its truth can be written with
:func:`sim.sim_params.save_sim_params`.

A reality also has a look: :class:`RealityLook` draws, from the same seed, a visual shift from the held-out half of
full randomization's appearance ranges (:mod:`sim.held_out`: colours, the table's texture scale, light direction
and intensity, camera pose and field of view, image noise and blur), which randomization never samples; the
``twinarm/`` envs show it with ``appearance=seed`` (``reality.seed`` on the command line sets both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from twinarm.sim.randomize import FULL, RandomizeConfig, Randomizer
from twinarm.sim.sim_params import JointParams, Sensing, SimParams, SimParamsError

if TYPE_CHECKING:
    from twinarm.sim.sim_robot import SimModel, SimRobot

#: The appearance ranges of a reality's look (their held-out half is drawn): full randomization's vision ranges.
LOOK_RANGES = RandomizeConfig(
    rgb_jitter=FULL.rgb_jitter,
    texture_scale_log2=FULL.texture_scale_log2,
    light_dir_deg=FULL.light_dir_deg,
    light_scale=FULL.light_scale,
    camera_pos_m=FULL.camera_pos_m,
    camera_rot_deg=FULL.camera_rot_deg,
    camera_fovy_deg=FULL.camera_fovy_deg,
    image_noise_std=FULL.image_noise_std,
    image_blur_px=FULL.image_blur_px,
)


class RealityLook:
    """The look of reality ``seed``: a held-out draw of the appearance ``ranges``. :meth:`apply` writes it into a
    connected robot's model (the same draw every time), :meth:`augment` puts its image effects on observations."""

    def __init__(self, seed: int, ranges: RandomizeConfig = LOOK_RANGES) -> None:
        self.seed = seed
        self.randomizer = Randomizer(ranges, held_out=True)

    def apply(self, robot: SimRobot) -> None:
        self.randomizer.apply(robot, np.random.default_rng([self.seed, 14]))

    def augment(self, obs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.randomizer.augment(obs)


_SPREAD_FIELDS = ("kp", "damping", "armature", "frictionloss", "force_limit")


def _spread(jp: JointParams, rng: np.random.Generator, spread: float, backlash: tuple[float, float]) -> JointParams:
    f = rng.uniform(1.0 - spread, 1.0 + spread, len(_SPREAD_FIELDS))
    out = jp.scaled(**dict(zip(_SPREAD_FIELDS, f.tolist())))
    if jp.overload_force_limit is not None:  # the cut-back is a fraction of the same (spread) stall torque
        out = out._replace(overload_force_limit=jp.overload_force_limit * float(f[-1]))
    return out._replace(backlash=float(rng.uniform(*backlash)))


def draw_reality(model: SimModel, seed: int) -> SimParams:
    """The hidden physics of reality ``seed`` for sim model ``model``; a SimParamsError when it has no family."""
    family = model.physics.reality
    if family is None:
        raise SimParamsError(
            f"robot {model.spec.name!r} has no hidden-reality family (its sim model's physics.reality is None); "
            "give it one in sim.servo_models to use reality.seed"
        )
    rng = np.random.default_rng([seed, 12])  # independent of other seeded draws of the same integer
    servo, supply = family.classes[int(rng.integers(len(family.classes)))]
    base = family.build(servo, supply)
    joints = {name: _spread(jp, rng, family.spread, family.backlash_rad) for name, jp in base.joints.items()}
    sensing = Sensing(
        base.sensing.position_resolution_rad,
        base.sensing.velocity_resolution_rad_s,
        0.0,
        float(rng.uniform(0.0, family.velocity_noise_rad_s)),
    )
    delay = float(rng.uniform(*family.delay_s))
    return SimParams(joints, delay, sensing, f"reality_{seed}_{servo.name}_{supply:g}v")
