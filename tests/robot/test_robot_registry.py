"""The model registry: every entry is consistent across spec, MJCF, bus, emulator and teleop data; lookups name
the valid choices; and no command branches on a model name (they read the entry instead).

Building every bus on its emulator and running ``check_robot`` on it is in ``test_robot_backends.py`` (its
backends are generated from this registry).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from twinarm.compose.registry import MODELS, KeyboardTeleop, RobotModel, get_model
from twinarm.robot.errors import ConfigError
from twinarm.sim.envs import ENV_IDS

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(MODELS)


@pytest.fixture(scope="module", params=NAMES)
def entry(request: pytest.FixtureRequest) -> RobotModel:
    return MODELS[request.param]


def test_entry_is_filed_under_its_spec_name(entry: RobotModel) -> None:
    assert get_model(entry.name) is entry and entry.spec.name == entry.name
    assert all(bus.role.value in entry.roles for bus in entry.buses)
    assert entry.roles or entry.sim is not None, "a model without hardware buses must have a simulation"


def test_sim_model_has_the_spec_joints_limits_and_actuators(entry: RobotModel) -> None:
    if entry.sim is None:
        pytest.skip(f"{entry.name} has no simulation backend")
    m = entry.sim.load()
    for joint in entry.spec.joints:
        assert mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, joint.name) >= 0, f"{joint.name} missing in MJCF"
        np.testing.assert_allclose(m.joint(joint.name).range, (joint.lower, joint.upper), atol=1e-6)
    assert len(entry.sim.home) == entry.spec.num_joints
    assert np.all(np.asarray(entry.sim.home) >= entry.spec.lower) and np.all(
        np.asarray(entry.sim.home) <= entry.spec.upper
    )
    actuators = tuple(m.actuator(i).name for i in range(m.nu))
    for bus in entry.buses:  # position actuators in the order the buses order their motors (joints, or servos)
        motors = tuple(name for b in entry.parts(bus.role.value, bus.side) for name in b.description.motor_names)
        assert actuators[: len(motors)] == motors, f"{bus.description.name}: actuators {actuators}"
        n_act = entry.spec.num_joints if entry.sim.transmission is None else entry.sim.transmission.size
        assert len(motors) == n_act


def test_task_family_is_the_sim_models_and_registered(entry: RobotModel) -> None:
    if entry.tasks is None:
        pytest.skip(f"{entry.name} has no simulated tasks")
    assert entry.tasks.model is entry.sim and entry.tasks.tasks
    for task in entry.tasks.tasks:
        spec = gym.spec(ENV_IDS[task])
        assert spec.kwargs["robot"] == entry.name and spec.kwargs["task"] == task


def test_every_bus_drives_the_spec_and_emulates_its_servos(entry: RobotModel) -> None:
    for bus in entry.buses:
        desc = entry.bus(bus.role.value, bus.side, part=bus.part)
        assert desc is bus.description and desc.role is bus.role
        parts = entry.parts(bus.role.value, bus.side)
        assert tuple(j for b in parts for j in b.description.spec.joint_names) == entry.spec.joint_names
        servos = entry.emulator_servos(bus.role.value, bus.side, bus.part)
        assert [(s.id, s.model) for s in servos] == [(m.id, desc.motor_table(m).name.lower()) for m in desc.motors]
        cal = entry.nominal_calibration(bus.role.value, bus.side, bus.part)
        assert tuple(m.joint for m in cal.motors) == desc.motor_names and cal.role == bus.role.value


def test_teleop_data_fits_the_model(entry: RobotModel) -> None:
    if entry.ee is not None:
        from twinarm.sim.ik import ArmIK

        assert set(entry.ee.arm_joints) | {entry.ee.gripper} - {None} <= set(entry.spec.joint_names)
        assert np.all(entry.ee.workspace.low < entry.ee.workspace.high)
        model = entry.sim.load()
        ArmIK(model, entry.spec.joint_names, entry.ee.arm_joints)  # its site exists on the model
    if entry.keyboard is KeyboardTeleop.HAND_POSES:
        from twinarm.robot.hand_poses import POSE_NAMES, hand_pose

        for pose in POSE_NAMES:
            q = hand_pose(pose, entry.spec)
            assert q.shape == (entry.spec.num_joints,)
    assert entry.keyboard is not None, "source=keyboard needs a mapping"


def test_unknown_model_lists_every_valid_name() -> None:
    with pytest.raises(ConfigError) as info:
        get_model("ur5e")
    assert "'ur5e'" in str(info.value) and ", ".join(NAMES) in str(info.value)


def test_role_side_and_ids_are_validated_with_the_valid_values() -> None:
    hand, arm = get_model("amazing_hand"), get_model("so101")
    with pytest.raises(ConfigError, match=r"valid roles: follower$"):
        hand.bus("leader", "right")
    with pytest.raises(ConfigError, match="valid sides: right, left"):
        hand.bus("follower", "middle")
    with pytest.raises(ConfigError, match="needs 6 servo ids"):
        arm.bus("follower", ids=[1, 2])
    assert arm.sides == () and arm.bus("leader", "left") is arm.bus("leader", "right")  # no handedness: ignored
    assert hand.bus("follower", "left", ids=range(21, 29)).ids == tuple(range(21, 29))
    assert hand.calibration_name("default", "left") == "left" and arm.calibration_name("default", "left") == "default"


def test_a_robot_of_parts_has_one_bus_per_part_and_names_them() -> None:
    both = get_model("so101_amazing_hand")
    arm, hand = both.parts()
    assert (arm.part, hand.part) == ("arm", "hand")
    assert arm.description.spec.joint_names + hand.description.spec.joint_names == both.spec.joint_names
    assert both.bus(part="hand") is hand.description
    assert both.bus(part="arm", ids=range(11, 16)).ids == (11, 12, 13, 14, 15)
    with pytest.raises(ConfigError, match="valid parts: arm, hand"):
        both.bus()
    with pytest.raises(ConfigError, match="valid parts: arm, hand"):
        both.bus(part="gripper")
    arm_servos, hand_servos = both.emulator_servos(part="arm"), both.emulator_servos(part="hand")
    assert [s.position for s in arm_servos] == [2048 + d for d in get_model("so101").emulator_offsets_ticks[:5]]
    assert {s.model for s in hand_servos} == {"scs0009"}


def test_a_simulation_only_model_names_the_missing_hardware() -> None:
    from twinarm.compose.registry import NoHardwareError

    sim_only = dataclasses.replace(get_model("koch"), buses=())
    with pytest.raises(NoHardwareError, match=r"robot koch has no servo bus.*simulation only"):
        sim_only.bus("follower")
    with pytest.raises(NoHardwareError, match="so101"):  # names the models that have hardware
        sim_only.emulator_servos()
    with pytest.raises(ConfigError, match="needs hardware buses or a sim model"):
        dataclasses.replace(sim_only, sim=None, tasks=None, ee=None, keyboard=None)


# -- no command compares model names, no table is keyed by them --------------------------------------------------


def model_name_uses(path: Path, names: set[str]) -> list[str]:
    """``file:line`` of every comparison (``==``, ``!=``, ``in``, ...) with a string literal that is a model name,
    also inside a literal tuple/list/set (``model in ("so101", ...)``), and of every dict literal keyed by one (a
    per-model table). Naming a model in its own data (``RobotSpec(name="so101")``, a config default) is not a use."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Dict):
            operands = [k for k in node.keys if k is not None]
        else:
            continue
        for operand in operands:
            items = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
            if any(isinstance(i, ast.Constant) and i.value in names for i in items):
                found.append(f"{path.name}:{node.lineno}")
                break
    return found


