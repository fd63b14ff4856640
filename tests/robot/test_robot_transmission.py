from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinarm.robot.errors import SpecError
from twinarm.robot.transmission import LinearTransmission, finger_pairs, identity


def test_opposite_servo_rotation_is_flexion_same_direction_is_abduction() -> None:
    t = finger_pairs(1)
    open_, closed = np.deg2rad([-35.0, 35.0]), np.deg2rad([90.0, -90.0])
    np.testing.assert_allclose(t.to_joint(open_), np.deg2rad([-35.0, 0.0]), atol=1e-6)
    np.testing.assert_allclose(t.to_joint(closed), np.deg2rad([90.0, 0.0]), atol=1e-6)
    np.testing.assert_allclose(t.to_joint(np.deg2rad([10.0, 10.0])), np.deg2rad([0.0, 10.0]), atol=1e-6)


@given(st.lists(st.floats(-1.5, 1.5), min_size=8, max_size=8))
def test_round_trip_motor_joint_motor(values: list[float]) -> None:
    t = finger_pairs(4)
    motor = np.array(values, dtype=np.float32)
    np.testing.assert_allclose(t.to_motor(t.to_joint(motor)), motor, atol=1e-5)


def test_batches_and_identity() -> None:
    batch = np.arange(12, dtype=np.float32).reshape(2, 6)
    np.testing.assert_array_equal(identity(6).to_joint(batch), batch)
    assert finger_pairs(4).to_joint(np.zeros((5, 8))).shape == (5, 8)


def test_singular_matrix_is_refused() -> None:
    with pytest.raises(SpecError, match=r"singular.*must be invertible"):
        LinearTransmission(np.ones((2, 2)))
    with pytest.raises(SpecError, match=r"shape \(2, 3\).*square"):
        LinearTransmission(np.ones((2, 3)))
