"""The LEAP Hand in simulation: model vs spec and servo figures, flat zero, grasp env and expert, poses, emulate."""

from __future__ import annotations

import os
import time

import mujoco
import numpy as np
import pytest

import twinarm.sim  # noqa: F401  (GL backend, env registration)
from twinarm.cli.cmd_emulate import Config, emulator_config
from twinarm.compose.registry import get_model
from twinarm.robot.hand_poses import HandPoseSource, hand_pose
from twinarm.robot.keyboard import TerminalKeys
from twinarm.robot.models import HAND_FINGERS, LEAP_HAND
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.envs import ENV_IDS, task_for_robot
from twinarm.sim.servo_models import default_params
from twinarm.sim.sim_robot import LEAP_HAND_SIM

ENV = "twinarm/LeapHandGrasp-v0"


def compiled() -> tuple[mujoco.MjModel, mujoco.MjData]:
    m = LEAP_HAND_SIM.load()
    return m, mujoco.MjData(m)


def tips_at(m: mujoco.MjModel, d: mujoco.MjData, q: np.ndarray) -> dict[str, np.ndarray]:
    """Fingertip site positions [m] with the hand's joints at ``q`` (spec order)."""
    for name, value in zip(LEAP_HAND.joint_names, q):
        d.qpos[m.jnt_qposadr[m.joint(name).id]] = value
    mujoco.mj_kinematics(m, d)
    return {f: d.site(f"{f}_tip").xpos.copy() for f in HAND_FINGERS}


def test_joints_ranges_and_actuators_follow_the_spec_and_the_servo_figures() -> None:
    m, _ = compiled()
    for i, joint in enumerate(LEAP_HAND.joints):
        np.testing.assert_allclose(m.jnt_range[m.joint(joint.name).id], (joint.lower, joint.upper), atol=1e-6)
        assert m.actuator(i).name == joint.name and m.actuator_trnid[i, 0] == m.joint(joint.name).id
    params = default_params(LEAP_HAND_SIM)  # the MJCF's figures are the default preset's (XML preset = default)
    for i, name in enumerate(LEAP_HAND.joint_names):
        jp = params.joints[name]
        assert m.actuator_gainprm[i, 0] == pytest.approx(jp.kp, rel=0.01), name
        assert m.actuator_forcerange[i, 1] == pytest.approx(jp.force_limit, rel=0.01), name
        assert m.dof_damping[m.joint(name).dofadr[0]] == pytest.approx(jp.damping, rel=0.01)
    # 550 mA of the 1.80 A stall current at 5 V: 30.6 % of the 0.93 N m stall torque (e-Manual)
    assert params.joints["index_pip"].force_limit == pytest.approx(0.93 * 0.306, rel=1e-3)


def test_zero_is_the_flat_hand_palm_down_fingers_along_x() -> None:
    m, d = compiled()
    tips = tips_at(m, d, np.zeros(16))
    palm = d.body("palm").xpos
    for f in ("index", "middle", "ring"):
        assert tips[f][0] - palm[0] > 0.11  # the URDF's finger reaches ~13 cm past the MCP axes
        assert abs(tips[f][2] - tips["index"][2]) < 1e-6  # straight and level
    assert tips["index"][1] > tips["middle"][1] > tips["ring"][1]  # right hand, palm down: index on the left (+y)
    assert tips["thumb"][1] - palm[1] > 0.1  # the thumb sticks out sideways at zero (the LEAPsim flat hand)
    # flexing closes towards the palm's front: down
    q = np.zeros(16)
    q[LEAP_HAND.joint_index("index_mcp_forward")] = 1.0
    assert tips_at(m, d, q)["index"][2] < tips["index"][2] - 0.05