def test_no_command_composition_or_sim_module_branches_on_model_names() -> None:
    offenders = []
    for package in ("cli", "compose", "sim"):
        for path in sorted((ROOT / package).rglob("*.py")):
            offenders += model_name_uses(path, set(MODELS))
    assert not offenders, f"read the model's registry entry / SimModel instead: {offenders}"


def test_the_model_name_checker_sees_them(tmp_path: Path) -> None:
    probe = tmp_path / "m.py"
    probe.write_text(
        "if cfg.model == 'amazing_hand':\n    pass\nok = cfg.robot != 'so101'\nx = m in ('a', 'so101')\n"
        "y = cfg.side == 'right'\nz = {'so101': 1}\nw = {'xml': 1, **z}\nv = Spec(name='so101')\n"
    )
    assert model_name_uses(probe, {"so101", "amazing_hand"}) == ["m.py:1", "m.py:3", "m.py:4", "m.py:6"]


def test_every_sim_model_carries_consistent_servo_physics(entry: RobotModel) -> None:
    """The default preset exists, and every preset and hidden reality covers exactly the model's actuators."""
    if entry.sim is None:
        pytest.skip(f"{entry.name} has no simulation backend")
    from twinarm.sim.reality import draw_reality
    from twinarm.sim.servo_models import default_params, preset

    physics = entry.sim.physics
    assert physics.default in physics.presets
    assert {entry.sim: 1}[entry.sim] == 1  # a sim model stays usable as a key (its physics hashes by identity)
    default_params(entry.sim)
    m = entry.sim.load()
    n_act = entry.spec.num_joints if entry.sim.transmission is None else entry.sim.transmission.size
    actuators = {m.actuator(i).name for i in range(n_act)}
    drawn = [preset(entry.sim, name) for name in physics.presets]
    if physics.reality is not None:
        drawn.append(draw_reality(entry.sim, 0))
    for params in drawn:
        assert params is None or set(params.joints) == actuators, params.name
