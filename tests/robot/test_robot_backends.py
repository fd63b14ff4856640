"""check_robot over every robot backend the package knows: sim, and each hardware robot on its emulator."""

from __future__ import annotations

import pytest

from twinarm.cli.main import main
from twinarm.compose.backends import EMULATOR, RobotConfig, built_robot
from twinarm.compose.registry import MODELS
from twinarm.robot.check import check_robot
from twinarm.robot.errors import ConfigError


def _backends() -> dict[str, RobotConfig]:
    """Every backend the registry promises: each model's simulation, and each bus (role, side) on its emulator."""
    found = {}
    for name, model in MODELS.items():
        if model.sim is not None:
            cams = list(model.tasks.cameras) if model.tasks is not None else []
            found[f"sim-{name}"] = RobotConfig(model=name, cameras=cams, camera_height=48, camera_width=64)
        for bus in model.buses:
            where = "-".join(filter(None, (name, bus.role.value, bus.side)))
            cfg = RobotConfig(model=name, port=EMULATOR, role=bus.role.value, side=bus.side, cameras=[])
            found[f"emulated-{where}"] = cfg
    return found


BACKENDS = _backends()


def test_the_registry_promises_the_known_backends() -> None:
    expected = {"sim-so101", "sim-koch", "sim-amazing_hand", "emulated-so101-follower", "emulated-so101-leader"}
    expected |= {"emulated-amazing_hand-follower-right", "emulated-amazing_hand-follower-left"}
    expected |= {"sim-so101_amazing_hand", "emulated-so101_amazing_hand-follower"}
    expected |= {"emulated-koch-follower", "emulated-koch-leader"}  # Dynamixel buses
    expected |= {"sim-leap_hand", "emulated-leap_hand-follower"}  # 16 XC330 at 4 Mbaud
    expected |= {"sim-hopejr_arm", "emulated-hopejr_arm-follower"}  # SM8512BL + STS3250 + STS3215 on one bus
    expected |= {"sim-hopejr_hand", "emulated-hopejr_hand-follower"}  # 16 SCS0009 pulling tendons
    expected |= {"sim-hopejr", "emulated-hopejr-follower"}  # the arm's bus and the hand's bus as one robot
    assert expected <= set(BACKENDS)


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_every_backend_passes_check_robot(name: str) -> None:
    cfg = BACKENDS[name]
    with built_robot(cfg) as robot:
        report = check_robot(robot, allow_motion=True)
    assert report.motion_checked == (not robot.read_only)
    assert set(report.observation_keys) == set(robot.spec.observation_space().spaces)


def test_sim_and_hardware_of_one_model_share_spaces() -> None:
    with built_robot(BACKENDS["emulated-so101-follower"]) as real:
        sim_cfg = RobotConfig(model="so101", cameras=[])
        with built_robot(sim_cfg) as sim:
            assert sim.observation_space == real.observation_space
            assert sim.action_space == real.action_space


def test_unknown_model_names_the_valid_ones() -> None:
    names = ", ".join(sorted(MODELS))  # every model, in order
    with pytest.raises(ConfigError, match=names), built_robot(RobotConfig(model="ur5e")):
        pass


def test_check_command_on_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "robot.port=emulator", "robot.cameras=[]"]) == 0
    assert "motion checks: run" in capsys.readouterr().out


def test_cli_reports_a_wrong_key_with_the_valid_keys(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "robot.modl=x"]) == 2
    err = capsys.readouterr().err
    assert "robot.modl" in err and "robot.model='so101'" in err


def test_cli_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("check", "emulate", "calibrate", "find-port", "record", "dataset", "train", "eval"):
        assert f"  {command} " in out
    assert main(["no-such-command"]) == 2


def test_robot_presets_select_a_backend_and_bad_choices_list_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "robot_preset=amazing_hand", "robot.port=emulator"]) == 0
    assert "FeetechRobot (amazing_hand)" in capsys.readouterr().out
    assert main(["check", "robot_preset=koch"]) == 2
    err = capsys.readouterr().err
    assert "Available options in 'robot_preset'" in err and "so101_leader" in err