def test_hand_never_collides_with_itself_but_objects_hit_the_hand() -> None:
    m, _ = compiled()
    palm = m.body("palm").id
    hand = [g for g in range(m.ngeom) if m.body_rootid[m.geom_bodyid[g]] == palm and m.geom_contype[g]]
    assert len(hand) >= 30
    for g in hand:
        assert (m.geom_contype[g], m.geom_conaffinity[g]) == (2, 1), m.geom(g).name
    assert all(m.geom_type[g] != mujoco.mjtGeom.mjGEOM_MESH for g in range(m.ngeom))  # primitives only


def test_grasp_env_resolves_by_rule_name() -> None:
    # check_env, seeded resets, the expert and a held pose's failure: the parametrized tests in test_sim_envs.py
    assert ENV_IDS["leap_grasp"] == ENV and task_for_robot("grasp", "leap_hand") == "leap_grasp"


def test_poses_pinch_thumb_to_index_open_spreads_and_close_curls_every_finger() -> None:
    m, d = compiled()
    flat = tips_at(m, d, hand_pose("flat", LEAP_HAND))
    pinch = tips_at(m, d, hand_pose("pinch", LEAP_HAND))
    assert np.linalg.norm(pinch["thumb"] - pinch["index"]) < 0.035
    spread = tips_at(m, d, hand_pose("open", LEAP_HAND))
    assert spread["index"][1] > flat["index"][1] + 0.01 and spread["ring"][1] < flat["ring"][1] - 0.01
    close = tips_at(m, d, hand_pose("close", LEAP_HAND))
    for f in ("index", "middle", "ring"):
        assert close[f][2] < flat[f][2] - 0.01 and close[f][0] < flat[f][0] - 0.08  # folded back under the palm


def test_keys_pick_leap_poses_and_bend_the_selected_finger() -> None:
    r, w = os.pipe()
    try:
        with TerminalKeys(r) as keys:
            source = HandPoseSource(keys, LEAP_HAND, speed_rad_s=100.0)
            obs = {JOINT_POS: np.zeros(16, np.float32)}
            source.act(obs)
            os.write(w, b"2\x1b[A")  # middle, bend
            source.act(obs)
            bent = {n for n, v in zip(LEAP_HAND.joint_names, source.goal) if v}
            assert bent == {"middle_mcp_forward", "middle_pip", "middle_dip"}
            os.write(w, b"c")
            source.act(obs)
            np.testing.assert_allclose(source.goal, hand_pose("close", LEAP_HAND))
    finally:
        os.close(r)
        os.close(w)


def test_emulate_serves_16_xc330_at_4_mbaud() -> None:
    cfg = emulator_config(Config(robot="leap_hand", link=""))
    assert cfg.baudrate == 4_000_000
    assert [(s.id, s.model) for s in cfg.servos] == [(i, "xc330-m288") for i in range(16)]
    assert get_model("leap_hand").keyboard is not None


def test_leap_driver_moves_the_simulated_hand_through_the_4_mbaud_emulator() -> None:
    from twinarm.compose.hil import BUS_TIMEOUT_S, sim_bus
    from twinarm.hardware.leap import LEAP_HAND_DESC
    from twinarm.hardware.robots import FeetechRobot

    with sim_bus(arm=LEAP_HAND_DESC, sim_model=LEAP_HAND_SIM, baudrate=LEAP_HAND_DESC.baudrate) as bus:
        robot = FeetechRobot(LEAP_HAND_DESC, bus.emulator.port, bus.calibration, bus_timeout_s=BUS_TIMEOUT_S)
        with robot:
            q0 = robot.get_observation()[JOINT_POS]
            assert np.allclose(q0, bus.motion.joint_pos(), atol=0.01)  # calibration = sim radians (flat hand: 0)
            i = LEAP_HAND.joint_index("index_mcp_forward")
            target = q0.copy()
            target[i] += 0.4
            for _ in range(200):
                robot.send_action(target)  # the safety layer limits the step: keep sending
                if abs(bus.motion.joint_pos()[i] - target[i]) < 0.03:
                    break
                time.sleep(robot.spec.control_period_s)
            assert abs(bus.motion.joint_pos()[i] - target[i]) < 0.03
