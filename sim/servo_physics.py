"""The servo physics a sim model carries: plain data types, no MuJoCo, no numpy.

A :class:`ServoPhysics` (the ``physics`` field of :class:`sim.sim_robot.SimModel`) holds a model's named sim-parameter
presets, the name of its default preset and its hidden-reality family; the figures themselves live in
:mod:`sim.servo_models`, the draw in :mod:`sim.reality`. Commands reach all of it through the model, never through
a table keyed by model name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import NamedTuple

from twinarm.sim.sim_params import JointParams, SimParams, SimParamsError

#: The preset that applies nothing: the MJCF's own figures.
XML_PRESET = "xml"


class ServoClass(NamedTuple):
    """An identified servo: ``kp_per_p`` [N·m/rad per unit of P_Coefficient] (None: gain not identified, use
    ``kp_fixed``), joint ``damping`` [N·m·s/rad], ``armature`` [kg·m²], ``frictionloss`` [N·m], stall torque [N·m]
    by supply voltage [V], sensing resolution."""

    name: str
    kp_per_p: float | None
    kp_fixed: float
    damping: float
    armature: float
    frictionloss: float
    stall_torque_nm: Mapping[float, float]
    position_resolution_rad: float
    velocity_resolution_rad_s: float

    def stall(self, supply_v: float) -> float:
        if supply_v not in self.stall_torque_nm:
            valid = ", ".join(f"{v:g}" for v in sorted(self.stall_torque_nm))
            raise SimParamsError(f"{self.name}: no stall torque known at {supply_v:g} V; valid supplies [V]: {valid}")
        return self.stall_torque_nm[supply_v]

    def joint(self, p_coefficient: int | None, supply_v: float, torque_limit: int = 1000) -> JointParams:
        """Joint parameters at P_Coefficient ``p_coefficient`` (None: the servo's own gain) and Torque_Limit
        ``torque_limit`` [0.1 % of stall, 0..1000] on a ``supply_v`` [V] supply."""
        if self.kp_per_p is None or p_coefficient is None:
            kp = self.kp_fixed
        else:
            kp = self.kp_per_p * p_coefficient
        force = self.stall(supply_v) * torque_limit / 1000.0
        return JointParams(kp, self.damping, self.armature, self.frictionloss, force)


#: The nominal sim parameters of a model with servo class ``servo`` on a ``supply_v`` [V] supply.
ModelParamsBuilder = Callable[[ServoClass, float], SimParams]


class RealityFamily(NamedTuple):
    """Ranges of a model's hidden physics: servo/supply ``classes`` (drawn uniformly), ``build`` turns the drawn
    class into the model's nominal parameters, then a per-joint multiplicative ``spread`` (uniform in
    [1 - spread, 1 + spread]) of kp, damping, armature, frictionloss and force limit, ``delay_s`` and ``backlash_rad``
    (uniform ranges), ``velocity_noise_rad_s`` (upper bound of the noise std)."""

    classes: tuple[tuple[ServoClass, float], ...]
    build: ModelParamsBuilder
    spread: float = 0.10  # +-10 % per joint (issue figure; Playground's LEAP recipe uses +-20 % on kp/damping)
    delay_s: tuple[float, float] = (0.015, 0.045)  # command-to-motion delay, 15-45 ms (servos.md)
    backlash_rad: tuple[float, float] = (0.0, math.radians(0.5))  # gear play 0-0.5 deg (so101.md's backlash class)
    velocity_noise_rad_s: float = 0.05  # below one Present_Velocity step (0.077 rad/s, servos.md)


@dataclasses.dataclass(frozen=True, eq=False)
class ServoPhysics:
    """The servo physics of a sim model: ``presets`` by name for ``sim.params=<name>`` (each builds its
    :class:`SimParams`, None for :data:`XML_PRESET`), the ``default`` preset's name (used when ``sim.params`` is not
    given), and the hidden-reality family (None: the model has none). Compared and hashed by identity, so a
    :class:`sim.sim_robot.SimModel` holding it stays hashable."""

    presets: Mapping[str, Callable[[], SimParams | None]]
    default: str = XML_PRESET
    reality: RealityFamily | None = None


#: A model without identified servos: only the MJCF's own figures, no hidden realities.
MJCF_ONLY = ServoPhysics({XML_PRESET: lambda: None})
