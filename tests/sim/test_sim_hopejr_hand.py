"""The HopeJR hand in simulation: generated MJCF vs its data, tendons = the transmission, grasp env, poses, emulator."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

import twinarm.sim  # noqa: F401  (GL backend, env registration)
from twinarm.cli.cmd_emulate import Config, emulator_config
from twinarm.compose.registry import get_model
from twinarm.robot import hopejr_hand as data
from twinarm.robot.hand_poses import HandPoseSource, hand_pose
from twinarm.robot.models import HOPEJR_HAND
from twinarm.robot.spec import JOINT_POS
from twinarm.sim.envs import ENV_IDS, task_for_robot
from twinarm.sim.hopejr_hand import HOPEJR_HAND_SIM
from twinarm.sim.hopejr_hand_model import XML_PATH, build_xml
from twinarm.sim.servo_models import default_params

ENV = "twinarm/HopeJRHandGrasp-v0"
TIPS = ("thumb", *data.FINGERS)


def compiled() -> tuple[mujoco.MjModel, mujoco.MjData]:
    m = HOPEJR_HAND_SIM.load()
    return m, mujoco.MjData(m)


def tips_at(m: mujoco.MjModel, d: mujoco.MjData, q: np.ndarray) -> dict[str, np.ndarray]:
    """Fingertip sites [m] with the hand at ``q`` (spec order), each DIP at its coupled PIP angle."""
    d.qpos[:] = m.qpos0
    for name, value in zip(HOPEJR_HAND.joint_names, q):
        d.qpos[m.joint(name).qposadr[0]] = value
    for c in data.COUPLINGS:
        d.qpos[m.joint(c.joint).qposadr[0]] = c.ratio * d.qpos[m.joint(c.driver).qposadr[0]]
    mujoco.mj_kinematics(m, d)
    return {f: d.site(f"{f}_tip").xpos.copy() for f in TIPS}


def test_the_committed_mjcf_is_what_the_data_generates() -> None:
    assert XML_PATH.read_text(encoding="utf-8") == build_xml(), "run: python -m twinarm.sim.hopejr_hand_model"


def test_tendon_lengths_are_the_transmissions_motor_angles() -> None:
    m, d = compiled()
    q = np.random.default_rng(0).uniform(HOPEJR_HAND.lower, HOPEJR_HAND.upper)
    tips_at(m, d, q)
    mujoco.mj_forward(m, d)
    motor = HOPEJR_HAND_SIM.transmission.to_motor(q)
    for k, servo in enumerate(data.SERVOS):
        assert m.actuator(k).name == servo
        assert d.ten_length[m.tendon(servo).id] == pytest.approx(motor[k], abs=1e-4)
        np.testing.assert_allclose(m.actuator_ctrlrange[k], data.SERVO_TRAVEL[k], atol=1e-5)
    for joint in HOPEJR_HAND.joints:
        np.testing.assert_allclose(m.jnt_range[m.joint(joint.name).id], (joint.lower, joint.upper), atol=1e-5)
    params = default_params(HOPEJR_HAND_SIM)  # the MJCF's servo figures are the default preset's (SCS0009, 5 V)
    for k, servo in enumerate(data.SERVOS):
        assert m.actuator_gainprm[k, 0] == pytest.approx(params.joints[servo].kp)
        assert m.actuator_forcerange[k, 1] == pytest.approx(params.joints[servo].force_limit)


def test_zero_is_the_flat_hand_and_the_servos_close_it() -> None:
    m, d = compiled()
    flat = tips_at(m, d, np.zeros(16))
    palm = d.body("palm").xpos
    for f in data.FINGERS:
        assert flat[f][0] - palm[0] > 0.15  # MCP at ~9 cm, fingers 9.7 cm long, along world +x
    assert flat["index"][1] > flat["middle"][1] > flat["ring"][1] > flat["pinky"][1]  # right hand, palm down
    assert flat["thumb"][1] - palm[1] > 0.1  # the thumb straight out sideways
    closed = tips_at(m, d, hand_pose("close", HOPEJR_HAND))
    for f in data.FINGERS:
        assert closed[f][2] < flat[f][2] - 0.01 and closed[f][0] < flat[f][0] - 0.08
    pinch = tips_at(m, d, hand_pose("pinch", HOPEJR_HAND))
    assert np.linalg.norm(pinch["thumb"] - pinch["index"]) < 0.02


def test_grasp_env_resolves_by_rule_name() -> None:
    # check_env, seeded resets, the expert and a held pose's failure: the parametrized tests in test_sim_envs.py
    assert ENV_IDS["hopejr_grasp"] == ENV and task_for_robot("grasp", "hopejr_hand") == "hopejr_grasp"


class _Keys:
    def __init__(self) -> None:
        self.pending: list[str] = []

    def poll(self) -> list[str]:
        out, self.pending = self.pending, []
        return out


def test_key_5_selects_the_pinky_and_the_thumb_bends_its_own_joints() -> None:
    keys = _Keys()
    source = HandPoseSource(keys, HOPEJR_HAND, speed_rad_s=100.0)
    obs = {JOINT_POS: np.zeros(16, np.float32)}
    source.act(obs)
    keys.pending = ["5", "up"]
    source.act(obs)
    assert {n for n, v in zip(HOPEJR_HAND.joint_names, source.goal) if v} == {"pinky_mcp_flex", "pinky_pip"}
    keys.pending = ["z", "4", "up", "right"]
    source.act(obs)
    bent = {n for n, v in zip(HOPEJR_HAND.joint_names, source.goal) if v}
    assert bent == {"thumb_cmc", "thumb_mcp", "thumb_pip", "thumb_dip"}


def test_emulate_serves_16_scs0009_at_1_mbaud_starting_flat() -> None:
    cfg = emulator_config(Config(robot="hopejr_hand", link=""))
    assert cfg.baudrate == 1_000_000
    assert [(s.id, s.model) for s in cfg.servos] == [(i, "scs0009") for i in range(1, 17)]
    model = get_model("hopejr_hand")
    cal = model.nominal_calibration()
    starts = np.array([s.position for s in cfg.servos])
    np.testing.assert_array_equal(starts, [c.zero_tick for c in cal.motors])  # the flat hand
