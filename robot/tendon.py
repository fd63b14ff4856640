"""Tendon transmissions: servo spools pulling cables over joints, linearised into a :class:`LinearTransmission`.

A servo turns its spool by ``phi`` [rad] (motor angle after calibration) and winds ``r_s * phi`` [m] of tendon
(spool radius ``r_s``). The tendon crosses joints; at each it has a moment arm ``r_j`` [m], so a joint angle
``q_j`` [rad] shortens its path by ``r_j * q_j``. Holding the path length fixed gives, per tendon,

    r_s * phi = sum_j r_j * q_j          i.e.   motor = M @ joint,   M[k, j] = r_j(k) / r_s(k)

and ``joint = inv(M) @ motor``. Constant moment arms make the map linear: exact for a tendon wrapped on a circular
pulley or rolling surface of fixed radius, a first-order approximation elsewhere (a chord of length
``2 r sin(q / 2)`` is ``r q`` to within 1 % up to 0.5 rad, 4 % at 1 rad). A joint the tendon crosses but the robot
does not command (a DIP coupled to its PIP, ``q_dip = c * q_pip``) folds into its driver: it adds ``c * r_dip`` to
the driver's moment arm. Signs: a positive moment arm means winding the spool turns the joint positively.

The routing is data (:class:`Tendon`): the same numbers build the hardware transmission (this module), the MuJoCo
fixed tendons the sim's actuators pull (:func:`tendon_coefficients`), and the servo travel a joint range needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from twinarm.robot.errors import SpecError
from twinarm.robot.transmission import LinearTransmission


class Tendon(NamedTuple):
    """One servo's tendon: the ``servo`` name, its ``spool_radius_m`` [m] and its ``moment_arms_m`` [m] per joint it
    crosses (commanded joints and coupled ones alike; positive: winding turns the joint positively)."""

    servo: str
    spool_radius_m: float
    moment_arms_m: Mapping[str, float]


class Coupling(NamedTuple):
    """A joint the robot does not command, following ``driver``: ``joint = ratio * driver`` [rad/rad]."""

    joint: str
    driver: str
    ratio: float


def motor_matrix(tendons: Sequence[Tendon], joints: Sequence[str], couplings: Sequence[Coupling] = ()) -> np.ndarray:
    """``M`` (servos x joints) with ``motor = M @ joint`` [rad/rad]: moment arm over spool radius, coupled joints
    folded into their drivers. SpecError names a tendon crossing a joint that is neither commanded nor coupled."""
    follow = {c.joint: c for c in couplings}
    index = {name: i for i, name in enumerate(joints)}
    m = np.zeros((len(tendons), len(joints)))
    for k, tendon in enumerate(tendons):
        if tendon.spool_radius_m <= 0.0:
            raise SpecError(f"tendon {tendon.servo!r}: spool radius {tendon.spool_radius_m} m must be > 0")
        for joint, arm in tendon.moment_arms_m.items():
            ratio = 1.0
            if joint in follow:
                joint, ratio = follow[joint].driver, follow[joint].ratio
            if joint not in index:
                valid = ", ".join([*joints, *follow])
                raise SpecError(f"tendon {tendon.servo!r} crosses joint {joint!r}; valid joints: {valid}")
            m[k, index[joint]] += ratio * arm / tendon.spool_radius_m
    return m


def tendon_transmission(
    tendons: Sequence[Tendon], joints: Sequence[str], couplings: Sequence[Coupling] = ()
) -> LinearTransmission:
    """The linear transmission ``joint = inv(M) @ motor`` of :func:`motor_matrix` (servos in ``tendons`` order)."""
    if len(tendons) != len(joints):
        raise SpecError(f"{len(tendons)} tendons for {len(joints)} joints: a tendon hand needs one servo per joint")
    return LinearTransmission(np.linalg.inv(motor_matrix(tendons, joints, couplings)))


def tendon_coefficients(tendon: Tendon) -> dict[str, float]:
    """MuJoCo fixed-tendon coefficients of ``tendon`` [rad of spool per rad of joint], per joint it crosses
    (coupled joints included: the simulator enforces the coupling itself). The tendon's length is then the spool
    angle the joints hold it at, so a position actuator on it takes the motor angle as its control."""
    return {joint: arm / tendon.spool_radius_m for joint, arm in tendon.moment_arms_m.items()}


def motor_travel(
    matrix: np.ndarray, lower: Sequence[float], upper: Sequence[float], margin_rad: float = 0.0
) -> tuple[tuple[float, float], ...]:
    """Per servo, the (lo, hi) motor angles [rad] the joint box ``[lower, upper]`` needs (the extremes of
    ``matrix @ joint`` over the box's corners), widened by ``margin_rad``; zero is always inside."""
    m = np.asarray(matrix, dtype=np.float64)
    lo_j, hi_j = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    lo = np.minimum(m * lo_j, m * hi_j).sum(axis=1) - margin_rad
    hi = np.maximum(m * lo_j, m * hi_j).sum(axis=1) + margin_rad
    return tuple((float(min(a, 0.0)), float(max(b, 0.0))) for a, b in zip(lo, hi))
