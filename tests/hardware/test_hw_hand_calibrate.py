"""`twinarm calibrate robot=amazing_hand ...` on the emulated hand: zero pose, inversion flags, published config."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from twinarm.cli import cmd_calibrate
from twinarm.cli.main import main
from twinarm.hardware.calibration_file import load_calibration
from twinarm.hardware.emulator import Emulator, EmulatorConfig, servos_for
from twinarm.hardware.feetech.tables import SCS0009
from twinarm.hardware.hand import AMAZING_HAND_LEFT, AMAZING_HAND_RIGHT, amazing_hand
from twinarm.robot.check import check_robot
from twinarm.robot.spec import JOINT_POS

FLAT = [511 + d for d in (5, -3, 8, 0, -6, 2, 10, -4)]  # present ticks of the hand held open flat
HALF_TRAVEL = np.pi / 2 * SCS0009.ticks_per_turn / (2 * np.pi)  # 307.2 ticks = 90 deg


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(EmulatorConfig(servos=servos_for(AMAZING_HAND_RIGHT))) as emulator:
        for servo_id, tick in zip(range(1, 9), FLAT):
            emulator.set_position(servo_id, tick)
        yield emulator


class Answers:
    """Answers prompts in order (Enter when the list is empty) and records them."""

    def __init__(self, *answers: str) -> None:
        self.answers, self.prompts = list(answers), []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0) if self.answers else ""


def test_zero_pose_and_inversion_flags_are_recorded_and_the_hand_then_works(emu: Emulator, tmp_path: Path) -> None:
    path = tmp_path / "hand.json"
    signs = [1, 1, 1, 1, 1, 1, 1, -1]
    cfg = cmd_calibrate.Config(robot="amazing_hand", port=emu.port, path=str(path), drive_signs=signs)
    lines: list[str] = []
    ask = Answers()
    cal = cmd_calibrate.run(cfg, ask=ask, out=lines.append)
    assert ask.prompts == ["Press Enter when the hand is in the zero pose... "]
    assert any("open flat" in line for line in lines) and any("thumb_m2" in line for line in lines)
    assert [m.zero_tick for m in cal.motors] == FLAT and [m.drive_sign for m in cal.motors] == signs
    for m, servo in zip(cal.motors, emu.servos):
        assert (m.range_min_tick, m.range_max_tick) == (
            int(np.floor(m.zero_tick - HALF_TRAVEL)),
            int(np.ceil(m.zero_tick + HALF_TRAVEL)),
        )
        assert (servo.get(SCS0009.MIN_POSITION_LIMIT), servo.get(SCS0009.MAX_POSITION_LIMIT)) == (
            m.range_min_tick,
            m.range_max_tick,
        )
    assert load_calibration(path, joints=AMAZING_HAND_RIGHT.motor_names).motors == cal.motors
    robot = amazing_hand(emu.port, calibration=path)
    check_robot(robot, allow_motion=True)
    for servo_id, tick in zip(range(1, 9), FLAT):
        emu.set_position(servo_id, tick)
    with robot:
        np.testing.assert_allclose(robot.get_observation()[JOINT_POS], 0.0, atol=1e-6)  # the zero pose reads zero


def test_existing_hand_file_is_offered_and_kept(emu: Emulator, tmp_path: Path) -> None:
    cfg = cmd_calibrate.Config(robot="amazing_hand", port=emu.port, path=str(tmp_path / "hand.json"))
    first = cmd_calibrate.run(cfg, ask=Answers(), out=lambda _: None)
    ask = Answers("k")
    kept = cmd_calibrate.run(cfg, ask=ask, out=lambda _: None)
    assert kept.motors == first.motors and ask.prompts == ["[k]eep it (default) or [r]ecalibrate? "]


def test_console_command_calibrates_a_left_hand_under_its_side_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("TWINARM_HOME", str(tmp_path))
    monkeypatch.setattr(builtins, "input", Answers())
    with Emulator(EmulatorConfig(servos=servos_for(AMAZING_HAND_LEFT))) as emu:
        assert main(["calibrate", "robot=amazing_hand", "side=left", f"port={emu.port}"]) == 0
    path = tmp_path / "calibration" / "amazing_hand_follower_left.json"
    data = json.loads(path.read_text())
    assert [j["id"] for j in data["joints"].values()] == list(range(11, 19))
    assert data["joints"]["index_m1"]["ticks_per_turn"] == pytest.approx(1228.8)
    assert str(path) in capsys.readouterr().out


def test_published_config_is_imported_without_prompts(emu: Emulator, tmp_path: Path) -> None:
    rows = []
    for k, finger in enumerate(("r_finger1", "r_finger2", "r_finger3", "r_finger4")):
        rows.append(f'[[motors]]\nfinger_name = "{finger}"')
        for m in (1, 2):
            invert = "true" if (k, m) == (3, 2) else "false"
            rows.append(f'motor{m} = {{ id = {2 * k + m}, offset = 0.1, invert = {invert}, model = "SCS0009" }}')
    toml = tmp_path / "r_hand.toml"
    toml.write_text("\n".join(rows) + "\n")
    cfg = cmd_calibrate.Config(robot="amazing_hand", port=emu.port, path=str(tmp_path / "c.json"), published=str(toml))
    ask = Answers()
    cal = cmd_calibrate.run(cfg, ask=ask, out=lambda _: None)
    assert ask.prompts == []
    zero = 511 + 0.1 * SCS0009.ticks_per_turn / (2 * np.pi)
    assert cal.motors[0].zero_tick == pytest.approx(zero) and cal.motors[7].drive_sign == -1
    assert emu.servo(1).get(SCS0009.MIN_POSITION_LIMIT) == cal.motors[0].range_min_tick
