"""Tendon transmissions (robot.tendon) and the HopeJR hand's data (robot.hopejr_hand): spool -> tendon -> joints."""

from __future__ import annotations

import numpy as np
import pytest

from twinarm.robot import hopejr_hand as data
from twinarm.robot.errors import SpecError
from twinarm.robot.models import HOPEJR_HAND
from twinarm.robot.tendon import Coupling, Tendon, motor_matrix, motor_travel, tendon_transmission


def test_a_flexor_pair_flexes_together_and_abducts_differentially() -> None:
    r_s, r_f, r_a = 0.007, 0.0076, 0.005
    tendons = [Tendon("radial", r_s, {"flex": r_f, "abd": r_a}), Tendon("ulnar", r_s, {"flex": r_f, "abd": -r_a})]
    tr = tendon_transmission(tendons, ["flex", "abd"])
    both = tr.to_joint(np.array([0.5, 0.5]))  # both spools wind 0.5 rad: only flexion, by r_s / r_f
    np.testing.assert_allclose(both, [0.5 * r_s / r_f, 0.0], atol=1e-6)
    diff = tr.to_joint(np.array([0.3, -0.3]))  # one winds, the other pays out: only abduction, towards the radial
    np.testing.assert_allclose(diff, [0.0, 0.3 * r_s / r_a], atol=1e-6)
    q = np.array([0.8, -0.2])
    np.testing.assert_allclose(tr.to_joint(tr.to_motor(q)), q, atol=1e-6)


def test_a_coupled_joint_adds_its_moment_arm_to_its_driver() -> None:
    t = Tendon("pip_dip", 0.007, {"pip": 0.0076, "dip": 0.0076})
    m = motor_matrix([t], ["pip"], [Coupling("dip", "pip", 0.5)])
    assert m[0, 0] == pytest.approx((0.0076 + 0.5 * 0.0076) / 0.007)
    with pytest.raises(SpecError, match="dip"):
        motor_matrix([t], ["pip"])  # a joint neither commanded nor coupled


def test_motor_travel_covers_the_joint_box_one_sided_for_a_one_sided_box() -> None:
    m = np.array([[2.0, 1.0], [2.0, -1.0]])
    travel = motor_travel(m, [0.0, -0.5], [1.0, 0.5])
    assert travel == ((-0.5, 2.5), (-0.5, 2.5))
    assert motor_travel(m, [0.0, 0.0], [1.0, 0.0]) == ((0.0, 2.0), (0.0, 2.0))  # zero stays inside


def test_hopejr_data_makes_the_spec_and_a_transmission_per_finger() -> None:
    assert HOPEJR_HAND.joint_names == data.JOINTS and len(data.SERVOS) == 16
    tr = data.TRANSMISSION
    i = HOPEJR_HAND.joint_index
    radial, ulnar, pip = (data.SERVOS.index(f"middle_{s}") for s in ("radial_flexor", "ulnar_flexor", "pip_dip"))
    motor = np.zeros(16)
    motor[[radial, ulnar]] = 1.0
    q = tr.to_joint(motor)
    assert q[i("middle_mcp_flex")] > 0.4 and abs(q[i("middle_mcp_abd")]) < 1e-6
    assert np.count_nonzero(np.abs(q) > 1e-6) == 1  # no other joint moves
    motor[:] = 0.0
    motor[pip] = 1.0  # the PIP servo winds for two joints (PIP and the coupled DIP): half the PIP angle
    assert tr.to_joint(motor)[i("middle_pip")] == pytest.approx(data.SPOOL_RADIUS / (2 * data.PIP_ARM), rel=1e-5)


def test_each_servo_travel_fits_the_scs0009_scale_and_covers_the_spec() -> None:
    scale = np.deg2rad(300.0)  # SCS0009: 1024 ticks over 300 deg
    for lo, hi in data.SERVO_TRAVEL:
        assert lo <= 0.0 <= hi and hi - lo < scale
    corners = np.array([HOPEJR_HAND.lower, HOPEJR_HAND.upper])
    for k in range(50):  # random poses in the joint box need motor angles inside the travel
        q = np.random.default_rng(k).uniform(*corners)
        motor = data.MOTOR_MATRIX @ q
        assert all(lo <= m <= hi for m, (lo, hi) in zip(motor, data.SERVO_TRAVEL))
