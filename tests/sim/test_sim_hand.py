"""The Amazing Hand in simulation: model, transmission, SimRobot contract."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import twinarm.sim  # noqa: F401  (GL backend, env registration)
from twinarm.robot import check_robot
from twinarm.robot.models import AMAZING_HAND, HAND_FINGERS
from twinarm.robot.spec import CameraSpec
from twinarm.robot.transmission import finger_pairs
from twinarm.sim.hand_scene import OBJECT_SHAPES, OPEN_POSE, PARKED_OBJECT, WRIST_HOME, HandScene
from twinarm.sim.sim_robot import AMAZING_HAND_SIM, SimRobot

HAND = AMAZING_HAND_SIM


def hand_robot(**kwargs) -> SimRobot:
    return SimRobot(HAND, **kwargs)


def test_model_joints_ranges_and_servo_tendons_match_the_spec() -> None:
    m = mujoco.MjModel.from_xml_path(str(HAND.xml))
    for joint in AMAZING_HAND.joints:
        np.testing.assert_allclose(m.jnt_range[m.joint(joint.name).id], (joint.lower, joint.upper), atol=1e-4)
    # each servo is a position actuator on a fixed tendon: servo angle = the joint mix of finger_pairs' inverse
    joint_to_motor = finger_pairs(len(HAND_FINGERS)).inverse  # (motor, joint)
    for a in range(8):
        assert m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_TENDON
        t = m.actuator_trnid[a, 0]
        wraps = range(m.tendon_adr[t], m.tendon_adr[t] + m.tendon_num[t])
        coef = {m.joint(m.wrap_objid[w]).name: m.wrap_prm[w] for w in wraps}
        expected = {n: joint_to_motor[a, i] for i, n in enumerate(AMAZING_HAND.joint_names) if joint_to_motor[a, i]}
        assert coef == pytest.approx(expected)
        np.testing.assert_allclose(m.actuator_ctrlrange[a], (-np.pi / 2, np.pi / 2), atol=1e-6)


def test_hand_never_collides_with_itself_but_objects_hit_hand_and_table() -> None:
    m = mujoco.MjModel.from_xml_path(str(HAND.xml))
    hand_bodies = {b for b in range(m.nbody) if m.body_rootid[b] == m.body("palm").id}
    hand = [g for g in range(m.ngeom) if m.geom_bodyid[g] in hand_bodies]
    assert len(hand) >= 13
    for g in hand:
        assert (m.geom_contype[g], m.geom_conaffinity[g]) == (2, 1), m.geom(g).name
    for shape in OBJECT_SHAPES:
        g = m.geom(f"object_{shape}").id
        assert (m.geom_contype[g], m.geom_conaffinity[g]) == (1, 3)

    def collide(a: int, b: int) -> bool:
        return bool(m.geom_contype[a] & m.geom_conaffinity[b] or m.geom_contype[b] & m.geom_conaffinity[a])

    table, obj = m.geom("table").id, m.geom("object_sphere").id
    assert not collide(hand[0], hand[1]) and collide(hand[0], obj) and collide(obj, table) and collide(hand[0], table)


def test_sim_hand_passes_check_robot_with_and_without_cameras() -> None:
    report = check_robot(hand_robot(), allow_motion=True)
    assert report.motion_checked and set(report.observation_keys) == {"joint_pos", "joint_vel"}
    spec = AMAZING_HAND.with_cameras((CameraSpec("front", 24, 32), CameraSpec("wrist", 16, 16)))
    report = check_robot(hand_robot(spec=spec), allow_motion=True)
    assert {"image_front", "image_wrist"} <= set(report.observation_keys)


def settle(robot: SimRobot, target: np.ndarray, steps: int = 45) -> np.ndarray:
    for _ in range(steps):
        robot.send_action(target)
    return robot.get_observation()["joint_pos"]


@pytest.fixture
def free_hand():
    """A connected hand with the wrist raised 5 cm and the object parked, so nothing blocks the fingers."""
    with hand_robot() as robot:
        scene = HandScene(robot)
        scene.configure_object(PARKED_OBJECT)
        scene.reset_robot(OPEN_POSE)
        scene.set_wrist(np.array(WRIST_HOME) + np.array((0.0, 0.0, 0.05)))
        scene.place_object(PARKED_OBJECT.x, PARKED_OBJECT.y, 0.0)
        mujoco.mj_forward(robot.model, robot.data)
        yield robot, scene


def test_joint_targets_reach_the_servos_through_the_transmission(free_hand) -> None:
    robot, _ = free_hand
    target = np.array([1.0, 0.2, 0.5, -0.2, -0.3, 0.1, 0.8, -0.25], np.float32)
    for _ in range(60):
        sent = robot.send_action(target)
    np.testing.assert_allclose(robot.data.ctrl[:8], finger_pairs(4).to_motor(sent), atol=1e-6)
    np.testing.assert_allclose(robot.get_observation()["joint_pos"], target, atol=0.05)


def test_opposite_servo_commands_flex_and_equal_ones_abduct(free_hand) -> None:
    robot, _ = free_hand
    i_flex, i_abd = AMAZING_HAND.joint_index("index_flexion"), AMAZING_HAND.joint_index("index_abduction")
    start = robot.get_observation()["joint_pos"]
    flexed = start.copy()
    flexed[i_flex] = 1.2
    q = settle(robot, flexed)
    m1, m2 = robot.data.ctrl[0], robot.data.ctrl[1]
    assert m1 > 0 > m2 and m1 == pytest.approx(-m2)  # opposite servo angles
    assert q[i_flex] == pytest.approx(1.2, abs=0.05) and abs(q[i_abd]) < 0.03
    spread = flexed.copy()
    spread[i_abd] = 0.3
    q = settle(robot, spread)
    assert q[i_abd] == pytest.approx(0.3, abs=0.05) and q[i_flex] == pytest.approx(1.2, abs=0.05)


def test_a_closed_fist_makes_no_self_contacts(free_hand) -> None:
    robot, _ = free_hand
    fist = np.array([1.5708, 0.0] * 4, np.float32)
    fist[1::2] = (0.3, -0.3, 0.3, -0.3)  # fingers spread into each other
    settle(robot, fist, steps=30)
    m, d = robot.model, robot.data
    palm = m.body("palm").id
    for c in d.contact[: d.ncon]:
        roots = {m.body_rootid[m.geom_bodyid[c.geom1]], m.body_rootid[m.geom_bodyid[c.geom2]]}
        assert roots != {palm}, f"self-contact {m.geom(c.geom1).name} / {m.geom(c.geom2).name}"


def test_stepping_is_deterministic(free_hand) -> None:
    robot, scene = free_hand
    target = np.array([1.3, 0.1, 0.4, 0.0, 0.9, -0.1, 0.5, 0.2], np.float32)
    runs = []
    for _ in range(2):
        scene.reset_robot(OPEN_POSE)
        mujoco.mj_forward(robot.model, robot.data)
        runs.append(settle(robot, target, steps=20))
    np.testing.assert_array_equal(runs[0], runs[1])
